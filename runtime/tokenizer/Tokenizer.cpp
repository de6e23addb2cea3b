//===- Tokenizer.cpp - encode/decode following Hugging Face tokenizers ----===//
//
// Pipeline of Hugging Face `tokenizers` (TokenizerImpl::encode_single_sequence
// with add_special_tokens=false):
//   1. added tokens with normalized=false are split out of the raw text
//      (leftmost-longest, like the aho-corasick automaton HF builds);
//   2. every remaining piece is normalized, then added tokens with
//      normalized=true are split out of it;
//   3. the pre-tokenizer splits what is left into words;
//   4. each word is BPE-merged (Word::merge_all: a binary heap of candidate
//      pairs ordered by (rank, position), stale entries skipped).
// Decoding maps ids to token strings (dropping specials on request) and runs
// the decoder chain.
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <queue>
#include <sys/stat.h>

namespace gemma4rt {
namespace detail {

//===----------------------------------------------------------------------===//
// Small utilities
//===----------------------------------------------------------------------===//

void validateUtf8(std::string_view s, std::string_view what) {
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80)
        ok = false;
      else
        cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
      ok = false;
    if (!ok)
      throw TokenizerError("invalid UTF-8 in " + std::string(what) +
                           " at byte offset " + std::to_string(i));
    i += len;
  }
}

uint32_t decodeCodepoint(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t len = utf8Len(c);
  if (len == 1)
    return c;
  uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < len && i + k < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

bool isUnicodeWhitespace(uint32_t cp) {
  // Rust char::is_whitespace / Python str.isspace (White_Space property).
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static bool isWordCodepoint(uint32_t cp) {
  // Approximates regex \w (alphanumeric or '_'): ASCII exactly, and every
  // non-ASCII, non-whitespace code point counts as a word character.
  if (cp < 0x80)
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
           (cp >= 'A' && cp <= 'Z') || cp == '_';
  return !isUnicodeWhitespace(cp);
}

int parseByteToken(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>')
    return -1;
  int v = 0;
  for (size_t i = 3; i < 5; ++i) {
    char c = t[i];
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

static void replaceAll(std::string &s, std::string_view from, std::string_view to) {
  if (from.empty() || s.find(from) == std::string::npos)
    return;
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos)
      break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

//===----------------------------------------------------------------------===//
// StringIdMap
//===----------------------------------------------------------------------===//

void StringIdMap::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2)
    cap <<= 1;
  if (cap > slots_.size())
    rehash(cap);
}

void StringIdMap::rehash(size_t cap) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(cap, Slot{});
  size_t mask = cap - 1;
  for (const Slot &s : old) {
    if (s.id < 0)
      continue;
    size_t i = s.hash & mask;
    while (slots_[i].id >= 0)
      i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void StringIdMap::set(std::string_view key, int32_t id) {
  if ((size_ + 1) * 2 > slots_.size())
    rehash(slots_.empty() ? 16 : slots_.size() * 2);
  uint64_t h = hashBytes(key);
  auto h32 = static_cast<uint32_t>(h);
  size_t mask = slots_.size() - 1;
  size_t i = h32 & mask;
  while (slots_[i].id >= 0) {
    if (slots_[i].hash == h32 && keyOf(slots_[i]) == key) {
      slots_[i].id = id;
      return;
    }
    i = (i + 1) & mask;
  }
  Slot s;
  s.off = static_cast<uint32_t>(arena_.size());
  s.len = static_cast<uint32_t>(key.size());
  s.id = id;
  s.hash = h32;
  arena_.append(key);
  slots_[i] = s;
  ++size_;
}

int32_t StringIdMap::find(std::string_view key) const {
  if (slots_.empty())
    return -1;
  auto h32 = static_cast<uint32_t>(hashBytes(key));
  size_t mask = slots_.size() - 1;
  size_t i = h32 & mask;
  while (slots_[i].id >= 0) {
    if (slots_[i].hash == h32 && keyOf(slots_[i]) == key)
      return slots_[i].id;
    i = (i + 1) & mask;
  }
  return -1;
}

//===----------------------------------------------------------------------===//
// TokenTrie
//===----------------------------------------------------------------------===//

void TokenTrie::clear() {
  edges_ = U64Map<int32_t>();
  terminal_.assign(1, -1);
  std::memset(first_, 0, sizeof(first_));
}

void TokenTrie::insert(std::string_view s, int32_t tokenIndex) {
  if (s.empty())
    return;
  first_[static_cast<unsigned char>(s[0])] = true;
  int32_t node = 0;
  for (unsigned char c : s) {
    uint64_t key = (static_cast<uint64_t>(node) << 8) | c;
    const int32_t *child = edges_.find(key);
    if (child) {
      node = *child;
    } else {
      int32_t fresh = static_cast<int32_t>(terminal_.size());
      terminal_.push_back(-1);
      edges_.set(key, fresh);
      node = fresh;
    }
  }
  terminal_[node] = tokenIndex; // a later duplicate wins
}

size_t TokenTrie::longestAt(std::string_view text, size_t pos, int32_t &tokenIndex) const {
  if (!first_[static_cast<unsigned char>(text[pos])])
    return 0;
  int32_t node = 0;
  size_t best = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]);
    const int32_t *child = edges_.find(key);
    if (!child)
      break;
    node = *child;
    if (terminal_[node] >= 0) {
      best = i + 1 - pos;
      tokenIndex = terminal_[node];
    }
  }
  return best;
}

//===----------------------------------------------------------------------===//
// Added-token splitting (AddedVocabulary::find_matches)
//===----------------------------------------------------------------------===//

namespace {
struct Span {
  size_t b, e;
  int32_t tok; // index into Impl::added, or -1 for plain text
};

void splitOnAdded(std::string_view s, const TokenTrie &trie,
                  const std::vector<AddedToken> &added, bool skipSpecial,
                  std::vector<Span> &out) {
  out.clear();
  size_t startOffset = 0, pos = 0;
  if (!trie.empty()) {
    while (pos < s.size()) {
      int32_t ti = -1;
      size_t len = trie.longestAt(s, pos, ti);
      if (len == 0) {
        ++pos;
        continue;
      }
      size_t start = pos, stop = pos + len;
      pos = stop;
      const AddedToken &t = added[ti];
      if (skipSpecial && t.special)
        continue;
      if (t.singleWord) {
        bool startOk = true, stopOk = true;
        if (start > 0) {
          size_t k = start - 1;
          while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80)
            --k;
          startOk = !isWordCodepoint(decodeCodepoint(s, k));
        }
        if (stop < s.size())
          stopOk = !isWordCodepoint(decodeCodepoint(s, stop));
        if (!startOk || !stopOk)
          continue;
      }
      if (t.lstrip) {
        size_t ns = start;
        while (ns > 0) {
          size_t k = ns - 1;
          while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80)
            --k;
          if (!isUnicodeWhitespace(decodeCodepoint(s, k)))
            break;
          ns = k;
        }
        start = std::max(ns, startOffset);
      }
      if (t.rstrip) {
        while (stop < s.size() && isUnicodeWhitespace(decodeCodepoint(s, stop)))
          stop += utf8Len(static_cast<unsigned char>(s[stop]));
        pos = std::max(pos, stop);
      }
      if (startOffset < start)
        out.push_back({startOffset, start, -1});
      out.push_back({start, stop, ti});
      startOffset = stop;
    }
  }
  if (startOffset < s.size() || out.empty())
    out.push_back({startOffset, s.size(), -1});
}

/// HF Pattern::find_matches for a literal pattern followed by
/// NormalizedString::split with `behavior`; returns [begin, end) pieces.
void splitLiteral(std::string_view s, std::string_view pat, SplitBehavior behavior,
                  std::vector<std::pair<size_t, size_t>> &out) {
  struct M {
    size_t b, e;
    bool match;
  };
  std::vector<M> ms;
  if (s.empty() || pat.empty()) {
    ms.push_back({0, s.size(), false});
  } else {
    size_t prev = 0;
    for (size_t hit = s.find(pat); hit != std::string_view::npos;
         hit = s.find(pat, hit + pat.size())) {
      if (prev != hit)
        ms.push_back({prev, hit, false});
      ms.push_back({hit, hit + pat.size(), true});
      prev = hit + pat.size();
    }
    if (prev != s.size())
      ms.push_back({prev, s.size(), false});
  }
  std::vector<std::pair<size_t, size_t>> acc;
  switch (behavior) {
  case SplitBehavior::Removed:
    for (const M &m : ms)
      if (!m.match)
        acc.push_back({m.b, m.e});
    break;
  case SplitBehavior::Isolated:
    for (const M &m : ms)
      acc.push_back({m.b, m.e});
    break;
  case SplitBehavior::MergedWithPrevious: {
    bool prevMatch = false;
    for (const M &m : ms) {
      if (m.match && !prevMatch && !acc.empty())
        acc.back().second = m.e;
      else
        acc.push_back({m.b, m.e});
      prevMatch = m.match;
    }
    break;
  }
  case SplitBehavior::MergedWithNext: {
    bool prevMatch = false;
    for (auto it = ms.rbegin(); it != ms.rend(); ++it) {
      if (it->match && !prevMatch && !acc.empty())
        acc.back().first = it->b;
      else
        acc.push_back({it->b, it->e});
      prevMatch = it->match;
    }
    std::reverse(acc.begin(), acc.end());
    break;
  }
  case SplitBehavior::Contiguous: {
    bool prevMatch = false;
    for (const M &m : ms) {
      if (m.match == prevMatch && !acc.empty())
        acc.back().second = m.e;
      else
        acc.push_back({m.b, m.e});
      prevMatch = m.match;
    }
    break;
  }
  }
  out.clear();
  for (auto &p : acc)
    if (p.first < p.second)
      out.push_back(p);
}
} // namespace
} // namespace detail

using namespace detail;

//===----------------------------------------------------------------------===//
// finalize
//===----------------------------------------------------------------------===//

void Tokenizer::Impl::finalize() {
  // id -> token (added tokens take precedence, like HF's id_to_token). The
  // loaders filled idToToken with the model vocabulary ("" = no token).
  int32_t maxId = static_cast<int32_t>(idToToken.size()) - 1;
  for (const AddedToken &t : added)
    maxId = std::max(maxId, t.id);
  idToToken.resize(static_cast<size_t>(maxId + 1));
  flags.assign(static_cast<size_t>(maxId + 1), 0);
  for (size_t i = 0; i < idToToken.size(); ++i)
    if (!idToToken[i].empty())
      flags[i] |= kExists;
  addedIds = StringIdMap();
  for (const AddedToken &t : added) {
    idToToken[t.id] = t.content;
    flags[t.id] |= kExists | kAdded;
    if (t.special)
      flags[t.id] |= kSpecial;
    addedIds.set(t.content, t.id);
  }

  // Byte-fallback tokens and single-code-point tokens of the model vocabulary.
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byteIds[b] = vocab.find(name);
  }
  charIds = U64Map<int32_t>();
  vocab.forEach([&](std::string_view t, int32_t id) {
    if (!t.empty() && t.size() <= 4 && utf8Len(static_cast<unsigned char>(t[0])) == t.size())
      charIds.set(decodeCodepoint(t, 0), id);
  });

  // Added-token tries: raw (normalized=false) and normalized.
  rawTrie.clear();
  normTrie.clear();
  normalizedAddedContent.assign(added.size(), std::string());
  for (size_t i = 0; i < added.size(); ++i) {
    const AddedToken &t = added[i];
    if (t.normalized) {
      normalizedAddedContent[i] = normalize(t.content, false);
      normTrie.insert(normalizedAddedContent[i], static_cast<int32_t>(i));
    } else {
      rawTrie.insert(t.content, static_cast<int32_t>(i));
    }
  }
}

//===----------------------------------------------------------------------===//
// normalize / pre-tokenize / BPE
//===----------------------------------------------------------------------===//

std::string Tokenizer::Impl::normalize(std::string_view s, bool atTextStart) const {
  std::string cur(s);
  for (const NormStep &n : normalizers) {
    switch (n.kind) {
    case NormStep::Replace:
      replaceAll(cur, n.pattern, n.content);
      break;
    case NormStep::Prepend:
      if (!cur.empty())
        cur.insert(0, n.content);
      break;
    case NormStep::PrependFirst:
      if (atTextStart && !cur.empty())
        cur.insert(0, n.content);
      break;
    case NormStep::RemoveExtraSpaces: {
      std::string out;
      out.reserve(cur.size());
      bool pendingSpace = false;
      for (char c : cur) {
        if (c == ' ') {
          pendingSpace = !out.empty();
          continue;
        }
        if (pendingSpace)
          out.push_back(' ');
        pendingSpace = false;
        out.push_back(c);
      }
      cur = std::move(out);
      break;
    }
    }
  }
  return cur;
}

void Tokenizer::Impl::preTokenize(std::string piece, bool atTextStart,
                                  std::vector<std::string> &out) const {
  out.clear();
  if (preTokenizers.empty()) {
    if (!piece.empty())
      out.push_back(std::move(piece));
    return;
  }
  struct P {
    std::string s;
    bool atStart;
  };
  std::vector<P> cur, next;
  cur.push_back({std::move(piece), atTextStart});
  std::vector<std::pair<size_t, size_t>> parts;
  for (const PreStep &step : preTokenizers) {
    next.clear();
    for (P &p : cur) {
      if (step.kind == PreStep::Split) {
        splitLiteral(p.s, step.pattern, step.behavior, parts);
        for (auto [b, e] : parts)
          next.push_back({p.s.substr(b, e - b), p.atStart && b == 0});
      } else { // Metaspace
        std::string s = p.s;
        replaceAll(s, " ", step.replacement);
        bool startsWithRep = s.compare(0, step.replacement.size(), step.replacement) == 0;
        if (!startsWithRep && (step.prepend == PrependScheme::Always ||
                               (step.prepend == PrependScheme::First && p.atStart)))
          s.insert(0, step.replacement);
        if (step.split) {
          splitLiteral(s, step.replacement, SplitBehavior::MergedWithNext, parts);
          for (auto [b, e] : parts)
            next.push_back({s.substr(b, e - b), p.atStart && b == 0});
        } else if (!s.empty()) {
          next.push_back({std::move(s), p.atStart});
        }
      }
    }
    std::swap(cur, next);
  }
  for (P &p : cur)
    if (!p.s.empty())
      out.push_back(std::move(p.s));
}

void Tokenizer::Impl::bpe(std::string_view w, std::vector<int32_t> &out) const {
  if (w.empty())
    return;
  if (ignoreMerges) {
    int32_t id = vocab.find(w);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  struct Sym {
    int32_t id;
    int32_t prev, next;
    bool alive;
  };
  std::vector<Sym> syms;
  syms.reserve(w.size());
  auto add = [&](int32_t id) {
    int32_t idx = static_cast<int32_t>(syms.size());
    syms.push_back({id, idx - 1, idx + 1, true});
  };
  const bool decorated = !contPrefix.empty() || !eowSuffix.empty();
  std::string scratch;
  bool unkPending = false;
  for (size_t i = 0; i < w.size();) {
    size_t clen = std::min(utf8Len(static_cast<unsigned char>(w[i])), w.size() - i);
    std::string_view ch = w.substr(i, clen);
    std::string_view key = ch;
    int32_t id;
    if (!decorated) {
      const int32_t *hit = charIds.find(decodeCodepoint(w, i));
      id = hit ? *hit : -1;
    } else {
      scratch.clear();
      if (i != 0)
        scratch += contPrefix;
      scratch += ch;
      if (i + clen == w.size())
        scratch += eowSuffix;
      key = scratch;
      id = vocab.find(key);
    }
    i += clen;
    if (id >= 0) {
      if (unkPending) {
        add(unkId);
        unkPending = false;
      }
      add(id);
      continue;
    }
    if (byteFallback) {
      bool all = true;
      for (unsigned char b : key)
        all = all && byteIds[b] >= 0;
      if (all) {
        // As in HF: byte tokens do not flush a pending (fused) unk.
        for (unsigned char b : key)
          add(byteIds[b]);
        continue;
      }
    }
    if (unkId < 0)
      throw TokenizerError(source + ": character '" + std::string(ch) +
                           "' is not in the vocabulary and there is no unk token");
    if (unkPending && fuseUnk)
      continue;
    if (unkPending)
      add(unkId);
    unkPending = true;
  }
  if (unkPending)
    add(unkId);
  if (syms.empty())
    return;
  syms.back().next = -1;

  struct Cand {
    uint32_t rank;
    int32_t pos;
    int32_t id;
  };
  struct Worse {
    bool operator()(const Cand &a, const Cand &b) const {
      return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    }
  };
  auto lookup = [&](int32_t l, int32_t r) -> const MergeVal * {
    return merges.find((static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) |
                       static_cast<uint32_t>(r));
  };
  std::vector<Cand> heapInit;
  heapInit.reserve(syms.size());
  for (size_t i = 0; i + 1 < syms.size(); ++i)
    if (const MergeVal *m = lookup(syms[i].id, syms[i + 1].id))
      heapInit.push_back({m->rank, static_cast<int32_t>(i), m->id});
  std::priority_queue<Cand, std::vector<Cand>, Worse> queue(Worse{}, std::move(heapInit));
  while (!queue.empty()) {
    Cand top = queue.top();
    queue.pop();
    Sym &cur = syms[top.pos];
    if (!cur.alive || cur.next < 0)
      continue;
    Sym &right = syms[cur.next];
    const MergeVal *m = lookup(cur.id, right.id);
    if (!m || m->id != top.id)
      continue; // stale
    cur.id = top.id;
    right.alive = false;
    cur.next = right.next;
    if (right.next >= 0)
      syms[right.next].prev = top.pos;
    if (cur.prev >= 0)
      if (const MergeVal *pm = lookup(syms[cur.prev].id, cur.id))
        queue.push({pm->rank, cur.prev, pm->id});
    if (cur.next >= 0)
      if (const MergeVal *nm = lookup(cur.id, syms[cur.next].id))
        queue.push({nm->rank, top.pos, nm->id});
  }
  for (const Sym &s : syms)
    if (s.alive)
      out.push_back(s.id);
}

//===----------------------------------------------------------------------===//
// encode / decode
//===----------------------------------------------------------------------===//

std::vector<int32_t> Tokenizer::Impl::encode(std::string_view text) const {
  validateUtf8(text, "input text");
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 8);
  std::vector<Span> spans, inner;
  std::vector<std::string> words;
  splitOnAdded(text, rawTrie, added, splitSpecialTokens, spans);
  for (const Span &sp : spans) {
    if (sp.tok >= 0) {
      out.push_back(added[sp.tok].id);
      continue;
    }
    if (sp.b == sp.e)
      continue;
    std::string norm = normalize(text.substr(sp.b, sp.e - sp.b), sp.b == 0);
    splitOnAdded(norm, normTrie, added, splitSpecialTokens, inner);
    for (const Span &in : inner) {
      if (in.tok >= 0) {
        out.push_back(added[in.tok].id);
        continue;
      }
      if (in.b == in.e)
        continue;
      preTokenize(norm.substr(in.b, in.e - in.b), sp.b == 0 && in.b == 0, words);
      for (const std::string &w : words)
        bpe(w, out);
    }
  }
  return out;
}

void Tokenizer::Impl::checkId(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= idToToken.size() || !(flags[id] & kExists))
    throw TokenizerError("token id " + std::to_string(id) + " is out of range (vocabulary of " +
                         std::to_string(idToToken.size()) + " ids in " + source + ")");
}

void Tokenizer::Impl::runDecoders(std::vector<std::string> &toks, size_t from, size_t to,
                                  std::vector<size_t> &seen) const {
  for (size_t k = from; k < to && k < decoders.size(); ++k) {
    const DecodeStep &d = decoders[k];
    size_t base = seen[k];
    seen[k] += toks.size();
    switch (d.kind) {
    case DecodeStep::Replace:
      for (std::string &t : toks)
        replaceAll(t, d.pattern, d.content);
      break;
    case DecodeStep::Fuse: {
      std::string all;
      for (const std::string &t : toks)
        all += t;
      toks.assign(1, std::move(all));
      break;
    }
    case DecodeStep::Strip:
      for (std::string &t : toks) {
        const std::string &c = d.content;
        size_t b = 0, e = t.size();
        for (size_t n = 0; n < d.start && !c.empty() && t.compare(b, c.size(), c) == 0; ++n)
          b += c.size();
        for (size_t n = 0; n < d.stop && !c.empty() && e >= b + c.size() &&
                           t.compare(e - c.size(), c.size(), c) == 0;
             ++n)
          e -= c.size();
        t = t.substr(b, e - b);
      }
      break;
    case DecodeStep::Metaspace:
      for (size_t i = 0; i < toks.size(); ++i) {
        bool dropAll = base + i == 0 && d.prepend != PrependScheme::Never;
        replaceAll(toks[i], d.replacement, dropAll ? "" : " ");
      }
      break;
    case DecodeStep::ByteFallback: {
      std::vector<std::string> res;
      res.reserve(toks.size());
      std::string run;
      size_t runLen = 0;
      auto flush = [&] {
        if (!runLen)
          return;
        bool valid = true;
        try {
          validateUtf8(run, "bytes");
        } catch (const TokenizerError &) {
          valid = false;
        }
        if (valid)
          res.push_back(run);
        else
          for (size_t i = 0; i < runLen; ++i)
            res.push_back("\xEF\xBF\xBD");
        run.clear();
        runLen = 0;
      };
      for (std::string &t : toks) {
        int b = parseByteToken(t);
        if (b >= 0) {
          run.push_back(static_cast<char>(b));
          ++runLen;
        } else {
          flush();
          res.push_back(std::move(t));
        }
      }
      flush();
      toks = std::move(res);
      break;
    }
    }
  }
}

std::string Tokenizer::Impl::decode(std::span<const int32_t> ids, bool showSpecial) const {
  std::vector<std::string> toks;
  toks.reserve(ids.size());
  for (int32_t id : ids) {
    checkId(id);
    if (!showSpecial && (flags[id] & kSpecial))
      continue;
    toks.push_back(idToToken[id]);
  }
  std::string out;
  if (!hasDecoder) {
    for (size_t i = 0; i < toks.size(); ++i) {
      if (i)
        out += ' ';
      out += toks[i];
    }
    return out;
  }
  std::vector<size_t> seen(decoders.size(), 0);
  runDecoders(toks, 0, decoders.size(), seen);
  for (const std::string &t : toks)
    out += t;
  return out;
}

//===----------------------------------------------------------------------===//
// Tokenizer
//===----------------------------------------------------------------------===//

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

static std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw TokenizerError("cannot read " + path + ": " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0)
    throw TokenizerError("cannot read " + path);
  std::string data(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(data.data(), size))
    throw TokenizerError("cannot read " + path + ": short read");
  return data;
}

static bool isDir(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

static bool isFile(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::unique_ptr<Tokenizer> Tokenizer::fromFile(const std::string &path) {
  std::string file = path;
  TokenizerFormat fmt = TokenizerFormat::Auto;
  if (isDir(path)) {
    std::string base = path;
    if (!base.empty() && base.back() != '/')
      base += '/';
    if (isFile(base + "tokenizer.json")) {
      file = base + "tokenizer.json";
      fmt = TokenizerFormat::HuggingFaceJson;
    } else if (isFile(base + "tokenizer.model")) {
      file = base + "tokenizer.model";
      fmt = TokenizerFormat::SentencePieceModel;
    } else {
      throw TokenizerError("no tokenizer.json or tokenizer.model in " + path);
    }
  } else if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    fmt = TokenizerFormat::HuggingFaceJson;
  } else if (path.size() >= 6 && path.compare(path.size() - 6, 6, ".model") == 0) {
    fmt = TokenizerFormat::SentencePieceModel;
  }
  std::string bytes = readFile(file);
  return fromMemory(bytes, fmt, file);
}

std::unique_ptr<Tokenizer> Tokenizer::fromMemory(std::string_view bytes, TokenizerFormat format,
                                                 std::string_view name) {
  std::string nm(name);
  if (format == TokenizerFormat::Auto) {
    size_t i = 0;
    while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' ||
                                bytes[i] == '\t'))
      ++i;
    format = i < bytes.size() && bytes[i] == '{' ? TokenizerFormat::HuggingFaceJson
                                                 : TokenizerFormat::SentencePieceModel;
  }
  std::unique_ptr<Impl> impl = format == TokenizerFormat::HuggingFaceJson
                                   ? loadHuggingFaceJson(bytes, nm)
                                   : loadSentencePieceModel(bytes, nm);
  impl->source = nm;
  impl->finalize();
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const { return impl_->encode(text); }

std::string Tokenizer::decode(std::span<const int32_t> ids, bool showSpecial) const {
  return impl_->decode(ids, showSpecial);
}

std::optional<int32_t> Tokenizer::tokenId(std::string_view token) const {
  int32_t id = impl_->addedIds.find(token);
  if (id >= 0)
    return id;
  id = impl_->vocab.find(token);
  if (id >= 0)
    return id;
  return std::nullopt;
}

std::string_view Tokenizer::tokenString(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->idToToken.size())
    return {};
  return impl_->idToToken[id];
}

bool Tokenizer::isSpecial(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->flags.size() &&
         (impl_->flags[id] & kSpecial);
}

bool Tokenizer::isAddedToken(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->flags.size() && (impl_->flags[id] & kAdded);
}

int32_t Tokenizer::vocabSize() const { return static_cast<int32_t>(impl_->idToToken.size()); }
int32_t Tokenizer::bosId() const { return impl_->bos; }
int32_t Tokenizer::eosId() const { return impl_->eos; }
int32_t Tokenizer::padId() const { return impl_->pad; }
int32_t Tokenizer::unkId() const { return impl_->unkId; }
const std::string &Tokenizer::source() const { return impl_->source; }

//===----------------------------------------------------------------------===//
// StreamDecoder
//===----------------------------------------------------------------------===//

StreamDecoder::StreamDecoder(const Tokenizer &tokenizer, bool showSpecial)
    : tok_(&tokenizer), showSpecial_(showSpecial) {
  const auto &ds = tok_->impl().decoders;
  fuseStep_ = ds.size();
  for (size_t k = 0; k < ds.size(); ++k)
    if (ds[k].kind == DecodeStep::Fuse) {
      fuseStep_ = k;
      break;
    }
  byteStep_ = fuseStep_;
  for (size_t k = 0; k < fuseStep_; ++k)
    if (ds[k].kind == DecodeStep::ByteFallback) {
      byteStep_ = k;
      break;
    }
  for (size_t k = fuseStep_ + 1; k < ds.size(); ++k) {
    if (ds[k].kind == DecodeStep::Fuse)
      continue;
    if (ds[k].kind != DecodeStep::Strip || ds[k].stop != 0)
      throw TokenizerError(tok_->source() +
                           ": streaming decode does not support this decoder chain "
                           "(only Strip without 'stop' may follow Fuse)");
  }
  reset();
}

void StreamDecoder::reset() {
  const auto &ds = tok_->impl().decoders;
  seen_.assign(ds.size(), 0);
  leadStrip_.assign(ds.size(), 0);
  for (size_t k = fuseStep_ + 1; k < ds.size(); ++k)
    if (ds[k].kind == DecodeStep::Strip)
      leadStrip_[k] = ds[k].start;
  pendingRun_.clear();
  emitted_ = 0;
}

std::string StreamDecoder::emit(std::vector<std::string> batch) {
  const Tokenizer::Impl &im = tok_->impl();
  im.runDecoders(batch, byteStep_, fuseStep_, seen_);
  std::string out;
  for (const std::string &t : batch)
    out += t;
  for (size_t k = fuseStep_ + 1; k < im.decoders.size(); ++k) {
    const DecodeStep &d = im.decoders[k];
    if (d.kind != DecodeStep::Strip || d.content.empty())
      continue;
    size_t b = 0;
    while (leadStrip_[k] > 0 && b < out.size()) {
      if (out.compare(b, d.content.size(), d.content) == 0) {
        b += d.content.size();
        --leadStrip_[k];
      } else {
        leadStrip_[k] = 0;
      }
    }
    out.erase(0, b);
  }
  return out;
}

std::string StreamDecoder::flushRun() {
  if (pendingRun_.empty())
    return {};
  std::vector<std::string> run = std::move(pendingRun_);
  pendingRun_.clear();
  return emit(std::move(run));
}

std::string StreamDecoder::push(int32_t id) {
  const Tokenizer::Impl &im = tok_->impl();
  im.checkId(id);
  if (!showSpecial_ && (im.flags[id] & kSpecial))
    return {};
  const std::string &tok = im.idToToken[id];
  if (!im.hasDecoder)
    return (emitted_++ ? " " : "") + tok;
  std::vector<std::string> one{tok};
  im.runDecoders(one, 0, byteStep_, seen_);
  bool hasByteFallback = byteStep_ < fuseStep_;
  if (hasByteFallback && parseByteToken(one[0]) >= 0) {
    pendingRun_.push_back(std::move(one[0]));
    return {};
  }
  std::string out = flushRun();
  out += emit(std::move(one));
  return out;
}

std::string StreamDecoder::finish() { return flushRun(); }

} // namespace gemma4rt
