// tv3d(args, sync): parses the TV arguments once into a TvProblem, then runs the native or
// CUDA kernel off the main thread (or inline when sync).
#include "binding_util.h"
#include "ops.h"
#include "tv.h"
#if RK_WITH_CUDA
#include "cuda_runtime_util.h"
#endif

namespace rk {

Napi::Value Tv3d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Object a = info[0].As<Napi::Object>();
    bool sync = info[1].ToBoolean();
    TvProblem p;
    std::int64_t kind = GetInt(a, "kind");
    if (kind < 0 || kind > 2) throw OpFailure("INVALID_ARGUMENT", "tv3d: unknown kind");
    p.kind = static_cast<TvKind>(kind);
    p.batch = GetInt(a, "batch");
    p.D = GetInt(a, "D");
    p.H = GetInt(a, "H");
    p.W = GetInt(a, "W");
    p.eps = GetNumber(a, "eps");
    Napi::Array scale = a.Get("scale").As<Napi::Array>();
    for (uint32_t i = 0; i < 3 && i < scale.Length(); ++i) p.scale[i] = scale.Get(i).As<Napi::Number>().DoubleValue();
    p.want_loss = GetBool(a, "wantLoss");
    p.want_grad = GetBool(a, "wantGrad");
    std::string dtype = GetString(a, "dtype");
    bool f32 = dtype == "float32";
    if (!f32 && dtype != "float64") throw OpFailure("INVALID_DTYPE", "tv3d: dtype must be float32 or float64");
    int threads = static_cast<int>(GetInt(a, "threads"));
    Napi::Value volv = a.Get("vol"), gradv = a.Get("grad");
    Storage vol = GetStorage(volv, "vol");
    Storage grad = GetStorage(gradv, "grad");
    std::int64_t need = p.batch * p.D * p.H * p.W * (f32 ? 4 : 8);
    if (!vol.present || vol.bytes < need) throw OpFailure("INVALID_SHAPE", "tv3d: vol holds fewer bytes than its shape needs");
    if (p.want_grad && (!grad.present || grad.bytes < need)) throw OpFailure("INVALID_SHAPE", "tv3d: grad is missing or too small");
    if (p.want_grad && grad.device != vol.device) throw OpFailure("DEVICE_MISMATCH", "tv3d: vol and grad are on different devices");
    auto result = std::make_shared<OpResult>();
    return RunOp(
        env, sync, {volv, gradv},
        [=]() {
          if (vol.device < 0) {
            if (f32) tv3d_cpu<float>(p, static_cast<const float*>(vol.ptr), static_cast<float*>(grad.ptr), result->values, threads);
            else tv3d_cpu<double>(p, static_cast<const double*>(vol.ptr), static_cast<double*>(grad.ptr), result->values, threads);
            return;
          }
#if RK_WITH_CUDA
          DeviceGuard guard(vol.device);
          void* stream = static_cast<void*>(cudaStreamPerThread);
          if (f32) tv3d_cuda<float>(p, static_cast<const float*>(vol.ptr), static_cast<float*>(grad.ptr), result->values, stream, &result->device_ms);
          else tv3d_cuda<double>(p, static_cast<const double*>(vol.ptr), static_cast<double*>(grad.ptr), result->values, stream, &result->device_ms);
#else
          throw OpFailure("CUDA_UNAVAILABLE", "tv3d: this build has no CUDA support");
#endif
        },
        [result](Napi::Env e) { return MakeOpResult(e, *result); });
  });
}

}  // namespace rk
