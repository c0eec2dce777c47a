// Element-wise and reduction ops that iterative solvers need, on host and device memory.
// Plain C++ header: the CUDA entry points take the stream as void*.
#pragma once
#include <cstdint>

namespace rk {

enum class ArrayOp : int {
  Fill = 0,   // out = alpha (+ i*beta for complex)
  Copy,       // out = a
  Add,        // out = a + b
  Sub,        // out = a - b
  Mul,        // out = a * b (complex product when complex)
  Scale,      // out = (alpha + i*beta) * a   (beta ignored for real)
  Axpy,       // out = (alpha + i*beta) * a + b   (out may alias b: y <- a*x + y)
  Clamp,      // out = min(max(a, alpha), beta)   (real dtypes only; +-inf allowed)
  Sum,        // result = sum a                   (complex: result[0] re, result[1] im)
  Dot,        // result = sum conj(a) * b         (complex: re, im)
  Norm,       // result = sqrt(sum |a|^2)
};

template <typename T>
struct ArrayOpArgs {
  ArrayOp op = ArrayOp::Fill;
  std::int64_t n = 0;      // number of ELEMENTS (a complex element is 2 scalars of T)
  bool complex = false;    // interleaved re, im
  double alpha = 0.0, beta = 0.0;
  const T* a = nullptr;    // inputs (may alias out)
  const T* b = nullptr;
  T* out = nullptr;        // output for element-wise ops, null for reductions
};

// Reductions write result[0] (and result[1] for complex Sum/Dot); accumulation in double,
// deterministic for a given n and thread count. threads <= 0: hardware concurrency.
template <typename T>
void array_op_cpu(const ArrayOpArgs<T>& args, double* result, int threads);

// Device pointers; result is host memory. Synchronises `stream` (a cudaStream_t) before
// returning. Throws rk::CudaError on failure.
template <typename T>
void array_op_cuda(const ArrayOpArgs<T>& args, double* result, void* stream);

}  // namespace rk
