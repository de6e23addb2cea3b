//===- Importer.h - checkpoint -> gemma4 dialect ---------------*- C++ -*-===//
#ifndef GEMMA4C_FRONTEND_IMPORTER_H
#define GEMMA4C_FRONTEND_IMPORTER_H

#include "gemma4c/Frontend/Checkpoint.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace gemma4c {

struct ImportOptions {
  /// Max tokens per prefill call; sliding-window caches hold
  /// sliding_window + prefillChunk rows so a whole block's keys fit.
  int64_t prefillChunk = 64;
  /// Default --max-context recorded for the runtime (clamped to the
  /// model's max_position_embeddings).
  int64_t maxContext = 4096;
  /// Round scalar constants (embedding scales) to the checkpoint dtype as
  /// transformers does when it computes in that dtype; off for the f32
  /// reference path (weights upcast to f32).
  bool roundScalesToWeightDType = false;
  /// Also build @gemma4_verify (speculative decoding's verify step).
  bool verifyEntry = false;
  /// B > 0: also build @gemma4_decode_batch, one decode step of B
  /// sequences at once (the server's slots): every weight product runs on
  /// the B tokens together, each token's attention on its own sequence's
  /// KV region and position (abi.h). 0: none.
  int64_t decodeBatch = 0;
};

/// KV-arena layout decided at import time (also stored on the module as
/// gemma4.kv_bytes_fixed / gemma4.kv_bytes_per_context).
struct KVLayout {
  int64_t bytesFixed = 0;
  int64_t bytesPerContext = 0;
};

/// Builds a module with two entry points (three with verifyEntry:
/// @gemma4_verify, a block of tokens returning every row's logits), @gemma4_prefill (a block of
/// tokens, dynamic length) and @gemma4_decode (one token), both
///   (ids: tensor<SxI32>, pos: index, kv: memref<?xi8>, context: index,
///    weights: memref<?xi8>) -> tensor<SxVxf32>
/// Weights are gemma4.weight ops naming checkpoint tensors (no data).
mlir::OwningOpRef<mlir::ModuleOp> importCheckpoint(mlir::MLIRContext &ctx,
                                                   const Checkpoint &ckpt,
                                                   const ImportOptions &opts);

/// Speculative decoding: adds a draft model's entries to the target's
/// module, @gemma4_draft_prefill and @gemma4_draft_decode with the ABI of
/// the target's, its gemma4.weight names prefixed "draft:" (the draft's
/// tensors share the target's weight blob), its own KV arena layout
/// (gemma4.draft.kv_bytes_fixed / gemma4.draft.kv_bytes_per_context) and
/// gemma4.draft.vocab_size. The caller checks that the draft fits the target.
void importDraft(mlir::MLIRContext &ctx, mlir::ModuleOp target, const Checkpoint &draft,
                 const ImportOptions &opts);

} // namespace gemma4c

#endif
