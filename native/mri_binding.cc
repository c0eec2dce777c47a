// The MRI building blocks of cuda/mri.h for lib/mri:
//   mriOp({ op, dtype, B, C, N, scale, inReal, accumulate, inDtype, outDtype, map, in, out,
//           threads }, sync)                      element-wise expand / combine / weight / cast
//   new MriToeplitz({ shape, grid, dtype, device })
//     .apply({ P, B, C, xReal, x, smaps, khat, out, work, threads }, sync)
//     .setKernel({ P, scale, k, khat, threads }, sync)   .dispose()
// Arguments are parsed and every buffer's size, device and overlap checked on the main thread;
// the work runs in RunOp (off the main thread unless sync). A MriToeplitz keeps its plans in a
// shared_ptr that an op in flight also holds, so dispose() during an op frees them when it settles.
#include <memory>
#include <string>

#include "binding_util.h"
#include "mri.h"
#include "mri_binding.h"
#if RK_WITH_CUDA
#include "cuda_runtime_util.h"
#endif

namespace rk {
namespace {

// a·b·… with a SIZE_TOO_LARGE error instead of overflow.
std::int64_t Product(std::initializer_list<std::int64_t> xs) {
  double p = 1;
  std::int64_t r = 1;
  for (std::int64_t x : xs) {
    p *= static_cast<double>(x);
    r *= x;
  }
  if (p > 4.0e18) throw OpFailure("SIZE_TOO_LARGE", "mri: buffer sizes overflow");
  return r;
}

bool Overlap(const Storage& a, std::int64_t abytes, const Storage& b, std::int64_t bbytes) {
  if (!a.present || !b.present || a.device != b.device || abytes <= 0 || bbytes <= 0) return false;
  const char* a0 = static_cast<const char*>(a.ptr);
  const char* b0 = static_cast<const char*>(b.ptr);
  return a0 < b0 + bbytes && b0 < a0 + abytes;
}

// Checks that s is present, on `device` (−2: the first buffer sets it) and holds `bytes`.
void Need(const char* op, const char* what, const Storage& s, std::int64_t bytes, int& device) {
  if (!s.present) throw OpFailure("INVALID_ARGUMENT", std::string(op) + ": " + what + " is missing");
  if (s.bytes < bytes) throw OpFailure("INVALID_SHAPE", std::string(op) + ": " + what + " holds fewer bytes than its shape needs");
  if (device != -2 && s.device != device) throw OpFailure("DEVICE_MISMATCH", std::string(op) + ": " + what + " is on another device than the other buffers");
  device = s.device;
}

// A host buffer must be a typed array of the op's precision (device buffers are untyped).
void HostType(const char* op, const char* what, const Napi::Value& v, bool f32) {
  if (!v.IsTypedArray()) return;
  const napi_typedarray_type want = f32 ? napi_float32_array : napi_float64_array;
  if (v.As<Napi::TypedArray>().TypedArrayType() != want) {
    throw OpFailure("INVALID_DTYPE", std::string(op) + ": " + what + " must be a " + (f32 ? "Float32Array" : "Float64Array"));
  }
}

bool RealType(const Napi::Object& o, const char* key, const char* op) {
  const std::string t = GetString(o, key);
  if (t != "float32" && t != "float64") throw OpFailure("INVALID_DTYPE", std::string(op) + ": " + key + " must be float32 or float64");
  return t == "float32";
}

Napi::Value MriOpBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) throw OpFailure("INVALID_ARGUMENT", "mriOp(args, sync) takes an arguments object");
    Napi::Object o = info[0].As<Napi::Object>();
    const bool sync = info[1].ToBoolean();
    const std::int64_t code = GetInt(o, "op");
    if (code < 0 || code > static_cast<int>(MriOp::Cast)) throw OpFailure("INVALID_ARGUMENT", "mriOp: unknown op");
    MriEwArgs a;
    a.op = static_cast<MriOp>(code);
    a.B = GetInt(o, "B");
    a.C = GetInt(o, "C");
    a.N = GetInt(o, "N");
    if (a.B < 0 || a.C < 1 || a.N < 0) throw OpFailure("INVALID_ARGUMENT", "mriOp: B and N must be ≥ 0 and C ≥ 1");
    a.scale = GetNumber(o, "scale");
    a.in_real = GetBool(o, "inReal");
    a.accumulate = GetBool(o, "accumulate");
    const int threads = static_cast<int>(GetInt(o, "threads"));
    Napi::Value mapv = o.Get("map"), inv = o.Get("in"), outv = o.Get("out");
    const Storage map = GetStorage(mapv, "map"), in = GetStorage(inv, "in"), out = GetStorage(outv, "out");
    bool f32 = false;
    std::int64_t in_bytes = 0, out_bytes = 0, map_bytes = 0;
    bool alias_ok = false;  // out may be exactly in: each element reads only its own input
    if (a.op == MriOp::Cast) {
      a.in_f32 = RealType(o, "inDtype", "mriOp");
      a.out_f32 = RealType(o, "outDtype", "mriOp");
      in_bytes = Product({a.N, a.in_f32 ? 4 : 8});
      out_bytes = Product({a.N, a.out_f32 ? 4 : 8});
      alias_ok = a.in_f32 == a.out_f32;
    } else {
      f32 = RealType(o, "dtype", "mriOp");
      const std::int64_t ts = f32 ? 4 : 8, in_w = a.in_real ? 1 : 2;
      if (a.op != MriOp::Weight && !map.present && a.C != 1) throw OpFailure("INVALID_ARGUMENT", "mriOp: without coil maps C must be 1");
      if (a.op == MriOp::Combine && a.in_real) throw OpFailure("INVALID_ARGUMENT", "mriOp: combine takes complex coil images");
      switch (a.op) {
        case MriOp::Expand:
          in_bytes = Product({a.B, a.N, in_w, ts});
          map_bytes = Product({a.C, a.N, 2, ts});
          out_bytes = Product({a.B, a.C, a.N, 2, ts});
          alias_ok = a.C == 1 && !a.in_real;
          break;
        case MriOp::Combine:
          in_bytes = Product({a.B, a.C, a.N, 2, ts});
          map_bytes = Product({a.C, a.N, 2, ts});
          out_bytes = Product({a.B, a.N, 2, ts});
          break;
        default:
          in_bytes = Product({a.B, a.C, a.N, in_w, ts});
          map_bytes = Product({a.B, a.N, ts});
          out_bytes = Product({a.B, a.C, a.N, 2, ts});
          alias_ok = !a.in_real;
          break;
      }
    }
    HostType("mriOp", "in", inv, a.op == MriOp::Cast ? a.in_f32 : f32);
    HostType("mriOp", "out", outv, a.op == MriOp::Cast ? a.out_f32 : f32);
    HostType("mriOp", "map", mapv, f32);
    int device = -2;
    Need("mriOp", "in", in, in_bytes, device);
    Need("mriOp", "out", out, out_bytes, device);
    if (map.present) Need("mriOp", "map", map, map_bytes, device);
    const bool same = in.ptr == out.ptr;
    if ((Overlap(in, in_bytes, out, out_bytes) && !(alias_ok && same)) || Overlap(map, map_bytes, out, out_bytes)) {
      throw OpFailure("INVALID_ARGUMENT", "mriOp: out overlaps an input");
    }
    return RunOp(
        env, sync, {mapv, inv, outv},
        [=]() {
          if (device < 0) {
            if (a.op == MriOp::Cast) mri_cast_cpu(a, in.ptr, out.ptr, threads);
            else if (f32) mri_ew_cpu<float>(a, static_cast<const float*>(map.ptr), static_cast<const float*>(in.ptr), static_cast<float*>(out.ptr), threads);
            else mri_ew_cpu<double>(a, static_cast<const double*>(map.ptr), static_cast<const double*>(in.ptr), static_cast<double*>(out.ptr), threads);
            return;
          }
#if RK_WITH_CUDA
          DeviceGuard guard(device);
          void* stream = static_cast<void*>(cudaStreamPerThread);
          if (a.op == MriOp::Cast) mri_cast_cuda(a, in.ptr, out.ptr, stream);
          else if (f32) mri_ew_cuda<float>(a, static_cast<const float*>(map.ptr), static_cast<const float*>(in.ptr), static_cast<float*>(out.ptr), stream);
          else mri_ew_cuda<double>(a, static_cast<const double*>(map.ptr), static_cast<const double*>(in.ptr), static_cast<double*>(out.ptr), stream);
#else
          throw OpFailure("CUDA_UNAVAILABLE", "mriOp: this build has no CUDA support");
#endif
        },
        [](Napi::Env e) { return MakeOpResult(e, OpResult{}); });
  });
}

class MriToeplitzWrap : public Napi::ObjectWrap<MriToeplitzWrap> {
 public:
  explicit MriToeplitzWrap(const Napi::CallbackInfo& info);
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "MriToeplitz",
                       {
                           InstanceMethod<&MriToeplitzWrap::Apply>("apply"),
                           InstanceMethod<&MriToeplitzWrap::SetKernel>("setKernel"),
                           InstanceMethod<&MriToeplitzWrap::Dispose>("dispose"),
                       });
  }

 private:
  Napi::Value Apply(const Napi::CallbackInfo& info);
  Napi::Value SetKernel(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  void Live(const char* what) const {
    if (disposed_) throw OpFailure("DISPOSED", std::string("MriToeplitz.") + what + ": the operator was disposed");
  }

  std::shared_ptr<MriToeplitzCpu> cpu_;
#if RK_WITH_CUDA
  std::shared_ptr<MriToeplitzCuda> cuda_;
#endif
  int device_ = -1;
  bool f32_ = true;
  bool disposed_ = false;
  std::int64_t nimg_ = 1, ngrid_ = 1;
};

MriToeplitzWrap::MriToeplitzWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MriToeplitzWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) throw OpFailure("INVALID_ARGUMENT", "MriToeplitz(options) takes an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value sv = o.Get("shape"), gv = o.Get("grid");
    if (!sv.IsArray() || !gv.IsArray()) throw OpFailure("INVALID_ARGUMENT", "MriToeplitz: shape and grid must be arrays");
    Napi::Array sa = sv.As<Napi::Array>(), ga = gv.As<Napi::Array>();
    const uint32_t d = sa.Length();
    if (d < 1 || d > 3 || ga.Length() != d) throw OpFailure("INVALID_ARGUMENT", "MriToeplitz: shape and grid must have 1 to 3 equal-length entries");
    std::int64_t N[3] = {1, 1, 1}, G[3] = {1, 1, 1};
    for (uint32_t i = 0; i < d; ++i) {
      Napi::Value nv = sa.Get(i), g = ga.Get(i);
      const double dn = nv.IsNumber() ? nv.As<Napi::Number>().DoubleValue() : -1;
      const double dg = g.IsNumber() ? g.As<Napi::Number>().DoubleValue() : -1;
      if (!(dn >= 1 && dn < 1e9) || !(dg >= 1 && dg < 1e9) || dn != static_cast<double>(static_cast<std::int64_t>(dn)) ||
          dg != static_cast<double>(static_cast<std::int64_t>(dg))) {
        throw OpFailure("INVALID_ARGUMENT", "MriToeplitz: shape and grid entries must be positive integers");
      }
      N[i] = static_cast<std::int64_t>(dn);
      G[i] = static_cast<std::int64_t>(dg);
      nimg_ = Product({nimg_, N[i]});
      ngrid_ = Product({ngrid_, G[i]});
    }
    const std::string dtype = GetString(o, "dtype");
    if (dtype != "complex64" && dtype != "complex128") throw OpFailure("INVALID_DTYPE", "MriToeplitz: dtype must be complex64 or complex128");
    f32_ = dtype == "complex64";
    device_ = static_cast<int>(GetInt(o, "device"));
    if (device_ >= 0) {
#if RK_WITH_CUDA
      cuda_ = std::make_shared<MriToeplitzCuda>(static_cast<int>(d), N, G, f32_, device_);
#else
      throw OpFailure("CUDA_UNAVAILABLE", "MriToeplitz: this build has no CUDA backend (device " + std::to_string(device_) + ")");
#endif
    } else {
      cpu_ = std::make_shared<MriToeplitzCpu>(static_cast<int>(d), N, G, f32_);
    }
    return env.Undefined();
  });
}

Napi::Value MriToeplitzWrap::Apply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Live("apply");
    if (info.Length() < 1 || !info[0].IsObject()) throw OpFailure("INVALID_ARGUMENT", "MriToeplitz.apply(args, sync) takes an arguments object");
    Napi::Object o = info[0].As<Napi::Object>();
    const bool sync = info[1].ToBoolean();
    MriToeplitzCall c;
    c.P = GetInt(o, "P");
    c.B = GetInt(o, "B");
    c.C = GetInt(o, "C");
    if (c.P < 1 || c.B < 0 || c.C < 1) throw OpFailure("INVALID_ARGUMENT", "MriToeplitz.apply: P and C must be ≥ 1, B ≥ 0");
    c.x_real = GetBool(o, "xReal");
    const int threads = static_cast<int>(GetInt(o, "threads"));
    Napi::Value xv = o.Get("x"), sv = o.Get("smaps"), kv = o.Get("khat"), ov = o.Get("out"), wv = o.Get("work");
    const Storage x = GetStorage(xv, "x"), s = GetStorage(sv, "smaps"), k = GetStorage(kv, "khat"), out = GetStorage(ov, "out"),
                  w = GetStorage(wv, "work");
    if (!s.present && c.C != 1) throw OpFailure("INVALID_ARGUMENT", "MriToeplitz.apply: without coil maps C must be 1");
    const std::int64_t ts = f32_ ? 4 : 8;
    const std::int64_t xb = Product({c.P, c.B, nimg_, c.x_real ? 1 : 2, ts}), sb = Product({c.C, nimg_, 2, ts});
    const std::int64_t kb = Product({c.P, ngrid_, 2, ts}), ob = Product({c.P, c.B, nimg_, 2, ts}), gb = Product({ngrid_, 2, ts});
    HostType("MriToeplitz.apply", "x", xv, f32_);
    HostType("MriToeplitz.apply", "smaps", sv, f32_);
    HostType("MriToeplitz.apply", "khat", kv, f32_);
    HostType("MriToeplitz.apply", "out", ov, f32_);
    int device = device_;
    Need("MriToeplitz.apply", "x", x, xb, device);
    Need("MriToeplitz.apply", "khat", k, kb, device);
    Need("MriToeplitz.apply", "out", out, ob, device);
    if (s.present) Need("MriToeplitz.apply", "smaps", s, sb, device);
    if (device_ >= 0) Need("MriToeplitz.apply", "work", w, gb, device);
    if (Overlap(out, ob, x, xb) || Overlap(out, ob, s, sb) || Overlap(out, ob, k, kb) || Overlap(w, w.bytes, out, ob) ||
        Overlap(w, w.bytes, x, xb) || Overlap(w, w.bytes, s, sb) || Overlap(w, w.bytes, k, kb)) {
      throw OpFailure("INVALID_ARGUMENT", "MriToeplitz.apply: out or work overlaps another buffer");
    }
    c.x = x.ptr;
    c.smaps = s.present ? s.ptr : nullptr;
    c.khat = k.ptr;
    c.out = out.ptr;
    c.work = w.present ? w.ptr : nullptr;
    c.work_grids = w.present ? w.bytes / gb : 0;
    std::shared_ptr<MriToeplitzCpu> cpu = cpu_;
#if RK_WITH_CUDA
    std::shared_ptr<MriToeplitzCuda> gpu = cuda_;
#endif
    return RunOp(
        env, sync, {info.This(), xv, sv, kv, ov, wv},
        [=]() {
          if (cpu) {
            cpu->apply(c, threads);
            return;
          }
#if RK_WITH_CUDA
          gpu->apply(c);
#endif
        },
        [](Napi::Env e) { return MakeOpResult(e, OpResult{}); });
  });
}

Napi::Value MriToeplitzWrap::SetKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Live("setKernel");
    if (info.Length() < 1 || !info[0].IsObject()) throw OpFailure("INVALID_ARGUMENT", "MriToeplitz.setKernel(args, sync) takes an arguments object");
    Napi::Object o = info[0].As<Napi::Object>();
    const bool sync = info[1].ToBoolean();
    const std::int64_t P = GetInt(o, "P");
    if (P < 1) throw OpFailure("INVALID_ARGUMENT", "MriToeplitz.setKernel: P must be ≥ 1");
    const double scale = GetNumber(o, "scale");
    const int threads = static_cast<int>(GetInt(o, "threads"));
    Napi::Value kv = o.Get("k"), hv = o.Get("khat");
    const Storage k = GetStorage(kv, "k"), h = GetStorage(hv, "khat");
    const std::int64_t kb = Product({P, ngrid_, 2, 8}), hb = Product({P, ngrid_, 2, f32_ ? 4 : 8});
    HostType("MriToeplitz.setKernel", "k", kv, false);
    HostType("MriToeplitz.setKernel", "khat", hv, f32_);
    int device = device_;
    Need("MriToeplitz.setKernel", "k", k, kb, device);
    Need("MriToeplitz.setKernel", "khat", h, hb, device);
    if (Overlap(k, kb, h, hb)) throw OpFailure("INVALID_ARGUMENT", "MriToeplitz.setKernel: k and khat overlap");
    std::shared_ptr<MriToeplitzCpu> cpu = cpu_;
#if RK_WITH_CUDA
    std::shared_ptr<MriToeplitzCuda> gpu = cuda_;
#endif
    double* kp = static_cast<double*>(k.ptr);
    void* hp = h.ptr;
    return RunOp(
        env, sync, {info.This(), kv, hv},
        [=]() {
          if (cpu) {
            cpu->set_kernel(kp, hp, P, scale, threads);
            return;
          }
#if RK_WITH_CUDA
          gpu->set_kernel(kp, hp, P, scale);
#endif
        },
        [](Napi::Env e) { return MakeOpResult(e, OpResult{}); });
  });
}

Napi::Value MriToeplitzWrap::Dispose(const Napi::CallbackInfo& info) {
  disposed_ = true;
  cpu_.reset();  // an op in flight keeps its own reference until it settles
#if RK_WITH_CUDA
  cuda_.reset();
#endif
  return info.Env().Undefined();
}

}  // namespace

void MriExports(Napi::Env env, Napi::Object exports) {
  exports.Set("mriOp", Napi::Function::New(env, MriOpBinding, "mriOp"));
  exports.Set("MriToeplitz", MriToeplitzWrap::Init(env));
}

}  // namespace rk
