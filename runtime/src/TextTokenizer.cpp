//===- TextTokenizer.cpp - makeTextCodec on the gemma4rt_tokenizer library ===//
//
// Built into gemma4rt_main when the gemma4rt_tokenizer target exists (see
// CMakeLists.txt); otherwise TextNone.cpp stands in.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/chat_template.h"
#include "gemma4rt/error.h"
#include "gemma4rt/text.h"
#include "gemma4rt/tokenizer.h"

#include <optional>

namespace gemma4rt {

namespace {

class TokenizerCodec : public TextCodec {
public:
  TokenizerCodec(std::unique_ptr<Tokenizer> tok, int32_t bos)
      : tok_(std::move(tok)), stream_(*tok_, /*showSpecial=*/false), bos_(bos) {}

  std::vector<int32_t> encode(std::string_view text) override {
    std::vector<int32_t> ids;
    if (bos_ >= 0)
      ids.push_back(bos_);
    try {
      std::vector<int32_t> body = tok_->encode(text);
      ids.insert(ids.end(), body.begin(), body.end());
    } catch (const TokenizerError &e) {
      throw Error(std::string("--prompt: ") + e.what());
    }
    return ids;
  }

  std::vector<int32_t> encodeChat(std::string_view userMessage) override {
    try {
      // The rendered text carries <bos> and the turn markers; encode maps
      // them to their ids.
      return tok_->encode(chat().render({ChatMessage{"user", std::string(userMessage), {}, {}, {}, {}}},
                                        /*addGenerationPrompt=*/true));
    } catch (const TokenizerError &e) {
      throw Error(std::string("--chat: ") + e.what());
    }
  }

  std::vector<int32_t> chatStopIds() override { return chat().stopTokenIds(); }

  std::string piece(int32_t id) override {
    try {
      return stream_.push(id);
    } catch (const TokenizerError &e) {
      throw Error(std::string("detokenizing: ") + e.what());
    }
  }

  std::string finish() override { return stream_.finish(); }

private:
  const ChatTemplate &chat() {
    // The payload has no checkpoint directory: the format and markers come
    // from the tokenizer itself (a directory without config files).
    if (!chat_)
      chat_ = ChatTemplate::forTokenizer(*tok_, "/nonexistent/gemma4rt-no-checkpoint");
    return *chat_;
  }

  std::unique_ptr<Tokenizer> tok_;
  StreamDecoder stream_;
  int32_t bos_;
  std::optional<ChatTemplate> chat_;
};

} // namespace

std::unique_ptr<TextCodec> makeTextCodec(const Payload &payload) {
  const Manifest &m = payload.manifest();
  if (!m.hasTokenizer)
    return nullptr;
  TokenizerFormat fmt = m.tokenizerFormat == "hf-json"         ? TokenizerFormat::HuggingFaceJson
                        : m.tokenizerFormat == "sentencepiece" ? TokenizerFormat::SentencePieceModel
                                                               : TokenizerFormat::Auto;
  try {
    auto tok = Tokenizer::fromMemory(payload.tokenizerBytes(), fmt, "the bundled tokenizer");
    return std::make_unique<TokenizerCodec>(std::move(tok), m.model.bosTokenId);
  } catch (const TokenizerError &e) {
    throw Error(std::string("corrupt model payload in ") + payload.path() + ": " + e.what());
  }
}

} // namespace gemma4rt
