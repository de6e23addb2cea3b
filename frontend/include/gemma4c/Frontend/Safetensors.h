//===- Safetensors.h - zero-copy safetensors reader ------------*- C++ -*-===//
#ifndef GEMMA4C_FRONTEND_SAFETENSORS_H
#define GEMMA4C_FRONTEND_SAFETENSORS_H

#include "gemma4c/Frontend/Error.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4c {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

/// "F32", "BF16", ... as safetensors spells them; parseDType throws
/// InputError for anything else (e.g. F8_E4M3 is reported as unsupported).
const char *dtypeName(DType t);
DType parseDType(std::string_view s, const std::string &context);
int64_t dtypeSize(DType t);

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr; ///< points into the memory-mapped file
  uint64_t nbytes = 0;
  std::string file; ///< the .safetensors file holding it
  int64_t numElements() const;
};

/// One memory-mapped .safetensors file. The header is validated completely
/// on open: JSON well-formed, dtypes known, shapes non-negative, offsets in
/// range, byte counts matching shape x dtype, no overlaps.
class SafetensorsFile {
public:
  static std::unique_ptr<SafetensorsFile> open(const std::string &path);
  /// Parses and validates a header (the JSON text) against a data section of
  /// `dataSize` bytes; used by open() and by the fuzz target.
  static std::vector<TensorView> parseHeader(std::string_view json,
                                             uint64_t dataSize,
                                             const std::string &path,
                                             std::map<std::string, std::string> *metadata = nullptr);
  ~SafetensorsFile();
  const std::vector<TensorView> &tensors() const { return tensors_; }
  const std::string &path() const { return path_; }
  const std::map<std::string, std::string> &metadata() const { return metadata_; }

private:
  SafetensorsFile() = default;
  std::string path_;
  void *map_ = nullptr;
  size_t mapSize_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// Writes tensors to a .safetensors file (used by --dump-logits, synth and
/// tests). Writes to a temporary name and renames, so no partial file is
/// left behind on failure.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void *data;
  uint64_t nbytes;
};
void writeSafetensors(const std::string &path,
                      const std::vector<TensorToWrite> &tensors);

/// A tensor to be written by writeSafetensorsStreaming: its bytes are not in
/// memory but produced on demand.
struct TensorSpec {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  /// numel x dtype size; throws InputError naming the tensor on overflow.
  uint64_t nbytes() const;
};
/// Produces bytes [offset, offset + n) of tensor `index` into `buf`.
/// Called in order, chunk by chunk; `offset` is a multiple of 8.
using TensorFill = std::function<void(size_t index, uint64_t offset,
                                      uint8_t *buf, uint64_t n)>;
/// Writes a .safetensors file without holding the tensors in memory: the
/// header first (8-byte aligned, space padded), then each tensor's bytes as
/// `fill` produces them. Same temporary-name-and-rename guarantee as
/// writeSafetensors. `metadata` goes to `__metadata__`.
void writeSafetensorsStreaming(
    const std::string &path, const std::vector<TensorSpec> &tensors,
    const TensorFill &fill,
    const std::map<std::string, std::string> &metadata = {{"format", "pt"}});
/// The header bytes (length prefix included) writeSafetensorsStreaming
/// would write for `tensors`; its size plus the tensor bytes is the file size.
std::string safetensorsHeader(const std::vector<TensorSpec> &tensors,
                              const std::map<std::string, std::string> &metadata);

} // namespace gemma4c

#endif
