//===- ThreadPool.cpp - persistent workers for gemma4rt_parallel_for -----===//
//
// Protocol (all counters seq_cst where two threads race on them):
//  * `epoch` is odd while a job runs and even between jobs. The caller writes
//    the job fields only while the epoch is even and no worker is `active`,
//    then publishes with epoch+1 (odd) and wakes sleepers.
//  * A worker that sees a new odd epoch e increments `active`, re-reads the
//    epoch and backs off unless it is still e; it then claims chunks from
//    `next` until none is left, counting finished ones in `done`.
//  * The caller claims chunks too, waits for done == nchunks, closes the job
//    (epoch+1, even) and waits for active == 0 before returning, so no worker
//    can touch a job's fields after its parallel_for returned.
//  * Idle workers spin for GEMMA4RT_SPIN_US microseconds (default 100), then
//    sleep on a futex on `epoch`; the caller issues FUTEX_WAKE only when some
//    worker announced it sleeps (`sleepers`).
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <sched.h>
#include <thread>
#include <vector>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace gemma4rt {

namespace {

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

void futexWait(std::atomic<uint32_t> &word, uint32_t expected) {
#ifdef __linux__
  ::syscall(SYS_futex, reinterpret_cast<uint32_t *>(&word), FUTEX_WAIT_PRIVATE, expected,
            nullptr, nullptr, 0);
#else
  word.wait(expected);
#endif
}

void futexWakeAll(std::atomic<uint32_t> &word) {
#ifdef __linux__
  ::syscall(SYS_futex, reinterpret_cast<uint32_t *>(&word), FUTEX_WAKE_PRIVATE, INT_MAX,
            nullptr, nullptr, 0);
#else
  word.notify_all();
#endif
}

thread_local bool tlsInPool = false; // a worker, or a caller inside parallelFor

int64_t spinMicros() {
  static const int64_t us = [] {
    const char *s = std::getenv("GEMMA4RT_SPIN_US");
    if (!s || !*s)
      return int64_t(100);
    char *end = nullptr;
    long long v = std::strtoll(s, &end, 10);
    return (end && *end == 0 && v >= 0) ? int64_t(v) : int64_t(100);
  }();
  return us;
}

} // namespace

int defaultThreadCount() {
#ifdef __linux__
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return n;
  }
#endif
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

struct ThreadPool::Impl {
  explicit Impl(int threads) : nthreads(std::max(1, threads)) {
    workers.reserve(nthreads - 1);
    for (int i = 1; i < nthreads; ++i)
      workers.emplace_back([this] { workerMain(); });
  }

  ~Impl() {
    stop.store(true, std::memory_order_seq_cst);
    epoch.fetch_add(2, std::memory_order_seq_cst); // keep parity, change value
    futexWakeAll(epoch);
    for (auto &t : workers)
      t.join();
  }

  void runChunks() {
    for (;;) {
      int64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= nchunks)
        return;
      int64_t b = i * chunk;
      int64_t e = std::min(n, b + chunk);
      body(ctx, b, e);
      done.fetch_add(1, std::memory_order_release);
    }
  }

  // Returns an odd epoch != seen, or 0 when stopping.
  uint32_t waitForJob(uint32_t seen) {
    using clock = std::chrono::steady_clock;
    const int64_t budget = spinMicros();
    auto deadline = clock::now() + std::chrono::microseconds(budget);
    for (;;) {
      for (int k = 0;; ++k) {
        if (stop.load(std::memory_order_acquire))
          return 0;
        uint32_t e = epoch.load(std::memory_order_acquire);
        if ((e & 1) && e != seen)
          return e;
        cpuRelax();
        if ((k & 63) == 63 && clock::now() >= deadline)
          break;
      }
      sleepers.fetch_add(1, std::memory_order_seq_cst);
      uint32_t e = epoch.load(std::memory_order_seq_cst);
      if (!stop.load(std::memory_order_seq_cst) && !((e & 1) && e != seen))
        futexWait(epoch, e);
      sleepers.fetch_sub(1, std::memory_order_seq_cst);
      // Woken: spin a little again before sleeping (spurious wake-ups, or a
      // wake for a job this worker already saw close).
      deadline = clock::now() + std::chrono::microseconds(budget);
    }
  }

  void workerMain() {
    tlsInPool = true;
    uint32_t seen = 0;
    for (;;) {
      uint32_t e = waitForJob(seen);
      if (e == 0)
        return;
      seen = e;
      active.fetch_add(1, std::memory_order_seq_cst);
      if (epoch.load(std::memory_order_seq_cst) == e)
        runChunks();
      active.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  void parallelFor(gemma4rt_body_fn fn, void *c, int64_t count, int64_t grain) {
    if (count <= 0)
      return;
    grain = std::max<int64_t>(grain, 1);
    if (nthreads == 1 || count <= grain || tlsInPool) {
      fn(c, 0, count);
      return;
    }
    std::unique_lock<std::mutex> lock(callMutex, std::try_to_lock);
    if (!lock.owns_lock()) { // another thread is using the pool: run serially
      fn(c, 0, count);
      return;
    }
    // About 4 chunks per participant for balance, never below the grain.
    int64_t target = int64_t(nthreads) * 4;
    int64_t ch = std::max(grain, (count + target - 1) / target);
    int64_t nch = (count + ch - 1) / ch;
    if (nch <= 1) {
      fn(c, 0, count);
      return;
    }
    tlsInPool = true;
    body = fn;
    ctx = c;
    n = count;
    chunk = ch;
    nchunks = nch;
    next.store(0, std::memory_order_relaxed);
    done.store(0, std::memory_order_relaxed);
    uint32_t e = epoch.load(std::memory_order_relaxed) + 1; // odd: running
    epoch.store(e, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0)
      futexWakeAll(epoch);

    runChunks();

    for (int k = 0; done.load(std::memory_order_acquire) < nch; ++k) {
      cpuRelax();
      if (k > 4096)
        std::this_thread::yield();
    }
    epoch.store(e + 1, std::memory_order_seq_cst); // even: closed
    for (int k = 0; active.load(std::memory_order_seq_cst) != 0; ++k) {
      cpuRelax();
      if (k > 4096)
        std::this_thread::yield();
    }
    tlsInPool = false;
  }

  const int nthreads;
  std::vector<std::thread> workers;
  std::mutex callMutex;

  // The job (written by the caller only between jobs).
  gemma4rt_body_fn body = nullptr;
  void *ctx = nullptr;
  int64_t n = 0, chunk = 0, nchunks = 0;

  alignas(64) std::atomic<uint32_t> epoch{0};
  alignas(64) std::atomic<int64_t> next{0};
  alignas(64) std::atomic<int64_t> done{0};
  alignas(64) std::atomic<int> active{0};
  alignas(64) std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
};

ThreadPool::ThreadPool(int threads) : impl_(std::make_unique<Impl>(threads)) {}
ThreadPool::~ThreadPool() = default;
int ThreadPool::size() const { return impl_->nthreads; }
void ThreadPool::parallelFor(gemma4rt_body_fn body, void *ctx, int64_t n, int64_t grain) {
  impl_->parallelFor(body, ctx, n, grain);
}

namespace {
std::mutex gPoolMutex;
std::atomic<ThreadPool *> gPool{nullptr};
} // namespace

ThreadPool &globalThreadPool() {
  ThreadPool *p = gPool.load(std::memory_order_acquire);
  if (p)
    return *p;
  std::lock_guard<std::mutex> g(gPoolMutex);
  p = gPool.load(std::memory_order_relaxed);
  if (!p) {
    p = new ThreadPool(defaultThreadCount()); // lives until exit
    gPool.store(p, std::memory_order_release);
  }
  return *p;
}

void setThreadCount(int threads) {
  std::lock_guard<std::mutex> g(gPoolMutex);
  ThreadPool *old = gPool.load(std::memory_order_relaxed);
  if (old && old->size() == std::max(1, threads))
    return;
  gPool.store(new ThreadPool(threads), std::memory_order_release);
  delete old;
}

} // namespace gemma4rt

extern "C" void gemma4rt_parallel_for(gemma4rt_body_fn body, void *ctx, int64_t n,
                                      int64_t grain) {
  gemma4rt::globalThreadPool().parallelFor(body, ctx, n, grain);
}
