// Glue shared by every exported function: errors with codes, reading op arguments, and the
// one AsyncWorker that runs an op's work off the main thread and settles its Promise.
#pragma once
#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "op_failure.h"

namespace rk {

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message);

// Maps the exception in flight (call inside a catch block) to a code and a message.
void DescribeCurrentException(std::string& code, std::string& message);

// Runs `body` and turns any C++ exception into a JS exception with a code.
Napi::Value Guard(Napi::Env env, const std::function<Napi::Value()>& body);

// The memory behind a tensor: a host typed array or a DeviceBuffer.
struct Storage {
  void* ptr = nullptr;
  std::int64_t bytes = 0;
  int device = -1;  // -1: host memory
  bool present = false;
};

// Reads a typed array or DeviceBuffer; throws OpFailure naming `what` otherwise.
Storage GetStorage(const Napi::Value& v, const char* what);

double GetNumber(const Napi::Object& o, const char* key);
std::int64_t GetInt(const Napi::Object& o, const char* key);
bool GetBool(const Napi::Object& o, const char* key);
std::string GetString(const Napi::Object& o, const char* key);

class OpWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Resolve = std::function<Napi::Value(Napi::Env)>;
  OpWorker(Napi::Env env, Work work, Resolve resolve, const std::vector<Napi::Value>& keep);
  ~OpWorker() override;
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  void ReleaseBuffers();
  Napi::Promise::Deferred deferred_;
  Work work_;
  Resolve resolve_;
  std::vector<Napi::ObjectReference> keep_;
  std::vector<class DeviceBuffer*> busy_;
  std::string code_;
};

// sync: runs `work` now and returns resolve(env), throwing a JS error on failure.
// async: queues an OpWorker and returns its Promise. `keep` are the JS objects whose memory
// the work touches; they stay alive (and device buffers stay allocated) until it settles.
Napi::Value RunOp(Napi::Env env, bool sync, const std::vector<Napi::Value>& keep, OpWorker::Work work,
                  OpWorker::Resolve resolve);

// The result shape every compute op resolves to: { values: Float64Array(3), deviceMs }.
struct OpResult {
  double values[3] = {0, 0, 0};
  float device_ms = -1.f;
};
Napi::Value MakeOpResult(Napi::Env env, const OpResult& r);

}  // namespace rk
