//===- Checkpoint.cpp - a Hugging Face Gemma 4 checkpoint -----------------===//
#include "gemma4c/Frontend/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace gemma4c {

namespace {
using json = nlohmann::json;
using Shape = std::vector<int64_t>;

std::string shapeStr(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

std::string quote(const std::string &s) {
  std::string out = "'";
  for (unsigned char ch : s.substr(0, 200))
    out += (ch < 0x20 || ch == 0x7f) ? '?' : static_cast<char>(ch);
  return out + (s.size() > 200 ? "...'" : "'");
}

bool isFile(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

bool startsWith(const std::string &s, std::string_view p) {
  return s.compare(0, p.size(), p) == 0;
}

/// Tensors of the towers a ConditionalGeneration checkpoint may carry.
bool isTowerTensor(const std::string &name) {
  for (std::string_view p : {"model.vision_tower.", "model.audio_tower.",
                             "model.embed_vision.", "model.embed_audio."})
    if (startsWith(name, p))
      return true;
  return false;
}
} // namespace

std::map<std::string, Shape> expectedTensors(const TextConfig &c) {
  std::map<std::string, Shape> m;
  const int64_t H = c.hiddenSize, L = c.numLayers, P = c.hiddenSizePerLayerInput;
  m["embed_tokens.weight"] = {c.vocabSize, H};
  m["norm.weight"] = {H};
  if (!c.tieWordEmbeddings)
    m["lm_head.weight"] = {c.vocabSize, H};
  if (P > 0) {
    m["embed_tokens_per_layer.weight"] = {c.vocabSizePerLayerInput, L * P};
    m["per_layer_model_projection.weight"] = {L * P, H};
    m["per_layer_projection_norm.weight"] = {P};
  }
  for (int64_t i = 0; i < L; ++i) {
    const LayerConfig &l = c.layers[i];
    std::string p = "layers." + std::to_string(i) + ".";
    for (const char *n : {"input_layernorm", "post_attention_layernorm",
                          "pre_feedforward_layernorm", "post_feedforward_layernorm"})
      m[p + n + ".weight"] = {H};
    m[p + "layer_scalar"] = {1};
    const int64_t d = l.headDim;
    m[p + "self_attn.q_proj.weight"] = {l.numHeads * d, H};
    m[p + "self_attn.q_norm.weight"] = {d};
    m[p + "self_attn.o_proj.weight"] = {H, l.numHeads * d};
    if (!l.kvShared) {
      m[p + "self_attn.k_proj.weight"] = {l.numKVHeads * d, H};
      m[p + "self_attn.k_norm.weight"] = {d};
      if (!l.kEqV)
        m[p + "self_attn.v_proj.weight"] = {l.numKVHeads * d, H};
    }
    const int64_t I = l.intermediateSize;
    m[p + "mlp.gate_proj.weight"] = {I, H};
    m[p + "mlp.up_proj.weight"] = {I, H};
    m[p + "mlp.down_proj.weight"] = {H, I};
    if (l.moe) {
      const int64_t E = c.numExperts, Ie = c.moeIntermediateSize;
      m[p + "router.proj.weight"] = {E, H};
      m[p + "router.scale"] = {H};
      m[p + "router.per_expert_scale"] = {E};
      m[p + "experts.gate_up_proj"] = {E, 2 * Ie, H};
      m[p + "experts.down_proj"] = {E, H, Ie};
      for (const char *n : {"pre_feedforward_layernorm_2", "post_feedforward_layernorm_1",
                            "post_feedforward_layernorm_2"})
        m[p + n + ".weight"] = {H};
    }
    if (P > 0) {
      m[p + "per_layer_input_gate.weight"] = {P, H};
      m[p + "per_layer_projection.weight"] = {H, P};
      m[p + "post_per_layer_input_norm.weight"] = {H};
    }
  }
  return m;
}

std::unique_ptr<Checkpoint> Checkpoint::open(const std::string &dirArg) {
  std::string dir = dirArg;
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    throw InputError(dir + ": cannot open checkpoint directory: " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode))
    throw InputError(dir + ": not a checkpoint directory (not a directory)");

  std::unique_ptr<Checkpoint> ck(new Checkpoint());
  ck->dir_ = dir;
  ck->config_ = readConfig(dir);
  const TextConfig &c = ck->config_;
  const std::string configName = dir + "/config.json";

  // All tensors by full name.
  std::map<std::string, const TensorView *> all;
  std::string indexPath = dir + "/model.safetensors.index.json";
  std::string single = dir + "/model.safetensors";
  if (isFile(indexPath)) {
    ck->sharded_ = true;
    json idx;
    {
      struct stat ist;
      if (::stat(indexPath.c_str(), &ist) != 0 || !S_ISREG(ist.st_mode))
        throw InputError(indexPath + ": cannot read: not a regular file");
      std::ifstream in(indexPath, std::ios::binary);
      if (!in)
        throw InputError(indexPath + ": cannot read: " + std::strerror(errno));
      std::ostringstream ss;
      ss << in.rdbuf();
      try {
        idx = json::parse(ss.str());
      } catch (const json::exception &e) {
        std::string w = e.what();
        std::replace(w.begin(), w.end(), '\n', ' ');
        throw InputError(indexPath + ": malformed JSON: " + w);
      }
    }
    if (!idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object())
      throw InputError(indexPath + ": key 'weight_map': missing or not an object");
    std::map<std::string, std::string> weightMap;
    for (auto &[name, shard] : idx["weight_map"].items()) {
      if (!shard.is_string())
        throw InputError(indexPath + ": key 'weight_map': tensor " + quote(name) +
                         " maps to a non-string (expected a shard file name)");
      std::string s = shard.get<std::string>();
      if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos ||
          s.find('\0') != std::string::npos)
        throw InputError(indexPath + ": key 'weight_map': tensor " + quote(name) +
                         " names shard " + quote(s) + ", which is not a plain file name");
      weightMap[name] = s;
    }
    if (weightMap.empty())
      throw InputError(indexPath + ": key 'weight_map': lists no tensors");
    std::map<std::string, const SafetensorsFile *> shards;
    for (auto &[name, shard] : weightMap) {
      if (shards.count(shard))
        continue;
      ck->files_.push_back(SafetensorsFile::open(dir + "/" + shard));
      shards[shard] = ck->files_.back().get();
    }
    for (auto &[shard, f] : shards)
      for (const TensorView &t : f->tensors()) {
        auto [it, fresh] = all.emplace(t.name, &t);
        if (!fresh)
          throw InputError(f->path() + ": tensor " + quote(t.name) +
                           " is also stored in " + it->second->file);
        auto w = weightMap.find(t.name);
        if (w == weightMap.end())
          throw InputError(f->path() + ": tensor " + quote(t.name) +
                           " is not listed in " + indexPath);
        if (w->second != shard)
          throw InputError(f->path() + ": tensor " + quote(t.name) + " is listed in " +
                           indexPath + " for shard " + quote(w->second));
      }
    for (auto &[name, shard] : weightMap)
      if (!all.count(name))
        throw InputError(indexPath + ": tensor " + quote(name) + " is listed for shard " +
                         quote(shard) + " but " + dir + "/" + shard + " does not hold it");
  } else if (isFile(single)) {
    ck->files_.push_back(SafetensorsFile::open(single));
    for (const TensorView &t : ck->files_.back()->tensors())
      all.emplace(t.name, &t);
  } else {
    throw InputError(dir + ": no model.safetensors or model.safetensors.index.json");
  }

  // Text tensors by unprefixed name; tower tensors are skipped.
  bool conditional = c.architecture == "Gemma4ForConditionalGeneration";
  for (auto &[name, t] : all) {
    if (name == "lm_head.weight") {
      ck->text_["lm_head.weight"] = t;
    } else if (startsWith(name, c.tensorPrefix) && !(conditional && isTowerTensor(name))) {
      ck->text_[name.substr(c.tensorPrefix.size())] = t;
    } else if (conditional && isTowerTensor(name)) {
      ++ck->skipped_;
      ck->skippedBytes_ += t->nbytes;
      ck->towers_[name] = t;
    } else {
      throw InputError(t->file + ": unexpected tensor " + quote(name) +
                       " (neither under '" + c.tensorPrefix + "' nor a vision/audio tower)");
    }
  }

  // Against the config.
  auto fullName = [&](const std::string &n) {
    return n == "lm_head.weight" ? n : c.tensorPrefix + n;
  };
  std::map<std::string, Shape> expected = expectedTensors(c);
  for (auto &[name, t] : ck->text_) {
    auto e = expected.find(name);
    if (e == expected.end())
      throw InputError(t->file + ": unexpected text tensor " + quote(fullName(name)) +
                       " (not implied by " + configName + ")");
    if (t->shape != e->second)
      throw InputError(t->file + ": tensor " + quote(fullName(name)) + " has shape " +
                       shapeStr(t->shape) + " but " + configName + " implies " +
                       shapeStr(e->second));
    if (t->dtype != DType::F32 && t->dtype != DType::F16 && t->dtype != DType::BF16)
      throw InputError(t->file + ": tensor " + quote(fullName(name)) +
                       " has unsupported dtype " + dtypeName(t->dtype) +
                       " (weights must be F32, F16 or BF16)");
  }
  for (auto &[name, shape] : expected)
    if (!ck->text_.count(name))
      throw InputError(dir + ": missing tensor " + quote(fullName(name)) + " " +
                       shapeStr(shape) + " (required by " + configName + ")");
  return ck;
}

const TensorView *Checkpoint::find(const std::string &name) const {
  auto it = text_.find(name);
  return it == text_.end() ? nullptr : it->second;
}

const TensorView &Checkpoint::get(const std::string &name) const {
  if (const TensorView *t = find(name))
    return *t;
  throw InputError(dir_ + ": no text tensor " + quote(name));
}

} // namespace gemma4c
