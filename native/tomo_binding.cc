// tomoOp(args, sync): the parallel-beam tomography kernels (cuda/tomo.h). Parses the arguments
// once into a TomoProblem and plain pointers on the main thread, checks every buffer's size and
// device, then runs the native or CUDA kernel off the main thread (or inline when sync).
#include <memory>
#include <string>
#include <vector>

#include "binding_util.h"
#include "ops.h"
#include "tomo.h"
#if RK_WITH_CUDA
#include "cuda_runtime_util.h"
#endif

namespace rk {
namespace {

struct TomoArgs {
  TomoProblem p;
  bool f32 = true;
  int threads = 0;
  int device = -1;
  Storage x, out, geom, filt;
};

void Need(const TomoArgs& k, const Storage& s, std::int64_t elems, int scalar_bytes, const char* what) {
  if (!s.present) throw OpFailure("INVALID_ARGUMENT", std::string("tomo: ") + what + " is missing");
  if (s.bytes < elems * scalar_bytes) throw OpFailure("INVALID_SHAPE", std::string("tomo: ") + what + " holds fewer bytes than its shape needs");
  if (s.device != k.device) throw OpFailure("DEVICE_MISMATCH", std::string("tomo: ") + what + " is on another device than the input");
}

template <typename T>
void Run(const TomoArgs& k, OpResult& res) {
  const T* x = static_cast<const T*>(k.x.ptr);
  T* out = static_cast<T*>(k.out.ptr);
  const double* geom = static_cast<const double*>(k.geom.ptr);
  const T* filt = static_cast<const T*>(k.filt.ptr);
  if (k.device < 0) {
    tomo_cpu<T>(k.p, x, out, geom, filt, k.threads);
    return;
  }
#if RK_WITH_CUDA
  DeviceGuard guard(k.device);
  tomo_cuda<T>(k.p, x, out, geom, filt, static_cast<void*>(cudaStreamPerThread), &res.device_ms);
#else
  (void)res;
  throw OpFailure("CUDA_UNAVAILABLE", "tomo: this build has no CUDA support");
#endif
}

}  // namespace

Napi::Value TomoOpBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Object a = info[0].As<Napi::Object>();
    const bool sync = info[1].ToBoolean();
    auto k = std::make_shared<TomoArgs>();
    TomoProblem& p = k->p;
    const std::int64_t op = GetInt(a, "op");
    if (op < 0 || op > 5) throw OpFailure("INVALID_ARGUMENT", "tomo: unknown op");
    p.op = static_cast<TomoOp>(op);
    const std::string dtype = GetString(a, "dtype");
    k->f32 = dtype == "float32";
    if (!k->f32 && dtype != "float64") throw OpFailure("INVALID_DTYPE", "tomo: dtype must be float32 or float64");
    const int sb = k->f32 ? 4 : 8;
    k->threads = static_cast<int>(GetInt(a, "threads"));
    p.Z = GetInt(a, "Z");
    p.Y = GetInt(a, "Y");
    p.X = GetInt(a, "X");
    p.R = GetInt(a, "R");
    p.A = GetInt(a, "A");
    p.U = GetInt(a, "U");
    p.nnz = GetInt(a, "nnz");
    p.N = GetInt(a, "N");
    p.lines = GetInt(a, "lines");
    p.sigma = GetNumber(a, "sigma");
    p.lambda = GetNumber(a, "lambda");
    p.eps = GetNumber(a, "eps");
    p.gather = GetBool(a, "gather");
    if (p.Z < 1 || p.Y < 1 || p.X < 1 || p.R < 1 || p.A < 1 || p.U < 1 || p.nnz < 0 || p.N < 1 || p.lines < 0)
      throw OpFailure("INVALID_SHAPE", "tomo: sizes must be positive");
    Napi::Value xv = a.Get("x"), outv = a.Get("out"), geomv = a.Get("geom"), filtv = a.Get("filt");
    k->x = GetStorage(xv, "x");
    k->out = GetStorage(outv, "out");
    if (!k->x.present) throw OpFailure("INVALID_ARGUMENT", "tomo: x is missing");
    k->device = k->x.device;
    std::vector<Napi::Value> keep{xv, outv};
    switch (p.op) {
      case TomoOp::Forward:
      case TomoOp::Adjoint: {
        const bool fwd = p.op == TomoOp::Forward;
        Need(*k, k->x, fwd ? p.vol_size() : p.sino_size(), sb, "x");
        Need(*k, k->out, fwd ? p.sino_size() : p.vol_size(), sb, "out");
        k->geom = GetStorage(geomv, "geom");
        Need(*k, k->geom, p.geom_size(), 8, "geom");
        keep.push_back(geomv);
        break;
      }
      case TomoOp::Filter:
        Need(*k, k->x, p.lines * p.U, sb, "x");
        Need(*k, k->out, p.lines * p.U, sb, "out");
        k->filt = GetStorage(filtv, "filt");
        Need(*k, k->filt, p.N, sb, "filt");
        keep.push_back(filtv);
        break;
      case TomoOp::TvDual:
        Need(*k, k->x, p.vol_size(), sb, "x");
        Need(*k, k->out, 3 * p.vol_size(), sb, "out");
        break;
      case TomoOp::TvGradT:
        Need(*k, k->x, 3 * p.vol_size(), sb, "x");
        Need(*k, k->out, p.vol_size(), sb, "out");
        break;
      case TomoOp::Recip:
        Need(*k, k->x, p.lines, sb, "x");
        Need(*k, k->out, p.lines, sb, "out");
        break;
    }
    auto result = std::make_shared<OpResult>();
    return RunOp(
        env, sync, keep,
        [k, result]() {
          if (k->f32) Run<float>(*k, *result);
          else Run<double>(*k, *result);
        },
        [result](Napi::Env e) { return MakeOpResult(e, *result); });
  });
}

}  // namespace rk
