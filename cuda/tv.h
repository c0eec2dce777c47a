// 3-D total variation: the problem description shared by the native (CPU) and CUDA backends.
// Plain C++ (no CUDA types) so the binding can include it whether or not CUDA is compiled in.
#pragma once
#include <cstdint>

namespace rk {

enum class TvKind : int { Squared = 0, Isotropic = 1, L1 = 2 };

// Volume layout: [batch, D, H, W], row-major (W fastest). Leading dims are flattened into batch.
struct TvProblem {
  TvKind kind = TvKind::Squared;
  std::int64_t batch = 1, D = 1, H = 1, W = 1;
  double eps = 1e-8;  // isotropic only: added under the square root
  // Upstream gradient. Squared/Isotropic: grad = scale[0] * dLoss/dvol.
  // L1: grad = sum_a scale[a] * dLoss_a/dvol (a = d, h, w).
  double scale[3] = {1.0, 1.0, 1.0};
  bool want_loss = true;
  bool want_grad = false;
};

// loss_out receives 1 double (Squared, Isotropic) or 3 doubles (L1: sums over d, h, w).
// grad may be null when !want_grad. Threads <= 0 means hardware concurrency.
template <typename T>
void tv3d_cpu(const TvProblem& p, const T* vol, T* grad, double* loss_out, int threads);

// Device pointers vol and grad; loss_out is host memory. Runs on `stream` (a cudaStream_t
// passed as void* so this header stays CUDA-free) and synchronises it before returning.
// If device_ms is non-null it receives the kernel time measured with CUDA events.
// Throws rk::CudaError (cuda/cuda_check.h) on failure.
template <typename T>
void tv3d_cuda(const TvProblem& p, const T* vol, T* grad, double* loss_out, void* stream,
               float* device_ms);

}  // namespace rk
