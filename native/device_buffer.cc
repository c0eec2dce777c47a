#include "device_buffer.h"

#include <string>

#include "binding_util.h"
#if RK_WITH_CUDA
#include "cuda_runtime_util.h"
#endif

namespace rk {

namespace {
// Per-environment state (worker threads each load their own copy of the addon).
struct AddonData {
  Napi::FunctionReference device_buffer_ctor;
};

void CheckCopyArgs(std::int64_t bytes, std::int64_t capacity, const char* what) {
  if (bytes > capacity) {
    throw OpFailure("INVALID_SHAPE", std::string(what) + ": " + std::to_string(bytes) + " bytes do not fit a buffer of " +
                                         std::to_string(capacity));
  }
}
}  // namespace

Napi::Function DeviceBuffer::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "DeviceBuffer",
                                    {
                                        InstanceAccessor<&DeviceBuffer::GetBytes>("bytes"),
                                        InstanceAccessor<&DeviceBuffer::GetDevice>("device"),
                                        InstanceAccessor<&DeviceBuffer::GetFreed>("freed"),
                                        InstanceMethod<&DeviceBuffer::Free>("free"),
                                        InstanceMethod<&DeviceBuffer::Upload>("upload"),
                                        InstanceMethod<&DeviceBuffer::Download>("download"),
                                        InstanceMethod<&DeviceBuffer::CopyFrom>("copyFrom"),
                                    });
  auto* data = new AddonData();
  data->device_buffer_ctor = Napi::Persistent(ctor);
  env.SetInstanceData<AddonData>(data);
  return ctor;
}

bool DeviceBuffer::IsInstance(const Napi::Value& v) {
  if (!v.IsObject()) return false;
  AddonData* data = v.Env().GetInstanceData<AddonData>();
  return data && v.As<Napi::Object>().InstanceOf(data->device_buffer_ctor.Value());
}

DeviceBuffer* DeviceBuffer::Unwrap(const Napi::Value& v) {
  return Napi::ObjectWrap<DeviceBuffer>::Unwrap(v.As<Napi::Object>());
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
      throw OpFailure("INVALID_ARGUMENT", "DeviceBuffer(device, bytes) takes two numbers");
    }
    device_ = info[0].As<Napi::Number>().Int32Value();
    double bytes = info[1].As<Napi::Number>().DoubleValue();
    if (!(bytes >= 0) || bytes > 9.0e15) throw OpFailure("SIZE_TOO_LARGE", "DeviceBuffer: invalid size " + std::to_string(bytes));
    bytes_ = static_cast<std::int64_t>(bytes);
#if RK_WITH_CUDA
    DeviceGuard guard(device_);
    cudaError_t err = cudaMalloc(&ptr_, static_cast<size_t>(bytes_));
    if (err != cudaSuccess) {
      cudaGetLastError();
      ptr_ = nullptr;
      std::string msg = std::string("cudaMalloc of ") + std::to_string(bytes_) + " bytes on cuda:" + std::to_string(device_) +
                        " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err);
      throw OpFailure(err == cudaErrorMemoryAllocation ? "OUT_OF_MEMORY" : "CUDA_ERROR", msg);
    }
    // Zeroed and waited for here: ops run on other streams (per-thread, or a plan's non-blocking
    // stream) that do not order themselves after a memset on the legacy default stream.
    err = cudaMemset(ptr_, 0, static_cast<size_t>(bytes_));
    if (err == cudaSuccess) err = cudaStreamSynchronize(0);
    if (err != cudaSuccess) {
      cudaFree(ptr_);
      ptr_ = nullptr;
      throw OpFailure("CUDA_ERROR", std::string("cudaMemset failed: ") + cudaGetErrorString(err));
    }
    Napi::MemoryManagement::AdjustExternalMemory(env, bytes_);
    return env.Undefined();
#else
    throw OpFailure("CUDA_UNAVAILABLE", "this build of recon-kernels has no CUDA support (nvcc was not found when it was built)");
#endif
  });
}

void DeviceBuffer::ReleaseMemory(Napi::Env env) {
  if (!ptr_) return;
#if RK_WITH_CUDA
  int previous = 0;
  cudaGetDevice(&previous);
  cudaSetDevice(device_);
  cudaFree(ptr_);
  cudaSetDevice(previous);
  Napi::MemoryManagement::AdjustExternalMemory(env, -bytes_);
#else
  (void)env;
#endif
  ptr_ = nullptr;
}

void DeviceBuffer::Finalize(Napi::Env env) { ReleaseMemory(env); }

void DeviceBuffer::Release(Napi::Env env) {
  if (--busy_ == 0 && free_pending_) {
    free_pending_ = false;
    ReleaseMemory(env);
  }
}

Napi::Value DeviceBuffer::Free(const Napi::CallbackInfo& info) {
  disowned_ = true;
  if (busy_ > 0) {
    free_pending_ = true;
  } else {
    ReleaseMemory(info.Env());
  }
  return info.Env().Undefined();
}

Napi::Value DeviceBuffer::GetBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(bytes_)); }
Napi::Value DeviceBuffer::GetDevice(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }
Napi::Value DeviceBuffer::GetFreed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disowned_ || ptr_ == nullptr); }

// Copies run on the calling thread's per-thread stream, so concurrent ops do not serialise
// on the legacy default stream.
Napi::Value DeviceBuffer::Upload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (freed() || disowned_) throw OpFailure("DISPOSED", "upload: the device buffer was freed");
    Storage src = GetStorage(info[0], "upload source");
    if (src.device >= 0) throw OpFailure("INVALID_ARGUMENT", "upload: the source must be host memory");
    CheckCopyArgs(src.bytes, bytes_, "upload");
    void* dst = ptr_;
    int device = device_;
    return RunOp(env, info[1].ToBoolean(), {info[0], info.This()},
                 [=]() {
#if RK_WITH_CUDA
                   DeviceGuard guard(device);
                   RK_CUDA_TRY(cudaMemcpyAsync(dst, src.ptr, static_cast<size_t>(src.bytes), cudaMemcpyHostToDevice, cudaStreamPerThread));
                   RK_CUDA_TRY(cudaStreamSynchronize(cudaStreamPerThread));
#else
                   (void)dst; (void)device;
#endif
                 },
                 [](Napi::Env e) { return e.Undefined(); });
  });
}

Napi::Value DeviceBuffer::Download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (freed() || disowned_) throw OpFailure("DISPOSED", "download: the device buffer was freed");
    Storage dst = GetStorage(info[0], "download destination");
    if (dst.device >= 0) throw OpFailure("INVALID_ARGUMENT", "download: the destination must be host memory");
    CheckCopyArgs(dst.bytes, bytes_, "download");
    const void* src = ptr_;
    int device = device_;
    return RunOp(env, info[1].ToBoolean(), {info[0], info.This()},
                 [=]() {
#if RK_WITH_CUDA
                   DeviceGuard guard(device);
                   RK_CUDA_TRY(cudaMemcpyAsync(dst.ptr, src, static_cast<size_t>(dst.bytes), cudaMemcpyDeviceToHost, cudaStreamPerThread));
                   RK_CUDA_TRY(cudaStreamSynchronize(cudaStreamPerThread));
#else
                   (void)src; (void)device;
#endif
                 },
                 [](Napi::Env e) { return e.Undefined(); });
  });
}

Napi::Value DeviceBuffer::CopyFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (freed() || disowned_) throw OpFailure("DISPOSED", "copyFrom: the device buffer was freed");
    Storage src = GetStorage(info[0], "copyFrom source");
    if (src.device < 0) throw OpFailure("INVALID_ARGUMENT", "copyFrom: the source must be a DeviceBuffer");
    std::int64_t bytes = static_cast<std::int64_t>(info[1].As<Napi::Number>().DoubleValue());
    CheckCopyArgs(bytes, bytes_, "copyFrom");
    CheckCopyArgs(bytes, src.bytes, "copyFrom");
    void* dst = ptr_;
    int device = device_;
    return RunOp(env, info[2].ToBoolean(), {info[0], info.This()},
                 [=]() {
#if RK_WITH_CUDA
                   DeviceGuard guard(device);
                   RK_CUDA_TRY(cudaMemcpyAsync(dst, src.ptr, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, cudaStreamPerThread));
                   RK_CUDA_TRY(cudaStreamSynchronize(cudaStreamPerThread));
#else
                   (void)dst; (void)device;
#endif
                 },
                 [](Napi::Env e) { return e.Undefined(); });
  });
}

}  // namespace rk
