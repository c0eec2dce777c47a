// What the CUDA runtime reports about this machine, probed once per process.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rk {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  std::int64_t total_memory = 0;
  int multiprocessors = 0;
  int pci_bus_id = 0;
};

struct CudaInfo {
  bool compiled = false;   // CUDA code is in this build
  bool available = false;  // at least one usable device
  std::string reason;      // why not available
  int runtime_version = 0;
  int driver_version = 0;
  std::vector<CudaDeviceInfo> devices;
};

const CudaInfo& GetCudaInfo();

}  // namespace rk
