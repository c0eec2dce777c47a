// addon.NufftPlan: an ObjectWrap around rk::NufftPlan (cuda/nufft.h) with the JS interface
//   new NufftPlan({ type, modes, ntransf, isign, modeord, eps, upsampfac, gradient, dtype, width,
//                   threads, device, P?, fineGrid? })
//   .info  .setPoints(points, M, sync)  .execute(input, output, sync)  .timings()  .dispose()
// width: a number or one plain width per axis. Every option means the same for a CPU plan
// (device −1: rk::NufftPlan) and a CUDA plan (device N ≥ 0: rk::NufftCudaPlan).
// The plan lives in a shared_ptr: an async op holds its own reference (and the JS object stays
// alive through RunOp's keep list), so dispose() during an op frees the memory when it settles.
// The plan's own mutex serialises concurrent setPoints/execute calls.
#include <napi.h>

#include <memory>
#include <string>

#include "binding_util.h"
#include "nufft.h"
#include "nufft_binding.h"
#if RK_WITH_CUDA
#include "nufft_cuda.h"
#endif

namespace rk {
namespace {

// Like Guard, but a Napi::Error thrown inside (e.g. by a sync RunOp, which already carries its
// code) passes through unchanged instead of being re-described as INVALID_ARGUMENT.
template <typename F>
Napi::Value GuardCoded(Napi::Env env, F&& body) {
  try {
    return body();
  } catch (const OpFailure& e) {
    throw MakeError(env, e.code, e.what());
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    std::string code, message;
    DescribeCurrentException(code, message);
    throw MakeError(env, code, message);
  }
}

// sync: runs the work inline (a failure propagates to GuardCoded, which describes it once);
// async: RunOp's worker and Promise.
Napi::Value RunPlanOp(Napi::Env env, bool sync, const std::vector<Napi::Value>& keep, OpWorker::Work work) {
  if (sync) {
    work();
    return env.Undefined();
  }
  return RunOp(env, false, keep, std::move(work), [](Napi::Env e) { return e.Undefined(); });
}

class NufftPlanWrap : public Napi::ObjectWrap<NufftPlanWrap> {
 public:
  explicit NufftPlanWrap(const Napi::CallbackInfo& info);
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NufftPlan",
                       {
                           InstanceAccessor<&NufftPlanWrap::GetInfo>("info"),
                           InstanceMethod<&NufftPlanWrap::SetPoints>("setPoints"),
                           InstanceMethod<&NufftPlanWrap::Execute>("execute"),
                           InstanceMethod<&NufftPlanWrap::Timings>("timings"),
                           InstanceMethod<&NufftPlanWrap::Dispose>("dispose"),
                       });
  }

 private:
  std::shared_ptr<NufftPlan> Plan(const char* what) const {
    if (!plan_) throw OpFailure("DISPOSED", std::string("NufftPlan.") + what + ": the plan was disposed");
    return plan_;
  }
  Napi::Value GetInfo(const Napi::CallbackInfo& info);
  Napi::Value SetPoints(const Napi::CallbackInfo& info);
  Napi::Value Execute(const Napi::CallbackInfo& info);
  Napi::Value Timings(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<NufftPlan> plan_;
#if RK_WITH_CUDA
  std::shared_ptr<NufftCudaPlan> cplan_;  // device >= 0 (then plan_ is null)
  Napi::Value CudaSetPoints(const Napi::CallbackInfo& info);
  Napi::Value CudaExecute(const Napi::CallbackInfo& info);
#endif
  bool f32_ = false;
  int dim_ = 1;
  std::int64_t pending_m_ = -1;  // M of the last accepted setPoints call
};

NufftPlanWrap::NufftPlanWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NufftPlanWrap>(info) {
  Napi::Env env = info.Env();
  GuardCoded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) throw OpFailure("INVALID_ARGUMENT", "NufftPlan(options) takes an options object");
    Napi::Object a = info[0].As<Napi::Object>();
    NufftOptions o;
    o.type = static_cast<int>(GetInt(a, "type"));
    Napi::Value mv = a.Get("modes");
    if (!mv.IsArray()) throw OpFailure("INVALID_ARGUMENT", "field 'modes' must be an array of 1 to 3 integers");
    Napi::Array modes = mv.As<Napi::Array>();
    if (modes.Length() < 1 || modes.Length() > 3) {
      throw OpFailure("INVALID_ARGUMENT", "modes must have 1 to 3 entries, got " + std::to_string(modes.Length()));
    }
    o.dim = static_cast<int>(modes.Length());
    for (uint32_t i = 0; i < modes.Length(); ++i) {
      Napi::Value v = modes.Get(i);
      double dv = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!(dv >= 1) || dv != static_cast<double>(static_cast<std::int64_t>(dv))) {
        throw OpFailure("INVALID_ARGUMENT", "modes must be positive integers");
      }
      o.modes[i] = static_cast<std::int64_t>(dv);
    }
    const std::int64_t ntransf = GetInt(a, "ntransf");
    if (ntransf < 1 || ntransf > (1 << 30)) throw OpFailure("INVALID_ARGUMENT", "ntransf must be a positive integer");
    o.ntransf = static_cast<int>(ntransf);
    o.isign = static_cast<int>(GetInt(a, "isign"));
    o.modeord = static_cast<int>(GetInt(a, "modeord"));
    o.eps = GetNumber(a, "eps");
    o.upsampfac = GetNumber(a, "upsampfac");
    o.gradient = GetBool(a, "gradient");
    const std::string dtype = GetString(a, "dtype");
    if (dtype != "complex64" && dtype != "complex128") {
      throw OpFailure("INVALID_DTYPE", "dtype must be 'complex64' or 'complex128', got '" + dtype + "'");
    }
    o.f32 = dtype == "complex64";
    // width: a number (0 = from eps) or one plain width per axis; fineGrid: [] or one size per
    // axis; P: number of point sets (default 1).
    Napi::Value wv = a.Get("width");
    if (wv.IsArray()) {
      Napi::Array wa = wv.As<Napi::Array>();
      if (static_cast<int>(wa.Length()) != o.dim) throw OpFailure("INVALID_ARGUMENT", "width must be a number or an array with one width per axis");
      for (uint32_t i = 0; i < wa.Length(); ++i) {
        Napi::Value v = wa.Get(i);
        const double dv = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
        if (!(dv >= 2 && dv <= 32) || dv != static_cast<double>(static_cast<int>(dv))) throw OpFailure("INVALID_ARGUMENT", "width entries must be integers from 2 to 16");
        o.widths[i] = static_cast<int>(dv);
      }
    } else {
      o.width = static_cast<int>(GetInt(a, "width"));
    }
    Napi::Value fv = a.Get("fineGrid");
    if (fv.IsArray() && fv.As<Napi::Array>().Length() > 0) {
      Napi::Array fa = fv.As<Napi::Array>();
      if (static_cast<int>(fa.Length()) != o.dim) throw OpFailure("INVALID_ARGUMENT", "fineGrid must have one size per axis");
      for (uint32_t i = 0; i < fa.Length(); ++i) {
        Napi::Value v = fa.Get(i);
        const double dv = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
        if (!(dv >= 1 && dv < 9e15) || dv != static_cast<double>(static_cast<std::int64_t>(dv))) throw OpFailure("INVALID_ARGUMENT", "fineGrid entries must be positive integers");
        o.fine_grid[i] = static_cast<std::int64_t>(dv);
      }
    } else if (!fv.IsUndefined() && !fv.IsArray()) {
      throw OpFailure("INVALID_ARGUMENT", "fineGrid must be an array of sizes");
    }
    Napi::Value pv = a.Get("P");
    if (!pv.IsUndefined()) {
      const double dv = pv.IsNumber() ? pv.As<Napi::Number>().DoubleValue() : -1;
      if (!(dv >= 1 && dv <= (1 << 30)) || dv != static_cast<double>(static_cast<int>(dv))) throw OpFailure("INVALID_ARGUMENT", "P must be a positive integer");
      o.P = static_cast<int>(dv);
    }
    o.threads = static_cast<int>(GetInt(a, "threads"));
    const std::int64_t device = GetInt(a, "device");
    if (device >= 0) {
#if RK_WITH_CUDA
      cplan_ = std::make_shared<NufftCudaPlan>(o, static_cast<int>(device));
      f32_ = o.f32;
      dim_ = o.dim;
      return env.Undefined();
#else
      throw OpFailure("CUDA_UNAVAILABLE", "NufftPlan: this build has no CUDA backend (device " + std::to_string(device) + ")");
#endif
    }
    plan_ = std::make_shared<NufftPlan>(o);
    f32_ = o.f32;
    dim_ = o.dim;
    return env.Undefined();
  });
}

Napi::Value NufftPlanWrap::GetInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return GuardCoded(env, [&]() -> Napi::Value {
#if RK_WITH_CUDA
    std::shared_ptr<NufftPlan> p = cplan_ ? nullptr : Plan("info");
    const NufftInfo& i = cplan_ ? cplan_->info() : p->info();
#else
    std::shared_ptr<NufftPlan> p = Plan("info");
    const NufftInfo& i = p->info();
#endif
    Napi::Object o = Napi::Object::New(env);
    o.Set("width", i.width);
    o.Set("beta", i.beta);
    o.Set("upsampfac", i.upsampfac);
    Napi::Array fine = Napi::Array::New(env, dim_);
    for (int a = 0; a < dim_; ++a) fine.Set(static_cast<uint32_t>(a), Napi::Number::New(env, static_cast<double>(i.fine[a])));
    o.Set("fineGrid", fine);
    o.Set("gradientWidthIncrease", i.gradient_width_increase);
    Napi::Array widths = Napi::Array::New(env, dim_), betas = Napi::Array::New(env, dim_);
    for (int a = 0; a < dim_; ++a) {
      widths.Set(static_cast<uint32_t>(a), Napi::Number::New(env, i.widths[a]));
      betas.Set(static_cast<uint32_t>(a), Napi::Number::New(env, i.betas[a]));
    }
    o.Set("widths", widths);
    o.Set("betas", betas);
    return o;
  });
}

// Element count (reals) of a typed array of the plan's element type, else throws.
static std::int64_t TypedLength(const Napi::Value& v, bool f32, const char* what) {
  if (!v.IsTypedArray()) {
    throw OpFailure("INVALID_ARGUMENT", std::string(what) + ": expected a " + (f32 ? "Float32Array" : "Float64Array"));
  }
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  const napi_typedarray_type want = f32 ? napi_float32_array : napi_float64_array;
  if (ta.TypedArrayType() != want) {
    throw OpFailure("INVALID_DTYPE", std::string(what) + ": expected a " + (f32 ? "Float32Array (complex64 plan)" : "Float64Array (complex128 plan)"));
  }
  return static_cast<std::int64_t>(ta.ElementLength());
}

static void* TypedData(const Napi::Value& v) {
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  return static_cast<char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
}

Napi::Value NufftPlanWrap::SetPoints(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return GuardCoded(env, [&]() -> Napi::Value {
#if RK_WITH_CUDA
    if (cplan_) return CudaSetPoints(info);
#endif
    std::shared_ptr<NufftPlan> p = Plan("setPoints");
    Napi::Value ptsv = info[0];
    const std::int64_t len = TypedLength(ptsv, f32_, "setPoints: points");
    if (!info[1].IsNumber()) throw OpFailure("INVALID_ARGUMENT", "setPoints: M must be a number");
    const double Md = info[1].As<Napi::Number>().DoubleValue();
    if (!(Md >= 0) || Md != static_cast<double>(static_cast<std::int64_t>(Md))) {
      throw OpFailure("INVALID_ARGUMENT", "setPoints: M must be a non-negative integer");
    }
    const std::int64_t M = static_cast<std::int64_t>(Md);
    const std::int64_t P = p->options().P;
    if (len < P * dim_ * M) {
      throw OpFailure("INVALID_SHAPE", "setPoints: points has " + std::to_string(len) + " entries, expected P*d*M = " + std::to_string(P * dim_ * M));
    }
    const bool sync = info[2].ToBoolean();
    void* data = TypedData(ptsv);
    const bool f32 = f32_;
    if (!sync) pending_m_ = M;  // a sync call records M only when it succeeds
    Napi::Value r = RunPlanOp(env, sync, {info.This(), ptsv}, [p, data, M, f32]() {
      if (f32) p->set_points(static_cast<const float*>(data), M);
      else p->set_points(static_cast<const double*>(data), M);
    });
    pending_m_ = M;
    return r;
  });
}

Napi::Value NufftPlanWrap::Execute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return GuardCoded(env, [&]() -> Napi::Value {
#if RK_WITH_CUDA
    if (cplan_) return CudaExecute(info);
#endif
    std::shared_ptr<NufftPlan> p = Plan("execute");
    Napi::Value inv = info[0], outv = info[1];
    const std::int64_t in_len = TypedLength(inv, f32_, "execute: input");
    const std::int64_t out_len = TypedLength(outv, f32_, "execute: output");
    if (pending_m_ < 0) throw OpFailure("INVALID_ARGUMENT", "execute: setPoints must be called before execute");
    // Early shape checks against the last setPoints call (the plan re-checks under its lock).
    const std::int64_t need_in = p->input_length(pending_m_), need_out = p->output_length(pending_m_);
    if (in_len < need_in) {
      throw OpFailure("INVALID_SHAPE", "execute: input has " + std::to_string(in_len) + " entries, expected " + std::to_string(need_in));
    }
    if (out_len < need_out) {
      throw OpFailure("INVALID_SHAPE", "execute: output has " + std::to_string(out_len) + " entries, expected " + std::to_string(need_out));
    }
    const bool sync = info[2].ToBoolean();
    void* in = TypedData(inv);
    void* out = TypedData(outv);
    const bool f32 = f32_;
    return RunPlanOp(env, sync, {info.This(), inv, outv}, [p, in, out, in_len, out_len, f32]() {
      if (f32) p->execute(static_cast<const float*>(in), in_len, static_cast<float*>(out), out_len);
      else p->execute(static_cast<const double*>(in), in_len, static_cast<double*>(out), out_len);
    });
  });
}

#if RK_WITH_CUDA
// CUDA plans take DeviceBuffers on the plan's device, or host typed arrays (uploaded once by
// the plan, outputs downloaded). len: element count (reals) of the storage.
static Storage CudaStorage(const Napi::Value& v, bool f32, int device, const char* what, std::int64_t& len) {
  Storage s = GetStorage(v, what);
  if (!s.present) throw OpFailure("INVALID_ARGUMENT", std::string(what) + ": expected a DeviceBuffer or a typed array");
  if (s.device < 0) {
    len = TypedLength(v, f32, what);
  } else {
    if (s.device != device) {
      throw OpFailure("DEVICE_MISMATCH", std::string(what) + " is on cuda:" + std::to_string(s.device) + " but the plan is on cuda:" + std::to_string(device));
    }
    len = s.bytes / static_cast<std::int64_t>(f32 ? sizeof(float) : sizeof(double));
  }
  return s;
}

Napi::Value NufftPlanWrap::CudaSetPoints(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<NufftCudaPlan> p = cplan_;
  Napi::Value ptsv = info[0];
  std::int64_t len = 0;
  const Storage s = CudaStorage(ptsv, f32_, p->device(), "setPoints: points", len);
  if (!info[1].IsNumber()) throw OpFailure("INVALID_ARGUMENT", "setPoints: M must be a number");
  const double Md = info[1].As<Napi::Number>().DoubleValue();
  if (!(Md >= 0) || Md != static_cast<double>(static_cast<std::int64_t>(Md))) {
    throw OpFailure("INVALID_ARGUMENT", "setPoints: M must be a non-negative integer");
  }
  const std::int64_t M = static_cast<std::int64_t>(Md);
  const std::int64_t P = p->options().P;
  if (len < P * dim_ * M) {
    throw OpFailure("INVALID_SHAPE", "setPoints: points has " + std::to_string(len) + " entries, expected P*d*M = " + std::to_string(P * dim_ * M));
  }
  const bool sync = info[2].ToBoolean();
  if (!sync) pending_m_ = M;
  Napi::Value r = RunPlanOp(env, sync, {info.This(), ptsv}, [p, s, M]() { p->set_points(s.ptr, s.device >= 0, M); });
  pending_m_ = M;
  return r;
}

Napi::Value NufftPlanWrap::CudaExecute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<NufftCudaPlan> p = cplan_;
  Napi::Value inv = info[0], outv = info[1];
  std::int64_t in_len = 0, out_len = 0;
  const Storage si = CudaStorage(inv, f32_, p->device(), "execute: input", in_len);
  const Storage so = CudaStorage(outv, f32_, p->device(), "execute: output", out_len);
  if (pending_m_ < 0) throw OpFailure("INVALID_ARGUMENT", "execute: setPoints must be called before execute");
  const std::int64_t need_in = p->input_length(pending_m_), need_out = p->output_length(pending_m_);
  if (in_len < need_in) {
    throw OpFailure("INVALID_SHAPE", "execute: input has " + std::to_string(in_len) + " entries, expected " + std::to_string(need_in));
  }
  if (out_len < need_out) {
    throw OpFailure("INVALID_SHAPE", "execute: output has " + std::to_string(out_len) + " entries, expected " + std::to_string(need_out));
  }
  if (si.ptr == so.ptr) throw OpFailure("INVALID_ARGUMENT", "execute: output shares memory with the input");
  const bool sync = info[2].ToBoolean();
  return RunPlanOp(env, sync, {info.This(), inv, outv}, [p, si, so, in_len, out_len]() {
    p->execute(si.ptr, si.device >= 0, in_len, so.ptr, so.device >= 0, out_len);
  });
}
#endif

Napi::Value NufftPlanWrap::Timings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return GuardCoded(env, [&]() -> Napi::Value {
#if RK_WITH_CUDA
    std::shared_ptr<NufftPlan> p = cplan_ ? nullptr : Plan("timings");
    const NufftTimings t = cplan_ ? cplan_->timings() : p->timings();
#else
    std::shared_ptr<NufftPlan> p = Plan("timings");
    const NufftTimings t = p->timings();
#endif
    Napi::Object o = Napi::Object::New(env);
    o.Set("sortMs", t.sort_ms);
    o.Set("spreadMs", t.spread_ms);
    o.Set("fftMs", t.fft_ms);
    o.Set("deconvolveMs", t.deconvolve_ms);
    o.Set("totalMs", t.total_ms);
    return o;
  });
}

Napi::Value NufftPlanWrap::Dispose(const Napi::CallbackInfo& info) {
  plan_.reset();  // an op in flight keeps its own reference until it settles
#if RK_WITH_CUDA
  cplan_.reset();
#endif
  return info.Env().Undefined();
}

}  // namespace

Napi::Function NufftPlanInit(Napi::Env env) { return NufftPlanWrap::Init(env); }

}  // namespace rk
