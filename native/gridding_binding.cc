// griddingOp(args, sync): Kaiser–Bessel spread / interp and Pipe–Menon density compensation
// (cuda/gridding.h). Parses the arguments once into GriddingOptions and plain pointers on the main
// thread, checks every buffer's size and device, then runs the native or CUDA kernel off the main
// thread (or inline when sync).
#include <memory>
#include <string>
#include <vector>

#include "binding_util.h"
#include "gridding.h"
#include "ops.h"
#if RK_WITH_CUDA
#include "cuda_runtime_util.h"
#endif

namespace rk {
namespace {

enum class GridOp { Spread, Interp, Dcf };

struct GridArgs {
  GridOp op = GridOp::Spread;
  GriddingOptions o;
  bool f32 = false;
  int device = -1;
  std::int64_t sets = 1;
  int iterations = 1;
  double scale = 1;
  Storage points, input, out;
};

void Need(const GridArgs& k, const Storage& s, std::int64_t reals, const char* what) {
  if (!s.present) throw OpFailure("INVALID_ARGUMENT", std::string("gridding: ") + what + " is missing");
  if (s.bytes < reals * (k.f32 ? 4 : 8)) throw OpFailure("INVALID_SHAPE", std::string("gridding: ") + what + " holds fewer bytes than its shape needs");
  if (s.device != k.device) throw OpFailure("DEVICE_MISMATCH", std::string("gridding: ") + what + " is on another device than points");
}

std::vector<double> GetTable(const Napi::Object& a, const char* key) {
  Napi::Value v = a.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw OpFailure("INVALID_ARGUMENT", std::string("gridding: '") + key + "' must be a Float64Array");
  }
  Napi::Float64Array t = v.As<Napi::Float64Array>();
  return std::vector<double>(t.Data(), t.Data() + t.ElementLength());
}

template <typename T>
void Run(const GridArgs& k) {
  const T* pts = static_cast<const T*>(k.points.ptr);
  const T* in = static_cast<const T*>(k.input.ptr);
  T* out = static_cast<T*>(k.out.ptr);
  if (k.device < 0) {
    switch (k.op) {
      case GridOp::Spread: gridding_spread_cpu<T>(k.o, pts, in, out); break;
      case GridOp::Interp: gridding_interp_cpu<T>(k.o, pts, in, out); break;
      case GridOp::Dcf: gridding_dcf_cpu<T>(k.o, k.sets, pts, out, k.iterations, k.scale); break;
    }
    return;
  }
#if RK_WITH_CUDA
  DeviceGuard guard(k.device);
  void* stream = static_cast<void*>(cudaStreamPerThread);
  switch (k.op) {
    case GridOp::Spread: gridding_spread_cuda<T>(k.o, pts, in, out, stream); break;
    case GridOp::Interp: gridding_interp_cuda<T>(k.o, pts, in, out, stream); break;
    case GridOp::Dcf: gridding_dcf_cuda<T>(k.o, k.sets, pts, out, k.iterations, k.scale, stream); break;
  }
#else
  throw OpFailure("CUDA_UNAVAILABLE", "gridding: this build has no CUDA support");
#endif
}

}  // namespace

Napi::Value GriddingOpBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Object a = info[0].As<Napi::Object>();
    const bool sync = info[1].ToBoolean();
    auto k = std::make_shared<GridArgs>();
    GriddingOptions& o = k->o;
    const std::string op = GetString(a, "op");
    if (op == "spread") k->op = GridOp::Spread;
    else if (op == "interp") k->op = GridOp::Interp;
    else if (op == "dcf") k->op = GridOp::Dcf;
    else throw OpFailure("INVALID_ARGUMENT", "gridding: unknown op '" + op + "'");
    const std::string dtype = GetString(a, "dtype");
    k->f32 = dtype == "float32";
    if (!k->f32 && dtype != "float64") throw OpFailure("INVALID_DTYPE", "gridding: dtype must be float32 or float64");
    o.dim = static_cast<int>(GetInt(a, "dim"));
    if (o.dim < 1 || o.dim > 3) throw OpFailure("INVALID_ARGUMENT", "gridding: dim must be 1, 2 or 3");
    Napi::Value gv = a.Get("grid");
    if (!gv.IsArray() || gv.As<Napi::Array>().Length() != static_cast<uint32_t>(o.dim)) {
      throw OpFailure("INVALID_ARGUMENT", "gridding: 'grid' must hold one size per dimension");
    }
    Napi::Array ga = gv.As<Napi::Array>();
    for (int i = 0; i < o.dim; ++i) {
      const double n = ga.Get(static_cast<uint32_t>(i)).ToNumber().DoubleValue();
      if (!(n >= 1) || n != static_cast<double>(static_cast<std::int64_t>(n))) throw OpFailure("INVALID_ARGUMENT", "gridding: grid sizes must be positive integers");
      o.grid[i] = static_cast<std::int64_t>(n);
    }
    o.M = GetInt(a, "M");
    o.ntransf = static_cast<int>(GetInt(a, "ntransf"));
    o.gradient = GetBool(a, "gradient");
    o.width = static_cast<int>(GetInt(a, "width"));
    o.degree = static_cast<int>(GetInt(a, "degree"));
    o.coeffs = GetTable(a, "coeffs");
    o.dcoeffs = GetTable(a, "dcoeffs");
    o.threads = static_cast<int>(GetInt(a, "threads"));
    if (k->op == GridOp::Dcf) {
      o.ntransf = 1;
      o.gradient = false;
      k->sets = GetInt(a, "sets");
      k->iterations = static_cast<int>(GetInt(a, "iterations"));
      k->scale = GetNumber(a, "scale");
      if (k->sets < 1) throw OpFailure("INVALID_ARGUMENT", "gridding: sets must be ≥ 1");
      if (k->iterations < 1) throw OpFailure("INVALID_ARGUMENT", "gridding: iterations must be ≥ 1");
    }
    gridding_validate(o);

    Napi::Value pv = a.Get("points"), iv = a.Get("input"), ov = a.Get("out");
    k->points = GetStorage(pv, "points");
    if (!k->points.present) throw OpFailure("INVALID_ARGUMENT", "gridding: points is missing");
    k->device = k->points.device;
    Need(*k, k->points, k->sets * o.dim * o.M, "points");
    k->out = GetStorage(ov, "out");
    std::vector<Napi::Value> keep{pv, ov};
    switch (k->op) {
      case GridOp::Spread:
      case GridOp::Interp: {
        const bool sp = k->op == GridOp::Spread;
        k->input = GetStorage(iv, sp ? "strengths" : "grid");
        Need(*k, k->input, sp ? gridding_point_reals(o) : gridding_grid_reals(o), sp ? "strengths" : "grid");
        Need(*k, k->out, sp ? gridding_grid_reals(o) : gridding_point_reals(o), "out");
        if (k->input.ptr == k->out.ptr && gridding_point_reals(o) > 0) throw OpFailure("INVALID_ARGUMENT", "gridding: out shares memory with the input");
        keep.push_back(iv);
        break;
      }
      case GridOp::Dcf:
        Need(*k, k->out, k->sets * o.M, "out");
        break;
    }
    return RunOp(
        env, sync, keep,
        [k]() {
          if (k->f32) Run<float>(*k);
          else Run<double>(*k);
        },
        [](Napi::Env e) { return MakeOpResult(e, OpResult{}); });
  });
}

}  // namespace rk
