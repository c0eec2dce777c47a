// Device copy bandwidth probe (see bandwidth.h).
#include <algorithm>
#include <stdexcept>

#include "bandwidth.h"
#include "cuda_check.h"

namespace rk {
namespace {

__global__ void __launch_bounds__(256)
    copy_f4_kernel(const float4* __restrict__ src, float4* __restrict__ dst, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride)
    dst[i] = __ldg(src + i);
}

struct BwResources {
  int prev_device = -1;
  void* src = nullptr;
  void* dst = nullptr;
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  ~BwResources() {
    if (src) cudaFree(src);
    if (dst) cudaFree(dst);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    if (prev_device >= 0) cudaSetDevice(prev_device);
  }
};

}  // namespace

double cuda_copy_bandwidth_gbs(int device, std::int64_t bytes, int repeat) {
  if (bytes < 16) bytes = 16;
  bytes &= ~std::int64_t(15);
  repeat = std::max(repeat, 1);
  const std::int64_t n4 = bytes / 16;
  BwResources r;
  int prev = 0;
  RK_CUDA_TRY(cudaGetDevice(&prev));
  r.prev_device = prev;
  RK_CUDA_TRY(cudaSetDevice(device));
  RK_CUDA_TRY(cudaMalloc(&r.src, bytes));
  RK_CUDA_TRY(cudaMalloc(&r.dst, bytes));
  RK_CUDA_TRY(cudaMemset(r.src, 0, bytes));
  RK_CUDA_TRY(cudaMemset(r.dst, 0, bytes));
  RK_CUDA_TRY(cudaEventCreate(&r.e0));
  RK_CUDA_TRY(cudaEventCreate(&r.e1));

  int sms = 1, per_sm = 1;
  RK_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  RK_CUDA_TRY(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, copy_f4_kernel, 256, 0));
  const std::int64_t want = (n4 + 255) / 256;
  const unsigned blocks = static_cast<unsigned>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(want, std::int64_t(sms) * per_sm * 4)));
  const float4* src = static_cast<const float4*>(r.src);
  float4* dst = static_cast<float4*>(r.dst);

  copy_f4_kernel<<<blocks, 256>>>(src, dst, n4);  // warm-up
  RK_CUDA_CHECK_LAUNCH();
  RK_CUDA_TRY(cudaDeviceSynchronize());
  float best_ms = -1.f;
  for (int i = 0; i < repeat; ++i) {
    RK_CUDA_TRY(cudaEventRecord(r.e0, 0));
    copy_f4_kernel<<<blocks, 256>>>(src, dst, n4);
    RK_CUDA_CHECK_LAUNCH();
    RK_CUDA_TRY(cudaEventRecord(r.e1, 0));
    RK_CUDA_TRY(cudaEventSynchronize(r.e1));
    float ms = 0.f;
    RK_CUDA_TRY(cudaEventElapsedTime(&ms, r.e0, r.e1));
    if (best_ms < 0.f || ms < best_ms) best_ms = ms;
  }
  if (best_ms <= 0.f) return 0.0;
  return 2.0 * double(bytes) / (double(best_ms) * 1e-3) / 1e9;
}

}  // namespace rk
