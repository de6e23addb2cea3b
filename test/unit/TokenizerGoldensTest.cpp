//===- TokenizerGoldensTest.cpp - the real Gemma tokenizer vs HF goldens ---===//
//
// test/fixtures/tokenizer/gemma3-tokenizer-goldens.json holds strings, their
// ids from Hugging Face `tokenizers` (add_special_tokens=False) and the
// decoded text, for the real 262,144-token Gemma tokenizer. That tokenizer
// (33 MB) is not in the repository: scripts/fetch-tokenizer.sh puts it under
// .cache/tokenizer/ (install-deps.sh runs it). Without it these tests fail.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>

using gemma4rt::StreamDecoder;
using gemma4rt::Tokenizer;

namespace {

const char *kRealTokenizer =
    GEMMA4C_TEST_DIR "/../.cache/tokenizer/tokenizer-gemma3-3.7.2/package/models/tokenizer.json";

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class RealTokenizer : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    struct stat st;
    if (::stat(kRealTokenizer, &st) != 0)
      return;
    auto t0 = std::chrono::steady_clock::now();
    tok = Tokenizer::fromFile(kRealTokenizer);
    loadSeconds = secondsSince(t0);
    std::printf("[ timing   ] tokenizer.json load: %.3f s\n", loadSeconds);
  }
  static void TearDownTestSuite() { tok.reset(); }
  void SetUp() override {
    ASSERT_TRUE(tok) << "the real Gemma tokenizer is missing at " << kRealTokenizer
                     << "; run scripts/fetch-tokenizer.sh (scripts/install-deps.sh does)";
  }
  static std::unique_ptr<Tokenizer> tok;
  static double loadSeconds;
};
std::unique_ptr<Tokenizer> RealTokenizer::tok;
double RealTokenizer::loadSeconds = 0;

nlohmann::json goldens() {
  std::ifstream in(GEMMA4C_TEST_DIR "/fixtures/tokenizer/gemma3-tokenizer-goldens.json");
  return nlohmann::json::parse(in);
}

} // namespace

TEST_F(RealTokenizer, Shape) {
  EXPECT_EQ(tok->vocabSize(), 262145);
  EXPECT_EQ(tok->bosId(), 2);
  EXPECT_EQ(tok->eosId(), 1);
  EXPECT_EQ(tok->padId(), 0);
  EXPECT_EQ(tok->unkId(), 3);
  EXPECT_EQ(tok->tokenId("<start_of_turn>"), 105);
  EXPECT_EQ(tok->tokenId("<end_of_turn>"), 106);
  EXPECT_TRUE(tok->isSpecial(106));
}

TEST_F(RealTokenizer, EncodesEveryGoldenToTheReferenceIds) {
  nlohmann::json g = goldens();
  ASSERT_GE(g.size(), 30u);
  for (const auto &e : g) {
    std::string text = e["text"];
    EXPECT_EQ(tok->encode(text), e["ids"].get<std::vector<int32_t>>()) << "text: " << text;
  }
}

TEST_F(RealTokenizer, DecodesEveryGoldenToTheReferenceText) {
  for (const auto &e : goldens()) {
    auto ids = e["ids"].get<std::vector<int32_t>>();
    std::string want = e["decoded"];
    EXPECT_EQ(tok->decode(ids, true), want);
    StreamDecoder sd(*tok, true);
    std::string streamed;
    for (int32_t id : ids)
      streamed += sd.push(id);
    EXPECT_EQ(streamed + sd.finish(), want);
  }
}

TEST_F(RealTokenizer, HidesSpecialTokens) {
  std::vector<int32_t> ids = tok->encode("<start_of_turn>user\nHi<end_of_turn>\n");
  ids.insert(ids.begin(), 2);
  EXPECT_EQ(tok->decode(ids, false), "user\nHi\n");
  EXPECT_EQ(tok->decode(ids, true), "<bos><start_of_turn>user\nHi<end_of_turn>\n");
}

TEST_F(RealTokenizer, StreamsCharactersSplitAcrossByteTokens) {
  // 𝔘 (U+1D518) is not in the vocabulary: four byte-fallback tokens.
  std::vector<int32_t> ids = tok->encode("\xF0\x9D\x94\x98!");
  ASSERT_EQ(ids.size(), 5u);
  for (int k = 0; k < 4; ++k)
    EXPECT_EQ(tok->tokenString(ids[k]).substr(0, 3), "<0x");
  StreamDecoder sd(*tok, false);
  for (int k = 0; k < 4; ++k)
    EXPECT_EQ(sd.push(ids[k]), "");
  EXPECT_EQ(sd.push(ids[4]), "\xF0\x9D\x94\x98!");
}

TEST_F(RealTokenizer, EncodesOneMegabyte) {
  // Mixed text with spaces, newlines, code, CJK, emoji and rare characters.
  const char *words[] = {"the", "quick", "brown", "fox", "tokenizer", "compiler", "naïve",
                         "café", "日本語", "テキスト", "Привет", "мир", "😀", "👍🏽", "𝔘",
                         "12345", "def", "return", "{", "}", "(", ")", ";", "—", "…",
                         "\t", "\n", "  ", "<start_of_turn>", "ZZZ"};
  std::string text;
  uint64_t s = 42;
  while (text.size() < (1u << 20)) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    text += words[(s >> 33) % (sizeof(words) / sizeof(words[0]))];
    text += ' ';
  }
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> ids = tok->encode(text);
  double enc = secondsSince(t0);
  t0 = std::chrono::steady_clock::now();
  std::string back = tok->decode(ids, true);
  double dec = secondsSince(t0);
  std::printf("[ timing   ] encode %zu bytes -> %zu ids: %.3f s; decode: %.3f s\n", text.size(),
              ids.size(), enc, dec);
  RecordProperty("encode_1MiB_seconds", std::to_string(enc));
  RecordProperty("load_seconds", std::to_string(loadSeconds));
  EXPECT_GT(ids.size(), 100000u);
  EXPECT_EQ(back, text);

  // The same megabyte as a single line without spaces: one huge BPE word.
  std::string word;
  for (char c : text)
    if (c != ' ' && c != '\n' && c != '\t')
      word += c;
  t0 = std::chrono::steady_clock::now();
  ids = tok->encode(word);
  std::printf("[ timing   ] encode %zu bytes without separators: %.3f s\n", word.size(),
              secondsSince(t0));
  EXPECT_EQ(tok->decode(ids, true), word);
}
