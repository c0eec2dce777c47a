// Native (multi-threaded C++) gridding: spread, interp (d = 1..3, optional fused gradient) and
// Pipe–Menon density compensation; see cuda/gridding.h for the conventions.
//
// Points are folded to grid coordinates and counting-sorted (stable, so the order does not depend
// on the thread count) by slab of the slowest axis, then by 16-cell (8 in 3-D) bins of the other
// axes for cache locality. A slab is S ≥ w − 1 rows of kernel start indices (the last slab takes
// the remainder), so a slab's points touch only its own rows and the first w − 1 rows of the next
// slab. Spreading therefore runs in phases: even slabs, then odd slabs (then the last slab alone
// when the slab count is odd, since it wraps onto slab 0); slabs within a phase write disjoint
// rows, so threads add straight into the grid with no atomics, no locks and no private copies.
// Every grid cell receives its contributions in one fixed order (phase, then sorted point order),
// so results are bit-identical run to run and across thread counts. Interpolation is parallel over
// sorted points. Everything is computed in float64 and rounded once to the storage type.
#include "gridding.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gridding_math.cuh"
#include "parallel_for.h"
#include "width_dispatch.h"

#include "op_failure.h"

namespace rk {

namespace {

using gridm::kMaxWidth;

// ---------------------------------------------------------------------------------------------
// Geometry, padded to 3 axes (padded axis pa = pad + a carries point row a).
struct Geo {
  int d = 1, pad = 2, w = 2, deg = 0, rows = 1, ntransf = 1, threads = 1;
  bool grad = false;
  std::int64_t n[3] = {1, 1, 1};
  int wa[3] = {1, 1, 1};
  double dscale[3] = {0, 0, 0};
  std::int64_t M = 0, ngrid = 1;
  const double* coeffs = nullptr;
  const double* dcoeffs = nullptr;
  std::int64_t S = 1, ns = 1;  // slab rows and slab count on the slowest real axis (pad)
};

Geo make_geo(const GriddingOptions& o) {
  Geo g;
  g.d = o.dim;
  g.pad = 3 - o.dim;
  g.w = o.width;
  g.deg = o.degree;
  g.grad = o.gradient;
  g.rows = o.gradient ? 1 + o.dim : 1;
  g.ntransf = o.ntransf;
  g.threads = resolve_threads(o.threads);
  g.M = o.M;
  g.coeffs = o.coeffs.data();
  g.dcoeffs = o.dcoeffs.data();
  for (int a = 0; a < o.dim; ++a) {
    const int pa = g.pad + a;
    g.n[pa] = o.grid[a];
    g.wa[pa] = o.width;
    g.dscale[pa] = nufftm::deriv_scale(o.width, static_cast<double>(o.grid[a]));
    g.ngrid *= o.grid[a];
  }
  // Slab rows: at least w − 1 (the phase argument needs it); more in low dimensions, where a row
  // holds little work. Independent of the thread count, so the summation order is too.
  const int base = o.dim == 1 ? 64 : o.dim == 2 ? 8 : 4;
  g.S = std::max(o.width - 1, base);
  g.ns = std::max<std::int64_t>(1, g.n[g.pad] / g.S);
  return g;
}

// Phase of slab s: slabs of one phase write disjoint rows (see the file comment).
int slab_phase(const Geo& g, std::int64_t s) {
  if (g.ns > 1 && g.ns % 2 == 1 && s == g.ns - 1) return 2;
  return static_cast<int>(s % 2);
}

// ---------------------------------------------------------------------------------------------
// Sorting.
struct Sorted {
  std::vector<std::uint32_t> order;  // sorted position -> input index
  std::vector<double> ys;            // [d][M] grid coordinates in sorted order
  std::vector<std::int64_t> slab;    // [ns + 1]: sorted range of each slab
};

template <typename P>
void sort_points(const Geo& g, const P* pts, Sorted& s) {
  const int d = g.d, pad = g.pad;
  const std::int64_t M = g.M;
  const std::int64_t bs = d == 3 ? 8 : 16;
  std::int64_t nb[3] = {1, 1, 1}, nbr = 1;
  for (int pa = pad + 1; pa < 3; ++pa) {
    nb[pa] = (g.n[pa] + bs - 1) / bs;
    nbr *= nb[pa];
  }
  const std::int64_t nbins = g.ns * nbr;
  // Histogram chunks: any count gives the same (stable) order; bounded so the tables stay small.
  std::int64_t C = std::min<std::int64_t>(g.threads, std::max<std::int64_t>(1, M / 16384));
  C = std::max<std::int64_t>(1, std::min<std::int64_t>(C, (std::int64_t(1) << 24) / std::max<std::int64_t>(nbins, 1)));
  auto lo = [&](std::int64_t c) { return M * c / C; };

  std::vector<double> y(static_cast<size_t>(d * M));
  std::vector<std::uint32_t> key(static_cast<size_t>(M));
  std::vector<std::uint32_t> hist(static_cast<size_t>(C * nbins), 0);
  std::vector<std::int64_t> bad(static_cast<size_t>(C), -1);
  parallel_for(C, static_cast<int>(C), [&](std::int64_t c0, std::int64_t c1, int) {
    for (std::int64_t c = c0; c < c1; ++c) {
      std::uint32_t* h = hist.data() + c * nbins;
      for (std::int64_t j = lo(c); j < lo(c + 1); ++j) {
        std::int64_t k = 0;
        for (int a = 0; a < d; ++a) {
          const int pa = pad + a;
          const double x = static_cast<double>(pts[a * M + j]);
          if (!std::isfinite(x)) {
            const std::int64_t flat = a * M + j;
            if (bad[c] < 0 || flat < bad[c]) bad[c] = flat;
            k = 0;
            break;
          }
          const double yy = nufftm::fold(x, static_cast<double>(g.n[pa]));
          y[a * M + j] = yy;
          if (a == 0) {
            int i0;
            double u;
            nufftm::kernel_start(yy, g.w, i0, u);
            const std::int64_t r = nufftm::wrap_near(i0, g.n[pa]);
            k = std::min<std::int64_t>(r / g.S, g.ns - 1);
          } else {
            k = k * nb[pa] + std::min<std::int64_t>(nb[pa] - 1, static_cast<std::int64_t>(yy / bs));
          }
        }
        key[j] = static_cast<std::uint32_t>(k);
        h[k]++;
      }
    }
  }, 1);
  std::int64_t first_bad = -1;
  for (std::int64_t b : bad)
    if (b >= 0 && (first_bad < 0 || b < first_bad)) first_bad = b;
  if (first_bad >= 0) {
    const std::int64_t a = first_bad / M, j = first_bad % M;
    const double x = static_cast<double>(pts[first_bad]);
    const char* what = std::isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";  // as JavaScript prints them
    throw OpFailure("NON_FINITE", "gridding: points[" + std::to_string(a) + ", " + std::to_string(j) + "] is " + what +
                                      "; coordinates must be finite");
  }
  // Exclusive offsets, bin-major then chunk: the stable order of a sequential counting sort.
  s.slab.assign(static_cast<size_t>(g.ns + 1), M);
  std::uint32_t run = 0;
  for (std::int64_t k = 0; k < nbins; ++k) {
    if (k % nbr == 0) s.slab[static_cast<size_t>(k / nbr)] = run;
    for (std::int64_t c = 0; c < C; ++c) {
      std::uint32_t& h = hist[c * nbins + k];
      const std::uint32_t cnt = h;
      h = run;
      run += cnt;
    }
  }
  s.order.assign(static_cast<size_t>(M), 0);
  parallel_for(C, static_cast<int>(C), [&](std::int64_t c0, std::int64_t c1, int) {
    for (std::int64_t c = c0; c < c1; ++c) {
      std::uint32_t* h = hist.data() + c * nbins;
      for (std::int64_t j = lo(c); j < lo(c + 1); ++j) s.order[h[key[j]]++] = static_cast<std::uint32_t>(j);
    }
  }, 1);
  s.ys.assign(static_cast<size_t>(d * M), 0.0);
  parallel_for(M, g.threads, [&](std::int64_t p0, std::int64_t p1, int) {
    for (int a = 0; a < d; ++a)
      for (std::int64_t p = p0; p < p1; ++p) s.ys[a * M + p] = y[a * M + s.order[p]];
  }, 4096);
}

// ---------------------------------------------------------------------------------------------
// Per-point kernel values.
struct PK {
  alignas(64) double k[3][kMaxWidth];
  alignas(64) double dk[3][kMaxWidth];
  std::int64_t idx[3][kMaxWidth];  // wrapped tap indices (axis 2: only when it wraps)
  int i0[3];
  bool contiguous;  // the fastest axis's taps do not wrap
};

template <int W>
RK_FORCEINLINE void eval_point(const Geo& g, const double* ys, std::int64_t pi, PK& pk) {
  for (int pa = 0; pa < g.pad; ++pa) {
    pk.k[pa][0] = 1;
    pk.dk[pa][0] = 0;
    pk.idx[pa][0] = 0;
    pk.i0[pa] = 0;
  }
  double u[3] = {0, 0, 0};
  for (int pa = g.pad; pa < 3; ++pa) nufftm::kernel_start(ys[(pa - g.pad) * g.M + pi], W, pk.i0[pa], u[pa]);
  const double* c = g.coeffs;
  const double* dc = g.dcoeffs;
  switch (g.pad + (g.grad ? 3 : 0)) {
    case 0: gridm::axes_weights<W, 0, false>(c, dc, g.deg, u, g.dscale, pk.k, pk.dk); break;
    case 1: gridm::axes_weights<W, 1, false>(c, dc, g.deg, u, g.dscale, pk.k, pk.dk); break;
    case 2: gridm::axes_weights<W, 2, false>(c, dc, g.deg, u, g.dscale, pk.k, pk.dk); break;
    case 3: gridm::axes_weights<W, 0, true>(c, dc, g.deg, u, g.dscale, pk.k, pk.dk); break;
    case 4: gridm::axes_weights<W, 1, true>(c, dc, g.deg, u, g.dscale, pk.k, pk.dk); break;
    default: gridm::axes_weights<W, 2, true>(c, dc, g.deg, u, g.dscale, pk.k, pk.dk); break;
  }
  for (int pa = g.pad; pa < 2; ++pa)
    for (int q = 0; q < W; ++q) pk.idx[pa][q] = gridm::tap_index(pk.i0[pa], q, g.n[pa]);
  const int s2 = pk.i0[2];
  pk.contiguous = s2 >= 0 && s2 + W <= g.n[2];
  if (!pk.contiguous)
    for (int q = 0; q < W; ++q) pk.idx[2][q] = gridm::tap_index(s2, q, g.n[2]);
}

// Points are visited in sorted order, so their strengths / values (input order) are random
// accesses: fetch those of a point kPrefetch positions ahead (its first few rows and transforms).
constexpr std::int64_t kPrefetch = 16;

template <typename T>
RK_FORCEINLINE void prefetch_rows(const Geo& g, const T* base, std::int64_t j, bool write) {
  const int nt = std::min(g.ntransf, 4);
  for (int t = 0; t < nt; ++t)
    for (int r = 0; r < g.rows; ++r) {
      const T* p = base + 2 * ((static_cast<std::int64_t>(t) * g.rows + r) * g.M + j);
      if (write) __builtin_prefetch(p, 1);
      else __builtin_prefetch(p, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Spreading of the sorted points [b, e) into acc [ntransf][n0][n1][n2] (complex, float64).
template <int W, typename T>
void spread_range(const Geo& g, const Sorted& s, std::int64_t b, std::int64_t e, const T* __restrict__ str,
                  double* __restrict__ acc) {
  const int w0 = g.wa[0], w1 = g.wa[1];
  const std::int64_t n1 = g.n[1], n2 = g.n[2], M = g.M, gsz = 2 * g.ngrid;
  PK pk{};
  alignas(64) double P[2 * W], K2[2 * W], D2[2 * W];
  for (std::int64_t pi = b; pi < e; ++pi) {
    const std::int64_t j = s.order[pi];
    if (pi + kPrefetch < e) prefetch_rows(g, str, s.order[pi + kPrefetch], false);
    eval_point<W>(g, s.ys.data(), pi, pk);
    const double* k2 = pk.k[2];
    const double* dk2 = pk.dk[2];
    const std::int64_t off2 = pk.contiguous ? 2 * pk.i0[2] : 0;
    const std::int64_t* idx2 = pk.idx[2];
    for (int t = 0; t < g.ntransf; ++t) {
      const T* sp = str + 2 * (static_cast<std::int64_t>(t) * g.rows * M + j);
      const double cr = sp[0], ci = sp[1];
      double* G = acc + t * gsz;
      if (!g.grad) {
        for (int q = 0; q < W; ++q) {
          P[2 * q] = cr * k2[q];
          P[2 * q + 1] = ci * k2[q];
        }
        for (int a = 0; a < w0; ++a) {
          const double k0 = pk.k[0][a];
          const std::int64_t o0 = pk.idx[0][a] * n1;
          for (int bb = 0; bb < w1; ++bb) {
            const double s01 = k0 * pk.k[1][bb];
            double* row = G + 2 * (o0 + pk.idx[1][bb]) * n2;
            if (pk.contiguous) {
              double* r = row + off2;
              for (int q = 0; q < 2 * W; ++q) r[q] += s01 * P[q];
            } else {
              for (int q = 0; q < W; ++q) {
                row[2 * idx2[q]] += s01 * P[2 * q];
                row[2 * idx2[q] + 1] += s01 * P[2 * q + 1];
              }
            }
          }
        }
        continue;
      }
      // Gradient strengths of the real axes on their padded axes (zero on dummy axes).
      double gr[3] = {0, 0, 0}, gi[3] = {0, 0, 0};
      for (int a = 0; a < g.d; ++a) {
        gr[g.pad + a] = sp[2 * (1 + a) * M];
        gi[g.pad + a] = sp[2 * (1 + a) * M + 1];
      }
      for (int q = 0; q < W; ++q) {
        K2[2 * q] = K2[2 * q + 1] = k2[q];
        D2[2 * q] = D2[2 * q + 1] = dk2[q];
      }
      for (int a = 0; a < w0; ++a) {
        const double k0 = pk.k[0][a], d0 = pk.dk[0][a];
        // Row (a, b) receives A⊗k2 + B⊗dk2 with A = (c·k0 + g0·dk0)·k1 + g1·k0·dk1, B = g2·k0·k1.
        const double Vr = cr * k0 + gr[0] * d0, Vi = ci * k0 + gi[0] * d0;
        const double G1r = gr[1] * k0, G1i = gi[1] * k0, G2r = gr[2] * k0, G2i = gi[2] * k0;
        const std::int64_t o0 = pk.idx[0][a] * n1;
        for (int bb = 0; bb < w1; ++bb) {
          const double k1 = pk.k[1][bb], d1 = pk.dk[1][bb];
          const double Ar = Vr * k1 + G1r * d1, Ai = Vi * k1 + G1i * d1;
          const double Br = G2r * k1, Bi = G2i * k1;
          double* row = G + 2 * (o0 + pk.idx[1][bb]) * n2;
          if (pk.contiguous) {
            double* r = row + off2;
            for (int q = 0; q < 2 * W; q += 2) {
              r[q] += Ar * K2[q] + Br * D2[q];
              r[q + 1] += Ai * K2[q + 1] + Bi * D2[q + 1];
            }
          } else {
            for (int q = 0; q < W; ++q) {
              row[2 * idx2[q]] += Ar * k2[q] + Br * dk2[q];
              row[2 * idx2[q] + 1] += Ai * k2[q] + Bi * dk2[q];
            }
          }
        }
      }
    }
  }
}

// Zeroes acc and spreads every point, slab phase by slab phase (see the file comment).
template <int W, typename T>
void spread_all(const Geo& g, const Sorted& s, const T* str, double* acc) {
  const std::int64_t total = 2 * g.ngrid * g.ntransf;
  parallel_for(total, g.threads, [&](std::int64_t i0, std::int64_t i1, int) { std::fill(acc + i0, acc + i1, 0.0); }, 1 << 16);
  for (int phase = 0; phase < 3; ++phase) {
    std::vector<std::int64_t> list;
    for (std::int64_t sb = 0; sb < g.ns; ++sb)
      if (slab_phase(g, sb) == phase && s.slab[sb + 1] > s.slab[sb]) list.push_back(sb);
    if (list.empty()) continue;
    // Largest slabs first (radial trajectories crowd the centre); the order only affects timing.
    std::stable_sort(list.begin(), list.end(), [&](std::int64_t x, std::int64_t y) {
      return s.slab[x + 1] - s.slab[x] > s.slab[y + 1] - s.slab[y];
    });
    std::atomic<size_t> next{0};
    const int workers = static_cast<int>(std::min<size_t>(static_cast<size_t>(g.threads), list.size()));
    parallel_for(workers, workers, [&](std::int64_t, std::int64_t, int) {
      for (size_t i; (i = next.fetch_add(1)) < list.size();) {
        const std::int64_t sb = list[i];
        spread_range<W, T>(g, s, s.slab[sb], s.slab[sb + 1], str, acc);
      }
    }, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Interpolation of the sorted points [b, e) from grid [ntransf][n0][n1][n2] (complex, type G).
template <int W, typename G, typename T>
void interp_range(const Geo& g, const Sorted& s, std::int64_t b, std::int64_t e, const G* __restrict__ grid,
                  T* __restrict__ out) {
  const int w0 = g.wa[0], w1 = g.wa[1];
  const std::int64_t n1 = g.n[1], n2 = g.n[2], M = g.M, gsz = 2 * g.ngrid;
  PK pk{};
  for (std::int64_t pi = b; pi < e; ++pi) {
    const std::int64_t j = s.order[pi];
    if (pi + kPrefetch < e) prefetch_rows(g, out, s.order[pi + kPrefetch], true);
    eval_point<W>(g, s.ys.data(), pi, pk);
    const double* k2 = pk.k[2];
    const double* dk2 = pk.dk[2];
    const std::int64_t off2 = pk.contiguous ? 2 * pk.i0[2] : 0;
    const std::int64_t* idx2 = pk.idx[2];
    for (int t = 0; t < g.ntransf; ++t) {
      const G* Gt = grid + t * gsz;
      T* op = out + 2 * (static_cast<std::int64_t>(t) * g.rows * M + j);
      if (!g.grad) {
        double vr = 0, vi = 0;
        for (int a = 0; a < w0; ++a) {
          const std::int64_t o0 = pk.idx[0][a] * n1;
          double ar = 0, ai = 0;
          for (int bb = 0; bb < w1; ++bb) {
            const G* row = Gt + 2 * (o0 + pk.idx[1][bb]) * n2;
            double sr = 0, si = 0;
            if (pk.contiguous) {
              const G* r = row + off2;
              for (int q = 0; q < W; ++q) {
                sr += static_cast<double>(r[2 * q]) * k2[q];
                si += static_cast<double>(r[2 * q + 1]) * k2[q];
              }
            } else {
              for (int q = 0; q < W; ++q) {
                sr += static_cast<double>(row[2 * idx2[q]]) * k2[q];
                si += static_cast<double>(row[2 * idx2[q] + 1]) * k2[q];
              }
            }
            const double k1 = pk.k[1][bb];
            ar += sr * k1;
            ai += si * k1;
          }
          const double k0 = pk.k[0][a];
          vr += ar * k0;
          vi += ai * k0;
        }
        op[0] = static_cast<T>(vr);
        op[1] = static_cast<T>(vi);
        continue;
      }
      double vr = 0, vi = 0, dr[3] = {0, 0, 0}, di[3] = {0, 0, 0};
      for (int a = 0; a < w0; ++a) {
        const std::int64_t o0 = pk.idx[0][a] * n1;
        // Per plane: value, ∂ along axis 1 and ∂ along axis 2.
        double ar = 0, ai = 0, e1r = 0, e1i = 0, e2r = 0, e2i = 0;
        for (int bb = 0; bb < w1; ++bb) {
          const G* row = Gt + 2 * (o0 + pk.idx[1][bb]) * n2;
          double sr = 0, si = 0, tr = 0, ti = 0;
          for (int q = 0; q < W; ++q) {
            const std::int64_t o = pk.contiguous ? off2 + 2 * q : 2 * idx2[q];
            const double gr = static_cast<double>(row[o]), gi = static_cast<double>(row[o + 1]);
            sr += gr * k2[q];
            si += gi * k2[q];
            tr += gr * dk2[q];
            ti += gi * dk2[q];
          }
          const double k1 = pk.k[1][bb], d1 = pk.dk[1][bb];
          ar += sr * k1;
          ai += si * k1;
          e1r += sr * d1;
          e1i += si * d1;
          e2r += tr * k1;
          e2i += ti * k1;
        }
        const double k0 = pk.k[0][a], d0 = pk.dk[0][a];
        vr += ar * k0;
        vi += ai * k0;
        dr[0] += ar * d0;
        di[0] += ai * d0;
        dr[1] += e1r * k0;
        di[1] += e1i * k0;
        dr[2] += e2r * k0;
        di[2] += e2i * k0;
      }
      op[0] = static_cast<T>(vr);
      op[1] = static_cast<T>(vi);
      for (int a = 0; a < g.d; ++a) {
        op[2 * (1 + a) * M] = static_cast<T>(dr[g.pad + a]);
        op[2 * (1 + a) * M + 1] = static_cast<T>(di[g.pad + a]);
      }
    }
  }
}

template <typename Fn>
void dispatch_w(int w, Fn&& fn) {
  dispatch_width(w, fn, [w] { throw OpFailure("INVALID_ARGUMENT", "gridding: width " + std::to_string(w) + " is outside 2..16"); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
void gridding_validate(const GriddingOptions& o) {
  if (o.dim < 1 || o.dim > 3) throw OpFailure("INVALID_ARGUMENT", "gridding: dim must be 1, 2 or 3, got " + std::to_string(o.dim));
  if (o.width < 2 || o.width > kMaxWidth) {
    throw OpFailure("INVALID_ARGUMENT", "gridding: width must be an integer from 2 to 16, got " + std::to_string(o.width));
  }
  if (o.degree < 0 || o.degree > gridm::kMaxDegree) throw OpFailure("INVALID_ARGUMENT", "gridding: kernel degree must be 0..30, got " + std::to_string(o.degree));
  const size_t nc = static_cast<size_t>(o.degree + 1) * static_cast<size_t>(o.width);
  if (o.coeffs.size() != nc || o.dcoeffs.size() != nc) {
    throw OpFailure("INVALID_ARGUMENT", "gridding: the kernel tables must hold (degree + 1)·width = " + std::to_string(nc) + " coefficients");
  }
  for (size_t i = 0; i < nc; ++i)
    if (!std::isfinite(o.coeffs[i]) || !std::isfinite(o.dcoeffs[i])) throw OpFailure("INVALID_ARGUMENT", "gridding: kernel coefficients must be finite");
  if (o.M < 0) throw OpFailure("INVALID_ARGUMENT", "gridding: M must be ≥ 0");
  if (o.M >= (std::int64_t(1) << 32) - 1) throw OpFailure("SIZE_TOO_LARGE", "gridding: M = " + std::to_string(o.M) + " exceeds 2^32 - 2 points");
  if (o.ntransf < 0) throw OpFailure("INVALID_ARGUMENT", "gridding: ntransf must be ≥ 0");
  double total = 2.0 * std::max(o.ntransf, 1);
  for (int a = 0; a < o.dim; ++a) {
    if (o.grid[a] < o.width) {
      throw OpFailure("INVALID_ARGUMENT", "gridding: grid size " + std::to_string(o.grid[a]) + " is smaller than the kernel width " + std::to_string(o.width));
    }
    if (o.grid[a] > (std::int64_t(1) << 30)) throw OpFailure("SIZE_TOO_LARGE", "gridding: grid size " + std::to_string(o.grid[a]) + " exceeds 2^30");
    total *= static_cast<double>(o.grid[a]);
  }
  if (total > 9007199254740992.0) throw OpFailure("SIZE_TOO_LARGE", "gridding: the grid holds more than 2^53 values");
}

std::int64_t gridding_point_reals(const GriddingOptions& o) {
  return 2 * static_cast<std::int64_t>(o.ntransf) * (o.gradient ? 1 + o.dim : 1) * o.M;
}

std::int64_t gridding_grid_reals(const GriddingOptions& o) {
  std::int64_t n = 2 * static_cast<std::int64_t>(o.ntransf);
  for (int a = 0; a < o.dim; ++a) n *= o.grid[a];
  return n;
}

template <typename T>
void gridding_spread_cpu(const GriddingOptions& o, const T* points, const T* strengths, T* grid) {
  gridding_validate(o);
  const Geo g = make_geo(o);
  const std::int64_t total = gridding_grid_reals(o);
  if (g.M == 0 || g.ntransf == 0) {
    parallel_for(total, g.threads, [&](std::int64_t i0, std::int64_t i1, int) { std::fill(grid + i0, grid + i1, T(0)); }, 1 << 16);
    return;
  }
  Sorted s;
  sort_points(g, points, s);
  std::vector<double> scratch;
  double* acc;
  if constexpr (std::is_same<T, double>::value) {
    acc = grid;
  } else {
    scratch.resize(static_cast<size_t>(total));
    acc = scratch.data();
  }
  dispatch_w(g.w, [&](auto wc) { spread_all<decltype(wc)::value, T>(g, s, strengths, acc); });
  if constexpr (!std::is_same<T, double>::value) {
    parallel_for(total, g.threads, [&](std::int64_t i0, std::int64_t i1, int) {
      for (std::int64_t i = i0; i < i1; ++i) grid[i] = static_cast<T>(acc[i]);
    }, 1 << 16);
  }
}

template <typename T>
void gridding_interp_cpu(const GriddingOptions& o, const T* points, const T* grid, T* out) {
  gridding_validate(o);
  const Geo g = make_geo(o);
  if (g.M == 0 || g.ntransf == 0) return;
  Sorted s;
  sort_points(g, points, s);
  dispatch_w(g.w, [&](auto wc) {
    parallel_for(g.M, g.threads, [&](std::int64_t b, std::int64_t e, int) {
      interp_range<decltype(wc)::value, T, T>(g, s, b, e, grid, out);
    }, 1024);
  });
}

template <typename T>
void gridding_dcf_cpu(const GriddingOptions& o0, std::int64_t sets, const T* points, T* weights, int iterations,
                      double scale) {
  GriddingOptions o = o0;
  o.ntransf = 1;
  o.gradient = false;
  gridding_validate(o);
  if (sets < 0) throw OpFailure("INVALID_ARGUMENT", "gridding: the number of point sets must be ≥ 0");
  if (iterations < 1) throw OpFailure("INVALID_ARGUMENT", "gridding: iterations must be ≥ 1");
  const Geo g = make_geo(o);
  const std::int64_t M = g.M;
  if (M == 0 || sets == 0) return;
  std::vector<double> wv(static_cast<size_t>(2 * M)), v(static_cast<size_t>(2 * M)), grid(static_cast<size_t>(2 * g.ngrid));
  Sorted s;
  for (std::int64_t p = 0; p < sets; ++p) {
    sort_points(g, points + p * g.d * M, s);
    for (std::int64_t j = 0; j < M; ++j) {
      wv[2 * j] = 1;
      wv[2 * j + 1] = 0;
    }
    dispatch_w(g.w, [&](auto wc) {
      constexpr int W = decltype(wc)::value;
      for (int it = 0; it < iterations; ++it) {
        spread_all<W, double>(g, s, wv.data(), grid.data());
        parallel_for(M, g.threads, [&](std::int64_t b, std::int64_t e, int) {
          interp_range<W, double, double>(g, s, b, e, grid.data(), v.data());
        }, 1024);
        parallel_for(M, g.threads, [&](std::int64_t b, std::int64_t e, int) {
          for (std::int64_t j = b; j < e; ++j) wv[2 * j] = gridm::pipe_menon(wv[2 * j], v[2 * j], v[2 * j + 1]);
        }, 1 << 14);
      }
    });
    T* wp = weights + p * M;
    for (std::int64_t j = 0; j < M; ++j) wp[j] = static_cast<T>(wv[2 * j] * scale);
  }
}

template void gridding_spread_cpu<float>(const GriddingOptions&, const float*, const float*, float*);
template void gridding_spread_cpu<double>(const GriddingOptions&, const double*, const double*, double*);
template void gridding_interp_cpu<float>(const GriddingOptions&, const float*, const float*, float*);
template void gridding_interp_cpu<double>(const GriddingOptions&, const double*, const double*, double*);
template void gridding_dcf_cpu<float>(const GriddingOptions&, std::int64_t, const float*, float*, int, double);
template void gridding_dcf_cpu<double>(const GriddingOptions&, std::int64_t, const double*, double*, int, double);

}  // namespace rk
