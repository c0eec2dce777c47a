// The error every op throws: a code the JS side maps to ReconKernelsError (lib/errors.ts) and a
// message. Plain C++ so the CPU kernels, the .cu files (nvcc) and standalone test builds share
// it without N-API headers.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>

namespace rk {

struct OpFailure : std::runtime_error {
  std::string code;
  OpFailure(std::string c, const std::string& message) : std::runtime_error(message), code(std::move(c)) {}
};

}  // namespace rk
