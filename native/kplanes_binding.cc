// kplanesSample(args, sync) / kplanesBackward(args, sync): parse the tilted K-Planes arguments
// once into a KPlanesProblem and plain pointers on the main thread, then run the native or CUDA
// kernels off the main thread (or inline when sync).
#include <memory>
#include <string>
#include <vector>

#include "binding_util.h"
#include "kplanes.h"
#include "ops.h"
#if RK_WITH_CUDA
#include "cuda_runtime_util.h"
#endif

namespace rk {
namespace {

struct KpArgs {
  KPlanesProblem p;
  bool f32 = true;
  int threads = 0;
  int device = -1;
  Storage points, rotations, out, grad_out, grad_points, grad_rotations;
  std::vector<Storage> planes, grad_planes;
  std::vector<Napi::Value> keep;
};

std::vector<std::int64_t> GetInts(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) throw OpFailure("INVALID_ARGUMENT", std::string("kplanes: '") + key + "' must be an array");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::int64_t> r(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) r[i] = static_cast<std::int64_t>(a.Get(i).As<Napi::Number>().DoubleValue());
  return r;
}

// Checks one storage: present, on the common device, and at least `elems` elements big.
void Need(KpArgs& k, const Storage& s, std::int64_t elems, const char* what) {
  if (!s.present) throw OpFailure("INVALID_ARGUMENT", std::string("kplanes: ") + what + " is missing");
  if (s.bytes < elems * (k.f32 ? 4 : 8)) throw OpFailure("INVALID_SHAPE", std::string("kplanes: ") + what + " holds fewer bytes than its shape needs");
  if (s.device != k.device) throw OpFailure("DEVICE_MISMATCH", std::string("kplanes: ") + what + " is on another device than points");
}

Storage Take(KpArgs& k, const Napi::Object& a, const char* key) {
  Napi::Value v = a.Get(key);
  Storage s = GetStorage(v, key);
  if (s.present) k.keep.push_back(v);
  return s;
}

std::vector<Storage> TakeList(KpArgs& k, const Napi::Object& a, const char* key, bool required) {
  Napi::Value v = a.Get(key);
  std::vector<Storage> r;
  if (v.IsUndefined() || v.IsNull()) {
    if (required) throw OpFailure("INVALID_ARGUMENT", std::string("kplanes: '") + key + "' is missing");
    return r;
  }
  if (!v.IsArray()) throw OpFailure("INVALID_ARGUMENT", std::string("kplanes: '") + key + "' must be an array");
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value e = arr.Get(i);
    r.push_back(GetStorage(e, key));
    k.keep.push_back(e);
  }
  return r;
}

void ParseCommon(KpArgs& k, const Napi::Object& a) {
  std::string dtype = GetString(a, "dtype");
  k.f32 = dtype == "float32";
  if (!k.f32 && dtype != "float64") throw OpFailure("INVALID_DTYPE", "kplanes: dtype must be float32 or float64");
  k.threads = static_cast<int>(GetInt(a, "threads"));
  k.p.B = GetInt(a, "B");
  k.p.T = GetInt(a, "T");
  k.p.C = GetInt(a, "C");
  k.p.H = GetInts(a, "H");
  k.p.W = GetInts(a, "W");
  Napi::Value gv = a.Get("gates");
  if (!gv.IsArray()) throw OpFailure("INVALID_ARGUMENT", "kplanes: 'gates' must be an array");
  Napi::Array ga = gv.As<Napi::Array>();
  for (uint32_t i = 0; i < ga.Length(); ++i) k.p.gates.push_back(ga.Get(i).As<Napi::Number>().DoubleValue());
  const size_t S = k.p.H.size();
  if (S == 0 || k.p.W.size() != S || k.p.gates.size() != S) throw OpFailure("INVALID_ARGUMENT", "kplanes: H, W and gates must have one entry per level");
  if (k.p.B < 0 || k.p.T < 1 || k.p.C < 1) throw OpFailure("INVALID_SHAPE", "kplanes: B must be >= 0, T and C >= 1");
  for (size_t s = 0; s < S; ++s)
    if (k.p.H[s] < 1 || k.p.W[s] < 1) throw OpFailure("INVALID_SHAPE", "kplanes: planes must have H, W >= 1");
  k.points = Take(k, a, "points");
  if (!k.points.present) throw OpFailure("INVALID_ARGUMENT", "kplanes: points is missing");
  k.device = k.points.device;
  if (k.device >= 0 && !k.f32) throw OpFailure("INVALID_DTYPE", "kplanes: the CUDA backend takes float32 only");
  Need(k, k.points, 3 * k.p.B, "points");
  k.rotations = Take(k, a, "rotations");
  Need(k, k.rotations, 9 * k.p.T, "rotations");
  k.planes = TakeList(k, a, "planes", true);
  if (k.planes.size() != S) throw OpFailure("INVALID_ARGUMENT", "kplanes: one plane tensor per level");
  for (size_t s = 0; s < S; ++s) Need(k, k.planes[s], 3 * k.p.T * k.p.C * k.p.H[s] * k.p.W[s], "planes");
}

template <typename T>
std::vector<const T*> ConstPtrs(const std::vector<Storage>& v) {
  std::vector<const T*> r;
  for (const Storage& s : v) r.push_back(static_cast<const T*>(s.ptr));
  return r;
}

template <typename T>
std::vector<T*> Ptrs(const std::vector<Storage>& v) {
  std::vector<T*> r;
  for (const Storage& s : v) r.push_back(static_cast<T*>(s.ptr));
  return r;
}

template <typename T>
void RunForward(const KpArgs& k, OpResult& res) {
  std::vector<const T*> planes = ConstPtrs<T>(k.planes);
  const T* pts = static_cast<const T*>(k.points.ptr);
  const T* rot = static_cast<const T*>(k.rotations.ptr);
  T* out = static_cast<T*>(k.out.ptr);
  if (k.device < 0) {
    kplanes_forward_cpu<T>(k.p, pts, rot, planes.data(), out, k.threads);
    return;
  }
#if RK_WITH_CUDA
  if constexpr (sizeof(T) == 4) {
    DeviceGuard guard(k.device);
    kplanes_forward_cuda<float>(k.p, pts, rot, planes.data(), out, static_cast<void*>(cudaStreamPerThread), &res.device_ms);
  } else {
    throw OpFailure("INVALID_DTYPE", "kplanes: the CUDA backend takes float32 only");
  }
#else
  throw OpFailure("CUDA_UNAVAILABLE", "kplanes: this build has no CUDA support");
#endif
}

template <typename T>
void RunBackward(const KpArgs& k, OpResult& res) {
  std::vector<const T*> planes = ConstPtrs<T>(k.planes);
  std::vector<T*> gplanes = Ptrs<T>(k.grad_planes);
  const T* pts = static_cast<const T*>(k.points.ptr);
  const T* rot = static_cast<const T*>(k.rotations.ptr);
  const T* gout = static_cast<const T*>(k.grad_out.ptr);
  T* const* gp = gplanes.empty() ? nullptr : gplanes.data();
  T* gpts = static_cast<T*>(k.grad_points.ptr);
  T* grot = static_cast<T*>(k.grad_rotations.ptr);
  if (k.device < 0) {
    kplanes_backward_cpu<T>(k.p, pts, rot, planes.data(), gout, gp, gpts, grot, k.threads);
    return;
  }
#if RK_WITH_CUDA
  if constexpr (sizeof(T) == 4) {
    DeviceGuard guard(k.device);
    kplanes_backward_cuda<float>(k.p, pts, rot, planes.data(), gout, gp, gpts, grot, static_cast<void*>(cudaStreamPerThread), &res.device_ms);
  } else {
    throw OpFailure("INVALID_DTYPE", "kplanes: the CUDA backend takes float32 only");
  }
#else
  throw OpFailure("CUDA_UNAVAILABLE", "kplanes: this build has no CUDA support");
#endif
}

}  // namespace

Napi::Value KplanesSample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Object a = info[0].As<Napi::Object>();
    bool sync = info[1].ToBoolean();
    auto k = std::make_shared<KpArgs>();
    ParseCommon(*k, a);
    k->out = Take(*k, a, "out");
    Need(*k, k->out, k->p.B * k->p.levels() * k->p.T * k->p.C, "out");
    auto result = std::make_shared<OpResult>();
    std::vector<Napi::Value> keep = k->keep;
    k->keep.clear();
    return RunOp(
        env, sync, keep,
        [k, result]() {
          if (k->f32) RunForward<float>(*k, *result);
          else RunForward<double>(*k, *result);
        },
        [result](Napi::Env e) { return MakeOpResult(e, *result); });
  });
}

Napi::Value KplanesBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Object a = info[0].As<Napi::Object>();
    bool sync = info[1].ToBoolean();
    auto k = std::make_shared<KpArgs>();
    ParseCommon(*k, a);
    const std::int64_t S = k->p.levels();
    k->grad_out = Take(*k, a, "gradOut");
    Need(*k, k->grad_out, k->p.B * S * k->p.T * k->p.C, "gradOut");
    k->grad_planes = TakeList(*k, a, "gradPlanes", false);
    if (!k->grad_planes.empty()) {
      if (static_cast<std::int64_t>(k->grad_planes.size()) != S) throw OpFailure("INVALID_ARGUMENT", "kplanes: one plane gradient per level");
      for (std::int64_t s = 0; s < S; ++s) Need(*k, k->grad_planes[s], 3 * k->p.T * k->p.C * k->p.H[s] * k->p.W[s], "gradPlanes");
    }
    k->grad_points = Take(*k, a, "gradPoints");
    if (k->grad_points.present) Need(*k, k->grad_points, 3 * k->p.B, "gradPoints");
    k->grad_rotations = Take(*k, a, "gradRotations");
    if (k->grad_rotations.present) Need(*k, k->grad_rotations, 9 * k->p.T, "gradRotations");
    auto result = std::make_shared<OpResult>();
    std::vector<Napi::Value> keep = k->keep;
    k->keep.clear();
    return RunOp(
        env, sync, keep,
        [k, result]() {
          if (k->f32) RunBackward<float>(*k, *result);
          else RunBackward<double>(*k, *result);
        },
        [result](Napi::Env e) { return MakeOpResult(e, *result); });
  });
}

}  // namespace rk
