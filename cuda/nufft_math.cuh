// Per-point / per-mode NUFFT math shared by the native (CPU) backend and a later CUDA backend.
// Everything here mirrors lib/nufft/params.ts and lib/js/nufft-core.ts operation for operation, so
// the js and native backends agree to rounding when they use the same kernel parameters.
//
// Units: a point x (radians, any real) maps to the fine-grid coordinate y = (x mod 2π)·n/(2π) in
// [0, n). The kernel touches the w grid points i0 .. i0+w-1 with i0 = ⌈y − w/2⌉ (periodic), and
// the weight of grid point i0 + j is the piecewise polynomial Σ_p c[p][j]·u^(deg−p) evaluated at
// u = 2·(i0 − (y − w/2)) − 1 ∈ [−1, 1) (Horner, highest power first).
#pragma once
#include <math.h>

#include "rk_defs.h"

namespace rk {
namespace nufftm {

constexpr double kTwoPi = 6.283185307179586;  // same double as 2 * Math.PI

// Folds x into [0, n): y = (x − 2π⌊x/2π⌋)·(n/2π), and y = 0 instead of n after rounding.
RK_HD RK_FORCEINLINE double fold(double x, double n) {
  const double scale = n / kTwoPi;
  double v = (x - kTwoPi * floor(x / kTwoPi)) * scale;
  if (v >= n) v -= n;
  return v;
}

// First grid index (may be negative, ≥ −⌈w/2⌉) and the polynomial argument u for coordinate y.
RK_HD RK_FORCEINLINE void kernel_start(double y, int w, int& i0, double& u) {
  const double half = 0.5 * w;
  const double s = y - half;
  const double c = ceil(s);
  i0 = static_cast<int>(c);
  u = 2.0 * (c - s) - 1.0;
}

// Kernel weights ker[0..w) by Horner. coeffs is [deg+1][stride] (highest power first).
// W > 0: compile-time width (fully unrolled, vectorised); W == 0: runtime width w.
template <int W, typename T>
RK_HD RK_FORCEINLINE void eval_kernel(const T* __restrict__ coeffs, int stride, int deg, int w, T u,
                                      T* __restrict__ ker) {
  const int n = W > 0 ? W : w;
  for (int j = 0; j < n; ++j) ker[j] = coeffs[j];
  for (int p = 1; p <= deg; ++p) {
    const T* c = coeffs + p * stride;
    for (int j = 0; j < n; ++j) ker[j] = ker[j] * u + c[j];
  }
}

// d/dx (x in radians) of the weight, from dφ/dz: weight = φ((g − y)/(w/2)), y = x·n/2π, so
// d/dx = φ'(z)·(−2/w)·(n/2π). Returns that scale factor.
RK_HD RK_FORCEINLINE double deriv_scale(int w, double n) { return (-2.0 / w) * (n / kTwoPi); }

// Wavenumber of mode-array index m on an axis of N modes (modeord 0: from −⌊N/2⌋; 1: FFT order).
RK_HD RK_FORCEINLINE long long mode_k(long long m, long long N, int modeord) {
  if (modeord == 0) return m - N / 2;
  const long long kpos = (N + 1) / 2;
  return m < kpos ? m : m - N;
}

// Fine-grid (FFT output) index of wavenumber k on a fine grid of nf points.
RK_HD RK_FORCEINLINE long long fine_index(long long k, long long nf) { return ((k % nf) + nf) % nf; }

// Index into the φ̂ table (kernelFourierSeries, k from −⌊N/2⌋) of wavenumber k.
RK_HD RK_FORCEINLINE long long phat_index(long long k, long long N) { return k + N / 2; }

// Periodic wrap of a (possibly slightly out of range) index into [0, n).
RK_HD RK_FORCEINLINE long long wrap(long long i, long long n) {
  i %= n;
  return i < 0 ? i + n : i;
}

// Wrap for an index known to lie in [−n, 2n) (kernel indices: i0 ≥ −w/2, i0 + w ≤ n + w/2):
// no division.
RK_HD RK_FORCEINLINE long long wrap_near(long long i, long long n) {
  return i < 0 ? i + n : (i >= n ? i - n : i);
}

}  // namespace nufftm
}  // namespace rk
