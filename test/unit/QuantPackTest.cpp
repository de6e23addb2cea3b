//===- QuantPackTest.cpp - compile-time quantization and packing ----------===//
#include "gemma4c/Quant/Pack.h"
#include "gemma4c/Quant/Scheme.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace gemma4c::quant;
using ::gemma4::quant::layout;
using ::gemma4::quant::ScaleType;

namespace {

std::vector<uint8_t> packAll(const Spec &s, const std::vector<float> &w, int64_t rows, int64_t K) {
  std::vector<uint8_t> out;
  pack(s, w.data(), SrcType::F32, rows, K,
       [&](const void *p, size_t n) {
         out.insert(out.end(), static_cast<const uint8_t *>(p), static_cast<const uint8_t *>(p) + n);
       },
       "t");
  return out;
}

std::vector<float> randomWeights(int64_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, 0.02f);
  std::vector<float> w(static_cast<size_t>(n));
  for (float &x : w)
    x = d(g);
  return w;
}

Spec spec(int bits, int64_t group, ScaleType st, bool sym) {
  Spec s;
  s.bits = bits;
  s.group = group;
  s.scale = st;
  s.symmetric = sym;
  return s;
}

} // namespace

TEST(QuantPack, HalfConversionsRoundToNearestEven) {
  EXPECT_EQ(floatToF16(1.0f), 0x3c00);
  EXPECT_EQ(floatToF16(-2.0f), 0xc000);
  EXPECT_EQ(floatToF16(65504.0f), 0x7bff);
  EXPECT_EQ(floatToF16(1e6f), 0x7c00);         // overflow -> inf
  EXPECT_EQ(floatToF16(5.960464477539063e-08f), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToF16(1.0f + 1.0f / 2048), 0x3c00);     // tie -> even
  EXPECT_EQ(floatToF16(1.0f + 3.0f / 2048), 0x3c02);     // tie -> even (up)
  for (uint32_t h = 0; h < 0x7c00; ++h)                  // every finite half round-trips
    ASSERT_EQ(floatToF16(f16ToFloat(static_cast<uint16_t>(h))), h);
  EXPECT_EQ(floatToBF16(1.0f), 0x3f80);
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(floatToBF16(1.00390625f), 0x3f80); // tie -> even
}

TEST(QuantPack, LayoutSizes) {
  // int4 g32 sym f16: 8 rows x 64 -> 256 data bytes, 8 x 2 x 2 scale bytes.
  auto l = layout(spec(4, 32, ScaleType::F16, true), 8, 64);
  EXPECT_EQ(l.dataBytes, 256u);
  EXPECT_EQ(l.scaleOffset, 256u);
  EXPECT_EQ(l.total, 256u + 32u);
  // asym adds mins after the 64-aligned scales.
  auto a = layout(spec(4, 32, ScaleType::BF16, false), 8, 64);
  EXPECT_EQ(a.minOffset, 320u);
  EXPECT_EQ(a.total, 352u);
  // int8 per-channel f32: one scale per row.
  auto i8 = layout(spec(8, 0, ScaleType::F32, true), 3, 100);
  EXPECT_EQ(i8.groups, 1);
  EXPECT_EQ(i8.scaleOffset, 320u);
  EXPECT_EQ(i8.total, 332u);
}

TEST(QuantPack, ErrorsAreBoundedByHalfAStep) {
  const int64_t rows = 16, K = 256;
  std::vector<float> w = randomWeights(rows * K, 1);
  for (Spec s : {spec(8, 0, ScaleType::F32, true), spec(4, 32, ScaleType::F16, true),
                 spec(4, 128, ScaleType::F16, true), spec(4, 32, ScaleType::BF16, false),
                 spec(4, 128, ScaleType::F16, false)}) {
    std::vector<uint8_t> p = packAll(s, w, rows, K);
    ASSERT_EQ(p.size(), layout(s, rows, K).total);
    int64_t G = s.group ? s.group : K;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < K / G; ++g) {
        float lo = 1e30f, hi = -1e30f, amax = 0;
        for (int64_t j = 0; j < G; ++j) {
          float x = w[r * K + g * G + j];
          lo = std::min(lo, x), hi = std::max(hi, x), amax = std::max(amax, std::fabs(x));
        }
        // Half a quantization step, plus slack for the rounded scale. The
        // symmetric int4 grid is -8..7 steps with the extreme value at -8,
        // so values of the other sign near the extreme clamp at 7: up to
        // one full step.
        float step = s.bits == 8 ? amax / 127 : s.symmetric ? amax / 8 : (hi - lo) / 15;
        float tol = step * (s.bits == 4 && s.symmetric ? 1.0f : 0.5f) + amax * 0.02f + 1e-7f;
        for (int64_t j = 0; j < G; ++j) {
          int64_t k = g * G + j;
          ASSERT_NEAR(dequantize(s, p.data(), rows, K, r, k), w[r * K + k], tol)
              << describe(s) << " row " << r << " k " << k;
        }
      }
  }
}

TEST(QuantPack, Int4NibbleOrder) {
  // Element 32b + j is the low nibble of byte j, element 32b + 16 + j the
  // high nibble. With symmetric scales and the row max at -8, integers
  // -8..7 survive exactly.
  const int64_t K = 32;
  std::vector<float> w(K);
  for (int64_t k = 0; k < K; ++k)
    w[k] = static_cast<float>((k % 16) - 8);
  Spec s = spec(4, 32, ScaleType::F16, true);
  std::vector<uint8_t> p = packAll(s, w, 1, K);
  for (int64_t k = 0; k < K; ++k)
    EXPECT_EQ(dequantize(s, p.data(), 1, K, 0, k), w[k]) << k;
  // scale = -8 / -8 = 1 -> q = x + 8: byte j = (j) | (j << 4).
  for (int j = 0; j < 16; ++j)
    EXPECT_EQ(p[j], static_cast<uint8_t>(j | (j << 4))) << j;
}

TEST(QuantPack, Int4InterleavedSuperBlocks) {
  // K = 512, group 32: two interleaved super-blocks. Element 4c + i of block
  // j of super-block sb is nibble c%2 of byte sb*128 + 32(c/2) + 4j + i.
  // Each block's values are its index (0..7) mapped into -8..7 with the row
  // max at -8 so scale = 1 and q = x + 8 exactly.
  const int64_t K = 512;
  Spec s = spec(4, 32, ScaleType::F16, true);
  ASSERT_TRUE(::gemma4::quant::int4Interleaved(s, K));
  ASSERT_FALSE(::gemma4::quant::int4Interleaved(s, 480));
  ASSERT_FALSE(::gemma4::quant::int4Interleaved(spec(4, 128, ScaleType::F16, true), K));
  std::vector<float> w(K);
  for (int64_t k = 0; k < K; ++k) // block b: -8 once, then (k % 7) - 4 + (b % 4)
    w[k] = k % 32 == 0 ? -8.0f : static_cast<float>((k % 7) - 4 + (k / 32) % 4);
  std::vector<uint8_t> p = packAll(s, w, 1, K);
  for (int64_t k = 0; k < K; ++k) {
    EXPECT_EQ(dequantize(s, p.data(), 1, K, 0, k), w[k]) << k;
    int64_t sb = k / 256, j = (k % 256) / 32, e = k % 32, c = e / 4;
    uint8_t byte = p[sb * 128 + 32 * (c / 2) + 4 * j + e % 4];
    EXPECT_EQ((byte >> ((c % 2) * 4)) & 15, static_cast<int>(w[k] + 8)) << k;
    // The activation slot pairs with the same lane and byte position.
    EXPECT_EQ(::gemma4::quant::activationSlot(k), sb * 256 + 32 * c + 4 * j + e % 4) << k;
  }
}

TEST(QuantPack, Int4KPanels) {
  // 3 rows of K = 768 with panel 256: three panels of 3 x 256, panel-major.
  // Panel c of row r packs exactly like row r of the 3 x 256 weight of
  // columns [256c, 256c + 256), data and scales (asymmetric: mins too).
  const int64_t K = 768, R = 3, PK = 256;
  for (bool sym : {true, false}) {
    Spec s = spec(4, 32, ScaleType::F16, sym);
    s.panel = PK;
    ASSERT_TRUE(::gemma4::quant::panelValid(s, K));
    EXPECT_FALSE(::gemma4::quant::panelValid(s, 640)); // 256 does not divide it
    EXPECT_FALSE(::gemma4::quant::panelValid(s, 256)); // one panel: none
    std::vector<float> w(R * K);
    for (int64_t i = 0; i < R * K; ++i)
      w[i] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + static_cast<float>(i % 97) / 50.0f);
    std::vector<uint8_t> p = packAll(s, w, R, K);
    Spec flat = s;
    flat.panel = 0;
    ::gemma4::quant::Layout l = ::gemma4::quant::layout(s, R, K), pl = ::gemma4::quant::layout(flat, R, PK);
    EXPECT_EQ(l.total, ::gemma4::quant::layout(flat, R, K).total);
    for (int64_t c = 0; c < K / PK; ++c) {
      std::vector<float> sub(R * PK);
      for (int64_t r = 0; r < R; ++r)
        for (int64_t k = 0; k < PK; ++k)
          sub[r * PK + k] = w[r * K + c * PK + k];
      std::vector<uint8_t> q = packAll(flat, sub, R, PK);
      EXPECT_EQ(0, std::memcmp(p.data() + c * R * PK / 2, q.data(), R * PK / 2)) << c;
      EXPECT_EQ(0, std::memcmp(p.data() + l.scaleOffset + c * pl.scaleBytesTotal,
                               q.data() + pl.scaleOffset, pl.scaleBytesTotal)) << c;
      if (!sym)
        EXPECT_EQ(0, std::memcmp(p.data() + l.minOffset + c * pl.minBytes, q.data() + pl.minOffset,
                                 pl.minBytes)) << c;
      for (int64_t r = 0; r < R; ++r)
        for (int64_t k = 0; k < PK; ++k)
          EXPECT_EQ(dequantize(s, p.data(), R, K, r, c * PK + k), dequantize(flat, q.data(), R, PK, r, k));
    }
  }
}

TEST(QuantPack, Int4RowTiles) {
  // 8 rows of K = 512 in tiles of 4: per tile and super-block, the 4 rows'
  // 128 data bytes, then their 8 scales each, then (asymmetric) their mins,
  // all equal to the untiled packing's bytes of the same rows.
  const int64_t K = 512, R = 8;
  for (ScaleType st : {ScaleType::F16, ScaleType::F32})
    for (bool sym : {true, false}) {
      Spec s = spec(4, 32, st, sym);
      s.tile = 4;
      ASSERT_TRUE(::gemma4::quant::tileValid(s, R, K, 2));
      EXPECT_FALSE(::gemma4::quant::tileValid(s, 6, K, 2)); // 4 does not divide 6 rows
      EXPECT_FALSE(::gemma4::quant::tileValid(s, R, K, 3)); // not 2-D
      EXPECT_FALSE(::gemma4::quant::tileValid(s, R, 224, 2)); // not interleaved
      std::vector<float> w(R * K);
      for (int64_t i = 0; i < R * K; ++i)
        w[i] = std::cos(0.29f * static_cast<float>(i)) * (1.0f + static_cast<float>(i % 89) / 40.0f);
      std::vector<uint8_t> p = packAll(s, w, R, K);
      Spec flat = s;
      flat.tile = 0;
      std::vector<uint8_t> q = packAll(flat, w, R, K);
      ::gemma4::quant::Layout l = ::gemma4::quant::layout(s, R, K), fl = ::gemma4::quant::layout(flat, R, K);
      const size_t sbytes = ::gemma4::quant::scaleBytes(st), super = ::gemma4::quant::tileSuperBytes(s);
      EXPECT_EQ(super, 4 * (128 + 8 * sbytes * (sym ? 1 : 2)));
      EXPECT_EQ(super % 64, 0u); // whole cache lines
      ASSERT_EQ(l.total, (R / 4) * (K / 256) * super);
      ASSERT_EQ(p.size(), l.total);
      for (int64_t t = 0; t < R / 4; ++t)
        for (int64_t sb = 0; sb < K / 256; ++sb)
          for (int64_t r = 0; r < 4; ++r) {
            const uint8_t *at = p.data() + (t * (K / 256) + sb) * super;
            int64_t row = 4 * t + r;
            EXPECT_EQ(0, std::memcmp(at + 128 * r, q.data() + row * K / 2 + sb * 128, 128));
            size_t s0 = static_cast<size_t>(row * (K / 32) + sb * 8) * sbytes;
            EXPECT_EQ(0, std::memcmp(at + 512 + 8 * sbytes * r, q.data() + fl.scaleOffset + s0, 8 * sbytes));
            if (!sym)
              EXPECT_EQ(0, std::memcmp(at + 512 + 32 * sbytes + 8 * sbytes * r, q.data() + fl.minOffset + s0,
                                       8 * sbytes));
          }
      for (int64_t r = 0; r < R; ++r)
        for (int64_t k = 0; k < K; ++k)
          EXPECT_EQ(dequantize(s, p.data(), R, K, r, k), dequantize(flat, q.data(), R, K, r, k)) << r << " " << k;
    }
}

TEST(QuantPack, ZeroRowsAndConstantGroups) {
  std::vector<float> w(64, 0.0f);
  for (Spec s : {spec(8, 0, ScaleType::F32, true), spec(4, 32, ScaleType::F16, true),
                 spec(4, 32, ScaleType::F16, false)}) {
    std::vector<uint8_t> p = packAll(s, w, 1, 64);
    for (int64_t k = 0; k < 64; ++k)
      EXPECT_EQ(dequantize(s, p.data(), 1, 64, 0, k), 0.0f);
  }
  std::vector<float> c(64, 0.5f);
  Spec a = spec(4, 32, ScaleType::F16, false);
  std::vector<uint8_t> p = packAll(a, c, 1, 64);
  EXPECT_EQ(dequantize(a, p.data(), 1, 64, 0, 5), 0.5f);
}

TEST(QuantPack, NonFiniteValuesAreRejected) {
  std::vector<float> w(64, 0.1f);
  w[40] = std::nanf("");
  EXPECT_THROW(packAll(spec(4, 32, ScaleType::F16, true), w, 2, 32), PackError);
  w[40] = INFINITY;
  try {
    packAll(spec(8, 0, ScaleType::F32, true), w, 2, 32);
    FAIL() << "expected PackError";
  } catch (const PackError &e) {
    EXPECT_NE(std::string(e.what()).find("tensor 't' has a NaN or infinite value in row 1"),
              std::string::npos);
  }
}

TEST(QuantScheme, Parse) {
  std::string err;
  auto m = parseScheme("mixed", err);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->forRole(Role::Linear)->bits, 4);
  EXPECT_EQ(m->forRole(Role::Embedding)->bits, 8);
  EXPECT_FALSE(m->forRole(Role::Router));
  EXPECT_TRUE(m->fallbackToInt8);
  auto i4 = parseScheme("int4-g128-asym-bf16", err);
  ASSERT_TRUE(i4);
  EXPECT_EQ(i4->forRole(Role::Router)->group, 128);
  EXPECT_FALSE(i4->forRole(Role::Router)->symmetric);
  EXPECT_EQ(i4->forRole(Role::PLE)->scale, ScaleType::BF16);
  EXPECT_FALSE(parseScheme("bf16", err)->quantizesAnything());
  EXPECT_FALSE(parseScheme("int4-g33", err));
  EXPECT_NE(err.find("unsupported int4 group size '33'"), std::string::npos);
  EXPECT_FALSE(parseScheme("int4-g32-g128", err));
  EXPECT_FALSE(parseScheme("fp8", err));
  EXPECT_NE(err.find("unknown --quant scheme 'fp8'"), std::string::npos);
  EXPECT_EQ(unsupportedReason(*i4->forRole(Role::Linear), 64),
            "group size 128 does not divide the input dimension 64");
  EXPECT_EQ(unsupportedReason(*i4->forRole(Role::Linear), 256), "");
}
