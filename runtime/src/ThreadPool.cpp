//===- ThreadPool.cpp - persistent workers for gemma4rt_parallel_for -----===//
//
// Protocol:
//  * The caller writes the job (body, ctx, n, chunk: relaxed atomics), resets
//    `done`, stores the claim word {epoch, nchunks, next = 0} (release) and
//    bumps `epoch`, waking sleeping workers only if some announced sleep.
//  * Participants (workers and the caller) claim chunk indices with
//    fetch_add on the claim word. An index below the word's nchunks is a
//    chunk of the job that word belongs to, whatever job the participant
//    woke for; the job fields read after that fetch_add are that job's: they
//    were written before the word was published, and the caller cannot write
//    the next job before this chunk is counted in `done` (each participant
//    adds its count once it finds nothing left to claim). An index past
//    nchunks means the job is fully claimed (the overshoot is harmless: at
//    most one per participant per job, and the next job resets the word).
//  * The caller claims chunks too and returns once done == nchunks. It never
//    waits for workers that did not take part (asleep, descheduled).
//  * Idle workers spin for GEMMA4RT_SPIN_US microseconds (default 100), then
//    sleep on a futex on `epoch`.
//  * A job is split into chunks of decreasing size (guided): each takes
//    1/(2 x participants) of what is left, but no fewer iterations than
//    1/max(64, participants x GEMMA4RT_CHUNKS) of the job (default 8) nor
//    than the grain. The first chunks are large (few claims), the last
//    small, so the participant that finishes last waits little for the
//    others. The 64 matters for few threads: with 2, a floor of 1/16 of a
//    decode matrix-vector product left one thread waiting ~1 ms per token
//    (E2B int4) for the other's last chunk; 1/64 cut that to ~0.35 ms. The
//    grain (the compiler's, from the bytes a step streams) keeps chunks
//    large enough that claiming them costs little.
//  * GEMMA4RT_PROFILE: the calling thread times each top-level call, and
//    how long it waits for other participants, per body function.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <sched.h>
#include <thread>
#include <unordered_map>
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

// An integer environment setting in [lo, hi]; `def` when unset or invalid.
int64_t envInt(const char *name, int64_t def, int64_t lo, int64_t hi) {
  const char *s = std::getenv(name);
  if (!s || !*s)
    return def;
  char *end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  return (end && *end == 0 && v >= lo && v <= hi) ? int64_t(v) : def;
}

// GEMMA4RT_SPIN_US: how long an idle worker spins before it sleeps.
int64_t spinMicros() {
  static const int64_t us = envInt("GEMMA4RT_SPIN_US", 100, 0, INT64_MAX);
  return us;
}

// GEMMA4RT_CHUNKS: the smallest chunk of a parallel_for is 1/max(64,
// participants x this) of it (default 8; the guided schedule's first chunks
// are larger).
int64_t chunksPerThread() {
  static const int64_t n = envInt("GEMMA4RT_CHUNKS", 8, 1, 64);
  return n;
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
  explicit Impl(int threads) : nthreads(std::clamp(threads, 1, 4096)) {
    workers.reserve(nthreads - 1);
    for (int i = 1; i < nthreads; ++i)
      workers.emplace_back([this] { workerMain(); });
  }

  ~Impl() {
    stop.store(true, std::memory_order_seq_cst);
    epoch.fetch_add(1, std::memory_order_seq_cst);
    futexWakeAll(epoch);
    for (auto &t : workers)
      t.join();
  }

  static constexpr uint64_t kNextBits = 16, kChunkMask = (uint64_t(1) << kNextBits) - 1;
  // Leaves room for the overshoot (<= one per participant) below 2^16.
  static constexpr int64_t kMaxChunks = 16384;
  static uint64_t pack(uint32_t e, uint64_t nch, uint64_t next) {
    return (uint64_t(e) << 32) | (nch << kNextBits) | next;
  }

  // Claims and runs chunks until the current job is fully claimed.
  void runChunks() {
    int64_t ran = 0;
    for (;;) {
      uint64_t w = word.fetch_add(1, std::memory_order_acq_rel);
      uint64_t next = w & kChunkMask, nch = (w >> kNextBits) & kChunkMask;
      if (next >= nch)
        break;
      gemma4rt_body_fn fn = body.load(std::memory_order_relaxed);
      void *c = ctx.load(std::memory_order_relaxed);
      fn(c, bounds[next], bounds[next + 1]);
      ++ran;
    }
    // One update per participant rather than per chunk (less contention).
    if (ran)
      done.fetch_add(ran, std::memory_order_release);
  }

  // Returns once the epoch differs from `seen` (a new job) or stop is set.
  uint32_t waitForJob(uint32_t seen) {
    using clock = std::chrono::steady_clock;
    const int64_t budget = spinMicros();
    auto deadline = clock::now() + std::chrono::microseconds(budget);
    for (;;) {
      for (int k = 0;; ++k) {
        uint32_t e = epoch.load(std::memory_order_acquire);
        if (e != seen || stop.load(std::memory_order_relaxed))
          return e;
        cpuRelax();
        if ((k & 63) == 63 && clock::now() >= deadline)
          break;
      }
      sleepers.fetch_add(1, std::memory_order_seq_cst);
      uint32_t e = epoch.load(std::memory_order_seq_cst);
      if (e == seen && !stop.load(std::memory_order_seq_cst))
        futexWait(epoch, e);
      sleepers.fetch_sub(1, std::memory_order_seq_cst);
      deadline = clock::now() + std::chrono::microseconds(budget);
    }
  }

  void workerMain() {
    tlsInPool = true;
    uint32_t seen = 0;
    for (;;) {
      uint32_t e = waitForJob(seen);
      if (stop.load(std::memory_order_acquire))
        return;
      seen = e;
      runChunks();
    }
  }

  void parallelFor(gemma4rt_body_fn fn, void *c, int64_t count, int64_t grain) {
    if (!profiling.load(std::memory_order_relaxed) || tlsInPool)
      return run(fn, c, count, grain);
    // Top-level call with the profile on: time it as a whole and, for a
    // parallel run, the caller's wait for the other participants.
    auto t0 = std::chrono::steady_clock::now();
    waitNs = 0;
    run(fn, c, count, grain);
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count();
    ProfileEntry &e = profile[reinterpret_cast<uintptr_t>(fn)];
    e.calls += 1;
    e.ns += ns;
    e.waitNs += waitNs;
    e.parallel += lastParallel ? 1 : 0;
  }

  void run(gemma4rt_body_fn fn, void *c, int64_t count, int64_t grain) {
    lastParallel = false;
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
    int64_t nch = schedule(count, grain);
    if (nch <= 1) {
      fn(c, 0, count);
      return;
    }
    tlsInPool = true;
    body.store(fn, std::memory_order_relaxed);
    ctx.store(c, std::memory_order_relaxed);
    done.store(0, std::memory_order_relaxed);
    uint32_t e = epoch.load(std::memory_order_relaxed) + 1;
    if (e == 0) // 0 is every worker's initial `seen`
      e = 1;
    word.store(pack(e, uint64_t(nch), 0), std::memory_order_release);
    epoch.store(e, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0)
      futexWakeAll(epoch);

    runChunks();

    bool timed = profiling.load(std::memory_order_relaxed);
    auto w0 = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    for (int k = 0; done.load(std::memory_order_acquire) < nch; ++k) {
      cpuRelax();
      if (k > 4096)
        std::this_thread::yield();
    }
    if (timed) {
      waitNs = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - w0)
                   .count();
      lastParallel = true;
    }
    tlsInPool = false;
  }

  // Fills bounds[0..nch] with the guided chunks of [0, count) and returns
  // nch: each chunk takes 1/(2 x participants) of what is left, at least
  // the floor (grain; 1/max(64, participants x GEMMA4RT_CHUNKS) of the job).
  static constexpr int64_t kMinFloorParts = 64;
  int64_t schedule(int64_t count, int64_t grain) {
    const int64_t p = nthreads;
    const int64_t parts = std::max(kMinFloorParts, p * chunksPerThread());
    const int64_t floorCh = std::max(grain, (count + parts - 1) / parts);
    int64_t nch = 0, at = 0;
    while (at < count && nch < kMaxChunks) {
      bounds[size_t(nch++)] = at;
      at += std::max(floorCh, (count - at + 2 * p - 1) / (2 * p));
    }
    bounds[size_t(nch)] = count; // the last chunk takes any rest
    return nch;
  }

  // GEMMA4RT_PROFILE: per body function, top-level calls only (the calling
  // thread's view), written by the one thread that holds the pool.
  std::atomic<bool> profiling{false};
  std::unordered_map<uintptr_t, ProfileEntry> profile;
  int64_t waitNs = 0;
  bool lastParallel = false;

  const int nthreads;
  std::vector<std::thread> workers;
  std::mutex callMutex;

  // The job; see the protocol above. Chunk i is [bounds[i], bounds[i+1]),
  // written like the other job fields before the claim word is published.
  std::atomic<gemma4rt_body_fn> body{nullptr};
  std::atomic<void *> ctx{nullptr};
  std::vector<int64_t> bounds = std::vector<int64_t>(size_t(kMaxChunks) + 1);

  alignas(64) std::atomic<uint32_t> epoch{0};
  alignas(64) std::atomic<uint64_t> word{0}; // {epoch:32, nchunks:16, next:16}
  alignas(64) std::atomic<int64_t> done{0};
  alignas(64) std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
};

ThreadPool::ThreadPool(int threads) : impl_(std::make_unique<Impl>(threads)) {}
ThreadPool::~ThreadPool() = default;
int ThreadPool::size() const { return impl_->nthreads; }
void ThreadPool::parallelFor(gemma4rt_body_fn body, void *ctx, int64_t n, int64_t grain) {
  impl_->parallelFor(body, ctx, n, grain);
}
void ThreadPool::setProfiling(bool on) {
  if (on)
    impl_->profile.clear();
  impl_->profiling.store(on, std::memory_order_relaxed);
}
std::vector<std::pair<uintptr_t, ProfileEntry>> ThreadPool::profile() const {
  return {impl_->profile.begin(), impl_->profile.end()};
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
