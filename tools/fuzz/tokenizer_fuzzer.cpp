//===- tokenizer_fuzzer.cpp - libFuzzer target for tokenizer files --------===//
//
// Feeds arbitrary bytes to Tokenizer::fromMemory (the format is sniffed:
// '{' => tokenizer.json, else a SentencePiece tokenizer.model protobuf). A
// tokenizer that loads must encode and decode a fixed text without crashing;
// every failure must be a TokenizerError.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/tokenizer.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  try {
    auto tok = gemma4rt::Tokenizer::fromMemory(bytes, gemma4rt::TokenizerFormat::Auto, "fuzz");
    std::vector<int32_t> ids = tok->encode("Hello, world! \xc3\xa9\xe2\x82\xac <bos> 123\n\n");
    (void)tok->decode(ids, /*showSpecial=*/true);
    (void)tok->decode(ids, /*showSpecial=*/false);
  } catch (const gemma4rt::TokenizerError &) {
  }
  return 0;
}
