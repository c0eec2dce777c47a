// Native (CPU) MRI building blocks (cuda/mri.h): the element-wise coil / k-space ops over
// parallel_for, and the Toeplitz normal operator with the zero padding skipped in its FFTs.
//
// Toeplitz, for one image and coil on the grid G ≥ 2N (axes 0..d−1, last fastest):
//   1. last axis, forward, only on the Π_{a<d−1} N_a rows that hold pixels (input S·x, zero
//      beyond N_{d−1});
//   2. middle axes (3-D: axis 1), forward, only on the lines whose outer indices are < N
//      (input zero beyond N_a);
//   3. axis 0, per block of columns: FFT (input zero beyond N_0) → ×K̂ → IFFT, keeping the first
//      N_0 outputs (the other G_0 − N_0 never leave the lane buffers);
//   4. middle axes, inverse, keeping the first N_a outputs;
//   5. last axis, inverse, on the rows of step 1; the first N_{d−1} outputs times conj(S) go to
//      the output image.
// So the work grid is [N_0, G_1, …, G_{d−1}] (half the grid) and, against pad → FFT → IFFT on
// the full grid, 2-D runs 6N instead of 8N line transforms of length 2N (3-D: 14N² vs 24N²).
//
// Threads: with enough (image, coil) pairs each thread runs whole pairs on its own work grid
// (cache-resident in 2-D) and stores conj(S_c)·y_c in a per-pair slot, summed in coil order
// afterwards; otherwise the pairs run one after another with every pass split over lines. Both
// add the same rounded per-coil images in the same order, so the result does not depend on the
// thread count.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "fft.h"
#include "mri.h"
#include "mri_math.cuh"
#include "parallel_for.h"

#include "op_failure.h"

namespace rk {
namespace {

constexpr index_t kBlock = 8192;                    // elements per work item of the element-wise ops
constexpr size_t kPerPairGridBytes = size_t(32) << 20;  // largest work grid one thread keeps per pair

// f(row, n0, n1) over rows × blocks of kBlock elements of each row.
template <typename F>
void for_row_blocks(index_t rows, index_t n, int threads, F&& f) {
  if (rows <= 0 || n <= 0) return;
  const index_t nb = (n + kBlock - 1) / kBlock;
  parallel_for(rows * nb, threads, [&](index_t i0, index_t i1, int) {
    for (index_t i = i0; i < i1; ++i) {
      const index_t r = i / nb, b = i % nb;
      f(r, b * kBlock, std::min(n, (b + 1) * kBlock));
    }
  });
}

template <typename T>
void expand(const MriEwArgs& a, const T* S, const T* x, T* out, int threads) {
  const index_t C = S ? a.C : 1, N = a.N;
  const T sc = static_cast<T>(a.scale);
  const bool real = a.in_real;
  for_row_blocks(a.B * C, N, threads, [&](index_t row, index_t n0, index_t n1) {
    const index_t b = row / C, c = row % C;
    const T* s = S ? S + 2 * c * N : nullptr;
    T* o = out + 2 * row * N;
    for (index_t n = n0; n < n1; ++n) {
      const index_t q = b * N + n;
      const T xr = real ? x[q] : x[2 * q], xi = real ? T(0) : x[2 * q + 1];
      T r, i;
      mrim::expand_pixel(s != nullptr, s ? s[2 * n] : T(0), s ? s[2 * n + 1] : T(0), xr, xi, sc, r, i);
      o[2 * n] = r;
      o[2 * n + 1] = i;
    }
  });
}

template <typename T>
void combine(const MriEwArgs& a, const T* S, const T* z, T* out, int threads) {
  const index_t C = S ? a.C : 1, N = a.N;
  const T sc = static_cast<T>(a.scale);
  for_row_blocks(a.B, N, threads, [&](index_t b, index_t n0, index_t n1) {
    T* o = out + 2 * b * N;
    for (index_t n = n0; n < n1; ++n) {
      T sr, si;
      mrim::combine_pixel(S, z, C, N, b, n, sr, si);
      const T r0 = a.accumulate ? o[2 * n] : T(0), i0 = a.accumulate ? o[2 * n + 1] : T(0);
      o[2 * n] = r0 + sc * sr;
      o[2 * n + 1] = i0 + sc * si;
    }
  });
}

template <typename T>
void weight(const MriEwArgs& a, const T* w, const T* y, T* out, int threads) {
  const index_t C = a.C, M = a.N;
  const T sc = static_cast<T>(a.scale);
  const bool real = a.in_real;
  for_row_blocks(a.B * C, M, threads, [&](index_t row, index_t m0, index_t m1) {
    const T* wp = w ? w + (row / C) * M : nullptr;
    T* o = out + 2 * row * M;
    for (index_t m = m0; m < m1; ++m) {
      const index_t q = row * M + m;
      const T f = wp ? sc * wp[m] : sc;
      const T yr = real ? y[q] : y[2 * q], yi = real ? T(0) : y[2 * q + 1];
      o[2 * m] = f * yr;
      o[2 * m + 1] = f * yi;
    }
  });
}

template <typename I, typename O>
void cast(index_t n, double scale, const I* in, O* out, int threads) {
  for_row_blocks(1, n, threads, [&](index_t, index_t i0, index_t i1) {
    for (index_t i = i0; i < i1; ++i) out[i] = static_cast<O>(scale * static_cast<double>(in[i]));
  });
}

// ---------------------------------------------------------------------------------------------
// Toeplitz.

// Lanes per block as in native/fft.cc: at most two cache lines of each split array per line
// element, the four lane arrays within ~512 KiB.
template <typename T>
index_t lanes_for(index_t n) {
  const index_t lmax = 64 / static_cast<index_t>(sizeof(T)) * 2;
  const index_t L = (512 * 1024) / (4 * n * static_cast<index_t>(sizeof(T)));
  return std::max<index_t>(1, std::min(L, lmax));
}

// One (image, coil) application.
template <typename T>
struct ToepJob {
  const T* x = nullptr;  // the image [N...], complex (or real when x_real)
  bool x_real = false;
  const T* s = nullptr;   // the coil's map [N...] or null
  const T* kh = nullptr;  // K̂ of the point set [G...]
  T* acc = nullptr;       // the image the result goes to
  bool first = true;      // store instead of add
};

enum class Pass { RowForward, ColForward, Fused, ColInverse, RowInverse, Line };

template <typename T>
struct ToepEngine {
  int d = 1;
  index_t N[3] = {1, 1, 1}, G[3] = {1, 1, 1};
  index_t stride[3] = {1, 1, 1};  // work-grid stride of axis a: Π_{b>a} G_b
  index_t L[3] = {1, 1, 1};       // lanes per block on axis a
  index_t nimg = 1, ngrid = 1, nwork = 1, lane_elems = 0;
  std::vector<FftAxisPlan<T>> fwd, inv;
  std::vector<std::pair<Pass, int>> passes;

  ToepEngine(int dim, const index_t* n, const index_t* g) : d(dim) {
    for (int a = 0; a < d; ++a) {
      N[a] = n[a];
      G[a] = g[a];
      fwd.emplace_back(G[a], -1);
      inv.emplace_back(G[a], +1);
      L[a] = lanes_for<T>(G[a]);
      lane_elems = std::max(lane_elems, 4 * G[a] * L[a]);
      nimg *= N[a];
      ngrid *= G[a];
    }
    for (int a = d - 1; a >= 0; --a) stride[a] = a == d - 1 ? 1 : stride[a + 1] * G[a + 1];
    nwork = N[0] * stride[0];
    if (d == 1) {
      passes = {{Pass::Line, 0}};
      return;
    }
    passes.push_back({Pass::RowForward, d - 1});
    for (int a = d - 2; a >= 1; --a) passes.push_back({Pass::ColForward, a});
    passes.push_back({Pass::Fused, 0});
    for (int a = 1; a <= d - 2; ++a) passes.push_back({Pass::ColInverse, a});
    passes.push_back({Pass::RowInverse, d - 1});
  }

  // Lines of the last axis that hold pixels.
  index_t rows() const {
    index_t r = 1;
    for (int b = 0; b < d - 1; ++b) r *= N[b];
    return r;
  }

  // Lines of axis a < d − 1 visited: outer indices < N, inner ones over the whole grid.
  index_t prefixes(int a) const {
    index_t p = 1;
    for (int b = 0; b < a; ++b) p *= N[b];
    return p;
  }

  // Work-grid offset of outer multi-index p (over axes < a, each < N_b).
  index_t prefix_offset(int a, index_t p) const {
    index_t off = 0;
    for (int b = a - 1; b >= 0; --b) {
      off += (p % N[b]) * stride[b];
      p /= N[b];
    }
    return off;
  }

  index_t items(Pass k, int a) const {
    switch (k) {
      case Pass::RowForward:
      case Pass::RowInverse: return (rows() + L[a] - 1) / L[a];
      case Pass::Line: return 1;
      default: return prefixes(a) * ((stride[a] + L[a] - 1) / L[a]);
    }
  }

  // Lanes [n][Lb] of rows r0 .. r0 + Lb − 1 of S·x (zero beyond nin).
  void load_rows(const ToepJob<T>& j, index_t r0, index_t Lb, index_t nin, index_t n, T* xr, T* xi) const {
    for (index_t l = 0; l < Lb; ++l) {
      const index_t base = (r0 + l) * nin;
      for (index_t i = 0; i < nin; ++i) {
        const index_t q = base + i;
        const T vr = j.x_real ? j.x[q] : j.x[2 * q], vi = j.x_real ? T(0) : j.x[2 * q + 1];
        T r, m;
        mrim::expand_pixel(j.s != nullptr, j.s ? j.s[2 * q] : T(0), j.s ? j.s[2 * q + 1] : T(0), vr, vi, T(1), r, m);
        xr[i * Lb + l] = r;
        xi[i * Lb + l] = m;
      }
    }
    std::fill(xr + nin * Lb, xr + n * Lb, T(0));
    std::fill(xi + nin * Lb, xi + n * Lb, T(0));
  }

  // conj(S)·y of the first nout entries of each lane into the job's image rows r0 ...; v is
  // free lane memory: the per-coil values are stored (rounded) before they are added, exactly
  // as the per-pair slots are, so both threading schemes add the same numbers.
  void emit_rows(const ToepJob<T>& j, index_t r0, index_t Lb, index_t nout, const T* rr, const T* ri, T* v) const {
    for (index_t l = 0; l < Lb; ++l) {
      const index_t base = (r0 + l) * nout;
      T* vl = v + 2 * l * nout;
      for (index_t i = 0; i < nout; ++i) {
        const T yr = rr[i * Lb + l], yi = ri[i * Lb + l];
        if (j.s) {
          mrim::cmulc(j.s[2 * (base + i)], j.s[2 * (base + i) + 1], yr, yi, vl[2 * i], vl[2 * i + 1]);
        } else {
          vl[2 * i] = yr;
          vl[2 * i + 1] = yi;
        }
      }
    }
    for (index_t l = 0; l < Lb; ++l) {
      T* o = j.acc + 2 * (r0 + l) * nout;
      const T* vl = v + 2 * l * nout;
      if (j.first) {
        std::memcpy(o, vl, static_cast<size_t>(2 * nout) * sizeof(T));
      } else {
        for (index_t i = 0; i < 2 * nout; ++i) o[i] = o[i] + vl[i];
      }
    }
  }

  // Lanes ×= K̂[k·S + c0 + l].
  static void mul_khat(const T* kh, index_t S, index_t c0, index_t n, index_t Lb, T* rr, T* ri) {
    for (index_t k = 0; k < n; ++k) {
      const T* kr = kh + 2 * (k * S + c0);
      T* ar = rr + k * Lb;
      T* ai = ri + k * Lb;
      for (index_t l = 0; l < Lb; ++l) {
        T r, m;
        mrim::cmul(ar[l], ai[l], kr[2 * l], kr[2 * l + 1], r, m);
        ar[l] = r;
        ai[l] = m;
      }
    }
  }

  void run(Pass k, int a, const ToepJob<T>& j, T* W, T* buf, index_t i0, index_t i1) const {
    const index_t n = G[a];
    if (k == Pass::Line) {  // d = 1: the whole operator on one line
      T *xr = buf, *xi = xr + n, *yr = xi + n, *yi = yr + n;
      load_rows(j, 0, 1, N[0], n, xr, xi);
      bool in_y = fwd[0].run_lanes(xr, xi, yr, yi, 1);
      T *rr = in_y ? yr : xr, *ri = in_y ? yi : xi, *sr = in_y ? xr : yr, *si = in_y ? xi : yi;
      mul_khat(j.kh, 1, 0, n, 1, rr, ri);
      if (inv[0].run_lanes(rr, ri, sr, si, 1)) {
        std::swap(rr, sr);
        std::swap(ri, si);
      }
      emit_rows(j, 0, 1, N[0], rr, ri, sr);
      return;
    }
    if (k == Pass::RowForward || k == Pass::RowInverse) {
      const index_t R = rows(), Lm = L[a];
      for (index_t blk = i0; blk < i1; ++blk) {
        const index_t r0 = blk * Lm, Lb = std::min(Lm, R - r0);
        T *xr = buf, *xi = xr + n * Lb, *yr = xi + n * Lb, *yi = yr + n * Lb;
        if (k == Pass::RowForward) {
          load_rows(j, r0, Lb, N[a], n, xr, xi);
          const bool in_y = fwd[a].run_lanes(xr, xi, yr, yi, Lb);
          const T *rr = in_y ? yr : xr, *ri = in_y ? yi : xi;
          for (index_t l = 0; l < Lb; ++l) {
            T* dst = W + 2 * prefix_offset(a, r0 + l);
            for (index_t i = 0; i < n; ++i) {
              dst[2 * i] = rr[i * Lb + l];
              dst[2 * i + 1] = ri[i * Lb + l];
            }
          }
        } else {
          for (index_t l = 0; l < Lb; ++l) {
            const T* src = W + 2 * prefix_offset(a, r0 + l);
            for (index_t i = 0; i < n; ++i) {
              xr[i * Lb + l] = src[2 * i];
              xi[i * Lb + l] = src[2 * i + 1];
            }
          }
          const bool in_y = inv[a].run_lanes(xr, xi, yr, yi, Lb);
          emit_rows(j, r0, Lb, N[a], in_y ? yr : xr, in_y ? yi : xi, in_y ? xr : yr);
        }
      }
      return;
    }
    // Column passes: blocks of Lb adjacent columns of [prefix][G_a][S].
    const index_t S = stride[a], Lm = L[a], cb = (S + Lm - 1) / Lm;
    const bool forward = k != Pass::ColInverse;
    const index_t nin = forward ? N[a] : n;
    const index_t nout = k == Pass::ColForward ? n : N[a];
    for (index_t it = i0; it < i1; ++it) {
      const index_t p = it / cb, c0 = (it % cb) * Lm, Lb = std::min(Lm, S - c0);
      T* base = W + 2 * (prefix_offset(a, p) + c0);
      T *xr = buf, *xi = xr + n * Lb, *yr = xi + n * Lb, *yi = yr + n * Lb;
      for (index_t i = 0; i < nin; ++i) {
        const T* src = base + 2 * i * S;
        for (index_t l = 0; l < Lb; ++l) {
          xr[i * Lb + l] = src[2 * l];
          xi[i * Lb + l] = src[2 * l + 1];
        }
      }
      std::fill(xr + nin * Lb, xr + n * Lb, T(0));
      std::fill(xi + nin * Lb, xi + n * Lb, T(0));
      const bool in_y = (forward ? fwd[a] : inv[a]).run_lanes(xr, xi, yr, yi, Lb);
      T *rr = in_y ? yr : xr, *ri = in_y ? yi : xi;
      if (k == Pass::Fused) {
        T *sr = in_y ? xr : yr, *si = in_y ? xi : yi;
        mul_khat(j.kh, S, c0, n, Lb, rr, ri);
        if (inv[a].run_lanes(rr, ri, sr, si, Lb)) {
          rr = sr;
          ri = si;
        }
      }
      for (index_t i = 0; i < nout; ++i) {
        T* dst = base + 2 * i * S;
        for (index_t l = 0; l < Lb; ++l) {
          dst[2 * l] = rr[i * Lb + l];
          dst[2 * l + 1] = ri[i * Lb + l];
        }
      }
    }
  }

  void run_job(const ToepJob<T>& j, T* W, T* buf) const {
    for (const auto& pass : passes) run(pass.first, pass.second, j, W, buf, 0, items(pass.first, pass.second));
  }
};

}  // namespace

struct MriToeplitzCpu::Impl {
  bool f32 = true;
  std::unique_ptr<ToepEngine<float>> ef;
  std::unique_ptr<ToepEngine<double>> ed;
  // Work memory (grids, lanes, per-pair slots), kept across calls.
  std::vector<float> poolf;
  std::vector<double> poold;
  std::mutex mu;
  int d = 1;
  index_t G[3] = {1, 1, 1};

  template <typename T>
  static T* reserve(std::vector<T>& pool, size_t elems) {
    if (pool.size() < elems) {
      pool.clear();
      pool.shrink_to_fit();
      pool.resize(elems);
    }
    return pool.data();
  }

  template <typename T>
  void apply(const ToepEngine<T>& e, std::vector<T>& pool, const MriToeplitzCall& c, int threads) {
    const index_t C = c.smaps ? c.C : 1;
    const index_t images = c.P * c.B, pairs = images * C;
    if (pairs <= 0) return;
    const int nt = resolve_threads(threads);
    const size_t wbytes = static_cast<size_t>(2 * e.nwork) * sizeof(T);
    const bool per_pair =
        nt == 1 || (pairs >= nt && (pairs >= 2 * nt || pairs % nt == 0) && wbytes <= kPerPairGridBytes);
    const index_t grids = per_pair ? std::min<index_t>(nt, pairs) : 1;
    const index_t lane_slots = per_pair ? grids : nt;
    const bool slots = per_pair && C > 1;
    const size_t total = static_cast<size_t>(grids * 2 * e.nwork + lane_slots * e.lane_elems + (slots ? pairs * 2 * e.nimg : 0));
    T* mem = reserve(pool, total);
    T* Wmem = mem;
    T* lanes = Wmem + grids * 2 * e.nwork;
    T* slot = lanes + lane_slots * e.lane_elems;
    const T* x = static_cast<const T*>(c.x);
    const T* S = static_cast<const T*>(c.smaps);
    const T* kh = static_cast<const T*>(c.khat);
    T* out = static_cast<T*>(c.out);
    const index_t xstride = (c.x_real ? 1 : 2) * e.nimg;
    auto job = [&](index_t q) {
      const index_t pb = q / C, ch = q % C;
      ToepJob<T> j;
      j.x = x + pb * xstride;
      j.x_real = c.x_real;
      j.s = S ? S + 2 * ch * e.nimg : nullptr;
      j.kh = kh + 2 * (pb / c.B) * e.ngrid;
      if (slots) {
        j.acc = slot + 2 * q * e.nimg;
        j.first = true;
      } else {
        j.acc = out + 2 * pb * e.nimg;
        j.first = per_pair || ch == 0;
      }
      return j;
    };
    if (per_pair) {
      parallel_for(pairs, nt, [&](index_t q0, index_t q1, int chunk) {
        T* W = Wmem + chunk * 2 * e.nwork;
        T* buf = lanes + chunk * e.lane_elems;
        for (index_t q = q0; q < q1; ++q) e.run_job(job(q), W, buf);
      });
      if (slots) {
        for_row_blocks(images, 2 * e.nimg, nt, [&](index_t pb, index_t i0, index_t i1) {
          const T* s0 = slot + pb * C * 2 * e.nimg;
          T* o = out + pb * 2 * e.nimg;
          for (index_t i = i0; i < i1; ++i) {
            T v = s0[i];
            for (index_t ch = 1; ch < C; ++ch) v = v + s0[ch * 2 * e.nimg + i];
            o[i] = v;
          }
        });
      }
      return;
    }
    for (index_t q = 0; q < pairs; ++q) {
      const ToepJob<T> j = job(q);
      for (const auto& pass : e.passes) {
        const Pass k = pass.first;
        const int a = pass.second;
        parallel_for(e.items(k, a), nt, [&](index_t i0, index_t i1, int chunk) {
          e.run(k, a, j, Wmem, lanes + chunk * e.lane_elems, i0, i1);
        });
      }
    }
  }
};

MriToeplitzCpu::MriToeplitzCpu(int dim, const std::int64_t* N, const std::int64_t* G, bool f32) : impl_(new Impl) {
  if (dim < 1 || dim > 3) throw OpFailure("INVALID_ARGUMENT", "mri toeplitz: the image must have 1 to 3 axes");
  for (int a = 0; a < dim; ++a) {
    if (N[a] < 1) throw OpFailure("INVALID_ARGUMENT", "mri toeplitz: image sizes must be positive");
    if (G[a] < 2 * N[a] - 1) throw OpFailure("INVALID_ARGUMENT", "mri toeplitz: the grid must be at least 2N − 1 per axis");
    if (!fft_is_smooth235(G[a])) {
      throw OpFailure("INVALID_ARGUMENT", "mri toeplitz: grid size " + std::to_string(G[a]) + " is not 2,3,5-smooth");
    }
    impl_->G[a] = G[a];
  }
  impl_->d = dim;
  impl_->f32 = f32;
  if (f32) impl_->ef.reset(new ToepEngine<float>(dim, N, G));
  else impl_->ed.reset(new ToepEngine<double>(dim, N, G));
}

MriToeplitzCpu::~MriToeplitzCpu() = default;

void MriToeplitzCpu::apply(const MriToeplitzCall& c, int threads) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->f32) impl_->apply<float>(*impl_->ef, impl_->poolf, c, threads);
  else impl_->apply<double>(*impl_->ed, impl_->poold, c, threads);
}

void MriToeplitzCpu::set_kernel(double* k, void* khat, std::int64_t P, double scale, int threads) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const std::vector<std::int64_t> shape(impl_->G, impl_->G + impl_->d);
  std::int64_t ngrid = 1;
  for (std::int64_t g : shape) ngrid *= g;
  FftNd<double>(shape, -1).execute(k, P, threads);
  if (impl_->f32) cast<double, float>(2 * P * ngrid, scale, k, static_cast<float*>(khat), threads);
  else cast<double, double>(2 * P * ngrid, scale, k, static_cast<double*>(khat), threads);
}

void MriToeplitzCpu::release() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->poolf.clear();
  impl_->poolf.shrink_to_fit();
  impl_->poold.clear();
  impl_->poold.shrink_to_fit();
}

template <typename T>
void mri_ew_cpu(const MriEwArgs& a, const T* map, const T* in, T* out, int threads) {
  switch (a.op) {
    case MriOp::Expand: expand<T>(a, map, in, out, threads); break;
    case MriOp::Combine: combine<T>(a, map, in, out, threads); break;
    case MriOp::Weight: weight<T>(a, map, in, out, threads); break;
    default: throw OpFailure("INVALID_ARGUMENT", "mri: mri_ew_cpu takes expand, combine or weight");
  }
}

void mri_cast_cpu(const MriEwArgs& a, const void* in, void* out, int threads) {
  if (a.in_f32 && a.out_f32) cast(a.N, a.scale, static_cast<const float*>(in), static_cast<float*>(out), threads);
  else if (a.in_f32) cast(a.N, a.scale, static_cast<const float*>(in), static_cast<double*>(out), threads);
  else if (a.out_f32) cast(a.N, a.scale, static_cast<const double*>(in), static_cast<float*>(out), threads);
  else cast(a.N, a.scale, static_cast<const double*>(in), static_cast<double*>(out), threads);
}

template void mri_ew_cpu<float>(const MriEwArgs&, const float*, const float*, float*, int);
template void mri_ew_cpu<double>(const MriEwArgs&, const double*, const double*, double*, int);

}  // namespace rk
