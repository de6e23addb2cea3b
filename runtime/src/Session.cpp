//===- Session.cpp - KV arena and calls into the generated entry points --===//
#include "gemma4rt/session.h"
#include "gemma4rt/error.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace gemma4rt {

uint64_t KvArena::bytesFor(const Manifest &m, int64_t context) {
  unsigned __int128 total =
      (unsigned __int128)m.kvBytesPerContext * (unsigned __int128)(uint64_t)context +
      m.kvBytesFixed;
  if (total > (unsigned __int128)(UINT64_MAX / 2))
    throw Error("the KV cache for a context of " + std::to_string(context) + " is too large");
  return static_cast<uint64_t>(total);
}

KvArena::KvArena(uint64_t bytes) : size_(bytes) {
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

KvArena::~KvArena() {
  if (data_)
    ::munmap(data_, mapSize_);
}

Session::Session(const Payload &payload, EntryPoints entry, int64_t context)
    : payload_(payload), entry_(entry), context_(context),
      vocab_(payload.manifest().model.vocabSize), chunk_(payload.manifest().prefillChunk),
      arena_(KvArena::bytesFor(payload.manifest(), context)) {
  size_t bytes = static_cast<size_t>(chunk_) * static_cast<size_t>(vocab_) * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;
  logits_ = static_cast<float *>(std::aligned_alloc(64, bytes));
  if (!logits_)
    throw Error("cannot allocate " + std::to_string(bytes) + " bytes for logits");
}

Session::~Session() { std::free(logits_); }

static void call(gemma4_entry_fn fn, const int32_t *ids, int64_t n, int64_t pos, const KvArena &kv,
                 int64_t context, const Payload &p, float *logits, int64_t vocab) {
  auto *idp = const_cast<int32_t *>(ids);
  auto *w = const_cast<uint8_t *>(p.weights());
  fn(idp, idp, 0, n, 1, pos, kv.data(), kv.data(), 0, static_cast<int64_t>(kv.size()), 1,
     context, w, w, 0, static_cast<int64_t>(p.weightsSize()), 1, logits, logits, 0, n, vocab,
     vocab, 1);
}

const float *Session::prefill(std::span<const int32_t> ids, const RowsFn &onRows) {
  const int64_t total = static_cast<int64_t>(ids.size());
  if (total <= 0)
    throw Error("prefill of an empty prompt");
  if (pos_ + total > context_)
    throw Error("prompt of " + std::to_string(pos_ + total) +
                " tokens does not fit the context of " + std::to_string(context_));
  int64_t done = 0, last = 0;
  while (done < total) {
    int64_t s = std::min(chunk_, total - done);
    call(entry_.prefill, ids.data() + done, s, pos_, arena_, context_, payload_, logits_, vocab_);
    if (onRows)
      onRows(done, s, logits_);
    pos_ += s;
    done += s;
    last = s;
  }
  return logits_ + (last - 1) * vocab_;
}

void Session::skipTo(int64_t pos) {
  if (pos_ != 0)
    throw Error("cannot skip positions in a session that has run");
  if (pos < 0 || pos >= context_)
    throw Error("position " + std::to_string(pos) + " is outside the context of " +
                std::to_string(context_));
  // Untouched anonymous pages all map the one shared zero page, which
  // reads from cache; writing the zeros gives the skipped rows real memory,
  // so attention over them costs what it costs over a real cache.
  std::memset(arena_.data(), 0, static_cast<size_t>(arena_.size()));
  pos_ = pos;
}

const float *Session::decode(int32_t id) {
  if (pos_ + 1 > context_)
    throw Error("generation reached the end of the context of " + std::to_string(context_));
  call(entry_.decode, &id, 1, pos_, arena_, context_, payload_, logits_, vocab_);
  pos_ += 1;
  return logits_;
}

} // namespace gemma4rt
