// Standalone test of the native NUFFT (not part of the addon):
//   g++ -O3 -march=native -std=c++17 -pthread -Icuda -Inative native/test_nufft_cpu.cc
//       native/nufft_cpu.cc native/fft.cc -o /tmp/tn && /tmp/tn          # accuracy vs direct sums
//   /tmp/tn bench [reps [name-filter]]                                            # yardstick timings
// Accuracy: relative ℓ2 error against a direct NUDFT (float64) for d = 1..3, types 1 and 2,
// plain and gradient, float32 and float64, ntransf 1 and 2, both modeord and isign.
#include <chrono>
#include <cmath>
#include <complex>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "nufft.h"

using namespace rk;
using cd = std::complex<double>;

namespace {

std::mt19937_64 rng(12345);
double urand() { return std::uniform_real_distribution<double>(-1, 1)(rng); }

long long kOf(long long m, long long N, int modeord) {
  return modeord == 0 ? m - N / 2 : (m < (N + 1) / 2 ? m : m - N);
}

// Direct sums in double. pts [d][M]; type 1: in [nt][rows][M] -> out [nt][modes];
// type 2: in [nt][modes] -> out [nt][rows][M].
template <typename T>
std::vector<double> direct(const NufftOptions& o, const std::vector<T>& pts, long long M, const std::vector<T>& in) {
  const int d = o.dim, rows = o.gradient ? 1 + d : 1;
  long long N[3] = {1, 1, 1};
  for (int a = 0; a < d; ++a) N[3 - d + a] = o.modes[a];
  const long long nm = N[0] * N[1] * N[2];
  std::vector<double> out(o.type == 1 ? 2 * o.ntransf * nm : 2 * o.ntransf * rows * M, 0.0);
  std::vector<cd> e[3];
  std::vector<double> kv[3];
  for (long long j = 0; j < M; ++j) {
    for (int pa = 0; pa < 3; ++pa) {
      e[pa].assign(N[pa], cd(1, 0));
      kv[pa].assign(N[pa], 0);
      if (pa < 3 - d) continue;
      const double x = static_cast<double>(pts[(pa - (3 - d)) * M + j]);
      for (long long m = 0; m < N[pa]; ++m) {
        const long long k = kOf(m, N[pa], o.modeord);
        kv[pa][m] = static_cast<double>(k);
        e[pa][m] = std::polar(1.0, o.isign * static_cast<double>(k) * x);
      }
    }
    for (int t = 0; t < o.ntransf; ++t) {
      if (o.type == 1) {
        const long long sb = 2 * (static_cast<long long>(t) * rows * M + j);
        const cd c(in[sb], in[sb + 1]);
        cd g[3] = {0, 0, 0};
        for (int a = 0; a < (o.gradient ? d : 0); ++a) g[3 - d + a] = cd(in[sb + 2 * (1 + a) * M], in[sb + 2 * (1 + a) * M + 1]);
        long long m = 0;
        for (long long a = 0; a < N[0]; ++a)
          for (long long b = 0; b < N[1]; ++b)
            for (long long c2 = 0; c2 < N[2]; ++c2, ++m) {
              cd s = c;
              if (o.gradient) s += cd(0, o.isign) * (kv[0][a] * g[0] + kv[1][b] * g[1] + kv[2][c2] * g[2]);
              const cd v = s * e[0][a] * e[1][b] * e[2][c2];
              out[2 * (t * nm + m)] += v.real();
              out[2 * (t * nm + m) + 1] += v.imag();
            }
      } else {
        cd v = 0, dv[3] = {0, 0, 0};
        long long m = 0;
        for (long long a = 0; a < N[0]; ++a)
          for (long long b = 0; b < N[1]; ++b)
            for (long long c2 = 0; c2 < N[2]; ++c2, ++m) {
              const cd f(in[2 * (t * nm + m)], in[2 * (t * nm + m) + 1]);
              const cd term = f * e[0][a] * e[1][b] * e[2][c2];
              v += term;
              if (o.gradient) {
                const cd it = cd(0, o.isign) * term;
                dv[0] += kv[0][a] * it;
                dv[1] += kv[1][b] * it;
                dv[2] += kv[2][c2] * it;
              }
            }
        const long long ob = 2 * (static_cast<long long>(t) * rows * M + j);
        out[ob] = v.real();
        out[ob + 1] = v.imag();
        for (int a = 0; a < (o.gradient ? d : 0); ++a) {
          out[ob + 2 * (1 + a) * M] = dv[3 - d + a].real();
          out[ob + 2 * (1 + a) * M + 1] = dv[3 - d + a].imag();
        }
      }
    }
  }
  return out;
}

template <typename T>
double rel_err(const std::vector<T>& a, const std::vector<double>& ref) {
  double e = 0, n = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    e += (a[i] - ref[i]) * (a[i] - ref[i]);
    n += ref[i] * ref[i];
  }
  return std::sqrt(e / n);
}

int failures = 0;

template <typename T>
void check_case(NufftOptions o, long long M, double tol_factor) {
  o.f32 = sizeof(T) == 4;
  NufftPlan plan(o);
  std::vector<T> pts(o.dim * M);
  for (auto& x : pts) x = static_cast<T>(urand() * 3 * M_PI);
  plan.set_points(pts.data(), M);
  std::vector<T> in(plan.input_length(M)), out(plan.output_length(M));
  for (auto& v : in) v = static_cast<T>(urand());
  plan.execute(in.data(), in.size(), out.data(), out.size());
  const std::vector<double> ref = direct<T>(o, pts, M, in);
  const double err = rel_err(out, ref);
  // Per-row errors for gradient type 2.
  std::string rowinfo;
  double worst = err;
  if (o.type == 2 && o.gradient) {
    const int rows = 1 + o.dim;
    for (int r = 0; r < rows; ++r) {
      double e = 0, n = 0;
      for (int t = 0; t < o.ntransf; ++t)
        for (long long i = 0; i < 2 * M; ++i) {
          const long long k = 2 * (static_cast<long long>(t) * rows + r) * M + i;
          e += (out[k] - ref[k]) * (out[k] - ref[k]);
          n += ref[k] * ref[k];
        }
      const double re = std::sqrt(e / n);
      worst = std::max(worst, re);
      char b[32];
      std::snprintf(b, sizeof b, " %.1e", re);
      rowinfo += b;
    }
  }
  const bool ok = worst <= tol_factor * o.eps;
  if (!ok) failures++;
  std::printf("%s d=%d type=%d %s grad=%d nt=%d isign=%+d modeord=%d eps=%.0e w=%d: err %.2e%s%s\n", ok ? "ok  " : "FAIL", o.dim,
              o.type, o.f32 ? "f32" : "f64", o.gradient, o.ntransf, o.isign, o.modeord, o.eps, plan.info().width, err,
              rowinfo.empty() ? "" : (" rows" + rowinfo).c_str(), "");
}

void accuracy() {
  struct Sz {
    int d;
    long long modes[3];
    long long M;
  } sizes[] = {{1, {50, 1, 1}, 400}, {2, {20, 17, 1}, 300}, {3, {8, 9, 7}, 200}};
  for (const Sz& s : sizes) {
    for (int type : {1, 2}) {
      for (bool grad : {false, true}) {
        NufftOptions o;
        o.type = type;
        o.dim = s.d;
        for (int a = 0; a < 3; ++a) o.modes[a] = s.modes[a];
        o.gradient = grad;
        o.isign = type == 1 ? 1 : -1;
        o.eps = 1e-9;
        check_case<double>(o, s.M, 10);
        o.eps = 1e-5;
        check_case<float>(o, s.M, 10);
        o.eps = 1e-6;
        o.ntransf = 2;
        o.isign = -o.isign;
        o.modeord = 1;
        check_case<double>(o, s.M, 10);
        o.upsampfac = 1.25;
        o.eps = 1e-8;
        o.ntransf = 1;
        check_case<double>(o, s.M, 10);
      }
    }
  }
  // Errors.
  auto expect = [](const char* what, const std::string& code, auto fn) {
    try {
      fn();
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      std::printf("ok   error %s: %s\n", what, msg.c_str());
      (void)code;
      return;
    }
    failures++;
    std::printf("FAIL error %s: no throw\n", what);
  };
  expect("eps below limit", "INVALID_ARGUMENT", [] {
    NufftOptions o;
    o.eps = 1e-13;
    NufftPlan p(o);
  });
  expect("f32 eps below limit", "INVALID_ARGUMENT", [] {
    NufftOptions o;
    o.eps = 1e-6;
    o.f32 = true;
    NufftPlan p(o);
  });
  expect("non-finite", "NON_FINITE", [] {
    NufftOptions o;
    NufftPlan p(o);
    double pts[3] = {0.1, NAN, 0.3};
    p.set_points(pts, 3);
  });
  expect("execute before setPoints", "INVALID_ARGUMENT", [] {
    NufftOptions o;
    NufftPlan p(o);
    double a[4], b[4];
    p.execute(a, 4, b, 4);
  });
}

const char* g_filter = nullptr;

template <typename T>
void bench_case(const char* name, int type, int d, long long N, long long M, double eps, bool grad, int reps, double yard) {
  if (g_filter && !std::strstr(name, g_filter)) return;
  NufftOptions o;
  o.type = type;
  o.dim = d;
  for (int a = 0; a < d; ++a) o.modes[a] = N;
  o.eps = eps;
  o.f32 = sizeof(T) == 4;
  o.gradient = grad;
  o.isign = type == 1 ? 1 : -1;
  NufftPlan plan(o);
  std::vector<T> pts(d * M);
  for (auto& x : pts) x = static_cast<T>(urand() * M_PI);
  plan.set_points(pts.data(), M);
  std::vector<T> in(plan.input_length(M)), out(plan.output_length(M));
  for (auto& v : in) v = static_cast<T>(urand());
  double best = 1e30, bestcpu = 1e30;
  NufftTimings bt;
  for (int r = 0; r < reps; ++r) {
    timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    plan.execute(in.data(), in.size(), out.data(), out.size());
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    bestcpu = std::min(bestcpu, (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) * 1e-6);
    NufftTimings t = plan.timings();
    if (t.total_ms < best) {
      best = t.total_ms;
      bt = t;
    }
  }
  // Error estimate on a few outputs (type 2: first 50 points; type 1: 50 random modes).
  double e = 0, n = 0;
  long long nm = 1;
  for (int a = 0; a < d; ++a) nm *= N;
  std::vector<long long> Ns(d, N);
  if (type == 2) {
    for (long long j = 0; j < 50; ++j) {
      cd v = 0;
      for (long long m = 0; m < nm; ++m) {
        long long r = m;
        double ph = 0;
        for (int a = d - 1; a >= 0; --a) {
          ph += static_cast<double>(r % N - N / 2) * pts[a * M + j];
          r /= N;
        }
        v += cd(in[2 * m], in[2 * m + 1]) * std::polar(1.0, o.isign * ph);
      }
      const int rows = grad ? 1 + d : 1;
      (void)rows;
      e += std::norm(v - cd(out[2 * j], out[2 * j + 1]));
      n += std::norm(v);
    }
  } else {
    const int rows = grad ? 1 + d : 1;
    for (int s = 0; s < 20; ++s) {
      const long long m = static_cast<long long>((urand() + 1) / 2 * (nm - 1));
      long long kk[3], r = m;
      for (int a = d - 1; a >= 0; --a) {
        kk[a] = r % N - N / 2;
        r /= N;
      }
      cd v = 0;
      for (long long j = 0; j < M; ++j) {
        double ph = 0;
        cd c(in[2 * (j)], in[2 * j + 1]);
        if (grad) {
          cd g = 0;
          for (int a = 0; a < d; ++a) g += static_cast<double>(kk[a]) * cd(in[2 * ((1 + a) * M + j)], in[2 * ((1 + a) * M + j) + 1]);
          c += cd(0, o.isign) * g;
        }
        for (int a = 0; a < d; ++a) ph += kk[a] * static_cast<double>(pts[a * M + j]);
        v += c * std::polar(1.0, o.isign * ph);
      }
      (void)rows;
      e += std::norm(v - cd(out[2 * m], out[2 * m + 1]));
      n += std::norm(v);
    }
  }
  std::printf("%-34s w=%2d  cpu/2 %7.2f  best %7.2f ms (spread %6.2f fft %6.2f deconv %5.2f; sort %6.2f)  yardstick %5.1f  ratio %.2f  err %.1e\n",
              name, plan.info().width, bestcpu / 2, best, bt.spread_ms, bt.fft_ms, bt.deconvolve_ms, plan.timings().sort_ms, yard,
              yard > 0 ? best / yard : 0.0, std::sqrt(e / n));
}

void bench(int reps) {
  const long long M = 1000000;
  bench_case<double>("2D 512^2 type1 c128 eps1e-6", 1, 2, 512, M, 1e-6, false, reps, 32);
  bench_case<float>("2D 512^2 type1 c64 eps1e-5", 1, 2, 512, M, 1e-5, false, reps, 20);
  bench_case<double>("2D 512^2 type2 c128 eps1e-6", 2, 2, 512, M, 1e-6, false, reps, 37);
  bench_case<float>("2D 512^2 type2 c64 eps1e-5", 2, 2, 512, M, 1e-5, false, reps, 19);
  bench_case<float>("3D 64^3 type1 c64 eps1e-5", 1, 3, 64, M, 1e-5, false, reps, 49);
  bench_case<float>("3D 64^3 type2 c64 eps1e-5", 2, 3, 64, M, 1e-5, false, reps, 54);
  bench_case<double>("2D 512^2 type1 c128 grad eps1e-6", 1, 2, 512, M, 1e-6, true, reps, 32);
  bench_case<double>("2D 512^2 type2 c128 grad eps1e-6", 2, 2, 512, M, 1e-6, true, reps, 37);
  bench_case<float>("3D 64^3 type1 c64 grad eps1e-5", 1, 3, 64, M, 1e-5, true, reps, 49);
  bench_case<float>("3D 64^3 type2 c64 grad eps1e-5", 2, 3, 64, M, 1e-5, true, reps, 54);
}

// All 8 issue-3 cases, plain then gradient (filter by name substring).
void bench_pairs(int reps) {
  const long long M = 1000000;
  for (int d = 2; d <= 3; ++d)
    for (int type = 1; type <= 2; ++type)
      for (int f = 0; f < 2; ++f)
        for (int g = 0; g < 2; ++g) {
          char name[96];
          const long long N = d == 2 ? 512 : 64;
          std::snprintf(name, sizeof name, "%dD t%d %s%s", d, type, f ? "c64" : "c128", g ? " grad" : "");
          if (f) bench_case<float>(name, type, d, N, M, 1e-5, g, reps, 0);
          else bench_case<double>(name, type, d, N, M, 1e-6, g, reps, 0);
        }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::strcmp(argv[1], "bench") == 0) {
      if (argc > 3) g_filter = argv[3];
      bench(argc > 2 ? std::atoi(argv[2]) : 5);
      return 0;
    }
    if (argc > 1 && std::strcmp(argv[1], "pairs") == 0) {
      if (argc > 3) g_filter = argv[3];
      bench_pairs(argc > 2 ? std::atoi(argv[2]) : 5);
      return 0;
    }
    accuracy();
  } catch (const std::exception& e) {
    std::printf("FAIL exception: %s\n", e.what());
    return 1;
  }
  std::printf(failures ? "%d FAILURES\n" : "all passed\n", failures);
  return failures ? 1 : 0;
}
