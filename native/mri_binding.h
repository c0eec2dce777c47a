// addon.mriOp and addon.MriToeplitz (native/mri_binding.cc).
#pragma once
#include <napi.h>

namespace rk {
// Sets exports.mriOp and exports.MriToeplitz.
void MriExports(Napi::Env env, Napi::Object exports);
}  // namespace rk
