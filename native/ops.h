// The exported op entry points, registered by addon.cc.
#pragma once
#include <napi.h>

namespace rk {
Napi::Value Tv3d(const Napi::CallbackInfo& info);
Napi::Value ArrayOpBinding(const Napi::CallbackInfo& info);
Napi::Value KplanesSample(const Napi::CallbackInfo& info);
Napi::Value KplanesBackward(const Napi::CallbackInfo& info);
Napi::Value TomoOpBinding(const Napi::CallbackInfo& info);
Napi::Value GriddingOpBinding(const Napi::CallbackInfo& info);
}  // namespace rk
