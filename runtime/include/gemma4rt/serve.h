//===- serve.h - the compiled model as an OpenAI-compatible server -*- C++ -*-===//
//
// ./model --serve [--host ADDR] [--port N] [--parallel N] [--queue N]
//                 [--api-key KEY] [--max-body BYTES]
//
//   POST /v1/chat/completions  messages through the model's chat template
//   POST /v1/completions       a prompt as is (BOS first) or token ids
//   GET  /v1/models            the one model
//   GET  /health               {"status":"ok"} (503 "draining" on shutdown)
//   GET  /metrics              Prometheus text: requests, tokens, tokens/s,
//                              queue depth, busy slots, KV use
//
// HTTP is cpp-httplib's (Debian's cpp-httplib source package, compiled in
// header-only, without TLS or compression: the binary stays standalone);
// request bodies go through api.h, generation through scheduler.h. Streams
// are server-sent events. Errors are OpenAI-shaped JSON: 400 (bad request,
// prompt beyond the context), 401 (API key), 404, 413 (body over
// --max-body), 503 + Retry-After (queue full, shutting down), 500 (the
// model failed). A client that disconnects mid-stream cancels its
// generation. SIGTERM/SIGINT: new requests get 503, the ones in flight
// finish, then the server exits 0.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_SERVE_H
#define GEMMA4RT_SERVE_H

#include "gemma4rt/cli.h"
#include "gemma4rt/sampler.h"
#include "gemma4rt/session.h"
#include "gemma4rt/text.h"

#include <string>

namespace gemma4rt {

struct ServeSetup {
  const Options *options = nullptr;
  const Payload *payload = nullptr;
  EntryPoints entry;
  TextCodec *codec = nullptr; ///< required: the server speaks text
  int64_t context = 0;        ///< per slot
  SamplerParams sampling;     ///< the flags' defaults for every request
  bool seedGiven = false;     ///< --seed: every request without a seed uses it
  Device *device = nullptr;
  const void *deviceWeights = nullptr;
  std::string prog;
};

/// Runs the server until SIGTERM/SIGINT; returns the exit status. Throws
/// Error when it cannot listen, UsageError when this runtime was built
/// without the HTTP server.
int serve(const ServeSetup &setup);

} // namespace gemma4rt

#endif
