//===- payload.h - the payload appended to a compiled model -----*- C++ -*-===//
//
// Locates the payload of the running executable (see abi.h for the layout),
// parses the manifest and memory-maps the weights read-only (no copy).
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_PAYLOAD_H
#define GEMMA4RT_PAYLOAD_H

#include "gemma4rt/abi.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4rt {

/// The 32-byte trailer at the very end of the file (little endian).
struct Trailer {
  char magic[8]; ///< GEMMA4RT_PAYLOAD_MAGIC, not NUL-terminated
  uint64_t manifestOffset;
  uint64_t manifestSize;
  uint64_t version; ///< == GEMMA4RT_ABI_VERSION
};
static_assert(sizeof(Trailer) == GEMMA4RT_TRAILER_SIZE);

struct ModelInfo {
  std::string name;
  int64_t vocabSize = 0;
  int64_t numLayers = 0;
  int64_t hiddenSize = 0;
  int64_t maxPositionEmbeddings = 0;
  int32_t bosTokenId = -1;
  std::vector<int32_t> eosTokenIds;
  int32_t padTokenId = -1;
};

/// Optional "generation" object of the manifest (from generation_config.json):
/// sampling defaults the CLI flags override. Absent fields keep the runtime's
/// defaults.
struct GenerationDefaults {
  double temperature = -1; ///< < 0: absent
  int64_t topK = -1;
  double topP = -1;
  double minP = -1;
  double repeatPenalty = -1;
};

struct Manifest {
  int64_t abi = 0;
  ModelInfo model;
  int64_t prefillChunk = 0;
  int64_t defaultContext = 0;
  uint64_t kvBytesFixed = 0;
  uint64_t kvBytesPerContext = 0;

  bool weightsExternal = false;
  std::string weightsFile; ///< external: file name, resolved beside the exe
  uint64_t weightsOffset = 0; ///< embedded: offset in the executable
  uint64_t weightsSize = 0;

  bool hasTokenizer = false;
  uint64_t tokenizerOffset = 0;
  uint64_t tokenizerSize = 0;
  std::string tokenizerFormat; ///< "hf-json" | "sentencepiece"

  std::string chatJson; ///< the "chat" value re-serialised; "" when null
  /// compiler.x86_features: instruction-set extensions the generated code
  /// uses (x86-64 binaries); checked against the CPU before running.
  std::vector<std::string> x86Features;
  std::string compiledForCpu; ///< compiler.cpu, for messages
  GenerationDefaults generation;
};

/// Throws Error naming the first instruction-set extension in
/// `m.x86Features` this CPU lacks (generated code would die with SIGILL).
void checkCpuFeatures(const Manifest &m);

/// Parses and validates manifest JSON. Throws Error("corrupt model payload
/// ...: <what>") naming `where` (the file) on any problem.
Manifest parseManifest(std::string_view json, const std::string &where);

/// A read-only memory mapping of [offset, offset+size) of a file. offset need
/// not be page aligned (the mapping starts at the page below it).
class MappedRegion {
public:
  MappedRegion() = default;
  MappedRegion(int fd, uint64_t offset, uint64_t size, const std::string &what);
  MappedRegion(MappedRegion &&o) noexcept;
  MappedRegion &operator=(MappedRegion &&o) noexcept;
  MappedRegion(const MappedRegion &) = delete;
  MappedRegion &operator=(const MappedRegion &) = delete;
  ~MappedRegion();
  const uint8_t *data() const { return data_; }
  uint64_t size() const { return size_; }

private:
  void *map_ = nullptr;
  size_t mapSize_ = 0;
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
};

class Payload {
public:
  /// Opens the payload appended to `exePath`. Throws Error with a one-line
  /// message when it is missing or corrupt, or when external weights are
  /// missing.
  static std::unique_ptr<Payload> open(const std::string &exePath);

  /// The path of the running executable: /proc/self/exe resolved, else
  /// argv[0] (searched in PATH when it has no '/').
  static std::string selfExePath(const char *argv0);

  const Manifest &manifest() const { return manifest_; }
  const std::string &path() const { return path_; }
  /// The weights blob (page aligned; a valid non-null pointer even when the
  /// blob is empty).
  const uint8_t *weights() const;
  uint64_t weightsSize() const { return manifest_.weightsSize; }
  /// Where the weights came from (the executable or the external file).
  const std::string &weightsPath() const { return weightsPath_; }
  /// The tokenizer bytes ("" when the manifest has tokenizer null).
  std::string_view tokenizerBytes() const { return tokenizer_; }

private:
  Payload() = default;
  std::string path_;
  std::string weightsPath_;
  Manifest manifest_;
  MappedRegion weights_;
  std::string tokenizer_;
};

} // namespace gemma4rt

#endif
