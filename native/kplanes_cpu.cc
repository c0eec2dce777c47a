// Native (CPU) tilted K-Planes feature sampling, forward and analytic backward; multi-threaded
// and bitwise deterministic (independent of the thread count). Per-element math:
// cuda/kplanes_math.cuh (shared with the CUDA kernels).
//
// Layout: the [3T, C, H, W] planes are read in place. (A channels-last repack per call, as the
// CUDA backend does, was measured slower here on ray-ordered points for every benchmark shape:
// consecutive samples of a ray hit the same cache lines anyway, and the repack costs a full pass
// over the planes. The loops keep a channel-stride template parameter for such a layout.)
// Forward: parallel over fixed chunks of points, every output element written once.
// Backward runs in two passes so that no two threads ever add to the same memory:
//  * coordinates: parallel over fixed chunks of points; each point's dL/dp is written by its own
//    chunk; dL/dR partial sums per chunk (double) are added in chunk order at the end.
//  * planes: parallel over (rotation t, block of channels): a unit owns channels [c0, c1) of the
//    slots 3t..3t+2 and walks all points in order, so each plane-gradient element is summed in
//    point order whatever the partition.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "kplanes.h"
#include "kplanes_math.cuh"
#include "parallel_for.h"

namespace rk {
namespace {

using kpm::Bilerp;

constexpr index_t kChunk = 512;  // points per work unit (fixed: results do not depend on threads)

// A level's planes as the loops read them: element (slot, pixel, c) at
// base[slot * ss + pixel * ps + c * cs].
template <typename T>
struct View {
  const T* base;
  index_t ss, ps, cs, H, W;
  T gate;
};

template <typename T>
struct Levels {
  std::vector<View<T>> views;
};

template <typename T>
Levels<T> make_views(const KPlanesProblem& p, const T* const* planes, int threads) {
  Levels<T> L;
  const index_t S = p.levels(), C = p.C;
  for (index_t s = 0; s < S; ++s) {
    const index_t H = p.H[s], W = p.W[s], HW = H * W;
    const T* src = planes[s];
    View<T> v{src, C * HW, 1, HW, H, W, T(p.gates[s])};
    L.views.push_back(v);
  }
  return L;
}

// Tap pointers of the three slots of rotation t.
template <typename T>
RK_FORCEINLINE void tap_ptrs(const View<T>& v, index_t t, const Bilerp<T>* bl, const T* (*a)[4]) {
  for (int k = 0; k < 3; ++k) {
    const T* sl = v.base + (3 * t + k) * v.ss;
    a[k][0] = sl + bl[k].o00 * v.ps;
    a[k][1] = sl + bl[k].o01 * v.ps;
    a[k][2] = sl + bl[k].o10 * v.ps;
    a[k][3] = sl + bl[k].o11 * v.ps;
  }
}

template <typename T, bool CL>
RK_FORCEINLINE T sample(const Bilerp<T>& b, const T* const* a, index_t off) {
  return kpm::bilerp_value(b, a[0][off], a[1][off], a[2][off], a[3][off]);
}

template <typename T, bool CL>
void forward_points(const KPlanesProblem& p, const T* pts, const T* rot, const View<T>& v,
                    index_t col0, T* out, index_t b0, index_t b1) {
  const index_t C = p.C, NT = p.T, ld = p.levels() * NT * C;
  const index_t cs = CL ? 1 : v.cs;
  const T gate = v.gate;
  for (index_t b = b0; b < b1; ++b) {
    const T p0 = pts[3 * b], p1 = pts[3 * b + 1], p2 = pts[3 * b + 2];
    for (index_t t = 0; t < NT; ++t) {
      Bilerp<T> bl[3];
      kpm::setup_rotation(rot + 9 * t, p0, p1, p2, v.H, v.W, bl);
      const T* a[3][4];
      tap_ptrs(v, t, bl, a);
      T* o = out + b * ld + col0 + t * C;
      for (index_t c = 0; c < C; ++c) {
        const index_t off = c * cs;
        const T s0 = sample<T, CL>(bl[0], a[0], off);
        const T s1 = sample<T, CL>(bl[1], a[1], off);
        const T s2 = sample<T, CL>(bl[2], a[2], off);
        o[c] = gate * (s0 * s1 * s2);
      }
    }
  }
}

// Adds one level's dL/dr for (point, rotation t) to dr.
template <typename T, bool CL>
RK_FORCEINLINE void coord_grads(const View<T>& v, index_t C, index_t t, const T* R, T p0, T p1,
                                T p2, const T* go, T* dr) {
  Bilerp<T> bl[3];
  kpm::setup_rotation(R, p0, p1, p2, v.H, v.W, bl);
  if (bl[0].dgx == T(0) && bl[0].dgy == T(0) && bl[1].dgx == T(0) && bl[1].dgy == T(0) &&
      bl[2].dgx == T(0) && bl[2].dgy == T(0))
    return;
  const T* a[3][4];
  tap_ptrs(v, t, bl, a);
  const index_t cs = CL ? 1 : v.cs;
  const T gate = v.gate;
  T gx0 = 0, gy0 = 0, gx1 = 0, gy1 = 0, gx2 = 0, gy2 = 0;
  for (index_t c = 0; c < C; ++c) {
    const index_t off = c * cs;
    T s[3], dx[3], dy[3];
    for (int k = 0; k < 3; ++k) {
      const T v00 = a[k][0][off], v01 = a[k][1][off], v10 = a[k][2][off], v11 = a[k][3][off];
      s[k] = kpm::bilerp_value(bl[k], v00, v01, v10, v11);
      kpm::bilerp_dpix(bl[k], v00, v01, v10, v11, dx[k], dy[k]);
    }
    T d0, d1, d2;
    kpm::product_grads(s[0], s[1], s[2], gate * go[c], d0, d1, d2);
    gx0 += d0 * dx[0];
    gy0 += d0 * dy[0];
    gx1 += d1 * dx[1];
    gy1 += d1 * dy[1];
    gx2 += d2 * dx[2];
    gy2 += d2 * dy[2];
  }
  kpm::slot_grad_to_r(0, gx0 * bl[0].dgx, gy0 * bl[0].dgy, dr);
  kpm::slot_grad_to_r(1, gx1 * bl[1].dgx, gy1 * bl[1].dgy, dr);
  kpm::slot_grad_to_r(2, gx2 * bl[2].dgx, gy2 * bl[2].dgy, dr);
}

template <typename T>
void coord_points(const KPlanesProblem& p, const T* pts, const T* rot,
                  const std::vector<View<T>>& views, const T* gout, T* gpts, double* dR,
                  index_t b0, index_t b1) {
  const index_t C = p.C, NT = p.T, S = p.levels(), ld = S * NT * C;
  for (index_t b = b0; b < b1; ++b) {
    const T p0 = pts[3 * b], p1 = pts[3 * b + 1], p2 = pts[3 * b + 2];
    T dp[3] = {0, 0, 0};
    for (index_t t = 0; t < NT; ++t) {
      const T* R = rot + 9 * t;
      T dr[3] = {0, 0, 0};
      for (index_t s = 0; s < S; ++s) {
        const View<T>& v = views[s];
        const T* go = gout + b * ld + s * NT * C + t * C;
        if (v.cs == 1) coord_grads<T, true>(v, C, t, R, p0, p1, p2, go, dr);
        else coord_grads<T, false>(v, C, t, R, p0, p1, p2, go, dr);
      }
      kpm::rotation_backward_points(R, dr, dp);
      if (dR) kpm::rotation_backward_matrix(dr, p0, p1, p2, dR + 9 * t);
    }
    if (gpts) {
      gpts[3 * b] = dp[0];
      gpts[3 * b + 1] = dp[1];
      gpts[3 * b + 2] = dp[2];
    }
  }
}

// Plane gradients of channels [c0, c1) of the slots of rotation t, for one level.
template <typename T, bool CL>
void plane_grads_unit(const KPlanesProblem& p, const T* pts, const T* rot, const View<T>& v,
                      const T* gout, index_t col0, T* G, index_t t, index_t c0, index_t c1) {
  const index_t C = p.C, NT = p.T, ld = p.levels() * NT * C, HW = v.H * v.W;
  const index_t cs = CL ? 1 : v.cs;
  const T gate = v.gate;
  T* g[3];
  for (int k = 0; k < 3; ++k) {
    g[k] = G + (3 * t + k) * C * HW;
    std::memset(static_cast<void*>(g[k] + c0 * HW), 0, sizeof(T) * static_cast<size_t>((c1 - c0) * HW));
  }
  const T* R = rot + 9 * t;
  for (index_t b = 0; b < p.B; ++b) {
    Bilerp<T> bl[3];
    kpm::setup_rotation(R, pts[3 * b], pts[3 * b + 1], pts[3 * b + 2], v.H, v.W, bl);
    const T* a[3][4];
    tap_ptrs(v, t, bl, a);
    const T* go = gout + b * ld + col0 + t * C;
    for (index_t c = c0; c < c1; ++c) {
      const index_t off = c * cs;
      const T s0 = sample<T, CL>(bl[0], a[0], off);
      const T s1 = sample<T, CL>(bl[1], a[1], off);
      const T s2 = sample<T, CL>(bl[2], a[2], off);
      T d[3];
      kpm::product_grads(s0, s1, s2, gate * go[c], d[0], d[1], d[2]);
      for (int k = 0; k < 3; ++k) {
        T* gk = g[k] + c * HW;
        gk[bl[k].o00] += d[k] * bl[k].w00;
        gk[bl[k].o01] += d[k] * bl[k].w01;
        gk[bl[k].o10] += d[k] * bl[k].w10;
        gk[bl[k].o11] += d[k] * bl[k].w11;
      }
    }
  }
}

void check_problem(const KPlanesProblem& p) {
  if (p.B < 0 || p.T < 1 || p.C < 1) throw std::invalid_argument("kplanes: bad B, T or C");
  if (p.H.empty() || p.W.size() != p.H.size() || p.gates.size() != p.H.size())
    throw std::invalid_argument("kplanes: levels, H, W and gates disagree");
  for (size_t s = 0; s < p.H.size(); ++s)
    if (p.H[s] < 1 || p.W[s] < 1) throw std::invalid_argument("kplanes: empty plane");
}

}  // namespace

template <typename T>
void kplanes_forward_cpu(const KPlanesProblem& p, const T* points, const T* rotations,
                         const T* const* planes, T* out, int threads) {
  check_problem(p);
  if (p.B == 0) return;
  const Levels<T> L = make_views(p, planes, threads);
  const index_t nChunks = (p.B + kChunk - 1) / kChunk;
  for (index_t s = 0; s < p.levels(); ++s) {
    const View<T>& v = L.views[s];
    const index_t col0 = s * p.T * p.C;
    parallel_for(nChunks, threads, [&](index_t k0, index_t k1, int) {
      const index_t b0 = k0 * kChunk, b1 = std::min(p.B, k1 * kChunk);
      if (v.cs == 1) forward_points<T, true>(p, points, rotations, v, col0, out, b0, b1);
      else forward_points<T, false>(p, points, rotations, v, col0, out, b0, b1);
    });
  }
}

template <typename T>
void kplanes_backward_cpu(const KPlanesProblem& p, const T* points, const T* rotations,
                          const T* const* planes, const T* grad_out, T* const* grad_planes,
                          T* grad_points, T* grad_rotations, int threads) {
  check_problem(p);
  const index_t NT = p.T, C = p.C, S = p.levels();
  if (p.B == 0) {
    if (grad_rotations) std::fill(grad_rotations, grad_rotations + 9 * NT, T(0));
    if (grad_planes)
      for (index_t s = 0; s < S; ++s)
        std::fill(grad_planes[s], grad_planes[s] + 3 * NT * C * p.H[s] * p.W[s], T(0));
    return;
  }
  const Levels<T> L = make_views(p, planes, threads);
  if (grad_points || grad_rotations) {
    const index_t nChunks = (p.B + kChunk - 1) / kChunk;
    std::vector<double> partial(grad_rotations ? static_cast<size_t>(nChunks * 9 * NT) : 0, 0.0);
    parallel_for(nChunks, threads, [&](index_t k0, index_t k1, int) {
      for (index_t k = k0; k < k1; ++k)
        coord_points(p, points, rotations, L.views, grad_out, grad_points,
                     grad_rotations ? partial.data() + k * 9 * NT : nullptr, k * kChunk,
                     std::min(p.B, (k + 1) * kChunk));
    });
    if (grad_rotations) {
      for (index_t i = 0; i < 9 * NT; ++i) {
        double acc = 0;
        for (index_t k = 0; k < nChunks; ++k) acc += partial[k * 9 * NT + i];
        grad_rotations[i] = T(acc);
      }
    }
  }
  if (grad_planes) {
    const index_t nth = resolve_threads(threads);
    index_t nCB = std::min<index_t>(C, std::max<index_t>(1, (2 * nth + NT - 1) / NT));
    const index_t cbs = (C + nCB - 1) / nCB;
    nCB = (C + cbs - 1) / cbs;
    for (index_t s = 0; s < S; ++s) {
      const View<T>& v = L.views[s];
      const index_t col0 = s * NT * C;
      parallel_for(NT * nCB, threads, [&](index_t u0, index_t u1, int) {
        for (index_t u = u0; u < u1; ++u) {
          const index_t t = u / nCB, c0 = (u % nCB) * cbs, c1 = std::min(C, c0 + cbs);
          if (v.cs == 1)
            plane_grads_unit<T, true>(p, points, rotations, v, grad_out, col0, grad_planes[s], t, c0, c1);
          else
            plane_grads_unit<T, false>(p, points, rotations, v, grad_out, col0, grad_planes[s], t, c0, c1);
        }
      });
    }
  }
}

template void kplanes_forward_cpu<float>(const KPlanesProblem&, const float*, const float*,
                                         const float* const*, float*, int);
template void kplanes_forward_cpu<double>(const KPlanesProblem&, const double*, const double*,
                                          const double* const*, double*, int);
template void kplanes_backward_cpu<float>(const KPlanesProblem&, const float*, const float*,
                                          const float* const*, const float*, float* const*,
                                          float*, float*, int);
template void kplanes_backward_cpu<double>(const KPlanesProblem&, const double*, const double*,
                                           const double* const*, const double*, double* const*,
                                           double*, double*, int);

}  // namespace rk
