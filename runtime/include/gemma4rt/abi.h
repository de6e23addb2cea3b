/*===- abi.h - contract between generated model code and the runtime ------===*
 *
 * A compiled model executable = the object file gemma4c generates (the model
 * math) + libgemma4rt.a (this runtime) + an appended payload (weights,
 * tokenizer, manifest). This header is the whole contract.
 *
 *===----------------------------------------------------------------------===*/
#ifndef GEMMA4RT_ABI_H
#define GEMMA4RT_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GEMMA4RT_ABI_VERSION 1

/* ---- Entry points emitted by the compiler --------------------------------
 * Arguments are MLIR memref descriptors expanded to scalars: a rank-1
 * memref<?xT> is (T *allocated, T *aligned, int64_t offset, int64_t size,
 * int64_t stride); a rank-2 memref is (T*, T*, offset, size0, size1, stride0,
 * stride1).
 *
 * gemma4_prefill runs S = ids.size tokens at positions pos .. pos+S-1
 * (S <= manifest "prefill_chunk"), appends their K/V to the caches in the
 * KV arena and writes logits[S][vocab] (f32) for every position.
 * gemma4_decode is the same for exactly one token, specialised for S = 1.
 *
 * The KV arena holds kv_bytes_fixed + kv_bytes_per_context * context bytes
 * (manifest), zero-initialised, 64-byte aligned; `context` is the capacity of
 * full-attention caches (the run's --max-context).
 *
 * What the runtime guarantees on every call (libgemma4rt):
 *   - all offsets are 0 and all unit strides 1; kv_size and w_size are byte
 *     counts; 1 <= rows <= ids_size: the call writes the logits of its
 *     last `rows` tokens (row i is token ids_size - rows + i; a prefill
 *     that samples asks for 1, --dump-logits for all);
 *     vocab == manifest model.vocab_size;
 *     row_stride == vocab; the logits buffer is 64-byte aligned;
 *   - 1 <= S, pos >= 0 and pos + S <= context; positions are contiguous
 *     (each call starts where the previous one ended; pos 0 = fresh arena;
 *     with a draft, a call may also start earlier, see below),
 *     except that the benchmarking flag --fake-context N makes the first
 *     call start at N on a fresh (zero) arena;
 *   - ids and weights are read-only (the weights are a PROT_READ file
 *     mapping, page aligned: writing them faults; with --random-weights a
 *     PROT_READ anonymous mapping of the same size, every byte in
 *     [0x3c, 0x3f], so any float reading is small, finite and normal);
 *   - calls come from one thread, never concurrently. */
#define GEMMA4_ENTRY_PARAMS                                                              \
  (int32_t *ids_alloc, int32_t *ids, int64_t ids_off, int64_t ids_size, int64_t ids_stride, \
   int64_t pos,                                                                           \
   uint8_t *kv_alloc, uint8_t *kv, int64_t kv_off, int64_t kv_size, int64_t kv_stride,    \
   int64_t context,                                                                       \
   uint8_t *w_alloc, uint8_t *w, int64_t w_off, int64_t w_size, int64_t w_stride,         \
   float *logits_alloc, float *logits, int64_t logits_off, int64_t rows, int64_t vocab,   \
   int64_t row_stride, int64_t col_stride)

typedef void(*gemma4_entry_fn) GEMMA4_ENTRY_PARAMS;
void gemma4_prefill GEMMA4_ENTRY_PARAMS;
void gemma4_decode GEMMA4_ENTRY_PARAMS;

/* ---- Speculative decoding (gemma4c compile --draft; manifest "draft") -----
 * Defined only in binaries compiled with a draft model (weak: null
 * otherwise). gemma4_verify is gemma4_prefill returning every token's
 * logits (rows == ids_size always); the runtime calls it for the last
 * accepted token and the k drafted ones (S = k + 1 <= prefill_chunk) and
 * afterwards continues at the position after the last accepted token, so
 * a call may start before the position the previous one ended at: the
 * rows it wrote beyond are overwritten before any query can see them.
 * gemma4_draft_prefill / gemma4_draft_decode are the draft model's entries,
 * with their own KV arena (manifest draft.kv_bytes_*), the same weights
 * blob and the same vocabulary; their calls may start before the previous
 * end too. */
void gemma4_verify GEMMA4_ENTRY_PARAMS __attribute__((weak));

/* ---- Batched decoding (gemma4c compile --decode-batch; manifest
 * "decode_batch": B) ---------------------------------------------------------
 * Defined in CPU binaries (weak: null in GPU binaries, with
 * --decode-batch=0 and in binaries older than it). gemma4_decode_batch is
 * one decode step of B sequences at once: every weight product reads the
 * weights once for the B tokens, each token attends over its own
 * sequence's caches at its own position. ids holds 3 * B int32 (ids_size
 * == 3 * B): ids[i] the token of row i, ids[B + i] its position, ids[2B + i]
 * its slot. The KV arena is an array of slots of
 * GEMMA4RT_BATCH_SLOT_BYTES(kv_bytes_fixed, kv_bytes_per_context, context)
 * bytes each (a slot holds one sequence's KV arena as gemma4_decode sees
 * it), slot s at byte s * that; `pos` is ignored; rows == B, logits
 * [B][vocab]. Each row follows gemma4_decode's rules for its sequence;
 * rows of distinct sequences name distinct slots; rows that only fill the
 * batch may share one slot no real sequence uses (their logits are
 * meaningless). */
#define GEMMA4RT_BATCH_SLOT_ALIGN 65536
#define GEMMA4RT_BATCH_SLOT_BYTES(fixed, per_context, context)                             \
  (((fixed) + (per_context) * (context) + GEMMA4RT_BATCH_SLOT_ALIGN - 1) /                  \
   GEMMA4RT_BATCH_SLOT_ALIGN * GEMMA4RT_BATCH_SLOT_ALIGN)
void gemma4_decode_batch GEMMA4_ENTRY_PARAMS __attribute__((weak));
void gemma4_draft_prefill GEMMA4_ENTRY_PARAMS __attribute__((weak));
void gemma4_draft_decode GEMMA4_ENTRY_PARAMS __attribute__((weak));

/* ---- Services the runtime provides to generated code ---------------------
 * Runs body(ctx, begin, end) over [0, n) split across the thread pool in
 * chunks of at least `grain` iterations; returns when all are done. Called
 * from the calling thread only (no nesting). Chunks are disjoint, contiguous
 * and cover [0, n) exactly once; they run concurrently on the pool's workers
 * and on the calling thread; only the last chunk may be shorter than grain
 * (grain <= 0 counts as 1; n <= 0 does nothing). A nested call (from inside
 * a body) is run serially by the calling thread. */
typedef void (*gemma4rt_body_fn)(void *ctx, int64_t begin, int64_t end);
void gemma4rt_parallel_for(gemma4rt_body_fn body, void *ctx, int64_t n,
                           int64_t grain);

/* ---- GPU binaries (manifest "gpu") ----------------------------------------
 * The entry points have the signature above, but every pointer argument
 * (ids, KV arena, weights, logits) is a device pointer (a CUdeviceptr cast
 * to a pointer, 256-byte aligned): the generated host code never
 * dereferences them, it launches kernels and allocates scratch through the
 * functions below (runtime/include/gemma4rt/device.h). None of them throws
 * or returns an error: the first error (a failed launch or allocation) is
 * recorded, later launches are skipped, and the runtime reports it as one
 * line after the entry point returns. CPU binaries link them but never call
 * them.
 *
 * gemma4rt_gpu_launch launches kernel number `kernel` (an index into the
 * manifest's gpu.kernels) on the runtime's stream with grid (gx,gy,gz),
 * block (bx,by,bz) and `shared_bytes` bytes of dynamic shared memory (more
 * than 48 KiB is allowed up to the GPU's limit); `args` are the kernel
 * parameter pointers exactly as cuLaunchKernel's kernelParams. A grid with a
 * 0 extent launches nothing. Kernels run in launch order, asynchronously.
 *
 * _mlir_memref_to_llvm_alloc / _aligned_alloc / _free are MLIR's generic
 * allocation functions (finalize-memref-to-llvm{use-generic-functions}):
 * device scratch for activations, at least 256-byte aligned (alignment <=
 * 256), from a cache of freed blocks keyed by size (a decode step allocates
 * and frees the same sizes every token without a device allocation). A block
 * may be freed while kernels that use it are still queued: the next user is
 * ordered after them on the one stream. */
void gemma4rt_gpu_launch(int32_t kernel, int64_t gx, int64_t gy, int64_t gz,
                         int64_t bx, int64_t by, int64_t bz, int32_t shared_bytes,
                         void **args);
void *_mlir_memref_to_llvm_alloc(uint64_t size);
void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment, uint64_t size);
void _mlir_memref_to_llvm_free(void *ptr);

/* ---- The payload appended to the executable -------------------------------
 * [ELF executable][zero pad to 4096][weights blob][tokenizer bytes]
 * [manifest JSON][trailer]. The trailer is the last 32 bytes of the file:
 * magic "GEMMA4PL", u64 manifest_offset, u64 manifest_size, u64 version
 * (little endian). Offsets are from the start of the file. The manifest:
 * {
 *   "abi": 1,
 *   "model": { "name", "vocab_size", "num_layers", "hidden_size",
 *              "max_position_embeddings", "bos_token_id",
 *              "eos_token_ids": [..], "pad_token_id" },
 *   "prefill_chunk": 64,            // max tokens per gemma4_prefill call
 *   "quant": "int4-g32",            // optional: the --quant scheme
 *   "weights_read_per_token": R,    // optional: weight bytes one decode step
 *                                   // reads (each streamed tensor once, k/E
 *                                   // of MoE experts, one row per token of
 *                                   // gather-only tables); --info prints both
 *   "matmul_macs_per_token": M,     // optional: multiply-adds of one token's
 *                                   // matmuls (same weighting), for the
 *                                   // prefill FLOP rate
 *   "output_macs_per_call": O,      // optional: of M, the output projection's,
 *                                   // which a prefill call runs once (for its
 *                                   // last token), not per token
 *   "default_context": 4096,        // --max-context given to gemma4c
 *   "kv_bytes_fixed": N, "kv_bytes_per_context": M,
 *   "weights": { "offset": O, "size": B }      // embedded (O % 4096 == 0)
 *            | { "file": "model.weights", "size": B }  // --weights=external,
 *                                    // resolved beside the executable
 *   "tokenizer": { "offset", "size", "format": "hf-json"|"sentencepiece" }
 *              | null,
 *   "chat": { "format": "gemma4"|"gemma3", "markers": {..turn marker
 *             strings..}, "stop_token_ids": [..], "empty_thought_block": bool }
 *           | null,                 // resolved by gemma4c from the tokenizer,
 *                                   // tokenizer_config.json, chat template and
 *                                   // generation_config.json
 *   "generation": { "temperature", "top_k", "top_p" },  // optional defaults
 *   "generation": { "temperature", "top_k", "top_p", "min_p",   // optional:
 *                   "repetition_penalty" }   // sampling defaults, flags win
 *   "gpu": {                        // optional: a GPU binary (absent or
 *                                   // null: a CPU binary)
 *     "api": "cuda",
 *     "arch": "sm_90",              // sm_XY[a|f]: the GPU the code is for;
 *                                   // the PTX runs on XY or newer (a: XY
 *                                   // exactly, f: the same major)
 *     "kernels": ["gemma4_decode_k0", ...],   // gemma4rt_gpu_launch's table
 *     "ptx": { "offset": O, "size": B },      // NUL-terminated PTX text
 *                                   // (B counts the NUL); like "tokenizer",
 *                                   // bytes of the file before the manifest
 *     "cubin": { "offset": O, "size": B } | null  // ptxas output for arch,
 *                                   // loaded when the GPU is exactly arch
 *     "pdl": true                   // optional: every kernel begins with
 *                                   // griddepcontrol.launch_dependents and
 *                                   // .wait, so the runtime may launch them
 *                                   // with programmatic dependencies
 *   }
 * }
 * The trailer's version is GEMMA4RT_ABI_VERSION. Unknown manifest keys are
 * ignored. */
#define GEMMA4RT_PAYLOAD_MAGIC "GEMMA4PL"
#define GEMMA4RT_TRAILER_SIZE 32

#ifdef __cplusplus
}
#endif

#endif /* GEMMA4RT_ABI_H */
