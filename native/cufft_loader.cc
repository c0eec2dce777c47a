#include "cufft_loader.h"

#include <dlfcn.h>
#include <glob.h>

#include <cstdlib>
#include <mutex>

namespace rk::cufft {

namespace {

Api g_api;
Status g_status;
std::once_flag g_once;

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

// Where CUDA toolkits and the NVIDIA Python wheels (nvidia-cufft-cu11/12, cu13) put cuFFT.
std::vector<std::string> SearchDirectories() {
  std::vector<std::string> dirs;
  for (const char* env : {"CUDA_HOME", "CUDA_PATH"}) {
    if (const char* v = std::getenv(env)) {
      dirs.push_back(std::string(v) + "/lib64");
      dirs.push_back(std::string(v) + "/lib");
    }
  }
  dirs.push_back("/usr/local/cuda/lib64");
  for (const auto& d : Glob("/usr/local/cuda-*/lib64")) dirs.push_back(d);
  dirs.push_back("/usr/lib/x86_64-linux-gnu");
  dirs.push_back("/usr/lib64");
  std::vector<std::string> prefixes;
  for (const char* env : {"VIRTUAL_ENV", "CONDA_PREFIX"}) {
    if (const char* v = std::getenv(env)) prefixes.push_back(v);
  }
  if (const char* home = std::getenv("HOME")) prefixes.push_back(std::string(home) + "/.local");
  for (const char* p : {"/usr/local", "/usr", "/opt/conda", "/opt/venv", "/root/.local"}) prefixes.push_back(p);
  for (const auto& prefix : prefixes) {
    for (const char* sub : {"/lib/python3*/site-packages", "/lib/python3*/dist-packages", "/lib64/python3*/site-packages"}) {
      for (const auto& site : Glob(prefix + sub)) {
        for (const char* pkg : {"/nvidia/cufft/lib", "/nvidia/cu13/lib", "/nvidia/cu12/lib", "/torch/lib"}) {
          dirs.push_back(site + pkg);
        }
      }
    }
  }
  dirs.push_back("/opt/conda/lib");
  return dirs;
}

// Wheels ship cuFFT's own dependency (nvJitLink) beside it rather than on the loader path.
void PreloadSiblings(const std::string& path) {
  std::string dir = path.substr(0, path.find_last_of('/'));
  std::string parent = dir.substr(0, dir.find_last_of('/'));
  std::string grand = parent.substr(0, parent.find_last_of('/'));
  for (const auto& p : Glob(grand + "/nvjitlink/lib/libnvJitLink.so*")) dlopen(p.c_str(), RTLD_NOW | RTLD_GLOBAL);
  for (const auto& p : Glob(dir + "/libnvJitLink.so*")) dlopen(p.c_str(), RTLD_NOW | RTLD_GLOBAL);
}

template <typename F>
bool Bind(void* lib, const char* name, F& fn, std::string& error) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (!fn) error += std::string("missing symbol ") + name + "; ";
  return fn != nullptr;
}

bool TryOpen(const std::string& name, bool is_path) {
  g_status.searched.push_back(name);
  dlerror();
  void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib && is_path) {
    PreloadSiblings(name);
    lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  }
  if (!lib) {
    const char* e = dlerror();
    std::string text = e ? e : "dlopen failed";
    // A file that does not exist is expected for most candidates; keep the other errors.
    if (!is_path || text.find("No such file") == std::string::npos) g_status.error += text + "; ";
    return false;
  }
  std::string missing;
  Api api{};
  bool ok = Bind(lib, "cufftGetVersion", api.GetVersion, missing) & Bind(lib, "cufftPlanMany", api.PlanMany, missing) &
            Bind(lib, "cufftSetStream", api.SetStream, missing) & Bind(lib, "cufftExecC2C", api.ExecC2C, missing) &
            Bind(lib, "cufftExecZ2Z", api.ExecZ2Z, missing) & Bind(lib, "cufftDestroy", api.Destroy, missing);
  if (!ok) {
    g_status.error += name + ": " + missing;
    dlclose(lib);
    return false;
  }
  int version = 0;
  api.GetVersion(&version);
  g_api = api;
  g_status.loaded = true;
  g_status.version = version;
  char resolved[4096] = {0};
  if (dlinfo(lib, RTLD_DI_ORIGIN, resolved) == 0) {
    g_status.path = std::string(resolved) + "/" + name.substr(name.find_last_of('/') + 1);
  } else {
    g_status.path = name;
  }
  return true;
}

void LoadOnce() {
  if (const char* explicit_path = std::getenv("RECON_KERNELS_CUFFT"); explicit_path && *explicit_path) {
    if (!TryOpen(explicit_path, true)) {
      g_status.error = std::string("RECON_KERNELS_CUFFT=") + explicit_path + " could not be loaded: " + g_status.error;
    }
    return;
  }
  const char* sonames[] = {"libcufft.so.12", "libcufft.so.11"};
  for (const char* so : sonames) {
    if (TryOpen(so, false)) return;
  }
  for (const auto& dir : SearchDirectories()) {
    for (const char* so : sonames) {
      for (const auto& p : Glob(dir + "/" + so)) {
        if (TryOpen(p, true)) return;
      }
    }
  }
  g_status.error = "cuFFT (libcufft.so.12 or .11) was not found; install the CUDA toolkit's cuFFT or the nvidia-cufft "
                   "Python wheel, or set RECON_KERNELS_CUFFT to the library's path. Errors: " + g_status.error;
}

}  // namespace

const Api* Load() {
  std::call_once(g_once, LoadOnce);
  return g_status.loaded ? &g_api : nullptr;
}

Status GetStatus() {
  Load();
  return g_status;
}

const char* ResultName(Result r) {
  static const char* names[] = {"CUFFT_SUCCESS",        "CUFFT_INVALID_PLAN",   "CUFFT_ALLOC_FAILED",    "CUFFT_INVALID_TYPE",
                                "CUFFT_INVALID_VALUE",  "CUFFT_INTERNAL_ERROR", "CUFFT_EXEC_FAILED",     "CUFFT_SETUP_FAILED",
                                "CUFFT_INVALID_SIZE",   "CUFFT_UNALIGNED_DATA", "CUFFT_INCOMPLETE_PARAMETER_LIST",
                                "CUFFT_INVALID_DEVICE", "CUFFT_PARSE_ERROR",    "CUFFT_NO_WORKSPACE",    "CUFFT_NOT_IMPLEMENTED",
                                "CUFFT_LICENSE_ERROR",  "CUFFT_NOT_SUPPORTED"};
  if (r >= 0 && r < static_cast<int>(sizeof(names) / sizeof(names[0]))) return names[r];
  return "CUFFT_UNKNOWN_ERROR";
}

}  // namespace rk::cufft
