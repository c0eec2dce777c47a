// Per-element math of the parallel-beam Joseph projector and the TV pieces of tvMin, shared
// verbatim by the native (CPU) backend (native/tomo_cpu.cc) and the CUDA kernels
// (cuda/tomo_cuda.cu), so CPU-only CI exercises the arithmetic the GPU runs. Geometry: cuda/tomo.h.
//
// A ray (row r, angle, column u) steps over s (rows j when axis = 0, columns i when axis = 1); at
// step s it crosses the other ("across") axis at the canonical coordinate
//   f = a·u + (b0 + b1·s)
// and takes (1 − w)·img[floor(f)] + w·img[floor(f) + 1], w = f − floor(f), voxels outside the
// volume being 0. Forward and adjoint evaluate f with this one expression (coord()), so the
// adjoint applies the very same weights (it is the exact transpose up to summation order).
#pragma once
#include <math.h>

#include "rk_defs.h"

namespace rk {
namespace tomo {

RK_HD RK_FORCEINLINE float tfloor(float v) { return floorf(v); }
RK_HD RK_FORCEINLINE double tfloor(double v) { return floor(v); }
RK_HD RK_FORCEINLINE float tceil(float v) { return ceilf(v); }
RK_HD RK_FORCEINLINE double tceil(double v) { return ceil(v); }
RK_HD RK_FORCEINLINE float tsqrt(float v) { return sqrtf(v); }
RK_HD RK_FORCEINLINE double tsqrt(double v) { return sqrt(v); }

template <typename T>
struct Angle {
  int axis;  // 0: steps over rows j (across = columns i); 1: steps over columns i (across = rows j)
  T a, b0, b1, L;
};

template <typename T>
RK_HD RK_FORCEINLINE Angle<T> load_angle(const double* geom, index_t k) {
  const double* g = geom + 5 * k;
  Angle<T> an;
  an.axis = g[0] != 0.0 ? 1 : 0;
  an.a = T(g[1]);
  an.b0 = T(g[2]);
  an.b1 = T(g[3]);
  an.L = T(g[4]);
  return an;
}

// The canonical crossing coordinate; bs = b0 + b1·s (see bs_of), computed once per step.
template <typename T>
RK_HD RK_FORCEINLINE T bs_of(const Angle<T>& an, index_t s) {
  return an.b0 + an.b1 * T(s);
}
template <typename T>
RK_HD RK_FORCEINLINE T coord(const Angle<T>& an, index_t u, T bs) {
  return an.a * T(u) + bs;
}

// Clamped floor/ceil of a real bound to [lo, hi] as an index (NaN: an empty range).
template <typename T>
RK_HD RK_FORCEINLINE void index_range(T t1, T t2, index_t lo, index_t hi, index_t& i0, index_t& i1) {
  T mn = t1 < t2 ? t1 : t2, mx = t1 < t2 ? t2 : t1;
  mn = tfloor(mn) - T(1);
  mx = tceil(mx) + T(1);
  if (!(mn <= mx)) {
    i0 = 1;
    i1 = 0;
    return;
  }
  i0 = mn < T(lo) ? lo : (mn > T(hi) ? hi + 1 : static_cast<index_t>(mn));
  i1 = mx > T(hi) ? hi : (mx < T(lo) ? lo - 1 : static_cast<index_t>(mx));
}

// Steps s in [s0, s1] whose crossing f can touch the across axis, i.e. f in (−1, NC) (a
// conservative superset; the loops check every tap).
template <typename T>
RK_HD RK_FORCEINLINE void step_range(const Angle<T>& an, index_t u, index_t NS, index_t NC, index_t& s0, index_t& s1) {
  const T c = an.a * T(u) + an.b0;
  if (an.b1 == T(0)) {
    if (c > T(-1) && c < T(NC)) {
      s0 = 0;
      s1 = NS - 1;
    } else {
      s0 = 1;
      s1 = 0;
    }
    return;
  }
  index_range((T(-1) - c) / an.b1, (T(NC) - c) / an.b1, 0, NS - 1, s0, s1);
}

// Columns u whose crossing at step s (bs = bs_of(s)) lies in [c0 − 1, c1), i.e. may put a tap
// on the across indices [c0, c1). a is never 0 (|a| >= pixel/voxel > 0).
template <typename T>
RK_HD RK_FORCEINLINE void column_range(const Angle<T>& an, T bs, index_t c0, index_t c1, index_t U, index_t& u0, index_t& u1) {
  index_range((T(c0 - 1) - bs) / an.a, (T(c1) - bs) / an.a, 0, U - 1, u0, u1);
}

// Steps [t0, t1] (inside [s0, s1]) where the crossing lies in [0.5, NC − 1.5], so both taps are
// inside and floor(f) = trunc(f): the loops skip the checks there. May be empty.
template <typename T>
RK_HD RK_FORCEINLINE void interior_range(const Angle<T>& an, index_t u, index_t s0, index_t s1, index_t NC, index_t& t0, index_t& t1) {
  const T c = an.a * T(u) + an.b0;
  t0 = s1 + 1;
  t1 = s1;
  if (NC < 3) return;
  if (an.b1 == T(0)) {
    if (c >= T(0.5) && c <= T(NC) - T(1.5)) {
      t0 = s0;
      t1 = s1;
    }
    return;
  }
  const T e1 = (T(0.5) - c) / an.b1, e2 = (T(NC) - T(1.5) - c) / an.b1;
  const T mn = tceil(e1 < e2 ? e1 : e2) + T(1), mx = tfloor(e1 < e2 ? e2 : e1) - T(1);
  if (!(mn <= mx) || mx < T(s0) || mn > T(s1)) return;
  t0 = mn < T(s0) ? s0 : static_cast<index_t>(mn);
  t1 = mx > T(s1) ? s1 : static_cast<index_t>(mx);
}

// Columns [v0, v1] (inside [u0, u1]) whose crossing at step bs lies in [0.5, NC − 1.5]. May be empty.
template <typename T>
RK_HD RK_FORCEINLINE void interior_columns(const Angle<T>& an, T bs, index_t NC, index_t u0, index_t u1, index_t& v0, index_t& v1) {
  v0 = u1 + 1;
  v1 = u1;
  if (NC < 3) return;
  const T e1 = (T(0.5) - bs) / an.a, e2 = (T(NC) - T(1.5) - bs) / an.a;
  const T mn = tceil(e1 < e2 ? e1 : e2) + T(1), mx = tfloor(e1 < e2 ? e2 : e1) - T(1);
  if (!(mn <= mx) || mx < T(u0) || mn > T(u1)) return;
  v0 = mn < T(u0) ? u0 : static_cast<index_t>(mn);
  v1 = mx > T(u1) ? u1 : static_cast<index_t>(mx);
}

// Line integral through one slice: img [Y, X]; the ray's step and across strides come from axis.
template <typename T>
RK_HD RK_FORCEINLINE T ray_sum(const Angle<T>& an, index_t u, const T* img, index_t Y, index_t X) {
  const index_t NS = an.axis ? X : Y, NC = an.axis ? Y : X;
  const index_t ss = an.axis ? 1 : X, cs = an.axis ? X : 1;
  index_t s0, s1, t0, t1;
  step_range(an, u, NS, NC, s0, s1);
  interior_range(an, u, s0, s1, NC, t0, t1);
  T acc = T(0);
  for (index_t s = s0; s <= s1; ++s) {
    if (s == t0) {
      // interior: f >= 0.5, so floor(f) = trunc(f), and both taps are inside
      for (; s <= t1; ++s) {
        const T f = coord(an, u, bs_of(an, s));
        const index_t i0 = static_cast<index_t>(f);
        const T w = f - T(i0);
        const T* p = img + s * ss + i0 * cs;
        acc += (T(1) - w) * p[0] + w * p[cs];
      }
      if (s > s1) break;
    }
    const T f = coord(an, u, bs_of(an, s));
    const T fl = tfloor(f);
    const index_t i0 = static_cast<index_t>(fl);
    const T w = f - fl;
    const T* row = img + s * ss;
    if (i0 >= 0 && i0 < NC) acc += (T(1) - w) * row[i0 * cs];
    if (i0 + 1 >= 0 && i0 + 1 < NC) acc += w * row[(i0 + 1) * cs];
  }
  return acc * an.L;
}

// One voxel's share of one sinogram line (angle an, sino_line [U]): Σ_u weight(u) · line[u]
// over the rays whose taps include (j, i), times L. The gather form of the adjoint.
template <typename T>
RK_HD RK_FORCEINLINE T voxel_gather(const Angle<T>& an, index_t j, index_t i, const T* line, index_t U) {
  const index_t s = an.axis ? i : j, c = an.axis ? j : i;
  const T bs = bs_of(an, s);
  index_t u0, u1;
  column_range(an, bs, c, c + 1, U, u0, u1);
  T acc = T(0);
  for (index_t u = u0; u <= u1; ++u) {
    const T f = coord(an, u, bs);
    const T fl = tfloor(f);
    const index_t i0 = static_cast<index_t>(fl);
    const T w = f - fl;
    if (i0 == c) acc += (T(1) - w) * line[u];
    else if (i0 + 1 == c) acc += w * line[u];
  }
  return acc * an.L;
}

// Row tap table: detector row r reads slices z0 (weight w0) and z1 (weight w1); z < 0: none.
struct RowTaps {
  index_t z0, z1;
  double w0, w1;
};
RK_HD RK_FORCEINLINE RowTaps load_row(const double* geom, index_t A, index_t r) {
  const double* g = geom + 5 * A + 4 * r;
  RowTaps t;
  t.z0 = static_cast<index_t>(g[0]);
  t.w0 = g[1];
  t.z1 = static_cast<index_t>(g[2]);
  t.w1 = g[3];
  return t;
}

// ---- TV pieces (forward differences, 0 at the last index of each axis; no spacing) --------

// q ← proj(q + sigma·∇x) at voxel v = (z, y, x) of [Z, Y, X]; q holds three [Z, Y, X] planes.
template <typename T>
RK_HD RK_FORCEINLINE void tv_dual(const T* x, T* q, index_t Z, index_t Y, index_t X, index_t z, index_t y, index_t xi, T sigma, T lambda) {
  const index_t N = Z * Y * X, v = (z * Y + y) * X + xi;
  const T c = x[v];
  const T gz = z + 1 < Z ? x[v + Y * X] - c : T(0);
  const T gy = y + 1 < Y ? x[v + X] - c : T(0);
  const T gx = xi + 1 < X ? x[v + 1] - c : T(0);
  T qz = q[v] + sigma * gz, qy = q[N + v] + sigma * gy, qx = q[2 * N + v] + sigma * gx;
  const T n = tsqrt(qz * qz + qy * qy + qx * qx);
  if (n > lambda) {
    const T sc = n > T(0) ? lambda / n : T(0);
    qz *= sc;
    qy *= sc;
    qx *= sc;
  }
  q[v] = qz;
  q[N + v] = qy;
  q[2 * N + v] = qx;
}

// (∇ᵀq)[v] = Σ_axes (q_a[v − e_a] if v_a > 0) − (q_a[v] if v_a < n_a − 1).
template <typename T>
RK_HD RK_FORCEINLINE T tv_gradT(const T* q, index_t Z, index_t Y, index_t X, index_t z, index_t y, index_t xi) {
  const index_t N = Z * Y * X, v = (z * Y + y) * X + xi;
  T r = T(0);
  if (z > 0) r += q[v - Y * X];
  if (z + 1 < Z) r -= q[v];
  if (y > 0) r += q[N + v - X];
  if (y + 1 < Y) r -= q[N + v];
  if (xi > 0) r += q[2 * N + v - 1];
  if (xi + 1 < X) r -= q[2 * N + v];
  return r;
}

}  // namespace tomo
}  // namespace rk
