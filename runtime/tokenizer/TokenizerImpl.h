//===- TokenizerImpl.h - tokenizer internals (not installed) ---*- C++ -*-===//
//
// The data behind gemma4rt::Tokenizer. Loaders (HFTokenizerJson.cpp,
// SentencePieceModel.cpp) fill an Impl and call finalize(); Tokenizer.cpp
// implements encoding/decoding on it.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_TOKENIZER_IMPL_H
#define GEMMA4RT_TOKENIZER_IMPL_H

#include "gemma4rt/tokenizer.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4rt {
namespace detail {

/// Token ids index dense tables (id -> token, flags), so an id is bounded:
/// 2^22 is 16x the largest vocabulary in use (Gemma's 262,144) and keeps a
/// corrupt file's id of 2^31 from allocating tens of gigabytes.
constexpr int64_t kMaxTokenId = (int64_t(1) << 22) - 1;

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t hashBytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

/// Open-addressing map from uint64 keys (any value but ~0) to V.
template <typename V> class U64Map {
public:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2)
      cap <<= 1;
    if (cap > slots_.size())
      rehash(cap);
  }
  /// Inserts or overwrites.
  void set(uint64_t key, V value) {
    if ((size_ + 1) * 2 > slots_.size())
      rehash(slots_.empty() ? 16 : slots_.size() * 2);
    size_t mask = slots_.size() - 1;
    size_t i = mix64(key) & mask;
    while (slots_[i].key != kEmpty && slots_[i].key != key)
      i = (i + 1) & mask;
    if (slots_[i].key == kEmpty) {
      slots_[i].key = key;
      ++size_;
    }
    slots_[i].value = value;
  }
  const V *find(uint64_t key) const {
    if (slots_.empty())
      return nullptr;
    size_t mask = slots_.size() - 1;
    size_t i = mix64(key) & mask;
    while (true) {
      const Slot &s = slots_[i];
      if (s.key == key)
        return &s.value;
      if (s.key == kEmpty)
        return nullptr;
      i = (i + 1) & mask;
    }
  }
  size_t size() const { return size_; }

private:
  struct Slot {
    uint64_t key = kEmpty;
    V value{};
  };
  void rehash(size_t cap) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(cap, Slot{});
    size_ = 0;
    for (const Slot &s : old)
      if (s.key != kEmpty)
        set(s.key, s.value);
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

/// Open-addressing map from strings to int32 ids. Keys live in one arena.
class StringIdMap {
public:
  void reserve(size_t n);
  /// Inserts or overwrites.
  void set(std::string_view key, int32_t id);
  /// -1 when absent.
  int32_t find(std::string_view key) const;
  size_t size() const { return size_; }
  template <typename F> void forEach(F &&f) const {
    for (const Slot &s : slots_)
      if (s.id >= 0)
        f(keyOf(s), s.id);
  }

private:
  struct Slot {
    uint32_t off = 0, len = 0;
    int32_t id = -1; // -1 marks an empty slot
    uint32_t hash = 0;
  };
  void rehash(size_t cap);
  std::string_view keyOf(const Slot &s) const {
    return std::string_view(arena_).substr(s.off, s.len);
  }
  std::string arena_;
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

/// Byte trie answering "longest added token starting at position p".
class TokenTrie {
public:
  void clear();
  void insert(std::string_view s, int32_t tokenIndex);
  bool empty() const { return terminal_.size() <= 1; }
  /// Length of the longest entry that starts at text[pos] (0 if none) and the
  /// entry's tokenIndex.
  size_t longestAt(std::string_view text, size_t pos, int32_t &tokenIndex) const;

private:
  U64Map<int32_t> edges_;          // (node << 8 | byte) -> child
  std::vector<int32_t> terminal_{-1}; // node -> tokenIndex or -1
  bool first_[256] = {};
};

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
  bool singleWord = false;
};

struct NormStep {
  enum Kind { Replace, Prepend, PrependFirst, RemoveExtraSpaces } kind;
  std::string pattern; // Replace
  std::string content; // Replace / Prepend
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
enum class PrependScheme { Always, First, Never };

struct PreStep {
  enum Kind { Split, Metaspace } kind;
  explicit PreStep(Kind k) : kind(k) {}
  std::string pattern;                 // Split
  SplitBehavior behavior = SplitBehavior::Isolated;
  std::string replacement;             // Metaspace (one char)
  PrependScheme prepend = PrependScheme::Always;
  bool split = true;                   // Metaspace
};

struct DecodeStep {
  enum Kind { Replace, ByteFallback, Fuse, Strip, Metaspace } kind;
  explicit DecodeStep(Kind k) : kind(k) {}
  std::string pattern, content;        // Replace; Strip uses content (one char)
  size_t start = 0, stop = 0;          // Strip
  std::string replacement;             // Metaspace
  PrependScheme prepend = PrependScheme::Always;
};

struct MergeVal {
  uint32_t rank = 0;
  int32_t id = -1;
};

enum TokenFlag : uint8_t { kExists = 1, kAdded = 2, kSpecial = 4 };

} // namespace detail

struct Tokenizer::Impl {
  std::string source;

  // ---- model (BPE) ----
  detail::StringIdMap vocab;               // model vocabulary
  detail::U64Map<detail::MergeVal> merges; // (left << 32 | right) -> rank, id
  int32_t unkId = -1;
  bool byteFallback = false;
  bool fuseUnk = false;
  bool ignoreMerges = false;
  std::string contPrefix, eowSuffix;

  // ---- added tokens ----
  std::vector<detail::AddedToken> added;
  bool splitSpecialTokens = false; // HF encode_special_tokens: specials not matched

  // ---- pipeline ----
  std::vector<detail::NormStep> normalizers;
  std::vector<detail::PreStep> preTokenizers;
  bool hasDecoder = false;
  std::vector<detail::DecodeStep> decoders;

  // ---- well-known ids ----
  int32_t bos = -1, eos = -1, pad = -1;

  // ---- derived by finalize() ----
  std::vector<std::string> idToToken;
  std::vector<uint8_t> flags;
  int32_t byteIds[256];
  detail::U64Map<int32_t> charIds; // codepoint -> model id (no prefix/suffix)
  detail::TokenTrie rawTrie, normTrie;
  detail::StringIdMap addedIds; // content -> id
  std::vector<std::string> normalizedAddedContent;

  /// Builds the derived tables; call after a loader filled the rest.
  void finalize();

  std::vector<int32_t> encode(std::string_view text) const;
  std::string decode(std::span<const int32_t> ids, bool showSpecial) const;

  // pieces used by encode()/decode()/StreamDecoder
  std::string normalize(std::string_view s, bool atTextStart) const;
  void preTokenize(std::string piece, bool atTextStart,
                   std::vector<std::string> &out) const;
  void bpe(std::string_view word, std::vector<int32_t> &out) const;
  void checkId(int32_t id) const;
  /// Runs decoder steps [from, to) over `tokens`; `seen[k]` counts the
  /// elements step k has processed before (Metaspace's "first token").
  void runDecoders(std::vector<std::string> &tokens, size_t from, size_t to,
                   std::vector<size_t> &seen) const;
};

namespace detail {
/// Throws TokenizerError naming `what` when `s` is not valid UTF-8.
void validateUtf8(std::string_view s, std::string_view what);
/// Bytes in the UTF-8 sequence starting with lead byte c (1 for invalid).
inline size_t utf8Len(unsigned char c) {
  if (c < 0x80)
    return 1;
  if ((c & 0xE0) == 0xC0)
    return 2;
  if ((c & 0xF0) == 0xE0)
    return 3;
  if ((c & 0xF8) == 0xF0)
    return 4;
  return 1;
}
/// Decodes the code point at s[i] (assumes valid UTF-8).
uint32_t decodeCodepoint(std::string_view s, size_t i);
bool isUnicodeWhitespace(uint32_t cp);
/// Parses "<0xNN>" (what HF's ByteFallback decoder recognises).
int parseByteToken(std::string_view tok);

std::unique_ptr<Tokenizer::Impl> loadHuggingFaceJson(std::string_view bytes,
                                                     const std::string &name);
std::unique_ptr<Tokenizer::Impl> loadSentencePieceModel(std::string_view bytes,
                                                        const std::string &name);
} // namespace detail
} // namespace gemma4rt

#endif
