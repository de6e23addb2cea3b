//===- text.h - hook between the runtime and the tokenizer ------*- C++ -*-===//
//
// The runtime works on token ids. Text (--prompt, --chat, printing text) goes
// through a TextCodec made from the payload's tokenizer bytes. makeTextCodec
// is defined in gemma4rt_main: by runtime/src/TextNone.cpp (returns nullptr)
// until the gemma4rt_tokenizer library exists, then by an adapter
// runtime/src/TextTokenizer.cpp built on runtime/include/gemma4rt/tokenizer.h.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_TEXT_H
#define GEMMA4RT_TEXT_H

#include "gemma4rt/payload.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4rt {

class TextCodec {
public:
  virtual ~TextCodec() = default;
  /// Plain text -> ids, with BOS prepended when the manifest names one.
  virtual std::vector<int32_t> encode(std::string_view text) = 0;
  /// One user turn through the manifest's chat template -> ids (with BOS and
  /// the generation prompt for the model's turn).
  virtual std::vector<int32_t> encodeChat(std::string_view userMessage) = 0;
  /// Extra ids that end generation after encodeChat (end of turn, ...).
  virtual std::vector<int32_t> chatStopIds() { return {}; }
  /// Streaming detokenization: the text that became final with this
  /// generated token (possibly "", e.g. inside a multi-byte sequence or for a
  /// special token).
  virtual std::string piece(int32_t id) = 0;
  /// The text still pending at the end of generation.
  virtual std::string finish() { return {}; }
};

/// nullptr when this binary was built without the tokenizer library. Only
/// called when the manifest has a tokenizer.
std::unique_ptr<TextCodec> makeTextCodec(const Payload &payload);

} // namespace gemma4rt

#endif
