//===- TextNone.cpp - makeTextCodec without the tokenizer library --------===//
//
// Built into gemma4rt_main while the gemma4rt_tokenizer library does not
// exist (or has no adapter TextTokenizer.cpp yet): --prompt/--chat then fail
// with "built without tokenizer support", and output stays token ids.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/text.h"

namespace gemma4rt {
std::unique_ptr<TextCodec> makeTextCodec(const Payload &) { return nullptr; }
} // namespace gemma4rt
