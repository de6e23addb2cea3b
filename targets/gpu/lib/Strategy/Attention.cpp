//===- Attention.cpp - the GPU decode attention's split -------------------===//
//
// Decode attention for GPU kernels: LoopEmitter::splitKVDecode with one
// parallel iteration (a subgroup) per (KV head, chunk of at least 64 of
// the visible keys, up to 32 chunks), up to 8 query heads of the KV group
// per pass over the chunk's K and V rows (their dot products are lane-
// shared sums over D) and 2 vectors of D per head in the V pass. No
// software prefetch: the lanes' coalesced loads and the caches' are what
// a GPU has. Prefill attention is the default's, one (token, head) row
// per parallel iteration (LoweringStrategy::attendPrefill).
//
//===----------------------------------------------------------------------===//
#include "GPUStrategy.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::gpu;

void GPUStrategy::attendDecode(LoopEmitter &e, const AttentionArgs &a) {
  LoopEmitter::SplitKVPlan plan;
  plan.maxKeyChunks = 32;
  plan.minKeyChunk = 64;
  plan.headTile = 8;
  plan.valueVectors = 2;
  plan.prefetchValues = false;
  e.splitKVDecode(a, plan);
}
