//===- Sampler.cpp - the sampling chain (see sampler.h for the order) ----===//
#include "gemma4rt/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gemma4rt {

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

int32_t Sampler::sample(const float *logits, std::span<const int32_t> history) {
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

  auto better = [](const Cand &a, const Cand &b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };

  // 2. Greedy.
  if (isGreedy()) {
    int64_t best = 0;
    float bv = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < V; ++i)
      if (l[i] > bv) { // NaN never wins
        bv = l[i];
        best = i;
      }
    return static_cast<int32_t>(best);
  }

  cands_.resize(static_cast<size_t>(V));
  for (int64_t i = 0; i < V; ++i) {
    float x = l[i];
    cands_[size_t(i)] = {std::isnan(x) ? -std::numeric_limits<float>::infinity() : x,
                         static_cast<int32_t>(i)};
  }
  size_t kept = cands_.size();
  bool sorted = false;

  // 3. Top-k.
  if (params_.topK > 0 && params_.topK < V) {
    kept = size_t(params_.topK);
    std::nth_element(cands_.begin(), cands_.begin() + kept, cands_.end(), better);
    std::sort(cands_.begin(), cands_.begin() + kept, better);
    sorted = true;
  }

  // 4. Top-p, on the softmax over the kept candidates (temperature 1).
  if (params_.topP < 1.0 && kept > 1) {
    float maxL = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < kept; ++i)
      maxL = std::max(maxL, cands_[i].logit);
    double z = 0;
    for (size_t i = 0; i < kept; ++i)
      z += std::exp(double(cands_[i].logit) - maxL);
    const double target = params_.topP * z;
    // Sort a growing prefix until it holds the mass (avoids sorting the
    // whole vocabulary when no top-k came first).
    size_t m = sorted ? kept : std::min<size_t>(kept, 256);
    for (;;) {
      if (!sorted) {
        if (m < kept)
          std::nth_element(cands_.begin(), cands_.begin() + m, cands_.begin() + kept, better);
        std::sort(cands_.begin(), cands_.begin() + m, better);
      }
      double cum = 0;
      size_t cut = 0;
      bool found = false;
      for (size_t i = 0; i < m; ++i) {
        cum += std::exp(double(cands_[i].logit) - maxL);
        if (cum >= target) {
          cut = i + 1;
          found = true;
          break;
        }
      }
      if (found || m == kept) {
        kept = found ? cut : m;
        sorted = true;
        break;
      }
      m = std::min(kept, m * 4); // grow the sorted prefix and select again
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

} // namespace gemma4rt
