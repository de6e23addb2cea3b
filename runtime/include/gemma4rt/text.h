//===- text.h - hook between the runtime and the tokenizer ------*- C++ -*-===//
//
// The runtime works on token ids. Text (--prompt, --chat, printing text) goes
// through a TextCodec made from the payload's tokenizer bytes and its "chat"
// manifest object (the chat template data gemma4c resolved from the
// checkpoint). makeTextCodec is defined in gemma4rt_main: by
// runtime/src/TextTokenizer.cpp (on runtime/include/gemma4rt/tokenizer.h and
// chat_template.h) when the gemma4rt_tokenizer library exists, else by
// runtime/src/TextNone.cpp (returns nullptr).
//
// Chat: a conversation is rendered by the chat template; the runtime keeps the
// KV cache across turns, so each turn only prefills what is new:
//   turn 1:  [<bos>][system turn]<user turn><generation prompt>
//   turn n:  <end of the previous model turn><user turn><generation prompt>
// (the model's reply itself is already in the cache as the generated ids).
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_TEXT_H
#define GEMMA4RT_TEXT_H

#include "gemma4rt/chat_template.h"
#include "gemma4rt/error.h"
#include "gemma4rt/payload.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4rt {

/// How a conversation is rendered (flags --system, --think/--no-think,
/// --show-special).
struct ChatSettings {
  std::string system;   ///< "" = no system prompt
  bool thinking = false;
  bool showSpecial = false; ///< piece() also prints special tokens
};

/// Streaming detokenization of one generated sequence (TextCodec::piece and
/// finish for a stream of its own).
class TextStream {
public:
  virtual ~TextStream() = default;
  virtual std::string piece(int32_t id) = 0;
  virtual std::string finish() = 0;
};

/// A whole conversation for encodeConversation (the server's requests).
struct Conversation {
  std::vector<ChatMessage> messages;
  std::vector<ToolDeclaration> tools;
  bool thinking = false;
};

class TextCodec {
public:
  virtual ~TextCodec() = default;
  /// Applies --system/--think/--show-special; call before anything else.
  /// Throws Error when the model's chat format cannot honour them.
  virtual void configure(const ChatSettings &) {}
  /// Plain text -> ids, with BOS prepended when the manifest names one
  /// (--raw). Throws Error naming `what` on invalid UTF-8.
  virtual std::vector<int32_t> encode(std::string_view text, std::string_view what = "--prompt") = 0;
  /// One user turn through the manifest's chat template -> ids (with BOS and
  /// the generation prompt for the model's turn). Same as the first
  /// chatTurn() of a fresh conversation, without recording it.
  virtual std::vector<int32_t> encodeChat(std::string_view userMessage,
                                          std::string_view what = "--chat") = 0;
  /// Multi-turn chat: the ids that continue the conversation with this user
  /// message (see the file comment); the message is recorded. After the first
  /// turn, call reply() with the model's answer before the next chatTurn().
  /// On error (Error naming `what`) nothing is recorded.
  virtual std::vector<int32_t> chatTurn(std::string_view userMessage, std::string_view what) = 0;
  /// Records the model's reply to the last chatTurn() (its text as printed).
  virtual void reply(std::string_view text) = 0;
  /// Extra ids that end a model turn (end of turn, ...).
  virtual std::vector<int32_t> chatStopIds() { return {}; }
  /// Streaming detokenization: the text that became final with this
  /// generated token (possibly "", e.g. inside a multi-byte sequence, for a
  /// special token, or an id the tokenizer has no token for), valid UTF-8.
  virtual std::string piece(int32_t id) = 0;
  /// The text still pending at the end of a reply; the stream starts afresh.
  virtual std::string finish() { return {}; }
  /// The server (--serve) calls the three below from several threads at
  /// once; they do not touch the state of configure/chatTurn/piece.
  ///
  /// A whole conversation through the chat template -> ids (BOS and the
  /// generation prompt included); a conversation of one user message gives
  /// encodeChat's ids under the default ChatSettings. Throws Error naming
  /// `what` when the template cannot render it (e.g. roles out of order).
  virtual std::vector<int32_t> encodeConversation(const Conversation &, std::string_view what) {
    throw Error(std::string(what) + ": this binary has no chat template");
  }
  /// Plain text -> ids with BOS first, like encode() (thread-safe).
  virtual std::vector<int32_t> encodeText(std::string_view text, std::string_view what) {
    throw Error(std::string(what) + ": this binary has no tokenizer");
  }
  /// A detokenizer of its own (special tokens hidden), for one sequence.
  virtual std::unique_ptr<TextStream> newStream() { return nullptr; }
  /// A description of the chat template for --info ("gemma4", ...).
  virtual std::string chatFormat() const { return {}; }
};

/// nullptr when this binary was built without the tokenizer library. Only
/// called when the manifest has a tokenizer.
std::unique_ptr<TextCodec> makeTextCodec(const Payload &payload);

} // namespace gemma4rt

#endif
