//===- TokenizerTest.cpp - tokenizer on the tiny fixtures -----------------===//
//
// Fast tests on test/fixtures/tokenizer/tiny* (written by
// make_tiny_tokenizers.py): BPE, added tokens, pipeline variants built in
// memory from the tiny tokenizer.json, SentencePiece parity, decoding,
// streaming and errors. The real Gemma tokenizer is exercised by
// TokenizerGoldensTest.cpp.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using gemma4rt::StreamDecoder;
using gemma4rt::Tokenizer;
using gemma4rt::TokenizerError;
using gemma4rt::TokenizerFormat;
using json = nlohmann::json;

namespace {

std::string fixture(const std::string &rel) {
  return std::string(GEMMA4C_TEST_DIR) + "/fixtures/tokenizer/" + rel;
}

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json tinyJson() { return json::parse(slurp(fixture("tiny/tokenizer.json"))); }

std::unique_ptr<Tokenizer> fromJson(const json &j) {
  return Tokenizer::fromMemory(j.dump(), TokenizerFormat::HuggingFaceJson, "test.json");
}

std::vector<std::string> pieces(const Tokenizer &t, std::string_view text) {
  std::vector<std::string> out;
  for (int32_t id : t.encode(text))
    out.emplace_back(t.tokenString(id));
  return out;
}

using Pieces = std::vector<std::string>;

/// Runs `f` and returns the TokenizerError message ("" if none was thrown).
template <typename F> std::string errorOf(F &&f) {
  try {
    f();
  } catch (const TokenizerError &e) {
    return e.what();
  }
  return "";
}

bool validUtf8(const std::string &s) {
  // encode() validates its input before anything else.
  static auto t = Tokenizer::fromFile(fixture("tiny/tokenizer.json"));
  return errorOf([&] { t->encode(s); }).empty();
}

class TinyTokenizer : public ::testing::Test {
protected:
  static void SetUpTestSuite() { tok = Tokenizer::fromFile(fixture("tiny/tokenizer.json")); }
  static void TearDownTestSuite() { tok.reset(); }
  static std::unique_ptr<Tokenizer> tok;
};
std::unique_ptr<Tokenizer> TinyTokenizer::tok;

} // namespace

TEST_F(TinyTokenizer, WellKnownIds) {
  EXPECT_EQ(tok->vocabSize(), 308);
  EXPECT_EQ(tok->bosId(), 2);
  EXPECT_EQ(tok->eosId(), 1);
  EXPECT_EQ(tok->padId(), 0);
  EXPECT_EQ(tok->unkId(), 3);
  EXPECT_EQ(tok->tokenId("<start_of_turn>"), 5);
  EXPECT_EQ(tok->tokenId("hello"), 300);
  EXPECT_FALSE(tok->tokenId("nope").has_value());
  EXPECT_TRUE(tok->isSpecial(5));
  EXPECT_FALSE(tok->isSpecial(4)); // <mask>: added, not special
  EXPECT_TRUE(tok->isAddedToken(4));
  EXPECT_EQ(tok->tokenString(10), "<0x00>");
  EXPECT_EQ(tok->tokenString(100000), "");
}

TEST_F(TinyTokenizer, BpeMergesByRankThenPosition) {
  EXPECT_EQ(pieces(*tok, "hello world"), (Pieces{"hello", "\xE2\x96\x81world"}));
  // "b c" outranks "a b".
  EXPECT_EQ(pieces(*tok, "abc"), (Pieces{"a", "bc"}));
  EXPECT_EQ(pieces(*tok, "Hello"), (Pieces{"H", "e", "ll", "o"}));
  // "▁ ▁" (rank 1) merges leftmost first, then "▁t he".
  EXPECT_EQ(pieces(*tok, "   the"), (Pieces{"\xE2\x96\x81\xE2\x96\x81", "\xE2\x96\x81the"}));
  EXPECT_EQ(pieces(*tok, "singing"), (Pieces{"s", "ing", "ing"}));
  EXPECT_TRUE(tok->encode("").empty());
}

TEST_F(TinyTokenizer, ByteFallback) {
  // 本 is not in the vocabulary: its three UTF-8 bytes.
  EXPECT_EQ(pieces(*tok, "日本"), (Pieces{"日", "<0xE6>", "<0x9C>", "<0xAC>"}));
  EXPECT_EQ(pieces(*tok, "x"), (Pieces{"<0x78>"}));
  EXPECT_EQ(tok->decode(tok->encode("日本 x\x01")), "日本 x\x01");
}

TEST_F(TinyTokenizer, AddedTokensMatchedLeftmostLongestBeforeNormalization) {
  EXPECT_EQ(pieces(*tok, "<start_of_turn>user\n"),
            (Pieces{"<start_of_turn>", "u", "s", "e", "r", "\n"}));
  EXPECT_EQ(pieces(*tok, "a\n\n\nb"), (Pieces{"a", "\n\n", "\n", "b"}));
  // A literal "▁▁" in the input is the added token; two spaces become it via BPE.
  EXPECT_EQ(tok->encode("\xE2\x96\x81\xE2\x96\x81"), std::vector<int32_t>{9});
  EXPECT_EQ(tok->encode("  "), std::vector<int32_t>{9});
  // Partial markers are plain text.
  EXPECT_EQ(pieces(*tok, "<start_of"), (Pieces{"<0x3C>", "s", "t", "a", "r", "t", "<0x5F>", "o",
                                               "<0x66>"}));
  EXPECT_EQ(tok->encode("<bos>hello<eos>"), (std::vector<int32_t>{2, 300, 1}));
}

TEST_F(TinyTokenizer, DecodeShowsOrHidesSpecialTokens) {
  std::vector<int32_t> ids{2, 5, 300, 303, 4, 6, 1};
  EXPECT_EQ(tok->decode(ids, true), "<bos><start_of_turn>hello world<mask><end_of_turn><eos>");
  EXPECT_EQ(tok->decode(ids, false), "hello world<mask>");
}

TEST_F(TinyTokenizer, DecodeByteRunsLikeHuggingFace) {
  auto id = [&](const char *t) { return *tok->tokenId(t); };
  // A valid run is joined.
  EXPECT_EQ(tok->decode(std::vector<int32_t>{id("<0xC3>"), id("<0xA9>")}), "é");
  // An invalid run becomes one U+FFFD per byte (HF ByteFallback), even when a
  // prefix of it is valid.
  EXPECT_EQ(tok->decode(std::vector<int32_t>{id("<0xE6>"), id("<0x9C>"), id("a")}),
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "a");
  EXPECT_EQ(tok->decode(std::vector<int32_t>{id("<0x41>"), id("<0xE6>")}),
            "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_F(TinyTokenizer, RoundTrips) {
  for (const char *s : {"hello world", "  leading and trailing  ", "a\tb\n\nc", "日本語 é",
                        "<start_of_turn>user\nhi<end_of_turn>\n", "\xF0\x9F\x98\x80 emoji"})
    EXPECT_EQ(tok->decode(tok->encode(s)), s) << s;
}

TEST_F(TinyTokenizer, RejectsInvalidUtf8AndBadIds) {
  EXPECT_NE(errorOf([&] { tok->encode("ok\xFF"); }).find("invalid UTF-8"), std::string::npos);
  EXPECT_NE(errorOf([&] { tok->encode("\xC0\x80"); }).find("invalid UTF-8"), std::string::npos);
  EXPECT_NE(errorOf([&] { tok->encode("\xED\xA0\x80"); }).find("invalid UTF-8"),
            std::string::npos); // surrogate
  EXPECT_NE(errorOf([&] { tok->encode("\xE6\x97"); }).find("byte offset 0"), std::string::npos);
  EXPECT_NE(errorOf([&] { tok->decode(std::vector<int32_t>{308}); }).find("out of range"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { tok->decode(std::vector<int32_t>{-1}); }).find("out of range"),
            std::string::npos);
}

TEST_F(TinyTokenizer, EncodesAMegabyteWithoutSeparators) {
  // One 1 MiB pre-token (no spaces, newlines or added tokens): the heap-based
  // BPE must stay O(n log n).
  std::string text;
  while (text.size() < (1u << 20))
    text += "hellowingabc";
  auto ids = tok->encode(text);
  EXPECT_EQ(ids.size(), text.size() / 12 * 5); // hello w ing a bc
  EXPECT_EQ(tok->decode(ids), text);
}

//===----------------------------------------------------------------------===//
// SentencePiece tokenizer.model
//===----------------------------------------------------------------------===//

TEST(TokenizerSentencePiece, MatchesTheTokenizerJson) {
  auto js = Tokenizer::fromFile(fixture("tiny/tokenizer.json"));
  auto sp = Tokenizer::fromFile(fixture("tiny-sp")); // directory with tokenizer.model
  EXPECT_EQ(sp->vocabSize(), js->vocabSize());
  EXPECT_EQ(sp->bosId(), 2);
  EXPECT_EQ(sp->eosId(), 1);
  EXPECT_EQ(sp->padId(), 0);
  EXPECT_EQ(sp->unkId(), 3);
  EXPECT_TRUE(sp->isSpecial(5));
  EXPECT_FALSE(sp->isSpecial(4));
  for (const char *s : {"hello world", "abc", "   the", "singing", "日本 x", "a\n\n\nb",
                        "<start_of_turn>user\nhello<end_of_turn>\n", "Hello, world!", "",
                        "\t\t  tabs", "<bos>x<eos>"}) {
    auto ids = js->encode(s);
    EXPECT_EQ(sp->encode(s), ids) << s;
    EXPECT_EQ(sp->decode(ids, true), js->decode(ids, true)) << s;
    EXPECT_EQ(sp->decode(ids, false), js->decode(ids, false)) << s;
  }
}

TEST(TokenizerSentencePiece, RejectsCorruptModels) {
  EXPECT_NE(errorOf([] {
              Tokenizer::fromMemory(std::string("\x0a\xff\xff\xff", 4),
                                    TokenizerFormat::SentencePieceModel, "bad.model");
            }).find("bad.model: not a SentencePiece model"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              Tokenizer::fromMemory("", TokenizerFormat::SentencePieceModel, "empty.model");
            }).find("empty.model"),
            std::string::npos);
  // A model of another type (UNIGRAM = 1): trainer_spec{model_type: 1} plus one piece.
  std::string unigram = std::string("\x0a\x03\x0a\x01", 4) + "a" + std::string("\x12\x02\x18\x01", 4);
  EXPECT_NE(errorOf([&] {
              Tokenizer::fromMemory(unigram, TokenizerFormat::SentencePieceModel, "u.model");
            }).find("UNIGRAM"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// tokenizer.json variants
//===----------------------------------------------------------------------===//

TEST(TokenizerJson, MergesAsArraysEqualMergesAsStrings) {
  json j = tinyJson();
  json arr = json::array();
  for (const json &m : j["model"]["merges"]) {
    std::string s = m.get<std::string>();
    size_t sp = s.find(' ');
    arr.push_back(json::array({s.substr(0, sp), s.substr(sp + 1)}));
  }
  j["model"]["merges"] = arr;
  auto a = fromJson(j);
  auto b = Tokenizer::fromFile(fixture("tiny/tokenizer.json"));
  for (const char *s : {"hello world", "abc", "   the", "singing"})
    EXPECT_EQ(a->encode(s), b->encode(s)) << s;
}

TEST(TokenizerJson, IgnoreMerges) {
  json j = tinyJson();
  j["model"]["vocab"]["cab"] = 400;
  auto plain = fromJson(j);
  EXPECT_EQ(pieces(*plain, "cab"), (Pieces{"c", "ab"}));
  j["model"]["ignore_merges"] = true;
  auto ignoring = fromJson(j);
  EXPECT_EQ(pieces(*ignoring, "cab"), (Pieces{"cab"}));
  EXPECT_EQ(pieces(*ignoring, "abc"), (Pieces{"a", "bc"}));
}

TEST(TokenizerJson, UnknownTokensWithoutByteFallback) {
  json j = tinyJson();
  j["model"]["byte_fallback"] = false;
  auto fused = fromJson(j);
  EXPECT_EQ(pieces(*fused, "axxa"), (Pieces{"a", "<unk>", "a"}));
  j["model"]["fuse_unk"] = false;
  auto unfused = fromJson(j);
  EXPECT_EQ(pieces(*unfused, "axxa"), (Pieces{"a", "<unk>", "<unk>", "a"}));
  j["model"].erase("unk_token");
  auto none = fromJson(j);
  EXPECT_NE(errorOf([&] { none->encode("x"); }).find("not in the vocabulary"), std::string::npos);
}

TEST(TokenizerJson, AddedTokenStripAndSingleWord) {
  json j = tinyJson();
  for (json &a : j["added_tokens"])
    if (a["content"] == "<mask>")
      a["lstrip"] = a["rstrip"] = true;
  auto strip = fromJson(j);
  EXPECT_EQ(pieces(*strip, "a <mask> b"), (Pieces{"a", "<mask>", "b"}));
  auto plain = Tokenizer::fromFile(fixture("tiny/tokenizer.json"));
  EXPECT_EQ(pieces(*plain, "a <mask> b"),
            (Pieces{"a", "\xE2\x96\x81", "<mask>", "\xE2\x96\x81", "b"}));

  j = tinyJson();
  for (json &a : j["added_tokens"])
    if (a["content"] == "<mask>")
      a["single_word"] = true;
  auto single = fromJson(j);
  auto ids = single->encode("a<mask>");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 4), 0);
  EXPECT_EQ(pieces(*single, "a <mask>"), (Pieces{"a", "\xE2\x96\x81", "<mask>"}));
}

TEST(TokenizerJson, NormalizedAddedTokenMatchesAfterNormalization) {
  json j = tinyJson();
  j["added_tokens"].push_back({{"id", 400}, {"content", " w"}, {"single_word", false},
                               {"lstrip", false}, {"rstrip", false}, {"normalized", true},
                               {"special", false}});
  auto t = fromJson(j);
  EXPECT_EQ(pieces(*t, "hello world"), (Pieces{"hello", " w", "or", "l", "d"}));
  EXPECT_EQ(t->decode(t->encode("hello world")), "hello world");
}

TEST(TokenizerJson, SplitBehaviors) {
  auto with = [](const char *behavior) {
    json j = tinyJson();
    j["pre_tokenizer"] = {{"type", "Split"},
                          {"pattern", {{"String", "\xE2\x96\x81"}}},
                          {"behavior", behavior},
                          {"invert", false}};
    return fromJson(j);
  };
  const std::string m = "\xE2\x96\x81";
  EXPECT_EQ(pieces(*with("MergedWithPrevious"), "hello world"),
            (Pieces{"hello", m, "w", "or", "l", "d"}));
  EXPECT_EQ(pieces(*with("MergedWithNext"), "hello world"), (Pieces{"hello", m + "world"}));
  EXPECT_EQ(pieces(*with("Removed"), "hello world"), (Pieces{"hello", "w", "or", "l", "d"}));
  EXPECT_EQ(pieces(*with("Isolated"), "a  b"), (Pieces{"a", m, m, "b"}));
  EXPECT_EQ(pieces(*with("Contiguous"), "a  b"), (Pieces{"a", m + m, "b"}));
  // MergedWithPrevious: only the first of consecutive matches joins the word.
  EXPECT_EQ(pieces(*with("MergedWithPrevious"), "a  b"), (Pieces{"a", m, m, "b"}));
}

TEST(TokenizerJson, MetaspacePipeline) {
  json j = tinyJson();
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"},
                        {"prepend_scheme", "first"}, {"split", true}};
  j["decoder"] = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"},
                  {"prepend_scheme", "first"}, {"split", true}};
  auto t = fromJson(j);
  EXPECT_EQ(pieces(*t, "hello world"), (Pieces{"\xE2\x96\x81", "hello", "\xE2\x96\x81world"}));
  // "first": no prefix after an added token.
  EXPECT_EQ(pieces(*t, "<bos>hello"), (Pieces{"<bos>", "hello"}));
  EXPECT_EQ(t->decode(t->encode("hello world")), "hello world");
  StreamDecoder sd(*t, true);
  std::string streamed;
  for (int32_t id : t->encode("hello world"))
    streamed += sd.push(id);
  streamed += sd.finish();
  EXPECT_EQ(streamed, "hello world");
}

TEST(TokenizerJson, StripDecoderAfterFuse) {
  json j = tinyJson();
  j["decoder"]["decoders"].push_back(
      {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  auto t = fromJson(j);
  auto ids = t->encode("  hello world");
  EXPECT_EQ(t->decode(ids), " hello world");
  StreamDecoder sd(*t, false);
  std::string streamed;
  for (int32_t id : ids)
    streamed += sd.push(id);
  EXPECT_EQ(streamed + sd.finish(), " hello world");
}

TEST(TokenizerJson, NoDecoderJoinsWithSpaces) {
  json j = tinyJson();
  j.erase("decoder");
  auto t = fromJson(j);
  EXPECT_EQ(t->decode(std::vector<int32_t>{300, 303}), "hello \xE2\x96\x81world");
}

TEST(TokenizerJson, RejectsCorruptOrUnsupportedFiles) {
  auto err = [](const std::string &text) {
    return errorOf([&] {
      Tokenizer::fromMemory(text, TokenizerFormat::HuggingFaceJson, "t.json");
    });
  };
  EXPECT_NE(err("{").find("t.json: not valid JSON"), std::string::npos);
  EXPECT_NE(err("[]").find("t.json"), std::string::npos);
  EXPECT_NE(err("{}").find("no 'model'"), std::string::npos);
  EXPECT_NE(err("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}} x")
                .find("trailing"),
            std::string::npos);
  EXPECT_NE(err(std::string("{\"a\": \"\xFF\"}")).find("invalid UTF-8"), std::string::npos);

  json j = tinyJson();
  j["model"]["type"] = "WordPiece";
  EXPECT_NE(errorOf([&] { fromJson(j); }).find("unsupported model type 'WordPiece'"),
            std::string::npos);
  j = tinyJson();
  j["pre_tokenizer"]["pattern"] = {{"Regex", "\\s+"}};
  EXPECT_NE(errorOf([&] { fromJson(j); }).find("Regex"), std::string::npos);
  j = tinyJson();
  j["normalizer"] = {{"type", "NFKC"}};
  EXPECT_NE(errorOf([&] { fromJson(j); }).find("unsupported normalizer type 'NFKC'"),
            std::string::npos);
  j = tinyJson();
  j["model"]["merges"].push_back("zz q");
  EXPECT_NE(errorOf([&] { fromJson(j); }).find("'zz' is not in the vocabulary"),
            std::string::npos);
  j = tinyJson();
  j["model"]["merges"].push_back("a e");
  EXPECT_NE(errorOf([&] { fromJson(j); }).find("merged token 'ae'"), std::string::npos);
  j = tinyJson();
  j["model"]["vocab"]["a"] = "one";
  EXPECT_NE(errorOf([&] { fromJson(j); }).find("expected an integer"), std::string::npos);
}

TEST(TokenizerFiles, ErrorsNameTheFile) {
  EXPECT_NE(errorOf([] { Tokenizer::fromFile("/nonexistent/tokenizer.json"); })
                .find("/nonexistent/tokenizer.json"),
            std::string::npos);
  EXPECT_NE(errorOf([] { Tokenizer::fromFile(fixture("")); }).find("no tokenizer.json"),
            std::string::npos);
  auto t = Tokenizer::fromFile(fixture("tiny"));
  EXPECT_EQ(t->source(), fixture("tiny/tokenizer.json"));
}

//===----------------------------------------------------------------------===//
// StreamDecoder
//===----------------------------------------------------------------------===//

TEST_F(TinyTokenizer, StreamDecoderHoldsSplitCharacters) {
  // 本 arrives as three byte tokens; nothing is emitted until the run ends.
  std::vector<int32_t> ids = tok->encode("日本é");
  ASSERT_EQ(ids.size(), 5u);
  StreamDecoder sd(*tok, false);
  EXPECT_EQ(sd.push(ids[0]), "日");
  EXPECT_EQ(sd.push(ids[1]), "");
  EXPECT_EQ(sd.push(ids[2]), "");
  EXPECT_EQ(sd.push(ids[3]), "");
  EXPECT_EQ(sd.push(ids[4]), "本é");
  EXPECT_EQ(sd.finish(), "");
}

TEST_F(TinyTokenizer, StreamDecoderFlushesAtTheEnd) {
  StreamDecoder sd(*tok, false);
  std::vector<int32_t> ids = tok->encode("a\xF0\x9F\x98\x80"); // a + 4 byte tokens
  ASSERT_EQ(ids.size(), 5u);
  std::string out;
  for (int32_t id : ids)
    out += sd.push(id);
  EXPECT_EQ(out, "a");
  EXPECT_EQ(sd.finish(), "\xF0\x9F\x98\x80");
  // A truncated character at the end becomes U+FFFD per byte, as decode() does.
  sd.reset();
  out.clear();
  for (size_t i = 0; i < 3; ++i)
    out += sd.push(ids[i]);
  out += sd.finish();
  EXPECT_EQ(out, "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(out, tok->decode(std::span<const int32_t>(ids.data(), 3)));
}

TEST_F(TinyTokenizer, StreamDecoderEqualsDecodeAndEmitsValidUtf8) {
  std::vector<std::string> texts = {
      "hello world", "日本語のテキスト", "x\xF0\x9F\x98\x80y\xF0\x9F\x98\x80\xF0\x9F\x98\x80",
      "<start_of_turn>user\nhello<end_of_turn>\n<start_of_turn>model\n", "  spaces  ",
      "\xC3\xA9\xE2\x96\x81"};
  for (bool show : {false, true}) {
    for (const std::string &s : texts) {
      auto ids = tok->encode(s);
      ids.insert(ids.begin(), tok->bosId());
      ids.push_back(tok->eosId());
      StreamDecoder sd(*tok, show);
      std::string all;
      for (int32_t id : ids) {
        std::string piece = sd.push(id);
        EXPECT_TRUE(validUtf8(piece)) << s;
        all += piece;
      }
      all += sd.finish();
      EXPECT_EQ(all, tok->decode(ids, show)) << s;
    }
  }
  // Special tokens do not break a byte run when hidden (HF drops them first).
  auto id = [&](const char *t) { return *tok->tokenId(t); };
  std::vector<int32_t> split{id("<0xC3>"), tok->eosId(), id("<0xA9>")};
  StreamDecoder hide(*tok, false);
  std::string out;
  for (int32_t i : split)
    out += hide.push(i);
  EXPECT_EQ(out + hide.finish(), "é");
  EXPECT_EQ(tok->decode(split, false), "é");
  EXPECT_NE(errorOf([&] { hide.push(9999); }).find("out of range"), std::string::npos);
}
