//===- QuantLayout.h - byte layout of quantized weights --------*- C++ -*-===//
//
// The one definition of how a quantized weight is stored in the weight blob,
// shared by the dialect verifier, gemma4-layout-weights (sizes), the loop
// lowering (addresses) and the compile-time packer (bytes). Plain C++: the
// packer and tests use it without MLIR.
//
// A weight of logical shape [..., N, K] is `rows` = prod(leading dims) rows of
// K elements, quantized along K. Its region in the blob holds, each sub-array
// starting 64-byte aligned relative to the region start:
//   data   int8: rows x K signed bytes, q in [-127, 127], w = q * s
//          int4: rows x (K/32) blocks of 16 bytes; byte j of block b holds
//                element 32b + j in its low nibble and 32b + 16 + j in its
//                high nibble (so one 16-byte load unpacks, with an AND and a
//                shift, into two runs of 16 consecutive elements); nibbles
//                are unsigned q in [0, 15]:
//                  symmetric  w = (q - 8) * s
//                  asymmetric w = q * s + m
//   scales rows x (K/G) values of the scale type (G = K for per-channel)
//   mins   rows x (K/G) values of the scale type, asymmetric only
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4_IR_QUANTLAYOUT_H
#define GEMMA4_IR_QUANTLAYOUT_H

#include <cstdint>

namespace gemma4::quant {

/// Elements per int4 block (one 16-byte load).
constexpr int64_t kInt4Block = 32;
constexpr uint64_t kSubAlign = 64;

enum class ScaleType { F16, BF16, F32 };

inline int64_t scaleBytes(ScaleType t) { return t == ScaleType::F32 ? 4 : 2; }

struct Spec {
  int bits = 8;           ///< 4 or 8
  int64_t group = 0;      ///< elements per scale along K; 0 = whole row
  ScaleType scale = ScaleType::F32;
  bool symmetric = true;
};

struct Layout {
  int64_t rows = 0, K = 0, group = 0, groups = 0;
  uint64_t dataOffset = 0, dataBytes = 0;
  uint64_t scaleOffset = 0, scaleBytesTotal = 0;
  uint64_t minOffset = 0, minBytes = 0; ///< minBytes == 0 when symmetric
  uint64_t total = 0;
};

inline uint64_t alignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

inline Layout layout(const Spec &s, int64_t rows, int64_t K) {
  Layout l;
  l.rows = rows;
  l.K = K;
  l.group = s.group > 0 ? s.group : K;
  l.groups = l.group > 0 ? K / l.group : 0;
  l.dataBytes = static_cast<uint64_t>(rows) * static_cast<uint64_t>(s.bits == 4 ? K / 2 : K);
  l.scaleOffset = alignUp(l.dataBytes, kSubAlign);
  l.scaleBytesTotal = static_cast<uint64_t>(rows) * l.groups * scaleBytes(s.scale);
  l.minOffset = alignUp(l.scaleOffset + l.scaleBytesTotal, kSubAlign);
  l.minBytes = s.symmetric ? 0 : l.scaleBytesTotal;
  l.total = s.symmetric ? l.scaleOffset + l.scaleBytesTotal : l.minOffset + l.minBytes;
  return l;
}

} // namespace gemma4::quant

#endif
