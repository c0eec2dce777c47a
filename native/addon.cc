// Module entry: build facts, CUDA and cuFFT probes, device buffers, and the ops.
#include <napi.h>

#include <thread>

#include "bandwidth.h"
#include "binding_util.h"
#include "cuda_info.h"
#include "cufft_loader.h"
#include "device_buffer.h"
#include "mri_binding.h"
#include "nufft_binding.h"
#include "ops.h"
#include "parallel_for.h"

#ifndef RK_BUILDER
#define RK_BUILDER "unknown"
#endif
#ifndef RK_CUDA_ARCHS
#define RK_CUDA_ARCHS ""
#endif
#ifndef RK_CUDA_VERSION
#define RK_CUDA_VERSION ""
#endif
#ifndef RK_BUILD_TYPE
#define RK_BUILD_TYPE "Release"
#endif
#ifndef RK_ADDON_VERSION
#define RK_ADDON_VERSION "0.0.0"
#endif

namespace rk {
namespace {

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("cuda", Napi::Boolean::New(env, RK_WITH_CUDA != 0));
  o.Set("cudaVersion", RK_CUDA_VERSION);
  o.Set("cudaArchitectures", RK_CUDA_ARCHS);
#if defined(__clang__)
  o.Set("compiler", std::string("clang ") + __clang_version__);
#elif defined(__GNUC__)
  o.Set("compiler", std::string("gcc ") + __VERSION__);
#else
  o.Set("compiler", "unknown");
#endif
  o.Set("builder", RK_BUILDER);
  o.Set("buildType", RK_BUILD_TYPE);
  o.Set("addonVersion", RK_ADDON_VERSION);
  return o;
}

Napi::Value CudaInfoBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CudaInfo& c = GetCudaInfo();
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiled", c.compiled);
  o.Set("available", c.available);
  o.Set("reason", c.reason);
  o.Set("runtimeVersion", c.runtime_version);
  o.Set("driverVersion", c.driver_version);
  Napi::Array devices = Napi::Array::New(env, c.devices.size());
  for (size_t i = 0; i < c.devices.size(); ++i) {
    const CudaDeviceInfo& d = c.devices[i];
    Napi::Object x = Napi::Object::New(env);
    x.Set("index", d.index);
    x.Set("name", d.name);
    x.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    x.Set("totalMemory", static_cast<double>(d.total_memory));
    x.Set("multiprocessors", d.multiprocessors);
    x.Set("pciBusId", d.pci_bus_id);
    devices.Set(static_cast<uint32_t>(i), x);
  }
  o.Set("devices", devices);
  return o;
}

Napi::Value CufftInfoBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  cufft::Status s = cufft::GetStatus();
  Napi::Object o = Napi::Object::New(env);
  o.Set("loaded", s.loaded);
  o.Set("version", s.version);
  o.Set("path", s.path);
  o.Set("error", s.error);
  Napi::Array searched = Napi::Array::New(env, s.searched.size());
  for (size_t i = 0; i < s.searched.size(); ++i) searched.Set(static_cast<uint32_t>(i), s.searched[i]);
  o.Set("searched", searched);
  return o;
}

Napi::Value CpuCopyBandwidth(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::int64_t bytes = static_cast<std::int64_t>(info[0].As<Napi::Number>().DoubleValue());
    int repeat = info[1].As<Napi::Number>().Int32Value();
    int threads = info[2].As<Napi::Number>().Int32Value();
    auto gbs = std::make_shared<double>(0);
    return RunOp(env, false, {}, [=]() { *gbs = cpu_copy_bandwidth_gbs(bytes, repeat, threads); },
                 [gbs](Napi::Env e) { return Napi::Number::New(e, *gbs); });
  });
}

Napi::Value CudaCopyBandwidth(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    int device = info[0].As<Napi::Number>().Int32Value();
    std::int64_t bytes = static_cast<std::int64_t>(info[1].As<Napi::Number>().DoubleValue());
    int repeat = info[2].As<Napi::Number>().Int32Value();
    if (!GetCudaInfo().available) throw OpFailure("CUDA_UNAVAILABLE", GetCudaInfo().reason);
    auto gbs = std::make_shared<double>(0);
    return RunOp(env, false, {},
                 [=]() {
#if RK_WITH_CUDA
                   *gbs = cuda_copy_bandwidth_gbs(device, bytes, repeat);
#else
                   (void)device; (void)bytes; (void)repeat;
#endif
                 },
                 [gbs](Napi::Env e) { return Napi::Number::New(e, *gbs); });
  });
}

Napi::Value HardwareThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), default_threads());
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("cudaInfo", Napi::Function::New(env, CudaInfoBinding, "cudaInfo"));
  exports.Set("cufftInfo", Napi::Function::New(env, CufftInfoBinding, "cufftInfo"));
  exports.Set("DeviceBuffer", DeviceBuffer::Init(env));
  exports.Set("tv3d", Napi::Function::New(env, Tv3d, "tv3d"));
  exports.Set("arrayOp", Napi::Function::New(env, ArrayOpBinding, "arrayOp"));
  exports.Set("kplanesSample", Napi::Function::New(env, KplanesSample, "kplanesSample"));
  exports.Set("kplanesBackward", Napi::Function::New(env, KplanesBackward, "kplanesBackward"));
  exports.Set("tomoOp", Napi::Function::New(env, TomoOpBinding, "tomoOp"));
  exports.Set("griddingOp", Napi::Function::New(env, GriddingOpBinding, "griddingOp"));
  exports.Set("cpuCopyBandwidth", Napi::Function::New(env, CpuCopyBandwidth, "cpuCopyBandwidth"));
  exports.Set("cudaCopyBandwidth", Napi::Function::New(env, CudaCopyBandwidth, "cudaCopyBandwidth"));
  exports.Set("NufftPlan", NufftPlanInit(env));
  exports.Set("hardwareThreads", Napi::Function::New(env, HardwareThreads, "hardwareThreads"));
  MriExports(env, exports);
  return exports;
}

}  // namespace rk

// The registration macro pastes the function name into an identifier: it must be unqualified.
static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return rk::Init(env, exports); }
NODE_API_MODULE(recon_kernels, InitAddon)
