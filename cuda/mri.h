// The MRI operators' building blocks (lib/mri): coil weighting, coil combination, k-space
// weighting, dtype casts and the Toeplitz normal operator fused with the coils, on the CPU
// (native/mri_cpu.cc) and on CUDA (cuda/mri_cuda.cu). Plain C++ (no CUDA or N-API types).
// Per-element math: cuda/mri_math.cuh.
//
// Data are complex interleaved (re, im) in T (float for complex64, double for complex128),
// row-major. Image n runs over the N1⋯Nd pixels, a point set p over its M samples.
#pragma once
#include <cstdint>
#include <memory>

namespace rk {

enum class MriOp : int {
  // out[b, c, n] = scale · S[c, n] · x[b, n]            (no S: C = 1, out[b, n] = scale · x[b, n])
  Expand = 0,
  // out[b, n] = (accumulate ? out[b, n] : 0) + scale · Σ_c conj(S[c, n]) · z[b, c, n]   (no S: C = 1)
  Combine = 1,
  // out[p, t, m] = scale · w[p, m] · y[p, t, m]          (no w: weight 1), w real
  Weight = 2,
  // out[i] = scale · in[i] over n reals, between float and double (either direction or the same)
  Cast = 3,
};

// One element-wise op. Expand / Combine: B images, C coils, N pixels. Weight: B = P point sets,
// C = transforms per set, N = M samples.
struct MriEwArgs {
  MriOp op = MriOp::Expand;
  std::int64_t B = 1, C = 1, N = 0;
  double scale = 1.0;
  bool in_real = false;     // Expand: x real [B, N]; Weight: y real [P, C, M] (imaginary part 0)
  bool accumulate = false;  // Combine only
  bool in_f32 = false, out_f32 = false;  // Cast only: the element types of in and out
};

// map: S (Expand/Combine, complex [C, N]) or w (Weight, real [P, M]), or null. in: x / z / y.
// Threads ≤ 0: default (RECON_KERNELS_THREADS or hardware).
template <typename T>
void mri_ew_cpu(const MriEwArgs& a, const T* map, const T* in, T* out, int threads);
void mri_cast_cpu(const MriEwArgs& a, const void* in, void* out, int threads);

// Device pointers on the current device; runs on `stream` (a cudaStream_t) and synchronises it.
template <typename T>
void mri_ew_cuda(const MriEwArgs& a, const T* map, const T* in, T* out, void* stream);
void mri_cast_cuda(const MriEwArgs& a, const void* in, void* out, void* stream);

// One application of the fused Toeplitz normal operator:
//   out[p, b, n] = Σ_c conj(S[c, n]) · crop(IFFT(K̂[p] · FFT(pad(S[c] · x[p, b]))))[n]
// pad: image [N1..Nd] into the corner of the zero grid [G1..Gd] (G_a ≥ 2N_a − 1, so the
// circular convolution is the linear one on the image); crop: the same corner back. FFT sign −1,
// IFFT sign +1, both unnormalised (K̂ carries 1/Π G_a). No S: C = 1, S = 1.
struct MriToeplitzCall {
  std::int64_t P = 1, B = 1, C = 1;
  bool x_real = false;
  const void* x = nullptr;     // [P, B, N1..Nd], complex T (or real T when x_real)
  const void* smaps = nullptr; // [C, N1..Nd] complex T, or null
  const void* khat = nullptr;  // [P, G1..Gd] complex T
  void* out = nullptr;         // [P, B, N1..Nd] complex T, overwritten
  // CUDA only: scratch for `work_grids` whole grids (complex T); coils go through cuFFT in
  // batches of at most that many.
  void* work = nullptr;
  std::int64_t work_grids = 0;
};

// Holds the FFT plans for one image shape, grid and precision. CPU: per-axis plans of the grid
// (2,3,5-smooth sizes) and a work-memory pool; the transforms skip the zero padding (see
// mri_cpu.cc). Calls are serialised by an internal mutex.
class MriToeplitzCpu {
 public:
  MriToeplitzCpu(int dim, const std::int64_t* N, const std::int64_t* G, bool f32);
  ~MriToeplitzCpu();
  MriToeplitzCpu(const MriToeplitzCpu&) = delete;
  MriToeplitzCpu& operator=(const MriToeplitzCpu&) = delete;
  void apply(const MriToeplitzCall& c, int threads);
  // khat[p] = scale · FFT(k[p]) (sign −1) for k complex double [P, G1..Gd], converted to the
  // operator's precision; k is overwritten (it is the transform's workspace).
  void set_kernel(double* k, void* khat, std::int64_t P, double scale, int threads);
  // Frees the work memory now (the plans stay).
  void release();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// CUDA: cuFFT plans (dlopen'ed through native/cufft_loader.h) made once per batch size and
// cached; kernels for pad + coil map, ×K̂, crop + conj(map) accumulation. Pointers are on the
// object's device; work runs on the object's own stream, synchronised before each call returns.
// Throws OpFailure CUFFT_UNAVAILABLE when cuFFT cannot be loaded.
class MriToeplitzCuda {
 public:
  MriToeplitzCuda(int dim, const std::int64_t* N, const std::int64_t* G, bool f32, int device);
  ~MriToeplitzCuda();
  MriToeplitzCuda(const MriToeplitzCuda&) = delete;
  MriToeplitzCuda& operator=(const MriToeplitzCuda&) = delete;
  int device() const;
  void apply(const MriToeplitzCall& c);
  void set_kernel(double* k, void* khat, std::int64_t P, double scale);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rk
