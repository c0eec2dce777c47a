// Kaiser–Bessel gridding alone (lib/gridding): spreading complex strengths at nonuniform points
// onto a periodic uniform grid, its adjoint (interpolation), both with an optional fused
// gradient, and Pipe–Menon density compensation on top of them. Plain C++ (no CUDA or N-API
// types) shared by the native (CPU) backend and the CUDA backend. Per-point math:
// cuda/gridding_math.cuh.
//
// Geometry (row-major, last axis fastest): grid [ntransf, n1..nd] complex interleaved; points real
// [d, M] radians (period 2π), point row a pairs with grid axis a; grid index g sits at 2π·g/n and a
// point at y = (x mod 2π)·n/(2π). Weight W(g, x) = Π_a φ((g_a − y_a)/(w/2)), taken periodically.
//   spread:  grid[t, g] = Σ_j c_{t,j}·W(g, x_j)  (+ Σ_a d_{t,j,a}·∂W/∂x_{j,a} with gradient;
//            strengths are then [ntransf, 1+d, M] = (c, d_1..d_d)), strengths [ntransf, M].
//   interp:  out[t, j] = Σ_g grid[t, g]·W(g, x_j); with gradient out is [ntransf, 1+d, M]: the
//            value and its derivatives with respect to x_{j,a} (per radian).
// φ is given as the piecewise polynomial of lib/nufft/params.ts kernelPolynomial (already
// normalised by the caller, e.g. φ(0) = 1): with i0 = ⌈y − w/2⌉ and u = 2·(i0 − (y − w/2)) − 1,
// the weight of grid point i0 + q is Σ_p coeffs[p·w + q]·u^(degree−p), and dφ/dz likewise from
// dcoeffs (z = distance/(w/2)).
//
// Precision: the CPU folds, evaluates the kernel and accumulates in float64 whatever T is, and
// rounds once to T. CUDA also evaluates and accumulates in float64 (double atomics on a float64
// scratch grid for float data); its spreading order, and so its last bits, vary run to run.
// The CPU is bit-identical run to run and across thread counts.
//
// Errors: rk::OpFailure with codes INVALID_ARGUMENT, NON_FINITE (a point coordinate that is NaN
// or ±∞), SIZE_TOO_LARGE.
#pragma once
#include <cstdint>
#include <vector>

namespace rk {

struct GriddingOptions {
  int dim = 1;                           // d = 1..3
  std::int64_t grid[3] = {1, 1, 1};      // n1..nd, each ≥ width
  std::int64_t M = 0;                    // points per point set
  int ntransf = 1;                       // stacked grids / strength sets sharing the points
  bool gradient = false;
  int width = 2;                         // w = 2..16 grid cells per axis
  int degree = 0;                        // polynomial degree (≤ 30)
  std::vector<double> coeffs, dcoeffs;   // [degree+1][width], highest power first
  int threads = 0;                       // CPU: 0 = default (RECON_KERNELS_THREADS or hardware)
};

// Throws OpFailure when the options are inconsistent (sizes, widths, coefficient tables).
void gridding_validate(const GriddingOptions& o);

// Elements (reals) of the strengths / values array [ntransf, (1+d,) M] and of the grid.
std::int64_t gridding_point_reals(const GriddingOptions& o);
std::int64_t gridding_grid_reals(const GriddingOptions& o);

// CPU (native/gridding_cpu.cc). grid is overwritten (spread), out is overwritten (interp).
template <typename T>
void gridding_spread_cpu(const GriddingOptions& o, const T* points, const T* strengths, T* grid);
template <typename T>
void gridding_interp_cpu(const GriddingOptions& o, const T* points, const T* grid, T* out);

// Pipe–Menon density compensation for `sets` point sets [sets, d, M]: starting from w = 1,
// `iterations` times w ← w / |G(Gᴴ w)| (Gᴴ = spread, G = interp; w_j ← 0 where that is 0),
// computed in float64; weights [sets, M] = w·scale. ntransf and gradient are ignored.
template <typename T>
void gridding_dcf_cpu(const GriddingOptions& o, std::int64_t sets, const T* points, T* weights, int iterations,
                      double scale);

// CUDA (cuda/gridding_cuda.cu): device pointers, run on `stream` (a cudaStream_t as void*) of the
// current device, synchronised before returning.
template <typename T>
void gridding_spread_cuda(const GriddingOptions& o, const T* points, const T* strengths, T* grid, void* stream);
template <typename T>
void gridding_interp_cuda(const GriddingOptions& o, const T* points, const T* grid, T* out, void* stream);
template <typename T>
void gridding_dcf_cuda(const GriddingOptions& o, std::int64_t sets, const T* points, T* weights, int iterations,
                       double scale, void* stream);

}  // namespace rk
