// arrayOp(args, sync): the element-wise and reduction ops of cuda/array_ops.h.
#include "array_ops.h"
#include "binding_util.h"
#include "ops.h"
#if RK_WITH_CUDA
#include "cuda_runtime_util.h"
#endif

namespace rk {

namespace {
template <typename T>
ArrayOpArgs<T> Typed(ArrayOp op, std::int64_t n, bool complex, double alpha, double beta, const Storage& a, const Storage& b,
                     const Storage& out) {
  ArrayOpArgs<T> args;
  args.op = op;
  args.n = n;
  args.complex = complex;
  args.alpha = alpha;
  args.beta = beta;
  args.a = static_cast<const T*>(a.ptr);
  args.b = static_cast<const T*>(b.ptr);
  args.out = static_cast<T*>(out.ptr);
  return args;
}

bool NeedsA(ArrayOp op) { return op != ArrayOp::Fill; }
bool NeedsB(ArrayOp op) { return op == ArrayOp::Add || op == ArrayOp::Sub || op == ArrayOp::Mul || op == ArrayOp::Axpy || op == ArrayOp::Dot; }
bool NeedsOut(ArrayOp op) { return op != ArrayOp::Sum && op != ArrayOp::Dot && op != ArrayOp::Norm; }
}  // namespace

Napi::Value ArrayOpBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Object o = info[0].As<Napi::Object>();
    bool sync = info[1].ToBoolean();
    std::int64_t code = GetInt(o, "op");
    if (code < 0 || code > static_cast<int>(ArrayOp::Norm)) throw OpFailure("INVALID_ARGUMENT", "arrayOp: unknown op");
    ArrayOp op = static_cast<ArrayOp>(code);
    std::string dtype = GetString(o, "dtype");
    bool f32 = dtype == "float32";
    if (!f32 && dtype != "float64") throw OpFailure("INVALID_DTYPE", "arrayOp: dtype must be float32 or float64");
    bool complex = GetBool(o, "complex");
    std::int64_t n = GetInt(o, "n");
    double alpha = GetNumber(o, "alpha"), beta = GetNumber(o, "beta");
    int threads = static_cast<int>(GetInt(o, "threads"));
    Napi::Value av = o.Get("a"), bv = o.Get("b"), outv = o.Get("out");
    Storage a = GetStorage(av, "a"), b = GetStorage(bv, "b"), out = GetStorage(outv, "out");
    std::int64_t need = n * (complex ? 2 : 1) * (f32 ? 4 : 8);
    int device = -2;
    auto check = [&](const Storage& s, bool needed, const char* name) {
      if (!needed) return;
      if (!s.present || s.bytes < need) throw OpFailure("INVALID_SHAPE", std::string("arrayOp: operand ") + name + " is missing or too small");
      if (device != -2 && s.device != device) throw OpFailure("DEVICE_MISMATCH", "arrayOp: operands are on different devices");
      device = s.device;
    };
    check(a, NeedsA(op), "a");
    check(b, NeedsB(op), "b");
    check(out, NeedsOut(op), "out");
    auto result = std::make_shared<OpResult>();
    return RunOp(
        env, sync, {av, bv, outv},
        [=]() {
          if (device < 0) {
            if (f32) array_op_cpu<float>(Typed<float>(op, n, complex, alpha, beta, a, b, out), result->values, threads);
            else array_op_cpu<double>(Typed<double>(op, n, complex, alpha, beta, a, b, out), result->values, threads);
            return;
          }
#if RK_WITH_CUDA
          DeviceGuard guard(device);
          void* stream = static_cast<void*>(cudaStreamPerThread);
          if (f32) array_op_cuda<float>(Typed<float>(op, n, complex, alpha, beta, a, b, out), result->values, stream);
          else array_op_cuda<double>(Typed<double>(op, n, complex, alpha, beta, a, b, out), result->values, stream);
#else
          throw OpFailure("CUDA_UNAVAILABLE", "arrayOp: this build has no CUDA support");
#endif
        },
        [result](Napi::Env e) { return MakeOpResult(e, *result); });
  });
}

}  // namespace rk
