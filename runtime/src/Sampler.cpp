//===- Sampler.cpp - the sampling chain (see sampler.h for the order) ----===//
#include "gemma4rt/sampler.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <cmath>
#include <limits>

namespace gemma4rt {

uint64_t freshSeed() {
  static std::atomic<uint64_t> salt{0};
  std::random_device rd;
  return (uint64_t(rd()) << 32) ^ rd() ^
         uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^
         (salt.fetch_add(1) * 0x9e3779b97f4a7c15ull);
}

//===----------------------------------------------------------------------===//
// Rng: xoshiro256**
//===----------------------------------------------------------------------===//

namespace {
uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
} // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto &s : s_)
    s = splitmix64(x);
}

uint64_t Rng::next() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

//===----------------------------------------------------------------------===//
// Sampler
//===----------------------------------------------------------------------===//

Sampler::Sampler(const SamplerParams &params, int64_t vocab)
    : params_(params), vocab_(vocab), rng_(params.seed) {
  seen_.assign(static_cast<size_t>(vocab), 0);
}

bool Sampler::isGreedy() const { return params_.greedy || params_.temperature <= 0.0; }

// Top-p over candidates [0, kept) in no particular order: bucket them by
// logit (mass per bucket), find the bucket where the cumulative mass reaches
// topP of the total, sort only the candidates down to that bucket and cut exactly.
// Every token of the nucleus lies in those buckets, so the result equals a
// full sort's. Leaves the kept prefix sorted; returns its length.
size_t Sampler::nucleusUnsorted(size_t kept, float maxL, double topP) {
  constexpr int kBuckets = 1024;
  constexpr double kRange = 32.0; // nats below the max; the rest share the last bucket
  const double scale = kBuckets / kRange;
  double mass[kBuckets] = {};
  auto bucketOf = [&](float l) {
    double d = (double(maxL) - l) * scale;
    return d >= kBuckets - 1 ? kBuckets - 1 : d <= 0 ? 0 : int(d);
  };
  for (size_t i = 0; i < kept; ++i)
    mass[bucketOf(cands_[i].logit)] += std::exp(cands_[i].logit - maxL); // float exp
  double z = 0;
  for (double x : mass)
    z += x;
  const double target = topP * z;
  double cum = 0;
  int last = kBuckets - 1;
  for (int b = 0; b < kBuckets; ++b) {
    cum += mass[b];
    if (cum >= target) {
      last = b;
      break;
    }
  }
  auto mid = std::partition(cands_.begin(), cands_.begin() + kept,
                            [&](const Cand &c) { return bucketOf(c.logit) <= last; });
  size_t m = size_t(mid - cands_.begin());
  std::sort(cands_.begin(), mid, [](const Cand &a, const Cand &b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  });
  cum = 0;
  for (size_t i = 0; i < m; ++i) {
    cum += std::exp(double(cands_[i].logit) - maxL);
    if (cum >= target)
      return i + 1;
  }
  return m;
}

const float *Sampler::penalized(const float *logits, std::span<const int32_t> history) {
  const int64_t V = vocab_;
  const float *l = logits;

  // 1. Repetition penalty (on a copy; the caller's logits stay untouched).
  if (params_.repeatPenalty != 1.0 && !history.empty()) {
    work_.assign(logits, logits + V);
    size_t n = history.size();
    size_t from = params_.repeatLastN < 0 ? 0
                  : n > size_t(params_.repeatLastN) ? n - size_t(params_.repeatLastN)
                                                      : 0;
    const float pen = static_cast<float>(params_.repeatPenalty);
    for (size_t i = from; i < n; ++i) {
      int32_t t = history[i];
      if (t < 0 || t >= V || seen_[size_t(t)])
        continue;
      seen_[size_t(t)] = 1;
      float &x = work_[size_t(t)];
      x = x > 0 ? x / pen : x * pen;
    }
    for (size_t i = from; i < n; ++i)
      if (history[i] >= 0 && history[i] < V)
        seen_[size_t(history[i])] = 0;
    l = work_.data();
  }
  return l;
}

int32_t Sampler::argmax(const float *l) const {
  const int64_t V = vocab_;
  // 2. Greedy: the first index of the largest logit; NaN never wins, and
  // with no logit above -inf the answer is 0. The maximum is taken over 8
  // independent lanes (no loop-carried compare-and-branch: 262144 logits
  // took 0.2 ms per token that way), then its first index is found.
  {
    constexpr float kNegInf = -std::numeric_limits<float>::infinity();
    float lane[8] = {kNegInf, kNegInf, kNegInf, kNegInf, kNegInf, kNegInf, kNegInf, kNegInf};
    int64_t i = 0;
    for (; i + 8 <= V; i += 8)
      for (int k = 0; k < 8; ++k)
        lane[k] = l[i + k] > lane[k] ? l[i + k] : lane[k];
    float bv = kNegInf;
    for (; i < V; ++i)
      bv = l[i] > bv ? l[i] : bv;
    for (float x : lane)
      bv = x > bv ? x : bv;
    if (bv == kNegInf)
      return 0;
    for (i = 0; i < V; ++i)
      if (l[i] == bv)
        return static_cast<int32_t>(i);
    return 0;
  }
}

size_t Sampler::filter(const float *l) {
  const int64_t V = vocab_;
  auto better = [](const Cand &a, const Cand &b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  size_t kept = 0;
  bool sorted = false;
  auto clean = [](float x) { return std::isnan(x) ? -std::numeric_limits<float>::infinity() : x; };

  // 3. Top-k: one pass with a heap of the k best (its front is the worst
  // kept), so a large vocabulary costs ~V comparisons.
  if (params_.topK > 0 && params_.topK < V) {
    const size_t k = size_t(params_.topK);
    cands_.clear();
    cands_.reserve(k);
    for (int64_t i = 0; i < V; ++i) {
      Cand c{clean(l[i]), static_cast<int32_t>(i)};
      if (cands_.size() < k) {
        cands_.push_back(c);
        std::push_heap(cands_.begin(), cands_.end(), better);
      } else if (better(c, cands_.front())) {
        std::pop_heap(cands_.begin(), cands_.end(), better);
        cands_.back() = c;
        std::push_heap(cands_.begin(), cands_.end(), better);
      }
    }
    std::sort(cands_.begin(), cands_.end(), better);
    kept = k;
    sorted = true;
  } else {
    cands_.resize(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; ++i)
      cands_[size_t(i)] = {clean(l[i]), static_cast<int32_t>(i)};
    kept = cands_.size();
  }

  // 4. Top-p, on the softmax over the kept candidates (temperature 1).
  if (params_.topP < 1.0 && kept > 1) {
    float maxL = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < kept; ++i)
      maxL = std::max(maxL, cands_[i].logit);
    if (std::isfinite(maxL)) {
      if (sorted) {
        double z = 0;
        for (size_t i = 0; i < kept; ++i)
          z += std::exp(double(cands_[i].logit) - maxL);
        const double target = params_.topP * z;
        double cum = 0;
        size_t cut = kept;
        for (size_t i = 0; i < kept; ++i) {
          cum += std::exp(double(cands_[i].logit) - maxL);
          if (cum >= target) {
            cut = i + 1;
            break;
          }
        }
        kept = std::max<size_t>(1, cut);
      } else {
        kept = std::max<size_t>(1, nucleusUnsorted(kept, maxL, params_.topP));
        sorted = true;
      }
    }
  }

  // 5. Min-p: p_i >= min_p * p_max  <=>  l_i - l_max >= log(min_p).
  if (params_.minP > 0.0 && kept > 1) {
    float maxL = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < kept; ++i)
      maxL = std::max(maxL, cands_[i].logit);
    const double thr = double(maxL) + std::log(params_.minP);
    size_t w = 0;
    for (size_t i = 0; i < kept; ++i)
      if (double(cands_[i].logit) >= thr)
        cands_[w++] = cands_[i];
    kept = std::max<size_t>(1, w);
  }
  return kept;
}

int32_t Sampler::sample(const float *logits, std::span<const int32_t> history) {
  const float *l = penalized(logits, history);
  if (isGreedy())
    return argmax(l);
  const size_t kept = filter(l);

  // 6. Temperature, softmax; 7. draw.
  const double invT = 1.0 / params_.temperature;
  float maxL = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < kept; ++i)
    maxL = std::max(maxL, cands_[i].logit);
  if (!std::isfinite(maxL)) // everything -inf/NaN: fall back to the first
    return cands_[0].id;
  work_.resize(std::max(work_.size(), kept));
  // work_ may hold the penalised logits, which are no longer needed.
  double z = 0;
  for (size_t i = 0; i < kept; ++i) {
    double p = std::exp((double(cands_[i].logit) - maxL) * invT);
    work_[i] = static_cast<float>(p);
    z += p;
  }
  double u = rng_.uniform() * z;
  double cum = 0;
  for (size_t i = 0; i < kept; ++i) {
    cum += work_[i];
    if (u < cum)
      return cands_[i].id;
  }
  // Rounding: return the last candidate with non-zero probability.
  for (size_t i = kept; i-- > 0;)
    if (work_[i] > 0)
      return cands_[i].id;
  return cands_[0].id;
}

void Sampler::distribution(const float *logits, std::span<const int32_t> history,
                           std::vector<std::pair<int32_t, double>> &out) {
  out.clear();
  const float *l = penalized(logits, history);
  if (isGreedy()) {
    out.emplace_back(argmax(l), 1.0);
    return;
  }
  const size_t kept = filter(l);
  const double invT = 1.0 / params_.temperature;
  float maxL = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < kept; ++i)
    maxL = std::max(maxL, cands_[i].logit);
  if (!std::isfinite(maxL)) {
    out.emplace_back(cands_[0].id, 1.0);
    return;
  }
  double z = 0;
  for (size_t i = 0; i < kept; ++i) {
    double p = std::exp((double(cands_[i].logit) - maxL) * invT);
    out.emplace_back(cands_[i].id, p);
    z += p;
  }
  for (auto &[id, p] : out)
    p /= z;
}

int32_t Sampler::draw(const Distribution &dist) {
  if (dist.empty())
    return 0;
  if (dist.size() == 1)
    return dist.front().first;
  const double u = rng_.uniform();
  double cum = 0;
  for (const auto &[id, p] : dist)
    if (u < (cum += p))
      return id;
  for (size_t i = dist.size(); i-- > 0;) // rounding: the last with mass
    if (dist[i].second > 0)
      return dist[i].first;
  return dist.front().first;
}

int32_t Sampler::acceptOrResample(const Distribution &p, const Distribution &q, int32_t d,
                                  bool &accepted) {
  double pd = 0, qd = 0;
  for (const auto &[id, pr] : p)
    if (id == d)
      pd = pr;
  for (const auto &[id, pr] : q)
    if (id == d)
      qd = pr;
  if (p.size() == 1 && q.size() == 1) { // greedy: no draws
    accepted = pd > 0;
    return accepted ? d : p.front().first;
  }
  accepted = qd > 0 && rng_.uniform() * qd < pd;
  if (accepted)
    return d;
  if (qDense_.size() != size_t(vocab_))
    qDense_.assign(size_t(vocab_), 0.0);
  for (const auto &[id, pr] : q)
    if (id >= 0 && id < vocab_)
      qDense_[size_t(id)] = pr;
  Distribution r;
  double z = 0;
  for (const auto &[id, pr] : p) {
    double w = std::max(0.0, pr - (id >= 0 && id < vocab_ ? qDense_[size_t(id)] : 0.0));
    if (w > 0) {
      r.emplace_back(id, w);
      z += w;
    }
  }
  for (const auto &[id, pr] : q)
    if (id >= 0 && id < vocab_)
      qDense_[size_t(id)] = 0.0;
  if (z <= 0)
    return draw(p);
  for (auto &[id, w] : r)
    w /= z;
  return draw(r);
}

} // namespace gemma4rt
