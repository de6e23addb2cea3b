//===- Checkpoint.h - a Hugging Face Gemma 4 checkpoint --------*- C++ -*-===//
#ifndef GEMMA4C_FRONTEND_CHECKPOINT_H
#define GEMMA4C_FRONTEND_CHECKPOINT_H

#include "gemma4c/Frontend/Config.h"
#include "gemma4c/Frontend/Safetensors.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gemma4c {

/// Every text tensor the config implies, by unprefixed name (e.g.
/// "layers.0.self_attn.q_proj.weight"; "lm_head.weight" when untied), with
/// its exact shape. Checkpoint::open() validates against it.
std::map<std::string, std::vector<int64_t>> expectedTensors(const TextConfig &c);

/// A checkpoint folder: config plus every text tensor, memory-mapped.
/// Handles one model.safetensors or shards listed by
/// model.safetensors.index.json. open() validates that every tensor the
/// config implies exists with the right shape and a supported dtype, and
/// that no unexpected text tensor is present; vision/audio tensors are
/// counted and skipped.
class Checkpoint {
public:
  static std::unique_ptr<Checkpoint> open(const std::string &dir);

  const std::string &dir() const { return dir_; }
  const TextConfig &config() const { return config_; }

  /// The text tensor `name` *without* the wrapper prefix, e.g.
  /// "layers.0.self_attn.q_proj.weight"; nullptr when absent.
  const TensorView *find(const std::string &name) const;
  /// Like find() but throws InputError naming the tensor when absent.
  const TensorView &get(const std::string &name) const;
  /// All text tensors by unprefixed name.
  const std::map<std::string, const TensorView *> &tensors() const { return text_; }
  /// Tensors of vision/audio towers, skipped for now.
  int64_t skippedTensors() const { return skipped_; }
  /// Those tensors by full name ("model.vision_tower...", "model.embed_audio...").
  const std::map<std::string, const TensorView *> &towerTensors() const { return towers_; }
  uint64_t skippedBytes() const { return skippedBytes_; }
  /// The .safetensors files opened (one, or every shard once).
  const std::vector<std::unique_ptr<SafetensorsFile>> &files() const { return files_; }
  /// True when the tensors came from shards listed by an index file.
  bool sharded() const { return sharded_; }

private:
  std::string dir_;
  TextConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView *> text_;
  std::map<std::string, const TensorView *> towers_;
  int64_t skipped_ = 0;
  uint64_t skippedBytes_ = 0;
  bool sharded_ = false;
};

} // namespace gemma4c

#endif
