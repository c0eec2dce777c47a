// Per-element math of the array ops (array_ops.h), shared by the native and CUDA backends.
// Element-wise ops compute in T (alpha/beta converted to T); reductions produce double terms.
#pragma once
#include <stdexcept>
#include <string>

#include "array_ops.h"
#include "rk_defs.h"

namespace rk {
namespace aom {

// Which inputs an op reads (so that unused pointers may be null).
RK_HD constexpr bool op_uses_a(ArrayOp op) { return op != ArrayOp::Fill; }
RK_HD constexpr bool op_uses_b(ArrayOp op) {
  return op == ArrayOp::Add || op == ArrayOp::Sub || op == ArrayOp::Mul || op == ArrayOp::Axpy ||
         op == ArrayOp::Dot;
}
RK_HD constexpr bool op_is_reduction(ArrayOp op) {
  return op == ArrayOp::Sum || op == ArrayOp::Dot || op == ArrayOp::Norm;
}

// Real element-wise: returns out.
template <ArrayOp OP, typename T>
RK_HD RK_FORCEINLINE T ew_real(T a, T b, T al, T be) {
  (void)a;
  (void)b;
  (void)al;
  (void)be;
  if constexpr (OP == ArrayOp::Fill) return al;
  else if constexpr (OP == ArrayOp::Copy) return a;
  else if constexpr (OP == ArrayOp::Add) return a + b;
  else if constexpr (OP == ArrayOp::Sub) return a - b;
  else if constexpr (OP == ArrayOp::Mul) return a * b;
  else if constexpr (OP == ArrayOp::Scale) return al * a;
  else if constexpr (OP == ArrayOp::Axpy) return al * a + b;
  else if constexpr (OP == ArrayOp::Clamp) return a < al ? al : (a > be ? be : a);  // NaN kept
  else return T(0);
}

// Complex (interleaved) element-wise: (ar + i ai), (br + i bi), alpha + i beta.
template <ArrayOp OP, typename T>
RK_HD RK_FORCEINLINE void ew_cplx(T ar, T ai, T br, T bi, T al, T be, T& o_re, T& o_im) {
  (void)ar;
  (void)ai;
  (void)br;
  (void)bi;
  (void)al;
  (void)be;
  if constexpr (OP == ArrayOp::Fill) {
    o_re = al;
    o_im = be;
  } else if constexpr (OP == ArrayOp::Copy) {
    o_re = ar;
    o_im = ai;
  } else if constexpr (OP == ArrayOp::Add) {
    o_re = ar + br;
    o_im = ai + bi;
  } else if constexpr (OP == ArrayOp::Sub) {
    o_re = ar - br;
    o_im = ai - bi;
  } else if constexpr (OP == ArrayOp::Mul) {
    o_re = ar * br - ai * bi;
    o_im = ar * bi + ai * br;
  } else if constexpr (OP == ArrayOp::Scale) {
    o_re = al * ar - be * ai;
    o_im = al * ai + be * ar;
  } else if constexpr (OP == ArrayOp::Axpy) {
    o_re = (al * ar - be * ai) + br;
    o_im = (al * ai + be * ar) + bi;
  } else {  // Clamp is not defined for complex (rejected before dispatch)
    o_re = ar;
    o_im = ai;
  }
}

// Real reduction term.
template <ArrayOp OP, typename T>
RK_HD RK_FORCEINLINE double red_real(T a, T b) {
  (void)b;
  if constexpr (OP == ArrayOp::Sum) return double(a);
  else if constexpr (OP == ArrayOp::Dot) return double(a) * double(b);
  else return double(a) * double(a);  // Norm: sum of squares (sqrt taken at the end)
}

// Complex reduction term: Sum -> a, Dot -> conj(a) * b, Norm -> |a|^2 (in re).
template <ArrayOp OP, typename T>
RK_HD RK_FORCEINLINE void red_cplx(T ar, T ai, T br, T bi, double& re, double& im) {
  (void)br;
  (void)bi;
  const double xr = double(ar), xi = double(ai);
  if constexpr (OP == ArrayOp::Sum) {
    re = xr;
    im = xi;
  } else if constexpr (OP == ArrayOp::Dot) {
    const double yr = double(br), yi = double(bi);
    re = xr * yr + xi * yi;
    im = xr * yi - xi * yr;
  } else {
    re = xr * xr + xi * xi;
    im = 0.0;
  }
}

// Host-side argument checks shared by array_op_cpu and array_op_cuda. Returns false when there
// is nothing to compute (n == 0), after writing the empty result of a reduction.
template <typename T>
inline bool check_args(const ArrayOpArgs<T>& x, double* result, const char* who) {
  const ArrayOp op = x.op;
  const std::string w(who);
  if (x.n < 0) throw std::invalid_argument(w + ": negative n");
  if (static_cast<int>(op) < 0 || static_cast<int>(op) > static_cast<int>(ArrayOp::Norm)) throw std::invalid_argument(w + ": unknown op");
  if (op == ArrayOp::Clamp && x.complex) throw std::invalid_argument(w + ": Clamp is not defined for complex arrays");
  const bool red = op_is_reduction(op);
  if (red && !result) throw std::invalid_argument(w + ": result is null");
  if (x.n == 0) {
    if (red) {
      result[0] = 0.0;
      if (x.complex && op != ArrayOp::Norm) result[1] = 0.0;
    }
    return false;
  }
  if (op_uses_a(op) && !x.a) throw std::invalid_argument(w + ": a is null");
  if (op_uses_b(op) && !x.b) throw std::invalid_argument(w + ": b is null");
  if (!red && !x.out) throw std::invalid_argument(w + ": out is null");
  return true;
}

}  // namespace aom
}  // namespace rk
