//===- RuntimeThreadPoolTest.cpp - gemma4rt_parallel_for -------------------===//
#include "gemma4rt/threadpool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

using namespace gemma4rt;

namespace {

struct Recorder {
  std::mutex m;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::vector<std::atomic<int>> hits;
  std::vector<std::thread::id> threads;
  explicit Recorder(int64_t n) : hits(static_cast<size_t>(n)) {}
};

void record(void *ctx, int64_t b, int64_t e) {
  auto *r = static_cast<Recorder *>(ctx);
  for (int64_t i = b; i < e; ++i)
    r->hits[size_t(i)].fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> g(r->m);
  r->ranges.push_back({b, e});
  r->threads.push_back(std::this_thread::get_id());
}

void checkCoverage(Recorder &r, int64_t n, int64_t grain) {
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(r.hits[size_t(i)].load(), 1) << "index " << i << " of " << n;
  std::sort(r.ranges.begin(), r.ranges.end());
  int64_t at = 0;
  for (size_t k = 0; k < r.ranges.size(); ++k) {
    auto [b, e] = r.ranges[k];
    ASSERT_EQ(b, at);
    ASSERT_LT(b, e);
    if (k + 1 < r.ranges.size()) { // only the last chunk may be short
      ASSERT_GE(e - b, std::max<int64_t>(grain, 1)) << "chunk [" << b << ", " << e << ")";
    }
    at = e;
  }
  ASSERT_EQ(at, n);
}

} // namespace

TEST(RuntimeThreadPool, CoversEveryIndexOnceAndHonoursGrain) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 5, 7, 100, 1000, 12345})
      for (int64_t grain : {0, 1, 3, 64, 100000}) {
        Recorder r(n);
        pool.parallelFor(record, &r, n, grain);
        SCOPED_TRACE("threads " + std::to_string(threads) + " n " + std::to_string(n) +
                     " grain " + std::to_string(grain));
        checkCoverage(r, n, grain);
      }
  }
}

TEST(RuntimeThreadPool, GuidedChunksShrinkTowardsTheEnd) {
  // 2 participants: the first chunk takes a quarter of the loop, each next
  // one a quarter of what is left, none below 1/64 of the loop (2 x the
  // default GEMMA4RT_CHUNKS of 8 is under the least of 64 parts), so the
  // last participant waits for little.
  ThreadPool pool(2);
  const int64_t n = 6400;
  Recorder r(n);
  pool.parallelFor(record, &r, n, 1);
  checkCoverage(r, n, 1);
  ASSERT_GE(r.ranges.size(), 6u);
  EXPECT_EQ(r.ranges.front().second - r.ranges.front().first, 1600);
  for (size_t k = 1; k < r.ranges.size(); ++k)
    EXPECT_LE(r.ranges[k].second - r.ranges[k].first, r.ranges[k - 1].second - r.ranges[k - 1].first);
  EXPECT_EQ(r.ranges[r.ranges.size() - 2].second - r.ranges[r.ranges.size() - 2].first, 100);
  EXPECT_LE(r.ranges.back().second - r.ranges.back().first, 100); // the rest
  // 16 participants: 16 x 8 = 128 parts, the floor is 1/128 of the loop.
  ThreadPool wide(16);
  Recorder r16(n);
  wide.parallelFor(record, &r16, n, 1);
  checkCoverage(r16, n, 1);
  EXPECT_EQ(r16.ranges.front().second - r16.ranges.front().first, 200);
  EXPECT_EQ(r16.ranges[r16.ranges.size() - 2].second - r16.ranges[r16.ranges.size() - 2].first, 50);
}

TEST(RuntimeThreadPool, FewerItemsThanThreads) {
  ThreadPool pool(8);
  for (int rep = 0; rep < 200; ++rep) {
    Recorder r(3);
    pool.parallelFor(record, &r, 3, 1);
    checkCoverage(r, 3, 1);
  }
}

TEST(RuntimeThreadPool, SmallWorkRunsOnTheCaller) {
  ThreadPool pool(4);
  Recorder r(10);
  pool.parallelFor(record, &r, 10, 16); // one chunk: no hand-off
  ASSERT_EQ(r.threads.size(), 1u);
  EXPECT_EQ(r.threads[0], std::this_thread::get_id());
  ThreadPool single(1);
  Recorder r1(1000);
  single.parallelFor(record, &r1, 1000, 1);
  for (auto id : r1.threads)
    EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(RuntimeThreadPool, UsesTheWorkers) {
  ThreadPool pool(4);
  std::atomic<int> distinct{0};
  std::mutex m;
  std::vector<std::thread::id> ids;
  for (int rep = 0; rep < 50 && distinct.load() < 2; ++rep) {
    pool.parallelFor(1 << 16, 1, [&](int64_t, int64_t) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      std::lock_guard<std::mutex> g(m);
      auto id = std::this_thread::get_id();
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
        ids.push_back(id);
        distinct.store(int(ids.size()));
      }
    });
  }
  EXPECT_GE(distinct.load(), 2);
}

TEST(RuntimeThreadPool, ManyTinyCallsStayCorrectAndCheap) {
  ThreadPool pool(std::min(4, std::max(2, defaultThreadCount())));
  std::vector<std::atomic<int64_t>> sums(64);
  const int calls = 20000;
  auto t0 = std::chrono::steady_clock::now();
  for (int c = 0; c < calls; ++c)
    pool.parallelFor(64, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        sums[size_t(i)].fetch_add(1, std::memory_order_relaxed);
    });
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                  .count() / calls;
  for (auto &s : sums)
    ASSERT_EQ(s.load(), calls);
  std::printf("[ info ] parallel_for round trip: %.2f us per call (%d threads)\n", us,
              pool.size());
  EXPECT_LT(us, 2000.0); // generous: CI machines are shared
}

TEST(RuntimeThreadPool, WakesSleepingWorkers) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 5; ++rep) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5)); // past the spin window
    Recorder r(5000);
    pool.parallelFor(record, &r, 5000, 10);
    checkCoverage(r, 5000, 10);
  }
}

TEST(RuntimeThreadPool, NestedCallsRunSerially) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(100 * 100);
  pool.parallelFor(100, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      pool.parallelFor(100, 1, [&](int64_t bb, int64_t ee) {
        for (int64_t j = bb; j < ee; ++j)
          hits[size_t(i * 100 + j)].fetch_add(1);
      });
  });
  for (auto &h : hits)
    ASSERT_EQ(h.load(), 1);
}

TEST(RuntimeThreadPool, ConcurrentCallersBothComplete) {
  ThreadPool pool(3);
  auto work = [&](std::vector<std::atomic<int>> &hits) {
    for (int rep = 0; rep < 500; ++rep)
      pool.parallelFor(int64_t(hits.size()), 4, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          hits[size_t(i)].fetch_add(1);
      });
  };
  std::vector<std::atomic<int>> a(300), b(300);
  std::thread other([&] { work(b); });
  work(a);
  other.join();
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].load(), 500);
    ASSERT_EQ(b[i].load(), 500);
  }
}

TEST(RuntimeThreadPool, GlobalEntryPoint) {
  setThreadCount(3);
  EXPECT_EQ(globalThreadPool().size(), 3);
  Recorder r(777);
  gemma4rt_parallel_for(record, &r, 777, 5);
  checkCoverage(r, 777, 5);
  setThreadCount(1);
  Recorder r1(50);
  gemma4rt_parallel_for(record, &r1, 50, 1);
  checkCoverage(r1, 50, 1);
  EXPECT_GE(defaultThreadCount(), 1);
}
