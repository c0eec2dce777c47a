// Native (CPU) implementation of array_ops.h: element-wise ops and deterministic reductions.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "array_ops.h"
#include "array_ops_math.cuh"
#include "parallel_for.h"

namespace rk {
namespace {

constexpr index_t kEwGrain = 1 << 15;      // elements per thread chunk at least
constexpr index_t kRedBlock = 1 << 15;     // fixed reduction block: results independent of threads

// out/a/b may alias exactly (same array); partial overlap is not supported.
template <ArrayOp OP, typename T>
void ew_real_range(index_t b0, index_t b1, const T* __restrict__ a, const T* __restrict__ b,
                   T* __restrict__ out, T al, T be) {
  for (index_t i = b0; i < b1; ++i) {
    T av = T(0), bv = T(0);
    if constexpr (aom::op_uses_a(OP)) av = a[i];
    if constexpr (aom::op_uses_b(OP)) bv = b[i];
    out[i] = aom::ew_real<OP>(av, bv, al, be);
  }
}

template <ArrayOp OP, typename T>
void ew_cplx_range(index_t b0, index_t b1, const T* __restrict__ a, const T* __restrict__ b,
                   T* __restrict__ out, T al, T be) {
  for (index_t i = b0; i < b1; ++i) {
    T ar = T(0), ai = T(0), br = T(0), bi = T(0);
    if constexpr (aom::op_uses_a(OP)) {
      ar = a[2 * i];
      ai = a[2 * i + 1];
    }
    if constexpr (aom::op_uses_b(OP)) {
      br = b[2 * i];
      bi = b[2 * i + 1];
    }
    T o_re, o_im;
    aom::ew_cplx<OP>(ar, ai, br, bi, al, be, o_re, o_im);
    out[2 * i] = o_re;
    out[2 * i + 1] = o_im;
  }
}

template <ArrayOp OP, typename T>
void run_ew(const ArrayOpArgs<T>& x, int threads) {
  const T al = T(x.alpha), be = T(x.beta);
  parallel_for(
      x.n, threads,
      [&](index_t b0, index_t b1, int) {
        if (x.complex)
          ew_cplx_range<OP, T>(b0, b1, x.a, x.b, x.out, al, be);
        else
          ew_real_range<OP, T>(b0, b1, x.a, x.b, x.out, al, be);
      },
      kEwGrain);
}

// Sum of one block [b0, b1) with 4 independent accumulators per component (fixed order).
template <ArrayOp OP, typename T>
void red_block(index_t b0, index_t b1, const T* __restrict__ a, const T* __restrict__ b,
               bool cplx, double* re_im) {
  double s[2][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}};
  if (!cplx) {
    index_t i = b0;
    for (; i + 4 <= b1; i += 4)
      for (int l = 0; l < 4; ++l) {
        T bv = T(0);
        if constexpr (aom::op_uses_b(OP)) bv = b[i + l];
        s[0][l] += aom::red_real<OP>(a[i + l], bv);
      }
    for (; i < b1; ++i) {
      T bv = T(0);
      if constexpr (aom::op_uses_b(OP)) bv = b[i];
      s[0][0] += aom::red_real<OP>(a[i], bv);
    }
  } else {
    index_t i = b0;
    for (; i + 4 <= b1; i += 4)
      for (int l = 0; l < 4; ++l) {
        const index_t j = i + l;
        T br = T(0), bi = T(0);
        if constexpr (aom::op_uses_b(OP)) {
          br = b[2 * j];
          bi = b[2 * j + 1];
        }
        double re, im;
        aom::red_cplx<OP>(a[2 * j], a[2 * j + 1], br, bi, re, im);
        s[0][l] += re;
        s[1][l] += im;
      }
    for (; i < b1; ++i) {
      T br = T(0), bi = T(0);
      if constexpr (aom::op_uses_b(OP)) {
        br = b[2 * i];
        bi = b[2 * i + 1];
      }
      double re, im;
      aom::red_cplx<OP>(a[2 * i], a[2 * i + 1], br, bi, re, im);
      s[0][0] += re;
      s[1][0] += im;
    }
  }
  re_im[0] = (s[0][0] + s[0][1]) + (s[0][2] + s[0][3]);
  re_im[1] = (s[1][0] + s[1][1]) + (s[1][2] + s[1][3]);
}

template <ArrayOp OP, typename T>
void run_red(const ArrayOpArgs<T>& x, double* result, int threads) {
  const index_t nblk = (x.n + kRedBlock - 1) / kRedBlock;
  std::vector<double> part(static_cast<size_t>(2 * nblk), 0.0);
  parallel_for(nblk, threads, [&](index_t k0, index_t k1, int) {
    for (index_t k = k0; k < k1; ++k)
      red_block<OP, T>(k * kRedBlock, std::min(x.n, (k + 1) * kRedBlock), x.a, x.b, x.complex,
                       &part[static_cast<size_t>(2 * k)]);
  });
  double re = 0.0, im = 0.0;
  for (index_t k = 0; k < nblk; ++k) {  // fixed order
    re += part[static_cast<size_t>(2 * k)];
    im += part[static_cast<size_t>(2 * k + 1)];
  }
  if constexpr (OP == ArrayOp::Norm) {
    result[0] = std::sqrt(re);
  } else {
    result[0] = re;
    if (x.complex) result[1] = im;
  }
}

}  // namespace

template <typename T>
void array_op_cpu(const ArrayOpArgs<T>& x, double* result, int threads) {
  const ArrayOp op = x.op;
  if (!aom::check_args(x, result, "array_op_cpu")) return;
  switch (op) {
    case ArrayOp::Fill: run_ew<ArrayOp::Fill>(x, threads); break;
    case ArrayOp::Copy: run_ew<ArrayOp::Copy>(x, threads); break;
    case ArrayOp::Add: run_ew<ArrayOp::Add>(x, threads); break;
    case ArrayOp::Sub: run_ew<ArrayOp::Sub>(x, threads); break;
    case ArrayOp::Mul: run_ew<ArrayOp::Mul>(x, threads); break;
    case ArrayOp::Scale: run_ew<ArrayOp::Scale>(x, threads); break;
    case ArrayOp::Axpy: run_ew<ArrayOp::Axpy>(x, threads); break;
    case ArrayOp::Clamp: run_ew<ArrayOp::Clamp>(x, threads); break;
    case ArrayOp::Sum: run_red<ArrayOp::Sum>(x, result, threads); break;
    case ArrayOp::Dot: run_red<ArrayOp::Dot>(x, result, threads); break;
    case ArrayOp::Norm: run_red<ArrayOp::Norm>(x, result, threads); break;
  }
}

template void array_op_cpu<float>(const ArrayOpArgs<float>&, double*, int);
template void array_op_cpu<double>(const ArrayOpArgs<double>&, double*, int);

}  // namespace rk
