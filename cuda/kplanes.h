// Tilted K-Planes feature sampling: the problem description shared by the native (CPU) and CUDA
// backends. Plain C++ (no CUDA types) so the binding can include it whether or not CUDA is
// compiled in. Math: cuda/kplanes_math.cuh.
#pragma once
#include <cstdint>
#include <vector>

namespace rk {

// points [B, 3]; rotations [T, 3, 3] row-major; level s: planes [3T, C, H[s], W[s]];
// features [B, S·T·C] with column s·T·C + t·C + c, level s scaled by gates[s].
struct KPlanesProblem {
  std::int64_t B = 0, T = 1, C = 1;
  std::vector<std::int64_t> H, W;  // one per level
  std::vector<double> gates;       // one per level
  std::int64_t levels() const { return static_cast<std::int64_t>(H.size()); }
};

// Forward: out [B, S·T·C] (every element written). Deterministic. threads <= 0: all cores.
template <typename T>
void kplanes_forward_cpu(const KPlanesProblem& p, const T* points, const T* rotations,
                         const T* const* planes, T* out, int threads);

// Backward from grad_out [B, S·T·C]. Any of grad_planes (one pointer per level, each
// [3T, C, H, W]), grad_points [B, 3] and grad_rotations [T, 3, 3] may be null (not wanted);
// those given are overwritten. Bitwise deterministic, independent of the thread count.
template <typename T>
void kplanes_backward_cpu(const KPlanesProblem& p, const T* points, const T* rotations,
                          const T* const* planes, const T* grad_out, T* const* grad_planes,
                          T* grad_points, T* grad_rotations, int threads);

// CUDA versions: device pointers (the pointer arrays themselves are host memory). Run on
// `stream` (a cudaStream_t as void*) and synchronise it before returning; device_ms (if
// non-null) receives the time of the whole call on the device measured with CUDA events.
// Instantiated for float only. Throws rk::CudaError on failure. The backward is not bitwise
// deterministic (atomicAdd).
template <typename T>
void kplanes_forward_cuda(const KPlanesProblem& p, const T* points, const T* rotations,
                          const T* const* planes, T* out, void* stream, float* device_ms);

template <typename T>
void kplanes_backward_cuda(const KPlanesProblem& p, const T* points, const T* rotations,
                           const T* const* planes, const T* grad_out, T* const* grad_planes,
                           T* grad_points, T* grad_rotations, void* stream, float* device_ms);

}  // namespace rk
