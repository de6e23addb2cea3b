//===- TextTokenizer.cpp - makeTextCodec on the gemma4rt_tokenizer library ===//
//
// Built into gemma4rt_main when the gemma4rt_tokenizer target exists (see
// CMakeLists.txt); otherwise TextNone.cpp stands in.
//
// The chat template comes from the manifest's "chat" object, written by
// gemma4c from the checkpoint (tools/gemma4c/Compile.cpp):
//   {"format": "gemma4"|"gemma3", "markers": {"bos", "start_of_turn",
//    "end_of_turn", "think", "channel_start", "channel_end", "tool_start",
//    "tool_end", "tool_call_start", "tool_call_end", "tool_response_start",
//    "tool_response_end", "quote"}, "stop_token_ids": [..],
//    "empty_thought_block": bool}
// Absent markers keep ChatMarkers' defaults. A manifest without that data
// (chat null, or an older {"template": ...}) falls back to what the tokenizer
// alone implies (ChatTemplate::forTokenizer without config files).
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/chat_template.h"
#include "gemma4rt/error.h"
#include "gemma4rt/text.h"
#include "gemma4rt/tokenizer.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace gemma4rt {

namespace {

using json = nlohmann::json;

struct ChatData {
  ChatTemplate tmpl;
  bool emptyThoughtBlock = false;
};

ChatData chatFromManifest(const Tokenizer &tok, const Payload &payload) {
  const std::string &text = payload.manifest().chatJson;
  auto bad = [&](const std::string &what) {
    return Error("corrupt model payload in " + payload.path() + ": manifest \"chat\" " + what);
  };
  json c = json::object();
  if (!text.empty()) {
    c = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!c.is_object())
      throw bad("is not an object");
  }
  if (!c.contains("format")) // no resolved data: what the tokenizer implies
    return {ChatTemplate::forTokenizer(tok, "/nonexistent/gemma4rt-no-checkpoint"), false};

  const json &f = c["format"];
  if (!f.is_string() || (f != "gemma4" && f != "gemma3"))
    throw bad("format is not \"gemma4\" or \"gemma3\"");
  ChatFormat format = f == "gemma4" ? ChatFormat::Gemma4 : ChatFormat::Gemma3;
  ChatMarkers mk;
  if (format == ChatFormat::Gemma4) {
    mk.startOfTurn = "<|turn>";
    mk.endOfTurn = "<turn|>";
  } else {
    mk.startOfTurn = "<start_of_turn>";
    mk.endOfTurn = "<end_of_turn>";
  }
  if (auto it = c.find("markers"); it != c.end()) {
    if (!it->is_object())
      throw bad("markers is not an object");
    const std::pair<const char *, std::string *> fields[] = {
        {"bos", &mk.bos},
        {"start_of_turn", &mk.startOfTurn},
        {"end_of_turn", &mk.endOfTurn},
        {"think", &mk.think},
        {"channel_start", &mk.channelStart},
        {"channel_end", &mk.channelEnd},
        {"tool_start", &mk.toolStart},
        {"tool_end", &mk.toolEnd},
        {"tool_call_start", &mk.toolCallStart},
        {"tool_call_end", &mk.toolCallEnd},
        {"tool_response_start", &mk.toolResponseStart},
        {"tool_response_end", &mk.toolResponseEnd},
        {"quote", &mk.quote}};
    for (auto [key, field] : fields)
      if (auto m = it->find(key); m != it->end()) {
        if (!m->is_string())
          throw bad(std::string("marker \"") + key + "\" is not a string");
        *field = m->get<std::string>();
      }
  }
  if (mk.startOfTurn.empty() || mk.endOfTurn.empty())
    throw bad("has empty turn markers");
  std::vector<int32_t> stops;
  if (auto it = c.find("stop_token_ids"); it != c.end()) {
    if (!it->is_array())
      throw bad("stop_token_ids is not an array");
    for (const json &x : *it) {
      if (!x.is_number_integer())
        throw bad("stop_token_ids holds a non-integer");
      stops.push_back(x.get<int32_t>());
    }
  } else if (auto id = tok.tokenId(mk.endOfTurn)) {
    stops.push_back(*id);
  }
  bool empty = false;
  if (auto it = c.find("empty_thought_block"); it != c.end() && it->is_boolean())
    empty = it->get<bool>();
  return {ChatTemplate::fromParts(format, std::move(mk), std::move(stops)), empty};
}

std::string prefixed(std::string_view what, const char *msg) {
  return std::string(what) + ": " + msg;
}

class TokenizerCodec : public TextCodec {
public:
  TokenizerCodec(std::unique_ptr<Tokenizer> tok, ChatData chat, int32_t bos)
      : tok_(std::move(tok)), chat_(std::move(chat)),
        stream_(std::make_unique<StreamDecoder>(*tok_, false)), bos_(bos) {}

  void configure(const ChatSettings &s) override {
    if (s.thinking && chat_.tmpl.format() != ChatFormat::Gemma4)
      throw UsageError("--think: this model's chat template (Gemma 3 format) has no thinking mode");
    settings_ = s;
    stream_ = std::make_unique<StreamDecoder>(*tok_, s.showSpecial);
    msgs_.clear();
    if (!s.system.empty())
      msgs_.push_back(message("system", s.system));
  }

  std::vector<int32_t> encode(std::string_view text, std::string_view what) override {
    std::vector<int32_t> ids;
    if (bos_ >= 0)
      ids.push_back(bos_);
    try {
      std::vector<int32_t> body = tok_->encode(text);
      ids.insert(ids.end(), body.begin(), body.end());
    } catch (const TokenizerError &e) {
      throw Error(prefixed(what, e.what()));
    }
    return ids;
  }

  std::vector<int32_t> encodeChat(std::string_view userMessage, std::string_view what) override {
    std::vector<ChatMessage> msgs = systemOnly();
    msgs.push_back(message("user", userMessage));
    try {
      // The rendered text carries <bos> and the turn markers; encode maps
      // them to their ids.
      return tok_->encode(chat_.tmpl.render(msgs, options(true)));
    } catch (const TokenizerError &e) {
      throw Error(prefixed(what, e.what()));
    }
  }

  std::vector<int32_t> chatTurn(std::string_view userMessage, std::string_view what) override {
    std::vector<ChatMessage> next = msgs_;
    next.push_back(message("user", userMessage));
    bool first = true;
    for (const ChatMessage &m : msgs_)
      first = first && m.role != "user";
    try {
      std::string full = chat_.tmpl.render(next, options(true));
      std::string text;
      if (first) {
        text = std::move(full);
      } else {
        // The previous model turn is in the KV cache up to its last token;
        // close it, then add what the template renders for the new turn.
        std::string past = chat_.tmpl.render(msgs_, options(false));
        if (full.compare(0, past.size(), past) != 0)
          throw Error(std::string(what) +
                      ": the chat template does not extend the conversation at its end");
        text = chat_.tmpl.markers().endOfTurn + "\n" + full.substr(past.size());
      }
      std::vector<int32_t> ids = tok_->encode(text);
      msgs_ = std::move(next);
      return ids;
    } catch (const TokenizerError &e) {
      throw Error(prefixed(what, e.what()));
    }
  }

  void reply(std::string_view text) override { msgs_.push_back(message("assistant", text)); }

  std::vector<int32_t> chatStopIds() override { return chat_.tmpl.stopTokenIds(); }

  std::string piece(int32_t id) override {
    // Models may have more ids than the tokenizer (padded embeddings): those
    // have no text.
    if (id < 0 || id >= tok_->vocabSize() || tok_->tokenString(id).empty())
      return {};
    try {
      return stream_->push(id);
    } catch (const TokenizerError &e) {
      throw Error(std::string("detokenizing: ") + e.what());
    }
  }

  std::string finish() override {
    std::string rest = stream_->finish();
    stream_->reset();
    return rest;
  }

  std::vector<int32_t> encodeConversation(const Conversation &conv,
                                          std::string_view what) override {
    if (conv.thinking && chat_.tmpl.format() != ChatFormat::Gemma4)
      throw Error(std::string(what) +
                  ": this model's chat template (Gemma 3 format) has no thinking mode");
    ChatOptions o;
    o.addGenerationPrompt = true;
    o.thinking = conv.thinking;
    o.emptyThoughtBlock = chat_.emptyThoughtBlock;
    o.tools = conv.tools;
    try {
      return tok_->encode(chat_.tmpl.render(conv.messages, o));
    } catch (const TokenizerError &e) {
      throw Error(prefixed(what, e.what()));
    }
  }

  std::vector<int32_t> encodeText(std::string_view text, std::string_view what) override {
    return encode(text, what); // reads only the tokenizer and bos_
  }

  std::unique_ptr<TextStream> newStream() override {
    return std::make_unique<Stream>(*tok_);
  }

  std::string chatFormat() const override {
    std::string s = chat_.tmpl.format() == ChatFormat::Gemma4 ? "gemma4" : "gemma3";
    if (chat_.emptyThoughtBlock)
      s += " (empty thought block)";
    return s;
  }

private:
  /// A StreamDecoder of its own over the shared (read-only) tokenizer.
  class Stream : public TextStream {
  public:
    explicit Stream(const Tokenizer &tok) : tok_(tok), dec_(tok, false) {}
    std::string piece(int32_t id) override {
      if (id < 0 || id >= tok_.vocabSize() || tok_.tokenString(id).empty())
        return {};
      try {
        return dec_.push(id);
      } catch (const TokenizerError &e) {
        throw Error(std::string("detokenizing: ") + e.what());
      }
    }
    std::string finish() override {
      std::string rest = dec_.finish();
      dec_.reset();
      return rest;
    }

  private:
    const Tokenizer &tok_;
    StreamDecoder dec_;
  };

  static ChatMessage message(const char *role, std::string_view content) {
    ChatMessage m;
    m.role = role;
    m.content = std::string(content);
    return m;
  }
  std::vector<ChatMessage> systemOnly() const {
    std::vector<ChatMessage> msgs;
    if (!settings_.system.empty())
      msgs.push_back(message("system", settings_.system));
    return msgs;
  }
  ChatOptions options(bool generationPrompt) const {
    ChatOptions o;
    o.addGenerationPrompt = generationPrompt;
    o.thinking = settings_.thinking;
    o.emptyThoughtBlock = chat_.emptyThoughtBlock;
    return o;
  }

  std::unique_ptr<Tokenizer> tok_;
  ChatData chat_;
  std::unique_ptr<StreamDecoder> stream_;
  int32_t bos_;
  ChatSettings settings_;
  std::vector<ChatMessage> msgs_; ///< the conversation so far (chatTurn/reply)
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
    ChatData chat = chatFromManifest(*tok, payload);
    return std::make_unique<TokenizerCodec>(std::move(tok), std::move(chat), m.model.bosTokenId);
  } catch (const TokenizerError &e) {
    throw Error(std::string("corrupt model payload in ") + payload.path() + ": " + e.what());
  }
}

} // namespace gemma4rt
