// CUDA MRI building blocks (cuda/mri.h): element-wise coil / k-space kernels, and the Toeplitz
// normal operator fused with the coils. Per batch of (image, coil) pairs that fits the caller's
// work grids: pad + coil map (one kernel) → batched cuFFT → ×K̂ (one kernel) → inverse cuFFT →
// crop + conj(map) + sum over the batch's coils into the output image (one kernel, one thread
// per pixel, coils added in order, so no atomics and a fixed summation order). Only the batch's
// grids exist at a time, never all C coil images on the grid.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "op_failure.h"
#include "cufft_loader.h"
#include "mri.h"
#include "mri_math.cuh"

namespace rk {

namespace {

constexpr int kThreads = 256;
constexpr index_t kMaxGridX = 4096;
constexpr index_t kMaxGridY = 65535;

template <typename T>
struct C2;
template <>
struct C2<float> {
  using type = float2;
  static __device__ __forceinline__ float2 make(float r, float i) { return make_float2(r, i); }
};
template <>
struct C2<double> {
  using type = double2;
  static __device__ __forceinline__ double2 make(double r, double i) { return make_double2(r, i); }
};

// Rows on grid.y (grid-stride), the elements of a row on grid.x (grid-stride).
dim3 rows_grid(index_t rows, index_t n) {
  const index_t x = std::max<index_t>(1, std::min<index_t>((n + kThreads - 1) / kThreads, kMaxGridX));
  const index_t y = std::max<index_t>(1, std::min<index_t>(rows, kMaxGridY));
  return dim3(static_cast<unsigned>(x), static_cast<unsigned>(y), 1);
}

// ---------------------------------------------------------------------------------------------
// Element-wise ops.

template <typename T, bool MAP, bool REAL>
__global__ void __launch_bounds__(kThreads)
    expand_kernel(index_t rows, index_t C, index_t N, T scale, const typename C2<T>::type* __restrict__ S,
                  const T* __restrict__ x, typename C2<T>::type* __restrict__ out) {
  using V = typename C2<T>::type;
  const index_t step = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t row = blockIdx.y; row < rows; row += gridDim.y) {
    const index_t b = row / C, c = row % C;
    for (index_t n = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; n < N; n += step) {
      const index_t q = b * N + n;
      T xr, xi;
      if (REAL) {
        xr = x[q];
        xi = T(0);
      } else {
        const V v = reinterpret_cast<const V*>(x)[q];
        xr = v.x;
        xi = v.y;
      }
      T sr = T(0), si = T(0);
      if (MAP) {
        const V s = S[c * N + n];
        sr = s.x;
        si = s.y;
      }
      T r, i;
      mrim::expand_pixel(MAP, sr, si, xr, xi, scale, r, i);
      out[row * N + n] = C2<T>::make(r, i);
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    combine_kernel(index_t B, index_t C, index_t N, T scale, bool accumulate, const T* __restrict__ S,
                   const T* __restrict__ z, typename C2<T>::type* __restrict__ out) {
  using V = typename C2<T>::type;
  const index_t step = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t b = blockIdx.y; b < B; b += gridDim.y) {
    for (index_t n = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; n < N; n += step) {
      T sr, si;
      mrim::combine_pixel(S, z, C, N, b, n, sr, si);
      T r0 = T(0), i0 = T(0);
      if (accumulate) {
        const V o = out[b * N + n];
        r0 = o.x;
        i0 = o.y;
      }
      out[b * N + n] = C2<T>::make(r0 + scale * sr, i0 + scale * si);
    }
  }
}

template <typename T, bool REAL>
__global__ void __launch_bounds__(kThreads)
    weight_kernel(index_t rows, index_t C, index_t M, T scale, const T* __restrict__ w, const T* __restrict__ y,
                  typename C2<T>::type* __restrict__ out) {
  using V = typename C2<T>::type;
  const index_t step = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t row = blockIdx.y; row < rows; row += gridDim.y) {
    const T* wp = w ? w + (row / C) * M : nullptr;
    for (index_t m = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; m < M; m += step) {
      const index_t q = row * M + m;
      const T f = wp ? scale * wp[m] : scale;
      T yr, yi;
      if (REAL) {
        yr = y[q];
        yi = T(0);
      } else {
        const V v = reinterpret_cast<const V*>(y)[q];
        yr = v.x;
        yi = v.y;
      }
      out[q] = C2<T>::make(f * yr, f * yi);
    }
  }
}

template <typename I, typename O>
__global__ void __launch_bounds__(kThreads) cast_kernel(index_t n, double scale, const I* __restrict__ in, O* __restrict__ out) {
  const index_t step = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    out[i] = static_cast<O>(scale * static_cast<double>(in[i]));
  }
}

template <typename I, typename O>
void launch_cast(index_t n, double scale, const void* in, void* out, cudaStream_t s) {
  if (n <= 0) return;
  const dim3 grid = rows_grid(1, n);
  cast_kernel<I, O><<<grid.x, kThreads, 0, s>>>(n, scale, static_cast<const I*>(in), static_cast<O*>(out));
  RK_CUDA_CHECK_LAUNCH();
}

// ---------------------------------------------------------------------------------------------
// Toeplitz kernels. Pair q = (pb, c) = (q / C, q % C); the batch holds pairs q0 .. q0 + nq − 1,
// pair q0 + j on work grid j. 32-bit indices within one grid (ngrid ≤ INT_MAX is checked).

using G32 = mrim::Geom3<unsigned>;

template <typename T, bool MAP, bool REAL>
__global__ void __launch_bounds__(kThreads)
    pad_kernel(G32 g, index_t C, index_t q0, index_t nq, const T* __restrict__ x, const typename C2<T>::type* __restrict__ S,
               typename C2<T>::type* __restrict__ work) {
  using V = typename C2<T>::type;
  const unsigned step = gridDim.x * blockDim.x;
  for (index_t j = blockIdx.y; j < nq; j += gridDim.y) {
    const index_t q = q0 + j, pb = q / C, c = q % C;
    V* w = work + j * static_cast<index_t>(g.ngrid);
    for (unsigned gi = blockIdx.x * blockDim.x + threadIdx.x; gi < g.ngrid; gi += step) {
      unsigned n = 0;
      V v = C2<T>::make(T(0), T(0));
      if (mrim::grid_to_image(g, gi, n)) {
        const index_t px = pb * static_cast<index_t>(g.nimg) + n;
        T xr, xi;
        if (REAL) {
          xr = x[px];
          xi = T(0);
        } else {
          const V xv = reinterpret_cast<const V*>(x)[px];
          xr = xv.x;
          xi = xv.y;
        }
        T sr = T(0), si = T(0);
        if (MAP) {
          const V s = S[c * static_cast<index_t>(g.nimg) + n];
          sr = s.x;
          si = s.y;
        }
        T r, i;
        mrim::expand_pixel(MAP, sr, si, xr, xi, T(1), r, i);
        v = C2<T>::make(r, i);
      }
      w[gi] = v;
    }
  }
}

// work[j] ×= K̂[p], p = (q0 + j) / (B·C).
template <typename T>
__global__ void __launch_bounds__(kThreads)
    khat_kernel(unsigned ngrid, index_t BC, index_t q0, index_t nq, const typename C2<T>::type* __restrict__ khat,
                typename C2<T>::type* __restrict__ work) {
  using V = typename C2<T>::type;
  const unsigned step = gridDim.x * blockDim.x;
  for (index_t j = blockIdx.y; j < nq; j += gridDim.y) {
    const V* k = khat + ((q0 + j) / BC) * static_cast<index_t>(ngrid);
    V* w = work + j * static_cast<index_t>(ngrid);
    for (unsigned gi = blockIdx.x * blockDim.x + threadIdx.x; gi < ngrid; gi += step) {
      const V a = w[gi], b = k[gi];
      T r, i;
      mrim::cmul(a.x, a.y, b.x, b.y, r, i);
      w[gi] = C2<T>::make(r, i);
    }
  }
}

// out[pb, n] (+)= Σ_{c of the batch} conj(S[c, n])·work[pair (pb, c)][cell of n], for the
// images pb0 .. pb0 + npb − 1 the batch touches; an image's first coil stores, later ones add.
template <typename T, bool MAP>
__global__ void __launch_bounds__(kThreads)
    crop_kernel(G32 g, index_t C, index_t q0, index_t q1, index_t pb0, index_t npb, const typename C2<T>::type* __restrict__ S,
                const typename C2<T>::type* __restrict__ work, typename C2<T>::type* __restrict__ out) {
  using V = typename C2<T>::type;
  const unsigned step = gridDim.x * blockDim.x;
  for (index_t jb = blockIdx.y; jb < npb; jb += gridDim.y) {
    const index_t pb = pb0 + jb;
    const index_t c_lo = q0 > pb * C ? q0 - pb * C : 0, c_hi = q1 < pb * C + C ? q1 - pb * C : C;
    V* o = out + pb * static_cast<index_t>(g.nimg);
    for (unsigned n = blockIdx.x * blockDim.x + threadIdx.x; n < g.nimg; n += step) {
      const unsigned gi = mrim::image_to_grid(g, n);
      T ar = T(0), ai = T(0);
      if (c_lo > 0) {
        const V v = o[n];
        ar = v.x;
        ai = v.y;
      }
      for (index_t c = c_lo; c < c_hi; ++c) {
        const V y = work[(pb * C + c - q0) * static_cast<index_t>(g.ngrid) + gi];
        T r = y.x, i = y.y;
        if (MAP) {
          const V s = S[c * static_cast<index_t>(g.nimg) + n];
          mrim::cmulc(s.x, s.y, y.x, y.y, r, i);
        }
        ar = ar + r;
        ai = ai + i;
      }
      o[n] = C2<T>::make(ar, ai);
    }
  }
}

// Makes `device` current for the scope and restores the previous one.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    if (cudaGetDevice(&prev_) != cudaSuccess) prev_ = -1;
    RK_CUDA_TRY(cudaSetDevice(device));
  }
  ~DeviceScope() {
    if (prev_ >= 0) cudaSetDevice(prev_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int prev_ = -1;
};

void fft_check(cufft::Result r, const char* what) {
  if (r == 0) return;
  throw OpFailure(r == 2 ? "OUT_OF_MEMORY" : "CUDA_ERROR", std::string("mri toeplitz (cuda): ") + what + " failed: " + cufft::ResultName(r));
}

}  // namespace

// ---------------------------------------------------------------------------------------------

template <typename T>
void mri_ew_cuda(const MriEwArgs& a, const T* map, const T* in, T* out, void* stream) {
  using V = typename C2<T>::type;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const T sc = static_cast<T>(a.scale);
  switch (a.op) {
    case MriOp::Expand: {
      const index_t C = map ? a.C : 1, rows = a.B * C;
      if (rows <= 0 || a.N <= 0) return;
      const dim3 grid = rows_grid(rows, a.N);
      const V* S = reinterpret_cast<const V*>(map);
      V* o = reinterpret_cast<V*>(out);
      if (map && a.in_real) expand_kernel<T, true, true><<<grid, kThreads, 0, s>>>(rows, C, a.N, sc, S, in, o);
      else if (map) expand_kernel<T, true, false><<<grid, kThreads, 0, s>>>(rows, C, a.N, sc, S, in, o);
      else if (a.in_real) expand_kernel<T, false, true><<<grid, kThreads, 0, s>>>(rows, C, a.N, sc, S, in, o);
      else expand_kernel<T, false, false><<<grid, kThreads, 0, s>>>(rows, C, a.N, sc, S, in, o);
      break;
    }
    case MriOp::Combine: {
      const index_t C = map ? a.C : 1;
      if (a.B <= 0 || a.N <= 0) return;
      combine_kernel<T><<<rows_grid(a.B, a.N), kThreads, 0, s>>>(a.B, C, a.N, sc, a.accumulate, map, in, reinterpret_cast<V*>(out));
      break;
    }
    case MriOp::Weight: {
      const index_t rows = a.B * a.C;
      if (rows <= 0 || a.N <= 0) return;
      const dim3 grid = rows_grid(rows, a.N);
      if (a.in_real) weight_kernel<T, true><<<grid, kThreads, 0, s>>>(rows, a.C, a.N, sc, map, in, reinterpret_cast<V*>(out));
      else weight_kernel<T, false><<<grid, kThreads, 0, s>>>(rows, a.C, a.N, sc, map, in, reinterpret_cast<V*>(out));
      break;
    }
    default: throw OpFailure("INVALID_ARGUMENT", "mri: mri_ew_cuda takes expand, combine or weight");
  }
  RK_CUDA_CHECK_LAUNCH();
  RK_CUDA_TRY(cudaStreamSynchronize(s));
}

void mri_cast_cuda(const MriEwArgs& a, const void* in, void* out, void* stream) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (a.in_f32 && a.out_f32) launch_cast<float, float>(a.N, a.scale, in, out, s);
  else if (a.in_f32) launch_cast<float, double>(a.N, a.scale, in, out, s);
  else if (a.out_f32) launch_cast<double, float>(a.N, a.scale, in, out, s);
  else launch_cast<double, double>(a.N, a.scale, in, out, s);
  RK_CUDA_TRY(cudaStreamSynchronize(s));
}

template void mri_ew_cuda<float>(const MriEwArgs&, const float*, const float*, float*, void*);
template void mri_ew_cuda<double>(const MriEwArgs&, const double*, const double*, double*, void*);

// ---------------------------------------------------------------------------------------------

struct MriToeplitzCuda::Impl {
  int d = 1;
  int device = 0;
  bool f32 = true;
  G32 g;
  int n[3] = {1, 1, 1};  // grid sizes of the d real axes, for cuFFT
  const cufft::Api* fft = nullptr;
  cudaStream_t stream = nullptr;
  std::map<index_t, cufft::Handle> plans;  // by batch size
  std::mutex mu;

  ~Impl() {
    int prev = -1;
    if (cudaGetDevice(&prev) != cudaSuccess) prev = -1;
    cudaSetDevice(device);
    if (stream) cudaStreamSynchronize(stream);
    if (fft)
      for (auto& kv : plans) fft->Destroy(kv.second);
    if (stream) cudaStreamDestroy(stream);
    cudaGetLastError();
    if (prev >= 0) cudaSetDevice(prev);
  }

  cufft::Handle make_plan(index_t batch, int type) {
    cufft::Handle h = 0;
    const int dist = static_cast<int>(g.ngrid);
    fft_check(fft->PlanMany(&h, d, n, nullptr, 1, dist, nullptr, 1, dist, type, static_cast<int>(batch)), "cufftPlanMany");
    const cufft::Result r = fft->SetStream(h, stream);
    if (r != 0) {
      fft->Destroy(h);
      fft_check(r, "cufftSetStream");
    }
    return h;
  }

  // The operator's plan for `batch` grids; at most a few batch sizes are kept.
  cufft::Handle plan(index_t batch) {
    auto it = plans.find(batch);
    if (it != plans.end()) return it->second;
    if (plans.size() >= 4) {
      RK_CUDA_TRY(cudaStreamSynchronize(stream));
      for (auto& kv : plans) fft->Destroy(kv.second);
      plans.clear();
    }
    const cufft::Handle h = make_plan(batch, f32 ? cufft::kC2C : cufft::kZ2Z);
    plans.emplace(batch, h);
    return h;
  }

  template <typename T>
  void exec(cufft::Handle h, T* data, int direction) {
    if (sizeof(T) == 4) fft_check(fft->ExecC2C(h, data, data, direction), "cufftExecC2C");
    else fft_check(fft->ExecZ2Z(h, data, data, direction), "cufftExecZ2Z");
  }

  template <typename T>
  void run(const MriToeplitzCall& c, index_t C, index_t K) {
    using V = typename C2<T>::type;
    const index_t pairs = c.P * c.B * C, BC = c.B * C;
    const T* x = static_cast<const T*>(c.x);
    const V* S = static_cast<const V*>(c.smaps);
    const V* kh = static_cast<const V*>(c.khat);
    V* out = static_cast<V*>(c.out);
    V* work = static_cast<V*>(c.work);
    for (index_t q0 = 0; q0 < pairs; q0 += K) {
      const index_t nq = std::min(K, pairs - q0);
      const cufft::Handle h = plan(nq);
      const dim3 grid = rows_grid(nq, g.ngrid);
      if (S && c.x_real) pad_kernel<T, true, true><<<grid, kThreads, 0, stream>>>(g, C, q0, nq, x, S, work);
      else if (S) pad_kernel<T, true, false><<<grid, kThreads, 0, stream>>>(g, C, q0, nq, x, S, work);
      else if (c.x_real) pad_kernel<T, false, true><<<grid, kThreads, 0, stream>>>(g, C, q0, nq, x, S, work);
      else pad_kernel<T, false, false><<<grid, kThreads, 0, stream>>>(g, C, q0, nq, x, S, work);
      RK_CUDA_CHECK_LAUNCH();
      exec<T>(h, reinterpret_cast<T*>(work), cufft::kForward);
      khat_kernel<T><<<grid, kThreads, 0, stream>>>(g.ngrid, BC, q0, nq, kh, work);
      RK_CUDA_CHECK_LAUNCH();
      exec<T>(h, reinterpret_cast<T*>(work), cufft::kInverse);
      const index_t pb0 = q0 / C, npb = (q0 + nq - 1) / C - pb0 + 1;
      const dim3 cgrid = rows_grid(npb, g.nimg);
      if (S) crop_kernel<T, true><<<cgrid, kThreads, 0, stream>>>(g, C, q0, q0 + nq, pb0, npb, S, work, out);
      else crop_kernel<T, false><<<cgrid, kThreads, 0, stream>>>(g, C, q0, q0 + nq, pb0, npb, S, work, out);
      RK_CUDA_CHECK_LAUNCH();
    }
  }
};

MriToeplitzCuda::MriToeplitzCuda(int dim, const std::int64_t* N, const std::int64_t* G, bool f32, int device) : impl_(new Impl) {
  Impl& p = *impl_;
  if (dim < 1 || dim > 3) throw OpFailure("INVALID_ARGUMENT", "mri toeplitz: the image must have 1 to 3 axes");
  if (device < 0) throw OpFailure("INVALID_ARGUMENT", "mri toeplitz (cuda): device must be ≥ 0");
  double nimg = 1, ngrid = 1;
  for (int a = 0; a < dim; ++a) {
    if (N[a] < 1) throw OpFailure("INVALID_ARGUMENT", "mri toeplitz: image sizes must be positive");
    if (G[a] < 2 * N[a] - 1) throw OpFailure("INVALID_ARGUMENT", "mri toeplitz: the grid must be at least 2N − 1 per axis");
    nimg *= static_cast<double>(N[a]);
    ngrid *= static_cast<double>(G[a]);
  }
  if (ngrid > static_cast<double>(INT_MAX)) {
    throw OpFailure("SIZE_TOO_LARGE", "mri toeplitz (cuda): a grid of " + std::to_string(ngrid) + " cells exceeds the 2^31 − 1 one cuFFT plan takes");
  }
  p.d = dim;
  p.device = device;
  p.f32 = f32;
  const int pad = 3 - dim;
  for (int a = 0; a < dim; ++a) {
    p.g.N[pad + a] = static_cast<unsigned>(N[a]);
    p.g.G[pad + a] = static_cast<unsigned>(G[a]);
    p.n[a] = static_cast<int>(G[a]);
  }
  p.g.nimg = static_cast<unsigned>(nimg);
  p.g.ngrid = static_cast<unsigned>(ngrid);
  {
    int count = 0;
    const cudaError_t st = cudaGetDeviceCount(&count);
    if (st != cudaSuccess || count == 0) {
      cudaGetLastError();
      throw OpFailure("CUDA_UNAVAILABLE", "mri toeplitz (cuda): no usable CUDA device");
    }
    if (device >= count) throw OpFailure("INVALID_DEVICE", "mri toeplitz (cuda): cuda:" + std::to_string(device) + " does not exist");
  }
  p.fft = cufft::Load();
  if (!p.fft) throw OpFailure("CUFFT_UNAVAILABLE", "mri toeplitz (cuda): cuFFT could not be loaded: " + cufft::GetStatus().error);
  DeviceScope scope(device);
  // A blocking stream: its work waits for the legacy default stream's, where DeviceBuffer zeroes
  // new memory (cudaMemset returns before it is done), so a just-made out or work buffer cannot
  // be zeroed after the kernels wrote it.
  RK_CUDA_TRY(cudaStreamCreate(&p.stream));
}

MriToeplitzCuda::~MriToeplitzCuda() = default;

int MriToeplitzCuda::device() const { return impl_->device; }

void MriToeplitzCuda::apply(const MriToeplitzCall& c) {
  Impl& p = *impl_;
  std::lock_guard<std::mutex> lock(p.mu);
  const index_t C = c.smaps ? c.C : 1;
  if (c.P * c.B * C <= 0) return;
  // One cuFFT plan covers at most INT_MAX elements.
  const index_t K = std::min<index_t>({c.work_grids, c.P * c.B * C, static_cast<index_t>(INT_MAX / p.g.ngrid)});
  if (K < 1 || !c.work) throw OpFailure("INVALID_SHAPE", "mri toeplitz (cuda): the work buffer holds no whole grid");
  DeviceScope scope(p.device);
  if (p.f32) p.run<float>(c, C, K);
  else p.run<double>(c, C, K);
  RK_CUDA_TRY(cudaStreamSynchronize(p.stream));
}

void MriToeplitzCuda::set_kernel(double* k, void* khat, std::int64_t P, double scale) {
  Impl& p = *impl_;
  std::lock_guard<std::mutex> lock(p.mu);
  if (P <= 0) return;
  DeviceScope scope(p.device);
  // A one-grid double plan, used once per point set: K̂ is made once per operator.
  const cufft::Handle h = p.make_plan(1, cufft::kZ2Z);
  try {
    for (index_t q = 0; q < P; ++q) p.exec<double>(h, k + 2 * q * static_cast<index_t>(p.g.ngrid), cufft::kForward);
    const index_t n = 2 * P * static_cast<index_t>(p.g.ngrid);
    if (p.f32) launch_cast<double, float>(n, scale, k, khat, p.stream);
    else launch_cast<double, double>(n, scale, k, khat, p.stream);
    RK_CUDA_TRY(cudaStreamSynchronize(p.stream));
  } catch (...) {
    cudaStreamSynchronize(p.stream);
    p.fft->Destroy(h);
    throw;
  }
  p.fft->Destroy(h);
}

}  // namespace rk
