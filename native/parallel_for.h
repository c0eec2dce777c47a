// Minimal header-only fork/join helper for the native backend.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

namespace rk {

// RECON_KERNELS_THREADS (a positive integer) when set, else std::thread::hardware_concurrency().
inline int default_threads() {
  if (const char* s = std::getenv("RECON_KERNELS_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end != s && v > 0) return static_cast<int>(std::min<long>(v, 1024));
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}

inline int resolve_threads(int threads) { return threads > 0 ? threads : default_threads(); }

// Calls f(begin, end, chunk_index) over contiguous chunks covering [0, n). The number of chunks is
// min(threads, ceil(n / grain)); chunk c covers [n*c/chunks, n*(c+1)/chunks). Runs inline when a
// single chunk results. Chunk 0 runs on the calling thread. The first exception thrown by any
// chunk is rethrown after all chunks finished.
template <typename F>
void parallel_for(std::int64_t n, int threads, F&& f, std::int64_t grain = 1) {
  if (n <= 0) return;
  threads = resolve_threads(threads);
  grain = std::max<std::int64_t>(grain, 1);
  const std::int64_t chunks = std::min<std::int64_t>(threads, (n + grain - 1) / grain);
  if (chunks <= 1) {
    f(std::int64_t(0), n, 0);
    return;
  }
  std::vector<std::exception_ptr> errs(static_cast<size_t>(chunks));
  auto run = [&](std::int64_t c) {
    const std::int64_t b = n / chunks * c + (n % chunks) * c / chunks;
    const std::int64_t e = n / chunks * (c + 1) + (n % chunks) * (c + 1) / chunks;
    try {
      f(b, e, static_cast<int>(c));
    } catch (...) {
      errs[static_cast<size_t>(c)] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(chunks - 1));
  std::int64_t c = 1;
  try {
    for (; c < chunks; ++c) pool.emplace_back(run, c);
  } catch (...) {
    for (; c < chunks; ++c) run(c);  // could not start a thread: do the rest here
  }
  run(0);
  for (auto& t : pool) t.join();
  for (auto& e : errs)
    if (e) std::rethrow_exception(e);
}

}  // namespace rk
