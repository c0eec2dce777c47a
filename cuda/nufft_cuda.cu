// CUDA NUFFT types 1 and 2, d = 1..3, plain and fused gradient (see nufft_cuda.h).
//
// Geometry is padded to 3 axes like the CPU engine (native/nufft_cpu.cc): padded axis pa = pad + a
// (pad = 3 − d) carries point row a / mode axis a; dummy axes have size 1, width 1, weight 1.
// Each real axis has its own kernel (width w_a, β_a, polynomial table; all equal unless per-axis
// widths / fine grids were asked for): the kernels are compiled for a width class KW ≥ max w_a
// and loop to w_a at run time, over tables zero-padded to KW columns and the largest degree.
//
// P point sets run together: points [P][d][M] are handled as P·M points, set s = J / M of point
// J; set s owns grids s·ntransf .. s·ntransf + ntransf − 1 ([P][ntransf] fine grids, one cuFFT
// batch) and its bins are keys s·nbins .. s·nbins + nbins − 1, so one sort covers all sets.
//
// set_points: fold_bin_kernel folds each point (nufftm::fold, in double), takes its kernel start
// i0 (nufftm::kernel_start) and its bin: bin_a = min((i0 + off_a) / B_a, nb_a − 1) with
// off_a = ⌊w_a/2⌋, so a point's local tile index l = i0 + off_a − bin·B_a ∈ [0, B_a] and it
// touches l .. l + w_a − 1 < B_a + w_a = E_a (the tile extent). Counting sort by key (shared
// atomic slot per point, one-block scan, scatter) gives the sorted coordinates ys [d][P·M]
// (double) and the permutation order[P·M]. Type 1 additionally splits bins into subproblems of at
// most kMaxSub points.
//
// Type 1: one block per (subproblem, transform) zeroes its bin's tile [E0][E1][E2] in shared
// memory, spreads its points with shared atomics, then adds the touched part of the tile to its
// set's fine grid: plain stores for the cells only this bin can reach (per real axis w_a ≤ l <
// min(B_a, n_a − bin·B_a), and the bin is not split into several subproblems), atomics elsewhere
// (zeros skipped). Tiles that do not fit in shared memory fall back to global atomics.
// Type 2: fused zero-pad + deconvolve kernel into the fine grids, cuFFT, then one thread per
// sorted point interpolates the ntransf grids of its set (kernel values computed once per point).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_check.h"
#include "op_failure.h"
#include "cufft_loader.h"
#include "nufft_cuda.h"
#include "nufft_math.cuh"

namespace rk {

namespace {

constexpr int kThreads = 256;
constexpr int kScanThreads = 1024;
constexpr int kMaxSub = 1024;  // points per spreading subproblem
constexpr int kMaxGridY = 65535;

template <typename T>
struct C2;
template <>
struct C2<float> {
  using type = float2;
};
template <>
struct C2<double> {
  using type = double2;
};

struct Geom {
  int d = 1, pad = 2, deg = 4, rows = 1;
  int ctab = 0;             // length of the coefficient tables of all axes ([ntab][deg+1][KW])
  int w[3] = {1, 1, 1};     // kernel width per padded axis
  int off[3] = {0, 0, 0};   // ⌊w/2⌋ per padded axis
  int coff[3] = {0, 0, 0};  // start of each real axis's table in the coefficient tables
  int n[3] = {1, 1, 1};     // fine grid per padded axis
  int N[3] = {1, 1, 1};     // modes per padded axis
  int B[3] = {1, 1, 1};     // bin size per padded axis
  int nb[3] = {1, 1, 1};    // bins per padded axis
  int E[3] = {1, 1, 1};     // tile extent per padded axis (B + w on real axes)
  unsigned nbins = 1;       // bins per point set
  long long nfine = 1, nmodes = 1;
  double dscale[3] = {0, 0, 0};
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------------------------------------
// Sorting.

// Points [P][d][M] (M per set, Mt = P·M): folded coordinates y [d][Mt] and the key of point
// J = s·M + j: s·nbins + its bin within set s.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    fold_bin_kernel(const T* __restrict__ pts, long long M, long long Mt, const Geom g, double* __restrict__ y,
                    unsigned* __restrict__ key, unsigned* __restrict__ pos, unsigned* __restrict__ count,
                    unsigned long long* __restrict__ bad) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long J = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; J < Mt; J += stride) {
    const long long s = J / M, j = J - s * M;
    unsigned k = 0;
    for (int a = 0; a < g.d; ++a) {
      const int pa = g.pad + a;
      const long long src = (s * g.d + a) * M + j;
      double x = static_cast<double>(pts[src]);
      if (!isfinite(x)) {
        atomicMin(bad, static_cast<unsigned long long>(src));
        x = 0;
      }
      const double yy = nufftm::fold(x, static_cast<double>(g.n[pa]));
      y[a * Mt + J] = yy;
      int i0;
      double u;
      nufftm::kernel_start(yy, g.w[pa], i0, u);
      const int b = max(0, min((i0 + g.off[pa]) / g.B[pa], g.nb[pa] - 1));
      k = k * static_cast<unsigned>(g.nb[pa]) + static_cast<unsigned>(b);
    }
    k += static_cast<unsigned>(s) * g.nbins;
    key[J] = k;
    pos[J] = atomicAdd(&count[k], 1u);
  }
}

// Exclusive prefix sum of n values by one block (n is the number of bins: small next to M).
__global__ void __launch_bounds__(kScanThreads)
    exclusive_scan_kernel(const unsigned* __restrict__ in, unsigned* __restrict__ out, long long n) {
  __shared__ unsigned warp_tot[kScanThreads / 32];
  __shared__ unsigned carry;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  if (tid == 0) carry = 0;
  __syncthreads();
  for (long long base = 0; base < n; base += kScanThreads) {
    const long long i = base + tid;
    const unsigned v = i < n ? in[i] : 0u;
    unsigned s = v;  // inclusive scan within the warp
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const unsigned t = __shfl_up_sync(0xffffffffu, s, o);
      if (lane >= o) s += t;
    }
    if (lane == 31) warp_tot[warp] = s;
    __syncthreads();
    if (warp == 0) {
      unsigned t = warp_tot[lane];
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        const unsigned r = __shfl_up_sync(0xffffffffu, t, o);
        if (lane >= o) t += r;
      }
      warp_tot[lane] = t;  // inclusive over warps
    }
    __syncthreads();
    const unsigned before = carry + (warp > 0 ? warp_tot[warp - 1] : 0u);
    if (i < n) out[i] = before + s - v;
    __syncthreads();
    if (tid == 0) carry += warp_tot[kScanThreads / 32 - 1];
    __syncthreads();
  }
}

__global__ void __launch_bounds__(kThreads)
    scatter_kernel(long long M, int d, const unsigned* __restrict__ key, const unsigned* __restrict__ pos,
                   const unsigned* __restrict__ start, const double* __restrict__ y, unsigned* __restrict__ order,
                   double* __restrict__ ys) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long j = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; j < M; j += stride) {
    const long long p = static_cast<long long>(start[key[j]]) + pos[j];
    order[p] = static_cast<unsigned>(j);
    for (int a = 0; a < d; ++a) ys[a * M + p] = y[a * M + j];
  }
}

// nsub[b] = ⌈count_b / kMaxSub⌉ from the bin starts (nbins + 1 entries).
__global__ void __launch_bounds__(kThreads)
    subcount_kernel(long long nbins, const unsigned* __restrict__ start, unsigned* __restrict__ nsub) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long b = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; b < nbins; b += stride) {
    const unsigned c = start[b + 1] - start[b];
    nsub[b] = (c + kMaxSub - 1) / kMaxSub;
  }
}

__global__ void __launch_bounds__(kThreads)
    subfill_kernel(long long nbins, const unsigned* __restrict__ nsub, const unsigned* __restrict__ substart,
                   unsigned* __restrict__ subbin) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long b = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; b < nbins; b += stride) {
    const unsigned s0 = substart[b], ns = nsub[b];
    for (unsigned s = 0; s < ns; ++s) subbin[s0 + s] = static_cast<unsigned>(b);
  }
}

// ---------------------------------------------------------------------------------------------
// Per-point kernel values. Real padded axes only; k0/k1 (outer axes) may live in local memory,
// k2 (the fastest axis, indexed only by unrolled loops) stays in registers.

// ys is [d][Mt]; entries k[w_pa..KW) are zero (zero-padded tables).
template <typename T, int KW, bool GRAD>
__device__ __forceinline__ void point_weights(const double* __restrict__ ys, long long Mt, long long p, const Geom& g,
                                              const T* __restrict__ sc, const T* __restrict__ sdc, int pa,
                                              T (&k)[KW], T (&dk)[KW], int& i0) {
  double u;
  nufftm::kernel_start(ys[(pa - g.pad) * Mt + p], g.w[pa], i0, u);
  const T ut = static_cast<T>(u);
  nufftm::eval_kernel<KW, T>(sc + g.coff[pa], KW, g.deg, KW, ut, k);
  if (GRAD) {
    nufftm::eval_kernel<KW, T>(sdc + g.coff[pa], KW, g.deg, KW, ut, dk);
    const T s = static_cast<T>(g.dscale[pa]);
#pragma unroll
    for (int q = 0; q < KW; ++q) dk[q] *= s;
  }
}

// Loads the zero-padded coefficient tables [ntab][deg+1][KW] into shared memory.
template <typename T, bool GRAD>
__device__ __forceinline__ void load_coeffs(const T* __restrict__ coeffs, const T* __restrict__ dcoeffs, int count,
                                            T* sc, T* sdc) {
  for (int i = threadIdx.x; i < count; i += blockDim.x) {
    sc[i] = coeffs[i];
    if (GRAD) sdc[i] = dcoeffs[i];
  }
}

// Strengths of point j (index within its set) for grid t = s·ntransf + transform: c and, with
// GRAD, g on the padded axes (zero on dummy axes). in is [P·ntransf][rows][M].
template <typename T, int DIM, bool GRAD>
__device__ __forceinline__ void load_strengths(const typename C2<T>::type* __restrict__ in, long long M, int rows,
                                               long long t, long long j, T& cr, T& ci, T (&gr)[3], T (&gi)[3]) {
  const typename C2<T>::type c = in[(t * rows) * M + j];
  cr = c.x;
  ci = c.y;
#pragma unroll
  for (int pa = 0; pa < 3; ++pa) {
    gr[pa] = T(0);
    gi[pa] = T(0);
  }
  if (GRAD) {
#pragma unroll
    for (int a = 0; a < DIM; ++a) {
      const typename C2<T>::type v = in[(t * rows + 1 + a) * M + j];
      gr[3 - DIM + a] = v.x;
      gi[3 - DIM + a] = v.y;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Type 1: shared-memory subproblems.

template <typename T, int DIM, int KW, bool GRAD>
__global__ void __launch_bounds__(kThreads)
    spread_sm_kernel(const typename C2<T>::type* __restrict__ in, const double* __restrict__ ys,
                     const unsigned* __restrict__ order, const unsigned* __restrict__ binstart,
                     const unsigned* __restrict__ substart, const unsigned* __restrict__ subbin,
                     const T* __restrict__ coeffs, const T* __restrict__ dcoeffs, long long M, long long Mt,
                     int ntransf, const Geom g, T* __restrict__ grid) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int E1 = g.E[1], E2 = g.E[2];
  const int tile = g.E[0] * E1 * E2;
  T* tl = reinterpret_cast<T*>(smem_raw);  // [tile] complex, interleaved
  T* sc = tl + 2 * tile;
  T* sdc = sc + g.ctab;
  load_coeffs<T, GRAD>(coeffs, dcoeffs, g.ctab, sc, sdc);

  const unsigned sub = blockIdx.x;
  const unsigned b = subbin[sub];  // key: set s, bin lb within the set
  const unsigned s = b / g.nbins, lb = b - s * g.nbins;
  const long long bstart = binstart[b], bend = binstart[b + 1];
  const long long pb = bstart + static_cast<long long>(sub - substart[b]) * kMaxSub;
  const long long pe = min(bend, pb + kMaxSub);
  const bool split = bend - bstart > kMaxSub;  // several blocks write this bin's tile
  const long long jbase = static_cast<long long>(s) * M;  // set s's points are jbase .. jbase + M − 1
  int bc[3] = {0, 0, 0};
  {
    unsigned r = lb;
#pragma unroll
    for (int pa = 2; pa >= 3 - DIM; --pa) {
      bc[pa] = static_cast<int>(r % static_cast<unsigned>(g.nb[pa]));
      r /= static_cast<unsigned>(g.nb[pa]);
    }
  }
  // Touched extent and exclusive ("core") range per padded axis.
  int ext[3], lo_core[3], hi_core[3], org[3];
#pragma unroll
  for (int pa = 0; pa < 3; ++pa) {
    if (pa < 3 - DIM) {
      ext[pa] = 1;
      lo_core[pa] = 0;
      hi_core[pa] = 1;
      org[pa] = 0;
    } else {
      const int own = min(g.B[pa], g.n[pa] - bc[pa] * g.B[pa]);  // cells of this bin on the axis
      ext[pa] = min(own + g.w[pa], g.E[pa]);
      lo_core[pa] = g.w[pa];
      hi_core[pa] = own;
      org[pa] = bc[pa] * g.B[pa] - g.off[pa];  // global index of local 0 (unwrapped)
    }
  }
  const int ntile = ext[0] * ext[1] * ext[2];
  const int W0 = DIM == 3 ? g.w[0] : 1, W1 = DIM >= 2 ? g.w[1] : 1;
  const int w2 = g.w[2];

  for (int t = blockIdx.y; t < ntransf; t += gridDim.y) {
    const long long gt = static_cast<long long>(s) * ntransf + t;  // this set's grid for transform t
    for (int i = threadIdx.x; i < 2 * tile; i += blockDim.x) tl[i] = T(0);
    __syncthreads();
    for (long long p = pb + threadIdx.x; p < pe; p += blockDim.x) {
      const long long j = static_cast<long long>(order[p]) - jbase;
      T k0[KW], k1[KW], k2[KW], d0[KW], d1[KW], d2[KW];
      int l0 = 0, l1 = 0, l2 = 0;
      {
        int i0;
        point_weights<T, KW, GRAD>(ys, Mt, p, g, sc, sdc, 2, k2, d2, i0);
        l2 = i0 + g.off[2] - bc[2] * g.B[2];
        if (DIM >= 2) {
          point_weights<T, KW, GRAD>(ys, Mt, p, g, sc, sdc, 1, k1, d1, i0);
          l1 = i0 + g.off[1] - bc[1] * g.B[1];
        }
        if (DIM == 3) {
          point_weights<T, KW, GRAD>(ys, Mt, p, g, sc, sdc, 0, k0, d0, i0);
          l0 = i0 + g.off[0] - bc[0] * g.B[0];
        }
      }
      T cr, ci, gr[3], gi[3];
      load_strengths<T, DIM, GRAD>(in, M, g.rows, gt, j, cr, ci, gr, gi);
      for (int a = 0; a < W0; ++a) {
        const T k0a = DIM == 3 ? k0[a] : T(1);
        const T d0a = (GRAD && DIM == 3) ? d0[a] : T(0);
        for (int bb = 0; bb < W1; ++bb) {
          const T k1b = DIM >= 2 ? k1[bb] : T(1);
          const T d1b = (GRAD && DIM >= 2) ? d1[bb] : T(0);
          const T s01 = k0a * k1b;
          // Row (a, bb) receives A·k2 + B·dk2 (complex A, B).
          T Ar = s01 * cr, Ai = s01 * ci, Br = T(0), Bi = T(0);
          if (GRAD) {
            const T s0 = d0a * k1b, s1 = k0a * d1b;
            Ar += s0 * gr[0] + s1 * gr[1];
            Ai += s0 * gi[0] + s1 * gi[1];
            Br = s01 * gr[2];
            Bi = s01 * gi[2];
          }
          T* row = tl + 2 * ((static_cast<int>(l0 + a) * E1 + (l1 + bb)) * E2 + l2);
#pragma unroll
          for (int q = 0; q < KW; ++q) {
            if (q < w2) {
              T vr = Ar * k2[q], vi = Ai * k2[q];
              if (GRAD) {
                vr += Br * d2[q];
                vi += Bi * d2[q];
              }
              atomicAdd(row + 2 * q, vr);
              atomicAdd(row + 2 * q + 1, vi);
            }
          }
        }
      }
    }
    __syncthreads();
    T* G = grid + 2 * gt * g.nfine;
    for (int i = threadIdx.x; i < ntile; i += blockDim.x) {
      const int x2 = i % ext[2];
      const int r = i / ext[2];
      const int x1 = r % ext[1];
      const int x0 = r / ext[1];
      const int li = (x0 * E1 + x1) * E2 + x2;
      const T vr = tl[2 * li], vi = tl[2 * li + 1];
      if (vr == T(0) && vi == T(0)) continue;
      const long long g0 = DIM == 3 ? nufftm::wrap_near(org[0] + x0, g.n[0]) : 0;
      const long long g1 = DIM >= 2 ? nufftm::wrap_near(org[1] + x1, g.n[1]) : 0;
      const long long g2 = nufftm::wrap_near(org[2] + x2, g.n[2]);
      const long long gi = (g0 * g.n[1] + g1) * g.n[2] + g2;
      const bool core = !split && x0 >= lo_core[0] && x0 < hi_core[0] && x1 >= lo_core[1] && x1 < hi_core[1] &&
                        x2 >= lo_core[2] && x2 < hi_core[2];
      if (core) {
        G[2 * gi] = vr;
        G[2 * gi + 1] = vi;
      } else {
        atomicAdd(G + 2 * gi, vr);
        atomicAdd(G + 2 * gi + 1, vi);
      }
    }
    __syncthreads();  // the tile is re-zeroed for the next transform
  }
}

// Fallback when a tile does not fit in shared memory: one thread per sorted point, global atomics.
template <typename T, int DIM, int KW, bool GRAD>
__global__ void __launch_bounds__(kThreads)
    spread_gm_kernel(const typename C2<T>::type* __restrict__ in, const double* __restrict__ ys,
                     const unsigned* __restrict__ order, const T* __restrict__ coeffs, const T* __restrict__ dcoeffs,
                     long long M, long long Mt, int ntransf, const Geom g, T* __restrict__ grid) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* sc = reinterpret_cast<T*>(smem_raw);
  T* sdc = sc + g.ctab;
  load_coeffs<T, GRAD>(coeffs, dcoeffs, g.ctab, sc, sdc);
  __syncthreads();
  const int W0 = DIM == 3 ? g.w[0] : 1, W1 = DIM >= 2 ? g.w[1] : 1;
  const int w2 = g.w[2];
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long p = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; p < Mt; p += stride) {
    const long long J = order[p], s = J / M, j = J - s * M;
    T k0[KW], k1[KW], k2[KW], d0[KW], d1[KW], d2[KW];
    int i0[3] = {0, 0, 0};
    point_weights<T, KW, GRAD>(ys, Mt, p, g, sc, sdc, 2, k2, d2, i0[2]);
    if (DIM >= 2) point_weights<T, KW, GRAD>(ys, Mt, p, g, sc, sdc, 1, k1, d1, i0[1]);
    if (DIM == 3) point_weights<T, KW, GRAD>(ys, Mt, p, g, sc, sdc, 0, k0, d0, i0[0]);
    for (int t = 0; t < ntransf; ++t) {
      const long long gt = s * ntransf + t;
      T* G = grid + 2 * gt * g.nfine;
      T cr, ci, gr[3], gi[3];
      load_strengths<T, DIM, GRAD>(in, M, g.rows, gt, j, cr, ci, gr, gi);
      for (int a = 0; a < W0; ++a) {
        const T k0a = DIM == 3 ? k0[a] : T(1);
        const T d0a = (GRAD && DIM == 3) ? d0[a] : T(0);
        const long long g0 = DIM == 3 ? nufftm::wrap_near(i0[0] + a, g.n[0]) : 0;
        for (int bb = 0; bb < W1; ++bb) {
          const T k1b = DIM >= 2 ? k1[bb] : T(1);
          const T d1b = (GRAD && DIM >= 2) ? d1[bb] : T(0);
          const long long g1 = DIM >= 2 ? nufftm::wrap_near(i0[1] + bb, g.n[1]) : 0;
          const T s01 = k0a * k1b;
          T Ar = s01 * cr, Ai = s01 * ci, Br = T(0), Bi = T(0);
          if (GRAD) {
            const T s0 = d0a * k1b, s1 = k0a * d1b;
            Ar += s0 * gr[0] + s1 * gr[1];
            Ai += s0 * gi[0] + s1 * gi[1];
            Br = s01 * gr[2];
            Bi = s01 * gi[2];
          }
          T* line = G + 2 * ((g0 * g.n[1] + g1) * g.n[2]);
#pragma unroll
          for (int q = 0; q < KW; ++q) {
            if (q < w2) {
              const long long g2 = nufftm::wrap_near(i0[2] + q, g.n[2]);
              T vr = Ar * k2[q], vi = Ai * k2[q];
              if (GRAD) {
                vr += Br * d2[q];
                vi += Bi * d2[q];
              }
              atomicAdd(line + 2 * g2, vr);
              atomicAdd(line + 2 * g2 + 1, vi);
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Type 2: interpolation, one thread per sorted point, all transforms of its set.

template <typename T, int DIM, int KW, bool GRAD>
__global__ void __launch_bounds__(kThreads)
    interp_kernel(const typename C2<T>::type* __restrict__ grid, const double* __restrict__ ys,
                  const unsigned* __restrict__ order, const T* __restrict__ coeffs, const T* __restrict__ dcoeffs,
                  long long M, long long Mt, int ntransf, const Geom g, typename C2<T>::type* __restrict__ out) {
  using V = typename C2<T>::type;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* sc = reinterpret_cast<T*>(smem_raw);
  T* sdc = sc + g.ctab;
  load_coeffs<T, GRAD>(coeffs, dcoeffs, g.ctab, sc, sdc);
  __syncthreads();
  const int W0 = DIM == 3 ? g.w[0] : 1, W1 = DIM >= 2 ? g.w[1] : 1;
  const int w2 = g.w[2];
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long p = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; p < Mt; p += stride) {
    const long long J = order[p], s = J / M, j = J - s * M;
    T k0[KW], k1[KW], k2[KW], d0[KW], d1[KW], d2[KW];
    int i0[3] = {0, 0, 0};
    point_weights<T, KW, GRAD>(ys, Mt, p, g, sc, sdc, 2, k2, d2, i0[2]);
    if (DIM >= 2) point_weights<T, KW, GRAD>(ys, Mt, p, g, sc, sdc, 1, k1, d1, i0[1]);
    if (DIM == 3) point_weights<T, KW, GRAD>(ys, Mt, p, g, sc, sdc, 0, k0, d0, i0[0]);
    for (int t = 0; t < ntransf; ++t) {
      const long long gt = s * ntransf + t;
      const V* G = grid + gt * g.nfine;
      T vr = 0, vi = 0, dr0 = 0, di0 = 0, dr1 = 0, di1 = 0, dr2 = 0, di2 = 0;
      for (int a = 0; a < W0; ++a) {
        const T k0a = DIM == 3 ? k0[a] : T(1);
        const T d0a = (GRAD && DIM == 3) ? d0[a] : T(0);
        const long long g0 = DIM == 3 ? nufftm::wrap_near(i0[0] + a, g.n[0]) : 0;
        for (int bb = 0; bb < W1; ++bb) {
          const T k1b = DIM >= 2 ? k1[bb] : T(1);
          const T d1b = (GRAD && DIM >= 2) ? d1[bb] : T(0);
          const long long g1 = DIM >= 2 ? nufftm::wrap_near(i0[1] + bb, g.n[1]) : 0;
          const V* line = G + (g0 * g.n[1] + g1) * g.n[2];
          T sr = 0, si = 0, sdr = 0, sdi = 0;
#pragma unroll
          for (int q = 0; q < KW; ++q) {
            if (q < w2) {
              const V v = line[nufftm::wrap_near(i0[2] + q, g.n[2])];
              sr += k2[q] * v.x;
              si += k2[q] * v.y;
              if (GRAD) {
                sdr += d2[q] * v.x;
                sdi += d2[q] * v.y;
              }
            }
          }
          const T s01 = k0a * k1b;
          vr += s01 * sr;
          vi += s01 * si;
          if (GRAD) {
            const T s0 = d0a * k1b, s1 = k0a * d1b;
            dr0 += s0 * sr;
            di0 += s0 * si;
            dr1 += s1 * sr;
            di1 += s1 * si;
            dr2 += s01 * sdr;
            di2 += s01 * sdi;
          }
        }
      }
      V* o = out + gt * g.rows * M;
      o[j] = V{vr, vi};
      if (GRAD) {
        const T dr[3] = {dr0, dr1, dr2}, di[3] = {di0, di1, di2};
#pragma unroll
        for (int a = 0; a < DIM; ++a) o[(1 + a) * M + j] = V{dr[3 - DIM + a], di[3 - DIM + a]};
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Deconvolution + mode reordering. S: 1/φ̂ per padded axis by mode index, concatenated
// (S + soff[pa]); mof: mode index of each fine index per padded axis (−1: not a mode), concatenated.

struct DeconvGeom {
  long long N[3], n[3];
  long long soff[3], moff[3];
  long long nmodes, nfine, total;
  int modeord;
};

template <typename T>
__global__ void __launch_bounds__(kThreads)
    deconv_to_modes_kernel(const typename C2<T>::type* __restrict__ grid, const T* __restrict__ S, const DeconvGeom dg,
                           typename C2<T>::type* __restrict__ out) {
  using V = typename C2<T>::type;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long idx = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; idx < dg.total; idx += stride) {
    const long long t = idx / dg.nmodes;
    long long r = idx - t * dg.nmodes;
    const long long m2 = r % dg.N[2];
    r /= dg.N[2];
    const long long m1 = r % dg.N[1];
    const long long m0 = r / dg.N[1];
    const long long f0 = nufftm::fine_index(nufftm::mode_k(m0, dg.N[0], dg.modeord), dg.n[0]);
    const long long f1 = nufftm::fine_index(nufftm::mode_k(m1, dg.N[1], dg.modeord), dg.n[1]);
    const long long f2 = nufftm::fine_index(nufftm::mode_k(m2, dg.N[2], dg.modeord), dg.n[2]);
    const T s = S[dg.soff[0] + m0] * S[dg.soff[1] + m1] * S[dg.soff[2] + m2];
    const V v = grid[t * dg.nfine + (f0 * dg.n[1] + f1) * dg.n[2] + f2];
    out[idx] = V{v.x * s, v.y * s};
  }
}

// Writes every fine-grid cell once: the scaled mode, or zero outside the modes.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    deconv_to_fine_kernel(const typename C2<T>::type* __restrict__ in, const T* __restrict__ S,
                          const int* __restrict__ mof, const DeconvGeom dg, typename C2<T>::type* __restrict__ grid) {
  using V = typename C2<T>::type;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long idx = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; idx < dg.total; idx += stride) {
    const long long t = idx / dg.nfine;
    long long r = idx - t * dg.nfine;
    const long long f2 = r % dg.n[2];
    r /= dg.n[2];
    const long long f1 = r % dg.n[1];
    const long long f0 = r / dg.n[1];
    const int m0 = mof[dg.moff[0] + f0], m1 = mof[dg.moff[1] + f1], m2 = mof[dg.moff[2] + f2];
    V o = V{T(0), T(0)};
    if (m0 >= 0 && m1 >= 0 && m2 >= 0) {
      const T s = S[dg.soff[0] + m0] * S[dg.soff[1] + m1] * S[dg.soff[2] + m2];
      const V v = in[t * dg.nmodes + (static_cast<long long>(m0) * dg.N[1] + m1) * dg.N[2] + m2];
      o = V{v.x * s, v.y * s};
    }
    grid[idx] = o;
  }
}

// ---------------------------------------------------------------------------------------------
// Host-side helpers.

// Device memory owned by the plan (cudaMalloc / cudaFree; the plan's device is current).
struct DevMem {
  void* p = nullptr;
  size_t bytes = 0;
  DevMem() = default;
  DevMem(const DevMem&) = delete;
  DevMem& operator=(const DevMem&) = delete;
  ~DevMem() { release(); }
  void release() {
    if (p) cudaFree(p);
    p = nullptr;
    bytes = 0;
  }
  // At least `n` bytes (contents undefined).
  void ensure(size_t n, const char* what) {
    if (n <= bytes && p) return;
    release();
    const size_t alloc = std::max<size_t>(n, 16);
    const cudaError_t err = cudaMalloc(&p, alloc);
    if (err != cudaSuccess) {
      cudaGetLastError();
      p = nullptr;
      throw OpFailure(err == cudaErrorMemoryAllocation ? "OUT_OF_MEMORY" : "CUDA_ERROR",
                      std::string("nufft (cuda): cudaMalloc of ") + std::to_string(alloc) + " bytes for " + what +
                          " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
    }
    bytes = alloc;
  }
  void swap(DevMem& o) {
    std::swap(p, o.p);
    std::swap(bytes, o.bytes);
  }
  template <typename U>
  U* as() const {
    return static_cast<U*>(p);
  }
};


// Makes `device` current for the scope and restores the previous one.
struct DeviceScope {
  int prev = -1;
  explicit DeviceScope(int device) {
    if (cudaGetDevice(&prev) != cudaSuccess) prev = -1;
    RK_CUDA_TRY(cudaSetDevice(device));
  }
  ~DeviceScope() {
    if (prev >= 0) cudaSetDevice(prev);
  }
};

int grid_blocks(long long work, int threads = kThreads) {
  const long long b = (work + threads - 1) / threads;
  return static_cast<int>(std::max<long long>(1, std::min<long long>(b, 1 << 20)));
}

std::string fmt_num(double v) {
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

int kw_for(int w) { return w <= 8 ? 8 : w <= 16 ? 16 : 32; }

// Shared memory of ntab coefficient tables [deg+1][kw] (and as many derivative tables).
size_t coeff_smem(int ntab, int deg, int kw, bool grad, size_t tsize) {
  return static_cast<size_t>(ntab) * (deg + 1) * kw * tsize * (grad ? 2 : 1);
}


}  // namespace

// ---------------------------------------------------------------------------------------------
struct NufftCudaPlan::Impl {
  NufftOptions opts;
  NufftInfo info;
  NufftTimings tm;
  mutable std::mutex mu;
  int device = 0;
  size_t tsize = 8;
  cudaStream_t stream = nullptr;
  cudaEvent_t ev[4] = {nullptr, nullptr, nullptr, nullptr};
  const cufft::Api* fft = nullptr;
  cufft::Handle fft_plan = 0;
  bool has_fft_plan = false;

  Geom g;
  DeconvGeom dg{};
  int kw = 8;
  int ntab = 1;  // coefficient tables: 1 when every axis has the same kernel, else d
  bool use_sm = true;
  size_t sm_bytes = 0;  // dynamic shared memory of the shared-memory spreading kernel
  long long nbins = 1;  // per point set
  long long nkeys = 1;  // P·nbins sort keys

  DevMem coeffs, dcoeffs, S, mof;  // persistent tables
  DevMem grid;                     // P·ntransf fine grids, made at the first execute
  // Points (sorted): M per set, P·M in all.
  long long M = -1;
  long long nsub = 0;
  DevMem ys, order, binstart, substart, subbin;
  // Staging for host inputs / outputs.
  DevMem stage_in, stage_out;

  ~Impl() {
    int prev = -1;
    if (cudaGetDevice(&prev) != cudaSuccess) prev = -1;
    cudaSetDevice(device);
    if (stream) cudaStreamSynchronize(stream);
    if (has_fft_plan && fft) fft->Destroy(fft_plan);
    for (cudaEvent_t& e : ev)
      if (e) cudaEventDestroy(e);
    coeffs.release();
    dcoeffs.release();
    S.release();
    mof.release();
    grid.release();
    ys.release();
    order.release();
    binstart.release();
    substart.release();
    subbin.release();
    stage_in.release();
    stage_out.release();
    if (stream) cudaStreamDestroy(stream);
    cudaGetLastError();
    if (prev >= 0) cudaSetDevice(prev);
  }

  void fft_check(cufft::Result r, const char* what) {
    if (r != 0) throw OpFailure("CUDA_ERROR", std::string("nufft (cuda): ") + what + " failed: " + cufft::ResultName(r));
  }

  void choose_bins() {
    int optin = 48 * 1024;
    RK_CUDA_TRY(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    const size_t cbytes = coeff_smem(ntab, g.deg, kw, opts.gradient, tsize);
    const int d = opts.dim, pad = 3 - d;
    auto fits = [&](const int (&B)[3], size_t budget) {
      size_t cells = 1;
      for (int pa = pad; pa < 3; ++pa) cells *= static_cast<size_t>(B[pa] + g.w[pa]);
      return 2 * tsize * cells + cbytes <= budget;
    };
    // Preferred bins, shrunk (largest axis, slowest first among ties) until the tile fits:
    // first within ~100 KiB (two blocks per SM on Hopper) keeping ≥ 4 cells per axis, else
    // anything that fits the opt-in limit, else global atomics.
    const int pref = d == 1 ? 1024 : d == 2 ? 32 : 16;
    const size_t budgets[2] = {std::min<size_t>(static_cast<size_t>(optin), 100 * 1024), static_cast<size_t>(optin)};
    const int minB[2] = {4, 1};
    for (int attempt = 0; attempt < 2; ++attempt) {
      int B[3] = {1, 1, 1};
      for (int pa = pad; pa < 3; ++pa) B[pa] = std::max(1, std::min<int>(pref, g.n[pa]));
      bool ok = true;
      while (!fits(B, budgets[attempt])) {
        int best = -1;
        for (int pa = pad; pa < 3; ++pa)
          if (B[pa] > minB[attempt] && (best < 0 || B[pa] > B[best])) best = pa;
        if (best < 0) {
          ok = false;
          break;
        }
        B[best] = std::max(minB[attempt], B[best] / 2);
      }
      if (!ok) continue;
      size_t cells = 1;
      nbins = 1;
      for (int pa = 0; pa < 3; ++pa) {
        g.B[pa] = pa < pad ? 1 : B[pa];
        g.nb[pa] = pa < pad ? 1 : (g.n[pa] + B[pa] - 1) / B[pa];
        g.E[pa] = pa < pad ? 1 : B[pa] + g.w[pa];
        cells *= static_cast<size_t>(g.E[pa]);
        nbins *= g.nb[pa];
      }
      sm_bytes = 2 * tsize * cells + cbytes;
      use_sm = true;
      return;
    }
    // Global-atomic spreading; bins (for the sort) of 16 cells per axis.
    use_sm = false;
    sm_bytes = 0;
    nbins = 1;
    for (int pa = 0; pa < 3; ++pa) {
      g.B[pa] = pa < pad ? 1 : std::min(16, g.n[pa]);
      g.nb[pa] = pa < pad ? 1 : (g.n[pa] + g.B[pa] - 1) / g.B[pa];
      g.E[pa] = pa < pad ? 1 : g.B[pa] + g.w[pa];
      nbins *= g.nb[pa];
    }
  }

  // Coefficient tables [ntab][g.deg+1][kw]: zero columns beyond the axis's width and leading zero
  // rows for axes of lower degree (Horner then gives the same values); 1/φ̂ and mode maps per axis.
  template <typename T>
  void upload_tables(const std::vector<NufftKernel>& kax) {
    const int deg = g.deg;
    const size_t tab = static_cast<size_t>((deg + 1) * kw);
    std::vector<T> c(ntab * tab, T(0)), dc(c.size(), T(0));
    for (int tb = 0; tb < ntab; ++tb) {
      const NufftKernel& k = kax[tb];
      const int shift = deg - k.degree;
      for (int p = 0; p <= k.degree; ++p)
        for (int j = 0; j < k.width; ++j) {
          c[tb * tab + (p + shift) * kw + j] = static_cast<T>(k.coeffs[p * k.width + j]);
          dc[tb * tab + (p + shift) * kw + j] = static_cast<T>(k.dcoeffs[p * k.width + j]);
        }
    }
    coeffs.ensure(c.size() * sizeof(T), "kernel coefficients");
    dcoeffs.ensure(dc.size() * sizeof(T), "kernel coefficients");
    RK_CUDA_TRY(cudaMemcpy(coeffs.p, c.data(), c.size() * sizeof(T), cudaMemcpyHostToDevice));
    RK_CUDA_TRY(cudaMemcpy(dcoeffs.p, dc.data(), dc.size() * sizeof(T), cudaMemcpyHostToDevice));
    std::vector<T> s;
    std::vector<int> mo;
    for (int pa = 0; pa < 3; ++pa) {
      dg.soff[pa] = static_cast<long long>(s.size());
      dg.moff[pa] = static_cast<long long>(mo.size());
      const long long N = dg.N[pa], nf = dg.n[pa];
      if (pa < 3 - opts.dim) {
        s.push_back(T(1));
        mo.push_back(0);
        continue;
      }
      const NufftKernel& k = kax[pa - (3 - opts.dim)];
      const std::vector<double> phat = nufft_kernel_fseries(k.width, k.beta, nf, N);
      const size_t mbase = mo.size();
      mo.resize(mbase + static_cast<size_t>(nf), -1);
      for (long long m = 0; m < N; ++m) {
        const long long kk = nufftm::mode_k(m, N, opts.modeord);
        s.push_back(static_cast<T>(1 / phat[nufftm::phat_index(kk, N)]));
        mo[mbase + static_cast<size_t>(nufftm::fine_index(kk, nf))] = static_cast<int>(m);
      }
    }
    S.ensure(s.size() * sizeof(T), "deconvolution factors");
    RK_CUDA_TRY(cudaMemcpy(S.p, s.data(), s.size() * sizeof(T), cudaMemcpyHostToDevice));
    mof.ensure(mo.size() * sizeof(int), "mode maps");
    RK_CUDA_TRY(cudaMemcpy(mof.p, mo.data(), mo.size() * sizeof(int), cudaMemcpyHostToDevice));
  }

  // ---- set_points ----
  // pts: [P][d][Mnew] on the device. All P sets are binned and sorted together (keys s·nbins + bin).
  template <typename T>
  void set_points(const T* pts, long long Mnew) {
    const int d = opts.dim;
    const long long Mt = static_cast<long long>(opts.P) * Mnew;
    AsyncTemps tmp(stream);
    double* y = tmp.get<double>(static_cast<size_t>(d * Mt));
    unsigned* key = tmp.get<unsigned>(static_cast<size_t>(Mt));
    unsigned* pos = tmp.get<unsigned>(static_cast<size_t>(Mt));
    unsigned* count = tmp.get<unsigned>(static_cast<size_t>(nkeys + 1));
    unsigned long long* bad = tmp.get<unsigned long long>(1);
    unsigned* nsubv = opts.type == 1 ? tmp.get<unsigned>(static_cast<size_t>(nkeys + 1)) : nullptr;

    DevMem n_ys, n_order, n_binstart, n_substart, n_subbin;
    n_ys.ensure(static_cast<size_t>(d * Mt) * sizeof(double), "sorted points");
    n_order.ensure(static_cast<size_t>(Mt) * sizeof(unsigned), "point order");
    n_binstart.ensure(static_cast<size_t>(nkeys + 1) * sizeof(unsigned), "bin starts");

    RK_CUDA_TRY(cudaEventRecord(ev[0], stream));
    RK_CUDA_TRY(cudaMemsetAsync(count, 0, static_cast<size_t>(nkeys + 1) * sizeof(unsigned), stream));
    RK_CUDA_TRY(cudaMemsetAsync(bad, 0xff, sizeof(unsigned long long), stream));
    fold_bin_kernel<T><<<grid_blocks(Mt), kThreads, 0, stream>>>(pts, Mnew, Mt, g, y, key, pos, count, bad);
    RK_CUDA_CHECK_LAUNCH();
    exclusive_scan_kernel<<<1, kScanThreads, 0, stream>>>(count, n_binstart.as<unsigned>(), nkeys + 1);
    RK_CUDA_CHECK_LAUNCH();
    scatter_kernel<<<grid_blocks(Mt), kThreads, 0, stream>>>(Mt, d, key, pos, n_binstart.as<unsigned>(), y,
                                                             n_order.as<unsigned>(), n_ys.as<double>());
    RK_CUDA_CHECK_LAUNCH();
    unsigned host_nsub = 0;
    if (opts.type == 1) {
      n_substart.ensure(static_cast<size_t>(nkeys + 1) * sizeof(unsigned), "subproblem starts");
      RK_CUDA_TRY(cudaMemsetAsync(nsubv, 0, static_cast<size_t>(nkeys + 1) * sizeof(unsigned), stream));
      subcount_kernel<<<grid_blocks(nkeys), kThreads, 0, stream>>>(nkeys, n_binstart.as<unsigned>(), nsubv);
      RK_CUDA_CHECK_LAUNCH();
      exclusive_scan_kernel<<<1, kScanThreads, 0, stream>>>(nsubv, n_substart.as<unsigned>(), nkeys + 1);
      RK_CUDA_CHECK_LAUNCH();
      RK_CUDA_TRY(cudaMemcpyAsync(&host_nsub, n_substart.as<unsigned>() + nkeys, sizeof(unsigned),
                                  cudaMemcpyDeviceToHost, stream));
    }
    unsigned long long host_bad = 0;
    RK_CUDA_TRY(cudaMemcpyAsync(&host_bad, bad, sizeof host_bad, cudaMemcpyDeviceToHost, stream));
    RK_CUDA_TRY(cudaStreamSynchronize(stream));
    if (host_bad != ~0ull) {
      throw OpFailure("NON_FINITE", "non-finite point coordinate at index " + std::to_string(host_bad));
    }
    if (opts.type == 1 && host_nsub > 0) {
      if (host_nsub > static_cast<unsigned>(INT_MAX)) throw OpFailure("SIZE_TOO_LARGE", "too many spreading subproblems");
      n_subbin.ensure(static_cast<size_t>(host_nsub) * sizeof(unsigned), "subproblems");
      subfill_kernel<<<grid_blocks(nkeys), kThreads, 0, stream>>>(nkeys, nsubv, n_substart.as<unsigned>(),
                                                                  n_subbin.as<unsigned>());
      RK_CUDA_CHECK_LAUNCH();
    }
    RK_CUDA_TRY(cudaEventRecord(ev[1], stream));
    RK_CUDA_TRY(cudaStreamSynchronize(stream));
    float ms = 0;
    RK_CUDA_TRY(cudaEventElapsedTime(&ms, ev[0], ev[1]));
    // Commit.
    ys.swap(n_ys);
    order.swap(n_order);
    binstart.swap(n_binstart);
    substart.swap(n_substart);
    subbin.swap(n_subbin);
    nsub = host_nsub;
    M = Mnew;
    tm.sort_ms = ms;
  }

  // ---- execute ----
  long long Mt() const { return static_cast<long long>(opts.P) * M; }
  long long ngrids() const { return static_cast<long long>(opts.P) * opts.ntransf; }

  template <typename T, int DIM, int KW, bool GRAD>
  void launch_spread(const T* in, T* G) {
    using V = typename C2<T>::type;
    const int ny = std::min(opts.ntransf, kMaxGridY);
    if (use_sm) {
      if (nsub == 0) return;
      auto kern = spread_sm_kernel<T, DIM, KW, GRAD>;
      RK_CUDA_TRY(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(sm_bytes)));
      kern<<<dim3(static_cast<unsigned>(nsub), ny), kThreads, sm_bytes, stream>>>(
          reinterpret_cast<const V*>(in), ys.as<double>(), order.as<unsigned>(), binstart.as<unsigned>(),
          substart.as<unsigned>(), subbin.as<unsigned>(), coeffs.as<T>(), dcoeffs.as<T>(), M, Mt(), opts.ntransf, g,
          G);
      RK_CUDA_CHECK_LAUNCH();
    } else {
      const size_t cb = coeff_smem(ntab, g.deg, KW, GRAD, sizeof(T));
      spread_gm_kernel<T, DIM, KW, GRAD><<<grid_blocks(Mt()), kThreads, cb, stream>>>(
          reinterpret_cast<const V*>(in), ys.as<double>(), order.as<unsigned>(), coeffs.as<T>(), dcoeffs.as<T>(), M,
          Mt(), opts.ntransf, g, G);
      RK_CUDA_CHECK_LAUNCH();
    }
  }

  template <typename T, int DIM, int KW, bool GRAD>
  void launch_interp(const T* G, T* out) {
    using V = typename C2<T>::type;
    if (M == 0) return;
    const size_t cb = coeff_smem(ntab, g.deg, KW, GRAD, sizeof(T));
    interp_kernel<T, DIM, KW, GRAD><<<grid_blocks(Mt()), kThreads, cb, stream>>>(
        reinterpret_cast<const V*>(G), ys.as<double>(), order.as<unsigned>(), coeffs.as<T>(), dcoeffs.as<T>(), M,
        Mt(), opts.ntransf, g, reinterpret_cast<V*>(out));
    RK_CUDA_CHECK_LAUNCH();
  }

  template <typename T, int DIM, int KW>
  void dispatch_grad(bool spread, const T* a, T* b) {
    if (opts.gradient) {
      if (spread) launch_spread<T, DIM, KW, true>(a, b);
      else launch_interp<T, DIM, KW, true>(a, b);
    } else {
      if (spread) launch_spread<T, DIM, KW, false>(a, b);
      else launch_interp<T, DIM, KW, false>(a, b);
    }
  }

  template <typename T, int DIM>
  void dispatch_kw(bool spread, const T* a, T* b) {
    switch (kw) {
      case 8: dispatch_grad<T, DIM, 8>(spread, a, b); break;
      case 16: dispatch_grad<T, DIM, 16>(spread, a, b); break;
      default: dispatch_grad<T, DIM, 32>(spread, a, b); break;
    }
  }

  template <typename T>
  void dispatch(bool spread, const T* a, T* b) {
    switch (opts.dim) {
      case 1: dispatch_kw<T, 1>(spread, a, b); break;
      case 2: dispatch_kw<T, 2>(spread, a, b); break;
      default: dispatch_kw<T, 3>(spread, a, b); break;
    }
  }

  template <typename T>
  void exec_fft(T* G) {
    fft_check(fft->SetStream(fft_plan, stream), "cufftSetStream");
    if (sizeof(T) == 4) fft_check(fft->ExecC2C(fft_plan, G, G, opts.isign), "cufftExecC2C");
    else fft_check(fft->ExecZ2Z(fft_plan, G, G, opts.isign), "cufftExecZ2Z");
  }

  template <typename T>
  void execute(const T* in, T* out, long long out_len) {
    using V = typename C2<T>::type;
    const long long glen = 2 * g.nfine * ngrids();
    grid.ensure(static_cast<size_t>(glen) * sizeof(T), "fine grids");
    T* G = grid.as<T>();
    float ms[3] = {0, 0, 0};
    if (M == 0) {
      if (out_len > 0) RK_CUDA_TRY(cudaMemsetAsync(out, 0, static_cast<size_t>(out_len) * sizeof(T), stream));
      RK_CUDA_TRY(cudaStreamSynchronize(stream));
      tm.spread_ms = tm.fft_ms = tm.deconvolve_ms = 0;
      return;
    }
    RK_CUDA_TRY(cudaEventRecord(ev[0], stream));
    if (opts.type == 1) {
      RK_CUDA_TRY(cudaMemsetAsync(G, 0, static_cast<size_t>(glen) * sizeof(T), stream));
      dispatch<T>(true, in, G);
      RK_CUDA_TRY(cudaEventRecord(ev[1], stream));
      exec_fft<T>(G);
      RK_CUDA_TRY(cudaEventRecord(ev[2], stream));
      DeconvGeom d = dg;
      d.total = g.nmodes * ngrids();
      deconv_to_modes_kernel<T><<<grid_blocks(d.total), kThreads, 0, stream>>>(reinterpret_cast<const V*>(G), S.as<T>(),
                                                                               d, reinterpret_cast<V*>(out));
      RK_CUDA_CHECK_LAUNCH();
      RK_CUDA_TRY(cudaEventRecord(ev[3], stream));
    } else {
      DeconvGeom d = dg;
      d.total = g.nfine * ngrids();
      deconv_to_fine_kernel<T><<<grid_blocks(d.total), kThreads, 0, stream>>>(reinterpret_cast<const V*>(in), S.as<T>(),
                                                                              mof.as<int>(), d, reinterpret_cast<V*>(G));
      RK_CUDA_CHECK_LAUNCH();
      RK_CUDA_TRY(cudaEventRecord(ev[1], stream));
      exec_fft<T>(G);
      RK_CUDA_TRY(cudaEventRecord(ev[2], stream));
      dispatch<T>(false, G, out);
      RK_CUDA_TRY(cudaEventRecord(ev[3], stream));
    }
    RK_CUDA_TRY(cudaStreamSynchronize(stream));
    for (int i = 0; i < 3; ++i) RK_CUDA_TRY(cudaEventElapsedTime(&ms[i], ev[i], ev[i + 1]));
    if (opts.type == 1) {
      tm.spread_ms = ms[0];
      tm.fft_ms = ms[1];
      tm.deconvolve_ms = ms[2];
    } else {
      tm.deconvolve_ms = ms[0];
      tm.fft_ms = ms[1];
      tm.spread_ms = ms[2];
    }
  }
};

NufftCudaPlan::NufftCudaPlan(const NufftOptions& o, int device) : impl_(new Impl) {
  Impl& p = *impl_;
  p.opts = o;
  p.device = device;
  if (device < 0) throw OpFailure("INVALID_ARGUMENT", "NufftCudaPlan: device must be ≥ 0");
  // A host plan with the same options validates them and chooses the widths, β and fine grids,
  // so both report the same info and refuse the same options with the same messages.
  std::vector<NufftKernel> kax;
  {
    NufftOptions ho = o;
    ho.threads = 1;
    const NufftPlan host(ho);
    p.info = host.info();
    kax = host.axis_kernels();
  }
  // cuFFT (32-bit plan sizes and batch) and the 32-bit bin / point indices bound the sizes.
  double nfine = 1;
  for (int a = 0; a < o.dim; ++a) nfine *= static_cast<double>(p.info.fine[a]);
  if (nfine > static_cast<double>(INT_MAX)) {
    throw OpFailure("SIZE_TOO_LARGE", "nufft (cuda): a fine grid of " + fmt_num(nfine) + " points exceeds the 2^31 − 1 points one cuFFT plan takes");
  }
  if (static_cast<long long>(o.P) * o.ntransf > INT_MAX) {
    throw OpFailure("SIZE_TOO_LARGE", "nufft (cuda): P × ntransf = " + std::to_string(static_cast<long long>(o.P) * o.ntransf) + " fine grids exceed the 2^31 − 1 one cuFFT plan takes");
  }
  {
    int count = 0;
    const cudaError_t st = cudaGetDeviceCount(&count);
    if (st != cudaSuccess || count == 0) {
      cudaGetLastError();
      throw OpFailure("CUDA_UNAVAILABLE", std::string("nufft (cuda): no usable CUDA device") +
                                              (st != cudaSuccess ? std::string(" (") + cudaGetErrorName(st) + ")" : std::string()));
    }
    if (device >= count) {
      throw OpFailure("INVALID_DEVICE", "nufft (cuda): cuda:" + std::to_string(device) + " does not exist: " + std::to_string(count) + " CUDA device(s) present");
    }
  }
  p.fft = cufft::Load();
  if (!p.fft) throw OpFailure("CUFFT_UNAVAILABLE", "nufft (cuda): cuFFT could not be loaded: " + cufft::GetStatus().error);

  Geom& g = p.g;
  g.d = o.dim;
  g.pad = 3 - o.dim;
  g.rows = o.gradient ? 1 + o.dim : 1;
  int wmax = 1;
  g.deg = 0;
  bool uniform = true;
  for (const NufftKernel& k : kax) {
    wmax = std::max(wmax, k.width);
    g.deg = std::max(g.deg, k.degree);
    uniform = uniform && k.width == kax[0].width && k.degree == kax[0].degree && k.coeffs == kax[0].coeffs &&
              k.dcoeffs == kax[0].dcoeffs;
  }
  p.kw = kw_for(wmax);
  p.ntab = uniform ? 1 : o.dim;
  g.ctab = p.ntab * (g.deg + 1) * p.kw;
  p.dg.modeord = o.modeord;
  for (int pa = 0; pa < 3; ++pa) {
    p.dg.N[pa] = p.dg.n[pa] = 1;
    if (pa < g.pad) continue;
    const int a = pa - g.pad;
    const NufftKernel& k = kax[a];
    g.w[pa] = k.width;
    g.off[pa] = k.width / 2;
    g.coff[pa] = uniform ? 0 : a * (g.deg + 1) * p.kw;
    g.n[pa] = static_cast<int>(p.info.fine[a]);
    g.N[pa] = static_cast<int>(o.modes[a]);
    g.dscale[pa] = nufftm::deriv_scale(k.width, static_cast<double>(p.info.fine[a]));
    p.dg.N[pa] = o.modes[a];
    p.dg.n[pa] = p.info.fine[a];
  }
  g.nfine = static_cast<long long>(g.n[0]) * g.n[1] * g.n[2];
  g.nmodes = p.dg.N[0] * p.dg.N[1] * p.dg.N[2];
  p.dg.nfine = g.nfine;
  p.dg.nmodes = g.nmodes;
  p.tsize = o.f32 ? sizeof(float) : sizeof(double);

  DeviceScope scope(device);
  RK_CUDA_TRY(cudaStreamCreateWithFlags(&p.stream, cudaStreamNonBlocking));
  for (cudaEvent_t& e : p.ev) RK_CUDA_TRY(cudaEventCreate(&e));
  p.choose_bins();
  p.nkeys = static_cast<long long>(o.P) * p.nbins;
  if (p.nkeys + 1 > static_cast<long long>(INT_MAX)) throw OpFailure("SIZE_TOO_LARGE", "nufft (cuda): too many bins (P × bins per set)");
  g.nbins = static_cast<unsigned>(p.nbins);
  if (o.f32) p.upload_tables<float>(kax);
  else p.upload_tables<double>(kax);
  int n[3];
  for (int a = 0; a < o.dim; ++a) n[a] = static_cast<int>(p.info.fine[a]);
  const int dist = static_cast<int>(g.nfine);
  p.fft_check(p.fft->PlanMany(&p.fft_plan, o.dim, n, nullptr, 1, dist, nullptr, 1, dist, o.f32 ? cufft::kC2C : cufft::kZ2Z,
                              static_cast<int>(p.ngrids())),
              "cufftPlanMany");
  p.has_fft_plan = true;
  p.fft_check(p.fft->SetStream(p.fft_plan, p.stream), "cufftSetStream");
}

NufftCudaPlan::~NufftCudaPlan() = default;

const NufftOptions& NufftCudaPlan::options() const { return impl_->opts; }
const NufftInfo& NufftCudaPlan::info() const { return impl_->info; }
int NufftCudaPlan::device() const { return impl_->device; }

std::int64_t NufftCudaPlan::num_points() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->M;
}

std::int64_t NufftCudaPlan::input_length(std::int64_t M) const {
  const NufftOptions& o = impl_->opts;
  std::int64_t nm = 1;
  for (int a = 0; a < o.dim; ++a) nm *= o.modes[a];
  return o.P * (o.type == 1 ? 2 * o.ntransf * (o.gradient ? 1 + o.dim : 1) * M : 2 * o.ntransf * nm);
}

std::int64_t NufftCudaPlan::output_length(std::int64_t M) const {
  const NufftOptions& o = impl_->opts;
  std::int64_t nm = 1;
  for (int a = 0; a < o.dim; ++a) nm *= o.modes[a];
  return o.P * (o.type == 2 ? 2 * o.ntransf * (o.gradient ? 1 + o.dim : 1) * M : 2 * o.ntransf * nm);
}

NufftTimings NufftCudaPlan::timings() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->tm;
}

void NufftCudaPlan::set_points(const void* pts, bool on_device, std::int64_t M) {
  Impl& p = *impl_;
  std::lock_guard<std::mutex> lock(p.mu);
  if (M < 0) throw OpFailure("INVALID_ARGUMENT", "M must be a non-negative integer");
  const std::int64_t P = p.opts.P;
  if (M >= ((std::int64_t(1) << 32) - 1) / P) {
    throw OpFailure("SIZE_TOO_LARGE", "P·M = " + std::to_string(P) + "·" + std::to_string(M) + " exceeds 2^32 - 2 points");
  }
  if (M > 0 && !pts) throw OpFailure("INVALID_ARGUMENT", "setPoints: points are null");
  DeviceScope scope(p.device);
  const size_t bytes = static_cast<size_t>(P * p.opts.dim * M) * p.tsize;
  const void* src = pts;
  if (!on_device && M > 0) {
    p.stage_in.ensure(bytes, "point upload");
    RK_CUDA_TRY(cudaMemcpyAsync(p.stage_in.p, pts, bytes, cudaMemcpyHostToDevice, p.stream));
    src = p.stage_in.p;
  }
  if (p.opts.f32) p.set_points<float>(static_cast<const float*>(src), M);
  else p.set_points<double>(static_cast<const double*>(src), M);
}

void NufftCudaPlan::execute(const void* in, bool in_on_device, std::int64_t in_len, void* out, bool out_on_device,
                            std::int64_t out_len) {
  Impl& p = *impl_;
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.M < 0) throw OpFailure("INVALID_ARGUMENT", "setPoints must be called before execute");
  const std::int64_t need_in = input_length(p.M), need_out = output_length(p.M);
  if (in_len < need_in) {
    throw OpFailure("INVALID_SHAPE", "input has " + std::to_string(in_len) + " entries, expected " + std::to_string(need_in));
  }
  if (out_len < need_out) {
    throw OpFailure("INVALID_SHAPE", "output has " + std::to_string(out_len) + " entries, expected " + std::to_string(need_out));
  }
  if ((need_in > 0 && !in) || (need_out > 0 && !out)) throw OpFailure("INVALID_ARGUMENT", "execute: null buffer");
  const double t0 = now_ms();
  DeviceScope scope(p.device);
  const size_t in_bytes = static_cast<size_t>(need_in) * p.tsize, out_bytes = static_cast<size_t>(need_out) * p.tsize;
  const void* din = in;
  void* dout = out;
  if (!in_on_device && in_bytes > 0) {
    p.stage_in.ensure(in_bytes, "input upload");
    RK_CUDA_TRY(cudaMemcpyAsync(p.stage_in.p, in, in_bytes, cudaMemcpyHostToDevice, p.stream));
    din = p.stage_in.p;
  }
  if (!out_on_device && out_bytes > 0) {
    p.stage_out.ensure(out_bytes, "output download");
    dout = p.stage_out.p;
  }
  if (p.opts.f32) p.execute<float>(static_cast<const float*>(din), static_cast<float*>(dout), need_out);
  else p.execute<double>(static_cast<const double*>(din), static_cast<double*>(dout), need_out);
  if (!out_on_device && out_bytes > 0) {
    RK_CUDA_TRY(cudaMemcpyAsync(out, dout, out_bytes, cudaMemcpyDeviceToHost, p.stream));
    RK_CUDA_TRY(cudaStreamSynchronize(p.stream));
  }
  p.tm.total_ms = now_ms() - t0;
}

}  // namespace rk
