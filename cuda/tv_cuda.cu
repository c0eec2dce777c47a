// CUDA 3-D total variation: one fused pass computing the gradient (every voxel written once) and
// the loss (per-block double partials, reduced deterministically by a second kernel).
//
// Mapping: block = BX x BY threads over (w, h) of one plane; each thread marches kDZ consecutive
// d-planes at fixed (h, w), carrying the d-1 / d / d+1 values in registers, so per voxel it loads
// 5 (Squared, L1) or 7 (Isotropic) values, all neighbours of its own voxel (coalesced along W,
// served by L1/L2). grid = (ceil(W/BX), ceil(H/BY), batch*ceil(D/kDZ)), grid-stride on y and z.
// Per-voxel math: tv_math.cuh (shared with the CPU backend).
#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "cuda_check.h"
#include "tv.h"
#include "tv_math.cuh"

namespace rk {
namespace {

constexpr int kThreads = 256;
constexpr int kDZ = 8;         // planes per thread
constexpr int kMaxGridYZ = 65535;
constexpr int kFinalThreads = 1024;
constexpr int kMinBlocks = 4;  // float: <= 64 registers (>= 1024 resident threads / SM); double: 3

struct TvGeom {
  index_t D, H, W, HW;
  index_t nDC;  // ceil(D / kDZ)
  index_t nZ;   // batch * nDC
  index_t nHT;  // ceil(H / BY)
};

template <typename T>
struct TvCoef {
  T a, b, c, eps;
};

template <typename T>
__device__ __forceinline__ T ldg(const T* p) {
  return __ldg(p);
}

__device__ __forceinline__ void divmod(index_t a, index_t b, index_t& q, index_t& r) {
  if (((a | b) >> 32) == 0) {  // 32-bit fast path
    const unsigned ua = static_cast<unsigned>(a), ub = static_cast<unsigned>(b);
    const unsigned uq = ua / ub;
    q = uq;
    r = ua - uq * ub;
  } else {
    q = a / b;
    r = a - q * b;
  }
}

// Block-wide sum of NL doubles in a fixed order; thread 0 of the block gets the result in out[].
template <int NL>
__device__ __forceinline__ void block_sum(double (&v)[NL], double* out) {
  __shared__ double sh[NL][32];
  const int tid = threadIdx.x + threadIdx.y * blockDim.x;
  const int nthreads = blockDim.x * blockDim.y;
  const int lane = tid & 31, warp = tid >> 5, nwarps = (nthreads + 31) >> 5;
#pragma unroll
  for (int k = 0; k < NL; ++k) {
    double s = v[k];
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) sh[k][warp] = s;
  }
  __syncthreads();
  if (warp == 0) {
#pragma unroll
    for (int k = 0; k < NL; ++k) {
      double s = lane < nwarps ? sh[k][lane] : 0.0;
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
      if (lane == 0) out[k] = s;
    }
  }
}

template <typename T, int KIND, bool WL, bool WG>
__global__ void __launch_bounds__(kThreads, (sizeof(T) == 4 ? kMinBlocks : kMinBlocks - 1))
    tv3d_kernel(const T* __restrict__ x, T* __restrict__ g, double* __restrict__ partial,
                const TvGeom geo, const TvCoef<T> cf) {
  constexpr bool ISO = KIND == int(TvKind::Isotropic);
  constexpr int NL = KIND == int(TvKind::L1) ? 3 : 1;
  const index_t D = geo.D, H = geo.H, W = geo.W, HW = geo.HW;
  double acc[NL];
#pragma unroll
  for (int k = 0; k < NL; ++k) acc[k] = 0.0;

  const index_t w = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (w < W) {
    const bool wm_ok = w > 0, wp_ok = w < W - 1;
    const index_t wm = wm_ok ? w - 1 : w, wp = wp_ok ? w + 1 : w;
    for (index_t ht = blockIdx.y; ht < geo.nHT; ht += gridDim.y) {
      const index_t h = ht * blockDim.y + threadIdx.y;
      if (h >= H) continue;
      const bool hm_ok = h > 0, hp_ok = h < H - 1;
      const index_t hm = hm_ok ? h - 1 : h, hp = hp_ok ? h + 1 : h;
      // in-plane offsets
      const index_t oc = h * W + w, ohm = hm * W + w, ohp = hp * W + w;
      const index_t owm = h * W + wm, owp = h * W + wp;
      const index_t ohm_wp = hm * W + wp, ohp_wm = hp * W + wm;
      for (index_t z = blockIdx.z; z < geo.nZ; z += gridDim.z) {
        index_t b, dc;
        divmod(z, geo.nDC, b, dc);
        const index_t d0 = dc * kDZ;
        const index_t d1 = min(d0 + static_cast<index_t>(kDZ), D);
        const T* pl = x + (b * D + d0) * HW;          // plane d
        const T* plm = d0 > 0 ? pl - HW : pl;         // plane d-1 (clamped)
        T c0 = ldg(pl + oc), c_dm = ldg(plm + oc);
        T c_hm = T(0), c_wm = T(0), c_dm_hp = T(0), c_dm_wp = T(0);
        if constexpr (ISO) {
          c_hm = ldg(pl + ohm);
          c_wm = ldg(pl + owm);
          c_dm_hp = ldg(plm + ohp);
          c_dm_wp = ldg(plm + owp);
        }
        for (index_t d = d0; d < d1; ++d) {
          const bool dm_ok = d > 0, dp_ok = d < D - 1;
          const T* pp = dp_ok ? pl + HW : pl;  // plane d+1 (clamped)
          const T c_hp = ldg(pl + ohp), c_wp = ldg(pl + owp);
          const T n0 = ldg(pp + oc);
          T gv;
          if constexpr (KIND == int(TvKind::Squared)) {
            c_hm = ldg(pl + ohm);
            c_wm = ldg(pl + owm);
            const T l = tvm::tv_sq_voxel(c0, c_dm, n0, c_hm, c_hp, c_wm, c_wp, cf.a, gv);
            if constexpr (WL) acc[0] += double(l);
          } else if constexpr (KIND == int(TvKind::L1)) {
            c_hm = ldg(pl + ohm);
            c_wm = ldg(pl + owm);
            T ld, lh, lw;
            tvm::tv_l1_voxel(c0, c_dm, n0, c_hm, c_hp, c_wm, c_wp, cf.a, cf.b, cf.c, gv, ld, lh,
                             lw);
            if constexpr (WL) {
              acc[0] += double(ld);
              acc[1] += double(lh);
              acc[2] += double(lw);
            }
          } else {
            const T c_hm_wp = ldg(pl + ohm_wp), c_hp_wm = ldg(pl + ohp_wm);
            const T n_hm = ldg(pp + ohm), n_wm = ldg(pp + owm);
            const bool own = dp_ok & hp_ok & wp_ok;
            const bool at_dm = dm_ok & hp_ok & wp_ok;
            const bool at_hm = hm_ok & dp_ok & wp_ok;
            const bool at_wm = wm_ok & dp_ok & hp_ok;
            const T l = tvm::tv_iso_voxel(c0, n0, c_hp, c_wp,        //
                                          c_dm, c_dm_hp, c_dm_wp,    //
                                          c_hm, n_hm, c_hm_wp,       //
                                          c_wm, n_wm, c_hp_wm,       //
                                          own, at_dm, at_hm, at_wm, cf.eps, cf.a, gv);
            if constexpr (WL) acc[0] += double(l);
            // shift the iso-only carried values
            c_dm_hp = c_hp;
            c_dm_wp = c_wp;
            c_hm = n_hm;
            c_wm = n_wm;
          }
          if constexpr (WG) g[(pl - x) + oc] = gv;
          c_dm = c0;
          c0 = n0;
          pl = pp;
        }
      }
    }
  }
  if constexpr (WL) {
    const index_t blk =
        blockIdx.x + static_cast<index_t>(gridDim.x) *
                         (blockIdx.y + static_cast<index_t>(gridDim.y) * blockIdx.z);
    double tot[NL];
    block_sum<NL>(acc, tot);
    if (threadIdx.x == 0 && threadIdx.y == 0)
#pragma unroll
      for (int k = 0; k < NL; ++k) partial[blk * NL + k] = tot[k];
  }
}

// Deterministic final reduction of nblk partials (NL components each) into out[0..NL).
template <int NL>
__global__ void __launch_bounds__(kFinalThreads)
    reduce_partials(const double* __restrict__ partial, index_t nblk, double* __restrict__ out) {
  double v[NL];
#pragma unroll
  for (int k = 0; k < NL; ++k) v[k] = 0.0;
  for (index_t i = threadIdx.x; i < nblk; i += blockDim.x)
#pragma unroll
    for (int k = 0; k < NL; ++k) v[k] += partial[i * NL + k];
  double tot[NL];
  block_sum<NL>(v, tot);
  if (threadIdx.x == 0)
#pragma unroll
    for (int k = 0; k < NL; ++k) out[k] = tot[k];
}

// Frees scratch / destroys events on every exit path (errors ignored during cleanup).
struct Scratch {
  cudaStream_t s = nullptr;
  double* buf = nullptr;
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  ~Scratch() {
    if (buf) cudaFreeAsync(buf, s);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
  }
};

template <typename T, int KIND, bool WL, bool WG>
void launch_tv(dim3 grid, dim3 block, cudaStream_t s, const T* x, T* g, double* partial,
               const TvGeom& geo, const TvCoef<T>& cf) {
  tv3d_kernel<T, KIND, WL, WG><<<grid, block, 0, s>>>(x, g, partial, geo, cf);
  RK_CUDA_CHECK_LAUNCH();
}

template <typename T, int KIND>
void launch_tv_flags(bool wl, bool wg, dim3 grid, dim3 block, cudaStream_t s, const T* x, T* g,
                     double* partial, const TvGeom& geo, const TvCoef<T>& cf) {
  if (wl && wg)
    launch_tv<T, KIND, true, true>(grid, block, s, x, g, partial, geo, cf);
  else if (wl)
    launch_tv<T, KIND, true, false>(grid, block, s, x, g, partial, geo, cf);
  else
    launch_tv<T, KIND, false, true>(grid, block, s, x, g, partial, geo, cf);
}

}  // namespace

template <typename T>
void tv3d_cuda(const TvProblem& p, const T* vol, T* grad, double* loss_out, void* stream,
               float* device_ms) {
  if (p.batch < 0 || p.D < 0 || p.H < 0 || p.W < 0)
    throw std::invalid_argument("tv3d_cuda: negative dimension");
  if (p.kind != TvKind::Squared && p.kind != TvKind::Isotropic && p.kind != TvKind::L1)
    throw std::invalid_argument("tv3d_cuda: unknown kind");
  if (p.want_grad && !grad) throw std::invalid_argument("tv3d_cuda: grad is null");
  if (p.want_loss && !loss_out) throw std::invalid_argument("tv3d_cuda: loss_out is null");
  const int nl = p.kind == TvKind::L1 ? 3 : 1;
  if (p.want_loss)
    for (int k = 0; k < nl; ++k) loss_out[k] = 0.0;
  if (device_ms) *device_ms = 0.f;
  const index_t total = p.batch * p.D * p.H * p.W;
  if ((!p.want_loss && !p.want_grad) || total == 0) return;
  if (!vol) throw std::invalid_argument("tv3d_cuda: vol is null");

  Scratch sc;
  sc.s = static_cast<cudaStream_t>(stream);
  cudaStream_t s = sc.s;
  if (device_ms) {
    RK_CUDA_TRY(cudaEventCreate(&sc.e0));
    RK_CUDA_TRY(cudaEventCreate(&sc.e1));
    RK_CUDA_TRY(cudaEventRecord(sc.e0, s));
  }

  double corners = 1.0;
  TvCoef<T> cf{};
  bool zero_grad_only = false;
  switch (p.kind) {
    case TvKind::Squared: cf.a = T(2.0 * p.scale[0]); break;
    case TvKind::L1:
      cf.a = T(p.scale[0]);
      cf.b = T(p.scale[1]);
      cf.c = T(p.scale[2]);
      break;
    case TvKind::Isotropic:
      corners = double(p.batch) * double(p.D - 1) * double(p.H - 1) * double(p.W - 1);
      if (corners == 0.0) zero_grad_only = true;  // singleton axis: loss 0, gradient 0
      else cf.a = T(p.scale[0] / corners);
      cf.eps = T(p.eps);
      break;
  }

  if (zero_grad_only) {
    if (p.want_grad) RK_CUDA_TRY(cudaMemsetAsync(grad, 0, sizeof(T) * total, s));
  } else {
    TvGeom geo;
    geo.D = p.D;
    geo.H = p.H;
    geo.W = p.W;
    geo.HW = p.H * p.W;
    int bx = 32, by = kThreads / 32;
    if (p.W <= 16) {
      bx = 16;
      by = kThreads / 16;
    } else if (p.H <= 2 && p.W >= 128) {
      bx = 128;
      by = 2;
    }
    geo.nDC = (p.D + kDZ - 1) / kDZ;
    geo.nZ = p.batch * geo.nDC;
    geo.nHT = (p.H + by - 1) / by;
    const index_t gx = (p.W + bx - 1) / bx;
    if (gx > 0x7fffffff) throw std::invalid_argument("tv3d_cuda: W too large");
    dim3 grid(static_cast<unsigned>(gx),
              static_cast<unsigned>(std::min<index_t>(geo.nHT, kMaxGridYZ)),
              static_cast<unsigned>(std::min<index_t>(geo.nZ, kMaxGridYZ)));
    dim3 block(bx, by, 1);
    const index_t nblk = index_t(grid.x) * grid.y * grid.z;
    double* partial = nullptr;
    double* result = nullptr;
    if (p.want_loss) {
      RK_CUDA_TRY(cudaMallocAsync(reinterpret_cast<void**>(&sc.buf),
                                  sizeof(double) * (nblk * nl + nl), s));
      partial = sc.buf;
      result = sc.buf + nblk * nl;
    }
    switch (p.kind) {
      case TvKind::Squared:
        launch_tv_flags<T, int(TvKind::Squared)>(p.want_loss, p.want_grad, grid, block, s, vol,
                                                 grad, partial, geo, cf);
        break;
      case TvKind::Isotropic:
        launch_tv_flags<T, int(TvKind::Isotropic)>(p.want_loss, p.want_grad, grid, block, s,
                                                   vol, grad, partial, geo, cf);
        break;
      case TvKind::L1:
        launch_tv_flags<T, int(TvKind::L1)>(p.want_loss, p.want_grad, grid, block, s, vol, grad,
                                            partial, geo, cf);
        break;
    }
    if (p.want_loss) {
      if (nl == 3)
        reduce_partials<3><<<1, kFinalThreads, 0, s>>>(partial, nblk, result);
      else
        reduce_partials<1><<<1, kFinalThreads, 0, s>>>(partial, nblk, result);
      RK_CUDA_CHECK_LAUNCH();
    }
    if (device_ms) RK_CUDA_TRY(cudaEventRecord(sc.e1, s));
    if (p.want_loss)
      RK_CUDA_TRY(cudaMemcpyAsync(loss_out, result, sizeof(double) * nl, cudaMemcpyDeviceToHost, s));
  }
  if (device_ms && zero_grad_only) RK_CUDA_TRY(cudaEventRecord(sc.e1, s));
  if (sc.buf) {
    double* b = sc.buf;
    sc.buf = nullptr;
    RK_CUDA_TRY(cudaFreeAsync(b, s));
  }
  RK_CUDA_TRY(cudaStreamSynchronize(s));
  if (device_ms) RK_CUDA_TRY(cudaEventElapsedTime(device_ms, sc.e0, sc.e1));
  if (p.want_loss && p.kind == TvKind::Isotropic && !zero_grad_only) loss_out[0] /= corners;
}

template void tv3d_cuda<float>(const TvProblem&, const float*, float*, double*, void*, float*);
template void tv3d_cuda<double>(const TvProblem&, const double*, double*, double*, void*,
                                float*);

}  // namespace rk
