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
#include <optional>
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

/// Optional "gpu" object of the manifest: the kernels of a GPU binary, whose
/// entry points take device pointers (abi.h). Absent in CPU binaries.
struct GpuManifest {
  std::string api;  ///< "api": "cuda" or "vulkan"
  std::string arch; ///< "arch": "sm_90", "sm_90a" (exactly 9.0), "sm_100f" (10.x)
  int sm = 0;       ///< the arch's compute capability x 10 + minor: 90
  char archSuffix = 0; ///< 0, 'a' or 'f' (the letter after the digits)
  std::vector<std::string> kernels; ///< "kernels": gemma4rt_gpu_launch's table
  uint64_t ptxOffset = 0, ptxSize = 0; ///< "ptx": NUL-terminated text, size with the NUL
  bool hasCubin = false;               ///< "cubin": an object (not null/absent)
  bool pdl = false; ///< "pdl": kernels wait for their predecessor (griddepcontrol)
  uint64_t cubinOffset = 0, cubinSize = 0;
  // Vulkan ("api": "vulkan"; no arch, ptx or cubin):
  uint64_t spirvOffset = 0, spirvSize = 0; ///< "spirv": one SPIR-V module
  /// "kernel_info"[k]: the kernel's parameter block bytes ("params"),
  /// workgroup size ("workgroup": [x, y, z]) and workgroup memory bytes
  /// ("shared", absent: 0).
  struct VulkanKernel {
    uint32_t paramBytes = 0;
    uint32_t sharedBytes = 0;
    uint32_t workgroup[3] = {1, 1, 1};
  };
  std::vector<VulkanKernel> vulkanKernels;
  int64_t subgroupSize = 0; ///< "subgroup_size": lanes of a subgroup reduction

  /// Whether the PTX can be compiled for (and run on) a GPU of compute
  /// capability `sm` (x 10 + minor): sm >= arch; "a": sm == arch; "f": the
  /// same major, sm >= arch.
  bool ptxRunsOn(int sm) const;
};

/// "draft": the draft model of a binary compiled with --draft (speculative
/// decoding; abi.h), which shares the weights blob and the vocabulary.
struct DraftManifest {
  std::string name;
  int64_t numLayers = 0;
  uint64_t kvBytesFixed = 0;
  uint64_t kvBytesPerContext = 0;
  int64_t weightsReadPerToken = -1;
};

struct Manifest {
  int64_t abi = 0;
  ModelInfo model;
  int64_t prefillChunk = 0;
  /// "decode_batch": B of gemma4_decode_batch (abi.h); 0 when absent.
  int64_t decodeBatch = 0;
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
  /// compiler.aarch64_features: the same for AArch64 binaries (dotprod,
  /// fullfp16), tested through the kernel's HWCAP bits.
  std::vector<std::string> aarch64Features;
  std::string compiledForCpu; ///< compiler.cpu, for messages
  GenerationDefaults generation;

  /// "quant": the weight scheme gemma4c compiled with (bf16, int8, int4-g32,
  /// mixed, ...); "" in binaries older than quantization.
  std::string quant;
  /// "weights_read_per_token": bytes of weights one decode step reads (every
  /// streamed tensor once, k/E of MoE experts, one row per token of
  /// gather-only tables); -1 when absent.
  int64_t weightsReadPerToken = -1;
  /// "matmul_macs_per_token": multiply-adds of one token's matmuls (weight
  /// elements, weighted like weightsReadPerToken); -1 when absent.
  int64_t matmulMacsPerToken = -1;
  /// "output_macs_per_call": of those, the output projection's, which a
  /// prefill call runs for its last token only; -1 when absent.
  int64_t outputMacsPerCall = -1;
  /// "gpu": set in GPU binaries.
  std::optional<GpuManifest> gpu;
  std::optional<DraftManifest> draft;
};

/// Throws Error naming the first instruction-set extension in
/// `m.x86Features` (x86-64) or `m.aarch64Features` (AArch64) this CPU
/// lacks (generated code would die with SIGILL).
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

  /// An anonymous private mapping of `size` zero bytes, writable through
  /// writableData() until makeReadOnly(), advised for transparent huge pages
  /// (weights are streamed whole every decode step: 2 MiB pages spare the
  /// TLB misses of 4 KiB ones).
  /// The region starts on a 2 MiB boundary, so every 2 MiB of it can be one
  /// huge page.
  static MappedRegion anonymous(uint64_t size, const std::string &what);
  uint8_t *writableData() const { return const_cast<uint8_t *>(data_); }
  /// The start of the mapping (the page at or below data()).
  const void *mapStart() const { return map_; }
  /// Maps every page of a file mapping now (MADV_POPULATE_READ, in pieces on
  /// the global thread pool; pages not in the page cache are read), so the
  /// first call does not take the page faults. Returns the seconds it took.
  double populate();
  /// mprotect(PROT_READ): generated code sees the same read-only weights as
  /// from a file mapping.
  void makeReadOnly();

private:
  void *map_ = nullptr;
  size_t mapSize_ = 0;
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
};

/// How a CPU binary gets its weights from the file (--load-weights,
/// GEMMA4RT_LOAD_WEIGHTS).
enum class WeightsLoad {
  Auto, ///< Read when the weights take at most half of MemAvailable, else Map
  Read, ///< read into anonymous memory advised for 2 MiB pages
  Map,  ///< map the file read-only (shared with the page cache, no copy)
};

/// "auto" | "read" | "map"; throws UsageError("<what>: ...") for anything
/// else (`what` names the flag or environment variable).
WeightsLoad parseWeightsLoad(const std::string &value, const std::string &what);

class Payload {
public:
  /// Opens the payload appended to `exePath`. Throws Error with a one-line
  /// message when it is missing or corrupt, or when external weights are
  /// missing.
  /// With mapWeights false the weights are left alone (not opened, not
  /// mapped: an external weights file need not exist) until
  /// useRandomWeights(); weights() is null until then.
  ///
  /// `how` (CPU binaries; GPU binaries always map, to upload from the
  /// mapping): Map maps the weights here; Read (and Auto when it picks
  /// reading) only opens and checks them, and readWeights() copies them
  /// into anonymous memory, which weights() needs first.
  static std::unique_ptr<Payload> open(const std::string &exePath, bool mapWeights = true,
                                       WeightsLoad how = WeightsLoad::Map);
  /// With a pending read (open() chose Read): reads the weights into an
  /// anonymous region advised for transparent huge pages, in blocks on the
  /// global thread pool (set its size first), then makes it read-only.
  /// Returns the seconds it took; 0 when nothing was pending.
  double readWeights();
  /// Whether the weights were (or are to be) read into memory rather than
  /// mapped, and for WeightsLoad::Auto why.
  bool weightsRead() const { return readPending_ || readDone_; }
  const std::string &weightsLoadReason() const { return loadReason_; }
  /// Mapped weights of a CPU binary that take at most half of the available
  /// memory: open() mapped every page (MappedRegion::populate), in this
  /// many seconds.
  double weightsPopulateSeconds() const { return populateSeconds_; }
  bool weightsPopulated() const { return populated_; }
  /// Bytes of the weights' mapping the kernel holds in 2 MiB pages now
  /// (AnonHugePages / FilePmdMapped of its /proc/self/smaps entry); -1 when
  /// unknown.
  int64_t weightsHugePageBytes() const;

  /// Replaces the weights with weightsSize() pseudo-random bytes from
  /// fillRandomWeights(seed), filled on the global thread pool (set its size
  /// first). Returns the seconds the fill took.
  double useRandomWeights(uint64_t seed);
  /// Whether useRandomWeights() made the weights (and with which seed).
  bool randomWeights() const { return randomSeed_.has_value(); }
  uint64_t randomWeightsSeed() const { return randomSeed_.value_or(0); }

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
  /// GPU binaries: the PTX text, its terminating NUL included (so data() is
  /// a C string), and the cubin ("" when the manifest has none).
  std::string_view gpuPtx() const { return gpuPtx_; }
  std::string_view gpuCubin() const { return gpuCubin_; }
  std::string_view gpuSpirv() const { return gpuSpirv_; }
  /// Unmaps the weights (weights() is null after it): a GPU binary's host
  /// copy is not needed once they are on the device.
  void releaseWeights();

private:
  Payload() = default;
  std::string path_;
  std::string weightsPath_;
  Manifest manifest_;
  MappedRegion weights_;
  std::string tokenizer_;
  std::string gpuPtx_, gpuCubin_, gpuSpirv_;
  std::optional<uint64_t> randomSeed_;
  // A pending read (open() chose Read): the open file and where the blob
  // starts in it.
  int readFd_ = -1;
  uint64_t readOffset_ = 0;
  bool readPending_ = false, readDone_ = false;
  double populateSeconds_ = 0;
  bool populated_ = false;
  std::string loadReason_;

public:
  ~Payload();
  Payload(const Payload &) = delete;
  Payload &operator=(const Payload &) = delete;
};

/// Fills [p, p+n) with pseudo-random bytes, every one in [0x3c, 0x3f]
/// (0x3c | 2 random bits), so that any reading of them is harmless: a bf16
/// or f32 whose high byte is one of them lies in [0.0115, 0.75), an f16 in
/// [1.05, 1.82), fp8 in [1, 1.9]; never NaN, Inf or subnormal, and far enough
/// from both ends of the f32 range that chains of products (norm weight x
/// layer scalar x matmul over 10^4 positive terms ...) neither underflow to
/// slow subnormals nor overflow between the model's norms. int8 data reads
/// 60..63, int4 nibbles 3 and 12..15: ordinary values. Deterministic in
/// (seed, offset): the same bytes for any number of threads. Runs on the
/// global thread pool.
void fillRandomWeights(uint8_t *p, uint64_t n, uint64_t seed);

} // namespace gemma4rt

#endif
