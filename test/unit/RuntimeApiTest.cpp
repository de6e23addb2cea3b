//===- RuntimeApiTest.cpp - the server's request parsing and bodies --------===//
#include "gemma4rt/api.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace gemma4rt::api;
using json = nlohmann::json;

namespace {

/// The ApiError a body raises (status 0 when it parses).
ApiError errorOf(Endpoint ep, const std::string &body) {
  try {
    parseRequest(ep, body);
  } catch (const ApiError &e) {
    return e;
  }
  return ApiError(0, "parsed");
}

} // namespace

TEST(RuntimeApi, ChatRequestFields) {
  Request r = parseRequest(Endpoint::Chat, R"({
    "model": "m", "stream": true, "stream_options": {"include_usage": true},
    "messages": [
      {"role": "system", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "42"}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 3, "min_p": 0.1, "seed": -1,
    "stop": ["x", "yy"], "n": 1, "user": "ignored", "frequency_penalty": 0})");
  EXPECT_EQ(r.model, "m");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.includeUsage);
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[1].content, "ab");
  ASSERT_EQ(r.messages[2].toolCalls.size(), 1u);
  EXPECT_EQ(r.messages[2].toolCalls[0].arguments, "{\"x\":1}");
  EXPECT_EQ(r.messages[3].toolCallId, "c1");
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].parameters, "{\"type\":\"object\"}");
  EXPECT_EQ(*r.maxTokens, 7);
  EXPECT_DOUBLE_EQ(*r.temperature, 0.5);
  EXPECT_EQ(*r.topK, 3);
  EXPECT_EQ(*r.seed, UINT64_MAX);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"x", "yy"}));
}

TEST(RuntimeApi, NullIsAbsent) {
  Request r = parseRequest(Endpoint::Chat, R"({"messages": [{"role": "user", "content": "hi"}],
    "max_tokens": null, "temperature": null, "stop": null, "stream": null})");
  EXPECT_FALSE(r.maxTokens);
  EXPECT_FALSE(r.temperature);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_FALSE(r.stream);
}

TEST(RuntimeApi, CompletionPrompts) {
  EXPECT_EQ(parseRequest(Endpoint::Completion, R"({"prompt": "abc"})").prompt, "abc");
  EXPECT_EQ(parseRequest(Endpoint::Completion, R"({"prompt": ["abc"]})").prompt, "abc");
  EXPECT_EQ(*parseRequest(Endpoint::Completion, R"({"prompt": [2, 3]})").promptIds,
            (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(*parseRequest(Endpoint::Completion, R"({"prompt": [[4]]})").promptIds,
            (std::vector<int32_t>{4}));
  EXPECT_EQ(*parseRequest(Endpoint::Completion,
                          R"({"prompt": "x", "max_completion_tokens": 3, "max_tokens": 9})")
                 .maxTokens,
            3);
}

TEST(RuntimeApi, ErrorsNameTheField) {
  struct Case {
    Endpoint ep;
    const char *body, *param, *message;
  } cases[] = {
      {Endpoint::Chat, "{", "", "the request body is not valid JSON: "},
      {Endpoint::Chat, "[]", "", "the request body must be a JSON object, got an array"},
      {Endpoint::Chat, "{}", "messages", "'messages': missing"},
      {Endpoint::Chat, R"({"messages": []})", "messages", "'messages': empty array"},
      {Endpoint::Chat, R"({"messages": {}})", "messages",
       "'messages': expected an array, got an object"},
      {Endpoint::Chat, R"({"messages": [{"content": "x"}]})", "messages[0].role",
       "'messages[0].role': missing"},
      {Endpoint::Chat, R"({"messages": [{"role": "user", "content": "x"}, {"role": "bot"}]})",
       "messages[1].role", "'messages[1].role': unknown role \"bot\""},
      {Endpoint::Chat, R"({"messages": [{"role": "user", "content": 5}]})", "messages[0].content",
       "'messages[0].content': expected a string or an array of content parts, got an integer"},
      {Endpoint::Chat,
       R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
       "messages[0].content[0].type", "only \"text\" content parts"},
      {Endpoint::Chat, R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})",
       "max_tokens", "'max_tokens': 0 is out of range [1, "},
      {Endpoint::Chat, R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 2.5})",
       "max_tokens", "'max_tokens': expected an integer, got a number"},
      {Endpoint::Chat, R"({"messages": [{"role": "user", "content": "x"}], "temperature": "1"})",
       "temperature", "'temperature': expected a number, got a string"},
      {Endpoint::Chat, R"({"messages": [{"role": "user", "content": "x"}], "top_p": 0})", "top_p",
       "'top_p': 0 is out of range (0, 1]"},
      {Endpoint::Chat, R"({"messages": [{"role": "user", "content": "x"}], "n": 3})", "n",
       "'n': 3 is out of range [1, 1]"},
      {Endpoint::Chat, R"({"messages": [{"role": "user", "content": "x"}], "stop": ["a", ""]})",
       "stop[1]", "'stop[1]': empty stop sequence"},
      {Endpoint::Chat,
       R"({"messages": [{"role": "user", "content": "x"}], "stop": ["a","b","c","d","e"]})",
       "stop", "'stop': at most 4 stop sequences"},
      {Endpoint::Chat, R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true})",
       "logprobs", "not supported"},
      {Endpoint::Chat,
       R"({"messages": [{"role": "user", "content": "x"}], "presence_penalty": 1})",
       "presence_penalty", "not supported"},
      {Endpoint::Completion, R"({"prompt": 5})", "prompt",
       "'prompt': expected a string or an array, got an integer"},
      {Endpoint::Completion, R"({"prompt": ["a", "b"]})", "prompt", "one prompt per request"},
      {Endpoint::Completion, R"({"prompt": [1, -2]})", "prompt[1]",
       "'prompt[1]': -2 is out of range"},
      {Endpoint::Completion, R"({"prompt": "x", "echo": true})", "echo", "not supported"},
  };
  for (const Case &c : cases) {
    ApiError e = errorOf(c.ep, c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.param, c.param) << c.body;
    EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos)
        << c.body << " -> " << e.what();
  }
}

TEST(RuntimeApi, DeepNestingIsRefusedBeforeParsing) {
  ApiError e = errorOf(Endpoint::Chat, std::string(1000000, '['));
  EXPECT_EQ(e.status, 400);
  EXPECT_NE(std::string(e.what()).find("nests deeper than"), std::string::npos);
  // Brackets inside strings do not count.
  std::string ok = R"({"messages": [{"role": "user", "content": ")" + std::string(500, '[') +
                   R"("}]})";
  EXPECT_EQ(parseRequest(Endpoint::Chat, ok).messages[0].content, std::string(500, '['));
}

TEST(RuntimeApi, ErrorBodyShape) {
  json j = json::parse(errorBody(ApiError(400, "bad", "max_tokens", "c")));
  EXPECT_EQ(j["error"]["message"], "bad");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "max_tokens");
  EXPECT_EQ(j["error"]["code"], "c");
  j = json::parse(errorBody(ApiError(503, "busy", "", "", "server_error")));
  EXPECT_TRUE(j["error"]["param"].is_null());
  EXPECT_TRUE(j["error"]["code"].is_null());
}

TEST(RuntimeApi, ResponseBodies) {
  ResponseId rid{"chatcmpl-1", 5, "m"};
  json j = json::parse(responseBody(Endpoint::Chat, rid, "hi", Finish::Length, {3, 2}));
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "hi");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["total_tokens"], 5);
  std::string c = streamChunk(Endpoint::Chat, rid, "", true, std::nullopt);
  ASSERT_EQ(c.rfind("data: ", 0), 0u);
  ASSERT_EQ(c.substr(c.size() - 2), "\n\n");
  j = json::parse(c.substr(6));
  EXPECT_EQ(j["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["finish_reason"].is_null());
  j = json::parse(streamChunk(Endpoint::Completion, rid, "t", false, Finish::Stop).substr(6));
  EXPECT_EQ(j["choices"][0]["text"], "t");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(streamDone(), "data: [DONE]\n\n");
}
