//===- Api.cpp - OpenAI-compatible request parsing and response bodies ---===//
#include "gemma4rt/api.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace gemma4rt::api {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string &param, const std::string &msg,
                      const std::string &code = {}) {
  throw ApiError(400, "'" + param + "': " + msg, param, code);
}

const char *typeName(const json &v) {
  switch (v.type()) {
  case json::value_t::null: return "null";
  case json::value_t::boolean: return "a boolean";
  case json::value_t::string: return "a string";
  case json::value_t::array: return "an array";
  case json::value_t::object: return "an object";
  case json::value_t::number_float: return "a number";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned: return "an integer";
  default: return "a value";
  }
}

[[noreturn]] void wrongType(const std::string &param, const char *want, const json &v) {
  bad(param, std::string("expected ") + want + ", got " + typeName(v));
}

/// The member `key` of object `o` unless absent or null.
const json *member(const json &o, const char *key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null())
    return nullptr;
  return &*it;
}

std::string getString(const json &v, const std::string &param) {
  if (!v.is_string())
    wrongType(param, "a string", v);
  return v.get<std::string>();
}

bool getBool(const json &v, const std::string &param) {
  if (!v.is_boolean())
    wrongType(param, "a boolean", v);
  return v.get<bool>();
}

int64_t getInt(const json &v, const std::string &param, int64_t lo, int64_t hi) {
  if (v.is_number_unsigned()) {
    uint64_t x = v.get<uint64_t>();
    if (x > uint64_t(hi) || (lo > 0 && x < uint64_t(lo)))
      bad(param, std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
    return int64_t(x);
  }
  if (!v.is_number_integer())
    wrongType(param, "an integer", v);
  int64_t x = v.get<int64_t>();
  if (x < lo || x > hi)
    bad(param, std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "]");
  return x;
}

double getReal(const json &v, const std::string &param, double lo, double hi, bool loOpen,
               const char *range) {
  if (!v.is_number())
    wrongType(param, "a number", v);
  double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi || (loOpen && x == lo))
    bad(param, v.dump() + " is out of range " + range);
  return x;
}

/// content: a string, null, or [{"type": "text", "text": ...}] (joined).
std::string getContent(const json &m, const std::string &param) {
  const json *c = member(m, "content");
  if (!c)
    return {};
  if (c->is_string())
    return c->get<std::string>();
  if (!c->is_array())
    wrongType(param, "a string or an array of content parts", *c);
  std::string text;
  for (size_t j = 0; j < c->size(); ++j) {
    const json &part = (*c)[j];
    std::string pp = param + "[" + std::to_string(j) + "]";
    if (!part.is_object())
      wrongType(pp, "an object", part);
    const json *type = member(part, "type");
    if (!type)
      bad(pp + ".type", "missing");
    std::string t = getString(*type, pp + ".type");
    if (t != "text")
      bad(pp + ".type", "only \"text\" content parts are supported, got \"" + t + "\"");
    const json *tx = member(part, "text");
    if (!tx)
      bad(pp + ".text", "missing");
    text += getString(*tx, pp + ".text");
  }
  return text;
}

/// A JSON object given as text (tool arguments) or as an object.
std::string objectText(const json &v, const std::string &param) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.empty())
      return s;
    // The template renders the arguments; they must be an object.
    json parsed = json::parse(s, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object())
      bad(param, "expected a JSON object in the string");
    return s;
  }
  if (!v.is_object())
    wrongType(param, "an object or a JSON string", v);
  return v.dump();
}

ChatMessage parseMessage(const json &m, size_t i) {
  std::string p = "messages[" + std::to_string(i) + "]";
  if (!m.is_object())
    wrongType(p, "an object", m);
  ChatMessage msg;
  const json *role = member(m, "role");
  if (!role)
    bad(p + ".role", "missing");
  msg.role = getString(*role, p + ".role");
  if (msg.role != "system" && msg.role != "developer" && msg.role != "user" &&
      msg.role != "assistant" && msg.role != "tool")
    bad(p + ".role", "unknown role \"" + msg.role +
                         "\" (expected system, developer, user, assistant or tool)");
  msg.content = getContent(m, p + ".content");
  if (const json *n = member(m, "name"))
    (void)getString(*n, p + ".name");
  if (msg.role == "assistant") {
    if (const json *r = member(m, "reasoning_content"))
      msg.thinking = getString(*r, p + ".reasoning_content");
    if (const json *tc = member(m, "tool_calls")) {
      if (!tc->is_array())
        wrongType(p + ".tool_calls", "an array", *tc);
      for (size_t j = 0; j < tc->size(); ++j) {
        const json &c = (*tc)[j];
        std::string cp = p + ".tool_calls[" + std::to_string(j) + "]";
        if (!c.is_object())
          wrongType(cp, "an object", c);
        ToolCall call;
        if (const json *id = member(c, "id"))
          call.id = getString(*id, cp + ".id");
        if (const json *t = member(c, "type"); t && getString(*t, cp + ".type") != "function")
          bad(cp + ".type", "only \"function\" tool calls are supported");
        const json *f = member(c, "function");
        if (!f)
          bad(cp + ".function", "missing");
        if (!f->is_object())
          wrongType(cp + ".function", "an object", *f);
        const json *name = member(*f, "name");
        if (!name)
          bad(cp + ".function.name", "missing");
        call.name = getString(*name, cp + ".function.name");
        if (const json *a = member(*f, "arguments"))
          call.arguments = objectText(*a, cp + ".function.arguments");
        msg.toolCalls.push_back(std::move(call));
      }
    }
  } else if (msg.role == "tool") {
    if (const json *id = member(m, "tool_call_id"))
      msg.toolCallId = getString(*id, p + ".tool_call_id");
    if (const json *n = member(m, "name"))
      msg.toolName = getString(*n, p + ".name");
  }
  return msg;
}

ToolDeclaration parseTool(const json &t, size_t i) {
  std::string p = "tools[" + std::to_string(i) + "]";
  if (!t.is_object())
    wrongType(p, "an object", t);
  if (const json *type = member(t, "type"); type && getString(*type, p + ".type") != "function")
    bad(p + ".type", "only \"function\" tools are supported");
  const json *f = member(t, "function");
  if (!f)
    bad(p + ".function", "missing");
  if (!f->is_object())
    wrongType(p + ".function", "an object", *f);
  ToolDeclaration d;
  const json *name = member(*f, "name");
  if (!name)
    bad(p + ".function.name", "missing");
  d.name = getString(*name, p + ".function.name");
  if (d.name.empty())
    bad(p + ".function.name", "empty");
  if (const json *desc = member(*f, "description"))
    d.description = getString(*desc, p + ".function.description");
  if (const json *params = member(*f, "parameters")) {
    if (!params->is_object())
      wrongType(p + ".function.parameters", "an object", *params);
    d.parameters = params->dump();
  }
  return d;
}

std::vector<int32_t> parseIds(const json &a, const std::string &param) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < a.size(); ++i)
    ids.push_back(int32_t(getInt(a[i], param + "[" + std::to_string(i) + "]", 0,
                                 std::numeric_limits<int32_t>::max())));
  if (ids.empty())
    bad(param, "empty token list");
  return ids;
}

void parsePrompt(const json &p, Request &r) {
  if (p.is_string()) {
    r.prompt = p.get<std::string>();
    return;
  }
  if (!p.is_array())
    wrongType("prompt", "a string or an array", p);
  if (p.empty())
    bad("prompt", "empty array");
  if (p[0].is_number_integer()) {
    r.promptIds = parseIds(p, "prompt");
    return;
  }
  if (p.size() != 1)
    bad("prompt", "one prompt per request is supported, got " + std::to_string(p.size()));
  if (p[0].is_string())
    r.prompt = p[0].get<std::string>();
  else if (p[0].is_array())
    r.promptIds = parseIds(p[0], "prompt[0]");
  else
    wrongType("prompt[0]", "a string or an array of token ids", p[0]);
}

/// The nesting depth of a JSON text, counted outside strings (the parser
/// recurses once per level); stops counting past `limit`.
int jsonDepth(std::string_view s, int limit) {
  int depth = 0, most = 0;
  bool inString = false, escaped = false;
  for (char c : s) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    else if (c == '[' || c == '{') {
      most = std::max(most, ++depth);
      if (most > limit)
        return most;
    } else if ((c == ']' || c == '}') && depth > 0)
      --depth;
  }
  return most;
}

} // namespace

Request parseRequest(Endpoint endpoint, std::string_view body) {
  if (jsonDepth(body, kMaxJsonDepth) > kMaxJsonDepth)
    throw ApiError(400, "the JSON body nests deeper than " + std::to_string(kMaxJsonDepth) +
                            " levels");
  json j;
  try {
    j = json::parse(body.begin(), body.end());
  } catch (const json::exception &e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1,
    // column 2: syntax error ..."; keep what follows the bracket.
    std::string what = e.what();
    if (auto k = what.find("] "); k != std::string::npos)
      what = what.substr(k + 2);
    throw ApiError(400, "the request body is not valid JSON: " + what);
  }
  if (!j.is_object())
    throw ApiError(400, std::string("the request body must be a JSON object, got ") +
                            typeName(j));

  Request r;
  r.endpoint = endpoint;
  if (const json *m = member(j, "model"))
    r.model = getString(*m, "model");

  if (endpoint == Endpoint::Chat) {
    const json *msgs = member(j, "messages");
    if (!msgs)
      bad("messages", "missing");
    if (!msgs->is_array())
      wrongType("messages", "an array", *msgs);
    if (msgs->empty())
      bad("messages", "empty array");
    for (size_t i = 0; i < msgs->size(); ++i)
      r.messages.push_back(parseMessage((*msgs)[i], i));
    if (const json *tools = member(j, "tools")) {
      if (!tools->is_array())
        wrongType("tools", "an array", *tools);
      for (size_t i = 0; i < tools->size(); ++i)
        r.tools.push_back(parseTool((*tools)[i], i));
    }
    if (const json *kw = member(j, "chat_template_kwargs")) {
      if (!kw->is_object())
        wrongType("chat_template_kwargs", "an object", *kw);
      if (const json *t = member(*kw, "enable_thinking"))
        r.thinking = getBool(*t, "chat_template_kwargs.enable_thinking");
    }
    if (const json *lp = member(j, "logprobs"); lp && getBool(*lp, "logprobs"))
      bad("logprobs", "log probabilities are not supported");
    if (const json *tl = member(j, "top_logprobs"))
      (void)getInt(*tl, "top_logprobs", 0, 0);
    if (const json *rf = member(j, "response_format")) {
      if (!rf->is_object())
        wrongType("response_format", "an object", *rf);
      const json *t = member(*rf, "type");
      if (t && getString(*t, "response_format.type") != "text")
        bad("response_format.type", "only \"text\" is supported");
    }
  } else {
    const json *p = member(j, "prompt");
    if (!p)
      bad("prompt", "missing");
    parsePrompt(*p, r);
    if (const json *e = member(j, "echo"); e && getBool(*e, "echo"))
      bad("echo", "echo is not supported");
    if (const json *b = member(j, "best_of"))
      (void)getInt(*b, "best_of", 1, 1);
    if (const json *lp = member(j, "logprobs"))
      bad("logprobs", "log probabilities are not supported");
    if (const json *s = member(j, "suffix"); s && !getString(*s, "suffix").empty())
      bad("suffix", "suffix is not supported");
  }

  if (const json *s = member(j, "stream"))
    r.stream = getBool(*s, "stream");
  if (const json *so = member(j, "stream_options")) {
    if (!so->is_object())
      wrongType("stream_options", "an object", *so);
    if (const json *u = member(*so, "include_usage"))
      r.includeUsage = getBool(*u, "stream_options.include_usage");
  }
  constexpr int64_t kMaxTokens = int64_t(1) << 40;
  if (const json *m = member(j, "max_completion_tokens"))
    r.maxTokens = getInt(*m, "max_completion_tokens", 1, kMaxTokens);
  else if (const json *m = member(j, "max_tokens"))
    r.maxTokens = getInt(*m, "max_tokens", 1, kMaxTokens);
  if (const json *n = member(j, "n"))
    (void)getInt(*n, "n", 1, 1);
  if (const json *t = member(j, "temperature"))
    r.temperature = getReal(*t, "temperature", 0, 2, false, "[0, 2]");
  if (const json *t = member(j, "top_p"))
    r.topP = getReal(*t, "top_p", 0, 1, true, "(0, 1]");
  if (const json *t = member(j, "min_p"))
    r.minP = getReal(*t, "min_p", 0, 1, false, "[0, 1]");
  if (const json *t = member(j, "top_k"))
    r.topK = getInt(*t, "top_k", 0, std::numeric_limits<int32_t>::max());
  if (const json *t = member(j, "repetition_penalty"))
    r.repeatPenalty = getReal(*t, "repetition_penalty", 0, 1e6, true, "(0, inf)");
  if (const json *s = member(j, "seed")) {
    if (s->is_number_unsigned())
      r.seed = s->get<uint64_t>();
    else if (s->is_number_integer())
      r.seed = uint64_t(s->get<int64_t>());
    else
      wrongType("seed", "an integer", *s);
  }
  for (const char *pen : {"frequency_penalty", "presence_penalty"})
    if (const json *v = member(j, pen); v && getReal(*v, pen, -2, 2, false, "[-2, 2]") != 0)
      bad(pen, "not supported (use repetition_penalty)");
  if (const json *s = member(j, "stop")) {
    if (s->is_string()) {
      r.stop.push_back(s->get<std::string>());
    } else if (s->is_array()) {
      if (s->size() > 4)
        bad("stop", "at most 4 stop sequences, got " + std::to_string(s->size()));
      for (size_t i = 0; i < s->size(); ++i)
        r.stop.push_back(getString((*s)[i], "stop[" + std::to_string(i) + "]"));
    } else {
      wrongType("stop", "a string or an array of strings", *s);
    }
    for (size_t i = 0; i < r.stop.size(); ++i)
      if (r.stop[i].empty())
        bad(s->is_string() ? std::string("stop") : "stop[" + std::to_string(i) + "]",
            "empty stop sequence");
  }
  return r;
}

namespace {

json nullable(const std::string &s) { return s.empty() ? json(nullptr) : json(s); }

std::string dumpJson(const json &j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json usageJson(const Usage &u) {
  return {{"prompt_tokens", u.promptTokens},
          {"completion_tokens", u.completionTokens},
          {"total_tokens", u.promptTokens + u.completionTokens}};
}

} // namespace

std::string errorBody(const ApiError &e) {
  json j = {{"error",
             {{"message", e.what()},
              {"type", e.type},
              {"param", nullable(e.param)},
              {"code", nullable(e.code)}}}};
  return dumpJson(j);
}

const char *finishName(Finish f) { return f == Finish::Stop ? "stop" : "length"; }

std::string responseBody(Endpoint endpoint, const ResponseId &rid, const std::string &text,
                         Finish finish, const Usage &usage) {
  json choice;
  if (endpoint == Endpoint::Chat)
    choice = {{"index", 0},
              {"message", {{"role", "assistant"}, {"content", text}}},
              {"logprobs", nullptr},
              {"finish_reason", finishName(finish)}};
  else
    choice = {{"index", 0},
              {"text", text},
              {"logprobs", nullptr},
              {"finish_reason", finishName(finish)}};
  json j = {{"id", rid.id},
            {"object", endpoint == Endpoint::Chat ? "chat.completion" : "text_completion"},
            {"created", rid.created},
            {"model", rid.model},
            {"choices", json::array({choice})},
            {"usage", usageJson(usage)}};
  return dumpJson(j);
}

std::string streamChunk(Endpoint endpoint, const ResponseId &rid, const std::string &text,
                        bool role, std::optional<Finish> finish) {
  json choice;
  json reason = finish ? json(finishName(*finish)) : json(nullptr);
  if (endpoint == Endpoint::Chat) {
    json delta = json::object();
    if (role)
      delta["role"] = "assistant";
    if (!finish)
      delta["content"] = text;
    choice = {{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", reason}};
  } else {
    choice = {{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", reason}};
  }
  json j = {{"id", rid.id},
            {"object", endpoint == Endpoint::Chat ? "chat.completion.chunk" : "text_completion"},
            {"created", rid.created},
            {"model", rid.model},
            {"choices", json::array({choice})}};
  return "data: " + dumpJson(j) + "\n\n";
}

std::string streamUsage(Endpoint endpoint, const ResponseId &rid, const Usage &usage) {
  json j = {{"id", rid.id},
            {"object", endpoint == Endpoint::Chat ? "chat.completion.chunk" : "text_completion"},
            {"created", rid.created},
            {"model", rid.model},
            {"choices", json::array()},
            {"usage", usageJson(usage)}};
  return "data: " + dumpJson(j) + "\n\n";
}

std::string streamDone() { return "data: [DONE]\n\n"; }

std::string modelsBody(const std::string &model, int64_t created) {
  json j = {{"object", "list"},
            {"data", json::array({{{"id", model},
                                   {"object", "model"},
                                   {"created", created},
                                   {"owned_by", "gemma4c"}}})}};
  return dumpJson(j);
}

} // namespace gemma4rt::api
