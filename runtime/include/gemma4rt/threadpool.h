//===- threadpool.h - the pool behind gemma4rt_parallel_for -----*- C++ -*-===//
//
// Persistent workers (threads - 1 of them; the calling thread is the last
// participant). A parallel_for publishes a job, wakes the workers (they spin
// briefly after each job, then sleep on a futex), and every participant claims
// chunks of >= grain iterations from a shared counter until none is left
// (guided: large chunks first, small ones last, see ThreadPool.cpp); the
// caller returns when all chunks are done, without waiting for workers that
// took none. No thread is created per call. Calls from inside a body
// (nesting) or from a second thread while one runs execute serially on the
// caller.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_THREADPOOL_H
#define GEMMA4RT_THREADPOOL_H

#include "gemma4rt/abi.h"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace gemma4rt {

/// CPUs this process may run on (sched_getaffinity), at least 1.
int defaultThreadCount();

/// Time spent in one body function's parallel_for calls (GEMMA4RT_PROFILE).
struct ProfileEntry {
  int64_t calls = 0;    ///< top-level calls
  int64_t parallel = 0; ///< of them, run by several participants
  int64_t ns = 0;       ///< wall time of the calls, as the caller sees it
  int64_t waitNs = 0;   ///< of it, the caller waiting for others' chunks
};

class ThreadPool {
public:
  /// `threads` participants including the caller, clamped to [1, 4096].
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const;
  /// Starts (clearing what was recorded) or stops recording top-level calls.
  void setProfiling(bool on);
  /// What was recorded, keyed by body function address.
  std::vector<std::pair<uintptr_t, ProfileEntry>> profile() const;
  void parallelFor(gemma4rt_body_fn body, void *ctx, int64_t n, int64_t grain);

  template <typename F> void parallelFor(int64_t n, int64_t grain, F &&f) {
    parallelFor(
        [](void *c, int64_t b, int64_t e) { (*static_cast<F *>(c))(b, e); },
        &f, n, grain);
  }

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

/// The global pool gemma4rt_parallel_for uses. Created on first use with
/// defaultThreadCount() threads unless setThreadCount came first.
ThreadPool &globalThreadPool();
/// (Re)creates the global pool with `threads` participants. Not while a
/// parallel_for runs.
void setThreadCount(int threads);

} // namespace gemma4rt

#endif
