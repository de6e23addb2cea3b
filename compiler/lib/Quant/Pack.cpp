//===- Pack.cpp - compile-time weight quantization and packing ------------===//
#include "gemma4c/Quant/Pack.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

namespace gemma4c::quant {

using ::gemma4::quant::Layout;
using ::gemma4::quant::ScaleType;
using ::gemma4::quant::Spec;

uint16_t floatToF16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t e8 = (x >> 23) & 0xff, mant = x & 0x7fffff;
  if (e8 == 0xff)
    return static_cast<uint16_t>(sign | 0x7c00 | (mant ? 0x200 : 0));
  int32_t exp = static_cast<int32_t>(e8) - 127 + 15;
  if (exp >= 31)
    return static_cast<uint16_t>(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10)
      return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (h & 1)))
      ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
    ++h; // a carry rolls into the exponent, as rounding should
  return static_cast<uint16_t>(h);
}

float f16ToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff, x;
  if (e == 0) {
    float v = std::ldexp(static_cast<float>(m), -24);
    return sign ? -v : v;
  }
  if (e == 31)
    x = sign | 0x7f800000 | (m << 13);
  else
    x = sign | ((e - 15 + 127) << 23) | (m << 13);
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t floatToBF16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

float bf16ToFloat(uint16_t h) {
  uint32_t x = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

namespace {

float loadSrc(const void *src, SrcType t, size_t i) {
  switch (t) {
  case SrcType::F32: {
    float f;
    std::memcpy(&f, static_cast<const uint8_t *>(src) + 4 * i, 4);
    return f;
  }
  case SrcType::F16: {
    uint16_t h;
    std::memcpy(&h, static_cast<const uint8_t *>(src) + 2 * i, 2);
    return f16ToFloat(h);
  }
  case SrcType::BF16: {
    uint16_t h;
    std::memcpy(&h, static_cast<const uint8_t *>(src) + 2 * i, 2);
    return bf16ToFloat(h);
  }
  }
  return 0;
}

/// Stores `v` as the scale type into `out` (index i) and returns the value
/// the runtime will read back.
float storeScale(ScaleType t, std::vector<uint8_t> &out, size_t i, float v) {
  switch (t) {
  case ScaleType::F32:
    std::memcpy(out.data() + 4 * i, &v, 4);
    return v;
  case ScaleType::F16: {
    uint16_t h = floatToF16(v);
    std::memcpy(out.data() + 2 * i, &h, 2);
    return f16ToFloat(h);
  }
  case ScaleType::BF16: {
    uint16_t h = floatToBF16(v);
    std::memcpy(out.data() + 2 * i, &h, 2);
    return bf16ToFloat(h);
  }
  }
  return v;
}

float loadScale(ScaleType t, const uint8_t *p, size_t i) {
  switch (t) {
  case ScaleType::F32: {
    float f;
    std::memcpy(&f, p + 4 * i, 4);
    return f;
  }
  case ScaleType::F16: {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    return f16ToFloat(h);
  }
  case ScaleType::BF16: {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    return bf16ToFloat(h);
  }
  }
  return 0;
}

/// Quantizes one row of the weight of layout `l` (a panel of the source:
/// its elements are source elements row * srcK + col0 + [0, l.K)): data
/// bytes to `data`, its groups' scales/mins to entries sBase +
/// [row*groups, (row+1)*groups) of `scales`/`mins`. Returns false on a
/// non-finite value.
bool packRow(const Spec &spec, const Layout &l, const void *src, SrcType type, int64_t srcK,
             int64_t col0, size_t sBase, int64_t row, uint8_t *data, std::vector<uint8_t> &scales,
             std::vector<uint8_t> &mins) {
  const int64_t K = l.K, G = l.group;
  std::vector<float> x(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) {
    x[k] = loadSrc(src, type, static_cast<size_t>(row * srcK + col0 + k));
    if (!std::isfinite(x[k]))
      return false;
  }
  std::vector<uint8_t> q(static_cast<size_t>(K));
  for (int64_t g = 0; g < l.groups; ++g) {
    const float *xg = x.data() + g * G;
    size_t si = sBase + static_cast<size_t>(row * l.groups + g);
    if (spec.bits == 8) {
      float amax = 0;
      for (int64_t j = 0; j < G; ++j)
        amax = std::max(amax, std::fabs(xg[j]));
      float d = storeScale(spec.scale, scales, si, amax / 127.0f);
      float id = d != 0 ? 1.0f / d : 0.0f;
      for (int64_t j = 0; j < G; ++j) {
        float r = std::nearbyint(xg[j] * id);
        int v = static_cast<int>(std::clamp(r, -127.0f, 127.0f));
        data[g * G + j] = static_cast<uint8_t>(static_cast<int8_t>(v));
      }
      continue;
    }
    if (spec.symmetric) {
      // The value of largest magnitude maps exactly to -8 (q = 0).
      float mx = 0;
      for (int64_t j = 0; j < G; ++j)
        if (std::fabs(xg[j]) > std::fabs(mx))
          mx = xg[j];
      float d = storeScale(spec.scale, scales, si, mx / -8.0f);
      float id = d != 0 ? 1.0f / d : 0.0f;
      for (int64_t j = 0; j < G; ++j)
        q[g * G + j] = static_cast<uint8_t>(std::clamp(std::nearbyint(xg[j] * id) + 8.0f, 0.0f, 15.0f));
    } else {
      float mn = xg[0], mx = xg[0];
      for (int64_t j = 1; j < G; ++j) {
        mn = std::min(mn, xg[j]);
        mx = std::max(mx, xg[j]);
      }
      float m = storeScale(spec.scale, mins, si, mn);
      float d = storeScale(spec.scale, scales, si, (mx - m) / 15.0f);
      float id = d != 0 ? 1.0f / d : 0.0f;
      for (int64_t j = 0; j < G; ++j)
        q[g * G + j] = static_cast<uint8_t>(std::clamp(std::nearbyint((xg[j] - m) * id), 0.0f, 15.0f));
    }
  }
  if (spec.bits == 4) {
    std::fill(data, data + K / 2, uint8_t(0));
    for (int64_t k = 0; k < K; ++k) {
      ::gemma4::quant::NibblePos p = ::gemma4::quant::int4Position(spec, K, k);
      data[p.byte] |= static_cast<uint8_t>(q[k] << p.shift);
    }
  }
  return true;
}

} // namespace

namespace {
/// Rows r0.. of `rowBytes` packed bytes each (whole tiles) with their
/// scales and mins (all rows' groups) rearranged into the row-tile stream
/// of QuantLayout.h.
std::vector<uint8_t> tileRows(const Spec &spec, const std::vector<uint8_t> &data, int64_t r0,
                              int64_t n, int64_t K, const std::vector<uint8_t> &scales,
                              const std::vector<uint8_t> &mins) {
  const int64_t T = spec.tile, SB = K / ::gemma4::quant::kInt4SuperBlock, groups = K / spec.group;
  const size_t sb8 = static_cast<size_t>(8 * ::gemma4::quant::scaleBytes(spec.scale));
  const size_t superBytes = ::gemma4::quant::tileSuperBytes(spec);
  std::vector<uint8_t> out(static_cast<size_t>(n / T * SB) * superBytes);
  for (int64_t t = 0; t < n / T; ++t)
    for (int64_t sb = 0; sb < SB; ++sb) {
      uint8_t *o = out.data() + static_cast<size_t>(t * SB + sb) * superBytes;
      for (int64_t r = 0; r < T; ++r) {
        int64_t row = t * T + r; // within the chunk
        std::memcpy(o + ::gemma4::quant::tileDataAt(spec, r),
                    data.data() + static_cast<size_t>(row * (K / 2) + sb * 128), 128);
        size_t s0 = static_cast<size_t>(((r0 + row) * groups + sb * 8)) * (sb8 / 8);
        std::memcpy(o + ::gemma4::quant::tileScaleAt(spec, r), scales.data() + s0, sb8);
        if (!spec.symmetric)
          std::memcpy(o + ::gemma4::quant::tileMinAt(spec, r), mins.data() + s0, sb8);
      }
    }
  return out;
}
} // namespace

void pack(const Spec &spec, const void *src, SrcType type, int64_t rows, int64_t K,
          const Sink &sink, const std::string &name) {
  const bool tiled = ::gemma4::quant::tiled(spec);
  Spec untiled = spec;
  untiled.tile = 0;
  // Row tiles: rows are packed as untiled, a chunk at a time, and each
  // chunk's tiles emitted with the scales and mins of their rows.
  Layout l = ::gemma4::quant::layout(untiled, rows, K);
  // Panels (QuantLayout.h): each is packed as a weight of rows x PK, one
  // after the other; the scales of panel c follow those of panel c - 1.
  const int64_t PK = ::gemma4::quant::panelElems(spec, K);
  Spec panelSpec = spec;
  panelSpec.panel = 0;
  panelSpec.tile = 0;
  Layout pl = ::gemma4::quant::layout(panelSpec, rows, PK);
  const int64_t rowBytes = spec.bits == 4 ? PK / 2 : PK;
  std::vector<uint8_t> scales(l.scaleBytesTotal), mins(l.minBytes ? l.minBytes : 0);
  int64_t chunkRows = std::max<int64_t>(1, (int64_t(8) << 20) / std::max<int64_t>(1, PK));
  if (tiled)
    chunkRows = (chunkRows + spec.tile - 1) / spec.tile * spec.tile;
  unsigned nthreads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<uint8_t> buf;
  // Chunks of rows of one panel, panel after panel.
  const int64_t chunks = (rows + chunkRows - 1) / chunkRows;
  for (int64_t ci = 0; ci < K / PK * chunks; ++ci) {
    const int64_t col0 = ci / chunks * PK, r0 = ci % chunks * chunkRows;
    const size_t sBase = static_cast<size_t>(col0 / PK * rows * pl.groups);
    int64_t n = std::min(chunkRows, rows - r0);
    buf.assign(static_cast<size_t>(n * rowBytes), 0);
    std::vector<int64_t> bad(nthreads, -1);
    auto work = [&](unsigned t) {
      for (int64_t r = t; r < n; r += nthreads)
        if (!packRow(panelSpec, pl, src, type, K, col0, sBase, r0 + r, buf.data() + r * rowBytes,
                     scales, mins) &&
            bad[t] < 0)
          bad[t] = r0 + r;
    };
    if (n * PK < (int64_t(1) << 16) || nthreads == 1) {
      for (unsigned t = 0; t < nthreads; ++t)
        work(t);
    } else {
      std::vector<std::thread> ts;
      for (unsigned t = 0; t < nthreads; ++t)
        ts.emplace_back(work, t);
      for (auto &t : ts)
        t.join();
    }
    for (int64_t b : bad)
      if (b >= 0)
        throw PackError("tensor '" + name + "' has a NaN or infinite value in row " +
                        std::to_string(b) + ": it cannot be quantized");
    if (tiled) {
      std::vector<uint8_t> t = tileRows(spec, buf, r0, n, K, scales, mins);
      sink(t.data(), t.size());
    } else {
      sink(buf.data(), buf.size());
    }
  }
  if (tiled)
    return;
  static const uint8_t zeros[64] = {0};
  uint64_t pos = l.dataBytes;
  auto padTo = [&](uint64_t off) {
    while (pos < off) {
      uint64_t k = std::min<uint64_t>(off - pos, sizeof zeros);
      sink(zeros, k);
      pos += k;
    }
  };
  padTo(l.scaleOffset);
  sink(scales.data(), scales.size());
  pos += scales.size();
  if (!spec.symmetric) {
    padTo(l.minOffset);
    sink(mins.data(), mins.size());
    pos += mins.size();
  }
}

float dequantize(const Spec &spec, const uint8_t *packed, int64_t rows, int64_t K, int64_t row,
                 int64_t k) {
  // Where the element's scale (and min) and int4 byte are: scales[si],
  // mins[si], data[byteAt].
  const uint8_t *scales, *mins, *data;
  size_t si;
  int64_t byteAt;
  ::gemma4::quant::NibblePos p{};
  if (::gemma4::quant::tiled(spec)) {
    // Row r of tile t, super-block sb of it (QuantLayout.h row tiles).
    const int64_t SB = K / ::gemma4::quant::kInt4SuperBlock, sb = k / ::gemma4::quant::kInt4SuperBlock;
    const int64_t t = row / spec.tile, r = row % spec.tile;
    const uint8_t *super = packed + static_cast<size_t>(t * SB + sb) * ::gemma4::quant::tileSuperBytes(spec);
    scales = super + ::gemma4::quant::tileScaleAt(spec, r);
    mins = super + ::gemma4::quant::tileMinAt(spec, r);
    data = super + ::gemma4::quant::tileDataAt(spec, r);
    si = static_cast<size_t>((k % ::gemma4::quant::kInt4SuperBlock) / spec.group);
    p = ::gemma4::quant::int4Position(spec, K, k);
    byteAt = p.byte % 128;
  } else {
    Layout l = ::gemma4::quant::layout(spec, rows, K);
    // Panel c of PK columns: a rows x PK weight at c * rows * PK elements.
    const int64_t PK = ::gemma4::quant::panelElems(spec, K), c = k / PK;
    k %= PK;
    const int64_t pg = PK / l.group; // groups per panel row
    si = static_cast<size_t>(c * rows * pg + row * pg + k / l.group);
    scales = packed + l.scaleOffset;
    mins = packed + l.minOffset;
    if (spec.bits == 8)
      return static_cast<float>(static_cast<int8_t>(packed[c * rows * PK + row * PK + k])) *
             loadScale(spec.scale, scales, si);
    data = packed + (c * rows + row) * (PK / 2);
    p = ::gemma4::quant::int4Position(spec, PK, k);
    byteAt = p.byte;
  }
  float s = loadScale(spec.scale, scales, si);
  float q = static_cast<float>((data[byteAt] >> p.shift) & 15);
  if (spec.symmetric)
    return (q - 8.0f) * s;
  return q * s + loadScale(spec.scale, mins, si);
}

} // namespace gemma4c::quant
