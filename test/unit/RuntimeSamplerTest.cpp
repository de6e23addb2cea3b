//===- RuntimeSamplerTest.cpp - gemma4rt sampling chain --------------------===//
#include "gemma4rt/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <vector>

using namespace gemma4rt;

namespace {

SamplerParams plain(uint64_t seed = 1) {
  SamplerParams p;
  p.temperature = 1.0;
  p.topK = 0;
  p.topP = 1.0;
  p.minP = 0.0;
  p.repeatPenalty = 1.0;
  p.seed = seed;
  return p;
}

std::vector<float> logitsFor(const std::vector<double> &probs) {
  std::vector<float> l;
  for (double p : probs)
    l.push_back(static_cast<float>(std::log(p)));
  return l;
}

std::map<int32_t, int> histogram(Sampler &s, const std::vector<float> &l, int n) {
  std::map<int32_t, int> h;
  for (int i = 0; i < n; ++i)
    ++h[s.sample(l.data(), {})];
  return h;
}

} // namespace

TEST(RuntimeRng, DeterministicPerSeedAndUniform) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
  Rng r(7);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

TEST(RuntimeSampler, GreedyTakesArgmaxLowestIdOnTies) {
  SamplerParams p = plain();
  p.greedy = true;
  Sampler s(p, 5);
  std::vector<float> l = {0.1f, 3.0f, -2.0f, 3.0f, NAN};
  EXPECT_EQ(s.sample(l.data(), {}), 1);
  p.greedy = false;
  p.temperature = 0.0; // temperature 0 is greedy too
  Sampler t(p, 5);
  EXPECT_TRUE(t.isGreedy());
  EXPECT_EQ(t.sample(l.data(), {}), 1);
}

TEST(RuntimeSampler, GreedyOverManyLogits) {
  // 1003 logits (not a multiple of the 8 lanes the maximum is taken over):
  // ties in different lanes, NaNs, the maximum in the tail.
  SamplerParams p = plain();
  p.greedy = true;
  Sampler s(p, 1003);
  std::vector<float> l(1003, -5.0f);
  l[17] = NAN;
  l[500] = 4.0f;
  l[333] = 4.0f; // lowest id of the tie
  l[998] = NAN;
  EXPECT_EQ(s.sample(l.data(), {}), 333);
  l[1001] = 4.5f; // past the last full group of 8
  EXPECT_EQ(s.sample(l.data(), {}), 1001);
  std::vector<float> none(1003, -INFINITY);
  none[3] = NAN;
  EXPECT_EQ(s.sample(none.data(), {}), 0); // nothing above -inf
  std::vector<float> nans(1003, NAN);
  EXPECT_EQ(s.sample(nans.data(), {}), 0);
}

TEST(RuntimeSampler, RepetitionPenaltyDividesPositiveMultipliesNegative) {
  SamplerParams p = plain();
  p.greedy = true;
  p.repeatPenalty = 2.0;
  Sampler s(p, 3);
  std::vector<float> l = {2.0f, 1.9f, -1.0f};
  std::vector<int32_t> hist = {0};
  EXPECT_EQ(s.sample(l.data(), hist), 1); // 2.0 / 2 = 1.0 < 1.9
  EXPECT_EQ(l[0], 2.0f);                  // caller's logits untouched
  std::vector<float> neg = {-1.0f, -1.5f, -3.0f};
  EXPECT_EQ(s.sample(neg.data(), hist), 1); // -1 * 2 = -2 < -1.5
  // Each distinct token is penalised once, however often it occurs.
  std::vector<int32_t> many = {0, 0, 0, 0};
  std::vector<float> l2 = {2.0f, 0.9f, 0.0f};
  EXPECT_EQ(s.sample(l2.data(), many), 0); // 2.0 / 2 = 1.0 > 0.9
}

TEST(RuntimeSampler, RepetitionPenaltyWindow) {
  SamplerParams p = plain();
  p.greedy = true;
  p.repeatPenalty = 10.0;
  p.repeatLastN = 2;
  Sampler s(p, 3);
  std::vector<float> l = {3.0f, 2.0f, 1.0f};
  // Token 0 is outside the last 2 tokens: not penalised.
  std::vector<int32_t> hist = {0, 1, 1};
  EXPECT_EQ(s.sample(l.data(), hist), 0);
  std::vector<int32_t> hist2 = {1, 0};
  EXPECT_EQ(s.sample(l.data(), hist2), 2); // 0 -> 0.3, 1 -> 0.2, 2 stays 1.0
  p.repeatLastN = -1; // whole history
  Sampler all(p, 3);
  EXPECT_EQ(all.sample(l.data(), hist), 2);
}

TEST(RuntimeSampler, FollowsTheDistribution) {
  std::vector<double> probs = {0.5, 0.25, 0.125, 0.125};
  auto l = logitsFor(probs);
  Sampler s(plain(3), 4);
  const int n = 40000;
  auto h = histogram(s, l, n);
  for (int i = 0; i < 4; ++i) {
    double sd = std::sqrt(n * probs[i] * (1 - probs[i]));
    EXPECT_NEAR(h[i], n * probs[i], 5 * sd) << "token " << i;
  }
}

TEST(RuntimeSampler, TemperatureSharpensAndFlattens) {
  std::vector<double> probs = {0.6, 0.3, 0.1};
  auto l = logitsFor(probs);
  const int n = 40000;
  for (double T : {0.5, 2.0}) {
    SamplerParams p = plain(5);
    p.temperature = T;
    Sampler s(p, 3);
    auto h = histogram(s, l, n);
    std::vector<double> q;
    for (double x : probs)
      q.push_back(std::pow(x, 1.0 / T));
    double z = std::accumulate(q.begin(), q.end(), 0.0);
    for (int i = 0; i < 3; ++i) {
      double e = q[i] / z, sd = std::sqrt(n * e * (1 - e));
      EXPECT_NEAR(h[i], n * e, 5 * sd) << "T=" << T << " token " << i;
    }
  }
}

TEST(RuntimeSampler, TopKKeepsTheKLargest) {
  std::vector<double> probs = {0.1, 0.4, 0.05, 0.3, 0.15};
  auto l = logitsFor(probs);
  SamplerParams p = plain(9);
  p.topK = 2;
  Sampler s(p, 5);
  auto h = histogram(s, l, 20000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_GT(h[1], 0);
  EXPECT_GT(h[3], 0);
  // Renormalised: 0.4 / 0.7.
  EXPECT_NEAR(h[1] / 20000.0, 0.4 / 0.7, 0.02);
  p.topK = 1;
  Sampler one(p, 5);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(one.sample(l.data(), {}), 1);
}

TEST(RuntimeSampler, TopPKeepsTheNucleus) {
  std::vector<double> probs = {0.2, 0.5, 0.1, 0.2};
  auto l = logitsFor(probs);
  SamplerParams p = plain(11);
  p.topP = 0.6; // 0.5 < 0.6 <= 0.5 + 0.2: {1, and the first 0.2 by id: 0}
  Sampler s(p, 4);
  auto h = histogram(s, l, 20000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_GT(h[1], 0);
  EXPECT_GT(h[0], 0);
  EXPECT_NEAR(h[1] / 20000.0, 0.5 / 0.7, 0.02);
  p.topP = 0.45; // within the top token's mass
  Sampler t(p, 4);
  auto h2 = histogram(t, l, 1000);
  EXPECT_EQ(h2.size(), 1u);
  EXPECT_EQ(h2.begin()->first, 1);
}

TEST(RuntimeSampler, TopPOverALargeVocabularyMatchesBruteForce) {
  // Nearly flat logits: the nucleus holds thousands of tokens, so the
  // sampler's growing partial sort has to widen several times.
  const int V = 50000;
  Rng r(99);
  std::vector<float> l(V);
  for (auto &x : l)
    x = static_cast<float>(r.uniform() * 2.0);
  SamplerParams p = plain(12);
  p.topP = 0.3;
  std::vector<int32_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return l[a] > l[b] || (l[a] == l[b] && a < b);
  });
  double z = 0;
  for (float x : l)
    z += std::exp(double(x));
  std::set<int32_t> nucleus;
  double cum = 0;
  for (int32_t id : order) {
    nucleus.insert(id);
    cum += std::exp(double(l[id])) / z;
    if (cum >= p.topP)
      break;
  }
  ASSERT_GT(nucleus.size(), 1000u);
  Sampler s(p, V);
  std::set<int32_t> seen;
  for (int i = 0; i < 400; ++i) {
    int32_t t = s.sample(l.data(), {});
    ASSERT_TRUE(nucleus.count(t)) << "token " << t << " is outside the nucleus";
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 300u); // draws spread over the nucleus
}

TEST(RuntimeSampler, MinPDropsUnlikelyTokens) {
  std::vector<double> probs = {0.5, 0.3, 0.2};
  auto l = logitsFor(probs);
  SamplerParams p = plain(13);
  p.minP = 0.5; // keep p >= 0.25
  Sampler s(p, 3);
  auto h = histogram(s, l, 20000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.count(2), 0u);
  p.minP = 1.0; // only the top token
  Sampler g(p, 3);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(g.sample(l.data(), {}), 0);
}

TEST(RuntimeSampler, FiltersUseTemperatureOneProbabilities) {
  // llama.cpp order: top-p sees untempered probabilities; a high temperature
  // applied afterwards does not widen the nucleus.
  std::vector<double> probs = {0.7, 0.2, 0.1};
  auto l = logitsFor(probs);
  SamplerParams p = plain(14);
  p.topP = 0.7;
  p.temperature = 100.0;
  Sampler s(p, 3);
  auto h = histogram(s, l, 2000);
  EXPECT_EQ(h.size(), 1u);
}

TEST(RuntimeSampler, SameSeedSameSequence) {
  const int V = 1000;
  Rng r(5);
  std::vector<float> l(V);
  for (auto &x : l)
    x = static_cast<float>(r.uniform() * 4);
  SamplerParams p;
  p.seed = 1234;
  p.temperature = 0.8;
  p.topK = 40;
  p.topP = 0.9;
  p.minP = 0.02;
  p.repeatPenalty = 1.2;
  Sampler a(p, V), b(p, V);
  std::vector<int32_t> ha, hb;
  for (int i = 0; i < 200; ++i) {
    ha.push_back(a.sample(l.data(), ha));
    hb.push_back(b.sample(l.data(), hb));
  }
  EXPECT_EQ(ha, hb);
  p.seed = 1235;
  Sampler c(p, V);
  std::vector<int32_t> hc;
  for (int i = 0; i < 200; ++i)
    hc.push_back(c.sample(l.data(), hc));
  EXPECT_NE(ha, hc);
}

TEST(RuntimeSampler, AllMinusInfinityStillReturnsAToken) {
  std::vector<float> l(8, -INFINITY);
  Sampler s(plain(), 8);
  int32_t t = s.sample(l.data(), {});
  EXPECT_GE(t, 0);
  EXPECT_LT(t, 8);
}

// Speculative sampling: a draft token d ~ q kept with probability
// min(1, p(d)/q(d)), else replaced by a draw from max(0, p - q): the
// result is distributed as p whatever q is (q far from p, q == p, q with
// tokens p lacks and p with tokens q lacks).
TEST(RuntimeSampler, SpeculativeRuleKeepsTheTargetDistribution) {
  const std::vector<double> pp = {0.5, 0.2, 0.2, 0.1, 0.0};
  const std::vector<std::vector<double>> qs = {
      {0.05, 0.05, 0.1, 0.3, 0.5}, pp, {0.0, 0.6, 0.0, 0.0, 0.4}};
  for (const auto &qq : qs) {
    Sampler target(plain(3), 5), draft(plain(4), 5);
    std::vector<float> lp = logitsFor({0.5, 0.2, 0.2, 0.1, 1e-30});
    Sampler::Distribution p, q;
    target.distribution(lp.data(), {}, p);
    for (int32_t i = 0; i < 5; ++i)
      if (qq[size_t(i)] > 0)
        q.emplace_back(i, qq[size_t(i)]);
    const int n = 200000;
    std::vector<int> count(5, 0);
    int kept = 0;
    for (int i = 0; i < n; ++i) {
      bool accepted = false;
      int32_t d = draft.draw(q);
      int32_t t = target.acceptOrResample(p, q, d, accepted);
      ASSERT_TRUE(!accepted || t == d);
      kept += accepted;
      ++count[size_t(t)];
    }
    for (int i = 0; i < 5; ++i)
      EXPECT_NEAR(double(count[size_t(i)]) / n, pp[size_t(i)], 0.005) << "token " << i;
    // The acceptance rate is sum min(p, q).
    double overlap = 0;
    for (int i = 0; i < 5; ++i)
      overlap += std::min(pp[size_t(i)], qq[size_t(i)]);
    EXPECT_NEAR(double(kept) / n, overlap, 0.005);
  }
}

// Greedy (point masses): the draft is kept exactly when it is the target's
// argmax, otherwise the argmax replaces it; no random numbers are drawn.
TEST(RuntimeSampler, SpeculativeRuleGreedy) {
  SamplerParams g = plain(5);
  g.greedy = true;
  Sampler target(g, 4);
  std::vector<float> l = {0.1f, 2.0f, 0.3f, 1.9f};
  Sampler::Distribution p, q{{3, 1.0}};
  target.distribution(l.data(), {}, p);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p.front().first, 1);
  bool accepted = true;
  EXPECT_EQ(target.acceptOrResample(p, q, 3, accepted), 1);
  EXPECT_FALSE(accepted);
  q = {{1, 1.0}};
  EXPECT_EQ(target.acceptOrResample(p, q, 1, accepted), 1);
  EXPECT_TRUE(accepted);
  // The same as sample() would pick.
  EXPECT_EQ(target.sample(l.data(), {}), 1);
}
