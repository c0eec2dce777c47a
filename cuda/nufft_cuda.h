// CUDA NUFFT types 1 and 2 (d = 1..3, plain and fused gradient): the plan interface the binding
// drives. Plain C++ (no CUDA or N-API types); mirrors rk::NufftPlan (cuda/nufft.h): same options
// (batched point sets P, per-axis widths and fine grids included), kernel parameters, fine grids,
// conventions and output layout.
//
// Work stays on the device between set_points and execute: points are folded, binned and sorted
// on the device (the permutation is kept), type 1 spreads by shared-memory subproblems (one block
// per bin tile, shared atomics; the tile is added to the fine grid with plain stores where only
// that bin can reach and atomics at the bin borders), type 2 interpolates one thread per point in
// sorted order, cuFFT (dlopen'ed, one batched plan per plan object, on the plan's stream) does the
// FFT, and deconvolution + mode reordering is one kernel per direction. The P point sets share
// every step: one sort (bins keyed by set), one launch per stage, one cuFFT batch of P·ntransf.
//
// Pointers are device pointers on the plan's device, or host pointers (on_device = false): a host
// input is uploaded once into a plan-owned buffer, a host output is downloaded at the end. Every
// call synchronises the plan's stream before it returns. Errors: rk::OpFailure (codes as in
// cuda/nufft.h, plus CUFFT_UNAVAILABLE, OUT_OF_MEMORY, CUDA_ERROR for cuFFT failures) and rk::CudaError.
#pragma once
#include <cstdint>
#include <memory>

#include "nufft.h"

namespace rk {

class NufftCudaPlan {
 public:
  // Throws OpFailure CUFFT_UNAVAILABLE (message: cufft::GetStatus().error) when cuFFT cannot be
  // loaded; the options are validated exactly like NufftPlan's.
  NufftCudaPlan(const NufftOptions& o, int device);
  ~NufftCudaPlan();
  NufftCudaPlan(const NufftCudaPlan&) = delete;
  NufftCudaPlan& operator=(const NufftCudaPlan&) = delete;

  const NufftOptions& options() const;
  const NufftInfo& info() const;
  int device() const;
  // Points [P, d, M] (M per set), float (f32 plans) or double; validated (finite), folded, binned
  // and sorted on the device. Thread-safe (serialised with execute).
  void set_points(const void* pts, bool on_device, std::int64_t M);
  // in_len / out_len: element counts (reals) of the buffers, checked like NufftPlan::execute.
  void execute(const void* in, bool in_on_device, std::int64_t in_len, void* out, bool out_on_device,
               std::int64_t out_len);
  std::int64_t num_points() const;  // -1 before set_points
  std::int64_t input_length(std::int64_t M) const;
  std::int64_t output_length(std::int64_t M) const;
  // sort_ms from the last set_points; spread (type 1) or interpolation (type 2), fft and
  // deconvolve from CUDA events of the last execute; total_ms is its wall clock (with copies).
  NufftTimings timings() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rk
