// Device memory owned by a JS object: freed by free() or by the finalizer, and reported to V8
// as external memory so the garbage collector sees its weight.
#pragma once
#include <napi.h>

#include <cstdint>

namespace rk {

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static Napi::Function Init(Napi::Env env);
  static bool IsInstance(const Napi::Value& v);
  static DeviceBuffer* Unwrap(const Napi::Value& v);

  explicit DeviceBuffer(const Napi::CallbackInfo& info);
  void Finalize(Napi::Env env) override;

  void* ptr() const { return ptr_; }
  std::int64_t bytes() const { return bytes_; }
  int device() const { return device_; }
  bool freed() const { return ptr_ == nullptr; }

  // An op in flight holds the memory; free() during it is deferred until the op settles.
  void Acquire() { ++busy_; }
  void Release(Napi::Env env);

 private:
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value GetBytes(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetFreed(const Napi::CallbackInfo& info);
  Napi::Value Upload(const Napi::CallbackInfo& info);
  Napi::Value Download(const Napi::CallbackInfo& info);
  Napi::Value CopyFrom(const Napi::CallbackInfo& info);
  void ReleaseMemory(Napi::Env env);

  void* ptr_ = nullptr;
  std::int64_t bytes_ = 0;
  int device_ = 0;
  int busy_ = 0;
  bool free_pending_ = false;
  bool disowned_ = false;  // free() was called: the JS side no longer uses it
};

}  // namespace rk
