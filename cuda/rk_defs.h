// Shared macros for code compiled both by nvcc (kernels) and by the host C++ compiler (native
// backend), so the per-element math is written once.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define RK_HD __host__ __device__
#define RK_FORCEINLINE __forceinline__
#else
#define RK_HD
#define RK_FORCEINLINE inline __attribute__((always_inline))
#endif

namespace rk {
using index_t = std::int64_t;
}
