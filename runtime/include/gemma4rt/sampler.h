//===- sampler.h - next-token sampling --------------------------*- C++ -*-===//
//
// Sampling is runtime work (not model math). The chain, in llama.cpp's order:
//
//   1. repetition penalty over the last `repeatLastN` tokens (prompt and
//      generated): a logit l of a token seen there becomes l / penalty when
//      l > 0, else l * penalty (each distinct token once). 1 = off.
//   2. greedy (--greedy or temperature 0): argmax, lowest id on ties. Stop.
//   3. top-k: keep the k largest logits (0 = off).
//   4. top-p: keep the smallest prefix (by probability, descending) whose
//      probability sums to >= p (1 = off).
//   5. min-p: keep tokens whose probability is >= min_p * the largest
//      (0 = off).
//   6. temperature: divide the kept logits by T, softmax.
//   7. draw from that distribution with xoshiro256** seeded by --seed
//      (splitmix64-expanded), so a seed fixes the output.
//
// Steps 4 and 5 use probabilities at temperature 1 (softmax over the
// candidates still kept), as llama.cpp does. At least one token is always
// kept.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_SAMPLER_H
#define GEMMA4RT_SAMPLER_H

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace gemma4rt {

/// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class Rng {
public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();

private:
  uint64_t s_[4];
};

/// A seed for a run or request that names none: the system's random device,
/// the clock and a per-process counter (two requests in the same tick differ).
uint64_t freshSeed();

struct SamplerParams {
  bool greedy = false;
  double temperature = 1.0; ///< 0 => greedy
  int64_t topK = 64;        ///< 0 => off
  double topP = 0.95;       ///< 1 => off
  double minP = 0.0;        ///< 0 => off
  double repeatPenalty = 1.0; ///< 1 => off
  int64_t repeatLastN = 64;   ///< tokens of history the penalty looks at; -1 = all
  uint64_t seed = 0;
};

class Sampler {
public:
  Sampler(const SamplerParams &params, int64_t vocab);

  /// Picks the next token from logits[vocab]; `history` is every token so
  /// far (prompt then generated), used by the repetition penalty.
  int32_t sample(const float *logits, std::span<const int32_t> history);

  /// The distribution sample() draws from (steps 1-6): the kept tokens
  /// and their probabilities, summing to 1 (greedy: the argmax with 1).
  /// Speculative sampling's rejection rule compares the model's and the
  /// draft's.
  void distribution(const float *logits, std::span<const int32_t> history,
                    std::vector<std::pair<int32_t, double>> &out);
  /// A uniform draw in [0, 1) from this sampler's generator.
  double uniform() { return rng_.uniform(); }
  using Distribution = std::vector<std::pair<int32_t, double>>;
  /// A draw from `dist` (distribution()'s form) with this sampler's
  /// generator; a one-token distribution draws no number.
  int32_t draw(const Distribution &dist);
  /// Speculative sampling's rule for draft token d drawn from the draft's
  /// q, under this sampler's p: d is kept with probability min(1, p(d) /
  /// q(d)); otherwise the result is a draw from max(0, p - q), normalised
  /// (p itself if that is empty). The result is then distributed as p
  /// whatever q is. Point masses (greedy) keep d exactly when it is p's
  /// token and draw no number. Sets `accepted`.
  int32_t acceptOrResample(const Distribution &p, const Distribution &q, int32_t d,
                           bool &accepted);
  const SamplerParams &params() const { return params_; }
  bool isGreedy() const;

private:
  struct Cand {
    float logit;
    int32_t id;
  };
  size_t nucleusUnsorted(size_t kept, float maxL, double topP);
  /// Step 1: logits, or a penalised copy of them (work_).
  const float *penalized(const float *logits, std::span<const int32_t> history);
  /// Step 2: the first index of the largest logit.
  int32_t argmax(const float *l) const;
  /// Steps 3-5 into cands_; returns how many are kept.
  size_t filter(const float *l);

  SamplerParams params_;
  int64_t vocab_;
  Rng rng_;
  std::vector<float> work_;
  std::vector<Cand> cands_;
  std::vector<uint8_t> seen_;
  std::vector<double> qDense_; ///< acceptOrResample's q by token (zero between calls)
};

} // namespace gemma4rt

#endif
