//===- api.h - OpenAI-compatible requests and responses (--serve) -*- C++ -*-===//
//
// The JSON side of the HTTP server, apart from HTTP itself so that it can be
// unit tested and fuzzed: a request body -> a validated Request (or one
// ApiError naming the field), and the response / stream-chunk / error bodies.
//
// Requests (what /v1/chat/completions and /v1/completions accept):
//   model        string, optional (one model is served; any name is accepted)
//   messages     chat: non-empty array of {role, content, ...}; roles system,
//                developer, user, assistant, tool; content a string, null or
//                an array of {"type": "text", "text": ...} parts; assistant
//                tool_calls [{id, type: "function", function: {name,
//                arguments}}] and reasoning_content; tool tool_call_id, name
//   tools        chat: [{type: "function", function: {name, description,
//                parameters}}] (the template declares them)
//   prompt       completions: a string, [string], [ids] or [[ids]]
//   stream, stream_options.include_usage, max_tokens (max_completion_tokens),
//   temperature [0, 2], top_p (0, 1], top_k >= 0, min_p [0, 1],
//   repetition_penalty > 0, seed, stop (string or up to 4 strings), n (1 only)
// Unknown fields are ignored, null is the same as absent. Features we do not
// have (n > 1, logprobs, echo, best_of, suffix, non-text response formats,
// non-zero frequency/presence penalties, image parts) are 400 errors naming
// the field rather than silently ignored.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_API_H
#define GEMMA4RT_API_H

#include "gemma4rt/chat_template.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4rt::api {

/// An error answered as {"error": {"message", "type", "param", "code"}}
/// with HTTP `status`. Empty param/code are JSON null.
class ApiError : public std::runtime_error {
public:
  ApiError(int status, std::string message, std::string param = {}, std::string code = {},
           std::string type = "invalid_request_error")
      : std::runtime_error(message), status(status), param(std::move(param)),
        code(std::move(code)), type(std::move(type)) {}
  int status;
  std::string param, code, type;
};

enum class Endpoint { Chat, Completion };

struct Request {
  Endpoint endpoint = Endpoint::Chat;
  std::string model;

  // Chat.
  std::vector<ChatMessage> messages;
  std::vector<ToolDeclaration> tools;
  bool thinking = false; ///< chat_template_kwargs.enable_thinking

  // Completions: text (BOS first, no template) or token ids as given.
  std::string prompt;
  std::optional<std::vector<int32_t>> promptIds;

  bool stream = false;
  bool includeUsage = false; ///< stream_options.include_usage
  std::optional<int64_t> maxTokens;
  std::optional<double> temperature, topP, minP, repeatPenalty;
  std::optional<int64_t> topK;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
};

/// Most nested arrays/objects a body may have (deeper is a 400, checked
/// before parsing so that the recursive parser cannot exhaust the stack).
constexpr int kMaxJsonDepth = 64;

/// Parses and validates a request body. Throws ApiError (400) naming the
/// field, e.g. param "messages[1].role".
Request parseRequest(Endpoint endpoint, std::string_view body);

/// The JSON error body of `e`.
std::string errorBody(const ApiError &e);

enum class Finish { Stop, Length };
const char *finishName(Finish f); ///< "stop" / "length"

struct Usage {
  int64_t promptTokens = 0;
  int64_t completionTokens = 0;
};

/// Identity of one response: "chatcmpl-..." / "cmpl-...", creation time
/// (Unix seconds) and the model name.
struct ResponseId {
  std::string id;
  int64_t created = 0;
  std::string model;
};

/// A whole (non-streamed) response body.
std::string responseBody(Endpoint endpoint, const ResponseId &rid, const std::string &text,
                         Finish finish, const Usage &usage);

/// One server-sent event, "data: {...}\n\n", of a streamed response: the
/// first chat chunk carries the role (`role`), later ones `text`; the last
/// one `finish` (text empty). completion chunks carry text.
std::string streamChunk(Endpoint endpoint, const ResponseId &rid, const std::string &text,
                        bool role, std::optional<Finish> finish);
/// The usage chunk (stream_options.include_usage): empty choices.
std::string streamUsage(Endpoint endpoint, const ResponseId &rid, const Usage &usage);
/// "data: [DONE]\n\n".
std::string streamDone();

/// GET /v1/models.
std::string modelsBody(const std::string &model, int64_t created);

} // namespace gemma4rt::api

#endif
