// Per-voxel 3-D total-variation math, shared verbatim by the native (CPU) backend and the CUDA
// kernels so that CPU-only CI exercises the arithmetic the GPU runs.
//
// Conventions (volume x[d, h, w], one voxel at a time, "gather" formulation):
//  * Each function receives the voxel value and the neighbour values it needs. A neighbour that
//    lies outside the volume must be passed as the CLAMPED value (i.e. the voxel itself along that
//    axis): the corresponding difference is then 0, which is exactly right for the Squared and
//    L1 forms (no term, sign(0) = 0). The Isotropic form additionally takes corner-validity flags.
//  * The function returns the voxel's gradient (already multiplied by the caller's coefficient)
//    through `g`, and the loss terms of the differences / corner whose BASE is this voxel, so
//    every term is counted exactly once when summed over all voxels.
//  * Arithmetic is in T; callers accumulate the returned loss terms in double.
#pragma once
#include <math.h>

#include "rk_defs.h"

namespace rk {
namespace tvm {

// Note: GCC vectorises these only with -fno-math-errno (the errno branch blocks it).
RK_HD RK_FORCEINLINE float tv_sqrt(float v) { return sqrtf(v); }
RK_HD RK_FORCEINLINE double tv_sqrt(double v) { return sqrt(v); }

template <typename T>
RK_HD RK_FORCEINLINE T tv_abs(T v) {
  return v < T(0) ? -v : v;
}

// sign with sign(0) = 0 (and sign(NaN) = 0).
template <typename T>
RK_HD RK_FORCEINLINE T tv_sign(T v) {
  return T(v > T(0)) - T(v < T(0));
}

// Squared TV: loss = sum over axes of (x[i+1] - x[i])^2 over the full range of each axis.
//   g = two_scale * dLoss/dx   where dLoss/dx = 2 * sum_axes[(x - x_prev) - (x_next - x)];
//   pass two_scale = 2 * scale.  Returns (xdp-x)^2 + (xhp-x)^2 + (xwp-x)^2.
template <typename T>
RK_HD RK_FORCEINLINE T tv_sq_voxel(T x, T xdm, T xdp, T xhm, T xhp, T xwm, T xwp, T two_scale,
                                   T& g) {
  const T fd = xdp - x, fh = xhp - x, fw = xwp - x;  // forward differences (this voxel = base)
  const T bd = x - xdm, bh = x - xhm, bw = x - xwm;  // backward differences
  g = two_scale * (((bd - fd) + (bh - fh)) + (bw - fw));
  return (fd * fd + fh * fh) + fw * fw;
}

// L1 (anisotropic) TV: loss_a = sum |x[i+1] - x[i]| along axis a (a = d, h, w).
//   g = sd * dLd/dx + sh * dLh/dx + sw * dLw/dx, dLa/dx = sign(x - x_prev) - sign(x_next - x).
//   ld, lh, lw receive |forward difference| along d, h, w.
template <typename T>
RK_HD RK_FORCEINLINE void tv_l1_voxel(T x, T xdm, T xdp, T xhm, T xhp, T xwm, T xwp, T sd, T sh,
                                      T sw, T& g, T& ld, T& lh, T& lw) {
  const T fd = xdp - x, fh = xhp - x, fw = xwp - x;
  const T bd = x - xdm, bh = x - xhm, bw = x - xwm;
  g = (sd * (tv_sign(bd) - tv_sign(fd)) + sh * (tv_sign(bh) - tv_sign(fh))) +
      sw * (tv_sign(bw) - tv_sign(fw));
  ld = tv_abs(fd);
  lh = tv_abs(fh);
  lw = tv_abs(fw);
}

// Isotropic TV: for every corner c in [0,D-2]x[0,H-2]x[0,W-2],
//   n(c) = sqrt(dd^2 + dh^2 + dw^2 + eps), dd = x[c+ed]-x[c], dh = x[c+eh]-x[c], dw = x[c+ew]-x[c].
//
// The isotropic math is split in two shared pieces so that a caller may compute each corner ONCE
// and reuse it (the CPU backend buffers inverse norms per plane) or recompute it per voxel (the
// CUDA kernel, through tv_iso_voxel); both run exactly the same arithmetic:
//   tv_iso_corner  one corner: returns n(c) and writes inv = 1 / n(c);
//   tv_iso_gather  one voxel's gradient from the inverse norms of the four corners it touches.

// Corner with base value x and forward neighbours xd = x[c+ed], xh = x[c+eh], xw = x[c+ew].
template <typename T>
RK_HD RK_FORCEINLINE T tv_iso_corner(T x, T xd, T xh, T xw, T eps, T& inv) {
  const T a = xd - x, b = xh - x, c = xw - x;
  const T n = tv_sqrt(((a * a + b * b) + c * c) + eps);
  inv = T(1) / n;
  return n;
}

// A voxel v (value x) takes part in up to four corners: its own (v is the base, inverse norm i0),
// c = v-ed (v is its d neighbour, i1), c = v-eh (i2) and c = v-ew (i3). Flags tell which exist:
//   own: d<D-1 && h<H-1 && w<W-1      at_dm: d>0 && h<H-1 && w<W-1
//   at_hm: h>0 && d<D-1 && w<W-1      at_wm: w>0 && d<D-1 && h<H-1
// xdp/xhp/xwp: forward neighbours of v; xdm/xhm/xwm: backward neighbours (values of absent
// corners / out-of-range neighbours may be anything finite or not: they are selected away).
//   d n0 / d x = -(dd + dh + dw) / n0,  d n1 / d x = (x - xdm) / n1,  etc.
//   Returns gscale * dSum/dx (pass gscale = scale / number_of_corners for the mean).
template <typename T>
RK_HD RK_FORCEINLINE T tv_iso_gather(T x, T xdp, T xhp, T xwp, T xdm, T xhm, T xwm, T i0, T i1,
                                     T i2, T i3, bool own, bool at_dm, bool at_hm, bool at_wm,
                                     T gscale) {
  // multiply unconditionally, then select (lets compilers if-convert / vectorise)
  const T q0 = -(((xdp - x) + (xhp - x)) + (xwp - x)) * i0;
  const T q1 = (x - xdm) * i1, q2 = (x - xhm) * i2, q3 = (x - xwm) * i3;
  const T t0 = own ? q0 : T(0);
  const T t1 = at_dm ? q1 : T(0);
  const T t2 = at_hm ? q2 : T(0);
  const T t3 = at_wm ? q3 : T(0);
  return gscale * ((t0 + t1) + (t2 + t3));
}

// Per-voxel form (recomputes the four corners; used by the CUDA kernel).
// Neighbour naming: xdm_hp = x[d-1, h+1, w], xhm_wp = x[d, h-1, w+1], etc.; flags as above.
//   g = gscale * dSum/dx.  Returns n(own corner) if it exists, else 0.
template <typename T>
RK_HD RK_FORCEINLINE T tv_iso_voxel(T x, T xdp, T xhp, T xwp,        // own corner
                                    T xdm, T xdm_hp, T xdm_wp,       // corner at d-1
                                    T xhm, T xhm_dp, T xhm_wp,       // corner at h-1
                                    T xwm, T xwm_dp, T xwm_hp,       // corner at w-1
                                    bool own, bool at_dm, bool at_hm, bool at_wm, T eps, T gscale,
                                    T& g) {
  T i0, i1, i2, i3;
  const T n0 = tv_iso_corner(x, xdp, xhp, xwp, eps, i0);
  tv_iso_corner(xdm, x, xdm_hp, xdm_wp, eps, i1);  // corner at d-1: x is its d neighbour
  tv_iso_corner(xhm, xhm_dp, x, xhm_wp, eps, i2);  // corner at h-1: x is its h neighbour
  tv_iso_corner(xwm, xwm_dp, xwm_hp, x, eps, i3);  // corner at w-1: x is its w neighbour
  g = tv_iso_gather(x, xdp, xhp, xwp, xdm, xhm, xwm, i0, i1, i2, i3, own, at_dm, at_hm, at_wm,
                    gscale);
  return own ? n0 : T(0);
}

}  // namespace tvm
}  // namespace rk
