//===- session.h - KV arena and calls into the generated model --*- C++ -*-===//
#ifndef GEMMA4RT_SESSION_H
#define GEMMA4RT_SESSION_H

#include "gemma4rt/abi.h"
#include "gemma4rt/payload.h"

#include <cstdint>
#include <functional>
#include <span>

namespace gemma4rt {

/// Zeroed, page (hence 64-byte) aligned anonymous memory for the KV caches:
/// kv_bytes_fixed + kv_bytes_per_context * context bytes.
class KvArena {
public:
  explicit KvArena(uint64_t bytes);
  ~KvArena();
  KvArena(const KvArena &) = delete;
  KvArena &operator=(const KvArena &) = delete;
  uint8_t *data() const { return data_; }
  uint64_t size() const { return size_; }
  /// kv_bytes_fixed + kv_bytes_per_context * context; throws on overflow.
  static uint64_t bytesFor(const Manifest &m, int64_t context);

private:
  uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
  size_t mapSize_ = 0;
};

/// The two generated entry points (normally &gemma4_prefill, &gemma4_decode;
/// tests pass their own).
struct EntryPoints {
  gemma4_entry_fn prefill = nullptr;
  gemma4_entry_fn decode = nullptr;
};

/// One sequence: the KV arena, the position, a logits buffer.
class Session {
public:
  Session(const Payload &payload, EntryPoints entry, int64_t context);
  ~Session();

  /// Called with each chunk's logits: rows [firstRow, firstRow+rows) of the
  /// ids given to prefill(), each `vocab` floats, contiguous.
  using RowsFn = std::function<void(int64_t firstRow, int64_t rows, const float *logits)>;

  /// Runs ids at positions position() .. position()+ids.size()-1 through
  /// gemma4_prefill in chunks of <= prefill_chunk tokens. Returns the logits
  /// of the last token (valid until the next call). ids must be non-empty
  /// and fit the context.
  const float *prefill(std::span<const int32_t> ids, const RowsFn &onRows = nullptr);
  /// Runs one token through gemma4_decode at position(); returns its logits.
  const float *decode(int32_t id);

  /// Benchmarking (--fake-context): on a fresh session, makes the next call
  /// start at `pos` as if that many tokens were already cached. Their KV
  /// rows stay zero (written, so backed by real memory rather than the
  /// shared zero page), which costs the generated code the same work and
  /// memory traffic as real ones; the output is meaningless.
  void skipTo(int64_t pos);

  int64_t position() const { return pos_; }
  int64_t context() const { return context_; }
  int64_t vocab() const { return vocab_; }
  const KvArena &arena() const { return arena_; }

private:
  const Payload &payload_;
  EntryPoints entry_;
  int64_t context_;
  int64_t vocab_;
  int64_t chunk_;
  int64_t pos_ = 0;
  KvArena arena_;
  float *logits_ = nullptr; ///< [chunk][vocab], 64-byte aligned
};

} // namespace gemma4rt

#endif
