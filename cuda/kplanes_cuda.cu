// CUDA tilted K-Planes feature sampling: one fused kernel per direction, float32.
//
// Layout: each level's planes are repacked once per call to channels-last [3T, H, W, C] (tiled
// shared-memory transpose), so one bilinear tap of one (point, rotation) reads C contiguous
// floats. Plane gradients are accumulated channels-last by atomicAdd and transposed back to
// [3T, C, H, W] at the end. No [3T, C, B]-sized intermediate ever exists.
//
// Mapping: a group of G lanes (G = next power of two >= min(C, 32), G divides 32) serves one
// (point b, rotation t); lane l handles channels l, l + G, ... . The rotation, the three
// bilinear setups and the levels loop are per thread (cheap, served by L1 broadcast).
// Backward: each lane accumulates its channels' share of dL/dr over all levels; the G lanes are
// reduced with __shfl_xor_sync; the group leader adds Rᵀ·dr to dL/dp (atomicAdd, T adds per
// point) and dr ⊗ p to a block-level dL/dR staging area in shared memory, which each block adds
// to global memory once per entry at the end (grid-stride loop, a few blocks per SM).
// Per-element math: kplanes_math.cuh (shared with the CPU backend). Atomics make the backward
// not bitwise deterministic; the forward is deterministic.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "cuda_check.h"
#include "kplanes.h"
#include "kplanes_math.cuh"

namespace rk {
namespace {

using kpm::Bilerp;

constexpr int kThreads = 256;
constexpr int kMaxLevels = 8;        // levels per launch (more levels: several launches)
constexpr int kBlocksPerSM = 8;      // backward grid size (bounds the dL/dR atomics)
constexpr int kMaxSharedR = 48 * 1024 / (9 * 4);  // rotations whose dL/dR fits in shared memory

struct LevelArgs {
  const float* planes[kMaxLevels];  // channels-last [3T, H, W, C]
  float* grads[kMaxLevels];         // channels-last accumulators, or null
  index_t H[kMaxLevels], W[kMaxLevels], col0[kMaxLevels];
  float gate[kMaxLevels];
  int n;
};

struct Geom {
  index_t B, T, C, ld;  // ld = S·T·C, the row length of the features
  index_t items;        // B · T · G
  int G, log2G;
};

__device__ __forceinline__ float ldg(const float* p) { return __ldg(p); }

__global__ void __launch_bounds__(kThreads)
    kp_forward_kernel(const float* __restrict__ pts, const float* __restrict__ rot,
                      float* __restrict__ out, const Geom g, const LevelArgs L) {
  const index_t stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < g.items;
       i += stride) {
    const index_t bt = i >> g.log2G;
    const int lane = static_cast<int>(i & (g.G - 1));
    if (lane >= g.C) continue;
    const index_t b = bt / g.T, t = bt - b * g.T;
    const float p0 = ldg(pts + 3 * b), p1 = ldg(pts + 3 * b + 1), p2 = ldg(pts + 3 * b + 2);
    float R[9];
#pragma unroll
    for (int j = 0; j < 9; ++j) R[j] = ldg(rot + 9 * t + j);
    float* orow = out + b * g.ld + t * g.C;
    for (int s = 0; s < L.n; ++s) {
      const index_t H = L.H[s], W = L.W[s], HW = H * W, C = g.C;
      Bilerp<float> bl[3];
      kpm::setup_rotation(R, p0, p1, p2, H, W, bl);
      const float* base = L.planes[s] + 3 * t * HW * C;
      const float gate = L.gate[s];
      for (index_t c = lane; c < C; c += g.G) {
        float sv[3];
#pragma unroll
        for (int k = 0; k < 3; ++k) {
          const float* sl = base + k * HW * C + c;
          sv[k] = kpm::bilerp_value(bl[k], ldg(sl + bl[k].o00 * C), ldg(sl + bl[k].o01 * C),
                                    ldg(sl + bl[k].o10 * C), ldg(sl + bl[k].o11 * C));
        }
        orow[L.col0[s] + c] = gate * (sv[0] * sv[1] * sv[2]);
      }
    }
  }
}

// The loop over items is block-uniform (every lane of a warp runs the same iterations), so the
// segmented shuffle reduction can use the full mask; inactive lanes contribute zeros.
__global__ void __launch_bounds__(kThreads)
    kp_backward_kernel(const float* __restrict__ pts, const float* __restrict__ rot,
                       const float* __restrict__ gout, float* __restrict__ gpts,
                       float* __restrict__ grot, const Geom g, const LevelArgs L, bool coords,
                       bool shared_rot) {
  extern __shared__ float sR[];  // [T, 3, 3] when shared_rot
  if (shared_rot) {
    for (index_t j = threadIdx.x; j < 9 * g.T; j += blockDim.x) sR[j] = 0.f;
    __syncthreads();
  }
  const index_t stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t i0 = static_cast<index_t>(blockIdx.x) * blockDim.x; i0 < g.items; i0 += stride) {
    const index_t i = i0 + threadIdx.x;
    const bool active = i < g.items;
    const index_t bt = i >> g.log2G;
    const int lane = static_cast<int>(i & (g.G - 1));
    index_t b = 0, t = 0;
    float p0 = 0.f, p1 = 0.f, p2 = 0.f;
    float R[9] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    float dr[3] = {0.f, 0.f, 0.f};
    if (active) {
      b = bt / g.T;
      t = bt - b * g.T;
      p0 = ldg(pts + 3 * b);
      p1 = ldg(pts + 3 * b + 1);
      p2 = ldg(pts + 3 * b + 2);
#pragma unroll
      for (int j = 0; j < 9; ++j) R[j] = ldg(rot + 9 * t + j);
      const float* grow = gout + b * g.ld + t * g.C;
      for (int s = 0; s < L.n; ++s) {
        const index_t H = L.H[s], W = L.W[s], HW = H * W, C = g.C;
        Bilerp<float> bl[3];
        kpm::setup_rotation(R, p0, p1, p2, H, W, bl);
        const float* base = L.planes[s] + 3 * t * HW * C;
        float* gbase = L.grads[s] ? L.grads[s] + 3 * t * HW * C : nullptr;
        const float gate = L.gate[s];
        float gx[3] = {0.f, 0.f, 0.f}, gy[3] = {0.f, 0.f, 0.f};
        for (index_t c = lane; c < C; c += g.G) {
          float sv[3], dx[3], dy[3];
#pragma unroll
          for (int k = 0; k < 3; ++k) {
            const float* sl = base + k * HW * C + c;
            const float v00 = ldg(sl + bl[k].o00 * C), v01 = ldg(sl + bl[k].o01 * C);
            const float v10 = ldg(sl + bl[k].o10 * C), v11 = ldg(sl + bl[k].o11 * C);
            sv[k] = kpm::bilerp_value(bl[k], v00, v01, v10, v11);
            kpm::bilerp_dpix(bl[k], v00, v01, v10, v11, dx[k], dy[k]);
          }
          float d[3];
          kpm::product_grads(sv[0], sv[1], sv[2], gate * ldg(grow + L.col0[s] + c), d[0], d[1],
                             d[2]);
#pragma unroll
          for (int k = 0; k < 3; ++k) {
            if (gbase) {
              float* gl = gbase + k * HW * C + c;
              if (bl[k].w00 != 0.f) atomicAdd(gl + bl[k].o00 * C, d[k] * bl[k].w00);
              if (bl[k].w01 != 0.f) atomicAdd(gl + bl[k].o01 * C, d[k] * bl[k].w01);
              if (bl[k].w10 != 0.f) atomicAdd(gl + bl[k].o10 * C, d[k] * bl[k].w10);
              if (bl[k].w11 != 0.f) atomicAdd(gl + bl[k].o11 * C, d[k] * bl[k].w11);
            }
            gx[k] += d[k] * dx[k];
            gy[k] += d[k] * dy[k];
          }
        }
        if (coords) {
#pragma unroll
          for (int k = 0; k < 3; ++k) kpm::slot_grad_to_r(k, gx[k] * bl[k].dgx, gy[k] * bl[k].dgy, dr);
        }
      }
    }
    if (coords) {
      for (int off = g.G >> 1; off > 0; off >>= 1) {
#pragma unroll
        for (int j = 0; j < 3; ++j) dr[j] += __shfl_xor_sync(0xffffffffu, dr[j], off);
      }
      if (active && lane == 0) {
        if (gpts) {
          float dp[3] = {0.f, 0.f, 0.f};
          kpm::rotation_backward_points(R, dr, dp);
          atomicAdd(gpts + 3 * b, dp[0]);
          atomicAdd(gpts + 3 * b + 1, dp[1]);
          atomicAdd(gpts + 3 * b + 2, dp[2]);
        }
        if (grot) {
          float* dst = shared_rot ? sR + 9 * t : grot + 9 * t;
          const float pp[3] = {p0, p1, p2};
#pragma unroll
          for (int r = 0; r < 3; ++r)
#pragma unroll
            for (int j = 0; j < 3; ++j) atomicAdd(dst + 3 * r + j, dr[r] * pp[j]);
        }
      }
    }
  }
  if (shared_rot) {
    __syncthreads();
    for (index_t j = threadIdx.x; j < 9 * g.T; j += blockDim.x) {
      const float v = sR[j];
      if (v != 0.f) atomicAdd(grot + j, v);
    }
  }
}

// out[z][c][r] = in[z][r][c] for z < batch, r < rows, c < cols; 32×32 tiles, 32×8 threads.
__global__ void __launch_bounds__(kThreads)
    transpose_kernel(const float* __restrict__ in, float* __restrict__ out, index_t rows,
                     index_t cols, index_t batch) {
  __shared__ float tile[32][33];
  const index_t tr = (rows + 31) / 32, tc = (cols + 31) / 32, per = tr * tc;
  const index_t ntiles = per * batch;
  for (index_t ti = blockIdx.x; ti < ntiles; ti += gridDim.x) {
    const index_t z = ti / per, rem = ti - z * per;
    const index_t r0 = (rem / tc) * 32, c0 = (rem % tc) * 32;
    const float* src = in + z * rows * cols;
    float* dst = out + z * rows * cols;
    for (int j = threadIdx.y; j < 32; j += 8) {
      const index_t r = r0 + j, c = c0 + threadIdx.x;
      if (r < rows && c < cols) tile[j][threadIdx.x] = src[r * cols + c];
    }
    __syncthreads();
    for (int j = threadIdx.y; j < 32; j += 8) {
      const index_t c = c0 + j, r = r0 + threadIdx.x;
      if (c < cols && r < rows) dst[c * rows + r] = tile[threadIdx.x][j];
    }
    __syncthreads();
  }
}

void transpose(const float* in, float* out, index_t rows, index_t cols, index_t batch,
               cudaStream_t s) {
  const index_t ntiles = ((rows + 31) / 32) * ((cols + 31) / 32) * batch;
  if (ntiles == 0) return;
  const unsigned grid = static_cast<unsigned>(std::min<index_t>(ntiles, 1 << 20));
  transpose_kernel<<<grid, dim3(32, 8), 0, s>>>(in, out, rows, cols, batch);
  RK_CUDA_CHECK_LAUNCH();
}

// Frees scratch and destroys events on every exit path (errors ignored during cleanup).
struct Scratch {
  cudaStream_t s = nullptr;
  std::vector<void*> bufs;
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  float* alloc(index_t n) {
    void* p = nullptr;
    RK_CUDA_TRY(cudaMallocAsync(&p, sizeof(float) * static_cast<size_t>(std::max<index_t>(n, 1)), s));
    bufs.push_back(p);
    return static_cast<float*>(p);
  }
  void release() {
    for (void* p : bufs) RK_CUDA_TRY(cudaFreeAsync(p, s));
    bufs.clear();
  }
  ~Scratch() {
    for (void* p : bufs) cudaFreeAsync(p, s);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
  }
};

void check_problem(const KPlanesProblem& p) {
  if (p.B < 0 || p.T < 1 || p.C < 1) throw std::invalid_argument("kplanes_cuda: bad B, T or C");
  if (p.H.empty() || p.W.size() != p.H.size() || p.gates.size() != p.H.size())
    throw std::invalid_argument("kplanes_cuda: levels, H, W and gates disagree");
  for (size_t s = 0; s < p.H.size(); ++s)
    if (p.H[s] < 1 || p.W[s] < 1) throw std::invalid_argument("kplanes_cuda: empty plane");
}

Geom make_geom(const KPlanesProblem& p) {
  Geom g;
  g.B = p.B;
  g.T = p.T;
  g.C = p.C;
  g.ld = p.levels() * p.T * p.C;
  g.G = 1;
  g.log2G = 0;
  while (g.G < 32 && g.G < p.C) {
    g.G <<= 1;
    ++g.log2G;
  }
  g.items = p.B * p.T * g.G;
  return g;
}

void start_timer(Scratch& sc, float* device_ms) {
  if (!device_ms) return;
  *device_ms = 0.f;
  RK_CUDA_TRY(cudaEventCreate(&sc.e0));
  RK_CUDA_TRY(cudaEventCreate(&sc.e1));
  RK_CUDA_TRY(cudaEventRecord(sc.e0, sc.s));
}

void finish(Scratch& sc, float* device_ms) {
  if (device_ms) RK_CUDA_TRY(cudaEventRecord(sc.e1, sc.s));
  sc.release();
  RK_CUDA_TRY(cudaStreamSynchronize(sc.s));
  if (device_ms) RK_CUDA_TRY(cudaEventElapsedTime(device_ms, sc.e0, sc.e1));
}

// Channels-last copies of every level's planes.
std::vector<float*> pack_levels(const KPlanesProblem& p, const float* const* planes, Scratch& sc) {
  std::vector<float*> packed;
  for (index_t s = 0; s < p.levels(); ++s) {
    const index_t HW = p.H[s] * p.W[s];
    float* buf = sc.alloc(3 * p.T * HW * p.C);
    // per slot: [C, HW] -> [HW, C]
    transpose(planes[s], buf, p.C, HW, 3 * p.T, sc.s);
    packed.push_back(buf);
  }
  return packed;
}

int multiprocessors() {
  int dev = 0, sms = 0;
  RK_CUDA_TRY(cudaGetDevice(&dev));
  RK_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  return std::max(sms, 1);
}

}  // namespace

template <typename T>
void kplanes_forward_cuda(const KPlanesProblem& p, const T* points, const T* rotations,
                          const T* const* planes, T* out, void* stream, float* device_ms) {
  static_assert(sizeof(T) == 4, "kplanes_forward_cuda is float32 only");
  check_problem(p);
  Scratch sc;
  sc.s = static_cast<cudaStream_t>(stream);
  start_timer(sc, device_ms);
  if (p.B > 0) {
    const std::vector<float*> packed = pack_levels(p, planes, sc);
    const Geom g = make_geom(p);
    const index_t blocks = std::min<index_t>((g.items + kThreads - 1) / kThreads, 0x7fffffff);
    for (index_t s0 = 0; s0 < p.levels(); s0 += kMaxLevels) {
      LevelArgs L{};
      L.n = static_cast<int>(std::min<index_t>(kMaxLevels, p.levels() - s0));
      for (int j = 0; j < L.n; ++j) {
        const index_t s = s0 + j;
        L.planes[j] = packed[s];
        L.grads[j] = nullptr;
        L.H[j] = p.H[s];
        L.W[j] = p.W[s];
        L.col0[j] = s * p.T * p.C;
        L.gate[j] = static_cast<float>(p.gates[s]);
      }
      kp_forward_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, sc.s>>>(points, rotations, out, g, L);
      RK_CUDA_CHECK_LAUNCH();
    }
  }
  finish(sc, device_ms);
}

template <typename T>
void kplanes_backward_cuda(const KPlanesProblem& p, const T* points, const T* rotations,
                           const T* const* planes, const T* grad_out, T* const* grad_planes,
                           T* grad_points, T* grad_rotations, void* stream, float* device_ms) {
  static_assert(sizeof(T) == 4, "kplanes_backward_cuda is float32 only");
  check_problem(p);
  Scratch sc;
  sc.s = static_cast<cudaStream_t>(stream);
  start_timer(sc, device_ms);
  if (grad_points) RK_CUDA_TRY(cudaMemsetAsync(grad_points, 0, sizeof(float) * 3 * p.B, sc.s));
  if (grad_rotations) RK_CUDA_TRY(cudaMemsetAsync(grad_rotations, 0, sizeof(float) * 9 * p.T, sc.s));
  const bool coords = grad_points || grad_rotations;
  if (p.B > 0 && (coords || grad_planes)) {
    const std::vector<float*> packed = pack_levels(p, planes, sc);
    std::vector<float*> acc(static_cast<size_t>(p.levels()), nullptr);
    if (grad_planes) {
      for (index_t s = 0; s < p.levels(); ++s) {
        const index_t n = 3 * p.T * p.C * p.H[s] * p.W[s];
        acc[s] = sc.alloc(n);
        RK_CUDA_TRY(cudaMemsetAsync(acc[s], 0, sizeof(float) * n, sc.s));
      }
    }
    const Geom g = make_geom(p);
    const bool shared_rot = grad_rotations && p.T <= kMaxSharedR;
    const size_t smem = shared_rot ? sizeof(float) * 9 * static_cast<size_t>(p.T) : 0;
    const index_t blocks = std::max<index_t>(
        1, std::min<index_t>((g.items + kThreads - 1) / kThreads,
                             static_cast<index_t>(multiprocessors()) * kBlocksPerSM));
    for (index_t s0 = 0; s0 < p.levels(); s0 += kMaxLevels) {
      LevelArgs L{};
      L.n = static_cast<int>(std::min<index_t>(kMaxLevels, p.levels() - s0));
      for (int j = 0; j < L.n; ++j) {
        const index_t s = s0 + j;
        L.planes[j] = packed[s];
        L.grads[j] = acc[s];
        L.H[j] = p.H[s];
        L.W[j] = p.W[s];
        L.col0[j] = s * p.T * p.C;
        L.gate[j] = static_cast<float>(p.gates[s]);
      }
      kp_backward_kernel<<<static_cast<unsigned>(blocks), kThreads, smem, sc.s>>>(
          points, rotations, grad_out, grad_points, grad_rotations, g, L, coords, shared_rot);
      RK_CUDA_CHECK_LAUNCH();
    }
    if (grad_planes) {
      for (index_t s = 0; s < p.levels(); ++s) {
        // per slot: [HW, C] -> [C, HW]
        transpose(acc[s], grad_planes[s], p.H[s] * p.W[s], p.C, 3 * p.T, sc.s);
      }
    }
  } else if (grad_planes) {
    for (index_t s = 0; s < p.levels(); ++s)
      RK_CUDA_TRY(cudaMemsetAsync(grad_planes[s], 0, sizeof(float) * 3 * p.T * p.C * p.H[s] * p.W[s], sc.s));
  }
  finish(sc, device_ms);
}

template void kplanes_forward_cuda<float>(const KPlanesProblem&, const float*, const float*,
                                          const float* const*, float*, void*, float*);
template void kplanes_backward_cuda<float>(const KPlanesProblem&, const float*, const float*,
                                           const float* const*, const float*, float* const*,
                                           float*, float*, void*, float*);

}  // namespace rk
