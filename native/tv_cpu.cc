// Native (CPU) 3-D total variation: fused loss + gradient, multi-threaded, deterministic.
// Per-voxel math comes from cuda/tv_math.cuh (shared with the CUDA kernels).
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "parallel_for.h"
#include "tv.h"
#include "tv_math.cuh"

namespace rk {
namespace {

constexpr int kLanes = 8;                 // independent double accumulators per row (vectorisable)
constexpr index_t kVoxelsPerBlock = 1 << 16;  // work unit; fixed => results independent of threads

template <typename T>
struct Coef {
  T a, b, c, eps;
};

// One voxel of row (d, h) at column w, neighbours wm / wp already clamped. Row pointers are the
// clamped neighbour rows. lo receives the loss terms (1 or 3).
template <typename T, int KIND>
RK_FORCEINLINE T tv_vox(const T* __restrict__ r, const T* __restrict__ rhm,
                        const T* __restrict__ rhp, const T* __restrict__ rdm,
                        const T* __restrict__ rdp, const T* __restrict__ rdm_hp,
                        const T* __restrict__ rdp_hm, index_t w, index_t wm, index_t wp,
                        bool dm_ok, bool dp_ok, bool hm_ok, bool hp_ok, bool wm_ok, bool wp_ok,
                        const Coef<T>& cf, T* lo) {
  T g;
  if constexpr (KIND == int(TvKind::Squared)) {
    lo[0] = tvm::tv_sq_voxel(r[w], rdm[w], rdp[w], rhm[w], rhp[w], r[wm], r[wp], cf.a, g);
  } else if constexpr (KIND == int(TvKind::L1)) {
    tvm::tv_l1_voxel(r[w], rdm[w], rdp[w], rhm[w], rhp[w], r[wm], r[wp], cf.a, cf.b, cf.c, g,
                     lo[0], lo[1], lo[2]);
  } else {
    static_assert(KIND == int(TvKind::L1), "Isotropic has its own path (tv_iso_run)");
  }
  return g;
}

template <typename T, int KIND, bool WL, bool WG>
void tv_row(const T* __restrict__ r, const T* __restrict__ rhm, const T* __restrict__ rhp,
            const T* __restrict__ rdm, const T* __restrict__ rdp, const T* __restrict__ rdm_hp,
            const T* __restrict__ rdp_hm, T* __restrict__ gr, index_t W, bool dm_ok, bool dp_ok,
            bool hm_ok, bool hp_ok, const Coef<T>& cf, double* __restrict__ acc) {
  constexpr int NL = KIND == int(TvKind::L1) ? 3 : 1;
  T lo[NL];
  // edge voxel (w = 0 and w = W-1): checked path
  auto edge = [&](index_t w) {
    const bool wm_ok = w > 0, wp_ok = w < W - 1;
    const T g = tv_vox<T, KIND>(r, rhm, rhp, rdm, rdp, rdm_hp, rdp_hm, w, wm_ok ? w - 1 : w,
                                wp_ok ? w + 1 : w, dm_ok, dp_ok, hm_ok, hp_ok, wm_ok, wp_ok, cf,
                                lo);
    if constexpr (WG) gr[w] = g;
    if constexpr (WL)
      for (int k = 0; k < NL; ++k) acc[k] += double(lo[k]);
  };
  edge(0);
  if (W == 1) return;
  // interior: no w checks, kLanes double accumulators per loss component
  double lane[NL][kLanes];
  for (int k = 0; k < NL; ++k)
    for (int l = 0; l < kLanes; ++l) lane[k][l] = 0.0;
  index_t w = 1;
  const index_t wend = W - 1;
  for (; w + kLanes <= wend; w += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      T ll[NL];
      const index_t x = w + l;
      const T g = tv_vox<T, KIND>(r, rhm, rhp, rdm, rdp, rdm_hp, rdp_hm, x, x - 1, x + 1, dm_ok,
                                  dp_ok, hm_ok, hp_ok, true, true, cf, ll);
      if constexpr (WG) gr[x] = g;
      if constexpr (WL)
        for (int k = 0; k < NL; ++k) lane[k][l] += double(ll[k]);
    }
  }
  for (; w < wend; ++w) {
    T ll[NL];
    const T g = tv_vox<T, KIND>(r, rhm, rhp, rdm, rdp, rdm_hp, rdp_hm, w, w - 1, w + 1, dm_ok,
                                dp_ok, hm_ok, hp_ok, true, true, cf, ll);
    if constexpr (WG) gr[w] = g;
    if constexpr (WL)
      for (int k = 0; k < NL; ++k) lane[k][0] += double(ll[k]);
  }
  if constexpr (WL)
    for (int k = 0; k < NL; ++k) {
      double s = 0.0;
      for (int l = 0; l < kLanes; ++l) s += lane[k][l];
      acc[k] += s;
    }
  edge(W - 1);
}

template <typename T, int KIND, bool WL, bool WG>
void tv_run(const TvProblem& p, const T* x, T* g, const Coef<T>& cf, double* loss, int threads) {
  constexpr int NL = KIND == int(TvKind::L1) ? 3 : 1;
  const index_t D = p.D, H = p.H, W = p.W, HW = H * W;
  const index_t rows = p.batch * D * H;
  const index_t rows_per_block = std::max<index_t>(1, kVoxelsPerBlock / W);
  const index_t nblocks = (rows + rows_per_block - 1) / rows_per_block;
  std::vector<double> partial(WL ? static_cast<size_t>(nblocks * NL) : 0, 0.0);
  parallel_for(
      nblocks, threads,
      [&](index_t b0, index_t b1, int) {
        for (index_t blk = b0; blk < b1; ++blk) {
          double acc[NL];
          for (int k = 0; k < NL; ++k) acc[k] = 0.0;
          const index_t r0 = blk * rows_per_block, r1 = std::min(rows, r0 + rows_per_block);
          index_t plane = r0 / H, h = r0 - plane * H, d = plane % D;
          for (index_t row = r0; row < r1; ++row) {
            const T* P = x + plane * HW;
            const bool dm_ok = d > 0, dp_ok = d < D - 1, hm_ok = h > 0, hp_ok = h < H - 1;
            const T* Pm = dm_ok ? P - HW : P;
            const T* Pp = dp_ok ? P + HW : P;
            const index_t hm = hm_ok ? h - 1 : h, hp = hp_ok ? h + 1 : h;
            tv_row<T, KIND, WL, WG>(P + h * W, P + hm * W, P + hp * W, Pm + h * W, Pp + h * W,
                                    Pm + hp * W, Pp + hm * W,
                                    WG ? g + plane * HW + h * W : nullptr, W, dm_ok, dp_ok,
                                    hm_ok, hp_ok, cf, acc);
            if (++h == H) {
              h = 0;
              ++plane;
              if (++d == D) d = 0;
            }
          }
          if constexpr (WL)
            for (int k = 0; k < NL; ++k) partial[static_cast<size_t>(blk * NL + k)] = acc[k];
        }
      },
      /*grain=*/1);
  if constexpr (WL) {
    for (int k = 0; k < NL; ++k) loss[k] = 0.0;
    for (index_t blk = 0; blk < nblocks; ++blk)  // fixed order
      for (int k = 0; k < NL; ++k) loss[k] += partial[static_cast<size_t>(blk * NL + k)];
  }
}

// ---------------------------------------------------------------- isotropic (corner-buffered)
// Each corner is computed once (tv_iso_corner: 1 sqrt + 1 division) and its inverse norm kept in
// a per-thread plane buffer; every voxel then gathers its gradient (tv_iso_gather) from the four
// buffered corners (d,h,w), (d-1,h,w), (d,h-1,w), (d,h,w-1). No scatter, no races.
//
// Rows are (plane, h) in global order R = (b*D + d)*H + h. The loss of the corners based on row R
// goes to partial[R] (a fixed lane-wise sum over w) and the rows are added in order at the end, so
// the result does not depend on how rows are split among threads.
//
// Buffer: one plane of H row slots + 1 spare row, through a row-pointer table rp. While row
// (d, h) is processed, rp[0..h-1] hold corner rows of plane d and rp[h..H-2] those of plane d-1:
// the new corner row h is computed into the spare slot, the voxel row gathers from spare (own and
// w-1), rp[h] (d-1) and rp[h-1] (h-1), then spare and rp[h] swap.

// Each corner must come out bitwise the same wherever it is computed (start-up rows of a chunk,
// loss-only pass, fused pass): GCC contracts a*b+c into FMAs by default in C++ (-ffp-contract=fast)
// and may do so differently in vector and scalar copies of a loop, so these functions opt out.
#if defined(__GNUC__) && !defined(__clang__)
#define RK_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define RK_NO_CONTRACT  // clang: contraction stays within one expression (-ffp-contract=on)
#endif

// Inverse norms of the corners based on row (d, h) (x rows r = (d,h), rd = (d+1,h), rh = (d,h+1)),
// w in [0, W-2]. Returns their sum of norms (in a fixed order) when WL.
template <typename T, bool WI, bool WL>
RK_NO_CONTRACT double iso_corner_row(const T* __restrict__ r, const T* __restrict__ rd,
                      const T* __restrict__ rh, T* __restrict__ inv, index_t W, T eps) {
  const index_t nc = W - 1;
  double lane[kLanes];
  for (int l = 0; l < kLanes; ++l) lane[l] = 0.0;
  index_t w = 0;
  for (; w + kLanes <= nc; w += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      T iv;
      const T n = tvm::tv_iso_corner(r[w + l], rd[w + l], rh[w + l], r[w + l + 1], eps, iv);
      if constexpr (WI) inv[w + l] = iv;
      if constexpr (WL) lane[l] += double(n);
    }
  }
  for (; w < nc; ++w) {
    T iv;
    const T n = tvm::tv_iso_corner(r[w], rd[w], rh[w], r[w + 1], eps, iv);
    if constexpr (WI) inv[w] = iv;
    if constexpr (WL) lane[0] += double(n);
  }
  double s = 0.0;
  if constexpr (WL)
    for (int l = 0; l < kLanes; ++l) s += lane[l];
  return s;
}

// Gradient of voxel row (d, h). i0: corners of (d,h) (also w-1), i1: (d-1,h), i2: (d,h-1).
// Row flags: own_r = d<D-1 && h<H-1, dm_r = d>0 && h<H-1, hm_r = h>0 && d<D-1 (wm_r = own_r).
// Pointers of absent rows must still be valid (their values are selected away).
template <typename T>
RK_NO_CONTRACT void iso_gather_row(const T* __restrict__ r, const T* __restrict__ rdp, const T* __restrict__ rhp,
                    const T* __restrict__ rdm, const T* __restrict__ rhm,
                    const T* __restrict__ i0, const T* __restrict__ i1,
                    const T* __restrict__ i2, T* __restrict__ g, index_t W, bool own_r,
                    bool dm_r, bool hm_r, T gscale) {
  auto edge = [&](index_t w) {
    const bool wp_ok = w < W - 1, wm_ok = w > 0;
    const index_t wp = wp_ok ? w + 1 : w, wm = wm_ok ? w - 1 : w;
    g[w] = tvm::tv_iso_gather(r[w], rdp[w], rhp[w], r[wp], rdm[w], rhm[w], r[wm], i0[w], i1[w],
                              i2[w], i0[wm], own_r & wp_ok, dm_r & wp_ok, hm_r & wp_ok,
                              own_r & wm_ok, gscale);
  };
  edge(0);
  if (W == 1) return;
  if (own_r & dm_r & hm_r) {  // interior row (the common case): constant flags, vectorises
    for (index_t w = 1; w < W - 1; ++w)
      g[w] = tvm::tv_iso_gather(r[w], rdp[w], rhp[w], r[w + 1], rdm[w], rhm[w], r[w - 1], i0[w],
                                i1[w], i2[w], i0[w - 1], true, true, true, true, gscale);
  } else {
    for (index_t w = 1; w < W - 1; ++w)
      g[w] = tvm::tv_iso_gather(r[w], rdp[w], rhp[w], r[w + 1], rdm[w], rhm[w], r[w - 1], i0[w],
                                i1[w], i2[w], i0[w - 1], own_r, dm_r, hm_r, own_r, gscale);
  }
  edge(W - 1);
}

template <typename T, bool WL, bool WG>
void tv_iso_run(const TvProblem& p, const T* x, T* g, T eps, T gscale, double* loss,
                int threads) {
  const index_t D = p.D, H = p.H, W = p.W, HW = H * W;  // D, H, W >= 2 here
  const index_t rows = p.batch * D * H;
  std::vector<double> partial(WL ? static_cast<size_t>(rows) : 0, 0.0);
  const index_t grain = std::max<index_t>(1, kVoxelsPerBlock / W);
  parallel_for(
      rows, threads,
      [&](index_t r0, index_t r1, int) {
        if constexpr (!WG) {  // loss only: no buffers
          for (index_t R = r0; R < r1; ++R) {
            const index_t pl = R / H, h = R - pl * H, d = pl % D;
            if (d == D - 1 || h == H - 1) continue;  // partial[R] stays 0
            const T* r = x + pl * HW + h * W;
            partial[static_cast<size_t>(R)] =
                iso_corner_row<T, false, true>(r, r + HW, r + W, nullptr, W, eps);
          }
          return;
        }
        std::vector<T> pool(static_cast<size_t>((H + 1) * W), T(0));
        std::vector<T*> rp(static_cast<size_t>(H));
        for (index_t h = 0; h < H; ++h) rp[static_cast<size_t>(h)] = pool.data() + h * W;
        T* spare = pool.data() + H * W;
        // start-up: rows [0, h0) of plane pl0 and rows [h0, H-2] of plane pl0 - 1 (no loss)
        {
          const index_t pl0 = r0 / H, h0 = r0 - pl0 * H, d0 = pl0 % D;
          for (index_t h = 0; h < H - 1; ++h) {
            const index_t pl = h < h0 ? pl0 : pl0 - 1, d = h < h0 ? d0 : d0 - 1;
            if (d < 0 || d >= D - 1) continue;
            const T* r = x + pl * HW + h * W;
            iso_corner_row<T, true, false>(r, r + HW, r + W, rp[static_cast<size_t>(h)], W, eps);
          }
        }
        for (index_t R = r0; R < r1; ++R) {
          const index_t pl = R / H, h = R - pl * H, d = pl % D;
          const bool own_r = d < D - 1 && h < H - 1;
          const bool dm_r = d > 0 && h < H - 1, hm_r = h > 0 && d < D - 1;
          const T* r = x + pl * HW + h * W;
          if (own_r) {
            const double s = iso_corner_row<T, true, WL>(r, r + HW, r + W, spare, W, eps);
            if constexpr (WL) partial[static_cast<size_t>(R)] = s;
          }
          T* prow = rp[static_cast<size_t>(h)];
          iso_gather_row<T>(r, d < D - 1 ? r + HW : r, h < H - 1 ? r + W : r, d > 0 ? r - HW : r,
                            h > 0 ? r - W : r, spare, prow,
                            h > 0 ? rp[static_cast<size_t>(h - 1)] : spare, g + pl * HW + h * W,
                            W, own_r, dm_r, hm_r, gscale);
          if (own_r) {
            rp[static_cast<size_t>(h)] = spare;
            spare = prow;
          }
        }
      },
      grain);
  if constexpr (WL) {
    double s = 0.0;
    for (index_t R = 0; R < rows; ++R) s += partial[static_cast<size_t>(R)];  // fixed order
    loss[0] = s;
  }
}

template <typename T>
void tv_iso_dispatch(const TvProblem& p, const T* x, T* g, T eps, T gscale, double* loss,
                     int threads) {
  if (p.want_loss && p.want_grad)
    tv_iso_run<T, true, true>(p, x, g, eps, gscale, loss, threads);
  else if (p.want_loss)
    tv_iso_run<T, true, false>(p, x, g, eps, gscale, loss, threads);
  else
    tv_iso_run<T, false, true>(p, x, g, eps, gscale, loss, threads);
}

template <typename T, int KIND>
void tv_dispatch_flags(const TvProblem& p, const T* x, T* g, const Coef<T>& cf, double* loss,
                       int threads) {
  if (p.want_loss && p.want_grad)
    tv_run<T, KIND, true, true>(p, x, g, cf, loss, threads);
  else if (p.want_loss)
    tv_run<T, KIND, true, false>(p, x, g, cf, loss, threads);
  else
    tv_run<T, KIND, false, true>(p, x, g, cf, loss, threads);
}

}  // namespace

template <typename T>
void tv3d_cpu(const TvProblem& p, const T* vol, T* grad, double* loss_out, int threads) {
  if (p.batch < 0 || p.D < 0 || p.H < 0 || p.W < 0)
    throw std::invalid_argument("tv3d_cpu: negative dimension");
  if (p.want_grad && !grad) throw std::invalid_argument("tv3d_cpu: grad is null");
  if (p.want_loss && !loss_out) throw std::invalid_argument("tv3d_cpu: loss_out is null");
  const int nl = p.kind == TvKind::L1 ? 3 : 1;
  if (p.kind != TvKind::Squared && p.kind != TvKind::Isotropic && p.kind != TvKind::L1)
    throw std::invalid_argument("tv3d_cpu: unknown kind");
  if (p.want_loss)
    for (int k = 0; k < nl; ++k) loss_out[k] = 0.0;
  if (!p.want_loss && !p.want_grad) return;
  const index_t total = p.batch * p.D * p.H * p.W;
  if (total == 0) return;
  if (!vol) throw std::invalid_argument("tv3d_cpu: vol is null");

  Coef<T> cf{};
  double corners = 1.0;
  switch (p.kind) {
    case TvKind::Squared:
      cf.a = T(2.0 * p.scale[0]);
      break;
    case TvKind::L1:
      cf.a = T(p.scale[0]);
      cf.b = T(p.scale[1]);
      cf.c = T(p.scale[2]);
      break;
    case TvKind::Isotropic: {
      corners = double(p.batch) * double(p.D - 1) * double(p.H - 1) * double(p.W - 1);
      if (corners == 0.0) {  // a singleton axis: loss 0, gradient 0
        if (p.want_grad)
          parallel_for(
              total, threads,
              [&](index_t b, index_t e, int) { std::memset(grad + b, 0, sizeof(T) * (e - b)); },
              1 << 18);
        return;
      }
      cf.a = T(p.scale[0] / corners);
      cf.eps = T(p.eps);
      break;
    }
  }
  switch (p.kind) {
    case TvKind::Squared:
      tv_dispatch_flags<T, int(TvKind::Squared)>(p, vol, grad, cf, loss_out, threads);
      break;
    case TvKind::Isotropic:
      tv_iso_dispatch<T>(p, vol, grad, cf.eps, cf.a, loss_out, threads);
      if (p.want_loss) loss_out[0] /= corners;
      break;
    case TvKind::L1:
      tv_dispatch_flags<T, int(TvKind::L1)>(p, vol, grad, cf, loss_out, threads);
      break;
  }
}

template void tv3d_cpu<float>(const TvProblem&, const float*, float*, double*, int);
template void tv3d_cpu<double>(const TvProblem&, const double*, double*, double*, int);

}  // namespace rk
