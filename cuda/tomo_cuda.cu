// CUDA parallel-beam tomography: Joseph forward projector (one thread per ray), its exact
// transpose as a voxel-driven gather (one thread per voxel evaluating the forward's weights for
// the few detector columns that reach it: no atomics, deterministic), the FBP line filter as a
// direct circular convolution, and the TV pieces of tvMin. float and double.
// Per-element math: tomo_math.cuh (shared with the CPU backend). Geometry: tomo.h.
#include <algorithm>
#include <stdexcept>

#include "cuda_check.h"
#include "tomo.h"
#include "tomo_math.cuh"

namespace rk {
namespace {

using tomo::Angle;

constexpr int kThreads = 256;

unsigned blocks_for(index_t n) {
  return static_cast<unsigned>(std::max<index_t>(1, std::min<index_t>((n + kThreads - 1) / kThreads, 1 << 20)));
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    forward_kernel(const T* __restrict__ vol, T* __restrict__ sino, const double* __restrict__ geom,
                   index_t Y, index_t X, index_t R, index_t A, index_t U) {
  const index_t n = R * A * U, stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t idx = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += stride) {
    const index_t u = idx % U, l = idx / U, k = l % A, r = l / A;
    const tomo::RowTaps rt = tomo::load_row(geom, A, r);
    const Angle<T> an = tomo::load_angle<T>(geom, k);
    T v = T(0);
    if (rt.z0 >= 0) v += T(rt.w0) * tomo::ray_sum(an, u, vol + rt.z0 * Y * X, Y, X);
    if (rt.z1 >= 0) v += T(rt.w1) * tomo::ray_sum(an, u, vol + rt.z1 * Y * X, Y, X);
    sino[idx] = v;
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    adjoint_kernel(const T* __restrict__ sino, T* __restrict__ vol, const double* __restrict__ geom,
                   index_t Z, index_t Y, index_t X, index_t R, index_t A, index_t U) {
  const double* zoff = geom + 5 * A + 4 * R;
  const double* ent = zoff + Z + 1;
  const index_t n = Z * Y * X, stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t idx = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += stride) {
    const index_t i = idx % X, zy = idx / X, j = zy % Y, z = zy / Y;
    const index_t e0 = static_cast<index_t>(zoff[z]), e1 = static_cast<index_t>(zoff[z + 1]);
    T acc = T(0);
    for (index_t q = e0; q < e1; ++q) {
      const index_t r = static_cast<index_t>(ent[2 * q]);
      T s = T(0);
      for (index_t k = 0; k < A; ++k) s += tomo::voxel_gather(tomo::load_angle<T>(geom, k), j, i, sino + (r * A + k) * U, U);
      acc += T(ent[2 * q + 1]) * s;
    }
    vol[idx] = acc;
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    filter_kernel(const T* __restrict__ in, T* __restrict__ out, const T* __restrict__ filt, index_t lines, index_t U, index_t N) {
  const index_t n = lines * U, stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t idx = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += stride) {
    const index_t u = idx % U;
    const T* x = in + (idx - u);
    T acc = T(0);
    for (index_t k = 0; k < U; ++k) {
      index_t d = (u - k) % N;
      if (d < 0) d += N;
      acc += x[k] * filt[d];
    }
    out[idx] = acc;
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    tv_dual_kernel(const T* __restrict__ x, T* __restrict__ q, index_t Z, index_t Y, index_t X, T sigma, T lambda) {
  const index_t n = Z * Y * X, stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t idx = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += stride) {
    const index_t i = idx % X, zy = idx / X;
    tomo::tv_dual(x, q, Z, Y, X, zy / Y, zy % Y, i, sigma, lambda);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    tv_gradT_kernel(const T* __restrict__ q, T* __restrict__ out, index_t Z, index_t Y, index_t X) {
  const index_t n = Z * Y * X, stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t idx = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += stride) {
    const index_t i = idx % X, zy = idx / X;
    out[idx] = tomo::tv_gradT(q, Z, Y, X, zy / Y, zy % Y, i);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) recip_kernel(const T* x, T* out, index_t n, T eps) {
  const index_t stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t idx = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += stride) {
    const T v = x[idx];
    out[idx] = v > eps ? T(1) / v : T(0);
  }
}

struct Events {
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  ~Events() {
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
  }
};

}  // namespace

template <typename T>
void tomo_cuda(const TomoProblem& p, const T* x, T* out, const double* geom, const T* filt, void* stream, float* device_ms) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  Events ev;
  if (device_ms) {
    *device_ms = 0.f;
    RK_CUDA_TRY(cudaEventCreate(&ev.e0));
    RK_CUDA_TRY(cudaEventCreate(&ev.e1));
    RK_CUDA_TRY(cudaEventRecord(ev.e0, s));
  }
  switch (p.op) {
    case TomoOp::Forward:
      forward_kernel<T><<<blocks_for(p.sino_size()), kThreads, 0, s>>>(x, out, geom, p.Y, p.X, p.R, p.A, p.U);
      break;
    case TomoOp::Adjoint:
      adjoint_kernel<T><<<blocks_for(p.vol_size()), kThreads, 0, s>>>(x, out, geom, p.Z, p.Y, p.X, p.R, p.A, p.U);
      break;
    case TomoOp::Filter: {
      if (x == out) throw std::invalid_argument("tomo_cuda: the filter cannot run in place");
      filter_kernel<T><<<blocks_for(p.lines * p.U), kThreads, 0, s>>>(x, out, filt, p.lines, p.U, p.N);
      break;
    }
    case TomoOp::TvDual:
      tv_dual_kernel<T><<<blocks_for(p.vol_size()), kThreads, 0, s>>>(x, out, p.Z, p.Y, p.X, T(p.sigma), T(p.lambda));
      break;
    case TomoOp::TvGradT:
      tv_gradT_kernel<T><<<blocks_for(p.vol_size()), kThreads, 0, s>>>(x, out, p.Z, p.Y, p.X);
      break;
    case TomoOp::Recip:
      recip_kernel<T><<<blocks_for(p.lines), kThreads, 0, s>>>(x, out, p.lines, T(p.eps));
      break;
  }
  RK_CUDA_CHECK_LAUNCH();
  if (device_ms) RK_CUDA_TRY(cudaEventRecord(ev.e1, s));
  RK_CUDA_TRY(cudaStreamSynchronize(s));
  if (device_ms) RK_CUDA_TRY(cudaEventElapsedTime(device_ms, ev.e0, ev.e1));
}

template void tomo_cuda<float>(const TomoProblem&, const float*, float*, const double*, const float*, void*, float*);
template void tomo_cuda<double>(const TomoProblem&, const double*, double*, const double*, const double*, void*, float*);

}  // namespace rk
