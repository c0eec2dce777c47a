// Our own complex FFT for the native backend: mixed radix 2/3/4/5 (lengths must be 2,3,5-smooth),
// iterative Stockham autosort with precomputed twiddles, n-D (1-3 D) over a contiguous
// [batch, n1..nd] complex-interleaved array, multi-threaded across rows / column blocks.
//
// Convention: X[k] = Σ_j x[j]·exp(sign·2πi·j·k/n), unnormalised, in place.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace rk {

// One axis: the factorisation and per-stage twiddles (in T).
template <typename T>
struct FftAxisPlan {
  struct Stage {
    int radix = 2;
    std::int64_t m = 1;       // sub-length after this stage (n_stage / radix)
    std::vector<T> twr, twi;  // [m][radix-1]: exp(sign·2πi·p·k/n_stage)
  };
  std::int64_t n = 1;
  int sign = -1;
  std::vector<Stage> stages;
  FftAxisPlan() = default;
  FftAxisPlan(std::int64_t n, int sign);  // throws std::invalid_argument unless n is 2,3,5-smooth

  // L interleaved transforms on split data x[n][L] (re, im separate), using y as scratch of the
  // same size. Returns false when the result is in (xr, xi), true when it is in (yr, yi).
  bool run_lanes(T* xr, T* xi, T* yr, T* yi, std::int64_t L) const;
};

// True when n ≥ 1 factors into 2, 3 and 5.
bool fft_is_smooth235(std::int64_t n);

template <typename T>
class FftNd {
 public:
  FftNd() = default;
  // shape: d ≥ 1 axis lengths (row-major, last fastest). sign: +1 or −1.
  FftNd(const std::vector<std::int64_t>& shape, int sign);
  // In-place transform of `batch` stacked arrays, complex interleaved (2 T per element).
  void execute(T* data, std::int64_t batch, int threads) const;
  const std::vector<std::int64_t>& shape() const { return shape_; }

 private:
  std::vector<std::int64_t> shape_;
  std::vector<FftAxisPlan<T>> axes_;
};

extern template class FftNd<float>;
extern template class FftNd<double>;
extern template struct FftAxisPlan<float>;
extern template struct FftAxisPlan<double>;

}  // namespace rk
