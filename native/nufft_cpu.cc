// Native (multi-threaded C++) NUFFT types 1 and 2, d = 1..3, plain and fused gradient.
//
// Layout of the work: points are folded to fine-grid coordinates and counting-sorted by bin
// (16 cells per axis in 1-D/2-D, 8 in 3-D) in set_points. Spreading (type 1) splits the sorted
// points into one contiguous chunk per thread; a chunk covers a slab of the slowest real axis,
// so each thread spreads into its own private slab (the slab's rows along the slowest axis, the
// other axes padded by the kernel width so no index wraps), and a deterministic parallel
// reduction over the slowest axis folds the slabs (with periodic wrap) into the fine grid. No
// atomics, no locks, bit-identical results run to run. Interpolation (type 2) reads the fine grid
// directly, multi-threaded by point chunks. Deconvolution and mode reordering are one pass.
// The per-point math (fold, kernel start, Horner) comes from cuda/nufft_math.cuh.
#include "nufft.h"

// The 256-bit GCC vector helpers below are internal (anonymous namespace, inlined), so the
// psABI note about passing them without AVX (portable builds) does not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "fft.h"
#include "nufft_math.cuh"
#include "parallel_for.h"
#include "width_dispatch.h"

#include "op_failure.h"

namespace rk {

// ---------------------------------------------------------------------------------------------
// Kernel parameters: a line-by-line port of lib/nufft/params.ts.
namespace {

constexpr double kPi = 3.141592653589793;

double bessel_i0(double x) {
  const double q = (x * x) / 4;
  double term = 1, sum = 1;
  for (int k = 1; k < 500; k++) {
    term *= q / (static_cast<double>(k) * k);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

double kb_kernel(double z, double beta) {
  const double t = 1 - z * z;
  return t < 0 ? 0 : bessel_i0(beta * std::sqrt(t));
}

double kb_kernel_derivative(double z, double beta) {
  const double t = 1 - z * z;
  if (t < 0) return 0;
  const double q = (beta * beta * t) / 4;
  double term = 1, sum = 1;
  for (int k = 1; k < 500; k++) {
    term *= q / (static_cast<double>(k) * (k + 1));
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (-(beta * beta * z) / 2) * sum;
}

double kb_beta(int width, double upsampfac) {
  const double a = (width / upsampfac) * (upsampfac - 0.5);
  return kPi * std::sqrt(a * a - 0.8);
}

int width_for_eps(double eps, double upsampfac) {
  const double digits = std::log10(1 / eps);
  const int w = upsampfac == 2 ? static_cast<int>(std::ceil(digits - 1e-9)) + 1
                               : static_cast<int>(std::ceil(1.63 * digits + 0.98 - 1e-9));
  return std::max(2, std::min(w, upsampfac == 2 ? 16 : 20));
}

void gauss_legendre(int n, std::vector<double>& nodes, std::vector<double>& weights) {
  nodes.assign(n, 0);
  weights.assign(n, 0);
  for (int i = 0; i < n; i++) {
    double x = std::cos((kPi * (i + 0.75)) / (n + 0.5));
    double dp = 1;
    for (int it = 0; it < 100; it++) {
      double p0 = 1, p1 = x;
      for (int k = 2; k <= n; k++) {
        const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (x * p1 - p0)) / (x * x - 1);
      const double dx = p1 / dp;
      x -= dx;
      if (std::fabs(dx) < 1e-16) break;
    }
    double p0 = 1, p1 = x;
    for (int k = 2; k <= n; k++) {
      const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = (n * (x * p1 - p0)) / (x * x - 1);
    nodes[i] = x;
    weights[i] = 2 / ((1 - x * x) * dp * dp);
  }
}

template <typename F>
std::vector<double> cheb_fit_monomial(F f, int degree) {
  const int n = degree + 1;
  std::vector<double> vals(n), cheb(n, 0.0), mono(n, 0.0);
  for (int i = 0; i < n; i++) vals[i] = f(std::cos((kPi * (i + 0.5)) / n));
  for (int k = 0; k < n; k++) {
    double s = 0;
    for (int i = 0; i < n; i++) s += vals[i] * std::cos((kPi * k * (i + 0.5)) / n);
    cheb[k] = ((k == 0 ? 1.0 : 2.0) / n) * s;
  }
  std::vector<double> tPrev{1}, tCur{0, 1};
  mono[0] += cheb[0];
  if (n > 1) mono[1] += cheb[1];
  for (int k = 2; k < n; k++) {
    std::vector<double> tNext(k + 1, 0.0);
    for (size_t p = 0; p < tCur.size(); p++) tNext[p + 1] += 2 * tCur[p];
    for (size_t p = 0; p < tPrev.size(); p++) tNext[p] -= tPrev[p];
    for (int p = 0; p <= k; p++) mono[p] += cheb[k] * tNext[p];
    tPrev = std::move(tCur);
    tCur = std::move(tNext);
  }
  return mono;
}

// Fit tolerance for a NUFFT of relative error eps at oversampling sigma: the same rule as
// kernelFitTolerance in lib/nufft/params.ts (why these factors: see there), so both backends fit
// the same polynomials.
double kernel_fit_tolerance(double eps, double sigma) { return std::max((sigma >= 2 ? 1e-2 : 1e-3) * eps, 1e-14); }

void kernel_polynomial(int width, double beta, double tol, NufftKernel& out) {
  const double half = width / 2.0;
  auto zOf = [&](int j, double u) { return ((u + 1) / 2 + j - half) / half; };
  const double phiMax = kb_kernel(0, beta);
  double dMax = 0;
  for (int i = 0; i <= 200; i++) dMax = std::max(dMax, std::fabs(kb_kernel_derivative(i / 200.0, beta)));
  for (int degree = std::max(4, width - 2); degree <= 30; degree++) {
    std::vector<double> coeffs((degree + 1) * width), dcoeffs((degree + 1) * width);
    double err = 0;
    for (int j = 0; j < width; j++) {
      auto m = cheb_fit_monomial([&](double u) { return kb_kernel(zOf(j, u), beta); }, degree);
      auto dm = cheb_fit_monomial([&](double u) { return kb_kernel_derivative(zOf(j, u), beta); }, degree);
      for (int p = 0; p <= degree; p++) {
        coeffs[p * width + j] = m[degree - p];
        dcoeffs[p * width + j] = dm[degree - p];
      }
      for (int i = 0; i <= 64; i++) {
        const double u = -1 + (2.0 * i) / 64;
        double v = 0, dv = 0;
        for (int p = 0; p <= degree; p++) {
          v = v * u + m[degree - p];
          dv = dv * u + dm[degree - p];
        }
        err = std::max({err, std::fabs(v - kb_kernel(zOf(j, u), beta)) / phiMax,
                        std::fabs(dv - kb_kernel_derivative(zOf(j, u), beta)) / dMax});
      }
    }
    out.degree = degree;
    out.coeffs = std::move(coeffs);
    out.dcoeffs = std::move(dcoeffs);
    if (err <= tol) break;
  }
}

std::string fmt_exp(double v) {  // like JS toExponential(): 1e-12, 1e-5, 2.5e-7
  char buf[64];
  for (int prec = 0; prec < 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s(buf);
  const size_t e = s.find('e');
  std::string mant = s.substr(0, e), ex = s.substr(e + 1);
  int exv = std::atoi(ex.c_str());
  return mant + "e" + (exv >= 0 ? "+" : "-") + std::to_string(std::abs(exv));
}

std::string fmt_num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

double nufft_eps_limit(bool f32, double upsampfac) {
  // Measured floors: see lib/nufft/params.ts epsLimit.
  if (upsampfac == 1.25) return f32 ? 1e-4 : 1e-10;
  return f32 ? 1e-6 : 1e-12;
}

NufftKernel nufft_choose_kernel(double eps, double upsampfac, bool f32, bool gradient, int width_override) {
  if (upsampfac != 2 && upsampfac != 1.25) {
    throw OpFailure("INVALID_ARGUMENT", "upsampfac must be 2 or 1.25, got " + fmt_num(upsampfac));
  }
  if (!(eps > 0) || !std::isfinite(eps)) throw OpFailure("INVALID_ARGUMENT", "eps must be a positive finite number, got " + fmt_num(eps));
  const double limit = nufft_eps_limit(f32, upsampfac);
  if (eps < limit) {
    throw OpFailure("INVALID_ARGUMENT", "eps " + fmt_num(eps) + " is below the supported limit " + fmt_exp(limit) + " for " +
                                            (f32 ? "float32" : "float64") + " at upsampfac " + fmt_num(upsampfac));
  }
  if (width_override < 0) throw OpFailure("INVALID_ARGUMENT", "width must be ≥ 0 (0 = from eps)");
  NufftKernel k;
  k.upsampfac = upsampfac;
  k.gradient_width_increase = gradient ? 1 : 0;
  k.width = (width_override > 0 ? width_override : width_for_eps(std::min(eps, 1e-1), upsampfac)) + k.gradient_width_increase;
  if (k.width < 2 || k.width > 32) {
    throw OpFailure("INVALID_ARGUMENT", "kernel width " + std::to_string(k.width) + " is outside 2..32");
  }
  k.beta = kb_beta(k.width, upsampfac);
  kernel_polynomial(k.width, k.beta, kernel_fit_tolerance(eps, upsampfac), k);
  return k;
}

std::int64_t nufft_fine_grid_size(std::int64_t N, double upsampfac, int width) {
  std::int64_t m = std::max<std::int64_t>(static_cast<std::int64_t>(std::ceil(upsampfac * N - 1e-9)), 2 * width);
  m = std::max<std::int64_t>(m, 2);
  if (m % 2) m++;
  for (;; m += 2)
    if (fft_is_smooth235(m)) return m;
}

std::vector<double> nufft_kernel_fseries(int width, double beta, std::int64_t nf, std::int64_t N) {
  const int q = std::max(32, 2 * width + 24);
  std::vector<double> nodes, weights;
  gauss_legendre(q, nodes, weights);
  std::vector<double> phi(q);
  for (int j = 0; j < q; j++) phi[j] = kb_kernel(nodes[j], beta);
  std::vector<double> out(static_cast<size_t>(N));
  const std::int64_t k0 = -(N / 2);
  for (std::int64_t i = 0; i < N; i++) {
    const double k = static_cast<double>(k0 + i);
    double s = 0;
    for (int j = 0; j < q; j++) s += weights[j] * phi[j] * std::cos((kPi * k * width * nodes[j]) / nf);
    out[i] = (width / 2.0) * s;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The engine: everything that depends on the storage type T.
namespace {

constexpr int kMaxW = 32;
constexpr std::int64_t kBlock = 2048;  // points per gather/scatter block
constexpr std::int64_t kPrefetch = 24;  // gather/scatter prefetch distance (points)
constexpr std::int64_t kPadReals = 64;  // zeroed slack after slabs and the grid (over-long vector rows)

struct Chunk {
  std::int64_t b = 0, e = 0;  // sorted point range
  std::int64_t lo = 0, len = 0;  // slab: first index and length along the slab axis
};

template <typename T>
struct Engine {
  // Geometry (padded to 3 axes; padded axes have size 1 and width 1).
  int d = 1, pad = 2, w = 2, deg = 4, threads = 1;
  std::int64_t n3[3] = {1, 1, 1};
  std::int64_t N3[3] = {1, 1, 1};
  std::int64_t nfine = 1, nmodes = 1;
  double dscale[3] = {0, 0, 0};
  std::vector<T> coeffs, dcoeffs;  // [deg+1][ks], zero-padded beyond w
  int ks = 0;                      // coefficient row stride: w rounded up to whole vectors
  // Per padded axis: kernel width and coefficient tables (same layout as coeffs: [deg+1][ks],
  // zero-padded beyond the axis's width and, for lower-degree axes, leading zero rows). w is the
  // largest width; all loops over the fastest axis run over w (zero weights beyond its own width).
  int wa[3] = {1, 1, 1};
  std::vector<T> coeffsA[3], dcoeffsA[3];
  std::vector<std::int64_t> F[3];  // per padded axis, mode index -> fine index
  std::vector<T> S[3];             // per padded axis, 1/φ̂(k)
  FftNd<T> fft;
  int ntransf = 1, type = 1;
  int P = 1;  // point sets: grids/transforms are [P, ntransf]
  bool grad = false;

  // Points (all P sets; M per set).
  std::int64_t M = -1;
  std::vector<std::uint32_t> orderAll;  // [P][M]
  std::vector<std::uint32_t> invAll;    // [P][M]: sorted position of each input point
  std::vector<double> ysAll;            // [P][d][M] sorted
  std::vector<std::vector<Chunk>> chunksAll;
  // The current set (selected by use_set before each set's work).
  const std::uint32_t* order = nullptr;
  const std::uint32_t* inv = nullptr;
  // One transform's strengths (type 1) / results (type 2) in sorted order: point pi at
  // sorted_stride()·pi (its 1+d complex rows, padded so a point never straddles a 64-byte line),
  // except some gradient transforms' strengths (rows, see strengths_as_rows()).
  std::vector<T> sortedBuf;
  std::int64_t sorted_stride() const {
    const int r2 = 2 * (grad ? 1 + d : 1);
    return r2 <= 2 ? 2 : r2 <= 4 ? 4 : 8;
  }
  T* sorted_buffer() {
    const size_t need = static_cast<size_t>(sorted_stride() * M) + 64 / sizeof(T);
    if (sortedBuf.size() < need) sortedBuf.resize(need);
    const std::uintptr_t p = reinterpret_cast<std::uintptr_t>(sortedBuf.data());
    return sortedBuf.data() + ((64 - p % 64) % 64) / sizeof(T);
  }
  const double* ys = nullptr;
  std::vector<Chunk> chunks;
  void use_set(std::int64_t p) {
    order = orderAll.data() + p * M;
    inv = invAll.data() + p * M;
    ys = ysAll.data() + p * d * M;
    chunks = chunksAll[static_cast<size_t>(p)];
  }
  std::int64_t E[3] = {1, 1, 1};  // slab extents (E[pad] per chunk = len)
  std::int64_t off = 0;           // local offset on the non-slab real axes
  std::vector<std::vector<T>> slabs;
  std::vector<T> grid;
  // Type 2 reads the fine grid through a periodically extended copy, halo ([X0][X1][X2] on the
  // padded axes, hx = n + w on real axes; point rows start at i0 + off on every real axis), so no
  // row wraps and row strides are not powers of two. Interpolating straight from the
  // power-of-two grid mapped a point's rows onto a few L1 sets (the 1024-complex rows of a 2-D
  // grid all onto one): conflict misses made interpolation slower than spreading into the
  // slabs, whose rows already carry the halo.
  std::int64_t hx[3] = {1, 1, 1};
  std::vector<T> halo;

  // Per-point kernel values for the real axes.
  struct PK {
    alignas(64) T k[3][kMaxW];
    alignas(64) T dk[3][kMaxW];
    int i0[3];
  };

  // Inner loops run over a fixed length VW = 2W rounded up to whole 256-bit vectors (the kernel
  // values beyond W are zero, so the extra lanes add zeros / are ignored); slabs and the grid
  // carry kPadReals of zeroed slack at the end so these over-long rows stay in bounds.
  static constexpr int G = static_cast<int>(32 / sizeof(T));
  template <int W>
  static constexpr int vw() {
    return W > 0 ? ((2 * W + G - 1) / G) * G : 0;
  }

  // 256-bit GCC vector type (lowered to two SSE ops without AVX); unaligned loads via memcpy.
  typedef T VT __attribute__((vector_size(32)));
  static RK_FORCEINLINE VT vld(const T* p) {
    VT v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static RK_FORCEINLINE void vst(T* p, VT v) { std::memcpy(p, &v, sizeof v); }

  // Integer vector of the same lane count, for __builtin_shuffle masks.
  typedef std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t> LaneIdx;
  typedef LaneIdx VI __attribute__((vector_size(32)));
  // Vector v of the weights w duplicated per (re, im) lane pair: (w[h], w[h], w[h+1], w[h+1], ...)
  // with h = v·G/2. Loads the whole vector the kernel evaluation stored (G-aligned, so the load
  // is forwarded from that store; a load straddling two stores would stall) and shuffles its low
  // or high half. The shuffle masks are literals: masks filled in a loop were built at run time,
  // lane by lane, on every call (gcc 12).
  static RK_FORCEINLINE VT dup_pairs(const T* w, int v) {
    const VT x = vld(w + (v / 2) * G);
    if constexpr (G == 8) {
      return (v & 1) ? __builtin_shuffle(x, VI{4, 4, 5, 5, 6, 6, 7, 7}) : __builtin_shuffle(x, VI{0, 0, 1, 1, 2, 2, 3, 3});
    } else {
      return (v & 1) ? __builtin_shuffle(x, VI{2, 2, 3, 3}) : __builtin_shuffle(x, VI{0, 0, 1, 1});
    }
  }
  // (re, im, re, im, ...) in registers.
  static RK_FORCEINLINE VT cbroadcast(T re, T im) {
    if constexpr (G == 8) {
      return VT{re, im, re, im, re, im, re, im};
    } else {
      return VT{re, im, re, im};
    }
  }
  // Spreading rows in vectors of VB bytes: 32 (the VT above) or, with AVX-512, 64 where a row
  // is a whole number of them. A row update is one load, one or two multiply-adds and one store
  // per vector, so halving the vector count cut 3-D gradient spreading by 5-14% (complex64 /
  // complex128) and plain complex128 by 6% on Zen 5.
  template <int VB>
  struct Lanes {
    typedef T V __attribute__((vector_size(VB)));
    static constexpr int L = VB / static_cast<int>(sizeof(T));
    static RK_FORCEINLINE V load(const T* p) {
      V v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    static RK_FORCEINLINE void store(T* p, V v) { std::memcpy(p, &v, sizeof v); }
    // (re, im, re, im, ...)
    static RK_FORCEINLINE V cb(T re, T im) {
      if constexpr (VB == 32) {
        return cbroadcast(re, im);
      } else if constexpr (L == 8) {
        return V{re, im, re, im, re, im, re, im};
      } else {
        return V{re, im, re, im, re, im, re, im, re, im, re, im, re, im, re, im};
      }
    }
    // Vector z of the weights w duplicated per (re, im) pair, from whole G-aligned loads of what
    // the kernel evaluation stored (see dup_pairs).
    static RK_FORCEINLINE V dup(const T* w, int z) {
      if constexpr (VB == 32) {
        return dup_pairs(w, z);
      } else {
        const VT x = vld(w + z * G);
        if constexpr (G == 8) {
          return __builtin_shufflevector(x, x, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        } else {
          return __builtin_shufflevector(x, x, 0, 0, 1, 1, 2, 2, 3, 3);
        }
      }
    }
  };
  // Vector bytes for spreading rows of VW reals.
  template <int VW>
  static constexpr int spread_vb() {
#if defined(__AVX512F__)
    return VW > 0 && VW % (64 / static_cast<int>(sizeof(T))) == 0 ? 64 : 32;
#else
    return 32;
#endif
  }

  // Vector bytes for interpolation rows of VW reals. Its 512-bit row loads are unaligned (most
  // split across two cache lines) but still faster from the halo grid: 3-D complex128 gradient
  // 14% faster, plain 3%. (From the power-of-two grid, where conflict misses dominated, they had
  // measured 10-35% slower.)
  template <int VW>
  static constexpr int interp_vb() {
#if defined(__AVX512F__)
    return VW > 0 && VW % (64 / static_cast<int>(sizeof(T))) == 0 ? 64 : 32;
#else
    return 32;
#endif
  }

  // o[0] = Σ even lanes (real parts), o[1] = Σ odd lanes (imaginary parts), by halving folds.
  static RK_FORCEINLINE void store_pair_sum(T* o, VT v) {
    if constexpr (G == 8) {
      v += __builtin_shuffle(v, VI{4, 5, 6, 7, 0, 1, 2, 3});
      v += __builtin_shuffle(v, VI{2, 3, 0, 1, 6, 7, 4, 5});
    } else {
      v += __builtin_shuffle(v, VI{2, 3, 0, 1});
    }
    o[0] = v[0];
    o[1] = v[1];
  }
  template <int N>
  static RK_FORCEINLINE void axpy1(T* __restrict__ y, int n, T a, const T* __restrict__ x) {
    if (N > 0) {
      for (int q = 0; q < N; q += G) vst(y + q, vld(y + q) + a * vld(x + q));
    } else {
      for (int q = 0; q < n; ++q) y[q] += a * x[q];
    }
  }
  template <int N>
  static RK_FORCEINLINE void axpy2(T* __restrict__ y, int n, T a, const T* __restrict__ x, T b,
                                   const T* __restrict__ u) {
    if (N > 0) {
      for (int q = 0; q < N; q += G) vst(y + q, vld(y + q) + a * vld(x + q) + b * vld(u + q));
    } else {
      for (int q = 0; q < n; ++q) y[q] += a * x[q] + b * u[q];
    }
  }
  template <int N>
  static RK_FORCEINLINE void axpy3(T* __restrict__ y, int n, T a, const T* __restrict__ x, T b,
                                   const T* __restrict__ u, T c, const T* __restrict__ v) {
    if (N > 0) {
      for (int q = 0; q < N; q += G) vst(y + q, vld(y + q) + a * vld(x + q) + b * vld(u + q) + c * vld(v + q));
    } else {
      for (int q = 0; q < n; ++q) y[q] += a * x[q] + b * u[q] + c * v[q];
    }
  }
  template <int N>
  static RK_FORCEINLINE void acc2(T* __restrict__ y, T* __restrict__ y1, int n, T a, T b, const T* __restrict__ r) {
    if (N > 0) {
      for (int q = 0; q < N; q += G) {
        const VT rv = vld(r + q);
        vst(y + q, vld(y + q) + a * rv);
        vst(y1 + q, vld(y1 + q) + b * rv);
      }
    } else {
      for (int q = 0; q < n; ++q) {
        y[q] += a * r[q];
        y1[q] += b * r[q];
      }
    }
  }
  template <int N>
  static RK_FORCEINLINE void acc3(T* __restrict__ y, T* __restrict__ y0, T* __restrict__ y1, int n, T a, T b, T c,
                                  const T* __restrict__ r) {
    if (N > 0) {
      for (int q = 0; q < N; q += G) {
        const VT rv = vld(r + q);
        vst(y + q, vld(y + q) + a * rv);
        vst(y0 + q, vld(y0 + q) + b * rv);
        vst(y1 + q, vld(y1 + q) + c * rv);
      }
    } else {
      for (int q = 0; q < n; ++q) {
        y[q] += a * r[q];
        y0[q] += b * r[q];
        y1[q] += c * r[q];
      }
    }
  }

  // Horner over whole vectors of the zero-padded coefficient rows (the same arithmetic as
  // nufftm::eval_kernel, lane-parallel); weights beyond w come out 0.
  template <int W>
  RK_FORCEINLINE void eval_vec(const T* __restrict__ c, T u, T* __restrict__ ker) const {
    if (W > 0) {
      constexpr int KS = ((W + G - 1) / G) * G;
      for (int v = 0; v < KS; v += G) {
        VT acc = vld(c + v);
        for (int p = 1; p <= deg; ++p) acc = acc * u + vld(c + p * KS + v);
        vst(ker + v, acc);
      }
    } else {
      nufftm::eval_kernel<0, T>(c, ks, deg, ks, u, ker);
    }
  }

  // Kernel values of NP points (pk[0..NP)) at arguments uu[n][axis]: all Horner chains (points ×
  // real axes × value/derivative × vectors) advance together so their FMA latencies overlap, and
  // each coefficient load serves every point; loop bounds are compile-time so the chains live in
  // registers.
  template <int W, int PAD, bool GR, int NP>
  RK_FORCEINLINE void horner_all(const T (*uu)[3], PK* pk) const {
    constexpr int KS = W > 0 ? ((W + G - 1) / G) * G : G;
    // 512-bit chains where a coefficient row is whole 512-bit vectors (complex128, w 5-8): half
    // the multiply-adds (2-D complex128 gradient transform 6% faster).
#if defined(__AVX512F__)
    constexpr int VB = (KS * static_cast<int>(sizeof(T))) % 64 == 0 ? 64 : 32;
#else
    constexpr int VB = 32;
#endif
    using Ln = Lanes<VB>;
    using V = typename Ln::V;
    constexpr int NV = KS / Ln::L;
    V ak[NP][3][NV], ad[NP][3][NV];
    for (int pa = PAD; pa < 3; ++pa)
      for (int v = 0; v < NV; ++v) {
        const V c0 = Ln::load(coeffsA[pa].data() + v * Ln::L);
        const V d0 = GR ? Ln::load(dcoeffsA[pa].data() + v * Ln::L) : V{};
        for (int n = 0; n < NP; ++n) {
          ak[n][pa][v] = c0;
          if (GR) ad[n][pa][v] = d0;
        }
      }
    for (int p = 1; p <= deg; ++p) {
      for (int pa = PAD; pa < 3; ++pa) {
        const T* c = coeffsA[pa].data() + p * KS;
        const T* dc = dcoeffsA[pa].data() + p * KS;
        for (int v = 0; v < NV; ++v) {
          const V cv = Ln::load(c + v * Ln::L);
          const V dv = GR ? Ln::load(dc + v * Ln::L) : V{};
          for (int n = 0; n < NP; ++n) {
            ak[n][pa][v] = ak[n][pa][v] * uu[n][pa] + cv;
            if (GR) ad[n][pa][v] = ad[n][pa][v] * uu[n][pa] + dv;
          }
        }
      }
    }
    for (int n = 0; n < NP; ++n)
      for (int pa = PAD; pa < 3; ++pa)
        for (int v = 0; v < NV; ++v) {
          Ln::store(pk[n].k[pa] + v * Ln::L, ak[n][pa][v]);
          if (GR) Ln::store(pk[n].dk[pa] + v * Ln::L, ad[n][pa][v] * static_cast<T>(dscale[pa]));
        }
  }

  // Kernel values and start indices of the NP sorted points pis[0..NP) into pk[0..NP).
  template <int W, int NP>
  inline void eval_points(const std::int64_t* pis, bool with_grad, PK* pk) const {
    T uu[NP][3] = {};
    for (int n = 0; n < NP; ++n) {
      for (int pa = 0; pa < pad; ++pa) {
        pk[n].k[pa][0] = T(1);
        pk[n].dk[pa][0] = T(0);
        pk[n].i0[pa] = 0;
      }
      for (int pa = pad; pa < 3; ++pa) {
        int i0;
        double u;
        nufftm::kernel_start(ys[(pa - pad) * M + pis[n]], wa[pa], i0, u);
        pk[n].i0[pa] = i0;
        uu[n][pa] = static_cast<T>(u);
      }
    }
    if (W > 0) {
      if (pad == 0) {
        with_grad ? horner_all<W, 0, true, NP>(uu, pk) : horner_all<W, 0, false, NP>(uu, pk);
      } else if (pad == 1) {
        with_grad ? horner_all<W, 1, true, NP>(uu, pk) : horner_all<W, 1, false, NP>(uu, pk);
      } else {
        with_grad ? horner_all<W, 2, true, NP>(uu, pk) : horner_all<W, 2, false, NP>(uu, pk);
      }
    } else {
      for (int n = 0; n < NP; ++n)
        for (int pa = pad; pa < 3; ++pa) {
          eval_vec<0>(coeffsA[pa].data(), uu[n][pa], pk[n].k[pa]);
          if (with_grad) {
            eval_vec<0>(dcoeffsA[pa].data(), uu[n][pa], pk[n].dk[pa]);
            const T sc = static_cast<T>(dscale[pa]);
            for (int j = 0; j < w; ++j) pk[n].dk[pa][j] *= sc;
          }
        }
    }
  }
  // Points p0 and min(p0 + 1, last) into pk[0..2): two points' chains in one pass (their
  // latency is what the look-ahead in spreading and interpolation hides; 2-7% faster than one
  // point at a time, most in 2-D).
  template <int W>
  void eval_pair(std::int64_t p0, std::int64_t last, bool with_grad, PK* pk) const {
    const std::int64_t pis[2] = {p0, std::min(p0 + 1, last)};
    eval_points<W, 2>(pis, with_grad, pk);
  }

  // One load feeding two multiply-adds: without this the compiler folds the load into each FMA
  // and loads every grid value twice.
  template <typename V>
  static RK_FORCEINLINE void keep_in_register(V& r) {
#if defined(__x86_64__) && defined(__AVX512F__)
    asm("" : "+v"(r));
#elif defined(__x86_64__) && defined(__AVX__)
    asm("" : "+x"(r));
#else
    (void)r;
#endif
  }

  // One plane's row sums (PV = Σ_b k1·row, PW = Σ_b dk1·row) into the gradient accumulators:
  // value A += k0·PV, ∂0 A0 += dk0·PV, ∂1 B += k0·PW.
  template <int NZ, typename V>
  static RK_FORCEINLINE void fold_plane(V* A, V* A0, V* B, const V* PV, const V* PW, T k0, T d0) {
    for (int v = 0; v < NZ; ++v) {
      A[v] += k0 * PV[v];
      A0[v] += d0 * PV[v];
      B[v] += k0 * PW[v];
    }
  }

  // o[0..1] = Σ even / odd lanes of a VB-byte vector.
  template <int VB>
  static RK_FORCEINLINE void store_pair_sum_v(T* o, typename Lanes<VB>::V v) {
    if constexpr (VB == 32) {
      store_pair_sum(o, v);
    } else if constexpr (G == 8) {
      store_pair_sum(o, __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
    } else {
      store_pair_sum(o, __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7));
    }
  }

  // A point's interpolated value (and, with_grad, its derivatives) from its register accumulators
  // over the fastest axis (complex-interleaved, NZ vectors of VB bytes): value = Σ A·k2,
  // ∂2 = Σ A·dk2, ∂1 = Σ B·k2, ∂0 = Σ A0·k2, with k2 / dk2 duplicated per (re, im) lane pair
  // (zero beyond the width, so the over-long lanes drop out). Written to o[0..1] and
  // o[2(1+a)..] for the real axes a.
  template <int VB, int NZ>
  RK_FORCEINLINE void contract(const typename Lanes<VB>::V* A, const typename Lanes<VB>::V* A0,
                               const typename Lanes<VB>::V* B, const PK& pk, T* o, bool with_grad) const {
    using Ln = Lanes<VB>;
    using V = typename Ln::V;
    // 256-bit complex128: weights duplicated by a scalar pass through a small array (measured
    // faster than lane shuffles there); otherwise by shuffles of whole loads.
    constexpr bool kScalarDup = VB == 32 && sizeof(T) == 8;
    alignas(64) T kd[kScalarDup ? NZ * Ln::L : 1];
    auto weights = [&](const T* w, V* out) {
      if constexpr (kScalarDup) {
        for (int q = 0; q < NZ * Ln::L; ++q) kd[q] = w[q / 2];
        for (int z = 0; z < NZ; ++z) out[z] = Ln::load(kd + z * Ln::L);
      } else {
        for (int z = 0; z < NZ; ++z) out[z] = Ln::dup(w, z);
      }
    };
    V K2[NZ], S{};
    weights(pk.k[2], K2);
    for (int z = 0; z < NZ; ++z) S += A[z] * K2[z];
    store_pair_sum_v<VB>(o, S);
    if (!with_grad) return;
    V DK2[NZ], D0{}, D1{}, D2{};
    weights(pk.dk[2], DK2);
    for (int z = 0; z < NZ; ++z) {
      D2 += A[z] * DK2[z];
      D1 += B[z] * K2[z];
      D0 += A0[z] * K2[z];
    }
    const V* Dp[3] = {&D0, &D1, &D2};
    for (int a = 0; a < d; ++a) store_pair_sum_v<VB>(o + 2 * (1 + a), *Dp[pad + a]);
  }

  // ---- spreading into one chunk's slab ----
  template <int W>
  void spread_chunk(const Chunk& ch, T* slab, const T* sorted_in) const {
    constexpr int VW = vw<W>();
    const int WW = W > 0 ? W : w;
    const int n2 = 2 * WW;  // runtime row length (W == 0)
    const int w0 = pad <= 0 ? wa[0] : 1, w1 = pad <= 1 ? wa[1] : 1;
    (void)WW;
    const std::int64_t E1 = pad == 1 ? ch.len : E[1], E2 = pad == 2 ? ch.len : E[2];
    // The next pair's kernel values are evaluated before this pair is spread, so their
    // latency-bound Horner chains run under these points' row updates.
    PK pkb[4];  // points ch.b + r at pkb[r & 3], evaluated in pairs
    alignas(64) T P[2 * kMaxW + 16] = {}, Q0[2 * kMaxW + 16] = {}, Q1[2 * kMaxW + 16] = {};
    alignas(64) T s01[kMaxW * kMaxW], s0[kMaxW * kMaxW], s1[kMaxW * kMaxW];
    if (ch.e > ch.b) eval_pair<W>(ch.b, ch.e - 1, grad, pkb);
    // Strengths were permuted into sorted order [M][rows] by sort_strengths().
    for (std::int64_t pb = ch.b; pb < ch.e; pb += kBlock) {
      const std::int64_t pe = std::min<std::int64_t>(ch.e, pb + kBlock);
      for (std::int64_t pi = pb; pi < pe; ++pi) {
        const std::int64_t r = pi - ch.b;
        const PK& pk = pkb[r & 3];
        if ((r & 1) == 0 && pi + 2 < ch.e) eval_pair<W>(pi + 2, ch.e - 1, grad, pkb + ((r + 2) & 3));
        std::int64_t l[3];
        for (int pa = 0; pa < 3; ++pa) l[pa] = pa < pad ? 0 : pa == pad ? pk.i0[pa] - ch.lo : pk.i0[pa] + off;
        const T* s = sorted_in + strength_point_stride() * pi;
        const T cr = s[0], ci = s[1];
        const T* k2 = pk.k[2];
        T* base = slab + 2 * ((l[0] * E1 + l[1]) * E2 + l[2]);
        // Row weights.
        auto row_weights = [&]() {
          for (int a = 0; a < w0; ++a)
            for (int b = 0; b < w1; ++b) s01[a * w1 + b] = pk.k[0][a] * pk.k[1][b];
        };
        if (!grad && VW > 0 && W > 0) {
          // The point's fastest-axis row c·k2 built in registers (a row written element-wise and
          // then loaded as vectors stalls on store forwarding once per point).
          using Ln = Lanes<spread_vb<VW>()>;
          using V = typename Ln::V;
          constexpr int NV = VW > 0 ? VW / Ln::L : 1;
          const V C = Ln::cb(cr, ci);
          V Pv[NV];
          for (int v = 0; v < NV; ++v) Pv[v] = C * Ln::dup(k2, v);
          for (int a = 0; a < w0; ++a) {
            const T k0a = pk.k[0][a];
            T* plane = base + 2 * a * E1 * E2;
            for (int b = 0; b < w1; ++b) {
              const T sc = k0a * pk.k[1][b];
              T* row = plane + 2 * b * E2;
              for (int v = 0; v < NV; ++v) Ln::store(row + v * Ln::L, Ln::load(row + v * Ln::L) + sc * Pv[v]);
            }
          }
          continue;
        }
        if (!grad) {
          row_weights();
          for (int q = 0; q < WW; ++q) {
            P[2 * q] = cr * k2[q];
            P[2 * q + 1] = ci * k2[q];
          }
          for (int a = 0; a < w0; ++a)
            for (int b = 0; b < w1; ++b) axpy1<VW>(base + 2 * (a * E1 + b) * E2, n2, s01[a * w1 + b], P);
          continue;
        }
        // Gradient strengths g_a on padded axes (0 on dummy axes).
        T gr[3] = {0, 0, 0}, gi[3] = {0, 0, 0};
        for (int a = 0; a < d; ++a) {
          const T* g = s + strength_row_stride() * (1 + a);
          gr[pad + a] = g[0];
          gi[pad + a] = g[1];
        }
        const T* dk2 = pk.dk[2];
        if (VW > 0) {
          // Any d (dummy axes have k = 1, dk = 0). Per plane a: X = (c·k0 + g0·dk0)⊗k2 +
          // (g2·k0)⊗dk2 and Y = (g1·k0)⊗k2 as complex-interleaved register vectors; row (a, b)
          // += k1[b]·X + dk1[b]·Y: two FMAs per vector with real broadcasts, rows read and
          // written once.
          using Ln = Lanes<spread_vb<VW>()>;
          using V = typename Ln::V;
          constexpr int NV = VW > 0 ? VW / Ln::L : 1;
          // Weights duplicated per (re, im) pair in registers (the kernel rows are zero beyond W).
          V kv[NV], dv[NV];
          for (int v = 0; v < NV; ++v) {
            kv[v] = Ln::dup(k2, v);
            dv[v] = Ln::dup(dk2, v);
          }
          const V C = Ln::cb(cr, ci), G0 = Ln::cb(gr[0], gi[0]);
          const V G1 = Ln::cb(gr[1], gi[1]), G2 = Ln::cb(gr[2], gi[2]);
          V Xc[NV], X2[NV], Y1[NV];  // per-point parts: C⊗k2 + G2... split by the plane weights
          for (int v = 0; v < NV; ++v) {
            Xc[v] = C * kv[v] + G2 * dv[v];
            X2[v] = G0 * kv[v];
            Y1[v] = G1 * kv[v];
          }
          for (int a = 0; a < w0; ++a) {
            const T k0a = pk.k[0][a], d0a = pk.dk[0][a];
            V X[NV], Y[NV];
            for (int v = 0; v < NV; ++v) {
              X[v] = k0a * Xc[v] + d0a * X2[v];
              Y[v] = k0a * Y1[v];
            }
            T* plane = base + 2 * a * E1 * E2;
            for (int b = 0; b < w1; ++b) {
              const T k1b = pk.k[1][b], d1b = pk.dk[1][b];
              T* row = plane + 2 * b * E2;
              for (int v = 0; v < NV; ++v) Ln::store(row + v * Ln::L, Ln::load(row + v * Ln::L) + k1b * X[v] + d1b * Y[v]);
            }
          }
          continue;
        }
        for (int q = 0; q < WW; ++q) {
          P[2 * q] = cr * k2[q] + gr[2] * dk2[q];
          P[2 * q + 1] = ci * k2[q] + gi[2] * dk2[q];
          Q0[2 * q] = gr[0] * k2[q];
          Q0[2 * q + 1] = gi[0] * k2[q];
          Q1[2 * q] = gr[1] * k2[q];
          Q1[2 * q + 1] = gi[1] * k2[q];
        }
        if (d == 1) {
          axpy1<VW>(base, n2, T(1), P);
        } else if (d == 2) {
          for (int b = 0; b < w1; ++b) axpy2<VW>(base + 2 * b * E2, n2, pk.k[1][b], P, pk.dk[1][b], Q1);
        } else {
          row_weights();
          for (int a = 0; a < w0; ++a)
            for (int b = 0; b < w1; ++b) {
              s0[a * w1 + b] = pk.dk[0][a] * pk.k[1][b];
              s1[a * w1 + b] = pk.k[0][a] * pk.dk[1][b];
            }
          for (int a = 0; a < w0; ++a)
            for (int b = 0; b < w1; ++b)
              axpy3<VW>(base + 2 * (a * E1 + b) * E2, n2, s01[a * w1 + b], P, s0[a * w1 + b], Q0, s1[a * w1 + b], Q1);
        }
      }
    }
  }

  // ---- interpolation of one chunk of sorted points ----
  template <int W>
  void interp_range(std::int64_t b0, std::int64_t b1, const T* H, T* sorted_out) const {
    constexpr int VW = vw<W>();
    const int WW = W > 0 ? W : w;
    const int n2r = 2 * WW;
    const int w0 = pad <= 0 ? wa[0] : 1, w1 = pad <= 1 ? wa[1] : 1;
    (void)WW;
    // Rows (a, b) of a point in the halo grid (fill_halo): plane stride 2·X1·X2, row stride 2·X2.
    const std::int64_t X1 = hx[1], X2 = hx[2];
    const std::int64_t rs = 2 * X2, ps = 2 * X1 * X2;
    PK pkb[4];  // points b0 + r at pkb[r & 3], evaluated in pairs
    alignas(64) T acc[2 * kMaxW + 16], accA[2 * kMaxW + 16], accB[2 * kMaxW + 16];  // w > 16
    // Results go to a sorted-order buffer [M][rows]; execute() unsorts it (unsort()).
    const std::int64_t ss = sorted_stride();
    T* ob = sorted_out + ss * b0;
    for (std::int64_t pb = b0; pb < b1; pb += kBlock) {
      const std::int64_t pe = std::min<std::int64_t>(b1, pb + kBlock);
      for (std::int64_t pi = pb; pi < pe; ++pi) {
        // In 1-D and 2-D a point's rows are few, so the latency-bound Horner chains of its kernel
        // evaluation dominate: the next pair's are started before this pair's rows are read
        // (2-D complex64: 4-10% faster plain, 5-6% gradient; complex128 unchanged). In 3-D the
        // rows already cover that latency and the look-ahead measured 5-8% slower, so each pair
        // is evaluated when it is reached.
        const bool ahead = d <= 2;
        const std::int64_t r = pi - b0;
        if (ahead ? r == 0 : (r & 1) == 0) eval_pair<W>(pi, b1 - 1, grad, pkb + (r & 3));
        const PK& pk = pkb[r & 3];
        if (ahead && (r & 1) == 0 && pi + 2 < b1) eval_pair<W>(pi + 2, b1 - 1, grad, pkb + ((r + 2) & 3));
        std::int64_t l[3];
        for (int pa = 0; pa < 3; ++pa) l[pa] = pa < pad ? 0 : pk.i0[pa] + off;
        const T* const base = H + 2 * ((l[0] * X1 + l[1]) * X2 + l[2]);
        T* const o = ob + ss * (pi - b0);
        if constexpr (VW > 0) {
          // Accumulators stay in registers and go straight into the contraction with the fastest
          // axis's weights (contract()).
          using Lz = Lanes<interp_vb<VW>()>;
          using VZ = typename Lz::V;
          constexpr int NZ = VW / Lz::L;
          constexpr int NV = VW / G;
          constexpr int WC = W > 0 ? W : 1;
          if (W > 0 && VW <= 2 * (grad ? Lz::L : G) && pad <= 1 && wa[1] == W && (pad == 1 || wa[0] == W)) {
            // 2-D or 3-D, rows of at most two vectors, equal widths (the common case):
            // compile-time trip counts, so the row loops unroll completely (8% faster in 3-D).
            // The general paths below repeat these loops with runtime bounds: sharing one body
            // through a lambda templated on the bound measured 20% slower (plain) and 9%
            // (gradient).
            const int nplanes = pad == 0 ? W : 1;
            if (!grad) {
              // 256-bit rows: 512-bit ones measured 5-7% slower here.
              VT A[NV];
              for (int v = 0; v < NV; ++v) A[v] = VT{};
              for (int a = 0; a < nplanes; ++a) {
                const T* pa = base + a * ps;
                const T k0 = pk.k[0][a];
                // Even and odd rows into separate accumulators: two short FMA chains instead of
                // one long one.
                VT Bq[NV];
                for (int v = 0; v < NV; ++v) Bq[v] = VT{};
                for (int b = 0; b < WC; ++b) {
                  const T sc = k0 * pk.k[1][b];
                  const T* row = pa + b * rs;
                  for (int v = 0; v < NV; ++v) (b & 1 ? Bq[v] : A[v]) += sc * vld(row + v * G);
                }
                for (int v = 0; v < NV; ++v) A[v] += Bq[v];
              }
              contract<32, NV>(A, A, A, pk, o, false);
            } else {
              // 512-bit rows where AVX-512 is compiled in: each row load feeds two multiply-adds,
              // so halving the vector count outweighs the split loads (3-D complex64 gradient
              // 12-16% faster).
              // Plane sums PV = Σ_b k1·row, PW = Σ_b dk1·row, even and odd rows into separate
              // partial sums as in the plain path (4-5% faster in 3-D).
              auto plane_sums = [&](const T* pa, VZ* PV, VZ* PW) {
                VZ QV[NZ], QW[NZ];
                for (int v = 0; v < NZ; ++v) PV[v] = PW[v] = QV[v] = QW[v] = VZ{};
                for (int b = 0; b < WC; ++b) {
                  const T* row = pa + b * rs;
                  const T k1 = pk.k[1][b], d1 = pk.dk[1][b];
                  for (int v = 0; v < NZ; ++v) {
                    VZ r = Lz::load(row + v * Lz::L);
                    keep_in_register(r);
                    (b & 1 ? QV[v] : PV[v]) += k1 * r;
                    (b & 1 ? QW[v] : PW[v]) += d1 * r;
                  }
                }
                for (int v = 0; v < NZ; ++v) {
                  PV[v] += QV[v];
                  PW[v] += QW[v];
                }
              };
              VZ PV[NZ], PW[NZ];
              if (pad == 1) {
                // 2-D: one plane (k0 = 1, dk0 = 0), so the plane sums are the accumulators; the
                // 3-D loop below would carry the dummy axis's sums and spill registers.
                plane_sums(base, PV, PW);
                contract<interp_vb<VW>(), NZ>(PV, PV, PW, pk, o, true);  // ∂0 (dummy axis) unused
                continue;
              }
              VZ A[NZ], A0[NZ], B[NZ];
              for (int v = 0; v < NZ; ++v) A[v] = A0[v] = B[v] = VZ{};
              for (int a = 0; a < nplanes; ++a) {
                plane_sums(base + a * ps, PV, PW);
                fold_plane<NZ>(A, A0, B, PV, PW, pk.k[0][a], pk.dk[0][a]);
              }
              contract<interp_vb<VW>(), NZ>(A, A0, B, pk, o, true);
            }
          } else if (!grad) {
            VZ A[NZ];
            for (int v = 0; v < NZ; ++v) A[v] = VZ{};
            for (int a = 0; a < w0; ++a) {
              for (int b = 0; b < w1; ++b) {
                const T* row = base + a * ps + b * rs;
                const T sc = pk.k[0][a] * pk.k[1][b];
                for (int v = 0; v < NZ; ++v) A[v] += sc * Lz::load(row + v * Lz::L);
              }
            }
            contract<interp_vb<VW>(), NZ>(A, A, A, pk, o, false);
          } else {
            // Any d (dummy axes have k = 1, dk = 0): per-plane partial sums PV = Σ_b k1·row,
            // PW = Σ_b dk1·row, then value/∂0/∂1 accumulators.
            VZ A[NZ], A0[NZ], B[NZ];
            for (int v = 0; v < NZ; ++v) A[v] = A0[v] = B[v] = VZ{};
            for (int a = 0; a < w0; ++a) {
              VZ PV[NZ], PW[NZ];
              for (int v = 0; v < NZ; ++v) PV[v] = PW[v] = VZ{};
              for (int b = 0; b < w1; ++b) {
                const T* row = base + a * ps + b * rs;
                const T k1 = pk.k[1][b], d1 = pk.dk[1][b];
                for (int v = 0; v < NZ; ++v) {
                  VZ r = Lz::load(row + v * Lz::L);
                  keep_in_register(r);
                  PV[v] += k1 * r;
                  PW[v] += d1 * r;
                }
              }
              fold_plane<NZ>(A, A0, B, PV, PW, pk.k[0][a], pk.dk[0][a]);
            }
            contract<interp_vb<VW>(), NZ>(A, A0, B, pk, o, true);
          }
          continue;
        }
        // Run-time width (w > 16): rows accumulated in memory.
        for (int q = 0; q < n2r; ++q) acc[q] = accA[q] = accB[q] = T(0);
        for (int a = 0; a < w0; ++a)
          for (int b = 0; b < w1; ++b) {
            const T* row = base + a * ps + b * rs;
            const T sc = pk.k[0][a] * pk.k[1][b];
            if (!grad || d == 1) {
              axpy1<0>(acc, n2r, sc, row);
            } else if (d == 2) {
              acc2<0>(acc, accB, n2r, sc, pk.k[0][a] * pk.dk[1][b], row);
            } else {
              acc3<0>(acc, accA, accB, n2r, sc, pk.dk[0][a] * pk.k[1][b], pk.k[0][a] * pk.dk[1][b], row);
            }
          }
        const T* k2 = pk.k[2];
        T vr = 0, vi = 0;
        for (int q = 0; q < WW; ++q) {
          vr += acc[2 * q] * k2[q];
          vi += acc[2 * q + 1] * k2[q];
        }
        o[0] = vr;
        o[1] = vi;
        if (!grad) continue;
        // Derivatives on padded axes: 2 from acc·dk2, 1 from accB·k2, 0 from accA·k2.
        T dr[3] = {0, 0, 0}, di[3] = {0, 0, 0};
        const T* dk2 = pk.dk[2];
        for (int q = 0; q < WW; ++q) {
          dr[2] += acc[2 * q] * dk2[q];
          di[2] += acc[2 * q + 1] * dk2[q];
          dr[1] += accB[2 * q] * k2[q];
          di[1] += accB[2 * q + 1] * k2[q];
          dr[0] += accA[2 * q] * k2[q];
          di[0] += accA[2 * q + 1] * k2[q];
        }
        for (int a = 0; a < d; ++a) {
          T* oa = o + 2 * (1 + a);
          oa[0] = dr[pad + a];
          oa[1] = di[pad + a];
        }
      }
    }
  }

  // Type 1 strengths in sorted order: 1-D and 2-D complex64 gradient transforms keep them as
  // rows ([1+d][M], point pi's row r at 2·(r·M + pi)), all others as records ([M][sorted_stride()],
  // see sortedBuf). Sorting one row at a time keeps each pass's scattered writes within one row
  // (8 MiB at M = 1e6, which the last-level cache holds) instead of 32 MiB of records: 2-D
  // complex64 gradient transforms 10-18% faster (1 thread; 4-10% with 2). Measured no gain or
  // 2-4% slower elsewhere: complex128 rows are twice as large, and in 3-D each point would read
  // four streams instead of one 32-byte record.
  bool strengths_as_rows() const { return grad && d <= 2 && sizeof(T) == 4; }
  std::int64_t strength_point_stride() const { return strengths_as_rows() ? 2 : sorted_stride(); }
  std::int64_t strength_row_stride() const { return strengths_as_rows() ? 2 * M : 2; }

  void sort_strengths(const T* __restrict__ inb, T* __restrict__ sorted) const {
    const int rows = grad ? 1 + d : 1;
    if (strengths_as_rows()) {
      for (int r = 0; r < rows; ++r) {
        const T* __restrict__ in_r = inb + 2 * r * M;
        T* __restrict__ out_r = sorted + 2 * r * M;
        parallel_for(M, threads, [&](std::int64_t j0, std::int64_t j1, int) {
          for (std::int64_t j = j0; j < j1; ++j) {
            if (j + kPrefetch < j1) __builtin_prefetch(out_r + 2 * static_cast<std::int64_t>(inv[j + kPrefetch]), 1);
            std::memcpy(out_r + 2 * static_cast<std::int64_t>(inv[j]), in_r + 2 * j, 2 * sizeof(T));
          }
        }, 4096);
      }
      return;
    }
    // Records: sequential reads of every row, one scattered (contiguous, all rows) write per point.
    const std::int64_t ss = sorted_stride();
    parallel_for(M, threads, [&](std::int64_t j0, std::int64_t j1, int) {
      for (std::int64_t j = j0; j < j1; ++j) {
        if (j + kPrefetch < j1) __builtin_prefetch(sorted + ss * static_cast<std::int64_t>(inv[j + kPrefetch]), 1);
        T* dst = sorted + ss * static_cast<std::int64_t>(inv[j]);
        for (int r = 0; r < rows; ++r) {
          dst[2 * r] = inb[2 * (r * M + j)];
          dst[2 * r + 1] = inb[2 * (r * M + j) + 1];
        }
      }
    }, 4096);
  }

  // out[r][j] = sorted[inv[j]][r] for one transform: sequential writes, one random read of
  // all rows of a point (contiguous) per output point.
  void unsort(const T* __restrict__ sorted, T* __restrict__ outb) const {
    const int rows = grad ? 1 + d : 1;
    const std::int64_t ss = sorted_stride();
    parallel_for(M, threads, [&](std::int64_t j0, std::int64_t j1, int) {
      for (std::int64_t j = j0; j < j1; ++j) {
        if (j + kPrefetch < j1) __builtin_prefetch(sorted + ss * static_cast<std::int64_t>(inv[j + kPrefetch]));
        const T* src = sorted + ss * static_cast<std::int64_t>(inv[j]);
        for (int r = 0; r < rows; ++r) {
          outb[2 * (r * M + j)] = src[2 * r];
          outb[2 * (r * M + j) + 1] = src[2 * r + 1];
        }
      }
    }, 4096);
  }

  template <typename Fn>
  void dispatch_w(Fn&& fn) const;

  // halo[l0][l1][l2] = G[l0 − off][l1 − off][l2 − off] (indices mod n, on the real axes).
  T* fill_halo(const T* __restrict__ G) {
    const size_t need = static_cast<size_t>(2 * hx[0] * hx[1] * hx[2] + kPadReals);
    if (halo.size() != need) {
      halo.clear();
      halo.shrink_to_fit();
      halo.resize(need, T(0));
    }
    T* const H = halo.data();
    const std::int64_t n0 = n3[0], n1 = n3[1], n2 = n3[2], X1 = hx[1], X2 = hx[2];
    const std::int64_t o0 = pad <= 0 ? off : 0, o1 = pad <= 1 ? off : 0;
    // off ≤ n2 and hx2 − off − n2 ≤ n2 (the fine grid is at least 2w), so a row is three pieces.
    const std::int64_t head = off, tail = X2 - off - n2;
    parallel_for(hx[0] * X1, threads, [&](std::int64_t r0, std::int64_t r1, int) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const T* __restrict__ src = G + 2 * (nufftm::wrap(r / X1 - o0, n0) * n1 + nufftm::wrap(r % X1 - o1, n1)) * n2;
        T* __restrict__ dst = H + 2 * r * X2;
        std::memcpy(dst, src + 2 * (n2 - head), 2 * head * sizeof(T));
        std::memcpy(dst + 2 * head, src, 2 * n2 * sizeof(T));
        std::memcpy(dst + 2 * (head + n2), src, 2 * tail * sizeof(T));
      }
    }, std::max<std::int64_t>(1, 8192 / X2));
    return H;
  }

  // Folds the slabs into fine grid G (one transform).
  void reduce(T* G) const {
    const int sa = pad;
    const std::int64_t ns = n3[sa];
    std::int64_t Gin = 1, Lin = 1;
    for (int a = sa + 1; a < 3; ++a) {
      Gin *= n3[a];
      Lin *= E[a];
    }
    const std::int64_t n1 = n3[1], n2 = n3[2];
    const std::int64_t E1 = E[1], E2 = E[2];
    auto fold_line = [&](T* __restrict__ g, const T* __restrict__ l) {
      // local index li ↔ global li − off (mod n2), li in [0, E2), E2 = n2 + w
      const std::int64_t a = std::min<std::int64_t>(off, E2);
      for (std::int64_t i = 0; i < 2 * a; ++i) g[2 * (n2 - off) + i] += l[i];
      for (std::int64_t i = 0; i < 2 * n2; ++i) g[i] += l[2 * off + i];
      for (std::int64_t i = 2 * (off + n2); i < 2 * E2; ++i) g[i - 2 * (off + n2)] += l[i];
    };
    parallel_for(ns, threads, [&](std::int64_t g0, std::int64_t g1, int) {
      for (std::int64_t g = g0; g < g1; ++g) {
        T* Gp = G + 2 * g * Gin;
        std::fill(Gp, Gp + 2 * Gin, T(0));
        for (size_t c = 0; c < chunks.size(); ++c) {
          const Chunk& ch = chunks[c];
          if (ch.e <= ch.b) continue;
          const T* slab = slabs[c].data();
          for (std::int64_t r = nufftm::wrap(g - ch.lo, ns); r < ch.len; r += ns) {
            const T* L = slab + 2 * r * Lin;
            if (d == 1) {
              Gp[0] += L[0];
              Gp[1] += L[1];
            } else if (d == 2) {
              fold_line(Gp, L);
            } else {
              for (std::int64_t l1 = 0; l1 < E1; ++l1) fold_line(Gp + 2 * nufftm::wrap(l1 - off, n1) * n2, L + 2 * l1 * E2);
            }
          }
        }
      }
    }, std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(Gin, 1)));
  }

  // All P sets (points [P][d][Mnew]): validated, then each folded and sorted.
  void set_points(const T* pts, std::int64_t Mnew) {
    if (Mnew < 0) throw OpFailure("INVALID_ARGUMENT", "M must be a non-negative integer");
    if (Mnew >= (std::int64_t(1) << 32) - 1) throw OpFailure("SIZE_TOO_LARGE", "M = " + std::to_string(Mnew) + " exceeds 2^32 - 2 points");
    // Validate.
    for (std::int64_t i = 0; i < P * d * Mnew; ++i) {
      if (!std::isfinite(static_cast<double>(pts[i]))) {
        throw OpFailure("NON_FINITE", "non-finite point coordinate at index " + std::to_string(i));
      }
    }
    std::vector<std::uint32_t> ordAll(static_cast<size_t>(P * Mnew));
    std::vector<double> ysA(static_cast<size_t>(P * d * Mnew));
    std::vector<std::vector<Chunk>> chsAll(static_cast<size_t>(P));
    for (std::int64_t p = 0; p < P; ++p) {
      std::vector<std::uint32_t> ord;
      std::vector<double> ysorted;
      sort_one(pts + p * d * Mnew, Mnew, ord, ysorted, chsAll[static_cast<size_t>(p)]);
      std::copy(ord.begin(), ord.end(), ordAll.begin() + p * Mnew);
      std::copy(ysorted.begin(), ysorted.end(), ysA.begin() + p * d * Mnew);
    }
    // Commit.
    M = Mnew;
    std::vector<std::uint32_t> invA(ordAll.size());
    parallel_for(P * Mnew, threads, [&](std::int64_t i0, std::int64_t i1, int) {
      for (std::int64_t i = i0; i < i1; ++i) invA[(i / Mnew) * Mnew + ordAll[i]] = static_cast<std::uint32_t>(i % Mnew);
    }, 1 << 14);
    orderAll = std::move(ordAll);
    invAll = std::move(invA);
    ysAll = std::move(ysA);
    chunksAll = std::move(chsAll);
    slabs.clear();
  }

  // Folds and sorts one set's points [d][Mnew]; its chunks (one per thread) and their slabs.
  void sort_one(const T* pts, std::int64_t Mnew, std::vector<std::uint32_t>& ord, std::vector<double>& ysorted,
                std::vector<Chunk>& chs) const {
    const int bs = d == 3 ? 8 : 16;
    std::int64_t nb[3] = {1, 1, 1};
    std::int64_t nbins = 1;
    for (int a = 0; a < d; ++a) {
      nb[a] = (n3[pad + a] + bs - 1) / bs;
      nbins *= nb[a];
    }
    std::vector<double> y(static_cast<size_t>(d * Mnew));
    std::vector<std::uint32_t> key(static_cast<size_t>(Mnew));
    parallel_for(Mnew, threads, [&](std::int64_t j0, std::int64_t j1, int) {
      for (int a = 0; a < d; ++a) {
        const double n = static_cast<double>(n3[pad + a]);
        for (std::int64_t j = j0; j < j1; ++j) y[a * Mnew + j] = nufftm::fold(static_cast<double>(pts[a * Mnew + j]), n);
      }
      for (std::int64_t j = j0; j < j1; ++j) {
        std::int64_t k = 0;
        for (int a = 0; a < d; ++a) {
          const std::int64_t bi = std::min<std::int64_t>(nb[a] - 1, static_cast<std::int64_t>(std::floor(y[a * Mnew + j] / bs)));
          k = k * nb[a] + bi;
        }
        key[j] = static_cast<std::uint32_t>(k);
      }
    }, 4096);
    std::vector<std::uint32_t> count(static_cast<size_t>(nbins + 1), 0);
    for (std::int64_t j = 0; j < Mnew; ++j) count[key[j] + 1]++;
    for (std::int64_t b = 0; b < nbins; ++b) count[b + 1] += count[b];
    ord.assign(static_cast<size_t>(Mnew), 0);
    for (std::int64_t j = 0; j < Mnew; ++j) ord[count[key[j]]++] = static_cast<std::uint32_t>(j);
    ysorted.assign(static_cast<size_t>(d * Mnew), 0.0);
    parallel_for(Mnew, threads, [&](std::int64_t p0, std::int64_t p1, int) {
      for (int a = 0; a < d; ++a)
        for (std::int64_t p = p0; p < p1; ++p) ysorted[a * Mnew + p] = y[a * Mnew + ord[p]];
    }, 4096);
    // Chunks (one per thread) and their slabs along the slab axis (the first real axis).
    const std::int64_t nch = Mnew == 0 ? 0 : std::max<std::int64_t>(1, std::min<std::int64_t>(threads, (Mnew + 255) / 256));
    chs.assign(static_cast<size_t>(nch), Chunk{});
    for (std::int64_t c = 0; c < nch; ++c) {
      Chunk& ch = chs[c];
      ch.b = Mnew * c / nch;
      ch.e = Mnew * (c + 1) / nch;
      int lo = 1 << 30, hi = -(1 << 30);
      for (std::int64_t p = ch.b; p < ch.e; ++p) {
        int i0;
        double u;
        nufftm::kernel_start(ysorted[p], wa[pad], i0, u);  // row 0 of [d][M] is the slab axis
        lo = std::min(lo, i0);
        hi = std::max(hi, i0 + w - 1);  // rows may run over the largest width (zero weights)
      }
      ch.lo = lo;
      ch.len = ch.e > ch.b ? hi - lo + 1 : 0;
    }
  }

  // One slab per chunk index, long enough for that chunk in every set.
  void alloc_slabs() {
    if (!slabs.empty()) return;
    size_t nch = 0;
    for (const auto& cs : chunksAll) nch = std::max(nch, cs.size());
    slabs.resize(nch);
    std::int64_t Lin = 1;
    for (int a = pad + 1; a < 3; ++a) Lin *= E[a];
    for (size_t c = 0; c < nch; ++c) {
      std::int64_t len = 0;
      for (const auto& cs : chunksAll)
        if (c < cs.size()) len = std::max(len, cs[c].len);
      slabs[c].resize(static_cast<size_t>(2 * len * Lin + kPadReals));
    }
  }

  // Mode array <-> fine grid with 1/φ̂ scaling, one transform at a time.
  void deconvolve(const T* src, T* dst, bool from_fine, std::int64_t t) const {
    const std::int64_t N0 = N3[0], N1 = N3[1], N2 = N3[2], nf1 = n3[1], nf2 = n3[2];
    const std::int64_t* F0 = F[0].data();
    const std::int64_t* F1 = F[1].data();
    const std::int64_t* F2 = F[2].data();
    const T *S0 = S[0].data(), *S1 = S[1].data(), *S2 = S[2].data();
    const std::int64_t mb = t * nmodes, fb = t * nfine;
    parallel_for(N0 * N1, threads, [&](std::int64_t r0, std::int64_t r1, int) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const std::int64_t a = r / N1, b = r % N1;
        const std::int64_t rowF = fb + (F0[a] * nf1 + F1[b]) * nf2;
        const T s01 = S0[a] * S1[b];
        const std::int64_t m0 = mb + r * N2;
        if (from_fine) {
          const T* g = src + 2 * rowF;
          T* o = dst + 2 * m0;
          for (std::int64_t c = 0; c < N2; ++c) {
            const T s = s01 * S2[c];
            o[2 * c] = g[2 * F2[c]] * s;
            o[2 * c + 1] = g[2 * F2[c] + 1] * s;
          }
        } else {
          const T* m = src + 2 * m0;
          T* g = dst + 2 * rowF;
          for (std::int64_t c = 0; c < N2; ++c) {
            const T s = s01 * S2[c];
            g[2 * F2[c]] = m[2 * c] * s;
            g[2 * F2[c] + 1] = m[2 * c + 1] * s;
          }
        }
      }
    }, std::max<std::int64_t>(1, 2048 / std::max<std::int64_t>(N2, 1)));
  }

  // Point sets run one after another through a grid of ntransf slots: the same work as one
  // pass over all P·ntransf grids, but a set's grids stay in cache from spread to FFT to
  // deconvolution (P small dynamic frames would otherwise stream P times the grid through memory).
  void execute(const T* in, T* out, NufftTimings& tm) {
    const double t0 = now_ms();
    const std::int64_t glen = 2 * nfine * ntransf;
    if (static_cast<std::int64_t>(grid.size()) != glen + kPadReals) {
      grid.clear();
      grid.shrink_to_fit();
      grid.resize(static_cast<size_t>(glen + kPadReals));
    }
    T* G = grid.data();
    const int rows = grad ? 1 + d : 1;
    const std::int64_t pts_len = 2 * static_cast<std::int64_t>(ntransf) * rows * M;  // reals per set
    const std::int64_t modes_len = 2 * static_cast<std::int64_t>(ntransf) * nmodes;
    double spread = 0, ffts = 0, dec = 0;
    if (type == 1) alloc_slabs();
    for (std::int64_t p = 0; p < P; ++p) {
      use_set(p);
      if (type == 1) {
        const T* inp = in + p * pts_len;
        T* outp = out + p * modes_len;
        double a = now_ms();
        for (std::int64_t t = 0; t < ntransf; ++t) {
          T* Gt = G + 2 * t * nfine;
          if (chunks.empty()) {
            std::fill(Gt, Gt + 2 * nfine, T(0));
            continue;
          }
          T* si = sorted_buffer();
          sort_strengths(inp + 2 * t * rows * M, si);
          parallel_for(static_cast<std::int64_t>(chunks.size()), static_cast<int>(chunks.size()), [&](std::int64_t c0, std::int64_t c1, int) {
            for (std::int64_t c = c0; c < c1; ++c) {
              std::vector<T>& sl = slabs[c];
              std::fill(sl.begin(), sl.end(), T(0));
              dispatch_w([&](auto wc) { this->template spread_chunk<decltype(wc)::value>(chunks[c], sl.data(), si); });
            }
          });
          reduce(Gt);
        }
        double b = now_ms();
        spread += b - a;
        fft.execute(G, ntransf, threads);
        double c = now_ms();
        ffts += c - b;
        for (std::int64_t t = 0; t < ntransf; ++t) deconvolve(G, outp, true, t);
        dec += now_ms() - c;
      } else {
        const T* inp = in + p * modes_len;
        T* outp = out + p * pts_len;
        double a = now_ms();
        parallel_for(glen, threads, [&](std::int64_t i0, std::int64_t i1, int) { std::fill(G + i0, G + i1, T(0)); }, 1 << 16);
        for (std::int64_t t = 0; t < ntransf; ++t) deconvolve(inp, G, false, t);
        double b = now_ms();
        dec += b - a;
        fft.execute(G, ntransf, threads);
        double c = now_ms();
        ffts += c - b;
        for (std::int64_t t = 0; t < ntransf; ++t) {
          const T* H = fill_halo(G + 2 * t * nfine);
          T* so = sorted_buffer();
          parallel_for(M, threads, [&](std::int64_t p0, std::int64_t p1, int) {
            dispatch_w([&](auto wc) { this->template interp_range<decltype(wc)::value>(p0, p1, H, so); });
          }, 1024);
          unsort(so, outp + 2 * t * rows * M);
        }
        spread += now_ms() - c;
      }
    }
    tm.spread_ms = spread;
    tm.fft_ms = ffts;
    tm.deconvolve_ms = dec;
    tm.total_ms = now_ms() - t0;
  }
};

template <typename T>
template <typename Fn>
void Engine<T>::dispatch_w(Fn&& fn) const {
  dispatch_width(w, fn, [&] { fn(IntC<0>{}); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
struct NufftPlan::Impl {
  NufftOptions opts;
  NufftInfo info;
  NufftTimings tm;
  std::vector<NufftKernel> kax;  // one per real axis
  std::mutex mu;
  std::unique_ptr<Engine<float>> ef;
  std::unique_ptr<Engine<double>> ed;

  // kax: one kernel per real axis (all equal unless per-axis widths / fine grids were asked for).
  template <typename T>
  void init(Engine<T>& e, const std::vector<NufftKernel>& kax) {
    const int d = opts.dim;
    int wmax = 0, dmax = 0;
    for (const NufftKernel& k : kax) {
      wmax = std::max(wmax, k.width);
      dmax = std::max(dmax, k.degree);
    }
    e.d = d;
    e.pad = 3 - d;
    e.w = wmax;
    e.deg = dmax;
    e.threads = resolve_threads(opts.threads);
    e.type = opts.type;
    e.grad = opts.gradient;
    e.ntransf = opts.ntransf;
    e.P = opts.P;
    e.ks = ((wmax + Engine<T>::G - 1) / Engine<T>::G) * Engine<T>::G;
    for (int a = 0; a < d; ++a) {
      const NufftKernel& k = kax[a];
      const int pa = e.pad + a;
      std::vector<T>& c = e.coeffsA[pa];
      std::vector<T>& dc = e.dcoeffsA[pa];
      c.assign(static_cast<size_t>((dmax + 1) * e.ks), T(0));
      dc.assign(c.size(), T(0));
      const int shift = dmax - k.degree;  // leading zero rows for lower-degree axes
      for (int p = 0; p <= k.degree; ++p)
        for (int j = 0; j < k.width; ++j) {
          c[(p + shift) * e.ks + j] = static_cast<T>(k.coeffs[p * k.width + j]);
          dc[(p + shift) * e.ks + j] = static_cast<T>(k.dcoeffs[p * k.width + j]);
        }
      e.wa[pa] = k.width;
    }
    for (int pa = 0; pa < e.pad; ++pa) {
      e.coeffsA[pa] = e.coeffsA[e.pad];
      e.dcoeffsA[pa] = e.dcoeffsA[e.pad];
      e.wa[pa] = 1;
    }
    e.coeffs = e.coeffsA[e.pad];
    e.dcoeffs = e.dcoeffsA[e.pad];
    e.off = wmax / 2;
    std::vector<std::int64_t> shape;
    for (int pa = 0; pa < 3; ++pa) {
      if (pa < e.pad) {
        e.n3[pa] = 1;
        e.N3[pa] = 1;
        e.F[pa] = {0};
        e.S[pa] = {T(1)};
        e.E[pa] = 1;
        continue;
      }
      const int a = pa - e.pad;
      const NufftKernel& k = kax[a];
      const std::int64_t N = opts.modes[a], nf = info.fine[a];
      e.n3[pa] = nf;
      e.N3[pa] = N;
      // Non-slab axes: local index i0 + off spans rows of the axis's width (the largest width
      // on the fastest axis); equal to nf + w when all widths agree.
      const int rowlen = pa == 2 ? wmax : k.width;
      e.E[pa] = nf + e.off + rowlen - k.width / 2;
      e.hx[pa] = e.E[pa];
      e.dscale[pa] = nufftm::deriv_scale(k.width, static_cast<double>(nf));
      shape.push_back(nf);
      const std::vector<double> phat = nufft_kernel_fseries(k.width, k.beta, nf, N);
      e.F[pa].resize(static_cast<size_t>(N));
      e.S[pa].resize(static_cast<size_t>(N));
      for (std::int64_t m = 0; m < N; ++m) {
        const std::int64_t kk = nufftm::mode_k(m, N, opts.modeord);
        e.F[pa][m] = nufftm::fine_index(kk, nf);
        e.S[pa][m] = static_cast<T>(1 / phat[nufftm::phat_index(kk, N)]);
      }
    }
    e.nfine = e.n3[0] * e.n3[1] * e.n3[2];
    e.nmodes = e.N3[0] * e.N3[1] * e.N3[2];
    e.fft = FftNd<T>(shape, opts.isign);
  }
};

namespace {
// params.ts axisErrorEstimate.
double axis_error_estimate(int width, double sigma) {
  const double r = std::sqrt(std::max(0.0, 1 - 1 / sigma)) / std::sqrt(0.5);
  return std::pow(10.0, -(width - 1) * r);
}
bool is_smooth235(std::int64_t n) {
  if (n < 1) return false;
  while (n % 2 == 0) n /= 2;
  while (n % 3 == 0) n /= 3;
  while (n % 5 == 0) n /= 5;
  return n == 1;
}
}  // namespace

NufftPlan::NufftPlan(const NufftOptions& o) : impl_(new Impl) {
  Impl& p = *impl_;
  p.opts = o;
  if (o.type != 1 && o.type != 2) throw OpFailure("INVALID_ARGUMENT", "type must be 1 or 2, got " + std::to_string(o.type));
  if (o.dim < 1 || o.dim > 3) throw OpFailure("INVALID_ARGUMENT", "modes must have 1 to 3 entries, got " + std::to_string(o.dim));
  for (int a = 0; a < o.dim; ++a)
    if (o.modes[a] < 1) throw OpFailure("INVALID_ARGUMENT", "modes must be positive integers");
  if (o.ntransf < 1) throw OpFailure("INVALID_ARGUMENT", "ntransf must be a positive integer");
  if (o.isign != 1 && o.isign != -1) throw OpFailure("INVALID_ARGUMENT", "isign must be 1 or -1");
  if (o.modeord != 0 && o.modeord != 1) throw OpFailure("INVALID_ARGUMENT", "modeord must be 0 or 1");
  if (o.P < 1) throw OpFailure("INVALID_ARGUMENT", "P (number of point sets) must be a positive integer");
  const NufftKernel k = nufft_choose_kernel(o.eps, o.upsampfac, o.f32, o.gradient, o.width);
  bool custom = false;
  for (int a = 0; a < o.dim; ++a) custom = custom || o.widths[a] > 0 || o.fine_grid[a] > 0;
  std::vector<NufftKernel> kax(static_cast<size_t>(o.dim), k);
  if (custom) {
    // params.ts axisLayout: per-axis plain widths and fine grids, β from the effective σ.
    const int inc = k.gradient_width_increase;
    const int dflt = k.width - inc;
    int pw[3] = {0, 0, 0}, wmax = 0;
    for (int a = 0; a < o.dim; ++a) {
      pw[a] = o.widths[a] > 0 ? o.widths[a] : dflt;
      if (pw[a] < 2 || pw[a] + inc > 16) {
        throw OpFailure("INVALID_ARGUMENT", "width must be an integer from 2 to " + std::to_string(16 - inc) + ", got " + std::to_string(pw[a]));
      }
      wmax = std::max(wmax, pw[a] + inc);
    }
    for (int a = 0; a < o.dim; ++a) {
      const int w = pw[a] + inc;
      const std::int64_t N = o.modes[a];
      double sigma = o.upsampfac;
      if (o.fine_grid[a] > 0) {
        const std::int64_t nf = o.fine_grid[a];
        if (nf <= N) throw OpFailure("INVALID_ARGUMENT", "fineGrid[" + std::to_string(a) + "] must be above modes[" + std::to_string(a) + "] = " + std::to_string(N));
        if (!is_smooth235(nf)) throw OpFailure("INVALID_ARGUMENT", "fineGrid[" + std::to_string(a) + "] = " + std::to_string(nf) + " is not 2,3,5-smooth");
        if (nf < 2 * wmax) throw OpFailure("INVALID_ARGUMENT", "fineGrid[" + std::to_string(a) + "] = " + std::to_string(nf) + " is below twice the kernel width " + std::to_string(wmax));
        sigma = static_cast<double>(nf) / static_cast<double>(N);
        const double q = (w / sigma) * (sigma - 0.5);
        if (q * q <= 0.8) throw OpFailure("INVALID_ARGUMENT", "fineGrid[" + std::to_string(a) + "] oversamples too little for width " + std::to_string(w));
        p.info.fine[a] = nf;
      } else {
        p.info.fine[a] = nufft_fine_grid_size(N, o.upsampfac, wmax);
      }
      NufftKernel& ka = kax[a];
      ka.width = w;
      ka.beta = kb_beta(w, sigma);
      ka.gradient_width_increase = inc;
      const double tol_eps = std::min(o.eps, axis_error_estimate(pw[a], sigma));
      kernel_polynomial(w, ka.beta, kernel_fit_tolerance(tol_eps, sigma), ka);
    }
  } else {
    for (int a = 0; a < o.dim; ++a) {
      if (o.modes[a] > (std::int64_t(1) << 40)) throw OpFailure("SIZE_TOO_LARGE", "modes too large");
      p.info.fine[a] = nufft_fine_grid_size(o.modes[a], k.upsampfac, k.width);
    }
  }
  p.info.width = 0;
  p.info.degree = 0;
  for (int a = 0; a < o.dim; ++a) {
    p.info.widths[a] = kax[a].width;
    p.info.betas[a] = kax[a].beta;
    p.info.width = std::max(p.info.width, kax[a].width);
    p.info.degree = std::max(p.info.degree, kax[a].degree);
  }
  p.info.beta = kax[0].beta;
  p.kax = kax;
  p.info.upsampfac = k.upsampfac;
  p.info.gradient_width_increase = k.gradient_width_increase;
  double total = static_cast<double>(o.ntransf) * o.P * 2;
  for (int a = 0; a < o.dim; ++a) {
    if (o.modes[a] > (std::int64_t(1) << 40)) throw OpFailure("SIZE_TOO_LARGE", "modes too large");
    total *= static_cast<double>(p.info.fine[a]);
  }
  if (total > 9.0e15 / 8 || total * (o.f32 ? 4 : 8) > 6.4e13) {
    throw OpFailure("SIZE_TOO_LARGE", "fine grid of " + fmt_num(total / 2) + " complex values is too large");
  }
  if (o.f32) {
    p.ef.reset(new Engine<float>());
    p.init(*p.ef, kax);
  } else {
    p.ed.reset(new Engine<double>());
    p.init(*p.ed, kax);
  }
}

NufftPlan::~NufftPlan() = default;

const NufftOptions& NufftPlan::options() const { return impl_->opts; }
const NufftInfo& NufftPlan::info() const { return impl_->info; }
const std::vector<NufftKernel>& NufftPlan::axis_kernels() const { return impl_->kax; }

void NufftPlan::set_points(const float* pts, std::int64_t M) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->ef) throw OpFailure("INVALID_DTYPE", "setPoints: points must be Float64Array for complex128");
  const double t0 = now_ms();
  impl_->ef->set_points(pts, M);
  impl_->tm.sort_ms = now_ms() - t0;
}

void NufftPlan::set_points(const double* pts, std::int64_t M) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->ed) throw OpFailure("INVALID_DTYPE", "setPoints: points must be Float32Array for complex64");
  const double t0 = now_ms();
  impl_->ed->set_points(pts, M);
  impl_->tm.sort_ms = now_ms() - t0;
}

std::int64_t NufftPlan::num_points() const {
  return impl_->ef ? impl_->ef->M : impl_->ed->M;
}

std::int64_t NufftPlan::input_length(std::int64_t M) const {
  const NufftOptions& o = impl_->opts;
  std::int64_t nm = 1;
  for (int a = 0; a < o.dim; ++a) nm *= o.modes[a];
  return o.P * (o.type == 1 ? 2 * o.ntransf * (o.gradient ? 1 + o.dim : 1) * M : 2 * o.ntransf * nm);
}

std::int64_t NufftPlan::output_length(std::int64_t M) const {
  const NufftOptions& o = impl_->opts;
  std::int64_t nm = 1;
  for (int a = 0; a < o.dim; ++a) nm *= o.modes[a];
  return o.P * (o.type == 2 ? 2 * o.ntransf * (o.gradient ? 1 + o.dim : 1) * M : 2 * o.ntransf * nm);
}

namespace {
template <typename T>
void run_execute(NufftPlan& plan, Engine<T>* e, const T* in, std::int64_t in_len, T* out, std::int64_t out_len,
                 NufftTimings& tm) {
  if (!e) throw OpFailure("INVALID_DTYPE", "execute: input/output element type does not match the plan's dtype");
  if (e->M < 0) throw OpFailure("INVALID_ARGUMENT", "setPoints must be called before execute");
  const std::int64_t need_in = plan.input_length(e->M), need_out = plan.output_length(e->M);
  if (in_len < need_in) {
    throw OpFailure("INVALID_SHAPE", "input has " + std::to_string(in_len) + " entries, expected " + std::to_string(need_in));
  }
  if (out_len < need_out) {
    throw OpFailure("INVALID_SHAPE", "output has " + std::to_string(out_len) + " entries, expected " + std::to_string(need_out));
  }
  e->execute(in, out, tm);
}
}  // namespace

void NufftPlan::execute(const float* in, std::int64_t in_len, float* out, std::int64_t out_len) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  run_execute<float>(*this, impl_->ef.get(), in, in_len, out, out_len, impl_->tm);
}

void NufftPlan::execute(const double* in, std::int64_t in_len, double* out, std::int64_t out_len) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  run_execute<double>(*this, impl_->ed.get(), in, in_len, out, out_len, impl_->tm);
}

NufftTimings NufftPlan::timings() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->tm;
}

}  // namespace rk
