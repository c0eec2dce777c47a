#include "binding_util.h"

#include <new>

#include "device_buffer.h"
#if RK_WITH_CUDA
#include "cuda_check.h"
#endif

namespace rk {

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

void DescribeCurrentException(std::string& code, std::string& message) {
  try {
    throw;
  } catch (const OpFailure& e) {
    code = e.code;
    message = e.what();
#if RK_WITH_CUDA
  } catch (const CudaError& e) {
    code = e.code.empty() ? "CUDA_ERROR" : e.code;
    message = e.what();
#endif
  } catch (const std::bad_alloc&) {
    code = "OUT_OF_MEMORY";
    message = "host memory allocation failed";
  } catch (const Napi::Error& e) {
    code = "INVALID_ARGUMENT";
    message = e.Message();
  } catch (const std::exception& e) {
    code = "NATIVE_ERROR";
    message = e.what();
  } catch (...) {
    code = "NATIVE_ERROR";
    message = "unknown native error";
  }
}

Napi::Value Guard(Napi::Env env, const std::function<Napi::Value()>& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;  // already a JS error carrying its code (e.g. from a sync RunOp)
  } catch (...) {
    std::string code, message;
    DescribeCurrentException(code, message);
    throw MakeError(env, code, message);
  }
}

Storage GetStorage(const Napi::Value& v, const char* what) {
  Storage s;
  if (v.IsUndefined() || v.IsNull()) return s;
  if (v.IsTypedArray()) {
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    napi_typedarray_type t = ta.TypedArrayType();
    if (t != napi_float32_array && t != napi_float64_array) {
      throw OpFailure("INVALID_DTYPE", std::string(what) + ": expected a Float32Array or Float64Array");
    }
    Napi::ArrayBuffer ab = ta.ArrayBuffer();
    s.ptr = static_cast<char*>(ab.Data()) + ta.ByteOffset();
    s.bytes = static_cast<std::int64_t>(ta.ByteLength());
    s.device = -1;
    s.present = true;
    return s;
  }
  if (DeviceBuffer::IsInstance(v)) {
    DeviceBuffer* b = DeviceBuffer::Unwrap(v);
    if (b->freed()) throw OpFailure("DISPOSED", std::string(what) + ": its device memory was freed (tensor disposed)");
    s.ptr = b->ptr();
    s.bytes = b->bytes();
    s.device = b->device();
    s.present = true;
    return s;
  }
  throw OpFailure("INVALID_ARGUMENT", std::string(what) + ": expected a typed array or a DeviceBuffer");
}

static Napi::Value Field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) throw OpFailure("INVALID_ARGUMENT", std::string("missing field '") + key + "'");
  return v;
}

double GetNumber(const Napi::Object& o, const char* key) {
  Napi::Value v = Field(o, key);
  if (!v.IsNumber()) throw OpFailure("INVALID_ARGUMENT", std::string("field '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::int64_t GetInt(const Napi::Object& o, const char* key) {
  double d = GetNumber(o, key);
  if (d != static_cast<double>(static_cast<std::int64_t>(d))) {
    throw OpFailure("INVALID_ARGUMENT", std::string("field '") + key + "' must be an integer");
  }
  return static_cast<std::int64_t>(d);
}

bool GetBool(const Napi::Object& o, const char* key) { return Field(o, key).ToBoolean().Value(); }

std::string GetString(const Napi::Object& o, const char* key) {
  Napi::Value v = Field(o, key);
  if (!v.IsString()) throw OpFailure("INVALID_ARGUMENT", std::string("field '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

OpWorker::OpWorker(Napi::Env env, Work work, Resolve resolve, const std::vector<Napi::Value>& keep)
    : Napi::AsyncWorker(env, "recon-kernels:op"),
      deferred_(Napi::Promise::Deferred::New(env)),
      work_(std::move(work)),
      resolve_(std::move(resolve)) {
  for (const Napi::Value& v : keep) {
    if (!v.IsObject()) continue;
    keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    if (DeviceBuffer::IsInstance(v)) {
      DeviceBuffer* b = DeviceBuffer::Unwrap(v);
      b->Acquire();
      busy_.push_back(b);
    }
  }
}

OpWorker::~OpWorker() = default;

void OpWorker::Execute() {
  try {
    work_();
  } catch (...) {
    std::string message;
    DescribeCurrentException(code_, message);
    SetError(message);
  }
}

void OpWorker::ReleaseBuffers() {
  for (DeviceBuffer* b : busy_) b->Release(Env());
  busy_.clear();
}

void OpWorker::OnOK() {
  ReleaseBuffers();
  Napi::Env env = Env();
  try {
    deferred_.Resolve(resolve_(env));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  }
}

void OpWorker::OnError(const Napi::Error& e) {
  ReleaseBuffers();
  deferred_.Reject(MakeError(Env(), code_.empty() ? "NATIVE_ERROR" : code_, e.Message()).Value());
}

Napi::Value RunOp(Napi::Env env, bool sync, const std::vector<Napi::Value>& keep, OpWorker::Work work,
                  OpWorker::Resolve resolve) {
  if (sync) {
    try {
      work();
    } catch (...) {
      std::string code, message;
      DescribeCurrentException(code, message);
      throw MakeError(env, code, message);
    }
    return resolve(env);
  }
  auto* worker = new OpWorker(env, std::move(work), std::move(resolve), keep);
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Value MakeOpResult(Napi::Env env, const OpResult& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Float64Array values = Napi::Float64Array::New(env, 3);
  for (int i = 0; i < 3; ++i) values[i] = r.values[i];
  o.Set("values", values);
  o.Set("deviceMs", Napi::Number::New(env, r.device_ms));
  return o;
}

}  // namespace rk
