#include "cuda_info.h"

#include <mutex>

#if RK_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace rk {

static CudaInfo Probe() {
  CudaInfo info;
#if RK_WITH_CUDA
  info.compiled = true;
  cudaRuntimeGetVersion(&info.runtime_version);
  cudaDriverGetVersion(&info.driver_version);
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    info.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    if (info.driver_version == 0) info.reason += " (no NVIDIA driver found: libcuda.so.1 is not loadable)";
    return info;
  }
  if (count == 0) {
    info.reason = "the CUDA runtime found no device";
    return info;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    CudaDeviceInfo d;
    d.index = i;
    d.name = p.name;
    d.major = p.major;
    d.minor = p.minor;
    d.total_memory = static_cast<std::int64_t>(p.totalGlobalMem);
    d.multiprocessors = p.multiProcessorCount;
    d.pci_bus_id = p.pciBusID;
    info.devices.push_back(d);
  }
  info.available = !info.devices.empty();
  if (!info.available) info.reason = "cudaGetDeviceProperties failed for every device";
#else
  info.reason = "this build of recon-kernels has no CUDA support (nvcc was not found when it was built)";
#endif
  return info;
}

const CudaInfo& GetCudaInfo() {
  static std::once_flag once;
  static CudaInfo info;
  std::call_once(once, [] { info = Probe(); });
  return info;
}

}  // namespace rk
