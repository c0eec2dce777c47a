// Per-point gridding math shared by the native (CPU) and CUDA gridding (cuda/gridding.h). It
// reuses the NUFFT's fold / kernel start / Horner (cuda/nufft_math.cuh), which mirror
// lib/js/nufft-core.ts operation for operation, so js, native and CUDA agree to rounding.
//
// Geometry is padded to 3 axes (as in the NUFFT engines): padded axis pa = pad + a (pad = 3 − d)
// carries point row a; the leading dummy axes have size 1, width 1 and weight 1.
#pragma once
#include <math.h>

#include "nufft_math.cuh"
#include "rk_defs.h"

namespace rk {
namespace gridm {

constexpr int kMaxWidth = 16;
constexpr int kMaxDegree = 30;

// Kernel start i0 (first grid index touched, may be negative) and the polynomial argument u of a
// coordinate x (radians) on an axis of n points.
RK_HD RK_FORCEINLINE void axis_start(double x, double n, int w, int& i0, double& u) {
  nufftm::kernel_start(nufftm::fold(x, n), w, i0, u);
}

// Weights k[0..w) of the w taps (and dk, ∂weight/∂x per radian, when grad). W > 0 is the width
// at compile time (unrolled), W == 0 a runtime width. dscale = nufftm::deriv_scale(w, n).
template <int W>
RK_HD RK_FORCEINLINE void axis_weights(const double* __restrict__ coeffs, const double* __restrict__ dcoeffs,
                                       int deg, int w, double u, double dscale, bool grad,
                                       double* __restrict__ k, double* __restrict__ dk) {
  const int n = W > 0 ? W : w;
  nufftm::eval_kernel<W, double>(coeffs, n, deg, n, u, k);
  if (grad) {
    nufftm::eval_kernel<W, double>(dcoeffs, n, deg, n, u, dk);
    for (int q = 0; q < n; ++q) dk[q] *= dscale;
  }
}

// axis_weights for the axes a0..2 of a point at once (compile-time width W > 0): the Horner chains
// of all axes (and of φ′ with GR) advance together so their latencies overlap. Same arithmetic
// per tap as axis_weights. k / dk are [3][kMaxWidth]; u and dscale are per axis.
template <int W, int A0, bool GR>
RK_HD RK_FORCEINLINE void axes_weights(const double* __restrict__ coeffs, const double* __restrict__ dcoeffs, int deg,
                                       const double* u, const double* dscale, double (*k)[kMaxWidth],
                                       double (*dk)[kMaxWidth]) {
  double v[3][W], dv[3][W];
  for (int a = A0; a < 3; ++a)
    for (int q = 0; q < W; ++q) {
      v[a][q] = coeffs[q];
      if (GR) dv[a][q] = dcoeffs[q];
    }
  for (int p = 1; p <= deg; ++p) {
    const double* c = coeffs + p * W;
    const double* dc = dcoeffs + p * W;
    for (int a = A0; a < 3; ++a)
      for (int q = 0; q < W; ++q) {
        v[a][q] = v[a][q] * u[a] + c[q];
        if (GR) dv[a][q] = dv[a][q] * u[a] + dc[q];
      }
  }
  for (int a = A0; a < 3; ++a)
    for (int q = 0; q < W; ++q) {
      k[a][q] = v[a][q];
      if (GR) dk[a][q] = dv[a][q] * dscale[a];
    }
}

// Index in [0, n) of tap i0 + q (|i0| ≤ w/2 + 1, q < w ≤ n).
RK_HD RK_FORCEINLINE long long tap_index(int i0, int q, long long n) {
  return nufftm::wrap_near(static_cast<long long>(i0) + q, n);
}

// One Pipe–Menon step for a real weight w and the interpolated density v = vr + i·vi.
RK_HD RK_FORCEINLINE double pipe_menon(double w, double vr, double vi) {
  const double den = hypot(vr, vi);
  return den > 0 ? w / den : 0.0;
}

}  // namespace gridm
}  // namespace rk
