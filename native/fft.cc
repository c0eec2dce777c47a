// Mixed-radix (4, 2, 3, 5) Stockham autosort FFT on split (re/im) lane blocks: every butterfly
// works on L independent transforms at once (the inner loop runs over contiguous lanes), so the
// compiler vectorises it, and the outer axes of an n-D array are processed as blocks of L
// adjacent columns (contiguous reads) instead of strided single columns.
#include "fft.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "parallel_for.h"

namespace rk {

bool fft_is_smooth235(std::int64_t n) {
  if (n < 1) return false;
  for (int p : {2, 3, 5})
    while (n % p == 0) n /= p;
  return n == 1;
}

template <typename T>
FftAxisPlan<T>::FftAxisPlan(std::int64_t n_, int sign_) : n(n_), sign(sign_ >= 0 ? 1 : -1) {
  if (!fft_is_smooth235(n)) throw std::invalid_argument("fft: length " + std::to_string(n) + " is not 2,3,5-smooth");
  std::vector<int> radices;
  std::int64_t r = n;
  while (r % 4 == 0) { radices.push_back(4); r /= 4; }
  while (r % 2 == 0) { radices.push_back(2); r /= 2; }
  while (r % 3 == 0) { radices.push_back(3); r /= 3; }
  while (r % 5 == 0) { radices.push_back(5); r /= 5; }
  std::int64_t nn = n;
  for (int rad : radices) {
    Stage st;
    st.radix = rad;
    st.m = nn / rad;
    st.twr.resize(static_cast<size_t>(st.m * (rad - 1)));
    st.twi.resize(st.twr.size());
    for (std::int64_t p = 0; p < st.m; ++p) {
      for (int k = 1; k < rad; ++k) {
        const std::int64_t e = (p * k) % nn;
        const long double ang = static_cast<long double>(sign) * 2.0L * 3.141592653589793238462643383279502884L *
                                static_cast<long double>(e) / static_cast<long double>(nn);
        st.twr[p * (rad - 1) + k - 1] = static_cast<T>(std::cos(ang));
        st.twi[p * (rad - 1) + k - 1] = static_cast<T>(std::sin(ang));
      }
    }
    stages.push_back(std::move(st));
    nn /= rad;
  }
}

namespace {

#define RK_IVDEP _Pragma("GCC ivdep")

// Input index q + s·(p + j·m), output q + s·(r·p + k); twiddles exp(sign·2πi·p·k/(r·m)).
template <typename T>
void stage2(std::int64_t m, std::int64_t s, const T* twr, const T* twi, const T* __restrict__ xr,
            const T* __restrict__ xi, T* __restrict__ yr, T* __restrict__ yi) {
  for (std::int64_t p = 0; p < m; ++p) {
    const T wr = twr[p], wi = twi[p];
    const T *a0r = xr + s * p, *a0i = xi + s * p, *a1r = xr + s * (p + m), *a1i = xi + s * (p + m);
    T *b0r = yr + s * 2 * p, *b0i = yi + s * 2 * p, *b1r = b0r + s, *b1i = b0i + s;
    RK_IVDEP for (std::int64_t q = 0; q < s; ++q) {
      const T ur = a0r[q] - a1r[q], ui = a0i[q] - a1i[q];
      b0r[q] = a0r[q] + a1r[q];
      b0i[q] = a0i[q] + a1i[q];
      b1r[q] = ur * wr - ui * wi;
      b1i[q] = ur * wi + ui * wr;
    }
  }
}

template <typename T>
void stage4(std::int64_t m, std::int64_t s, int sign, const T* twr, const T* twi, const T* __restrict__ xr,
            const T* __restrict__ xi, T* __restrict__ yr, T* __restrict__ yi) {
  const T sg = static_cast<T>(sign);
  for (std::int64_t p = 0; p < m; ++p) {
    const T w1r = twr[3 * p], w1i = twi[3 * p], w2r = twr[3 * p + 1], w2i = twi[3 * p + 1];
    const T w3r = twr[3 * p + 2], w3i = twi[3 * p + 2];
    const T *a0r = xr + s * p, *a0i = xi + s * p;
    const T *a1r = a0r + s * m, *a1i = a0i + s * m, *a2r = a1r + s * m, *a2i = a1i + s * m;
    const T *a3r = a2r + s * m, *a3i = a2i + s * m;
    T *b0r = yr + s * 4 * p, *b0i = yi + s * 4 * p;
    T *b1r = b0r + s, *b1i = b0i + s, *b2r = b1r + s, *b2i = b1i + s, *b3r = b2r + s, *b3i = b2i + s;
    if (p == 0) {
      RK_IVDEP for (std::int64_t q = 0; q < s; ++q) {
        const T s02r = a0r[q] + a2r[q], s02i = a0i[q] + a2i[q], d02r = a0r[q] - a2r[q], d02i = a0i[q] - a2i[q];
        const T s13r = a1r[q] + a3r[q], s13i = a1i[q] + a3i[q];
        const T d13r = sg * (a1r[q] - a3r[q]), d13i = sg * (a1i[q] - a3i[q]);  // × sign
        b0r[q] = s02r + s13r;
        b0i[q] = s02i + s13i;
        b2r[q] = s02r - s13r;
        b2i[q] = s02i - s13i;
        b1r[q] = d02r - d13i;  // + i·d13
        b1i[q] = d02i + d13r;
        b3r[q] = d02r + d13i;
        b3i[q] = d02i - d13r;
      }
      continue;
    }
    RK_IVDEP for (std::int64_t q = 0; q < s; ++q) {
      const T s02r = a0r[q] + a2r[q], s02i = a0i[q] + a2i[q], d02r = a0r[q] - a2r[q], d02i = a0i[q] - a2i[q];
      const T s13r = a1r[q] + a3r[q], s13i = a1i[q] + a3i[q];
      const T d13r = sg * (a1r[q] - a3r[q]), d13i = sg * (a1i[q] - a3i[q]);
      b0r[q] = s02r + s13r;
      b0i[q] = s02i + s13i;
      const T c2r = s02r - s13r, c2i = s02i - s13i;
      const T c1r = d02r - d13i, c1i = d02i + d13r;
      const T c3r = d02r + d13i, c3i = d02i - d13r;
      b1r[q] = c1r * w1r - c1i * w1i;
      b1i[q] = c1r * w1i + c1i * w1r;
      b2r[q] = c2r * w2r - c2i * w2i;
      b2i[q] = c2r * w2i + c2i * w2r;
      b3r[q] = c3r * w3r - c3i * w3i;
      b3i[q] = c3r * w3i + c3i * w3r;
    }
  }
}

template <typename T>
void stage3(std::int64_t m, std::int64_t s, int sign, const T* twr, const T* twi, const T* __restrict__ xr,
            const T* __restrict__ xi, T* __restrict__ yr, T* __restrict__ yi) {
  const T h = static_cast<T>(sign * 0.86602540378443864676);  // sign·√3/2
  for (std::int64_t p = 0; p < m; ++p) {
    const T w1r = twr[2 * p], w1i = twi[2 * p], w2r = twr[2 * p + 1], w2i = twi[2 * p + 1];
    const T *a0r = xr + s * p, *a0i = xi + s * p;
    const T *a1r = a0r + s * m, *a1i = a0i + s * m, *a2r = a1r + s * m, *a2i = a1i + s * m;
    T *b0r = yr + s * 3 * p, *b0i = yi + s * 3 * p;
    T *b1r = b0r + s, *b1i = b0i + s, *b2r = b1r + s, *b2i = b1i + s;
    RK_IVDEP for (std::int64_t q = 0; q < s; ++q) {
      const T tr = a1r[q] + a2r[q], ti = a1i[q] + a2i[q];
      const T mr = a0r[q] - T(0.5) * tr, mi = a0i[q] - T(0.5) * ti;
      const T dr = h * (a1r[q] - a2r[q]), di = h * (a1i[q] - a2i[q]);
      b0r[q] = a0r[q] + tr;
      b0i[q] = a0i[q] + ti;
      const T c1r = mr - di, c1i = mi + dr, c2r = mr + di, c2i = mi - dr;
      b1r[q] = c1r * w1r - c1i * w1i;
      b1i[q] = c1r * w1i + c1i * w1r;
      b2r[q] = c2r * w2r - c2i * w2i;
      b2i[q] = c2r * w2i + c2i * w2r;
    }
  }
}

template <typename T>
void stage5(std::int64_t m, std::int64_t s, int sign, const T* twr, const T* twi, const T* __restrict__ xr,
            const T* __restrict__ xi, T* __restrict__ yr, T* __restrict__ yi) {
  const T c1 = static_cast<T>(0.30901699437494742410), c2 = static_cast<T>(-0.80901699437494742410);
  const T s1 = static_cast<T>(sign * 0.95105651629515357212), s2 = static_cast<T>(sign * 0.58778525229247312917);
  for (std::int64_t p = 0; p < m; ++p) {
    const T* tr_ = twr + 4 * p;
    const T* ti_ = twi + 4 * p;
    const T w1r = tr_[0], w1i = ti_[0], w2r = tr_[1], w2i = ti_[1], w3r = tr_[2], w3i = ti_[2], w4r = tr_[3], w4i = ti_[3];
    const T *a0r = xr + s * p, *a0i = xi + s * p;
    const T *a1r = a0r + s * m, *a1i = a0i + s * m, *a2r = a1r + s * m, *a2i = a1i + s * m;
    const T *a3r = a2r + s * m, *a3i = a2i + s * m, *a4r = a3r + s * m, *a4i = a3i + s * m;
    T *b0r = yr + s * 5 * p, *b0i = yi + s * 5 * p;
    T *b1r = b0r + s, *b1i = b0i + s, *b2r = b1r + s, *b2i = b1i + s;
    T *b3r = b2r + s, *b3i = b2i + s, *b4r = b3r + s, *b4i = b3i + s;
    RK_IVDEP for (std::int64_t q = 0; q < s; ++q) {
      const T t1r = a1r[q] + a4r[q], t1i = a1i[q] + a4i[q], t2r = a2r[q] + a3r[q], t2i = a2i[q] + a3i[q];
      const T t3r = a1r[q] - a4r[q], t3i = a1i[q] - a4i[q], t4r = a2r[q] - a3r[q], t4i = a2i[q] - a3i[q];
      b0r[q] = a0r[q] + t1r + t2r;
      b0i[q] = a0i[q] + t1i + t2i;
      const T m1r = a0r[q] + c1 * t1r + c2 * t2r, m1i = a0i[q] + c1 * t1i + c2 * t2i;
      const T m2r = a0r[q] + c2 * t1r + c1 * t2r, m2i = a0i[q] + c2 * t1i + c1 * t2i;
      const T n1r = s1 * t3r + s2 * t4r, n1i = s1 * t3i + s2 * t4i;  // multiplied by i below
      const T n2r = s2 * t3r - s1 * t4r, n2i = s2 * t3i - s1 * t4i;
      const T e1r = m1r - n1i, e1i = m1i + n1r, e4r = m1r + n1i, e4i = m1i - n1r;
      const T e2r = m2r - n2i, e2i = m2i + n2r, e3r = m2r + n2i, e3i = m2i - n2r;
      b1r[q] = e1r * w1r - e1i * w1i;
      b1i[q] = e1r * w1i + e1i * w1r;
      b2r[q] = e2r * w2r - e2i * w2i;
      b2i[q] = e2r * w2i + e2i * w2r;
      b3r[q] = e3r * w3r - e3i * w3i;
      b3i[q] = e3r * w3i + e3i * w3r;
      b4r[q] = e4r * w4r - e4i * w4i;
      b4i[q] = e4r * w4i + e4i * w4r;
    }
  }
}

}  // namespace

template <typename T>
bool FftAxisPlan<T>::run_lanes(T* xr, T* xi, T* yr, T* yi, std::int64_t L) const {
  std::int64_t s = L;
  bool in_y = false;
  for (const Stage& st : stages) {
    const T *ar = in_y ? yr : xr, *ai = in_y ? yi : xi;
    T *br = in_y ? xr : yr, *bi = in_y ? xi : yi;
    switch (st.radix) {
      case 4: stage4<T>(st.m, s, sign, st.twr.data(), st.twi.data(), ar, ai, br, bi); break;
      case 2: stage2<T>(st.m, s, st.twr.data(), st.twi.data(), ar, ai, br, bi); break;
      case 3: stage3<T>(st.m, s, sign, st.twr.data(), st.twi.data(), ar, ai, br, bi); break;
      default: stage5<T>(st.m, s, sign, st.twr.data(), st.twi.data(), ar, ai, br, bi); break;
    }
    s *= st.radix;
    in_y = !in_y;
  }
  return in_y;
}

template <typename T>
FftNd<T>::FftNd(const std::vector<std::int64_t>& shape, int sign) : shape_(shape) {
  if (shape.empty()) throw std::invalid_argument("fft: empty shape");
  for (std::int64_t n : shape) axes_.emplace_back(n, sign);
}

namespace {
// Lanes per block: a cache line or two of each split array, and the block (4 arrays of n·L)
// within ~512 KiB so it stays in L2.
template <typename T>
std::int64_t lanes_for(std::int64_t n) {
  const std::int64_t lmax = 64 / sizeof(T) * 2;
  std::int64_t L = (512 * 1024) / (4 * n * static_cast<std::int64_t>(sizeof(T)));
  return std::max<std::int64_t>(1, std::min(L, lmax));
}
}  // namespace

template <typename T>
void FftNd<T>::execute(T* data, std::int64_t batch, int threads) const {
  const int d = static_cast<int>(shape_.size());
  std::int64_t total = 1;
  for (std::int64_t n : shape_) total *= n;
  for (int a = d - 1; a >= 0; --a) {
    const FftAxisPlan<T>& ax = axes_[a];
    const std::int64_t n = ax.n;
    if (n == 1) continue;
    std::int64_t S = 1;
    for (int b = a + 1; b < d; ++b) S *= shape_[b];
    const std::int64_t outer = batch * (total / (S * n));
    if (S == 1) {
      // Rows: blocks of L rows, transposed into lanes.
      const std::int64_t L = std::min<std::int64_t>(lanes_for<T>(n), outer);
      const std::int64_t blocks = (outer + L - 1) / L;
      parallel_for(blocks, threads, [&](std::int64_t b0, std::int64_t b1, int) {
        std::vector<T> buf(static_cast<size_t>(4 * n * L));
        T *xr = buf.data(), *xi = xr + n * L, *yr = xi + n * L, *yi = yr + n * L;
        for (std::int64_t blk = b0; blk < b1; ++blk) {
          const std::int64_t r0 = blk * L, Lb = std::min(L, outer - r0);
          for (std::int64_t l = 0; l < Lb; ++l) {
            const T* row = data + 2 * (r0 + l) * n;
            for (std::int64_t i = 0; i < n; ++i) {
              xr[i * Lb + l] = row[2 * i];
              xi[i * Lb + l] = row[2 * i + 1];
            }
          }
          const bool in_y = ax.run_lanes(xr, xi, yr, yi, Lb);
          const T *rr = in_y ? yr : xr, *ri = in_y ? yi : xi;
          for (std::int64_t l = 0; l < Lb; ++l) {
            T* row = data + 2 * (r0 + l) * n;
            for (std::int64_t i = 0; i < n; ++i) {
              row[2 * i] = rr[i * Lb + l];
              row[2 * i + 1] = ri[i * Lb + l];
            }
          }
        }
      });
      continue;
    }
    // Columns: blocks of L adjacent columns of [outer, n, S].
    const std::int64_t L = std::min<std::int64_t>(lanes_for<T>(n), S);
    const std::int64_t cblocks = (S + L - 1) / L;
    parallel_for(outer * cblocks, threads, [&](std::int64_t b0, std::int64_t b1, int) {
      std::vector<T> buf(static_cast<size_t>(4 * n * L));
      T *xr = buf.data(), *xi = xr + n * L, *yr = xi + n * L, *yi = yr + n * L;
      for (std::int64_t blk = b0; blk < b1; ++blk) {
        const std::int64_t o = blk / cblocks, c0 = (blk % cblocks) * L, Lb = std::min(L, S - c0);
        T* base = data + 2 * (o * n * S + c0);
        for (std::int64_t i = 0; i < n; ++i) {
          const T* src = base + 2 * i * S;
          for (std::int64_t l = 0; l < Lb; ++l) {
            xr[i * Lb + l] = src[2 * l];
            xi[i * Lb + l] = src[2 * l + 1];
          }
        }
        const bool in_y = ax.run_lanes(xr, xi, yr, yi, Lb);
        const T *rr = in_y ? yr : xr, *ri = in_y ? yi : xi;
        for (std::int64_t i = 0; i < n; ++i) {
          T* dst = base + 2 * i * S;
          for (std::int64_t l = 0; l < Lb; ++l) {
            dst[2 * l] = rr[i * Lb + l];
            dst[2 * l + 1] = ri[i * Lb + l];
          }
        }
      }
    });
  }
}

template struct FftAxisPlan<float>;
template struct FftAxisPlan<double>;
template class FftNd<float>;
template class FftNd<double>;

}  // namespace rk
