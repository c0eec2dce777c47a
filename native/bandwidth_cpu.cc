// Host copy bandwidth probe (see cuda/bandwidth.h).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>

#include "bandwidth.h"
#include "parallel_for.h"

namespace rk {

double cpu_copy_bandwidth_gbs(std::int64_t bytes, int repeat, int threads) {
  if (bytes < 1) bytes = 1;
  repeat = std::max(repeat, 1);
  threads = resolve_threads(threads);
  std::unique_ptr<char[]> src(new char[static_cast<size_t>(bytes)]);
  std::unique_ptr<char[]> dst(new char[static_cast<size_t>(bytes)]);
  const std::int64_t grain = 1 << 20;
  char* s = src.get();
  char* d = dst.get();
  // first touch with the same chunking as the copy
  parallel_for(
      bytes, threads,
      [&](std::int64_t b, std::int64_t e, int) {
        std::memset(s + b, 1, static_cast<size_t>(e - b));
        std::memset(d + b, 0, static_cast<size_t>(e - b));
      },
      grain);
  auto copy = [&] {
    parallel_for(
        bytes, threads,
        [&](std::int64_t b, std::int64_t e, int) {
          std::memcpy(d + b, s + b, static_cast<size_t>(e - b));
        },
        grain);
  };
  copy();  // warm-up
  double best = -1.0;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    copy();
    const auto t1 = std::chrono::steady_clock::now();
    const double sec = std::chrono::duration<double>(t1 - t0).count();
    if (best < 0.0 || sec < best) best = sec;
  }
  if (best <= 0.0) return 0.0;
  return 2.0 * double(bytes) / best / 1e9;
}

}  // namespace rk
