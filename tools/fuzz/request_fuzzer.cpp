//===- request_fuzzer.cpp - libFuzzer target for the server's requests ---===//
//
// Feeds arbitrary bytes to gemma4rt::api::parseRequest as the body of a
// /v1/chat/completions and of a /v1/completions request. Any input must
// either give a Request that keeps the documented bounds or throw ApiError
// (status 400, an error body that is JSON naming a message); crashes, UB,
// stack exhaustion (deep nesting) and other exceptions are bugs.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/api.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace gemma4rt::api;

static void check(Endpoint ep, std::string_view body) {
  try {
    Request r = parseRequest(ep, body);
    if (ep == Endpoint::Chat && r.messages.empty())
      std::abort();
    if (ep == Endpoint::Completion && r.promptIds && r.promptIds->empty())
      std::abort();
    if (r.maxTokens && *r.maxTokens < 1)
      std::abort();
    if (r.temperature && (*r.temperature < 0 || *r.temperature > 2))
      std::abort();
    if (r.topP && (*r.topP <= 0 || *r.topP > 1))
      std::abort();
    if (r.stop.size() > 4)
      std::abort();
    for (const std::string &s : r.stop)
      if (s.empty())
        std::abort();
    // What a response would echo back must serialise.
    (void)responseBody(ep, {"id", 0, r.model}, r.prompt, Finish::Stop, {});
  } catch (const ApiError &e) {
    if (e.status != 400)
      std::abort();
    auto j = nlohmann::json::parse(errorBody(e), nullptr, false);
    if (!j.is_object() || !j["error"]["message"].is_string())
      std::abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view body(reinterpret_cast<const char *>(data), size);
  check(Endpoint::Chat, body);
  check(Endpoint::Completion, body);
  return 0;
}
