//===- Inspect.cpp - gemma4c inspect --------------------------------------===//
//
// Opens a checkpoint (validating it completely) and summarises it: wrapper,
// variant, per-type layer layout, head dims, KV sharing, MoE, PLE, parameter
// counts by kind, dtypes and the skipped tower tensors. --json gives the same
// as one JSON object.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"

#include "gemma4c/Frontend/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

namespace gemma4c {
namespace {
using json = nlohmann::ordered_json;

const char *kUsage =
    "Usage: gemma4c inspect [--json] <checkpoint-dir>\n\n"
    "Validates a Hugging Face Gemma 4 checkpoint (config.json plus\n"
    "model.safetensors or shards listed by model.safetensors.index.json) and\n"
    "prints a summary: wrapper, variant guess, layers by type, head dims,\n"
    "KV-shared layers, MoE, per-layer embeddings, parameters and dtypes.\n\n"
    "Options:\n"
    "  --json     print the summary as one JSON object\n"
    "  --help     this text\n";

/// "0-2,4-6" for {0,1,2,4,5,6}; "none" when empty.
std::string ranges(const std::vector<int64_t> &v) {
  if (v.empty())
    return "none";
  std::string s;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1)
      ++j;
    if (!s.empty())
      s += ",";
    s += std::to_string(v[i]);
    if (j > i)
      s += "-" + std::to_string(v[j]);
    i = j + 1;
  }
  return s;
}

std::string approx(double v, const char *const units[], double step) {
  int u = 0;
  while (v >= step && units[u + 1]) {
    v /= step;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f%s", v, units[0]);
  else
    std::snprintf(buf, sizeof buf, "%.2f%s", v, units[u]);
  return buf;
}
std::string count(uint64_t n) {
  static const char *const u[] = {"", "K", "M", "B", "T", nullptr};
  return std::to_string(n) + (n >= 1000 ? " (" + approx(double(n), u, 1000) + ")" : "");
}
std::string bytes(uint64_t n) {
  static const char *const u[] = {" B", " KiB", " MiB", " GiB", " TiB", nullptr};
  return approx(double(n), u, 1024);
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

/// The kind a text tensor's parameters are counted under.
const char *kindOf(const std::string &name) {
  auto has = [&](const char *s) { return name.find(s) != std::string::npos; };
  if (name == "embed_tokens.weight" || name == "lm_head.weight")
    return "embedding";
  if (has("norm") || has("layer_scalar"))
    return "norms";
  if (name == "embed_tokens_per_layer.weight" || has("per_layer_"))
    return "ple";
  if (has(".self_attn."))
    return "attention";
  if (has(".mlp."))
    return "mlp";
  if (has(".experts.") || has(".router."))
    return "experts";
  return "other";
}
const char *const kKinds[] = {"embedding", "ple", "attention", "mlp", "experts", "norms", "other"};

struct Summary {
  std::map<std::string, std::pair<uint64_t, uint64_t>> kinds; // params, bytes
  std::map<std::string, std::pair<uint64_t, uint64_t>> dtypes; // tensors, bytes
  uint64_t params = 0, nbytes = 0, pleEmbedding = 0;
};

Summary summarise(const Checkpoint &ck) {
  Summary s;
  for (auto &[name, t] : ck.tensors()) {
    uint64_t n = static_cast<uint64_t>(t->numElements());
    auto &k = s.kinds[kindOf(name)];
    k.first += n;
    k.second += t->nbytes;
    auto &d = s.dtypes[dtypeName(t->dtype)];
    d.first += 1;
    d.second += t->nbytes;
    s.params += n;
    s.nbytes += t->nbytes;
    if (name == "embed_tokens_per_layer.weight")
      s.pleEmbedding = n;
  }
  return s;
}

/// One line per attention type: head dim, heads, KV heads (grouped by layer
/// when the layers of one type differ).
std::string headInfo(const TextConfig &c, bool sliding) {
  std::map<std::string, std::vector<int64_t>> groups;
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerConfig &l = c.layers[i];
    if (l.sliding != sliding)
      continue;
    std::string d = std::to_string(l.headDim) + " (" + std::to_string(l.numHeads) +
                    " heads, " + std::to_string(l.numKVHeads) + " kv head" +
                    (l.numKVHeads == 1 ? "" : "s") + (l.kEqV ? ", k=v" : "") + ")";
    groups[d].push_back(static_cast<int64_t>(i));
  }
  std::string s;
  for (auto &[d, layers] : groups)
    s += (s.empty() ? "" : ", ") + d + (groups.size() > 1 ? " in " + ranges(layers) : "");
  return s;
}

std::string ropeInfo(const RopeParams &r, int64_t headDim) {
  std::string s = r.type + " theta " + num(r.theta);
  if (r.type == "proportional")
    s += " factor " + num(r.partialRotaryFactor);
  return s + " (" + std::to_string(r.rotaryDims(headDim)) + " of " +
         std::to_string(headDim / 2) + " pairs rotate)";
}

int64_t firstHeadDim(const TextConfig &c, bool sliding) {
  for (const LayerConfig &l : c.layers)
    if (l.sliding == sliding)
      return l.headDim;
  return 0;
}

/// A vision/audio tower (or its embedder) of a ConditionalGeneration
/// checkpoint: counts and the shapes that define it. The compiler skips
/// these tensors for now (issue 28, docs/multimodal.md).
struct Tower {
  const char *name, *prefix;
  std::vector<const char *> keys; // tensors whose shapes are shown
  uint64_t tensors = 0, params = 0, nbytes = 0;
  int64_t layers = 0;
  std::map<std::string, uint64_t> dtypes;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
};

std::vector<Tower> summariseTowers(const Checkpoint &ck) {
  std::vector<Tower> towers = {
      {"vision", "model.vision_tower.",
       {"patch_embedder.input_proj.weight", "patch_embedder.position_embedding_table",
        "encoder.layers.0.self_attn.q_proj.linear.weight",
        "encoder.layers.0.self_attn.k_proj.linear.weight",
        "encoder.layers.0.mlp.gate_proj.linear.weight", "std_scale"}},
      {"vision embedder", "model.embed_vision.", {"embedding_projection.weight"}},
      {"audio", "model.audio_tower.",
       {"subsample_conv_projection.layer0.conv.weight", "subsample_conv_projection.layer1.conv.weight",
        "subsample_conv_projection.input_proj_linear.weight", "layers.0.self_attn.q_proj.linear.weight",
        "layers.0.feed_forward1.ffw_layer_1.linear.weight", "layers.0.lconv1d.depthwise_conv1d.weight",
        "output_proj.weight"}},
      {"audio embedder", "model.embed_audio.", {"embedding_projection.weight"}},
  };
  for (Tower &t : towers) {
    for (auto &[name, tv] : ck.towerTensors()) {
      if (name.compare(0, std::strlen(t.prefix), t.prefix) != 0)
        continue;
      ++t.tensors;
      t.params += static_cast<uint64_t>(tv->numElements());
      t.nbytes += tv->nbytes;
      t.dtypes[dtypeName(tv->dtype)] += 1;
      std::string rest = name.substr(std::strlen(t.prefix));
      for (const char *lp : {"encoder.layers.", "layers."})
        if (rest.compare(0, std::strlen(lp), lp) == 0) {
          int64_t i = std::atoll(rest.c_str() + std::strlen(lp));
          t.layers = std::max(t.layers, i + 1);
        }
    }
    for (const char *k : t.keys)
      if (auto it = ck.towerTensors().find(std::string(t.prefix) + k); it != ck.towerTensors().end())
        t.shapes.push_back({k, it->second->shape});
  }
  towers.erase(std::remove_if(towers.begin(), towers.end(), [](const Tower &t) { return !t.tensors; }),
               towers.end());
  return towers;
}

std::string shapeText(const std::vector<int64_t> &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

void printText(const Checkpoint &ck) {
  const TextConfig &c = ck.config();
  Summary s = summarise(ck);
  std::vector<int64_t> sl, fu, shared, moe, wide;
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerConfig &l = c.layers[i];
    (l.sliding ? sl : fu).push_back(int64_t(i));
    if (l.kvShared)
      shared.push_back(int64_t(i));
    if (l.moe)
      moe.push_back(int64_t(i));
    if (l.intermediateSize != c.intermediateSize)
      wide.push_back(int64_t(i));
  }
  std::ostringstream o;
  auto row = [&](const char *k, const std::string &v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%-18s", (std::string(k) + ":").c_str());
    o << buf << v << "\n";
  };
  row("checkpoint", ck.dir());
  row("architecture", c.architecture + " (text tensors under '" + c.tensorPrefix + "')");
  row("variant", guessVariant(c));
  row("files", ck.sharded() ? std::to_string(ck.files().size()) + " shards" : "model.safetensors");
  row("dtype", c.dtype.empty() ? "unspecified" : c.dtype);
  row("vocab", std::to_string(c.vocabSize));
  row("hidden", std::to_string(c.hiddenSize));
  row("layers", std::to_string(c.numLayers));
  std::string types;
  if (!sl.empty())
    types += "sliding: " + ranges(sl);
  if (!fu.empty())
    types += (types.empty() ? "" : "; ") + std::string("full: ") + ranges(fu);
  row("layers by type", types);
  std::string heads;
  if (!sl.empty())
    heads += "sliding: " + headInfo(c, true);
  if (!fu.empty())
    heads += (heads.empty() ? "" : "; ") + std::string("full: ") + headInfo(c, false);
  row("head dims", heads);
  std::string rope;
  if (!sl.empty())
    rope += "sliding: " + ropeInfo(c.ropeSliding, firstHeadDim(c, true));
  if (!fu.empty())
    rope += (rope.empty() ? "" : "; ") + std::string("full: ") +
            ropeInfo(c.ropeFull, firstHeadDim(c, false));
  row("rope", rope);
  row("sliding window", std::to_string(c.slidingWindow));
  std::string kv = ranges(shared);
  if (!shared.empty()) {
    kv += " (";
    for (size_t i = 0; i < shared.size(); ++i)
      kv += (i ? " " : "") + std::to_string(shared[i]) + "<-" +
            std::to_string(c.layers[shared[i]].kvSourceLayer);
    kv += ")";
  }
  row("kv-shared layers", kv);
  std::string mlp = "intermediate " + std::to_string(c.intermediateSize);
  if (!wide.empty())
    mlp += "; double-wide " + std::to_string(c.layers[wide[0]].intermediateSize) +
           " in layers " + ranges(wide);
  row("mlp", mlp);
  if (moe.empty())
    row("moe", "none");
  else
    row("moe", "layers " + ranges(moe) + ": " + std::to_string(c.numExperts) +
                   " experts, top-" + std::to_string(c.topKExperts) + ", expert intermediate " +
                   std::to_string(c.moeIntermediateSize) + " (dense MLP kept)");
  if (c.hiddenSizePerLayerInput > 0)
    row("ple", "per-layer input " + std::to_string(c.hiddenSizePerLayerInput) + ", vocab " +
                   std::to_string(c.vocabSizePerLayerInput));
  else
    row("ple", "none");
  row("softcap", c.finalLogitSoftcapping ? num(*c.finalLogitSoftcapping) : "none");
  row("context length", std::to_string(c.maxPositionEmbeddings));
  row("tied embeddings", c.tieWordEmbeddings ? "yes" : "no");
  std::string eos;
  for (int64_t id : c.eosTokenIds)
    eos += (eos.empty() ? "" : " ") + std::to_string(id);
  row("eos ids", eos.empty() ? "none" : eos);
  o << "parameters:\n";
  for (const char *k : kKinds) {
    auto it = s.kinds.find(k);
    if (it == s.kinds.end())
      continue;
    char buf[32];
    std::snprintf(buf, sizeof buf, "  %-18s", k);
    o << buf << count(it->second.first) << ", " << bytes(it->second.second) << "\n";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "  %-18s", "total");
  o << buf << count(s.params) << ", " << bytes(s.nbytes) << "\n";
  if (s.pleEmbedding) {
    std::snprintf(buf, sizeof buf, "  %-18s", "without ple embed");
    o << buf << count(s.params - s.pleEmbedding) << "\n";
  }
  std::string dt;
  for (auto &[d, v] : s.dtypes)
    dt += (dt.empty() ? "" : "; ") + d + ": " + std::to_string(v.first) + " tensors, " +
          bytes(v.second);
  row("dtypes", dt);
  row("skipped", std::to_string(ck.skippedTensors()) + " vision/audio tensors (" +
                     bytes(ck.skippedBytes()) + ")" +
                     (c.hasVision ? ", vision tower configured" : "") +
                     (c.hasAudio ? ", audio tower configured" : ""));
  std::vector<Tower> towers = summariseTowers(ck);
  if (!towers.empty())
    row("towers", "not compiled yet (gemma4c compile skips them; docs/multimodal.md)");
  for (const Tower &t : towers) {
    std::string dt;
    for (auto &[d, n] : t.dtypes)
      dt += (dt.empty() ? "" : ", ") + d;
    char tb[32];
    std::snprintf(tb, sizeof tb, "  %-18s", t.name);
    o << tb << (t.layers ? std::to_string(t.layers) + " layers, " : "") << count(t.params)
      << " parameters, " << bytes(t.nbytes) << " (" << dt << ")\n";
    for (auto &[k, shape] : t.shapes)
      o << "    " << k << " " << shapeText(shape) << "\n";
  }
  std::fputs(o.str().c_str(), stdout);
}

json ropeJson(const RopeParams &r, int64_t d) {
  return {{"type", r.type}, {"theta", r.theta},
          {"partial_rotary_factor", r.partialRotaryFactor}, {"rotary_pairs", r.rotaryDims(d)}};
}

void printJson(const Checkpoint &ck) {
  const TextConfig &c = ck.config();
  Summary s = summarise(ck);
  json j;
  j["checkpoint"] = ck.dir();
  j["architecture"] = c.architecture;
  j["tensor_prefix"] = c.tensorPrefix;
  j["variant"] = guessVariant(c);
  json files = json::array();
  for (auto &f : ck.files())
    files.push_back(f->path());
  j["files"] = files;
  j["sharded"] = ck.sharded();
  j["dtype"] = c.dtype;
  j["vocab_size"] = c.vocabSize;
  j["hidden_size"] = c.hiddenSize;
  j["num_layers"] = c.numLayers;
  j["num_attention_heads"] = c.numHeads;
  j["intermediate_size"] = c.intermediateSize;
  j["sliding_window"] = c.slidingWindow;
  j["max_position_embeddings"] = c.maxPositionEmbeddings;
  j["rms_norm_eps"] = c.rmsNormEps;
  j["final_logit_softcapping"] =
      c.finalLogitSoftcapping ? json(*c.finalLogitSoftcapping) : json(nullptr);
  j["tie_word_embeddings"] = c.tieWordEmbeddings;
  j["bos_token_id"] = c.bosTokenId;
  j["pad_token_id"] = c.padTokenId;
  j["eos_token_ids"] = c.eosTokenIds;
  json sl = json::array(), fu = json::array(), layers = json::array();
  std::vector<int64_t> shared;
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerConfig &l = c.layers[i];
    (l.sliding ? sl : fu).push_back(i);
    layers.push_back({{"index", i},
                      {"type", l.sliding ? "sliding_attention" : "full_attention"},
                      {"head_dim", l.headDim},
                      {"num_heads", l.numHeads},
                      {"num_kv_heads", l.numKVHeads},
                      {"k_eq_v", l.kEqV},
                      {"kv_shared", l.kvShared},
                      {"kv_source_layer", l.kvSourceLayer},
                      {"intermediate_size", l.intermediateSize},
                      {"moe", l.moe},
                      {"rope", ropeJson(l.rope, l.headDim)}});
  }
  j["layer_types"] = {{"sliding_attention", sl}, {"full_attention", fu}};
  j["layers"] = layers;
  j["num_kv_shared_layers"] = c.numKVSharedLayers;
  j["use_double_wide_mlp"] = c.useDoubleWideMLP;
  j["moe"] = c.enableMoE ? json{{"num_experts", c.numExperts},
                                {"top_k_experts", c.topKExperts},
                                {"moe_intermediate_size", c.moeIntermediateSize}}
                         : json(nullptr);
  j["ple"] = c.hiddenSizePerLayerInput > 0
                 ? json{{"hidden_size_per_layer_input", c.hiddenSizePerLayerInput},
                        {"vocab_size_per_layer_input", c.vocabSizePerLayerInput}}
                 : json(nullptr);
  json params = json::object();
  for (const char *k : kKinds)
    if (auto it = s.kinds.find(k); it != s.kinds.end())
      params[k] = {{"count", it->second.first}, {"bytes", it->second.second}};
  params["total"] = {{"count", s.params}, {"bytes", s.nbytes}};
  params["total_without_ple_embedding"] = s.params - s.pleEmbedding;
  j["parameters"] = params;
  json dt = json::object();
  for (auto &[d, v] : s.dtypes)
    dt[d] = {{"tensors", v.first}, {"bytes", v.second}};
  j["dtypes"] = dt;
  j["skipped"] = {{"tensors", ck.skippedTensors()}, {"bytes", ck.skippedBytes()},
                  {"has_vision", c.hasVision}, {"has_audio", c.hasAudio}};
  json towers = json::object();
  for (const Tower &t : summariseTowers(ck)) {
    json shapes = json::object();
    for (auto &[k, shape] : t.shapes)
      shapes[k] = shape;
    towers[t.name] = {{"tensors", t.tensors}, {"parameters", t.params}, {"bytes", t.nbytes},
                      {"layers", t.layers}, {"compiled", false}, {"shapes", shapes}};
  }
  j["towers"] = towers;
  std::printf("%s\n", j.dump(2).c_str());
}
} // namespace

int runInspect(const Args &args) {
  bool asJson = false;
  std::string dir;
  for (const std::string &a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--json") {
      asJson = true;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "gemma4c inspect: error: unknown option '%s' (see --help)\n",
                   a.c_str());
      return 2;
    } else if (!dir.empty()) {
      std::fprintf(stderr, "gemma4c inspect: error: unexpected argument '%s'\n", a.c_str());
      return 2;
    } else {
      dir = a;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "gemma4c inspect: error: missing <checkpoint-dir> (see --help)\n");
    return 2;
  }
  try {
    std::unique_ptr<Checkpoint> ck = Checkpoint::open(dir);
    if (asJson)
      printJson(*ck);
    else
      printText(*ck);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "gemma4c inspect: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

} // namespace gemma4c
