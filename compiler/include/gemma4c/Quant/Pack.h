//===- Pack.h - compile-time weight quantization and packing ----*- C++ -*-===//
//
// Quantizes a checkpoint tensor (f32/f16/bf16 rows of K elements) into the
// packed layout of gemma4/IR/QuantLayout.h. Runs once, at compile time,
// while the weight blob is written; rows are processed in chunks on all
// cores and streamed to the sink, so no full-size copy is held in memory.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_QUANT_PACK_H
#define GEMMA4C_QUANT_PACK_H

#include "gemma4/IR/QuantLayout.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace gemma4c::quant {

enum class SrcType { F32, F16, BF16 };

/// Thrown for tensors that cannot be quantized (NaN/Inf values).
struct PackError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Sink = std::function<void(const void *, size_t)>;

/// Writes exactly layout(spec, rows, K).total bytes to `sink`. `name` is for
/// error messages.
void pack(const ::gemma4::quant::Spec &spec, const void *src, SrcType type, int64_t rows,
          int64_t K, const Sink &sink, const std::string &name);

/// Reference dequantisation of one element of a packed tensor (tests).
float dequantize(const ::gemma4::quant::Spec &spec, const uint8_t *packed, int64_t rows,
                 int64_t K, int64_t row, int64_t k);

uint16_t floatToF16(float f);
float f16ToFloat(uint16_t h);
uint16_t floatToBF16(float f);
float bf16ToFloat(uint16_t h);

} // namespace gemma4c::quant

#endif
