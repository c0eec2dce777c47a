// Parallel-beam tomography (Joseph's method): the problem description shared by the native (CPU)
// and CUDA backends. Plain C++ (no CUDA types) so the binding can include it whether or not CUDA
// is compiled in. Per-element math: cuda/tomo_math.cuh. The geometry table is built once per
// operator on the host (lib/tomo/geometry.ts) and lives where the data lives.
//
// Volume [Z, Y, X] (X fastest), sinogram [R, A, U] (rows, angles, detector columns).
// geom (float64), in this order:
//   A × 5   per angle: axis (0: the ray steps over rows j, 1: over columns i), a, b0, b1, L.
//           Along step s the ray crosses the other axis at f = a·u + (b0 + b1·s) (in voxel
//           index units) and is interpolated linearly between floor(f) and floor(f) + 1; each
//           step has length L.
//   R × 4   per detector row: z0, w0, z1, w1 (slices and interpolation weights; z < 0: none).
//   Z + 1   CSR offsets of the transposed row table (per slice, its (row, weight) entries).
//   nnz × 2 the CSR entries (row, weight), the same weights as the row table.
#pragma once
#include <cstdint>

namespace rk {

enum class TomoOp : int {
  Forward = 0,   // out (sino) = A · x (vol)
  Adjoint = 1,   // out (vol) = Aᵀ · x (sino)
  Filter = 2,    // out[l, u] = Σ_k x[l, k] · filt[(u − k) mod N], lines of U samples
  TvDual = 3,    // q ← proj_{|·|≤lambda}(q + sigma · ∇x); q = out [3, Z, Y, X], x = vol
  TvGradT = 4,   // out (vol) = ∇ᵀ q, q = x [3, Z, Y, X]
  Recip = 5,     // out = x > eps ? 1 / x : 0 (out may alias x)
};

struct TomoProblem {
  TomoOp op = TomoOp::Forward;
  std::int64_t Z = 1, Y = 1, X = 1;  // volume
  std::int64_t R = 1, A = 1, U = 1;  // sinogram
  std::int64_t nnz = 0;              // CSR entries in geom
  std::int64_t N = 1;                // Filter: period of filt (N >= 2U − 1: linear convolution)
  std::int64_t lines = 0;            // Filter: number of lines; Recip: element count
  double sigma = 0, lambda = 0, eps = 0;
  bool gather = false;  // Adjoint on the CPU: use the voxel-driven gather of the CUDA kernel
  std::int64_t vol_size() const { return Z * Y * X; }
  std::int64_t sino_size() const { return R * A * U; }
  std::int64_t geom_size() const { return A * 5 + R * 4 + Z + 1 + 2 * nnz; }
};

// x: the input, out: the output (see TomoOp); geom: float64 table (Forward/Adjoint only);
// filt: Filter taps (N values of T). threads <= 0: all cores. Deterministic.
template <typename T>
void tomo_cpu(const TomoProblem& p, const T* x, T* out, const double* geom, const T* filt, int threads);

// CUDA version: device pointers; runs on `stream` (a cudaStream_t as void*) and synchronises it
// before returning; device_ms (if non-null) gets the device time. float and double. No atomics:
// the adjoint is a voxel-driven gather of the forward's Joseph weights, so it is deterministic.
template <typename T>
void tomo_cuda(const TomoProblem& p, const T* x, T* out, const double* geom, const T* filt, void* stream, float* device_ms);

}  // namespace rk
