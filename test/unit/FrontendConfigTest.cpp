//===- FrontendConfigTest.cpp - config resolution on fixtures and presets -===//
#include "gemma4c/Frontend/Checkpoint.h"
#include "gemma4c/Frontend/Config.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <set>

using namespace gemma4c;

namespace {
const std::string kFixtures = std::string(GEMMA4C_TEST_DIR) + "/fixtures/";

std::vector<int64_t> layersWhere(const TextConfig &c, bool (*pred)(const LayerConfig &)) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < c.layers.size(); ++i)
    if (pred(c.layers[i]))
      out.push_back(static_cast<int64_t>(i));
  return out;
}
bool isFull(const LayerConfig &l) { return !l.sliding; }
bool isShared(const LayerConfig &l) { return l.kvShared; }

/// The text config of a fixture with `edit` applied, parsed again.
TextConfig edited(const std::string &fixture,
                  const std::function<void(nlohmann::json &text, nlohmann::json &top)> &edit) {
  std::ifstream in(kFixtures + fixture + "/config.json");
  nlohmann::json j = nlohmann::json::parse(in);
  edit(j["text_config"], j);
  return parseConfig(j.dump(), "edited.json");
}

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const InputError &e) {
    return e.what();
  }
  return "<no error>";
}
} // namespace

TEST(FrontendConfig, E2BMiniFixture) {
  TextConfig c = readConfig(kFixtures + "e2b-mini");
  EXPECT_EQ(c.architecture, "Gemma4ForConditionalGeneration");
  EXPECT_EQ(c.tensorPrefix, "model.language_model.");
  EXPECT_EQ(c.dtype, "bfloat16");
  ASSERT_EQ(c.numLayers, 8);
  ASSERT_EQ(c.layers.size(), 8u);
  EXPECT_EQ(layersWhere(c, isFull), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(layersWhere(c, isShared), (std::vector<int64_t>{5, 6, 7}));
  for (int64_t i = 0; i < 8; ++i) {
    const LayerConfig &l = c.layers[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(l.headDim, l.sliding ? 16 : 32);
    EXPECT_EQ(l.numHeads, 4);
    EXPECT_EQ(l.numKVHeads, 1); // per_layer_config overrides only head_dim
    EXPECT_FALSE(l.kEqV);
    EXPECT_FALSE(l.moe);
    EXPECT_EQ(l.intermediateSize, l.kvShared ? 192 : 96); // double-wide
    EXPECT_EQ(l.rope.rotaryDims(l.headDim), l.sliding ? 8 : 4);
  }
  EXPECT_EQ(c.layers[0].kvSourceLayer, 0);
  EXPECT_EQ(c.layers[4].kvSourceLayer, 4);
  EXPECT_EQ(c.layers[5].kvSourceLayer, 4); // last non-shared sliding layer
  EXPECT_EQ(c.layers[6].kvSourceLayer, 4);
  EXPECT_EQ(c.layers[7].kvSourceLayer, 3); // last non-shared full layer
  EXPECT_EQ(c.hiddenSizePerLayerInput, 8);
  EXPECT_EQ(c.vocabSizePerLayerInput, 384);
  ASSERT_TRUE(c.finalLogitSoftcapping);
  EXPECT_DOUBLE_EQ(*c.finalLogitSoftcapping, 30.0);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_EQ(c.eosTokenIds, (std::vector<int64_t>{1}));
  EXPECT_FALSE(c.hasVision);
  EXPECT_FALSE(c.hasAudio);
  EXPECT_EQ(c.ropeSliding.type, "default");
  EXPECT_DOUBLE_EQ(c.ropeSliding.theta, 1e4);
  EXPECT_EQ(c.ropeFull.type, "proportional");
  EXPECT_DOUBLE_EQ(c.ropeFull.theta, 1e6);
  EXPECT_DOUBLE_EQ(c.ropeFull.partialRotaryFactor, 0.25);
  EXPECT_EQ(guessVariant(c), "unknown");
}

TEST(FrontendConfig, DenseMiniFixture) {
  TextConfig c = readConfig(kFixtures + "dense-mini");
  ASSERT_EQ(c.numLayers, 6);
  EXPECT_EQ(layersWhere(c, isFull), (std::vector<int64_t>{5}));
  EXPECT_TRUE(layersWhere(c, isShared).empty());
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(c.layers[i].headDim, 16);
    EXPECT_EQ(c.layers[i].numKVHeads, 2);
    EXPECT_FALSE(c.layers[i].kEqV); // k=v applies to full layers only
    EXPECT_EQ(c.layers[i].kvSourceLayer, i);
    EXPECT_EQ(c.layers[i].intermediateSize, 128);
  }
  EXPECT_EQ(c.layers[5].headDim, 32);
  EXPECT_EQ(c.layers[5].numKVHeads, 1);
  EXPECT_TRUE(c.layers[5].kEqV);
  EXPECT_FALSE(c.finalLogitSoftcapping);
  EXPECT_EQ(c.hiddenSizePerLayerInput, 0);
  auto e = expectedTensors(c);
  EXPECT_FALSE(e.count("layers.5.self_attn.v_proj.weight"));
  EXPECT_EQ(e.at("layers.5.self_attn.k_proj.weight"), (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(e.at("layers.0.self_attn.v_proj.weight"), (std::vector<int64_t>{32, 64}));
  EXPECT_FALSE(e.count("lm_head.weight"));
}

TEST(FrontendConfig, MoEMiniFixture) {
  TextConfig c = readConfig(kFixtures + "moe-mini");
  EXPECT_TRUE(c.enableMoE);
  EXPECT_EQ(c.numExperts, 8);
  EXPECT_EQ(c.topKExperts, 2);
  EXPECT_EQ(c.moeIntermediateSize, 24);
  for (const LayerConfig &l : c.layers) {
    EXPECT_TRUE(l.moe);
    EXPECT_EQ(l.intermediateSize, 96); // the dense MLP stays
  }
  auto e = expectedTensors(c);
  EXPECT_EQ(e.at("layers.0.experts.gate_up_proj"), (std::vector<int64_t>{8, 48, 64}));
  EXPECT_EQ(e.at("layers.0.experts.down_proj"), (std::vector<int64_t>{8, 64, 24}));
  EXPECT_EQ(e.at("layers.0.router.proj.weight"), (std::vector<int64_t>{8, 64}));
  EXPECT_EQ(e.at("layers.0.mlp.gate_proj.weight"), (std::vector<int64_t>{96, 64}));
}

TEST(FrontendConfig, FixturesOpenAndMatchExpectedTensors) {
  for (const char *f : {"dense-mini", "e2b-mini", "moe-mini"}) {
    SCOPED_TRACE(f);
    std::unique_ptr<Checkpoint> ck;
    ASSERT_NO_THROW(ck = Checkpoint::open(kFixtures + f));
    auto e = expectedTensors(ck->config());
    EXPECT_EQ(ck->tensors().size(), e.size());
    for (auto &[name, shape] : e)
      EXPECT_EQ(ck->get(name).shape, shape) << name;
    EXPECT_EQ(ck->skippedTensors(), 0);
    EXPECT_EQ(ck->find("no.such.tensor"), nullptr);
    EXPECT_THROW(ck->get("no.such.tensor"), InputError);
    EXPECT_EQ(ck->get("norm.weight").dtype, DType::BF16);
    EXPECT_NE(ck->get("norm.weight").data, nullptr);
  }
}

TEST(FrontendConfig, E2BPreset) {
  TextConfig c = parseConfig(presetConfig("e2b"), "e2b");
  EXPECT_EQ(guessVariant(c), "E2B");
  ASSERT_EQ(c.numLayers, 35);
  EXPECT_EQ(layersWhere(c, isFull), (std::vector<int64_t>{4, 9, 14, 19, 24, 29, 34}));
  std::vector<int64_t> shared;
  for (int64_t i = 15; i < 35; ++i)
    shared.push_back(i);
  EXPECT_EQ(layersWhere(c, isShared), shared);
  for (int64_t i = 0; i < 35; ++i) {
    const LayerConfig &l = c.layers[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(l.headDim, l.sliding ? 256 : 512); // global_head_dim spelling
    EXPECT_EQ(l.numKVHeads, 1);
    EXPECT_EQ(l.intermediateSize, i >= 15 ? 12288 : 6144);
    EXPECT_EQ(l.kvSourceLayer, i < 15 ? i : (l.sliding ? 13 : 14));
    EXPECT_EQ(l.rope.rotaryDims(l.headDim), l.sliding ? 128 : 64);
  }
  EXPECT_EQ(c.hiddenSizePerLayerInput, 256);
  auto e = expectedTensors(c);
  EXPECT_EQ(e.at("embed_tokens_per_layer.weight"), (std::vector<int64_t>{262144, 35 * 256}));
  EXPECT_EQ(e.at("per_layer_model_projection.weight"), (std::vector<int64_t>{35 * 256, 1536}));
  EXPECT_EQ(e.at("layers.4.self_attn.q_proj.weight"), (std::vector<int64_t>{8 * 512, 1536}));
  EXPECT_FALSE(e.count("layers.20.self_attn.k_proj.weight"));
}

TEST(FrontendConfig, E4BPreset) {
  TextConfig c = parseConfig(presetConfig("e4b"), "e4b");
  EXPECT_EQ(guessVariant(c), "E4B");
  ASSERT_EQ(c.numLayers, 42);
  EXPECT_EQ(layersWhere(c, isFull), (std::vector<int64_t>{5, 11, 17, 23, 29, 35, 41}));
  for (int64_t i = 0; i < 42; ++i) {
    const LayerConfig &l = c.layers[i];
    EXPECT_EQ(l.kvShared, i >= 24);
    EXPECT_EQ(l.kvSourceLayer, i < 24 ? i : (l.sliding ? 22 : 23));
    EXPECT_EQ(l.intermediateSize, 10240); // no double-wide
    EXPECT_EQ(l.numKVHeads, 2);           // no k=v: global KV heads not applied
  }
}

TEST(FrontendConfig, MoE26BPreset) {
  TextConfig c = parseConfig(presetConfig("26b-a4b"), "26b");
  EXPECT_EQ(guessVariant(c), "26B-A4B");
  for (const LayerConfig &l : c.layers) {
    EXPECT_TRUE(l.moe);
    EXPECT_EQ(l.numKVHeads, l.sliding ? 8 : 2);
    EXPECT_EQ(l.kEqV, !l.sliding);
    EXPECT_EQ(l.headDim, l.sliding ? 256 : 512);
    EXPECT_EQ(l.intermediateSize, 2112);
  }
  auto e = expectedTensors(c);
  EXPECT_EQ(e.at("layers.0.experts.gate_up_proj"), (std::vector<int64_t>{128, 1408, 2816}));
  EXPECT_FALSE(e.count("layers.5.self_attn.v_proj.weight"));
}

TEST(FrontendConfig, Dense31BPreset) {
  TextConfig c = parseConfig(presetConfig("31b", /*conditional=*/false), "31b");
  EXPECT_EQ(c.architecture, "Gemma4ForCausalLM");
  EXPECT_EQ(c.tensorPrefix, "model.");
  EXPECT_EQ(guessVariant(c), "31B");
  EXPECT_EQ(layersWhere(c, isFull).size(), 10u);
  for (const LayerConfig &l : c.layers)
    EXPECT_EQ(l.numKVHeads, l.sliding ? 16 : 4);
}

TEST(FrontendConfig, TinyPresetUsesEveryFeature) {
  TextConfig c = parseConfig(presetConfig("tiny"), "tiny");
  EXPECT_TRUE(c.enableMoE);
  EXPECT_GT(c.hiddenSizePerLayerInput, 0);
  EXPECT_EQ(layersWhere(c, isShared), (std::vector<int64_t>{6, 7}));
  EXPECT_EQ(c.layers[6].kvSourceLayer, 5);
  EXPECT_EQ(c.layers[7].kvSourceLayer, 3);
  EXPECT_EQ(c.layers[7].intermediateSize, 2 * c.intermediateSize);
  EXPECT_TRUE(c.layers[3].kEqV);
  EXPECT_EQ(c.layers[3].numKVHeads, 1);
  EXPECT_THROW(presetConfig("70b"), InputError);
}

TEST(FrontendConfig, DefaultsFollowTransformers) {
  // No layer_types: 5 sliding : 1 full, the last layer forced full.
  TextConfig c = edited("dense-mini", [](auto &t, auto &) {
    t.erase("layer_types");
    t["num_hidden_layers"] = 8;
    t.erase("per_layer_config");
    t.erase("rope_parameters");
  });
  EXPECT_EQ(layersWhere(c, isFull), (std::vector<int64_t>{5, 7}));
  // No per_layer_config and no global_head_dim: full layers get 512.
  EXPECT_EQ(c.layers[5].headDim, 512);
  EXPECT_EQ(c.layers[0].headDim, 16);
  EXPECT_EQ(c.ropeFull.type, "proportional");
  EXPECT_EQ(c.ropeFull.rotaryDims(512), 64);
  EXPECT_EQ(c.ropeSliding.rotaryDims(16), 8);

  // A given layer_types list also gets its last layer forced full.
  TextConfig d = edited("dense-mini", [](auto &t, auto &) {
    t["layer_types"][5] = "sliding_attention";
  });
  EXPECT_FALSE(d.layers[5].sliding);

  // num_global_key_value_heads applies only with attention_k_eq_v.
  auto global = [](bool keqv) {
    return edited("dense-mini", [keqv](auto &t, auto &) {
      t.erase("per_layer_config");
      t["global_head_dim"] = 64;
      t["num_global_key_value_heads"] = 1;
      t["attention_k_eq_v"] = keqv;
    });
  };
  EXPECT_EQ(global(true).layers[5].numKVHeads, 1);
  EXPECT_EQ(global(true).layers[5].headDim, 64);
  EXPECT_EQ(global(false).layers[5].numKVHeads, 2);
}

TEST(FrontendConfig, WrapperDetection) {
  // Flat text config: Gemma4ForCausalLM, tensors under "model.".
  std::ifstream in(kFixtures + "dense-mini/config.json");
  nlohmann::json j = nlohmann::json::parse(in);
  nlohmann::json flat = j["text_config"];
  TextConfig c = parseConfig(flat.dump(), "flat.json"); // model_type gemma4_text only
  EXPECT_EQ(c.architecture, "Gemma4ForCausalLM");
  EXPECT_EQ(c.tensorPrefix, "model.");
  // model_type gemma4 without architectures: the conditional wrapper.
  j.erase("architectures");
  EXPECT_EQ(parseConfig(j.dump(), "x").architecture, "Gemma4ForConditionalGeneration");
  j["vision_config"] = {{"model_type", "gemma4_vision"}};
  EXPECT_TRUE(parseConfig(j.dump(), "x").hasVision);
  // eos: int or list, merged without duplicates.
  flat["eos_token_id"] = {1, 106, 1};
  EXPECT_EQ(parseConfig(flat.dump(), "x").eosTokenIds, (std::vector<int64_t>{1, 106}));
  EXPECT_EQ(readConfig(kFixtures + "moe-mini").eosTokenIds, (std::vector<int64_t>{1}));
}

TEST(FrontendConfig, ErrorsNameFileAndKey) {
  auto err = [](const std::function<void(nlohmann::json &, nlohmann::json &)> &f) {
    return errorOf([&] { edited("e2b-mini", f); });
  };
  EXPECT_EQ(err([](auto &t, auto &) { t.erase("vocab_size"); }),
            "edited.json: key 'text_config.vocab_size': missing (required)");
  EXPECT_EQ(err([](auto &t, auto &) { t["head_dim"] = 16.5; }),
            "edited.json: key 'text_config.head_dim': expected an integer, got a floating-point number");
  EXPECT_EQ(err([](auto &t, auto &) { t["num_key_value_heads"] = -1; }),
            "edited.json: key 'text_config.num_key_value_heads': must be positive, got -1");
  EXPECT_NE(err([](auto &t, auto &) { t["per_layer_config"]["9"] = {{"head_dim", 8}}; })
                .find("key 'text_config.per_layer_config.9': not a layer index"),
            std::string::npos);
  EXPECT_NE(err([](auto &t, auto &) { t["per_layer_config"]["3"]["sliding_window"] = 4; })
                .find("per_layer_config.3.sliding_window': unsupported per-layer override"),
            std::string::npos);
  EXPECT_NE(err([](auto &t, auto &) { t["use_bidirectional_attention"] = "all"; })
                .find("not supported ('all')"),
            std::string::npos);
  EXPECT_EQ(err([](auto &t, auto &) { t["use_bidirectional_attention"] = "vision"; }),
            "<no error>"); // text tokens stay causal
  EXPECT_NE(err([](auto &t, auto &) { t["enable_moe_block"] = true; })
                .find("key 'text_config.num_experts': missing (required)"),
            std::string::npos);
  EXPECT_NE(err([](auto &t, auto &) { t["head_dim"] = 15; }).find("must be even"),
            std::string::npos);
  EXPECT_NE(err([](auto &, auto &top) { top.erase("text_config"); })
                .find("key 'text_config': missing"),
            std::string::npos);
  EXPECT_NE(err([](auto &t, auto &) { t["rope_parameters"] = {{"rope_type", "default"}}; })
                .find("expected one entry per layer type"),
            std::string::npos);
  EXPECT_EQ(errorOf([] { parseConfig("[1]", "a.json"); }),
            "a.json: expected a JSON object at the top level");
  for (const std::string &m : {err([](auto &t, auto &) { t["hidden_activation"] = "a\nb"; })})
    EXPECT_EQ(m.find('\n'), std::string::npos);
}
