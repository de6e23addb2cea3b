//===- Attention.cpp - the CPU decode attention's split -------------------===//
//
// Decode attention on a CPU: the split-key (flash-decoding) attention of
// LoopEmitter::splitKVDecode with the split a thread pool wants and the
// register blocking a core wants:
//   * the visible keys split into up to 32 chunks per KV head, each of at
//     least 64 keys: one work item per (KV head, chunk), so a long context
//     spreads over every thread even with a single KV head, and a short
//     one stays on few;
//   * up to 8 query heads of a KV group share each pass over a chunk's K
//     (and V) rows, their dot products side by side in registers, and the
//     weighted V sums keep 2 vectors of D per head in registers, so each
//     K and V line is loaded once per 8 heads;
//   * each K line read also prefetches the V line at the same place: the
//     V pass reads a few vectors of every key at a time, a pattern the
//     hardware prefetchers do not follow, and the cache rows are cold (a
//     whole token of weights streamed through the caches since).
// Prefill attention is the default's: one (token, head) row per parallel
// iteration (LoweringStrategy::attendPrefill).
//
//===----------------------------------------------------------------------===//
#include "CPUStrategy.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::cpu;

void CPUStrategy::attendDecode(LoopEmitter &e, const AttentionArgs &a) {
  LoopEmitter::SplitKVPlan plan;
  plan.maxKeyChunks = 32;
  plan.minKeyChunk = 64;
  plan.headTile = 8;
  plan.valueVectors = 2;
  plan.prefetchValues = true;
  e.splitKVDecode(a, plan);
}
