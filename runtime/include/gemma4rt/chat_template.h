//===- gemma4rt/chat_template.h - Gemma chat formatting (no Jinja) -*- C++ -*-===//
//
// Renders a conversation into the prompt text a Gemma instruction-tuned model
// expects, natively (no Jinja engine). The rendered string contains the marker
// tokens as text ("<bos>", "<start_of_turn>", ...); Tokenizer::encode turns
// them into their ids, so encode(render(...)) is the prompt (no extra BOS).
//
// Two formats are supported, chosen by ChatTemplate::forTokenizer:
//
// Gemma 4 (selected when tokenizer_config.json names an `sot_token`, the
// tokenizer has a "<|turn>" token, or chat_template(.jinja) mentions it;
// every marker string is read from tokenizer_config.json when present):
//     <bos><|turn>system\n[<|think|>\n]SYSTEM[TOOL DECLARATIONS]<turn|>\n
//     <|turn>user\nTEXT<turn|>\n
//     <|turn>model\nTEXT<turn|>\n
//     <|turn>model\n                                (generation prompt)
//   * the system turn is emitted when there is a system/developer message
//     (first message only), tools, or thinking=true; thinking=true puts
//     <|think|> at its top. thinking=false with emptyThoughtBlock=true appends
//     "<|channel>thought\n<channel|>" after the generation prompt (the
//     26B/31B templates; E2B/E4B templates do not).
//   * user/system text is trimmed; assistant text has <|channel>...<channel|>
//     blocks removed and is trimmed. Assistant `thinking` is re-emitted as
//     <|channel>thought\n...\n<channel|> only for assistant turns with tool
//     calls after the last user message (the reference template's rule).
//   * tools: ToolDeclaration -> <|tool>declaration:NAME{description:<|"|>..<|"|>,
//     parameters:{properties:{..},required:[..],type:<|"|>OBJECT<|"|>}}<tool|>
//     (JSON-Schema subset: description, type, enum, items, nullable, nested
//     object properties/required; keys sorted).
//     Tool calls -> <|tool_call>call:NAME{key:value,...}<tool_call|> (keys
//     sorted; strings wrapped in <|"|>). Tool messages following an assistant
//     turn with tool calls are folded into that model turn as
//     <|tool_response>response:NAME{value:<|"|>CONTENT<|"|>}<tool_response|>;
//     NAME comes from toolName, or the call whose id equals toolCallId.
//     An assistant turn that ends in tool calls without responses is left
//     open with "<|tool_response>" (the model continues after the result), and
//     no generation prompt follows tool calls/responses. Consecutive assistant
//     messages share one model turn.
//
// Gemma 3 (fallback; markers <start_of_turn>/<end_of_turn>), exactly the
// Gemma 3 chat_template:
//     <bos><start_of_turn>user\n[SYSTEM\n\n]TEXT<end_of_turn>\n
//     <start_of_turn>model\nTEXT<end_of_turn>\n ... [<start_of_turn>model\n]
//   * a leading system/developer message is prepended (untrimmed, + "\n\n")
//     to the first turn; roles must alternate user/assistant (TokenizerError
//     otherwise); text is trimmed. Thinking, tools, tool calls and tool
//     messages are not part of Gemma 3 and are rejected with TokenizerError.
//
// Not supported: images/audio/video placeholders, multi-part content,
// arbitrary Jinja templates.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_CHAT_TEMPLATE_H
#define GEMMA4RT_CHAT_TEMPLATE_H

#include "gemma4rt/tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gemma4rt {

struct ToolCall {
  std::string name;
  std::string arguments; ///< JSON object text, e.g. {"city":"Paris"}; "" = {}
  std::string id;        ///< optional; matched against ChatMessage::toolCallId
};

struct ChatMessage {
  std::string role;    ///< system | developer | user | assistant (or model) | tool
  std::string content;
  std::string thinking;            ///< assistant reasoning (Gemma 4)
  std::vector<ToolCall> toolCalls; ///< assistant (Gemma 4)
  std::string toolName;            ///< tool: function the result belongs to
  std::string toolCallId;          ///< tool: id of the call it answers
};

struct ToolDeclaration {
  std::string name;
  std::string description;
  std::string parameters; ///< JSON Schema object text; "" = no parameters
};

struct ChatOptions {
  bool addGenerationPrompt = true;
  bool thinking = false;
  bool emptyThoughtBlock = false; ///< Gemma 4: see header comment
  std::vector<ToolDeclaration> tools;
};

enum class ChatFormat { Gemma3, Gemma4 };

/// Marker strings (Gemma 4 names in brackets are tokenizer_config.json keys).
struct ChatMarkers {
  std::string bos = "<bos>";
  std::string startOfTurn;                        // [sot_token]
  std::string endOfTurn;                          // [eot_token]
  std::string think = "<|think|>";                // [think_token]
  std::string channelStart = "<|channel>";        // [soc_token]
  std::string channelEnd = "<channel|>";          // [eoc_token]
  std::string toolStart = "<|tool>";              // [std_token]
  std::string toolEnd = "<tool|>";                // [etd_token]
  std::string toolCallStart = "<|tool_call>";     // [stc_token]
  std::string toolCallEnd = "<tool_call|>";       // [etc_token]
  std::string toolResponseStart = "<|tool_response>"; // [str_token]
  std::string toolResponseEnd = "<tool_response|>";   // [etr_token]
  std::string quote = "<|\"|>";                   // [escape_token]
};

class ChatTemplate {
public:
  /// Picks the format and markers for `tok`. `checkpointDir` (default: the
  /// directory of tok.source()) may hold tokenizer_config.json,
  /// chat_template.jinja and generation_config.json, which are read when
  /// present. Throws TokenizerError on unreadable/corrupt config files.
  static ChatTemplate forTokenizer(const Tokenizer &tok, std::string checkpointDir = "");
  /// A template from parts resolved earlier, e.g. by forTokenizer at compile
  /// time and stored in a compiled model's manifest ("chat" object).
  static ChatTemplate fromParts(ChatFormat format, ChatMarkers markers,
                                std::vector<int32_t> stopTokenIds);

  ChatFormat format() const { return format_; }
  const ChatMarkers &markers() const { return markers_; }

  std::string render(const std::vector<ChatMessage> &messages, bool addGenerationPrompt) const;
  std::string render(const std::vector<ChatMessage> &messages, const ChatOptions &opts) const;

  /// Ids that end a model turn: end-of-turn, EOS (tokenizer and
  /// generation_config.json eos_token_id), and for Gemma 4 <|tool_response>
  /// (the model stops there to wait for a tool result). No duplicates.
  const std::vector<int32_t> &stopTokenIds() const { return stopIds_; }

private:
  std::string renderGemma3(const std::vector<ChatMessage> &, const ChatOptions &) const;
  std::string renderGemma4(const std::vector<ChatMessage> &, const ChatOptions &) const;
  ChatFormat format_ = ChatFormat::Gemma3;
  ChatMarkers markers_;
  std::vector<int32_t> stopIds_;
};

} // namespace gemma4rt

#endif
