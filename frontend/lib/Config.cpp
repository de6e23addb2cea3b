//===- Config.cpp - Gemma 4 text configuration ----------------------------===//
//
// Mirrors transformers 5.17 `Gemma4TextConfig.__post_init__` and the
// per-layer decisions of `modeling_gemma4.py`:
//  * layer_types defaults to 5 sliding : 1 full ((i+1) % 6 == 0 is full) and
//    the last layer is always forced to full attention;
//  * without `per_layer_config`, full layers get head_dim = global_head_dim
//    (default 512) and, only when attention_k_eq_v, num_key_value_heads =
//    num_global_key_value_heads; with it, the listed layers get its values;
//  * the last num_kv_shared_layers layers reuse the K/V of the last earlier
//    non-shared layer of the same type;
//  * use_double_wide_mlp doubles the MLP of KV-shared layers only (and only
//    when some layer is not shared);
//  * MoE layers (all of them when enable_moe_block) keep their dense MLP.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Frontend/Config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace gemma4c {

int64_t RopeParams::rotaryDims(int64_t headDim) const {
  if (type == "proportional")
    return static_cast<int64_t>(partialRotaryFactor * static_cast<double>(headDim) / 2.0);
  return headDim / 2;
}

namespace {
using json = nlohmann::json;

/// Upper bounds that keep every derived shape product far from overflow.
constexpr int64_t kMaxDim = int64_t(1) << 24;
constexpr int64_t kMaxLayers = 4096;

const char *typeName(const json &j) {
  if (j.is_number_float())
    return "a floating-point number";
  if (j.is_number_integer())
    return "an integer";
  if (j.is_boolean())
    return "a boolean";
  if (j.is_string())
    return "a string";
  if (j.is_array())
    return "an array";
  if (j.is_object())
    return "an object";
  return "null";
}

std::string oneLine(std::string s) {
  for (char &ch : s)
    if (static_cast<unsigned char>(ch) < 0x20)
      ch = ' ';
  if (s.size() > 200)
    s = s.substr(0, 200) + "...";
  return s;
}

/// Typed access to one JSON object with errors naming `source` and the key.
class Obj {
public:
  Obj(const json &j, std::string source, std::string path)
      : j_(j), source_(std::move(source)), path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string &key, const std::string &msg) const {
    std::string m = msg;
    for (char &ch : m)
      if (static_cast<unsigned char>(ch) < 0x20)
        ch = ' ';
    throw InputError(source_ + ": key '" + oneLine(path_ + key) + "': " + m);
  }
  bool has(const std::string &key) const {
    return j_.contains(key) && !j_.at(key).is_null();
  }
  const json &at(const std::string &key) const { return j_.at(key); }

  int64_t integer(const std::string &key, std::optional<int64_t> def) const {
    if (!has(key)) {
      if (!def)
        fail(key, "missing (required)");
      return *def;
    }
    const json &v = j_.at(key);
    if (!v.is_number_integer())
      fail(key, std::string("expected an integer, got ") + typeName(v));
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
      fail(key, "integer out of range");
    return v.get<int64_t>();
  }
  int64_t positive(const std::string &key, std::optional<int64_t> def,
                   int64_t max = kMaxDim) const {
    int64_t v = integer(key, def);
    if (v <= 0)
      fail(key, "must be positive, got " + std::to_string(v));
    if (v > max)
      fail(key, "implausibly large (" + std::to_string(v) + " > " +
                    std::to_string(max) + ")");
    return v;
  }
  int64_t nonNegative(const std::string &key, int64_t def) const {
    int64_t v = integer(key, def);
    if (v < 0)
      fail(key, "must not be negative, got " + std::to_string(v));
    if (v > kMaxDim)
      fail(key, "implausibly large (" + std::to_string(v) + ")");
    return v;
  }
  double number(const std::string &key, double def) const {
    if (!has(key))
      return def;
    const json &v = j_.at(key);
    if (!v.is_number())
      fail(key, std::string("expected a number, got ") + typeName(v));
    return v.get<double>();
  }
  bool boolean(const std::string &key, bool def) const {
    if (!has(key))
      return def;
    const json &v = j_.at(key);
    if (!v.is_boolean())
      fail(key, std::string("expected a boolean, got ") + typeName(v));
    return v.get<bool>();
  }
  std::optional<std::string> string(const std::string &key) const {
    if (!has(key))
      return std::nullopt;
    const json &v = j_.at(key);
    if (!v.is_string())
      fail(key, std::string("expected a string, got ") + typeName(v));
    return v.get<std::string>();
  }
  Obj object(const std::string &key) const {
    const json &v = j_.at(key);
    if (!v.is_object())
      fail(key, std::string("expected an object, got ") + typeName(v));
    return Obj(v, source_, path_ + key + ".");
  }
  const json &raw() const { return j_; }
  const std::string &path() const { return path_; }

private:
  const json &j_;
  std::string source_, path_;
};

json parseJsonText(const std::string &text, const std::string &source) {
  try {
    return json::parse(text);
  } catch (const json::exception &e) {
    throw InputError(source + ": malformed JSON: " + oneLine(e.what()));
  }
}

std::string readFile(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path + ": cannot read: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw InputError(path + ": cannot read: not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    throw InputError(path + ": read error");
  return ss.str();
}

/// eos_token_id: an integer, a list of integers, or null.
void addTokenIds(const Obj &o, const std::string &key, std::vector<int64_t> &out) {
  if (!o.has(key))
    return;
  const json &v = o.at(key);
  auto add = [&](const json &x) {
    if (!x.is_number_integer())
      o.fail(key, std::string("expected an integer or a list of integers, got ") +
                      typeName(x));
    int64_t id = x.get<int64_t>();
    if (id < 0)
      o.fail(key, "token id must not be negative");
    if (std::find(out.begin(), out.end(), id) == out.end())
      out.push_back(id);
  };
  if (v.is_array())
    for (const json &x : v)
      add(x);
  else
    add(v);
}

RopeParams readRope(const Obj &t, const std::string &type, RopeParams def) {
  if (!t.has("rope_parameters"))
    return def;
  Obj all = t.object("rope_parameters");
  if (all.has("rope_type") || all.has("rope_theta"))
    t.fail("rope_parameters",
           "expected one entry per layer type (sliding_attention, full_attention)");
  for (auto &[k, v] : all.raw().items())
    if (k != "sliding_attention" && k != "full_attention")
      all.fail(k, "unknown layer type");
  if (!all.has(type))
    return def;
  // An entry replaces the defaults wholesale, as in transformers.
  Obj r = all.object(type);
  RopeParams p;
  auto rt = r.string("rope_type");
  if (!rt)
    r.fail("rope_type", "missing (required)");
  if (*rt != "default" && *rt != "proportional")
    r.fail("rope_type", "unsupported rope_type '" + oneLine(*rt) +
                            "' (supported: default, proportional)");
  p.type = *rt;
  if (!r.has("rope_theta"))
    r.fail("rope_theta", "missing (required)");
  p.theta = r.number("rope_theta", def.theta);
  if (!(p.theta > 0) || !std::isfinite(p.theta))
    r.fail("rope_theta", "must be a positive number");
  p.partialRotaryFactor = 1.0;
  if (p.type == "proportional") { // "default" RoPE rotates the whole head
    p.partialRotaryFactor = r.number("partial_rotary_factor", 1.0);
    if (!(p.partialRotaryFactor > 0 && p.partialRotaryFactor <= 1))
      r.fail("partial_rotary_factor", "must be in (0, 1]");
  }
  return p;
}
} // namespace

TextConfig parseConfig(const std::string &text, const std::string &source) {
  json root = parseJsonText(text, source);
  if (!root.is_object())
    throw InputError(source + ": expected a JSON object at the top level");
  Obj top(root, source, "");
  TextConfig c;

  // Which wrapper: `architectures` first, `model_type` otherwise.
  std::string modelType = top.string("model_type").value_or("");
  if (top.has("architectures")) {
    const json &a = top.at("architectures");
    if (!a.is_array())
      top.fail("architectures", std::string("expected a list of strings, got ") +
                                    typeName(a));
    std::string first;
    for (const json &x : a) {
      if (!x.is_string())
        top.fail("architectures", "expected a list of strings");
      std::string s = x.get<std::string>();
      if (first.empty())
        first = s;
      if (s == "Gemma4ForConditionalGeneration" || s == "Gemma4ForCausalLM") {
        c.architecture = s;
        break;
      }
    }
    if (c.architecture.empty() && !first.empty())
      top.fail("architectures",
               "unsupported architecture '" + oneLine(first) +
                   "' (expected Gemma4ForConditionalGeneration or Gemma4ForCausalLM)");
  }
  if (c.architecture.empty()) {
    if (modelType == "gemma4")
      c.architecture = "Gemma4ForConditionalGeneration";
    else if (modelType == "gemma4_text")
      c.architecture = "Gemma4ForCausalLM";
    else if (modelType.empty())
      top.fail("architectures", "missing, and no 'model_type' to tell the wrapper");
    else
      top.fail("model_type", "unsupported model_type '" + oneLine(modelType) +
                                 "' (expected gemma4 or gemma4_text)");
  }
  if (!modelType.empty() && modelType != "gemma4" && modelType != "gemma4_text")
    top.fail("model_type", "unsupported model_type '" + oneLine(modelType) +
                               "' (expected gemma4 or gemma4_text)");

  bool conditional = c.architecture == "Gemma4ForConditionalGeneration";
  c.tensorPrefix = conditional ? "model.language_model." : "model.";
  if (conditional && !top.has("text_config"))
    top.fail("text_config", "missing (required by Gemma4ForConditionalGeneration)");
  Obj t = top.has("text_config") ? top.object("text_config") : top;
  if (t.path() != "") {
    if (auto mt = t.string("model_type"); mt && *mt != "gemma4_text")
      t.fail("model_type", "unsupported model_type '" + oneLine(*mt) +
                               "' (expected gemma4_text)");
  } else if (modelType == "gemma4") {
    top.fail("text_config", "missing (model_type gemma4 keeps the text model there)");
  }

  c.dtype = t.string("dtype").value_or(t.string("torch_dtype").value_or(
      top.string("dtype").value_or(top.string("torch_dtype").value_or(""))));

  // Sizes.
  c.vocabSize = t.positive("vocab_size", std::nullopt);
  c.hiddenSize = t.positive("hidden_size", std::nullopt);
  c.numLayers = t.positive("num_hidden_layers", std::nullopt, kMaxLayers);
  c.numHeads = t.positive("num_attention_heads", std::nullopt);
  c.numKVHeads = t.positive("num_key_value_heads", std::nullopt);
  c.headDim = t.positive("head_dim", std::nullopt);
  c.intermediateSize = t.positive("intermediate_size", std::nullopt);
  c.rmsNormEps = t.number("rms_norm_eps", 1e-6);
  if (!(c.rmsNormEps > 0) || !std::isfinite(c.rmsNormEps))
    t.fail("rms_norm_eps", "must be a positive number");
  c.slidingWindow = t.positive("sliding_window", 512, int64_t(1) << 40);
  c.maxPositionEmbeddings =
      t.positive("max_position_embeddings", 131072, int64_t(1) << 40);

  c.hiddenActivation = t.string("hidden_activation").value_or("gelu_pytorch_tanh");
  if (c.hiddenActivation != "gelu_pytorch_tanh")
    t.fail("hidden_activation", "unsupported activation '" +
                                    oneLine(c.hiddenActivation) +
                                    "' (only gelu_pytorch_tanh)");
  if (t.boolean("attention_bias", false))
    t.fail("attention_bias", "attention biases are not supported (true)");
  if (t.has("use_bidirectional_attention")) {
    const json &b = t.at("use_bidirectional_attention");
    if (b.is_boolean()) {
      if (b.get<bool>())
        t.fail("use_bidirectional_attention",
               "bidirectional attention is not supported (true)");
    } else if (b.is_string()) {
      std::string s = b.get<std::string>();
      if (s == "all")
        t.fail("use_bidirectional_attention",
               "bidirectional attention is not supported ('all')");
      if (s != "vision") // text tokens stay causal with "vision"
        t.fail("use_bidirectional_attention",
               "unknown value '" + oneLine(s) + "' (expected null, 'vision' or 'all')");
    } else {
      t.fail("use_bidirectional_attention",
             std::string("expected null, a boolean or a string, got ") + typeName(b));
    }
  }

  c.attentionKEqV = t.boolean("attention_k_eq_v", false);
  c.numKVSharedLayers = t.nonNegative("num_kv_shared_layers", 0);
  if (c.numKVSharedLayers >= c.numLayers)
    t.fail("num_kv_shared_layers",
           std::to_string(c.numKVSharedLayers) + " leaves no layer computing K/V (" +
               std::to_string(c.numLayers) + " layers)");
  c.useDoubleWideMLP = t.boolean("use_double_wide_mlp", false);
  c.hiddenSizePerLayerInput = t.nonNegative("hidden_size_per_layer_input", 256);
  c.vocabSizePerLayerInput = t.nonNegative("vocab_size_per_layer_input", 262144);
  if (c.hiddenSizePerLayerInput > 0 && c.vocabSizePerLayerInput == 0)
    t.fail("vocab_size_per_layer_input",
           "must be positive when hidden_size_per_layer_input is set");
  c.enableMoE = t.boolean("enable_moe_block", false);
  if (c.enableMoE) {
    c.numExperts = t.positive("num_experts", std::nullopt, 65536);
    c.topKExperts = t.positive("top_k_experts", std::nullopt, 65536);
    c.moeIntermediateSize = t.positive("moe_intermediate_size", std::nullopt);
    if (c.topKExperts > c.numExperts)
      t.fail("top_k_experts", std::to_string(c.topKExperts) + " exceeds num_experts " +
                                  std::to_string(c.numExperts));
  }
  if (t.has("final_logit_softcapping")) {
    double v = t.number("final_logit_softcapping", 0);
    if (!(v > 0) || !std::isfinite(v))
      t.fail("final_logit_softcapping", "must be a positive number or null");
    c.finalLogitSoftcapping = v;
  }
  c.tieWordEmbeddings = t.has("tie_word_embeddings")
                            ? t.boolean("tie_word_embeddings", true)
                            : top.boolean("tie_word_embeddings", true);
  c.bosTokenId = t.nonNegative("bos_token_id", 2);
  c.padTokenId = t.nonNegative("pad_token_id", 0);
  addTokenIds(t, "eos_token_id", c.eosTokenIds);
  if (t.path() != "")
    addTokenIds(top, "eos_token_id", c.eosTokenIds);
  c.hasVision = conditional && top.has("vision_config");
  c.hasAudio = conditional && top.has("audio_config");

  // Layer types.
  std::vector<bool> sliding(c.numLayers);
  if (t.has("layer_types")) {
    const json &lt = t.at("layer_types");
    if (!lt.is_array())
      t.fail("layer_types", std::string("expected a list of strings, got ") + typeName(lt));
    if (static_cast<int64_t>(lt.size()) != c.numLayers)
      t.fail("layer_types", "has " + std::to_string(lt.size()) +
                                " entries but num_hidden_layers is " +
                                std::to_string(c.numLayers));
    for (size_t i = 0; i < lt.size(); ++i) {
      if (!lt[i].is_string())
        t.fail("layer_types", "entry " + std::to_string(i) + " is " + typeName(lt[i]));
      std::string s = lt[i].get<std::string>();
      if (s == "sliding_attention")
        sliding[i] = true;
      else if (s == "full_attention")
        sliding[i] = false;
      else
        t.fail("layer_types", "unknown layer type '" + oneLine(s) + "' at index " +
                                  std::to_string(i) +
                                  " (expected sliding_attention or full_attention)");
    }
  } else {
    for (int64_t i = 0; i < c.numLayers; ++i)
      sliding[i] = (i + 1) % 6 != 0;
  }
  sliding.back() = false; // transformers forces the last layer to full

  // RoPE per layer type.
  RopeParams defSliding, defFull;
  defFull.type = "proportional";
  defFull.theta = 1e6;
  defFull.partialRotaryFactor = 0.25;
  c.ropeSliding = readRope(t, "sliding_attention", defSliding);
  c.ropeFull = readRope(t, "full_attention", defFull);

  // Per-layer head dims and KV heads.
  c.layers.resize(c.numLayers);
  for (int64_t i = 0; i < c.numLayers; ++i) {
    LayerConfig &l = c.layers[i];
    l.sliding = sliding[i];
    l.headDim = c.headDim;
    l.numHeads = c.numHeads;
    l.numKVHeads = c.numKVHeads;
    l.kEqV = c.attentionKEqV && !l.sliding;
    l.rope = l.sliding ? c.ropeSliding : c.ropeFull;
    l.moe = c.enableMoE;
  }
  if (t.has("per_layer_config")) {
    Obj plc = t.object("per_layer_config");
    for (auto &[k, v] : plc.raw().items()) {
      int64_t idx = -1;
      if (!k.empty() && k.size() < 9 &&
          std::all_of(k.begin(), k.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        idx = std::stoll(k);
      if (idx < 0 || idx >= c.numLayers)
        plc.fail(k, "not a layer index in [0, " + std::to_string(c.numLayers) + ")");
      Obj o = plc.object(k);
      for (auto &[ok, ov] : v.items())
        if (ok != "head_dim" && ok != "num_key_value_heads")
          o.fail(ok, "unsupported per-layer override");
      c.layers[idx].headDim = o.positive("head_dim", c.layers[idx].headDim);
      c.layers[idx].numKVHeads =
          o.positive("num_key_value_heads", c.layers[idx].numKVHeads);
    }
  } else {
    int64_t globalHeadDim = t.positive("global_head_dim", 512);
    std::optional<int64_t> globalKV;
    if (t.has("num_global_key_value_heads"))
      globalKV = t.positive("num_global_key_value_heads", std::nullopt);
    for (LayerConfig &l : c.layers) {
      if (l.sliding)
        continue;
      l.headDim = globalHeadDim;
      // transformers applies the KV-head override only with attention_k_eq_v.
      if (globalKV && c.attentionKEqV)
        l.numKVHeads = *globalKV;
    }
  }

  // KV sharing and MLP widths.
  int64_t firstShared = c.numLayers - c.numKVSharedLayers;
  for (int64_t i = 0; i < c.numLayers; ++i) {
    LayerConfig &l = c.layers[i];
    l.kvShared = i >= firstShared;
    l.kvSourceLayer = i;
    if (l.kvShared) {
      l.kvSourceLayer = -1;
      for (int64_t j = firstShared - 1; j >= 0; --j)
        if (c.layers[j].sliding == l.sliding) {
          l.kvSourceLayer = j;
          break;
        }
      if (l.kvSourceLayer < 0)
        t.fail("num_kv_shared_layers",
               "KV-shared layer " + std::to_string(i) + " (" +
                   (l.sliding ? "sliding" : "full") +
                   " attention) has no earlier non-shared layer of its type");
    }
    l.intermediateSize = c.intermediateSize *
                         (c.useDoubleWideMLP && l.kvShared && firstShared > 0 ? 2 : 1);
  }

  // Consistency of the resolved layers.
  for (int64_t i = 0; i < c.numLayers; ++i) {
    const LayerConfig &l = c.layers[i];
    std::string where = "layer " + std::to_string(i) + ": ";
    if (l.headDim % 2 != 0)
      t.fail("head_dim", where + "head dim " + std::to_string(l.headDim) +
                             " must be even for RoPE");
    if (l.numHeads % l.numKVHeads != 0)
      t.fail("num_key_value_heads",
             where + std::to_string(l.numHeads) + " attention heads are not divisible by " +
                 std::to_string(l.numKVHeads) + " key/value heads");
    if (l.kvShared) {
      const LayerConfig &s = c.layers[l.kvSourceLayer];
      if (s.headDim != l.headDim || s.numKVHeads != l.numKVHeads)
        t.fail("num_kv_shared_layers",
               where + "reads the K/V of layer " + std::to_string(l.kvSourceLayer) +
                   " whose head dim/KV heads differ");
    }
  }
  return c;
}

TextConfig readConfig(const std::string &dir) {
  std::string path = dir + "/config.json";
  TextConfig c = parseConfig(readFile(path), path);
  std::string gen = dir + "/generation_config.json";
  struct stat st;
  if (::stat(gen.c_str(), &st) == 0) {
    json g = parseJsonText(readFile(gen), gen);
    if (!g.is_object())
      throw InputError(gen + ": expected a JSON object at the top level");
    addTokenIds(Obj(g, gen, ""), "eos_token_id", c.eosTokenIds);
  }
  return c;
}

std::string guessVariant(const TextConfig &c) {
  struct Known {
    const char *name;
    int64_t hidden, layers, heads;
    bool moe;
    int64_t ple;
  };
  static const Known known[] = {{"E2B", 1536, 35, 8, false, 256},
                                {"E4B", 2560, 42, 8, false, 256},
                                {"26B-A4B", 2816, 30, 16, true, 0},
                                {"31B", 5376, 60, 32, false, 0}};
  for (const Known &k : known)
    if (c.hiddenSize == k.hidden && c.numLayers == k.layers && c.numHeads == k.heads &&
        c.enableMoE == k.moe && c.hiddenSizePerLayerInput == k.ple &&
        c.vocabSize == 262144)
      return k.name;
  return "unknown";
}

namespace {
using ojson = nlohmann::ordered_json;
ojson layerTypes(int64_t n, int period) {
  ojson a = ojson::array();
  for (int64_t i = 0; i < n; ++i)
    a.push_back((i + 1) % period ? "sliding_attention" : "full_attention");
  return a;
}

/// text_config of a preset, with the published shapes (see
/// docs/gemma4-architecture.md), spelled as real config.json files do.
ojson presetText(const std::string &name) {
  ojson t;
  t["attention_bias"] = false;
  t["attention_dropout"] = 0.0;
  t["attention_k_eq_v"] = false;
  t["bos_token_id"] = 2;
  t["enable_moe_block"] = false;
  t["eos_token_id"] = 1;
  t["final_logit_softcapping"] = 30.0;
  t["global_head_dim"] = 512;
  t["head_dim"] = 256;
  t["hidden_activation"] = "gelu_pytorch_tanh";
  t["initializer_range"] = 0.02;
  t["model_type"] = "gemma4_text";
  t["moe_intermediate_size"] = nullptr;
  t["num_experts"] = nullptr;
  t["num_kv_shared_layers"] = 0;
  t["pad_token_id"] = 0;
  t["rms_norm_eps"] = 1e-6;
  t["rope_parameters"] = {
      {"full_attention",
       {{"partial_rotary_factor", 0.25}, {"rope_theta", 1000000.0}, {"rope_type", "proportional"}}},
      {"sliding_attention", {{"rope_theta", 10000.0}, {"rope_type", "default"}}}};
  t["tie_word_embeddings"] = true;
  t["top_k_experts"] = nullptr;
  t["use_bidirectional_attention"] = nullptr;
  t["use_cache"] = true;
  t["use_double_wide_mlp"] = false;
  t["vocab_size"] = 262144;
  t["vocab_size_per_layer_input"] = 262144;
  auto shape = [&](int64_t hidden, int64_t layers, int period, int64_t inter, int64_t heads,
                   int64_t kv, int64_t window, int64_t ctx, int64_t ple) {
    t["hidden_size"] = hidden;
    t["num_hidden_layers"] = layers;
    t["layer_types"] = layerTypes(layers, period);
    t["intermediate_size"] = inter;
    t["num_attention_heads"] = heads;
    t["num_key_value_heads"] = kv;
    t["sliding_window"] = window;
    t["max_position_embeddings"] = ctx;
    t["hidden_size_per_layer_input"] = ple;
  };
  if (name == "e2b") {
    shape(1536, 35, 5, 6144, 8, 1, 512, 131072, 256);
    t["num_kv_shared_layers"] = 20;
    t["use_double_wide_mlp"] = true;
  } else if (name == "e4b") {
    shape(2560, 42, 6, 10240, 8, 2, 512, 131072, 256);
    t["num_kv_shared_layers"] = 18;
  } else if (name == "26b-a4b") {
    shape(2816, 30, 6, 2112, 16, 8, 1024, 262144, 0);
    t["attention_k_eq_v"] = true;
    t["num_global_key_value_heads"] = 2;
    t["enable_moe_block"] = true;
    t["num_experts"] = 128;
    t["top_k_experts"] = 8;
    t["moe_intermediate_size"] = 704;
  } else if (name == "31b") {
    shape(5376, 60, 6, 21504, 32, 16, 1024, 262144, 0);
    t["attention_k_eq_v"] = true;
    t["num_global_key_value_heads"] = 4;
  } else if (name == "tiny") {
    // Every feature at once: PLE, KV sharing with double-wide MLPs, k=v full
    // layers with their own KV-head count, MoE beside the dense MLP.
    shape(64, 8, 4, 96, 4, 2, 16, 4096, 8);
    t["vocab_size"] = 512;
    t["vocab_size_per_layer_input"] = 512;
    t["head_dim"] = 16;
    t["global_head_dim"] = 32;
    t["attention_k_eq_v"] = true;
    t["num_global_key_value_heads"] = 1;
    t["num_kv_shared_layers"] = 2;
    t["use_double_wide_mlp"] = true;
    t["enable_moe_block"] = true;
    t["num_experts"] = 4;
    t["top_k_experts"] = 2;
    t["moe_intermediate_size"] = 32;
  } else {
    throw InputError("unknown preset '" + name +
                     "' (expected e2b, e4b, 26b-a4b, 31b, tiny or a .json file)");
  }
  // Keys in the order transformers writes them (sorted).
  ojson sorted;
  std::map<std::string, ojson> m;
  for (auto &[k, v] : t.items())
    m[k] = v;
  for (auto &[k, v] : m)
    sorted[k] = v;
  return sorted;
}

ojson wrap(const ojson &text, bool conditional) {
  if (!conditional) {
    ojson c;
    c["architectures"] = {"Gemma4ForCausalLM"};
    for (auto &[k, v] : text.items())
      c[k] = v;
    c["model_type"] = "gemma4_text";
    c["dtype"] = "bfloat16";
    c["transformers_version"] = "5.17.0";
    return c;
  }
  ojson c;
  c["architectures"] = {"Gemma4ForConditionalGeneration"};
  c["audio_config"] = nullptr;
  c["audio_token_id"] = 258881;
  c["boa_token_id"] = 256000;
  c["boi_token_id"] = 255999;
  c["dtype"] = "bfloat16";
  c["eoa_token_index"] = 258883;
  c["eoi_token_id"] = 258882;
  c["image_token_id"] = 258880;
  c["initializer_range"] = 0.02;
  c["model_type"] = "gemma4";
  c["text_config"] = text;
  c["text_config"]["model_type"] = "gemma4_text";
  c["tie_word_embeddings"] = text.value("tie_word_embeddings", true);
  c["transformers_version"] = "5.17.0";
  c["video_token_id"] = 258884;
  c["vision_config"] = nullptr;
  return c;
}

} // namespace

std::string presetConfig(const std::string &name, bool conditional) {
  return wrap(presetText(name), conditional).dump(2) + "\n";
}

std::string wrapTextConfig(const std::string &textConfigJson, bool conditional) {
  ojson t;
  try {
    t = ojson::parse(textConfigJson);
  } catch (const ojson::exception &e) {
    throw InputError("text config: malformed JSON: " + oneLine(e.what()));
  }
  if (!t.is_object())
    throw InputError("text config: expected a JSON object");
  t.erase("architectures");
  return wrap(t, conditional).dump(2) + "\n";
}

} // namespace gemma4c
