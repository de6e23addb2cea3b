//===- session.h - KV arena and calls into the generated model --*- C++ -*-===//
#ifndef GEMMA4RT_SESSION_H
#define GEMMA4RT_SESSION_H

#include "gemma4rt/abi.h"
#include "gemma4rt/device.h"
#include "gemma4rt/payload.h"

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

namespace gemma4rt {

/// Zeroed, page (hence 64-byte) aligned anonymous memory for the KV caches:
/// kv_bytes_fixed + kv_bytes_per_context * context bytes. With a device:
/// device memory (256-byte aligned), zeroed once.
class KvArena {
public:
  explicit KvArena(uint64_t bytes, Device *device = nullptr);
  /// A CPU arena in memory someone else owns (one slot of a DecodeBatch's
  /// arena): `bytes` from `memory`, both multiples of the page size.
  KvArena(uint8_t *memory, uint64_t bytes);
  ~KvArena();
  KvArena(const KvArena &) = delete;
  KvArena &operator=(const KvArena &) = delete;
  uint8_t *data() const { return data_; } ///< a device pointer with a device
  uint64_t size() const { return size_; }
  /// Writes zeros over the whole arena.
  void zero();
  /// Makes the arena read as zeros again without touching it: the pages of
  /// a CPU arena are given back (they come back zeroed when next written);
  /// device memory is zeroed.
  void clear();
  /// kv_bytes_fixed + kv_bytes_per_context * context; throws on overflow.
  static uint64_t bytesFor(const Manifest &m, int64_t context);
  static uint64_t bytesFor(uint64_t fixed, uint64_t perContext, int64_t context);

private:
  Device *device_ = nullptr;
  uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
  size_t mapSize_ = 0;
  bool borrowed_ = false;
};

class DecodeBatch;

/// The generated entry points (normally &gemma4_prefill, &gemma4_decode;
/// tests pass their own). Binaries compiled with --draft also have
/// gemma4_verify and the draft model's two entries (null otherwise).
struct EntryPoints {
  gemma4_entry_fn prefill = nullptr;
  gemma4_entry_fn decode = nullptr;
  gemma4_entry_fn verify = nullptr;
  gemma4_entry_fn draftPrefill = nullptr;
  gemma4_entry_fn draftDecode = nullptr;
  /// gemma4_decode_batch (abi.h): null in GPU binaries, with
  /// --decode-batch=0 and in older binaries.
  gemma4_entry_fn decodeBatch = nullptr;
};

/// A KV arena's layout other than the manifest's (the draft model's).
struct KvShape {
  uint64_t fixed = 0, perContext = 0;
};

/// One sequence: the KV arena, the position, a logits buffer.
///
/// With a device (GPU binaries), every pointer the entry points get is a
/// device pointer: `deviceWeights` (uploadWeights / randomDeviceWeights), the
/// KV arena in device memory, a device buffer for each call's ids (uploaded
/// per call) and one for the logits (downloaded after every call into the
/// host buffer prefill()/decode() return). A device error recorded during a
/// call (launch, scratch allocation, kernel fault) is thrown after it.
class Session {
public:
  /// With `kv`, the arena has that layout instead of the manifest's (a
  /// draft model's session: entry.prefill/decode are then its entries).
  Session(const Payload &payload, EntryPoints entry, int64_t context, Device *device = nullptr,
          const void *deviceWeights = nullptr, const KvShape *kv = nullptr);
  /// A CPU session whose KV arena is slot `slot` of `batch` (the server's
  /// slots, decoded together by DecodeBatch::step).
  Session(const Payload &payload, EntryPoints entry, DecodeBatch &batch, int slot);
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// Called with each chunk's logits: rows [firstRow, firstRow+rows) of the
  /// ids given to prefill(), each `vocab` floats, contiguous.
  using RowsFn = std::function<void(int64_t firstRow, int64_t rows, const float *logits)>;

  /// Runs ids at positions position() .. position()+ids.size()-1 through
  /// gemma4_prefill in chunks of <= prefill_chunk tokens. Returns the logits
  /// of the last token (valid until the next call). ids must be non-empty
  /// and fit the context. Without onRows each call asks for its last
  /// token's logits only (the output projection of one row, one row
  /// copied back); with it, for every row.
  const float *prefill(std::span<const int32_t> ids, const RowsFn &onRows = nullptr);
  /// Tokens one prefill or verify call takes (manifest prefill_chunk).
  int64_t chunk() const { return chunk_; }
  /// Runs one token through gemma4_decode at position(); returns its logits.
  const float *decode(int32_t id);
  /// Speculative decoding: runs ids (1 <= size <= prefill_chunk) through
  /// gemma4_verify at position(); returns every token's logits, row i
  /// (vocab floats) the prediction after ids[i], valid until the next call.
  const float *verify(std::span<const int32_t> ids);
  /// Goes back to position `pos` (<= position()): the tokens from there on
  /// are forgotten. Nothing is erased: every cache row at or after `pos`
  /// is rewritten by the next call before a query can see it (abi.h).
  void rollback(int64_t pos);

  /// Starts a new, independent sequence at position 0 in the same arena
  /// (the server's slots).
  void reset();
  /// GPU sessions record the next decode step while one runs; a device
  /// keeps one such recording, so sessions that take turns on one device
  /// (the server's slots) turn it off.
  void setPrepareAhead(bool on) { prepareAhead_ = on; }

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
  Device *device() const { return device_; }
  /// With a device: the kernels the last prefill call and the last decode
  /// step launched (recorded ahead of time or not).
  uint64_t prefillLaunches() const { return prefillLaunches_; }
  uint64_t decodeLaunches() const { return decodeLaunches_; }
  /// The last prefill()'s calls: tokens and wall seconds of each (--stats:
  /// a fresh process's first call against the ones after it).
  const std::vector<std::pair<int64_t, double>> &prefillCalls() const { return prefillCalls_; }

  /// The logits of the last decode step (after DecodeBatch::step).
  const float *lastLogits() const { return logits_; }
  /// The DecodeBatch slot this session's arena is (-1: its own arena).
  int batchSlot() const { return batchSlot_; }

private:
  friend class DecodeBatch;
  /// Runs n tokens; logits_ holds the last `rows` tokens' logits after it.
  void call(gemma4_entry_fn fn, const int32_t *ids, int64_t n, int64_t rows);
  /// Calls fn with this session's KV arena, weights and context for n
  /// tokens at `pos`, asking for the last `rows` tokens' logits (ids and
  /// logits: host or device pointers).
  void invoke(gemma4_entry_fn fn, int32_t *ids, int64_t pos, int64_t n, int64_t rows,
              float *logits);
  /// Records the call of fn at `pos` for n tokens on the device ahead of
  /// time (Device::canPrepare): the next decode step while this one runs.
  void prepare(gemma4_entry_fn fn, int64_t pos, int64_t n);
  struct Prepared {
    gemma4_entry_fn fn = nullptr;
    int64_t pos = -1, n = 0;
  } prepared_;

  const Payload &payload_;
  EntryPoints entry_;
  int64_t context_;
  int64_t vocab_;
  int64_t chunk_;
  int64_t pos_ = 0;
  bool prepareAhead_ = true;
  Device *device_ = nullptr;
  uint64_t prefillLaunches_ = 0, decodeLaunches_ = 0;
  std::vector<std::pair<int64_t, double>> prefillCalls_;
  uint8_t *weights_ = nullptr; ///< device weights, or the payload's
  KvArena arena_;
  DeviceBuffer deviceIds_;    ///< [chunk] int32 (device)
  DeviceBuffer deviceLogits_; ///< [chunk][vocab] f32 (device)
  float *logits_ = nullptr;   ///< [chunk][vocab], 64-byte aligned (host)
  int batchSlot_ = -1;
};

/// Batched decoding (abi.h gemma4_decode_batch): one KV arena of `slots`
/// slots (plus one that rows filling a batch use) for sessions made on
/// them, and one call that runs a decode step of up to B of them at once.
class DecodeBatch {
public:
  /// entry.decodeBatch must be set; B = the manifest's decode_batch. CPU
  /// binaries only.
  DecodeBatch(const Payload &payload, EntryPoints entry, int slots, int64_t context);
  ~DecodeBatch();
  DecodeBatch(const DecodeBatch &) = delete;
  DecodeBatch &operator=(const DecodeBatch &) = delete;

  /// Whether this binary has a batched decode entry a CPU run can use.
  static bool available(const Payload &payload, EntryPoints entry, Device *device);

  int64_t batch() const { return B_; }
  int64_t context() const { return context_; }
  uint64_t slotBytes() const { return slotBytes_; }
  uint8_t *slotMemory(int slot) const { return data_ + uint64_t(slot) * slotBytes_; }

  /// One decode step of sessions[i] (each made on a slot of this batch,
  /// distinct) feeding ids[i], in calls of at most B: as sessions[i]->
  /// decode(ids[i]) for each, returning each session's logits in it.
  void step(std::span<Session *const> sessions, std::span<const int32_t> ids);

private:
  const Payload &payload_;
  gemma4_entry_fn fn_;
  int64_t B_, context_, vocab_;
  int slots_;
  uint64_t slotBytes_ = 0;
  uint8_t *data_ = nullptr;
  size_t mapSize_ = 0;
  std::vector<int32_t> packed_;
  float *logits_ = nullptr; ///< [B][vocab]
};

} // namespace gemma4rt

#endif
