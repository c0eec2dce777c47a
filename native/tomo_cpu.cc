// Native (CPU) parallel-beam tomography: Joseph forward projector and its exact transpose, the
// FBP line filter, and the TV pieces of tvMin. Multi-threaded and deterministic (every output
// element is written by one work unit, in a fixed order, whatever the thread count).
// Per-element math: cuda/tomo_math.cuh (shared with the CUDA kernels).
//
// Forward: ray-driven, parallel over (detector row, angle) lines.
// Adjoint: ray-driven scatter without races: a work unit owns a block of image rows of one
// slice and, for every (row, angle) line, adds the contributions of exactly those taps that land
// in its rows (for angles that step over columns it computes, per column, the detector range
// that can reach its rows). The weights are those of the forward, evaluated by the same code.
// With gather = true the adjoint instead runs the CUDA kernel's voxel-driven gather (testing).
#include <algorithm>
#include <cstring>
#include <vector>

#include "parallel_for.h"
#include "tomo.h"
#include "tomo_math.cuh"

namespace rk {
namespace {

using tomo::Angle;

constexpr index_t kRowBlock = 4;  // fewest image rows per adjoint work unit

template <typename T>
std::vector<Angle<T>> load_angles(const TomoProblem& p, const double* geom) {
  std::vector<Angle<T>> v(static_cast<size_t>(p.A));
  for (index_t k = 0; k < p.A; ++k) v[k] = tomo::load_angle<T>(geom, k);
  return v;
}

template <typename T>
void forward(const TomoProblem& p, const T* vol, T* sino, const double* geom, int threads) {
  const std::vector<Angle<T>> angles = load_angles<T>(p, geom);
  const index_t Y = p.Y, X = p.X, U = p.U, A = p.A, slice = Y * X;
  parallel_for(p.R * A, threads, [&](index_t b, index_t e, int) {
    for (index_t l = b; l < e; ++l) {
      const index_t r = l / A, k = l - r * A;
      const tomo::RowTaps rt = tomo::load_row(geom, A, r);
      const Angle<T>& an = angles[k];
      T* line = sino + l * U;
      for (index_t u = 0; u < U; ++u) {
        T v = T(0);
        if (rt.z0 >= 0) v += T(rt.w0) * tomo::ray_sum(an, u, vol + rt.z0 * slice, Y, X);
        if (rt.z1 >= 0) v += T(rt.w1) * tomo::ray_sum(an, u, vol + rt.z1 * slice, Y, X);
        line[u] = v;
      }
    }
  }, 1);
}

template <typename T>
void adjoint_scatter(const TomoProblem& p, const T* sino, T* vol, const double* geom, int threads) {
  const std::vector<Angle<T>> angles = load_angles<T>(p, geom);
  const index_t Y = p.Y, X = p.X, U = p.U, A = p.A, R = p.R;
  const double* zoff = geom + 5 * A + 4 * R;
  const double* ent = zoff + p.Z + 1;
  // Bigger blocks amortise the per-column range computations of axis-1 angles; aim at about 8
  // units per thread. The result does not depend on the blocking (each voxel sums its
  // contributions in (row, angle, u) order whatever the block).
  const index_t units = 8 * static_cast<index_t>(resolve_threads(threads));
  const index_t rb = std::min(Y, std::max(kRowBlock, (p.Z * Y + units - 1) / units));
  const index_t nb = (Y + rb - 1) / rb;
  parallel_for(p.Z * nb, threads, [&](index_t b, index_t e, int) {
    for (index_t unit = b; unit < e; ++unit) {
      const index_t z = unit / nb, j0 = (unit - z * nb) * rb, j1 = std::min(Y, j0 + rb);
      T* img = vol + z * Y * X;
      std::fill(img + j0 * X, img + j1 * X, T(0));
      const index_t e0 = static_cast<index_t>(zoff[z]), e1 = static_cast<index_t>(zoff[z + 1]);
      for (index_t q = e0; q < e1; ++q) {
        const index_t r = static_cast<index_t>(ent[2 * q]);
        const T wr = T(ent[2 * q + 1]);
        for (index_t k = 0; k < A; ++k) {
          const Angle<T>& an = angles[k];
          const T* line = sino + (r * A + k) * U;
          const T scale = wr * an.L;
          if (an.axis == 0) {
            for (index_t j = j0; j < j1; ++j) {
              const T bs = tomo::bs_of(an, j);
              index_t u0, u1;
              tomo::column_range(an, bs, 0, X, U, u0, u1);
              T* row = img + j * X;
              index_t v0, v1;
              tomo::interior_columns(an, bs, X, u0, u1, v0, v1);
              for (index_t u = u0; u <= u1; ++u) {
                if (u == v0) {
                  for (; u <= v1; ++u) {  // both taps inside, floor = trunc
                    const T f = tomo::coord(an, u, bs);
                    const index_t i0 = static_cast<index_t>(f);
                    const T w = f - T(i0), sv = scale * line[u];
                    row[i0] += (T(1) - w) * sv;
                    row[i0 + 1] += w * sv;
                  }
                  if (u > u1) break;
                }
                const T f = tomo::coord(an, u, bs);
                const T fl = tomo::tfloor(f);
                const index_t i0 = static_cast<index_t>(fl);
                const T w = f - fl, sv = scale * line[u];
                if (i0 >= 0 && i0 < X) row[i0] += (T(1) - w) * sv;
                if (i0 + 1 >= 0 && i0 + 1 < X) row[i0 + 1] += w * sv;
              }
            }
          } else {
            for (index_t i = 0; i < X; ++i) {
              const T bs = tomo::bs_of(an, i);
              index_t u0, u1;
              tomo::column_range(an, bs, j0, j1, U, u0, u1);
              for (index_t u = u0; u <= u1; ++u) {
                const T f = tomo::coord(an, u, bs);
                const T fl = tomo::tfloor(f);
                const index_t y0 = static_cast<index_t>(fl);
                const T w = f - fl, sv = scale * line[u];
                if (y0 >= j0 && y0 < j1) img[y0 * X + i] += (T(1) - w) * sv;
                if (y0 + 1 >= j0 && y0 + 1 < j1) img[(y0 + 1) * X + i] += w * sv;
              }
            }
          }
        }
      }
    }
  }, 1);
}

template <typename T>
void adjoint_gather(const TomoProblem& p, const T* sino, T* vol, const double* geom, int threads) {
  const std::vector<Angle<T>> angles = load_angles<T>(p, geom);
  const index_t Y = p.Y, X = p.X, U = p.U, A = p.A, R = p.R;
  const double* zoff = geom + 5 * A + 4 * R;
  const double* ent = zoff + p.Z + 1;
  parallel_for(p.Z * Y, threads, [&](index_t b, index_t e, int) {
    for (index_t zy = b; zy < e; ++zy) {
      const index_t z = zy / Y, j = zy - z * Y;
      const index_t e0 = static_cast<index_t>(zoff[z]), e1 = static_cast<index_t>(zoff[z + 1]);
      for (index_t i = 0; i < X; ++i) {
        T acc = T(0);
        for (index_t q = e0; q < e1; ++q) {
          const index_t r = static_cast<index_t>(ent[2 * q]);
          T s = T(0);
          for (index_t k = 0; k < A; ++k) s += tomo::voxel_gather(angles[k], j, i, sino + (r * A + k) * U, U);
          acc += T(ent[2 * q + 1]) * s;
        }
        vol[zy * X + i] = acc;
      }
    }
  }, 1);
}

template <typename T>
void filter(const TomoProblem& p, const T* in, T* out, const T* filt, int threads) {
  const index_t U = p.U, N = p.N;
  parallel_for(p.lines, threads, [&](index_t b, index_t e, int) {
    for (index_t l = b; l < e; ++l) {
      const T* x = in + l * U;
      T* o = out + l * U;
      for (index_t u = 0; u < U; ++u) {
        T acc = T(0);
        for (index_t k = 0; k < U; ++k) {
          index_t d = (u - k) % N;
          if (d < 0) d += N;
          acc += x[k] * filt[d];
        }
        o[u] = acc;
      }
    }
  }, 4);
}

}  // namespace

template <typename T>
void tomo_cpu(const TomoProblem& p, const T* x, T* out, const double* geom, const T* filt, int threads) {
  switch (p.op) {
    case TomoOp::Forward:
      forward(p, x, out, geom, threads);
      return;
    case TomoOp::Adjoint:
      if (p.gather) adjoint_gather(p, x, out, geom, threads);
      else adjoint_scatter(p, x, out, geom, threads);
      return;
    case TomoOp::Filter:
      if (x == out) {
        std::vector<T> tmp(x, x + p.lines * p.U);
        filter(p, tmp.data(), out, filt, threads);
      } else {
        filter(p, x, out, filt, threads);
      }
      return;
    case TomoOp::TvDual: {
      const index_t Z = p.Z, Y = p.Y, X = p.X;
      const T sigma = T(p.sigma), lambda = T(p.lambda);
      parallel_for(Z * Y, threads, [&](index_t b, index_t e, int) {
        for (index_t zy = b; zy < e; ++zy)
          for (index_t i = 0; i < X; ++i) tomo::tv_dual(x, out, Z, Y, X, zy / Y, zy % Y, i, sigma, lambda);
      }, 4);
      return;
    }
    case TomoOp::TvGradT: {
      const index_t Z = p.Z, Y = p.Y, X = p.X;
      parallel_for(Z * Y, threads, [&](index_t b, index_t e, int) {
        for (index_t zy = b; zy < e; ++zy)
          for (index_t i = 0; i < X; ++i) out[zy * X + i] = tomo::tv_gradT(x, Z, Y, X, zy / Y, zy % Y, i);
      }, 4);
      return;
    }
    case TomoOp::Recip: {
      const T eps = T(p.eps);
      parallel_for(p.lines, threads, [&](index_t b, index_t e, int) {
        for (index_t i = b; i < e; ++i) {
          const T v = x[i];
          out[i] = v > eps ? T(1) / v : T(0);
        }
      }, 1 << 14);
      return;
    }
  }
}

template void tomo_cpu<float>(const TomoProblem&, const float*, float*, const double*, const float*, int);
template void tomo_cpu<double>(const TomoProblem&, const double*, double*, const double*, const double*, int);

}  // namespace rk
