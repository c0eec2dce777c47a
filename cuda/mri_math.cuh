// Per-element math of the MRI building blocks (cuda/mri.h), shared by the native (CPU) backend
// and the CUDA kernels: complex products, and the index maps between an image [N0, N1, N2] and
// the corner of its Toeplitz grid [G0, G1, G2] (G ≥ 2N − 1) (axes padded to 3 with leading 1s).
#pragma once
#include "rk_defs.h"

namespace rk {
namespace mrim {

// (ar + i·ai)·(br + i·bi)
template <typename T>
RK_HD RK_FORCEINLINE void cmul(T ar, T ai, T br, T bi, T& r, T& i) {
  r = ar * br - ai * bi;
  i = ar * bi + ai * br;
}

// conj(a)·b
template <typename T>
RK_HD RK_FORCEINLINE void cmulc(T ar, T ai, T br, T bi, T& r, T& i) {
  r = ar * br + ai * bi;
  i = ar * bi - ai * br;
}

// One coil-weighted pixel: scale·S·x, with S = (sr, si) or, without maps, 1 (has_map false).
template <typename T>
RK_HD RK_FORCEINLINE void expand_pixel(bool has_map, T sr, T si, T xr, T xi, T scale, T& r, T& i) {
  if (has_map) {
    cmul(sr, si, xr, xi, r, i);
    r *= scale;
    i *= scale;
  } else {
    r = scale * xr;
    i = scale * xi;
  }
}

// Σ_c conj(S[c, n])·z[b, c, n] for z [B, C, N] (S null: C = 1, the value itself), summed in T
// in coil order.
template <typename T>
RK_HD RK_FORCEINLINE void combine_pixel(const T* S, const T* z, index_t C, index_t N, index_t b, index_t n, T& sr, T& si) {
  sr = T(0);
  si = T(0);
  for (index_t c = 0; c < C; ++c) {
    const T* zz = z + 2 * ((b * C + c) * N + n);
    T r = zz[0], i = zz[1];
    if (S) cmulc(S[2 * (c * N + n)], S[2 * (c * N + n) + 1], zz[0], zz[1], r, i);
    sr += r;
    si += i;
  }
}

// Image and grid sizes padded to 3 axes (leading axes of size 1), in index type I (CUDA uses
// 32-bit indices within one grid).
template <typename I>
struct Geom3 {
  I N[3] = {1, 1, 1};
  I G[3] = {1, 1, 1};
  I nimg = 1, ngrid = 1;
};

// The image pixel n that grid cell gi holds after zero padding into the corner; false for padding.
template <typename I>
RK_HD RK_FORCEINLINE bool grid_to_image(const Geom3<I>& g, I gi, I& n) {
  const I g2 = gi % g.G[2], t = gi / g.G[2];
  const I g1 = t % g.G[1], g0 = t / g.G[1];
  if (g0 >= g.N[0] || g1 >= g.N[1] || g2 >= g.N[2]) return false;
  n = (g0 * g.N[1] + g1) * g.N[2] + g2;
  return true;
}

// The grid cell pixel n is cropped from (the inverse of grid_to_image on the corner).
template <typename I>
RK_HD RK_FORCEINLINE I image_to_grid(const Geom3<I>& g, I n) {
  const I n2 = n % g.N[2], t = n / g.N[2];
  const I n1 = t % g.N[1], n0 = t / g.N[1];
  return (n0 * g.G[1] + n1) * g.G[2] + n2;
}

}  // namespace mrim
}  // namespace rk
