// addon.NufftPlan (native/nufft_binding.cc).
#pragma once
#include <napi.h>

namespace rk {
// The NufftPlan class constructor, for exports.Set("NufftPlan", ...).
Napi::Function NufftPlanInit(Napi::Env env);
}  // namespace rk
