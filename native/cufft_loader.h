// cuFFT, loaded with dlopen at first use through our own declarations of the few functions we
// call, so the addon has no link-time dependency on it and loads where it is absent.
#pragma once
#include <string>
#include <vector>

namespace rk::cufft {

using Handle = int;
using Result = int;  // cufftResult; 0 is CUFFT_SUCCESS
constexpr int kC2C = 0x29;  // CUFFT_C2C
constexpr int kZ2Z = 0x69;  // CUFFT_Z2Z
constexpr int kForward = -1;
constexpr int kInverse = 1;

struct Api {
  Result (*GetVersion)(int* version);
  Result (*PlanMany)(Handle* plan, int rank, int* n, int* inembed, int istride, int idist, int* onembed, int ostride,
                     int odist, int type, int batch);
  Result (*SetStream)(Handle plan, void* stream);
  Result (*ExecC2C)(Handle plan, void* idata, void* odata, int direction);
  Result (*ExecZ2Z)(Handle plan, void* idata, void* odata, int direction);
  Result (*Destroy)(Handle plan);
};

struct Status {
  bool loaded = false;
  int version = 0;
  std::string path;
  std::string error;                  // every failed attempt's dlerror, joined
  std::vector<std::string> searched;  // sonames and paths tried, in order
};

// Loads cuFFT once per process; null when it cannot be loaded (see GetStatus()).
const Api* Load();
Status GetStatus();
const char* ResultName(Result r);

}  // namespace rk::cufft
