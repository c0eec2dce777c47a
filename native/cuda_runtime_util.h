// Host-side helpers around the CUDA runtime for the binding (only built with CUDA).
#pragma once
#if RK_WITH_CUDA
#include <cuda_runtime.h>

#include "cuda_check.h"

namespace rk {
// Makes `device` current on this thread for the lifetime of the guard.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) { RK_CUDA_TRY(cudaSetDevice(device)); }
};
}  // namespace rk
#endif
