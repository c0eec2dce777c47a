// Standalone checks of the native TV and array-op kernels (not part of the addon).
//   g++ -O2 -std=c++17 -pthread -Icuda -Inative native/test_kernels_cpu.cc native/tv_cpu.cc
//       native/array_ops_cpu.cc -o /tmp/tk && /tmp/tk      (--no-bench skips the timings)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "array_ops.h"
#include "rk_defs.h"
#include "tv.h"

using rk::index_t;
using rk::TvKind;
using rk::TvProblem;

static int g_fail = 0;
static void report(bool ok, const std::string& name, const std::string& detail = "") {
  std::printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.empty() ? "" : "  ",
              detail.c_str());
  if (!ok) ++g_fail;
}
static const char* kind_name(TvKind k) {
  return k == TvKind::Squared ? "squared" : k == TvKind::Isotropic ? "isotropic" : "l1";
}

// ---------------------------------------------------------------- brute-force float64 TV
struct Ref {
  double loss[3] = {0, 0, 0};
  std::vector<double> grad;
};
static Ref tv_ref(const TvProblem& p, const std::vector<double>& x) {
  const index_t B = p.batch, D = p.D, H = p.H, W = p.W;
  auto I = [&](index_t b, index_t d, index_t h, index_t w) { return ((b * D + d) * H + h) * W + w; };
  Ref r;
  r.grad.assign(x.size(), 0.0);
  if (p.kind == TvKind::Isotropic) {
    const double cnt = double(B) * (D - 1) * (H - 1) * (W - 1);
    if (cnt == 0) return r;
    double s = 0;
    for (index_t b = 0; b < B; ++b)
      for (index_t d = 0; d + 1 < D; ++d)
        for (index_t h = 0; h + 1 < H; ++h)
          for (index_t w = 0; w + 1 < W; ++w) {
            const index_t c = I(b, d, h, w);
            const double dd = x[I(b, d + 1, h, w)] - x[c], dh = x[I(b, d, h + 1, w)] - x[c],
                         dw = x[I(b, d, h, w + 1)] - x[c];
            const double n = std::sqrt(dd * dd + dh * dh + dw * dw + p.eps);
            s += n;
            const double k = p.scale[0] / cnt / n;
            r.grad[c] -= k * (dd + dh + dw);
            r.grad[I(b, d + 1, h, w)] += k * dd;
            r.grad[I(b, d, h + 1, w)] += k * dh;
            r.grad[I(b, d, h, w + 1)] += k * dw;
          }
    r.loss[0] = s / cnt;
    return r;
  }
  const index_t ext[3] = {D, H, W};
  for (int ax = 0; ax < 3; ++ax) {
    const index_t step = ax == 0 ? H * W : ax == 1 ? W : 1;
    for (index_t b = 0; b < B; ++b)
      for (index_t d = 0; d < D; ++d)
        for (index_t h = 0; h < H; ++h)
          for (index_t w = 0; w < W; ++w) {
            const index_t pos = ax == 0 ? d : ax == 1 ? h : w;
            if (pos + 1 >= ext[ax]) continue;
            const index_t i = I(b, d, h, w), j = i + step;
            const double df = x[j] - x[i];
            if (p.kind == TvKind::Squared) {
              r.loss[0] += df * df;
              r.grad[i] -= 2 * p.scale[0] * df;
              r.grad[j] += 2 * p.scale[0] * df;
            } else {
              r.loss[ax] += std::fabs(df);
              const double sg = (df > 0) - (df < 0);
              r.grad[i] -= p.scale[ax] * sg;
              r.grad[j] += p.scale[ax] * sg;
            }
          }
  }
  return r;
}
// Scalar objective whose gradient tv3d returns.
static double objective(const TvProblem& p, const std::vector<double>& x) {
  Ref r = tv_ref(p, x);
  if (p.kind == TvKind::L1)
    return p.scale[0] * r.loss[0] + p.scale[1] * r.loss[1] + p.scale[2] * r.loss[2];
  return p.scale[0] * r.loss[0];
}

template <typename T>
static void run_tv(const TvProblem& p, const std::vector<T>& x, std::vector<T>& g, double* loss,
                   int threads) {
  g.assign(x.size(), T(12345));  // poison: every voxel must be written
  rk::tv3d_cpu<T>(p, x.data(), g.data(), loss, threads);
}

template <typename T>
static void check_tv_shape(std::vector<index_t> shape, TvKind kind, std::mt19937& rng) {
  TvProblem p;
  p.kind = kind;
  p.W = shape.back();
  p.H = shape.size() >= 2 ? shape[shape.size() - 2] : 1;
  p.D = shape.size() >= 3 ? shape[shape.size() - 3] : 1;
  p.batch = 1;
  for (size_t i = 0; i + 3 < shape.size(); ++i) p.batch *= shape[i];
  p.eps = 1e-6;
  if (kind == TvKind::L1) {
    p.scale[0] = 0.7;
    p.scale[1] = -1.3;
    p.scale[2] = 0.4;
  } else {
    p.scale[0] = 1.7;
  }
  p.want_loss = p.want_grad = true;
  const index_t n = p.batch * p.D * p.H * p.W;
  std::uniform_real_distribution<double> U(-1.0, 1.0);
  std::vector<double> xd(n);
  for (auto& v : xd) v = U(rng);
  std::vector<T> x(xd.begin(), xd.end());
  std::vector<double> xr(x.begin(), x.end());  // exactly the values the kernel sees
  Ref ref = tv_ref(p, xr);
  const int nl = kind == TvKind::L1 ? 3 : 1;

  std::string shp = "(";
  for (size_t i = 0; i < shape.size(); ++i) shp += (i ? "," : "") + std::to_string(shape[i]);
  shp += ")";
  const std::string name = std::string("tv3d_cpu<") + (sizeof(T) == 4 ? "float" : "double") +
                           "> " + kind_name(kind) + " " + shp;
  const double tol = sizeof(T) == 4 ? 2e-5 : 1e-11;

  std::vector<T> g;
  double loss[3] = {0, 0, 0};
  run_tv(p, x, g, loss, 3);
  double lerr = 0, lmag = 0;
  for (int k = 0; k < nl; ++k) {
    lerr = std::max(lerr, std::fabs(loss[k] - ref.loss[k]));
    lmag = std::max(lmag, std::fabs(ref.loss[k]));
  }
  double gerr = 0, gmag = 0;
  for (index_t i = 0; i < n; ++i) {
    gerr = std::max(gerr, std::fabs(double(g[i]) - ref.grad[i]));
    gmag = std::max(gmag, std::fabs(ref.grad[i]));
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "loss=%.6g rel_err=%.2e  grad max_abs_err=%.2e (max |g|=%.2e)",
                loss[0], lerr / std::max(lmag, 1e-300), gerr, gmag);
  const bool ok_l = lerr <= tol * std::max(lmag, 1.0);
  const bool ok_g = gerr <= tol * 4 * std::max(gmag, 1e-30) + (sizeof(T) == 4 ? 1e-7 : 0);
  report(ok_l && ok_g, name + " vs brute force", buf);

  // determinism and thread independence (bitwise)
  bool same = true;
  for (int th : {1, 2, 5, 7}) {
    std::vector<T> g2;
    double l2[3] = {0, 0, 0};
    run_tv(p, x, g2, l2, th);
    same = same && std::memcmp(l2, loss, sizeof(double) * nl) == 0 &&
           std::memcmp(g2.data(), g.data(), sizeof(T) * n) == 0;
  }
  report(same, name + " bitwise identical for threads 1,2,3,5,7");

  // loss-only and grad-only passes agree with the fused one
  {
    TvProblem q = p;
    q.want_grad = false;
    double l3[3] = {0, 0, 0};
    rk::tv3d_cpu<T>(q, x.data(), nullptr, l3, 2);
    TvProblem r = p;
    r.want_loss = false;
    std::vector<T> g3(n, T(777));
    rk::tv3d_cpu<T>(r, x.data(), g3.data(), nullptr, 2);
    report(std::memcmp(l3, loss, sizeof(double) * nl) == 0 &&
               std::memcmp(g3.data(), g.data(), sizeof(T) * n) == 0,
           name + " loss-only / grad-only match fused");
  }

  // central finite differences of the float64 objective vs the double kernel's gradient
  // (small volumes only: on large ones the objective's rounding noise swamps the difference)
  if (sizeof(T) == 8 && n <= 200000) {
    std::vector<index_t> probe = {0, n - 1, n / 2, p.W - 1, p.H * p.W - 1, n - p.W};
    std::uniform_int_distribution<index_t> UI(0, n - 1);
    for (int i = 0; i < 10; ++i) probe.push_back(UI(rng));
    double worst = 0;
    for (index_t i : probe) {
      if (i < 0 || i >= n) continue;
      const double h = 1e-4;
      std::vector<double> xp = xr, xm = xr;
      xp[i] += h;
      xm[i] -= h;
      const double fd = (objective(p, xp) - objective(p, xm)) / (2 * h);
      const double den = std::max({std::fabs(fd), std::fabs(double(g[i])), 1e-3 * gmag, 1e-12});
      worst = std::max(worst, std::fabs(fd - double(g[i])) / den);
    }
    std::snprintf(buf, sizeof buf, "max rel err %.2e over %zu voxels", worst, probe.size());
    report(worst < 1e-4, name + " gradient vs central finite differences", buf);
  }
}

// ---------------------------------------------------------------- array ops
template <typename T>
static void check_array_ops(std::mt19937& rng) {
  using rk::ArrayOp;
  const char* tn = sizeof(T) == 4 ? "float" : "double";
  const index_t n = 100003;
  std::uniform_real_distribution<double> U(-2.0, 2.0);
  for (int cplx = 0; cplx < 2; ++cplx) {
    const index_t m = n * (cplx ? 2 : 1);
    std::vector<T> a(m), b(m), out(m);
    for (auto& v : a) v = T(U(rng));
    for (auto& v : b) v = T(U(rng));
    const double al = 0.75, be = cplx ? -0.5 : 1.25;
    const ArrayOp ops[] = {ArrayOp::Fill,  ArrayOp::Copy, ArrayOp::Add,   ArrayOp::Sub,
                           ArrayOp::Mul,   ArrayOp::Scale, ArrayOp::Axpy, ArrayOp::Clamp,
                           ArrayOp::Sum,   ArrayOp::Dot,  ArrayOp::Norm};
    const char* names[] = {"fill", "copy", "add", "sub", "mul", "scale",
                           "axpy", "clamp", "sum", "dot", "norm"};
    for (int oi = 0; oi < 11; ++oi) {
      const ArrayOp op = ops[oi];
      if (cplx && op == ArrayOp::Clamp) continue;
      rk::ArrayOpArgs<T> args;
      args.op = op;
      args.n = n;
      args.complex = cplx;
      args.alpha = al;
      args.beta = be;
      args.a = a.data();
      args.b = b.data();
      const bool red = op == ArrayOp::Sum || op == ArrayOp::Dot || op == ArrayOp::Norm;
      args.out = red ? nullptr : out.data();
      std::fill(out.begin(), out.end(), T(-999));
      double res[2] = {0, 0};
      rk::array_op_cpu<T>(args, res, 2);
      // naive reference
      double err = 0, mag = 0;
      double rr[2] = {0, 0};
      for (index_t i = 0; i < n; ++i) {
        double ar, ai = 0, br, bi = 0, orr = 0, oii = 0;
        if (cplx) {
          ar = a[2 * i]; ai = a[2 * i + 1]; br = b[2 * i]; bi = b[2 * i + 1];
        } else {
          ar = a[i]; br = b[i];
        }
        switch (op) {
          case ArrayOp::Fill: orr = al; oii = be; break;
          case ArrayOp::Copy: orr = ar; oii = ai; break;
          case ArrayOp::Add: orr = ar + br; oii = ai + bi; break;
          case ArrayOp::Sub: orr = ar - br; oii = ai - bi; break;
          case ArrayOp::Mul: orr = ar * br - ai * bi; oii = ar * bi + ai * br; break;
          case ArrayOp::Scale:
            orr = cplx ? al * ar - be * ai : al * ar; oii = al * ai + be * ar; break;
          case ArrayOp::Axpy:
            orr = (cplx ? al * ar - be * ai : al * ar) + br; oii = al * ai + be * ar + bi; break;
          case ArrayOp::Clamp: orr = std::min(std::max(ar, al), be); break;
          case ArrayOp::Sum: rr[0] += ar; rr[1] += ai; break;
          case ArrayOp::Dot: rr[0] += ar * br + ai * bi; rr[1] += ar * bi - ai * br; break;
          case ArrayOp::Norm: rr[0] += ar * ar + ai * ai; break;
        }
        if (!red) {
          const double gr = cplx ? double(out[2 * i]) : double(out[i]);
          err = std::max(err, std::fabs(gr - orr));
          mag = std::max(mag, std::fabs(orr));
          if (cplx) {
            err = std::max(err, std::fabs(double(out[2 * i + 1]) - oii));
            mag = std::max(mag, std::fabs(oii));
          }
        }
      }
      if (op == ArrayOp::Norm) rr[0] = std::sqrt(rr[0]);
      if (red) {
        const int nr = (cplx && op != ArrayOp::Norm) ? 2 : 1;
        for (int k = 0; k < nr; ++k) {
          err = std::max(err, std::fabs(res[k] - rr[k]));
          mag = std::max(mag, std::fabs(rr[k]));
        }
        // bitwise-identical for other thread counts
        double r1[2] = {0, 0}, r3[2] = {0, 0};
        rk::array_op_cpu<T>(args, r1, 1);
        rk::array_op_cpu<T>(args, r3, 3);
        report(std::memcmp(r1, res, sizeof(double) * nr) == 0 &&
                   std::memcmp(r3, res, sizeof(double) * nr) == 0,
               std::string("array_op_cpu<") + tn + "> " + (cplx ? "complex " : "real ") +
                   names[oi] + " deterministic across threads");
      }
      const double tol = (sizeof(T) == 4 ? 1e-6 : 1e-13) * std::max(mag, 1.0) * (red ? 10 : 1);
      char buf[128];
      std::snprintf(buf, sizeof buf, "max_abs_err=%.2e", err);
      report(err <= tol, std::string("array_op_cpu<") + tn + "> " + (cplx ? "complex " : "real ") +
                             names[oi] + " vs naive",
             buf);
    }
    // in-place axpy: y <- alpha*x + y
    {
      std::vector<T> y = b;
      rk::ArrayOpArgs<T> args;
      args.op = ArrayOp::Axpy;
      args.n = n;
      args.complex = cplx;
      args.alpha = al;
      args.beta = be;
      args.a = a.data();
      args.b = y.data();
      args.out = y.data();
      rk::array_op_cpu<T>(args, nullptr, 2);
      double err = 0;
      for (index_t i = 0; i < n; ++i) {
        if (cplx) {
          const double er = al * a[2 * i] - be * a[2 * i + 1] + b[2 * i];
          const double ei = al * a[2 * i + 1] + be * a[2 * i] + b[2 * i + 1];
          err = std::max({err, std::fabs(er - y[2 * i]), std::fabs(ei - y[2 * i + 1])});
        } else {
          err = std::max(err, std::fabs(al * a[i] + b[i] - y[i]));
        }
      }
      report(err <= (sizeof(T) == 4 ? 1e-5 : 1e-13),
             std::string("array_op_cpu<") + tn + "> " + (cplx ? "complex" : "real") +
                 " axpy in place (out == b)");
    }
  }
  // Clamp with infinite bound
  {
    std::vector<T> a = {T(-3), T(0.5), T(7)}, out(3);
    rk::ArrayOpArgs<T> args;
    args.op = rk::ArrayOp::Clamp;
    args.n = 3;
    args.alpha = 0.0;
    args.beta = INFINITY;
    args.a = a.data();
    args.out = out.data();
    rk::array_op_cpu<T>(args, nullptr, 1);
    report(out[0] == T(0) && out[1] == T(0.5) && out[2] == T(7),
           std::string("array_op_cpu<") + tn + "> clamp with +inf upper bound");
  }
}

// ---------------------------------------------------------------- benchmark
static void bench_tv() {
  const index_t N = 128;
  std::vector<float> x(N * N * N), g(N * N * N);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> U(0, 1);
  for (auto& v : x) v = U(rng);
  for (TvKind k : {TvKind::Squared, TvKind::Isotropic, TvKind::L1}) {
    TvProblem p;
    p.kind = k;
    p.D = p.H = p.W = N;
    p.want_loss = p.want_grad = true;
    for (int th : {1, 2}) {
      double loss[3];
      rk::tv3d_cpu<float>(p, x.data(), g.data(), loss, th);  // warm-up
      double best = 1e30;
      for (int r = 0; r < 7; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        rk::tv3d_cpu<float>(p, x.data(), g.data(), loss, th);
        auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      const double gbs = 2.0 * x.size() * sizeof(float) / (best * 1e-3) / 1e9;
      std::printf("BENCH tv3d_cpu<float> %-9s 128^3 value+grad threads=%d: %.3f ms (%.2f GB/s "
                  "eff.)\n",
                  kind_name(k), th, best, gbs);
    }
  }
}

int main(int argc, char** argv) {
  std::mt19937 rng(1234);
  const std::vector<std::vector<index_t>> shapes = {
      {33, 57, 18}, {3, 32, 32, 32}, {2 * 3, 16, 16, 16}, {1, 32, 32}, {2, 1, 5, 9}, {4, 3, 1},
      // large enough rows that work splits among threads (isotropic: chunks start mid-plane,
      // at the last d / h of a plane, across batch boundaries)
      {2, 9, 37, 1500}, {4, 2, 3, 20000}, {3, 5, 2, 7, 9000}};
  for (auto& s : shapes)
    for (TvKind k : {TvKind::Squared, TvKind::Isotropic, TvKind::L1}) {
      check_tv_shape<double>(s, k, rng);
      check_tv_shape<float>(s, k, rng);
    }
  check_array_ops<float>(rng);
  check_array_ops<double>(rng);
  if (!(argc > 1 && std::string(argv[1]) == "--no-bench")) bench_tv();
  std::printf("%s: %d failure(s)\n", g_fail ? "FAIL" : "PASS", g_fail);
  return g_fail ? 1 : 0;
}
