//===- safetensors_header_fuzzer.cpp - libFuzzer target --------------------===//
//
// Feeds arbitrary bytes to SafetensorsFile::parseHeader. The first 8 bytes
// (when present) choose the size of the data section the header is checked
// against; the rest is the JSON header text. Any input must either parse or
// throw InputError: crashes, leaks, UB and other exceptions are bugs.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Frontend/Safetensors.h"

#include <cstdint>
#include <cstring>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t dataSize = 0;
  if (size >= 8) {
    std::memcpy(&dataSize, data, 8);
    data += 8;
    size -= 8;
  }
  // Mostly small data sections, sometimes huge ones (offset overflow paths).
  if (!(dataSize >> 63))
    dataSize &= 0xffffff;
  std::string_view json(reinterpret_cast<const char *>(data), size);
  std::map<std::string, std::string> metadata;
  try {
    std::vector<gemma4c::TensorView> ts =
        gemma4c::SafetensorsFile::parseHeader(json, dataSize, "fuzz.safetensors", &metadata);
    // Validated tensors must be self-consistent.
    for (const gemma4c::TensorView &t : ts) {
      uint64_t n = static_cast<uint64_t>(t.numElements()) *
                   static_cast<uint64_t>(gemma4c::dtypeSize(t.dtype));
      if (n != t.nbytes || t.nbytes > dataSize)
        __builtin_trap();
    }
  } catch (const gemma4c::InputError &) {
  }
  return 0;
}
