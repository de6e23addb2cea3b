//===- HFTokenizerJson.cpp - read Hugging Face tokenizer.json -------------===//
//
// Only the parts listed in gemma4rt/tokenizer.h are accepted; everything else
// is rejected with a TokenizerError that names the file and the part, rather
// than tokenizing differently from Hugging Face.
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#include <nlohmann/json.hpp>

namespace gemma4rt {
namespace detail {
namespace {

using json = nlohmann::json;

struct Ctx {
  const std::string &name;
  [[noreturn]] void fail(const std::string &msg) const {
    throw TokenizerError(name + ": " + msg);
  }
};

const json *field(const json &o, const char *key) {
  if (!o.is_object())
    return nullptr;
  auto it = o.find(key);
  if (it == o.end() || it->is_null())
    return nullptr;
  return &*it;
}

std::string str(const Ctx &c, const json &o, const char *key, const char *where) {
  const json *v = field(o, key);
  if (!v || !v->is_string())
    c.fail(std::string(where) + ": missing string field '" + key + "'");
  return v->get<std::string>();
}

bool flag(const Ctx &c, const json &o, const char *key, bool dflt, const char *where) {
  const json *v = field(o, key);
  if (!v)
    return dflt;
  if (!v->is_boolean())
    c.fail(std::string(where) + ": field '" + key + "' must be a boolean");
  return v->get<bool>();
}

/// {"String": "x"} -> "x"; {"Regex": ...} is unsupported.
std::string pattern(const Ctx &c, const json &o, const char *where) {
  const json *p = field(o, "pattern");
  if (!p || !p->is_object())
    c.fail(std::string(where) + ": missing 'pattern'");
  if (const json *s = field(*p, "String"); s && s->is_string())
    return s->get<std::string>();
  if (field(*p, "Regex"))
    c.fail(std::string(where) + ": Regex patterns are not supported (only String)");
  c.fail(std::string(where) + ": malformed 'pattern'");
}

std::string oneChar(const Ctx &c, const json &o, const char *key, const char *where) {
  std::string s = str(c, o, key, where);
  if (s.empty() || utf8Len(static_cast<unsigned char>(s[0])) != s.size())
    c.fail(std::string(where) + ": '" + key + "' must be a single character");
  return s;
}

PrependScheme prependScheme(const Ctx &c, const json &o, const char *where) {
  if (const json *p = field(o, "prepend_scheme")) {
    std::string s = p->is_string() ? p->get<std::string>() : "";
    if (s == "always")
      return PrependScheme::Always;
    if (s == "first")
      return PrependScheme::First;
    if (s == "never")
      return PrependScheme::Never;
    c.fail(std::string(where) + ": unknown prepend_scheme '" + s + "'");
  }
  return flag(c, o, "add_prefix_space", true, where) ? PrependScheme::Always
                                                     : PrependScheme::Never;
}

void parseNormalizer(const Ctx &c, const json &n, std::vector<NormStep> &out) {
  std::string type = str(c, n, "type", "normalizer");
  if (type == "Sequence") {
    const json *list = field(n, "normalizers");
    if (!list || !list->is_array())
      c.fail("normalizer Sequence: missing 'normalizers' array");
    for (const json &x : *list)
      parseNormalizer(c, x, out);
  } else if (type == "Replace") {
    out.push_back({NormStep::Replace, pattern(c, n, "normalizer Replace"),
                   str(c, n, "content", "normalizer Replace")});
  } else if (type == "Prepend") {
    out.push_back({NormStep::Prepend, "", str(c, n, "prepend", "normalizer Prepend")});
  } else {
    c.fail("unsupported normalizer type '" + type + "'");
  }
}

SplitBehavior behavior(const Ctx &c, const std::string &b) {
  if (b == "Removed")
    return SplitBehavior::Removed;
  if (b == "Isolated")
    return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious")
    return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext")
    return SplitBehavior::MergedWithNext;
  if (b == "Contiguous")
    return SplitBehavior::Contiguous;
  c.fail("pre_tokenizer Split: unknown behavior '" + b + "'");
}

void parsePreTokenizer(const Ctx &c, const json &p, std::vector<PreStep> &out) {
  std::string type = str(c, p, "type", "pre_tokenizer");
  if (type == "Sequence") {
    const json *list = field(p, "pretokenizers");
    if (!list || !list->is_array())
      c.fail("pre_tokenizer Sequence: missing 'pretokenizers' array");
    for (const json &x : *list)
      parsePreTokenizer(c, x, out);
  } else if (type == "Split") {
    if (flag(c, p, "invert", false, "pre_tokenizer Split"))
      c.fail("pre_tokenizer Split: invert=true is not supported");
    PreStep s{PreStep::Split};
    s.pattern = pattern(c, p, "pre_tokenizer Split");
    s.behavior = behavior(c, str(c, p, "behavior", "pre_tokenizer Split"));
    out.push_back(std::move(s));
  } else if (type == "Metaspace") {
    PreStep s{PreStep::Metaspace};
    s.replacement = oneChar(c, p, "replacement", "pre_tokenizer Metaspace");
    s.prepend = prependScheme(c, p, "pre_tokenizer Metaspace");
    s.split = flag(c, p, "split", true, "pre_tokenizer Metaspace");
    out.push_back(std::move(s));
  } else {
    c.fail("unsupported pre_tokenizer type '" + type + "'");
  }
}

void parseDecoder(const Ctx &c, const json &d, std::vector<DecodeStep> &out) {
  std::string type = str(c, d, "type", "decoder");
  if (type == "Sequence") {
    const json *list = field(d, "decoders");
    if (!list || !list->is_array())
      c.fail("decoder Sequence: missing 'decoders' array");
    for (const json &x : *list)
      parseDecoder(c, x, out);
  } else if (type == "Replace") {
    DecodeStep s{DecodeStep::Replace};
    s.pattern = pattern(c, d, "decoder Replace");
    s.content = str(c, d, "content", "decoder Replace");
    out.push_back(std::move(s));
  } else if (type == "ByteFallback") {
    out.push_back(DecodeStep(DecodeStep::ByteFallback));
  } else if (type == "Fuse") {
    out.push_back(DecodeStep(DecodeStep::Fuse));
  } else if (type == "Strip") {
    DecodeStep s{DecodeStep::Strip};
    s.content = oneChar(c, d, "content", "decoder Strip");
    const json *st = field(d, "start"), *sp = field(d, "stop");
    if ((st && !st->is_number_unsigned()) || (sp && !sp->is_number_unsigned()))
      c.fail("decoder Strip: 'start'/'stop' must be non-negative integers");
    s.start = st ? st->get<size_t>() : 0;
    s.stop = sp ? sp->get<size_t>() : 0;
    out.push_back(std::move(s));
  } else if (type == "Metaspace") {
    DecodeStep s{DecodeStep::Metaspace};
    s.replacement = oneChar(c, d, "replacement", "decoder Metaspace");
    s.prepend = prependScheme(c, d, "decoder Metaspace");
    out.push_back(std::move(s));
  } else {
    c.fail("unsupported decoder type '" + type + "'");
  }
}

int32_t idValue(const Ctx &c, const json &v, const std::string &what) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0)
    c.fail(what + ": id must be a non-negative integer");
  if (v.get<int64_t>() > kMaxTokenId)
    c.fail(what + ": id " + std::to_string(v.get<int64_t>()) + " exceeds the limit " +
           std::to_string(kMaxTokenId));
  return static_cast<int32_t>(v.get<int64_t>());
}

/// A minimal JSON scanner. tokenizer.json is ~33 MB, almost all of it
/// model.vocab and model.merges: those two are streamed straight into the
/// tokenizer's tables; every other value is cut out as raw text and handed to
/// nlohmann::json. (A full nlohmann DOM of the file costs ~1 s.)
class Scanner {
public:
  Scanner(std::string_view text, const Ctx &c) : b_(text.data()), p_(b_), e_(b_ + text.size()), c_(c) {}

  [[noreturn]] void fail(const std::string &what) const {
    c_.fail("not valid JSON at byte " + std::to_string(p_ - b_) + ": " + what);
  }
  void ws() {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
      ++p_;
  }
  bool atEnd() {
    ws();
    return p_ == e_;
  }
  bool consume(char ch) {
    ws();
    if (p_ < e_ && *p_ == ch) {
      ++p_;
      return true;
    }
    return false;
  }
  void expect(char ch) {
    if (!consume(ch))
      fail(std::string("expected '") + ch + "'");
  }
  bool peek(char ch) {
    ws();
    return p_ < e_ && *p_ == ch;
  }

  /// Reads a string (unescaped) into `out`.
  void string(std::string &out) {
    out.clear();
    expect('"');
    const char *run = p_;
    while (true) {
      if (p_ >= e_)
        fail("unterminated string");
      char ch = *p_;
      if (ch == '"') {
        out.append(run, p_);
        ++p_;
        return;
      }
      if (static_cast<unsigned char>(ch) < 0x20)
        fail("control character in string");
      if (ch != '\\') {
        ++p_;
        continue;
      }
      out.append(run, p_);
      if (++p_ >= e_)
        fail("unterminated escape");
      switch (*p_++) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = hex4();
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (e_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u')
            fail("unpaired surrogate");
          p_ += 2;
          uint32_t lo = hex4();
          if (lo < 0xDC00 || lo > 0xDFFF)
            fail("unpaired surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail("unpaired surrogate");
        }
        appendUtf8(out, cp);
        break;
      }
      default:
        fail("bad escape");
      }
      run = p_;
    }
  }

  int64_t integer() {
    ws();
    const char *s = p_;
    bool neg = p_ < e_ && *p_ == '-';
    if (neg)
      ++p_;
    int64_t v = 0;
    const char *digits = p_;
    while (p_ < e_ && *p_ >= '0' && *p_ <= '9' && p_ - digits < 18)
      v = v * 10 + (*p_++ - '0');
    if (p_ == digits || (p_ < e_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E' ||
                                    (*p_ >= '0' && *p_ <= '9')))) {
      p_ = s;
      fail("expected an integer");
    }
    return neg ? -v : v;
  }

  /// Skips one value and returns its raw text.
  std::string_view skipValue() {
    ws();
    const char *s = p_;
    if (p_ >= e_)
      fail("expected a value");
    if (*p_ == '"') {
      skipString();
    } else if (*p_ == '{' || *p_ == '[') {
      int depth = 0;
      do {
        if (p_ >= e_)
          fail("unterminated object or array");
        char ch = *p_;
        if (ch == '"') {
          skipString();
          continue;
        }
        if (ch == '{' || ch == '[')
          ++depth;
        else if (ch == '}' || ch == ']')
          --depth;
        ++p_;
      } while (depth > 0);
    } else {
      while (p_ < e_ && *p_ != ',' && *p_ != '}' && *p_ != ']' && *p_ != ' ' && *p_ != '\n' &&
             *p_ != '\r' && *p_ != '\t')
        ++p_;
    }
    return std::string_view(s, static_cast<size_t>(p_ - s));
  }

  json value() {
    std::string_view raw = skipValue();
    try {
      return json::parse(raw.begin(), raw.end());
    } catch (const json::exception &ex) {
      c_.fail(std::string("not valid JSON (") + ex.what() + ")");
    }
  }

private:
  void skipString() {
    ++p_; // opening quote
    while (true) {
      if (p_ >= e_)
        fail("unterminated string");
      if (*p_ == '\\')
        p_ += 2;
      else if (*p_++ == '"')
        return;
    }
  }
  uint32_t hex4() {
    if (e_ - p_ < 4)
      fail("bad \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char ch = *p_++;
      int d = (ch >= '0' && ch <= '9')   ? ch - '0'
              : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
              : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                         : -1;
      if (d < 0)
        fail("bad \\u escape");
      v = v * 16 + static_cast<uint32_t>(d);
    }
    return v;
  }
  static void appendUtf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  const char *b_, *p_, *e_;
  const Ctx &c_;
};

/// model.merges, kept as strings until the whole model object is read
/// (continuing_subword_prefix may come after it).
struct RawMerges {
  std::string arena;
  std::vector<uint32_t> ends; // 2 per merge: end of a, end of b
  std::string_view get(size_t k) const {
    uint32_t b = k == 0 ? 0 : ends[k - 1];
    return std::string_view(arena).substr(b, ends[k] - b);
  }
};

} // namespace

std::unique_ptr<Tokenizer::Impl> loadHuggingFaceJson(std::string_view bytes,
                                                     const std::string &name) {
  Ctx c{name};
  auto impl = std::make_unique<Tokenizer::Impl>();
  Tokenizer::Impl &t = *impl;

  // ---- scan: model.vocab / model.merges streamed, the rest as json ----
  try {
    validateUtf8(bytes, "the file");
  } catch (const TokenizerError &e) {
    c.fail(e.what());
  }
  Scanner sc(bytes, c);
  if (!sc.peek('{'))
    c.fail("not a tokenizer.json (top level is not a JSON object)");
  json j = json::object();
  json modelRest = json::object();
  bool haveModel = false, haveVocab = false, haveMerges = false;
  RawMerges raw;
  std::string key, a, b; // scratch for the scan
  sc.expect('{');
  if (!sc.consume('}')) {
    do {
      sc.string(key);
      sc.expect(':');
      if (key != "model") {
        j[key] = sc.value();
        continue;
      }
      if (!sc.peek('{')) {
        j[key] = sc.value();
        continue;
      }
      haveModel = true;
      sc.expect('{');
      if (sc.consume('}'))
        continue;
      do {
        sc.string(key);
        sc.expect(':');
        if (key == "vocab" && sc.peek('{')) {
          haveVocab = true;
          sc.expect('{');
          if (!sc.consume('}')) {
            do {
              sc.string(a);
              sc.expect(':');
              int64_t id = sc.integer();
              if (id < 0)
                c.fail("model.vocab entry '" + a + "': id must be a non-negative integer");
              if (id > kMaxTokenId)
                c.fail("model.vocab entry '" + a + "': id " + std::to_string(id) +
                       " exceeds the limit " + std::to_string(kMaxTokenId));
              t.vocab.set(a, static_cast<int32_t>(id));
              if (static_cast<size_t>(id) >= t.idToToken.size())
                t.idToToken.resize(static_cast<size_t>(id) + 1);
              t.idToToken[id] = a;
            } while (sc.consume(','));
            sc.expect('}');
          }
        } else if (key == "merges" && sc.peek('[')) {
          haveMerges = true;
          sc.expect('[');
          if (!sc.consume(']')) {
            do {
              size_t k = raw.ends.size() / 2;
              if (sc.peek('"')) {
                sc.string(a);
                size_t sp = a.find(' ');
                if (sp == std::string::npos || a.find(' ', sp + 1) != std::string::npos)
                  c.fail("model.merges[" + std::to_string(k) + "]: '" + a +
                         "' is not of the form \"a b\"");
                raw.arena.append(a, 0, sp);
                raw.ends.push_back(static_cast<uint32_t>(raw.arena.size()));
                raw.arena.append(a, sp + 1, std::string::npos);
                raw.ends.push_back(static_cast<uint32_t>(raw.arena.size()));
              } else if (sc.consume('[')) {
                if (!sc.peek('"'))
                  c.fail("model.merges[" + std::to_string(k) +
                         "]: expected \"a b\" or [\"a\", \"b\"]");
                sc.string(a);
                sc.expect(',');
                if (!sc.peek('"'))
                  c.fail("model.merges[" + std::to_string(k) +
                         "]: expected \"a b\" or [\"a\", \"b\"]");
                sc.string(b);
                if (!sc.consume(']'))
                  c.fail("model.merges[" + std::to_string(k) +
                         "]: expected \"a b\" or [\"a\", \"b\"]");
                raw.arena += a;
                raw.ends.push_back(static_cast<uint32_t>(raw.arena.size()));
                raw.arena += b;
                raw.ends.push_back(static_cast<uint32_t>(raw.arena.size()));
              } else {
                c.fail("model.merges[" + std::to_string(k) +
                       "]: expected \"a b\" or [\"a\", \"b\"]");
              }
            } while (sc.consume(','));
            sc.expect(']');
          }
        } else {
          modelRest[key] = sc.value();
        }
      } while (sc.consume(','));
      sc.expect('}');
    } while (sc.consume(','));
    sc.expect('}');
  }
  if (!sc.atEnd())
    sc.fail("trailing characters after the top-level object");
  if (!haveModel)
    c.fail("not a tokenizer.json (no 'model' object)");
  const json *model = &modelRest;

  // ---- model ----
  std::string type = field(*model, "type") ? str(c, *model, "type", "model") : "BPE";
  if (type != "BPE")
    c.fail("unsupported model type '" + type + "' (only BPE)");
  if (const json *d = field(*model, "dropout"); d && d->is_number() && d->get<double>() > 0)
    c.fail("model: BPE dropout is not supported");
  t.byteFallback = flag(c, *model, "byte_fallback", false, "model");
  t.fuseUnk = flag(c, *model, "fuse_unk", false, "model");
  t.ignoreMerges = flag(c, *model, "ignore_merges", false, "model");
  if (const json *p = field(*model, "continuing_subword_prefix"))
    t.contPrefix = p->is_string() ? p->get<std::string>() : "";
  if (const json *p = field(*model, "end_of_word_suffix"))
    t.eowSuffix = p->is_string() ? p->get<std::string>() : "";
  if (!haveVocab)
    c.fail("model: missing 'vocab' object");
  if (!haveMerges)
    c.fail("model: missing 'merges' array");

  if (const json *unk = field(*model, "unk_token")) {
    if (!unk->is_string())
      c.fail("model: 'unk_token' must be a string");
    t.unkId = t.vocab.find(unk->get<std::string>());
    if (t.unkId < 0)
      c.fail("model: unk_token '" + unk->get<std::string>() + "' is not in the vocabulary");
  }

  size_t nMerges = raw.ends.size() / 2;
  t.merges.reserve(nMerges);
  std::string joined;
  for (size_t k = 0; k < nMerges; ++k) {
    std::string_view ma = raw.get(2 * k), mb = raw.get(2 * k + 1);
    auto rank = static_cast<uint32_t>(k);
    int32_t ia = t.vocab.find(ma), ib = t.vocab.find(mb);
    if (ia < 0 || ib < 0)
      c.fail("model.merges[" + std::to_string(rank) + "]: token '" +
             std::string(ia < 0 ? ma : mb) + "' is not in the vocabulary");
    joined = ma;
    if (!t.contPrefix.empty() && mb.substr(0, t.contPrefix.size()) == t.contPrefix)
      joined.append(mb.substr(t.contPrefix.size()));
    else
      joined.append(mb);
    int32_t id = t.vocab.find(joined);
    if (id < 0)
      c.fail("model.merges[" + std::to_string(rank) + "]: merged token '" + joined +
             "' is not in the vocabulary");
    t.merges.set((static_cast<uint64_t>(static_cast<uint32_t>(ia)) << 32) |
                     static_cast<uint32_t>(ib),
                 MergeVal{rank, id});
  }

  // ---- added tokens ----
  if (const json *addedList = field(j, "added_tokens")) {
    if (!addedList->is_array())
      c.fail("'added_tokens' must be an array");
    for (const json &entry : *addedList) {
      AddedToken at;
      if (!field(entry, "id"))
        c.fail("added_tokens: entry without 'id'");
      at.id = idValue(c, entry["id"], "added_tokens entry");
      at.content = str(c, entry, "content", "added_tokens entry");
      if (at.content.empty())
        c.fail("added_tokens: empty 'content' for id " + std::to_string(at.id));
      validateUtf8(at.content, name + " added token");
      at.special = flag(c, entry, "special", false, "added_tokens entry");
      at.normalized = flag(c, entry, "normalized", !at.special, "added_tokens entry");
      at.lstrip = flag(c, entry, "lstrip", false, "added_tokens entry");
      at.rstrip = flag(c, entry, "rstrip", false, "added_tokens entry");
      at.singleWord = flag(c, entry, "single_word", false, "added_tokens entry");
      t.added.push_back(std::move(at));
    }
  }

  // ---- pipeline ----
  if (const json *n = field(j, "normalizer"))
    parseNormalizer(c, *n, t.normalizers);
  if (const json *p = field(j, "pre_tokenizer"))
    parsePreTokenizer(c, *p, t.preTokenizers);
  if (const json *d = field(j, "decoder")) {
    t.hasDecoder = true;
    parseDecoder(c, *d, t.decoders);
  }

  // ---- well-known ids ----
  auto lookup = [&](std::initializer_list<const char *> names) -> int32_t {
    for (const char *nm : names) {
      for (const AddedToken &tokn : t.added)
        if (tokn.content == nm)
          return tokn.id;
      if (int32_t id = t.vocab.find(nm); id >= 0)
        return id;
    }
    return -1;
  };
  // BOS: the special token the post-processor puts before sequence A.
  if (const json *pp = field(j, "post_processor");
      pp && pp->is_object() && pp->value("type", "") == "TemplateProcessing") {
    const json *single = field(*pp, "single");
    const json *specials = field(*pp, "special_tokens");
    if (single && single->is_array() && !single->empty() && specials) {
      const json &first = (*single)[0];
      if (const json *st = field(first, "SpecialToken")) {
        std::string name0 = st->value("id", "");
        if (const json *spec = field(*specials, name0.c_str()))
          if (const json *ids = field(*spec, "ids");
              ids && ids->is_array() && ids->size() == 1 && (*ids)[0].is_number_integer())
            t.bos = (*ids)[0].get<int32_t>();
      }
    }
  }
  if (t.bos < 0)
    t.bos = lookup({"<bos>", "<s>"});
  t.eos = lookup({"<eos>", "</s>"});
  t.pad = lookup({"<pad>"});
  return impl;
}

} // namespace detail
} // namespace gemma4rt
