// Copy-bandwidth probes used to put kernel timings in context. Plain C++ header (no CUDA types).
#pragma once
#include <cstdint>

namespace rk {

// Device-to-device copy of `bytes` (rounded down to a multiple of 16, at least 16) with a
// float4 grid-stride kernel on `device`, timed with CUDA events; best of `repeat` runs.
// Returns GB/s (1e9 B/s) counting bytes read + written (2 * bytes / time). Allocates and frees its
// own buffers; restores the current device. Throws rk::CudaError on failure.
double cuda_copy_bandwidth_gbs(int device, std::int64_t bytes, int repeat);

// Host memcpy of `bytes` split in contiguous chunks over `threads` threads (<= 0: default);
// best of `repeat`; GB/s counting bytes read + written.
double cpu_copy_bandwidth_gbs(std::int64_t bytes, int repeat, int threads);

}  // namespace rk
