//===- GPUStrategy.cpp - the "gpu" lowering strategy's registration -------===//
//
// Registers the GPU's LoweringStrategy as "gpu" (convert-gemma4-to-loops
// strategy=gpu, which buildGPUMappingPipeline uses). Its options are
// fold-unroll, key-chunk and attn-tile (Attention.cpp) and block-tile
// (Matmul.cpp); the cpu strategy's (int-dot, ...) are ignored.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/GPUStrategy.h"

#include "gemma4c/Target/GPU/Passes.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;
using namespace mlir::gemma4;

/// `spec` as positive integers joined by 'x' into the first parts of `v`
/// (the rest keep their defaults): between `minParts` and v.size() of them.
static bool parseDims(llvm::StringRef spec, size_t minParts, MutableArrayRef<int64_t> v) {
  SmallVector<llvm::StringRef> parts;
  spec.split(parts, 'x');
  bool ok = parts.size() >= minParts && parts.size() <= v.size();
  for (size_t i = 0; ok && i < parts.size(); ++i)
    ok = !parts[i].getAsInteger(10, v[i]) && v[i] > 0;
  return ok;
}

bool mlir::gemma4::gpu::GPUStrategy::parseBlockTile(llvm::StringRef spec, BlockTile &t, std::string &error) {
  if (spec == "0") {
    t.rows = 0;
    return true;
  }
  int64_t v[3] = {0, 0, 0};
  bool ok = parseDims(spec, 3, v);
  BlockTile n;
  n.tokens = v[0];
  n.rows = v[1];
  n.k = v[2];
  ok = ok && n.tokens % n.threadTokens == 0 && n.rows % (2 * n.threadRows) == 0 && n.k % 4 == 0 &&
       n.k <= 256 && n.threads() <= 1024 &&
       (n.tokens * n.k / 4) % n.threads() == 0 && (n.rows * n.k / 4) % n.threads() == 0;
  if (!ok) {
    error = "tile must be 0 or TOKENSxROWSxK: tokens a multiple of 8, rows of 16, k of 4 "
            "up to 256, at most 1024 threads (tokens/8 x rows/8) that divide each tile's "
            "4-element groups, got '" + spec.str() + "'";
    return false;
  }
  t = n;
  return true;
}

bool mlir::gemma4::gpu::GPUStrategy::parseAttnTile(llvm::StringRef spec, AttnTile &t,
                                                   std::string &error, int64_t maxBytes) {
  if (spec == "0") {
    t.queries = 0;
    return true;
  }
  int64_t v[3] = {0, 0, 32};
  bool ok = parseDims(spec, 2, v);
  AttnTile n;
  n.queries = v[0];
  n.keys = v[1];
  n.slice = v[2];
  ok = ok && n.queries % 16 == 0 && n.queries <= 128 && n.keys % 16 == 0 && n.keys <= 128 &&
       n.slice % 4 == 0 && n.slice <= 64 && (n.slice & (n.slice - 1)) == 0;
  if (ok && attnTileBytes(n) > maxBytes) {
    error = "attn-tile '" + spec.str() + "' needs " + std::to_string(attnTileBytes(n)) +
            " bytes of workgroup memory, more than " + std::to_string(maxBytes);
    return false;
  }
  if (!ok) {
    error = "attn-tile must be 0 or QUERIESxKEYS[xSLICE]: query rows and keys multiples of 16 "
            "up to 128, a slice of D a power of two from 4 to 64, got '" + spec.str() + "'";
    return false;
  }
  t = n;
  return true;
}

bool mlir::gemma4::gpu::GPUStrategy::configure(const StrategyOptions &opts, std::string &error) {
  if (auto it = opts.find("fold-unroll"); it != opts.end()) {
    foldUnroll = std::atoll(it->second.c_str());
    if (foldUnroll < 1 || foldUnroll > 64) {
      error = "fold-unroll must be 1 to 64, got " + it->second;
      return false;
    }
  }
  if (auto it = opts.find("key-chunk"); it != opts.end()) {
    keyChunk = std::atoll(it->second.c_str());
    if (keyChunk < 8 || keyChunk > 1024 || keyChunk % 8 != 0) {
      error = "key-chunk must be a multiple of 8 from 8 to 1024, got " + it->second;
      return false;
    }
  }
  if (auto it = opts.find("decode-rows"); it != opts.end()) {
    decodeRows = std::atoll(it->second.c_str());
    if (decodeRows < -1 || decodeRows > 8) {
      error = "decode-rows must be -1 (auto) or 0 to 8, got " + it->second;
      return false;
    }
  }
  if (auto it = opts.find("block-tile"); it != opts.end() && !parseBlockTile(it->second, blockTile, error))
    return false;
  if (auto it = opts.find("attn-tile"); it != opts.end() && !parseAttnTile(it->second, attnTile, error))
    return false;
  return true;
}

void mlir::gemma4::registerGPULoweringStrategy() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerLoweringStrategy(
        "gpu",
        [](const StrategyOptions &opts, std::string &error) -> std::unique_ptr<LoweringStrategy> {
          auto s = std::make_unique<gpu::GPUStrategy>();
          if (!s->configure(opts, error))
            return nullptr;
          return s;
        },
        [](DialectRegistry &r) { r.insert<mlir::gpu::GPUDialect>(); });
  });
}
