// CUDA gridding: spread, interp (d = 1..3, optional fused gradient) and Pipe–Menon density
// compensation; see cuda/gridding.h for the conventions and native/gridding_cpu.cc for the CPU
// version, which shares the per-point math (cuda/gridding_math.cuh).
//
// One thread per point (grid-stride loops, input order: trajectories are usually ordered along
// their readouts, so neighbouring threads touch neighbouring cells). The kernel tables live in
// shared memory; each thread folds its point, evaluates the w taps per axis in float64 (Horner)
// and loops over the ntransf strength sets / grids. Spreading adds with float64 atomicAdd (sm_60+)
// into a float64 grid: the output itself for complex128, a scratch grid rounded once to float for
// complex64. Interpolation accumulates in float64 registers and rounds once. Atomics make the
// spreading order, and so the last bits of a spread, vary from run to run.
//
// Non-finite coordinates: the point is skipped and the smallest flat index into the points
// array (set·d·M + row·M + j) is kept with atomicMin; it is read back once at the end and raised
// as NON_FINITE with the same message as the CPU (the first bad coordinate of the first bad set).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_check.h"
#include "op_failure.h"
#include "gridding.h"
#include "gridding_math.cuh"

namespace rk {

namespace {

constexpr int kThreads = 256;
using gridm::kMaxWidth;

// Geometry padded to 3 axes (padded axis pa = pad + a carries point row a), passed by value.
struct DevGeo {
  int d, pad, w, deg, rows, ntransf;
  long long n[3];
  int wa[3];
  double dscale[3];
  long long M, ngrid;
  long long set0;  // flat index of the point set's first coordinate (DCF: set·d·M), for errors
};

DevGeo make_geo(const GriddingOptions& o) {
  DevGeo g{};
  g.d = o.dim;
  g.pad = 3 - o.dim;
  g.w = o.width;
  g.deg = o.degree;
  g.rows = o.gradient ? 1 + o.dim : 1;
  g.ntransf = o.ntransf;
  g.M = o.M;
  g.ngrid = 1;
  for (int pa = 0; pa < 3; ++pa) {
    g.n[pa] = 1;
    g.wa[pa] = 1;
    g.dscale[pa] = 0;
  }
  for (int a = 0; a < o.dim; ++a) {
    const int pa = g.pad + a;
    g.n[pa] = o.grid[a];
    g.wa[pa] = o.width;
    g.dscale[pa] = nufftm::deriv_scale(o.width, static_cast<double>(o.grid[a]));
    g.ngrid *= o.grid[a];
  }
  return g;
}

struct DevPK {
  double k[3][kMaxWidth];
  double dk[3][kMaxWidth];
  int i0[3];
};

// Copies the 2·(deg+1)·w kernel coefficients (values, then derivatives) into shared memory.
__device__ __forceinline__ void load_tables(const double* __restrict__ tables, int nc, double* sc) {
  for (int i = threadIdx.x; i < 2 * nc; i += blockDim.x) sc[i] = tables[i];
  __syncthreads();
}

// Folds point j and evaluates its taps; false (and the index recorded) for a non-finite point.
template <typename P, bool GRAD>
__device__ __forceinline__ bool point_kernel(const DevGeo& g, const P* __restrict__ pts, long long j,
                                             const double* sc, DevPK& pk, unsigned long long* bad) {
  const int nc = (g.deg + 1) * g.w;
  for (int pa = 0; pa < g.pad; ++pa) {
    pk.k[pa][0] = 1;
    pk.dk[pa][0] = 0;
    pk.i0[pa] = 0;
  }
  for (int a = 0; a < g.d; ++a) {
    const int pa = g.pad + a;
    const double x = static_cast<double>(pts[a * g.M + j]);
    if (!isfinite(x)) {
      atomicMin(bad, static_cast<unsigned long long>(g.set0 + a * g.M + j));
      return false;
    }
    int i0;
    double u;
    gridm::axis_start(x, static_cast<double>(g.n[pa]), g.w, i0, u);
    pk.i0[pa] = i0;
    gridm::axis_weights<0>(sc, sc + nc, g.deg, g.w, u, g.dscale[pa], GRAD, pk.k[pa], pk.dk[pa]);
  }
  return true;
}

// acc[t] += strengths of every point (see cuda/gridding.h); acc is float64 [ntransf][grid].
template <typename P, typename S, bool GRAD>
__global__ void __launch_bounds__(kThreads)
    spread_kernel(const P* __restrict__ pts, const S* __restrict__ str, double* __restrict__ acc, const DevGeo g,
                  const double* __restrict__ tables, unsigned long long* __restrict__ bad) {
  extern __shared__ double sc[];
  load_tables(tables, (g.deg + 1) * g.w, sc);
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long j = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; j < g.M; j += stride) {
    DevPK pk;
    if (!point_kernel<P, GRAD>(g, pts, j, sc, pk, bad)) continue;
    for (int t = 0; t < g.ntransf; ++t) {
      const S* sp = str + 2 * (static_cast<long long>(t) * g.rows * g.M + j);
      const double cr = static_cast<double>(sp[0]), ci = static_cast<double>(sp[1]);
      double gr[3] = {0, 0, 0}, gi[3] = {0, 0, 0};
      if (GRAD) {
        for (int a = 0; a < g.d; ++a) {
          gr[g.pad + a] = static_cast<double>(sp[2 * (1 + a) * g.M]);
          gi[g.pad + a] = static_cast<double>(sp[2 * (1 + a) * g.M + 1]);
        }
      }
      double* G = acc + 2 * static_cast<long long>(t) * g.ngrid;
      for (int a = 0; a < g.wa[0]; ++a) {
        const double k0 = pk.k[0][a], d0 = GRAD ? pk.dk[0][a] : 0.0;
        // Row (a, b) receives A⊗k2 + B⊗dk2 with A = (c·k0 + g0·dk0)·k1 + g1·k0·dk1, B = g2·k0·k1.
        const double Vr = GRAD ? cr * k0 + gr[0] * d0 : cr * k0, Vi = GRAD ? ci * k0 + gi[0] * d0 : ci * k0;
        const double G1r = gr[1] * k0, G1i = gi[1] * k0, G2r = gr[2] * k0, G2i = gi[2] * k0;
        const long long o0 = gridm::tap_index(pk.i0[0], a, g.n[0]) * g.n[1];
        for (int b = 0; b < g.wa[1]; ++b) {
          const double k1 = pk.k[1][b];
          double Ar = Vr * k1, Ai = Vi * k1, Br = 0, Bi = 0;
          if (GRAD) {
            const double d1 = pk.dk[1][b];
            Ar += G1r * d1;
            Ai += G1i * d1;
            Br = G2r * k1;
            Bi = G2i * k1;
          }
          double* row = G + 2 * (o0 + gridm::tap_index(pk.i0[1], b, g.n[1])) * g.n[2];
          for (int c = 0; c < g.wa[2]; ++c) {
            const long long o = 2 * gridm::tap_index(pk.i0[2], c, g.n[2]);
            const double k2 = pk.k[2][c];
            double vr = Ar * k2, vi = Ai * k2;
            if (GRAD) {
              vr += Br * pk.dk[2][c];
              vi += Bi * pk.dk[2][c];
            }
            atomicAdd(row + o, vr);
            atomicAdd(row + o + 1, vi);
          }
        }
      }
    }
  }
}

// out[t, (r,) j] = Σ_g grid[t, g]·W (and its derivatives with GRAD).
template <typename P, typename Gd, typename O, bool GRAD>
__global__ void __launch_bounds__(kThreads)
    interp_kernel(const P* __restrict__ pts, const Gd* __restrict__ grid, O* __restrict__ out, const DevGeo g,
                  const double* __restrict__ tables, unsigned long long* __restrict__ bad) {
  extern __shared__ double sc[];
  load_tables(tables, (g.deg + 1) * g.w, sc);
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long j = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; j < g.M; j += stride) {
    DevPK pk;
    if (!point_kernel<P, GRAD>(g, pts, j, sc, pk, bad)) continue;
    for (int t = 0; t < g.ntransf; ++t) {
      const Gd* Gt = grid + 2 * static_cast<long long>(t) * g.ngrid;
      double vr = 0, vi = 0, dr[3] = {0, 0, 0}, di[3] = {0, 0, 0};
      for (int a = 0; a < g.wa[0]; ++a) {
        const long long o0 = gridm::tap_index(pk.i0[0], a, g.n[0]) * g.n[1];
        double ar = 0, ai = 0, e1r = 0, e1i = 0, e2r = 0, e2i = 0;
        for (int b = 0; b < g.wa[1]; ++b) {
          const Gd* row = Gt + 2 * (o0 + gridm::tap_index(pk.i0[1], b, g.n[1])) * g.n[2];
          double sr = 0, si = 0, tr = 0, ti = 0;
          for (int c = 0; c < g.wa[2]; ++c) {
            const long long o = 2 * gridm::tap_index(pk.i0[2], c, g.n[2]);
            const double xr = static_cast<double>(row[o]), xi = static_cast<double>(row[o + 1]);
            const double k2 = pk.k[2][c];
            sr += xr * k2;
            si += xi * k2;
            if (GRAD) {
              tr += xr * pk.dk[2][c];
              ti += xi * pk.dk[2][c];
            }
          }
          const double k1 = pk.k[1][b];
          ar += sr * k1;
          ai += si * k1;
          if (GRAD) {
            const double d1 = pk.dk[1][b];
            e1r += sr * d1;
            e1i += si * d1;
            e2r += tr * k1;
            e2i += ti * k1;
          }
        }
        const double k0 = pk.k[0][a];
        vr += ar * k0;
        vi += ai * k0;
        if (GRAD) {
          const double d0 = pk.dk[0][a];
          dr[0] += ar * d0;
          di[0] += ai * d0;
          dr[1] += e1r * k0;
          di[1] += e1i * k0;
          dr[2] += e2r * k0;
          di[2] += e2i * k0;
        }
      }
      O* op = out + 2 * (static_cast<long long>(t) * g.rows * g.M + j);
      op[0] = static_cast<O>(vr);
      op[1] = static_cast<O>(vi);
      if (GRAD) {
        for (int a = 0; a < g.d; ++a) {
          op[2 * (1 + a) * g.M] = static_cast<O>(dr[g.pad + a]);
          op[2 * (1 + a) * g.M + 1] = static_cast<O>(di[g.pad + a]);
        }
      }
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) round_kernel(const double* __restrict__ src, T* __restrict__ dst, long long n) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) dst[i] = static_cast<T>(src[i]);
}

// Pipe–Menon weights, complex with zero imaginary parts (the spreading strengths).
__global__ void __launch_bounds__(kThreads) dcf_init_kernel(double* __restrict__ w, long long M) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long j = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; j < M; j += stride) {
    w[2 * j] = 1;
    w[2 * j + 1] = 0;
  }
}

__global__ void __launch_bounds__(kThreads) dcf_update_kernel(double* __restrict__ w, const double* __restrict__ v, long long M) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long j = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; j < M; j += stride) {
    w[2 * j] = gridm::pipe_menon(w[2 * j], v[2 * j], v[2 * j + 1]);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    dcf_store_kernel(const double* __restrict__ w, T* __restrict__ out, long long M, double scale) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long j = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; j < M; j += stride) {
    out[j] = static_cast<T>(w[2 * j] * scale);
  }
}

int blocks_for(long long work) {
  const long long b = (work + kThreads - 1) / kThreads;
  return static_cast<int>(std::max<long long>(1, std::min<long long>(b, 1 << 20)));
}


// The kernel tables on the device, the non-finite flag, and their shared-memory size.
struct Setup {
  double* tables = nullptr;
  unsigned long long* bad = nullptr;
  size_t smem = 0;
};

Setup setup(const GriddingOptions& o, AsyncTemps& tmp, cudaStream_t s) {
  Setup u;
  const size_t nc = o.coeffs.size();
  std::vector<double> host(2 * nc);
  std::copy(o.coeffs.begin(), o.coeffs.end(), host.begin());
  std::copy(o.dcoeffs.begin(), o.dcoeffs.end(), host.begin() + nc);
  u.tables = tmp.get<double>(2 * nc);
  // Pageable source: the copy is staged before cudaMemcpyAsync returns, so `host` may go.
  RK_CUDA_TRY(cudaMemcpyAsync(u.tables, host.data(), 2 * nc * sizeof(double), cudaMemcpyHostToDevice, s));
  u.bad = tmp.get<unsigned long long>(1);
  RK_CUDA_TRY(cudaMemsetAsync(u.bad, 0xff, sizeof(unsigned long long), s));
  u.smem = 2 * nc * sizeof(double);
  return u;
}

// Waits for the stream and raises NON_FINITE when a kernel met a non-finite coordinate; the
// message names it within its point set and says what it is, as the CPU's does.
template <typename P>
void finish(const Setup& u, const DevGeo& g, const P* points, cudaStream_t s) {
  unsigned long long host_bad = 0;
  RK_CUDA_TRY(cudaMemcpyAsync(&host_bad, u.bad, sizeof host_bad, cudaMemcpyDeviceToHost, s));
  RK_CUDA_TRY(cudaStreamSynchronize(s));
  if (host_bad != ~0ull) {
    const long long flat = static_cast<long long>(host_bad), r = flat % (g.d * g.M);
    const long long a = r / g.M, j = r % g.M;
    P x = 0;
    RK_CUDA_TRY(cudaMemcpyAsync(&x, points + flat, sizeof x, cudaMemcpyDeviceToHost, s));
    RK_CUDA_TRY(cudaStreamSynchronize(s));
    const char* what = std::isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";  // as JavaScript prints them
    throw OpFailure("NON_FINITE", "gridding: points[" + std::to_string(a) + ", " + std::to_string(j) + "] is " + what +
                                      "; coordinates must be finite");
  }
}

template <typename P, typename S>
void launch_spread(const DevGeo& g, bool grad, const P* pts, const S* str, double* acc, const Setup& u, cudaStream_t s) {
  if (grad) spread_kernel<P, S, true><<<blocks_for(g.M), kThreads, u.smem, s>>>(pts, str, acc, g, u.tables, u.bad);
  else spread_kernel<P, S, false><<<blocks_for(g.M), kThreads, u.smem, s>>>(pts, str, acc, g, u.tables, u.bad);
  RK_CUDA_CHECK_LAUNCH();
}

template <typename P, typename Gd, typename O>
void launch_interp(const DevGeo& g, bool grad, const P* pts, const Gd* grid, O* out, const Setup& u, cudaStream_t s) {
  if (grad) interp_kernel<P, Gd, O, true><<<blocks_for(g.M), kThreads, u.smem, s>>>(pts, grid, out, g, u.tables, u.bad);
  else interp_kernel<P, Gd, O, false><<<blocks_for(g.M), kThreads, u.smem, s>>>(pts, grid, out, g, u.tables, u.bad);
  RK_CUDA_CHECK_LAUNCH();
}

}  // namespace

template <typename T>
void gridding_spread_cuda(const GriddingOptions& o, const T* points, const T* strengths, T* grid, void* stream) {
  gridding_validate(o);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const long long total = gridding_grid_reals(o);
  const DevGeo g = make_geo(o);
  if (g.M == 0 || g.ntransf == 0) {
    RK_CUDA_TRY(cudaMemsetAsync(grid, 0, static_cast<size_t>(total) * sizeof(T), s));
    RK_CUDA_TRY(cudaStreamSynchronize(s));
    return;
  }
  AsyncTemps tmp(s);
  const Setup u = setup(o, tmp, s);
  double* acc;
  if constexpr (std::is_same<T, double>::value) acc = grid;
  else acc = tmp.get<double>(static_cast<size_t>(total));
  RK_CUDA_TRY(cudaMemsetAsync(acc, 0, static_cast<size_t>(total) * sizeof(double), s));
  launch_spread<T, T>(g, o.gradient, points, strengths, acc, u, s);
  if constexpr (!std::is_same<T, double>::value) {
    round_kernel<T><<<blocks_for(total), kThreads, 0, s>>>(acc, grid, total);
    RK_CUDA_CHECK_LAUNCH();
  }
  finish(u, g, points, s);
}

template <typename T>
void gridding_interp_cuda(const GriddingOptions& o, const T* points, const T* grid, T* out, void* stream) {
  gridding_validate(o);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const DevGeo g = make_geo(o);
  if (g.M == 0 || g.ntransf == 0) return;
  AsyncTemps tmp(s);
  const Setup u = setup(o, tmp, s);
  launch_interp<T, T, T>(g, o.gradient, points, grid, out, u, s);
  finish(u, g, points, s);
}

template <typename T>
void gridding_dcf_cuda(const GriddingOptions& o0, std::int64_t sets, const T* points, T* weights, int iterations,
                       double scale, void* stream) {
  GriddingOptions o = o0;
  o.ntransf = 1;
  o.gradient = false;
  gridding_validate(o);
  if (sets < 0) throw OpFailure("INVALID_ARGUMENT", "gridding: the number of point sets must be ≥ 0");
  if (iterations < 1) throw OpFailure("INVALID_ARGUMENT", "gridding: iterations must be ≥ 1");
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  DevGeo g = make_geo(o);
  if (g.M == 0 || sets == 0) return;
  AsyncTemps tmp(s);
  const Setup u = setup(o, tmp, s);
  double* w = tmp.get<double>(static_cast<size_t>(2 * g.M));
  double* v = tmp.get<double>(static_cast<size_t>(2 * g.M));
  double* grid = tmp.get<double>(static_cast<size_t>(2 * g.ngrid));
  for (std::int64_t p = 0; p < sets; ++p) {
    const T* pts = points + p * g.d * g.M;
    g.set0 = p * g.d * g.M;
    dcf_init_kernel<<<blocks_for(g.M), kThreads, 0, s>>>(w, g.M);
    RK_CUDA_CHECK_LAUNCH();
    for (int it = 0; it < iterations; ++it) {
      RK_CUDA_TRY(cudaMemsetAsync(grid, 0, static_cast<size_t>(2 * g.ngrid) * sizeof(double), s));
      launch_spread<T, double>(g, false, pts, w, grid, u, s);
      launch_interp<T, double, double>(g, false, pts, grid, v, u, s);
      dcf_update_kernel<<<blocks_for(g.M), kThreads, 0, s>>>(w, v, g.M);
      RK_CUDA_CHECK_LAUNCH();
    }
    dcf_store_kernel<T><<<blocks_for(g.M), kThreads, 0, s>>>(w, weights + p * g.M, g.M, scale);
    RK_CUDA_CHECK_LAUNCH();
  }
  finish(u, g, points, s);
}

template void gridding_spread_cuda<float>(const GriddingOptions&, const float*, const float*, float*, void*);
template void gridding_spread_cuda<double>(const GriddingOptions&, const double*, const double*, double*, void*);
template void gridding_interp_cuda<float>(const GriddingOptions&, const float*, const float*, float*, void*);
template void gridding_interp_cuda<double>(const GriddingOptions&, const double*, const double*, double*, void*);
template void gridding_dcf_cuda<float>(const GriddingOptions&, std::int64_t, const float*, float*, int, double, void*);
template void gridding_dcf_cuda<double>(const GriddingOptions&, std::int64_t, const double*, double*, int, double, void*);

}  // namespace rk
