// CUDA implementation of array_ops.h: grid-stride element-wise kernels; reductions in double with
// per-block partials + a fixed-order final kernel (grid depends only on n => deterministic).
#include <algorithm>
#include <stdexcept>

#include "array_ops.h"
#include "array_ops_math.cuh"
#include "cuda_check.h"

namespace rk {
namespace {

constexpr int kThreads = 256;
constexpr int kFinalThreads = 1024;
constexpr index_t kMaxBlocks = 4096;      // element-wise grid cap (grid-stride beyond)
constexpr index_t kRedMaxBlocks = 1024;   // reduction grid cap
constexpr index_t kRedPerThread = 8;      // elements per thread before more blocks are added

template <ArrayOp OP, typename T, bool CPLX>
__global__ void __launch_bounds__(kThreads)
    ew_kernel(index_t n, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
              T al, T be) {
  const index_t stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    if constexpr (!CPLX) {
      T av = T(0), bv = T(0);
      if constexpr (aom::op_uses_a(OP)) av = a[i];
      if constexpr (aom::op_uses_b(OP)) bv = b[i];
      out[i] = aom::ew_real<OP>(av, bv, al, be);
    } else {
      T ar = T(0), ai = T(0), br = T(0), bi = T(0);
      if constexpr (aom::op_uses_a(OP)) {
        ar = a[2 * i];
        ai = a[2 * i + 1];
      }
      if constexpr (aom::op_uses_b(OP)) {
        br = b[2 * i];
        bi = b[2 * i + 1];
      }
      T o_re, o_im;
      aom::ew_cplx<OP>(ar, ai, br, bi, al, be, o_re, o_im);
      out[2 * i] = o_re;
      out[2 * i + 1] = o_im;
    }
  }
}

__device__ __forceinline__ void block_sum2(double& re, double& im) {
  __shared__ double sh[2][32];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int nwarps = (blockDim.x + 31) >> 5;
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    re += __shfl_down_sync(0xffffffffu, re, off);
    im += __shfl_down_sync(0xffffffffu, im, off);
  }
  if (lane == 0) {
    sh[0][warp] = re;
    sh[1][warp] = im;
  }
  __syncthreads();
  if (warp == 0) {
    re = lane < nwarps ? sh[0][lane] : 0.0;
    im = lane < nwarps ? sh[1][lane] : 0.0;
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
      re += __shfl_down_sync(0xffffffffu, re, off);
      im += __shfl_down_sync(0xffffffffu, im, off);
    }
  }
}

template <ArrayOp OP, typename T, bool CPLX>
__global__ void __launch_bounds__(kThreads)
    red_kernel(index_t n, const T* __restrict__ a, const T* __restrict__ b,
               double* __restrict__ partial) {
  double re = 0.0, im = 0.0;
  const index_t stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    if constexpr (!CPLX) {
      T bv = T(0);
      if constexpr (aom::op_uses_b(OP)) bv = __ldg(b + i);
      re += aom::red_real<OP>(__ldg(a + i), bv);
    } else {
      T br = T(0), bi = T(0);
      if constexpr (aom::op_uses_b(OP)) {
        br = __ldg(b + 2 * i);
        bi = __ldg(b + 2 * i + 1);
      }
      double r, m;
      aom::red_cplx<OP>(__ldg(a + 2 * i), __ldg(a + 2 * i + 1), br, bi, r, m);
      re += r;
      im += m;
    }
  }
  block_sum2(re, im);
  if (threadIdx.x == 0) {
    partial[2 * blockIdx.x] = re;
    partial[2 * blockIdx.x + 1] = im;
  }
}

__global__ void __launch_bounds__(kFinalThreads)
    red_final(const double* __restrict__ partial, index_t nblk, double* __restrict__ out,
              bool take_sqrt) {
  double re = 0.0, im = 0.0;
  for (index_t i = threadIdx.x; i < nblk; i += blockDim.x) {
    re += partial[2 * i];
    im += partial[2 * i + 1];
  }
  block_sum2(re, im);
  if (threadIdx.x == 0) {
    out[0] = take_sqrt ? sqrt(re) : re;
    out[1] = im;
  }
}

struct DevBuf {
  cudaStream_t s = nullptr;
  double* p = nullptr;
  ~DevBuf() {
    if (p) cudaFreeAsync(p, s);
  }
};

template <ArrayOp OP, typename T>
void run_ew(const ArrayOpArgs<T>& x, cudaStream_t s) {
  const index_t blocks = std::min<index_t>((x.n + kThreads - 1) / kThreads, kMaxBlocks);
  const T al = T(x.alpha), be = T(x.beta);
  if (x.complex)
    ew_kernel<OP, T, true><<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(x.n, x.a, x.b,
                                                                             x.out, al, be);
  else
    ew_kernel<OP, T, false><<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(x.n, x.a, x.b,
                                                                              x.out, al, be);
  RK_CUDA_CHECK_LAUNCH();
  RK_CUDA_TRY(cudaStreamSynchronize(s));
}

template <ArrayOp OP, typename T>
void run_red(const ArrayOpArgs<T>& x, double* result, cudaStream_t s) {
  const index_t per_block = kThreads * kRedPerThread;
  const index_t blocks = std::max<index_t>(
      1, std::min<index_t>((x.n + per_block - 1) / per_block, kRedMaxBlocks));
  DevBuf buf;
  buf.s = s;
  RK_CUDA_TRY(cudaMallocAsync(reinterpret_cast<void**>(&buf.p), sizeof(double) * (2 * blocks + 2), s));
  double* partial = buf.p;
  double* res = buf.p + 2 * blocks;
  if (x.complex)
    red_kernel<OP, T, true><<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(x.n, x.a, x.b,
                                                                              partial);
  else
    red_kernel<OP, T, false><<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(x.n, x.a, x.b,
                                                                               partial);
  RK_CUDA_CHECK_LAUNCH();
  red_final<<<1, kFinalThreads, 0, s>>>(partial, blocks, res, OP == ArrayOp::Norm);
  RK_CUDA_CHECK_LAUNCH();
  double h[2] = {0.0, 0.0};
  RK_CUDA_TRY(cudaMemcpyAsync(h, res, sizeof(h), cudaMemcpyDeviceToHost, s));
  double* p = buf.p;
  buf.p = nullptr;
  RK_CUDA_TRY(cudaFreeAsync(p, s));
  RK_CUDA_TRY(cudaStreamSynchronize(s));
  result[0] = h[0];
  if (x.complex && OP != ArrayOp::Norm) result[1] = h[1];
}

}  // namespace

template <typename T>
void array_op_cuda(const ArrayOpArgs<T>& x, double* result, void* stream) {
  const ArrayOp op = x.op;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (!aom::check_args(x, result, "array_op_cuda")) return;
  switch (op) {
    case ArrayOp::Fill: run_ew<ArrayOp::Fill>(x, s); break;
    case ArrayOp::Copy: run_ew<ArrayOp::Copy>(x, s); break;
    case ArrayOp::Add: run_ew<ArrayOp::Add>(x, s); break;
    case ArrayOp::Sub: run_ew<ArrayOp::Sub>(x, s); break;
    case ArrayOp::Mul: run_ew<ArrayOp::Mul>(x, s); break;
    case ArrayOp::Scale: run_ew<ArrayOp::Scale>(x, s); break;
    case ArrayOp::Axpy: run_ew<ArrayOp::Axpy>(x, s); break;
    case ArrayOp::Clamp: run_ew<ArrayOp::Clamp>(x, s); break;
    case ArrayOp::Sum: run_red<ArrayOp::Sum>(x, result, s); break;
    case ArrayOp::Dot: run_red<ArrayOp::Dot>(x, result, s); break;
    case ArrayOp::Norm: run_red<ArrayOp::Norm>(x, result, s); break;
  }
}

template void array_op_cuda<float>(const ArrayOpArgs<float>&, double*, void*);
template void array_op_cuda<double>(const ArrayOpArgs<double>&, double*, void*);

}  // namespace rk
