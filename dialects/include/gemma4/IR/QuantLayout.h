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
//          int4 rows with group 32 and K a multiple of 256 (and not
//                `plain`: a GPU's lanes share a row's blocks) are instead
//                stored in super-blocks of 8 blocks (256 elements, 128
//                bytes) interleaved for 8-lane integer dot products: byte
//                32c + 4j + i of a super-block holds element 4c + i of
//                block j (c = 0..7 in steps of two: 2r low nibble, 2r + 1
//                high nibble of the bytes of 32-byte load r). One 32-byte
//                load then gives, per 4-byte lane j, 4 + 4 elements of
//                block j, so 8 blocks accumulate side by side in the 8
//                lanes with their activations permuted the same way
//                (int4Position / activationSlot below).
//   scales rows x (K/G) values of the scale type (G = K for per-channel)
//   mins   rows x (K/G) values of the scale type, asymmetric only
//
// K panels (Spec::panel = P elements, interleaved int4 only): the weight is
// stored as K/P consecutive weights of rows x P, panel c holding columns
// [cP, (c+1)P) of every row in the layout above; data, scales and mins are
// each panel-major (panel c's rows x P/2 bytes, then panel c+1's). A
// matrix-vector product then streams one panel at a time against a P-element
// slice of the activations, which stays in L1 however long K is.
//
// Row tiles (Spec::tile = T rows, interleaved int4 without K panels): data,
// scales and mins are one stream of tile super-blocks instead (tiled()
// below), so a matrix-vector step computing T rows reads one stream.
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
  int64_t panel = 0;      ///< elements per K panel; 0 = none (one panel)
  int64_t tile = 0;       ///< rows per row tile; 0 = none (QuantLayout.h tiles)
  bool plain = false;     ///< int4: blocks in order, never interleaved super-blocks
};

struct Layout {
  int64_t rows = 0, K = 0, group = 0, groups = 0;
  uint64_t dataOffset = 0, dataBytes = 0;
  uint64_t scaleOffset = 0, scaleBytesTotal = 0;
  uint64_t minOffset = 0, minBytes = 0; ///< minBytes == 0 when symmetric
  uint64_t total = 0;
};

inline uint64_t alignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

inline bool tiled(const Spec &s);
inline uint64_t tileSuperBytes(const Spec &s);

inline Layout layout(const Spec &s, int64_t rows, int64_t K) {
  Layout l;
  if (tiled(s)) { // one stream: data, scales and mins all in the tiles
    l.rows = rows;
    l.K = K;
    l.group = s.group;
    l.groups = K / s.group;
    l.dataBytes = static_cast<uint64_t>(rows / s.tile) * static_cast<uint64_t>(K / 256) *
                  tileSuperBytes(s);
    l.scaleOffset = l.minOffset = l.total = l.dataBytes;
    return l;
  }
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

/// Elements per interleaved int4 super-block (8 blocks of 32).
constexpr int64_t kInt4SuperBlock = 256;

/// Whether int4 rows of K elements use the interleaved super-block layout.
inline bool int4Interleaved(const Spec &s, int64_t K) {
  return s.bits == 4 && s.group == kInt4Block && K % kInt4SuperBlock == 0 && !s.plain;
}

/// Elements per K panel of rows of K elements (K when not panelled).
inline int64_t panelElems(const Spec &s, int64_t K) {
  return s.panel > 0 && s.panel < K && K % s.panel == 0 ? s.panel : K;
}
/// Whether a spec's panel suits rows of K elements: none, or a multiple of
/// the int4 super-block dividing K, for interleaved int4 rows.
inline bool panelValid(const Spec &s, int64_t K) {
  if (s.panel == 0)
    return true;
  return s.panel > 0 && int4Interleaved(s, K) && s.panel % kInt4SuperBlock == 0 && s.panel < K &&
         K % s.panel == 0;
}

/// Row tiles (Spec::tile = T rows, interleaved int4 without K panels, T
/// dividing the rows): the weight is one stream of tile super-blocks. Tile
/// t (rows tT..tT+T-1) holds K/256 of them in order; super-block sb of the
/// tile is, T(128 + 8 s) bytes for scale size s (twice 8 s when asymmetric):
///   bytes   r*128 ..: the 128 interleaved data bytes of row tT+r
///   T*128 + r*8s ..: the 8 block scales of row tT+r
///   T*(128 + 8s) + r*8s ..: the 8 block mins of row tT+r (asymmetric)
/// A decode step computing the T rows of a tile then reads one sequential
/// stream instead of T data streams and T scale streams; with T = 4 each
/// tile super-block is a whole number of 64-byte lines.
inline bool tiled(const Spec &s) { return s.tile > 1; }
inline uint64_t tileSuperBytes(const Spec &s) {
  return static_cast<uint64_t>(s.tile) *
         (128 + 8 * static_cast<uint64_t>(scaleBytes(s.scale)) * (s.symmetric ? 1 : 2));
}
inline int64_t tileDataAt(const Spec &, int64_t r) { return r * 128; }
inline int64_t tileScaleAt(const Spec &s, int64_t r) {
  return s.tile * 128 + r * 8 * scaleBytes(s.scale);
}
inline int64_t tileMinAt(const Spec &s, int64_t r) {
  return s.tile * (128 + 8 * scaleBytes(s.scale)) + r * 8 * scaleBytes(s.scale);
}
/// Whether a spec's tile suits `rows` rows of K elements of a weight of
/// `rank` dimensions: none, or a 2-D interleaved int4 weight without K
/// panels whose rows the tile divides.
inline bool tileValid(const Spec &s, int64_t rows, int64_t K, int64_t rank) {
  if (s.tile == 0)
    return true;
  return s.tile > 1 && s.tile <= 16 && rank == 2 && int4Interleaved(s, K) && s.panel == 0 &&
         rows % s.tile == 0;
}

/// Where element k of an int4 row lives: byte offset within the row's
/// K/2 bytes and the nibble's shift (0 low, 4 high).
struct NibblePos {
  int64_t byte;
  int shift;
};
inline NibblePos int4Position(const Spec &s, int64_t K, int64_t k) {
  if (int4Interleaved(s, K)) {
    int64_t sb = k / kInt4SuperBlock, j = (k % kInt4SuperBlock) / kInt4Block, e = k % kInt4Block;
    int64_t c = e / 4; // 4-element chunk of the block: load c/2, nibble c%2
    return {sb * 128 + (c / 2) * 32 + j * 4 + e % 4, static_cast<int>((c % 2) * 4)};
  }
  int64_t b = k / kInt4Block, j = k % kInt4Block;
  return {b * 16 + j % 16, j < 16 ? 0 : 4};
}

/// In the interleaved layout, the slot of activation element k in the
/// permuted activation row that pairs with the nibbles (int4Position):
/// super-block sb, chunk c of block j -> sb*256 + 32c + 4j + k%4.
inline int64_t activationSlot(int64_t k) {
  int64_t sb = k / kInt4SuperBlock, j = (k % kInt4SuperBlock) / kInt4Block, e = k % kInt4Block;
  return sb * kInt4SuperBlock + (e / 4) * 32 + j * 4 + e % 4;
}

} // namespace gemma4::quant

#endif
