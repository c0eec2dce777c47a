// CUDA error handling for the CUDA backend. Included only by .cu files and by host .cc files that
// are compiled when CUDA is enabled.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace rk {

struct CudaError : std::runtime_error {
  std::string code;      // stable error code for the JS side, e.g. "CUDA_ERROR"
  std::string cuda_name; // cudaGetErrorName(), e.g. "cudaErrorMemoryAllocation"
  cudaError_t status;
  CudaError(cudaError_t st, const std::string& msg, std::string c = "CUDA_ERROR")
      : std::runtime_error(msg), code(std::move(c)), cuda_name(cudaGetErrorName(st)), status(st) {}
};

namespace detail {
[[noreturn]] inline void throw_cuda(cudaError_t st, const char* expr, const char* file, int line) {
  std::string msg = std::string(cudaGetErrorName(st)) + ": " + cudaGetErrorString(st) + " at " +
                    file + ":" + std::to_string(line) + " in " + expr;
  throw CudaError(st, msg);
}
}  // namespace detail

}  // namespace rk

#define RK_CUDA_TRY(expr)                                                     \
  do {                                                                        \
    cudaError_t rk_cuda_status_ = (expr);                                     \
    if (rk_cuda_status_ != cudaSuccess)                                       \
      ::rk::detail::throw_cuda(rk_cuda_status_, #expr, __FILE__, __LINE__);   \
  } while (0)

// Call right after a kernel launch (<<<...>>>): reports launch-configuration errors.
#define RK_CUDA_CHECK_LAUNCH() RK_CUDA_TRY(cudaGetLastError())

namespace rk {

// Stream-ordered temporaries (cudaMallocAsync), freed on every path when the scope ends.
struct AsyncTemps {
  cudaStream_t s;
  std::vector<void*> ptrs;
  explicit AsyncTemps(cudaStream_t st) : s(st) {}
  AsyncTemps(const AsyncTemps&) = delete;
  AsyncTemps& operator=(const AsyncTemps&) = delete;
  ~AsyncTemps() {
    for (void* p : ptrs) cudaFreeAsync(p, s);
  }
  template <typename U>
  U* get(size_t n) {
    void* p = nullptr;
    RK_CUDA_TRY(cudaMallocAsync(&p, std::max<size_t>(n, 1) * sizeof(U), s));
    ptrs.push_back(p);
    return static_cast<U*>(p);
  }
};

}  // namespace rk
