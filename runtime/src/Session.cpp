//===- Session.cpp - KV arena and calls into the generated entry points --===//
#include "gemma4rt/session.h"
#include "gemma4rt/error.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace gemma4rt {

uint64_t KvArena::bytesFor(const Manifest &m, int64_t context) {
  return bytesFor(m.kvBytesFixed, m.kvBytesPerContext, context);
}

uint64_t KvArena::bytesFor(uint64_t fixed, uint64_t perContext, int64_t context) {
  unsigned __int128 total =
      (unsigned __int128)perContext * (unsigned __int128)(uint64_t)context + fixed;
  if (total > (unsigned __int128)(UINT64_MAX / 2))
    throw Error("the KV cache for a context of " + std::to_string(context) + " is too large");
  return static_cast<uint64_t>(total);
}

KvArena::KvArena(uint64_t bytes, Device *device) : device_(device), size_(bytes) {
  if (device) {
    data_ = static_cast<uint8_t *>(device->alloc(std::max<uint64_t>(bytes, 1),
                                                 "the KV cache (try a smaller --max-context)"));
    try {
      zero();
    } catch (...) {
      device->free(data_);
      throw;
    }
    return;
  }
  // Anonymous pages are zeroed and page aligned; untouched parts of a large
  // context cost no memory.
  uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  mapSize_ = static_cast<size_t>(std::max<uint64_t>(page, (bytes + page - 1) / page * page));
  void *p = ::mmap(nullptr, mapSize_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw Error("cannot allocate the KV cache of " + std::to_string(bytes) +
                " bytes (try a smaller --max-context): " + std::strerror(errno));
#ifdef MADV_HUGEPAGE
  if (mapSize_ >= (8u << 20))
    ::madvise(p, mapSize_, MADV_HUGEPAGE);
#endif
  data_ = static_cast<uint8_t *>(p);
}

KvArena::KvArena(uint8_t *memory, uint64_t bytes)
    : data_(memory), size_(bytes), mapSize_(static_cast<size_t>(bytes)), borrowed_(true) {}

KvArena::~KvArena() {
  if (borrowed_)
    return;
  if (device_)
    device_->free(data_);
  else if (data_)
    ::munmap(data_, mapSize_);
}

void KvArena::zero() {
  if (device_) {
    device_->fill32(data_, 0, size_);
    device_->synchronize();
  } else {
    std::memset(data_, 0, static_cast<size_t>(size_));
  }
}

void KvArena::clear() {
  if (device_ || !data_) {
    zero();
    return;
  }
  // Private anonymous pages read as zeros after MADV_DONTNEED.
  if (::madvise(data_, mapSize_, MADV_DONTNEED) != 0)
    std::memset(data_, 0, static_cast<size_t>(size_));
}

Session::Session(const Payload &payload, EntryPoints entry, int64_t context, Device *device,
                 const void *deviceWeights, const KvShape *kv)
    : payload_(payload), entry_(entry), context_(context),
      vocab_(payload.manifest().model.vocabSize), chunk_(payload.manifest().prefillChunk),
      device_(device),
      weights_(const_cast<uint8_t *>(device ? static_cast<const uint8_t *>(deviceWeights)
                                            : payload.weights())),
      arena_(kv ? KvArena::bytesFor(kv->fixed, kv->perContext, context)
                : KvArena::bytesFor(payload.manifest(), context),
             device) {
  size_t bytes = static_cast<size_t>(chunk_) * static_cast<size_t>(vocab_) * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;
  if (device) {
    if (!deviceWeights)
      throw Error("a GPU session needs the weights on the device (internal error)");
    deviceIds_ = DeviceBuffer(*device, uint64_t(chunk_) * sizeof(int32_t), "the token ids");
    deviceLogits_ = DeviceBuffer(*device, bytes, "the logits");
    logits_ = static_cast<float *>(device->allocHost(bytes, "the logits"));
    return;
  }
  logits_ = static_cast<float *>(std::aligned_alloc(64, bytes));
  if (!logits_)
    throw Error("cannot allocate " + std::to_string(bytes) + " bytes for logits");
}

Session::Session(const Payload &payload, EntryPoints entry, DecodeBatch &batch, int slot)
    : payload_(payload), entry_(entry), context_(batch.context()),
      vocab_(payload.manifest().model.vocabSize), chunk_(payload.manifest().prefillChunk),
      weights_(const_cast<uint8_t *>(payload.weights())),
      arena_(batch.slotMemory(slot), batch.slotBytes()), batchSlot_(slot) {
  size_t bytes = static_cast<size_t>(chunk_) * static_cast<size_t>(vocab_) * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;
  logits_ = static_cast<float *>(std::aligned_alloc(64, bytes));
  if (!logits_)
    throw Error("cannot allocate " + std::to_string(bytes) + " bytes for logits");
}

Session::~Session() {
  if (device_)
    device_->freeHost(logits_);
  else
    std::free(logits_);
}

void Session::invoke(gemma4_entry_fn fn, int32_t *ids, int64_t pos, int64_t n, int64_t rows,
                     float *logits) {
  auto *kv = arena_.data();
  const auto kvSize = static_cast<int64_t>(arena_.size());
  const auto wSize = static_cast<int64_t>(payload_.weightsSize());
  const uint64_t before = device_ ? device_->launches() : 0;
  fn(ids, ids, 0, n, 1, pos, kv, kv, 0, kvSize, 1, context_, weights_, weights_, 0, wSize, 1,
     logits, logits, 0, rows, vocab_, vocab_, 1);
  if (device_)
    (fn == entry_.decode ? decodeLaunches_ : prefillLaunches_) = device_->launches() - before;
}

void Session::call(gemma4_entry_fn fn, const int32_t *ids, int64_t n, int64_t rows) {
  if (!device_) {
    invoke(fn, const_cast<int32_t *>(ids), pos_, n, rows, logits_);
    // GPU code linked into a binary whose manifest has no "gpu" entry.
    if (deviceErrorPending())
      throwPendingDeviceError();
    return;
  }
  auto *idp = static_cast<int32_t *>(deviceIds_.data());
  auto *lp = static_cast<float *>(deviceLogits_.data());
  device_->upload(idp, ids, uint64_t(n) * sizeof(int32_t));
  const void *key = reinterpret_cast<const void *>(fn);
  // This call recorded ahead of time (the previous decode step prepared
  // it): submit it.
  bool launched = prepared_.fn == fn && prepared_.pos == pos_ && prepared_.n == n && rows == 1 &&
                  device_->launchPrepared(key);
  prepared_ = Prepared{};
  if (!launched) {
    auto run = [&] {
      device_->beginScratchSequence(key);
      invoke(fn, idp, pos_, n, rows, lp);
      device_->endScratchSequence();
    };
    device_->beginEntry(key);
    run();
    if (!device_->endEntry())
      run(); // the recording failed: the launches one by one
  }
  // While the GPU runs this step, the host records the next one (its
  // launches do not depend on the token, only on the position).
  if (prepareAhead_ && fn == entry_.decode && n == 1 && pos_ + 2 <= context_ &&
      device_->canPrepare())
    prepare(fn, pos_ + 1, 1);
  // Waits for the call's kernels; throws what they or the launches recorded.
  device_->download(logits_, lp, uint64_t(rows) * uint64_t(vocab_) * sizeof(float));
}

void Session::prepare(gemma4_entry_fn fn, int64_t pos, int64_t n) {
  const void *key = reinterpret_cast<const void *>(fn);
  device_->beginEntry(key);
  device_->beginScratchSequence(key);
  invoke(fn, static_cast<int32_t *>(deviceIds_.data()), pos, n, 1,
         static_cast<float *>(deviceLogits_.data()));
  device_->endScratchSequence();
  if (device_->endEntryPrepared())
    prepared_ = Prepared{fn, pos, n};
}

const float *Session::prefill(std::span<const int32_t> ids, const RowsFn &onRows) {
  const int64_t total = static_cast<int64_t>(ids.size());
  if (total <= 0)
    throw Error("prefill of an empty prompt");
  if (pos_ + total > context_)
    throw Error("prompt of " + std::to_string(pos_ + total) +
                " tokens does not fit the context of " + std::to_string(context_));
  int64_t done = 0, rows = 0;
  prefillCalls_.clear();
  while (done < total) {
    int64_t s = std::min(chunk_, total - done);
    rows = onRows ? s : 1;
    auto t0 = std::chrono::steady_clock::now();
    call(entry_.prefill, ids.data() + done, s, rows);
    prefillCalls_.emplace_back(
        s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (onRows)
      onRows(done, s, logits_);
    pos_ += s;
    done += s;
  }
  return logits_ + (rows - 1) * vocab_;
}

void Session::reset() {
  arena_.clear();
  pos_ = 0;
  prepared_ = Prepared{};
}

void Session::skipTo(int64_t pos) {
  if (pos_ != 0)
    throw Error("cannot skip positions in a session that has run");
  if (pos < 0 || pos >= context_)
    throw Error("position " + std::to_string(pos) + " is outside the context of " +
                std::to_string(context_));
  // Untouched anonymous pages all map the one shared zero page, which
  // reads from cache; writing the zeros gives the skipped rows real memory,
  // so attention over them costs what it costs over a real cache. (Device
  // memory is real already; zeroing it again costs little.)
  arena_.zero();
  pos_ = pos;
}

const float *Session::verify(std::span<const int32_t> ids) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (!entry_.verify)
    throw Error("this binary has no verify entry (compile it with --draft)");
  if (n < 1 || n > chunk_)
    throw Error("a verify call takes 1 to " + std::to_string(chunk_) + " tokens, not " +
                std::to_string(n));
  if (pos_ + n > context_)
    throw Error("generation reached the end of the context of " + std::to_string(context_));
  call(entry_.verify, ids.data(), n, n);
  pos_ += n;
  return logits_;
}

void Session::rollback(int64_t pos) {
  if (pos < 0 || pos > pos_)
    throw Error("cannot roll back to position " + std::to_string(pos) + " from " +
                std::to_string(pos_) + " (internal error)");
  pos_ = pos;
  prepared_ = Prepared{}; // a decode step recorded for the old position
}

const float *Session::decode(int32_t id) {
  if (pos_ + 1 > context_)
    throw Error("generation reached the end of the context of " + std::to_string(context_));
  call(entry_.decode, &id, 1, 1);
  pos_ += 1;
  return logits_;
}

//===----------------------------------------------------------------------===//
// DecodeBatch
//===----------------------------------------------------------------------===//

bool DecodeBatch::available(const Payload &payload, EntryPoints entry, Device *device) {
  return entry.decodeBatch && !device && payload.manifest().decodeBatch >= 2;
}

DecodeBatch::DecodeBatch(const Payload &payload, EntryPoints entry, int slots, int64_t context)
    : payload_(payload), fn_(entry.decodeBatch), B_(payload.manifest().decodeBatch),
      context_(context), vocab_(payload.manifest().model.vocabSize), slots_(slots) {
  if (!fn_ || B_ < 2 || slots < 1)
    throw Error("this binary has no batched decode entry (internal error)");
  const Manifest &m = payload.manifest();
  uint64_t bytes = KvArena::bytesFor(m, context);
  if (bytes > UINT64_MAX / 4 / uint64_t(slots + 1))
    throw Error("the KV cache for a context of " + std::to_string(context) + " is too large");
  slotBytes_ = GEMMA4RT_BATCH_SLOT_BYTES(bytes, uint64_t(0), uint64_t(0));
  // Slot `slots` is for the rows that only fill a batch.
  mapSize_ = static_cast<size_t>(slotBytes_ * uint64_t(slots + 1));
  void *p = ::mmap(nullptr, mapSize_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw Error("cannot allocate the KV caches of " + std::to_string(slots) + " slots (" +
                std::to_string(mapSize_) + " bytes; try a smaller --max-context or --parallel): " +
                std::strerror(errno));
#ifdef MADV_HUGEPAGE
  if (mapSize_ >= (8u << 20))
    ::madvise(p, mapSize_, MADV_HUGEPAGE);
#endif
  data_ = static_cast<uint8_t *>(p);
  packed_.assign(size_t(3 * B_), 0);
  size_t lb = (size_t(B_) * size_t(vocab_) * sizeof(float) + 63) / 64 * 64;
  logits_ = static_cast<float *>(std::aligned_alloc(64, lb));
  if (!logits_) {
    ::munmap(data_, mapSize_);
    throw Error("cannot allocate " + std::to_string(lb) + " bytes for logits");
  }
}

DecodeBatch::~DecodeBatch() {
  std::free(logits_);
  if (data_)
    ::munmap(data_, mapSize_);
}

void DecodeBatch::step(std::span<Session *const> sessions, std::span<const int32_t> ids) {
  if (sessions.size() != ids.size())
    throw Error("a batched decode step needs one token per sequence (internal error)");
  for (Session *s : sessions) {
    if (s->batchSlot_ < 0 || s->batchSlot_ >= slots_)
      throw Error("a batched decode step of a session outside the batch (internal error)");
    if (s->pos_ + 1 > s->context_)
      throw Error("generation reached the end of the context of " + std::to_string(s->context_));
  }
  const auto wSize = static_cast<int64_t>(payload_.weightsSize());
  auto *w = const_cast<uint8_t *>(payload_.weights());
  const auto kvSize = static_cast<int64_t>(mapSize_);
  for (size_t first = 0; first < sessions.size(); first += size_t(B_)) {
    size_t n = std::min(sessions.size() - first, size_t(B_));
    for (int64_t i = 0; i < B_; ++i) {
      if (size_t(i) < n) {
        Session *s = sessions[first + size_t(i)];
        packed_[size_t(i)] = ids[first + size_t(i)];
        packed_[size_t(B_ + i)] = static_cast<int32_t>(s->pos_);
        packed_[size_t(2 * B_ + i)] = s->batchSlot_;
      } else { // fills the batch: position 0 of the spare slot
        packed_[size_t(i)] = 0;
        packed_[size_t(B_ + i)] = 0;
        packed_[size_t(2 * B_ + i)] = slots_;
      }
    }
    int32_t *pk = packed_.data();
    fn_(pk, pk, 0, 3 * B_, 1, 0, data_, data_, 0, kvSize, 1, context_, w, w, 0, wSize, 1, logits_,
        logits_, 0, B_, vocab_, vocab_, 1);
    if (deviceErrorPending())
      throwPendingDeviceError();
    for (size_t i = 0; i < n; ++i) {
      Session *s = sessions[first + i];
      std::memcpy(s->logits_, logits_ + i * size_t(vocab_), size_t(vocab_) * sizeof(float));
      s->pos_ += 1;
    }
  }
}

} // namespace gemma4rt
