// NUFFT types 1 and 2 (d = 1..3, optional fused gradient): the plan interface shared by the
// native (CPU) backend and a later CUDA backend. Plain C++ (no CUDA or N-API types).
//
// FINUFFT conventions, row-major:
//   type 1: f[k] = Σ_j c_j·exp(isign·i·k·x_j)     type 2: c_j = Σ_k f[k]·exp(isign·i·k·x_j)
// modes [N1..Nd] pair with point rows 1..d; mode arrays [ntransf, N1..Nd] complex interleaved;
// points real [d, M] (float for complex64, double for complex128), period 2π.
// Gradient: type 1 takes strengths [ntransf, 1+d, M] = (c_j, d_{j,1..d}) and returns
// f[k] = Σ_j (c_j + isign·i·(k·d_j))·exp(isign·i·k·x_j) (one spread pass, one FFT); type 2
// returns [ntransf, 1+d, M]: the value and ∂c_j/∂x_a rows (one FFT).
//
// Kernel parameters (width, β, fine grid, polynomial coefficients, φ̂) are chosen exactly as in
// lib/nufft/params.ts. Errors are thrown as rk::OpFailure (native/op_failure.h) with codes
// INVALID_ARGUMENT, INVALID_DTYPE, INVALID_SHAPE, NON_FINITE, SIZE_TOO_LARGE.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace rk {

struct NufftOptions {
  int type = 1;                            // 1 or 2
  int dim = 1;                             // 1..3
  std::int64_t modes[3] = {1, 1, 1};       // N1..Nd
  int ntransf = 1;
  int isign = 1;                           // +1 or −1
  int modeord = 0;                         // 0: k from −⌊N/2⌋; 1: FFT order
  double eps = 1e-6;
  double upsampfac = 2.0;                  // 2 or 1.25
  bool gradient = false;
  bool f32 = false;                        // complex64 (float) vs complex128 (double)
  int width = 0;                           // plain-width override, 0 = from eps
  int threads = 0;                         // 0 = default (RECON_KERNELS_THREADS or hardware)
  // Batched point sets: points [P, d, M], data [P, ntransf, M] / [P, ntransf, N1..Nd]; the
  // engine handles all P·ntransf grids in one execute (set p uses transforms p·ntransf..).
  int P = 1;
  // Per-axis overrides (0 = none): plain width per axis (else `width`, else from eps) and
  // fine-grid size per axis (2,3,5-smooth, > N, ≥ 2·max width; β then uses σ = nf/N). Default
  // fine grids use the largest width. Matches lib/nufft/params.ts axisLayout.
  int widths[3] = {0, 0, 0};
  std::int64_t fine_grid[3] = {0, 0, 0};
};

struct NufftInfo {
  int width = 0;
  double beta = 0;
  double upsampfac = 2.0;
  std::int64_t fine[3] = {1, 1, 1};
  int gradient_width_increase = 0;
  int degree = 0;
  int widths[3] = {0, 0, 0};   // per axis (width is their maximum)
  double betas[3] = {0, 0, 0};
};

// Wall-clock ms: sort from the last set_points, the rest from the last execute.
struct NufftTimings {
  double sort_ms = 0, spread_ms = 0, fft_ms = 0, deconvolve_ms = 0, total_ms = 0;
};

// Kernel choice as in params.ts chooseKernel (throws OpFailure INVALID_ARGUMENT like it).
struct NufftKernel {
  int width = 0;
  double beta = 0;
  double upsampfac = 2;
  int gradient_width_increase = 0;
  int degree = 0;
  std::vector<double> coeffs, dcoeffs;  // [degree+1][width], highest power first
};
NufftKernel nufft_choose_kernel(double eps, double upsampfac, bool f32, bool gradient, int width_override);
double nufft_eps_limit(bool f32, double upsampfac);
std::int64_t nufft_fine_grid_size(std::int64_t N, double upsampfac, int width);
// φ̂(k) for k = −⌊N/2⌋ .. (params.ts kernelFourierSeries).
std::vector<double> nufft_kernel_fseries(int width, double beta, std::int64_t nf, std::int64_t N);

class NufftPlan {
 public:
  explicit NufftPlan(const NufftOptions& o);
  ~NufftPlan();
  NufftPlan(const NufftPlan&) = delete;
  NufftPlan& operator=(const NufftPlan&) = delete;

  const NufftOptions& options() const;
  const NufftInfo& info() const;
  // The kernel of each real axis (width, β, polynomials); all equal unless per-axis widths or
  // fine grids were asked for. The CUDA plan uploads these.
  const std::vector<NufftKernel>& axis_kernels() const;
  // Copies, validates (finite), folds and sorts the points [P, d, M] (M per set). The element type must match
  // the plan's precision (float for f32). Thread-safe (serialised with execute).
  void set_points(const float* pts, std::int64_t M);
  void set_points(const double* pts, std::int64_t M);
  // Runs the transform; in_len/out_len are the element counts (reals) of the buffers.
  void execute(const float* in, std::int64_t in_len, float* out, std::int64_t out_len);
  void execute(const double* in, std::int64_t in_len, double* out, std::int64_t out_len);
  // -1 before set_points.
  std::int64_t num_points() const;
  // Reals needed for execute's input / output at M points.
  std::int64_t input_length(std::int64_t M) const;
  std::int64_t output_length(std::int64_t M) const;
  NufftTimings timings() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rk
