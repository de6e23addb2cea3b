//===- Config.h - Gemma 4 text configuration -------------------*- C++ -*-===//
#ifndef GEMMA4C_FRONTEND_CONFIG_H
#define GEMMA4C_FRONTEND_CONFIG_H

#include "gemma4c/Frontend/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gemma4c {

struct RopeParams {
  std::string type = "default"; ///< "default" or "proportional"
  double theta = 10000.0;
  double partialRotaryFactor = 1.0;
  /// Number of rotating frequency pairs for a head of `headDim`.
  int64_t rotaryDims(int64_t headDim) const;
};

/// Everything the graph needs about one decoder layer, with all config
/// defaults and overrides already resolved.
struct LayerConfig {
  bool sliding = true;
  int64_t headDim = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  bool kEqV = false;            ///< value = key projection (no v_proj)
  bool kvShared = false;        ///< computes no K/V of its own
  int64_t kvSourceLayer = -1;   ///< layer whose cache it reads (itself if not shared)
  int64_t intermediateSize = 0; ///< dense MLP width (doubled when double-wide)
  bool moe = false;
  RopeParams rope;
};

struct TextConfig {
  /// "Gemma4ForConditionalGeneration" or "Gemma4ForCausalLM".
  std::string architecture;
  /// "model.language_model." or "model.": prefix of every text tensor.
  std::string tensorPrefix;
  std::string dtype; ///< torch dtype named by the config ("bfloat16", ...)

  int64_t vocabSize = 0, hiddenSize = 0, numLayers = 0;
  int64_t numHeads = 0, numKVHeads = 0, headDim = 0, intermediateSize = 0;
  double rmsNormEps = 1e-6;
  int64_t slidingWindow = 0, maxPositionEmbeddings = 0;
  std::string hiddenActivation = "gelu_pytorch_tanh";
  bool attentionKEqV = false;
  int64_t numKVSharedLayers = 0;
  bool useDoubleWideMLP = false;
  int64_t hiddenSizePerLayerInput = 0, vocabSizePerLayerInput = 0;
  bool enableMoE = false;
  int64_t numExperts = 0, topKExperts = 0, moeIntermediateSize = 0;
  std::optional<double> finalLogitSoftcapping;
  bool tieWordEmbeddings = true;
  RopeParams ropeSliding, ropeFull;
  int64_t bosTokenId = 2, padTokenId = 0;
  std::vector<int64_t> eosTokenIds; ///< from config + generation_config
  bool hasVision = false, hasAudio = false; ///< towers present (skipped)

  std::vector<LayerConfig> layers;
};

/// "E2B", "E4B", "26B-A4B", "31B" when the shapes match a published
/// variant (hidden size, layers, heads, MoE, PLE, vocab), else "unknown".
std::string guessVariant(const TextConfig &c);

/// config.json text (transformers format, keys as real checkpoints spell
/// them: global_head_dim, num_global_key_value_heads) of a preset with the
/// published shapes: "e2b", "e4b", "26b-a4b", "31b", or "tiny" (a small CI
/// model using every feature: PLE, KV sharing, double-wide MLP, k=v, MoE).
/// `conditional` picks Gemma4ForConditionalGeneration (text_config nested)
/// over Gemma4ForCausalLM (flat). Throws InputError for an unknown name.
std::string presetConfig(const std::string &name, bool conditional = true);
/// Wraps a bare text_config object (JSON text) the same way.
std::string wrapTextConfig(const std::string &textConfigJson, bool conditional = true);

/// Reads `<dir>/config.json` (and generation_config.json when present),
/// accepting both wrappers and both spellings of the full-attention
/// overrides. Throws InputError naming the file and key on anything missing,
/// mistyped or unsupported.
TextConfig readConfig(const std::string &dir);
/// Same, from JSON text; `source` names it in errors.
TextConfig parseConfig(const std::string &json, const std::string &source);

} // namespace gemma4c

#endif
