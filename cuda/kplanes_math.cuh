// Per-element math of tilted K-Planes feature sampling, shared verbatim by the native (CPU)
// backend (native/kplanes_cpu.cc) and the CUDA kernels (cuda/kplanes_cuda.cu), so CPU-only CI
// exercises the arithmetic the GPU runs. Semantics: quantem's interpolate_ms_features_tilted,
// i.e. torch grid_sample(mode='bilinear', align_corners=True, padding_mode='border').
//
// For rotation t and point p: r = R_t · p. Plane slot 3t + k is sampled at (x → W, y → H):
//   k = 0: (r0, r1), k = 1: (r2, r0), k = 2: (r1, r2).
// Per axis of size N: ix = ((g + 1) / 2) · (N − 1), clamped to [0, N − 1]; d(ix)/dg is
// (N − 1)/2 strictly inside (0, N − 1) and 0 otherwise (the border counts as outside, and
// N = 1 gives 0), exactly like torch's clip_coordinates_set_grad.
// Taps are (i0, i0 + 1) with i0 = min(floor(ix), N − 2), so both taps are always in range; at
// ix = N − 1 the weight sits wholly on i0 + 1 = N − 1, the same value and plane gradient torch
// gives with its out-of-range tap. For N = 1 both taps are pixel 0 (weights 1 and 0).
// A NaN coordinate keeps in-range taps and yields NaN weights (so NaN features), never an
// out-of-range read.
#pragma once
#include <math.h>

#include "rk_defs.h"

namespace rk {
namespace kpm {

RK_HD RK_FORCEINLINE float kp_floor(float v) { return floorf(v); }
RK_HD RK_FORCEINLINE double kp_floor(double v) { return floor(v); }

// One axis of a bilinear sample: taps i0, i1, the weight t of i1 (1 − t on i0), and
// d(pixel coordinate)/d(normalised coordinate), 0 where the coordinate is clamped.
template <typename T>
struct AxisTap {
  index_t i0, i1;
  T t;
  T dg;
};

template <typename T>
RK_HD RK_FORCEINLINE AxisTap<T> axis_tap(T g, index_t N) {
  AxisTap<T> a;
  const T hi = T(N - 1);
  T ix = ((g + T(1)) / T(2)) * hi;
  a.dg = hi / T(2);
  if (ix <= T(0)) {
    ix = T(0);
    a.dg = T(0);
  } else if (ix >= hi) {
    ix = hi;
    a.dg = T(0);
  }
  index_t i0 = 0;
  if (N > 1) {
    const T fl = kp_floor(ix);
    // NaN fails both comparisons and falls to 0
    i0 = fl >= T(N - 2) ? N - 2 : (fl >= T(0) ? static_cast<index_t>(fl) : 0);
  }
  a.i0 = i0;
  a.i1 = N > 1 ? i0 + 1 : i0;
  a.t = ix - T(i0);
  return a;
}

// A bilinear sample of one plane position: pixel indices (y · W + x) of the four taps, their
// weights, the fractional offsets and the coordinate-gradient factors.
template <typename T>
struct Bilerp {
  index_t o00, o01, o10, o11;  // (y0,x0) (y0,x1) (y1,x0) (y1,x1)
  T w00, w01, w10, w11;
  T tx, ty;
  T dgx, dgy;
};

template <typename T>
RK_HD RK_FORCEINLINE Bilerp<T> bilerp_setup(T gx, T gy, index_t H, index_t W) {
  const AxisTap<T> ax = axis_tap(gx, W);
  const AxisTap<T> ay = axis_tap(gy, H);
  Bilerp<T> b;
  b.o00 = ay.i0 * W + ax.i0;
  b.o01 = ay.i0 * W + ax.i1;
  b.o10 = ay.i1 * W + ax.i0;
  b.o11 = ay.i1 * W + ax.i1;
  b.tx = ax.t;
  b.ty = ay.t;
  const T ux = T(1) - ax.t, uy = T(1) - ay.t;
  b.w00 = uy * ux;
  b.w01 = uy * ax.t;
  b.w10 = ay.t * ux;
  b.w11 = ay.t * ax.t;
  b.dgx = ax.dg;
  b.dgy = ay.dg;
  return b;
}

// The sampled value from the four tap values.
template <typename T>
RK_HD RK_FORCEINLINE T bilerp_value(const Bilerp<T>& b, T v00, T v01, T v10, T v11) {
  return (b.w00 * v00 + b.w01 * v01) + (b.w10 * v10 + b.w11 * v11);
}

// d(value)/d(ix) and d(value)/d(iy) in pixel units; multiply by dgx / dgy for the normalised
// coordinates (the factor does not depend on the channel, so callers apply it once).
template <typename T>
RK_HD RK_FORCEINLINE void bilerp_dpix(const Bilerp<T>& b, T v00, T v01, T v10, T v11, T& dx,
                                      T& dy) {
  dx = (T(1) - b.ty) * (v01 - v00) + b.ty * (v11 - v10);
  dy = (T(1) - b.tx) * (v10 - v00) + b.tx * (v11 - v01);
}

// r = R · p, R row-major 3×3.
template <typename T>
RK_HD RK_FORCEINLINE void rotate(const T* R, T p0, T p1, T p2, T* r) {
  r[0] = R[0] * p0 + R[1] * p1 + R[2] * p2;
  r[1] = R[3] * p0 + R[4] * p1 + R[5] * p2;
  r[2] = R[6] * p0 + R[7] * p1 + R[8] * p2;
}

// The (x, y) grid coordinates of slot k from r.
template <typename T>
RK_HD RK_FORCEINLINE void slot_coords(int k, const T* r, T& gx, T& gy) {
  if (k == 0) {
    gx = r[0];
    gy = r[1];
  } else if (k == 1) {
    gx = r[2];
    gy = r[0];
  } else {
    gx = r[1];
    gy = r[2];
  }
}

// Adds slot k's coordinate gradients (d/dgx, d/dgy) to dL/dr.
template <typename T>
RK_HD RK_FORCEINLINE void slot_grad_to_r(int k, T dgx, T dgy, T* dr) {
  if (k == 0) {
    dr[0] += dgx;
    dr[1] += dgy;
  } else if (k == 1) {
    dr[2] += dgx;
    dr[0] += dgy;
  } else {
    dr[1] += dgx;
    dr[2] += dgy;
  }
}

// The three bilinear setups of rotation R at point p on a plane of H × W.
template <typename T>
RK_HD RK_FORCEINLINE void setup_rotation(const T* R, T p0, T p1, T p2, index_t H, index_t W,
                                         Bilerp<T>* bl) {
  T r[3];
  rotate(R, p0, p1, p2, r);
  for (int k = 0; k < 3; ++k) {
    T gx, gy;
    slot_coords(k, r, gx, gy);
    bl[k] = bilerp_setup(gx, gy, H, W);
  }
}

// Feature f = s0 · s1 · s2 and, given the upstream gradient go of f, dL/ds_k.
template <typename T>
RK_HD RK_FORCEINLINE void product_grads(T s0, T s1, T s2, T go, T& d0, T& d1, T& d2) {
  d0 = go * (s1 * s2);
  d1 = go * (s0 * s2);
  d2 = go * (s0 * s1);
}

// dL/dp += Rᵀ · dr and dL/dR += dr ⊗ p (dR row-major, may be a wider accumulator type A).
template <typename T>
RK_HD RK_FORCEINLINE void rotation_backward_points(const T* R, const T* dr, T* dp) {
  dp[0] += R[0] * dr[0] + R[3] * dr[1] + R[6] * dr[2];
  dp[1] += R[1] * dr[0] + R[4] * dr[1] + R[7] * dr[2];
  dp[2] += R[2] * dr[0] + R[5] * dr[1] + R[8] * dr[2];
}

template <typename T, typename A>
RK_HD RK_FORCEINLINE void rotation_backward_matrix(const T* dr, T p0, T p1, T p2, A* dR) {
  for (int i = 0; i < 3; ++i) {
    dR[3 * i + 0] += A(dr[i] * p0);
    dR[3 * i + 1] += A(dr[i] * p1);
    dR[3 * i + 2] += A(dr[i] * p2);
  }
}

}  // namespace kpm
}  // namespace rk
