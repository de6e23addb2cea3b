//===- Serve.cpp - the OpenAI-compatible HTTP server (--serve) -----------===//
//
// HTTP (cpp-httplib) on top of api.h (JSON) and scheduler.h (generation).
// Built with the server when the build found cpp-httplib's header-only
// httplib.h (GEMMA4RT_HAVE_HTTPLIB, scripts/fetch-httplib.sh); otherwise
// --serve says the runtime lacks it.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/serve.h"
#include "gemma4rt/error.h"

#ifndef GEMMA4RT_HAVE_HTTPLIB

namespace gemma4rt {
int serve(const ServeSetup &) {
  throw UsageError("--serve: this binary's runtime was built without the HTTP server "
                   "(gemma4c's build found no httplib.h: scripts/fetch-httplib.sh)");
}
} // namespace gemma4rt

#else

#include "gemma4rt/api.h"
#include "gemma4rt/scheduler.h"

// No TLS, no compression: nothing beyond libc and the C++ runtime.
#undef CPPHTTPLIB_OPENSSL_SUPPORT
#undef CPPHTTPLIB_ZLIB_SUPPORT
#undef CPPHTTPLIB_BROTLI_SUPPORT
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <poll.h>
#include <random>
#include <unistd.h>

namespace gemma4rt {

namespace {

using api::ApiError;
using api::Endpoint;
using Clock = std::chrono::steady_clock;

int gSignalPipe[2] = {-1, -1};

extern "C" void onTerminate(int) {
  int saved = errno;
  char c = 1;
  (void)!::write(gSignalPipe[1], &c, 1);
  errno = saved;
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Same bytes, time independent of where they differ.
bool sameKey(const std::string &a, const std::string &b) {
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < a.size(); ++i)
    diff |= (unsigned char)(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

class Server {
public:
  explicit Server(const ServeSetup &s)
      : setup_(s), o_(*s.options), manifest_(s.payload->manifest()),
        modelName_(manifest_.model.name.empty() ? "gemma4" : manifest_.model.name),
        created_(unixNow()) {
    if (o_.apiKey)
      apiKey_ = *o_.apiKey;
    else if (const char *k = std::getenv("GEMMA4_API_KEY"); k && *k)
      apiKey_ = k;
    std::random_device rd;
    idPrefix_ = fmtHex((uint64_t(rd()) << 32) ^ rd());
    if (!o_.ignoreEos)
      eosIds_ = manifest_.model.eosTokenIds;
    chatStopIds_ = eosIds_;
    for (int32_t t : s.codec->chatStopIds())
      if (std::find(chatStopIds_.begin(), chatStopIds_.end(), t) == chatStopIds_.end() &&
          !o_.ignoreEos)
        chatStopIds_.push_back(t);
    SchedulerConfig cfg;
    cfg.slots = o_.parallel;
    cfg.queue = o_.queue;
    cfg.context = s.context;
    cfg.prefillBudget = o_.prefillBudget.value_or(0);
    scheduler_ = std::make_unique<Scheduler>(*s.payload, s.entry, cfg, s.codec, s.device,
                                             s.deviceWeights);
  }

  int run();

private:
  static std::string fmtHex(uint64_t x) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)x);
    return buf;
  }

  void sendError(httplib::Response &res, const ApiError &e) {
    res.status = e.status;
    if (e.status == 503)
      res.set_header("Retry-After", "1");
    res.set_content(api::errorBody(e), "application/json");
  }

  GenerationJob makeJob(const api::Request &r);
  void generate(Endpoint endpoint, const httplib::Request &req, httplib::Response &res);
  std::string metrics();
  void count(const std::string &path, int status);

  const ServeSetup &setup_;
  const Options &o_;
  const Manifest &manifest_;
  std::string modelName_;
  int64_t created_;
  std::string apiKey_;
  std::string idPrefix_;
  std::atomic<uint64_t> nextId_{0};
  std::vector<int32_t> eosIds_, chatStopIds_;
  std::unique_ptr<Scheduler> scheduler_;

  std::atomic<bool> draining_{false};
  std::atomic<int64_t> inflight_{0};
  std::mutex countsMu_;
  std::map<std::pair<std::string, int>, uint64_t> counts_; ///< (endpoint, status) -> responses
  std::atomic<uint64_t> rejectedFull_{0};
};

GenerationJob Server::makeJob(const api::Request &r) {
  GenerationJob job;
  const int64_t ctx = setup_.context;
  const int64_t V = manifest_.model.vocabSize;
  TextCodec &codec = *setup_.codec;
  if (r.endpoint == Endpoint::Chat) {
    Conversation conv;
    conv.messages = r.messages;
    conv.tools = r.tools;
    conv.thinking = r.thinking || o_.think;
    try {
      job.prompt = codec.encodeConversation(conv, "messages");
    } catch (const Error &e) {
      throw ApiError(400, e.what(), "messages");
    }
    job.stopIds = chatStopIds_;
  } else {
    if (r.promptIds) {
      job.prompt = *r.promptIds;
      for (size_t i = 0; i < job.prompt.size(); ++i)
        if (job.prompt[i] >= V)
          throw ApiError(400,
                         "'prompt': token id " + std::to_string(job.prompt[i]) +
                             " is outside [0, " + std::to_string(V) + ")",
                         "prompt");
    } else {
      try {
        job.prompt = codec.encodeText(r.prompt, "prompt");
      } catch (const Error &e) {
        throw ApiError(400, e.what(), "prompt");
      }
    }
    job.stopIds = eosIds_;
  }
  const int64_t P = int64_t(job.prompt.size());
  if (P == 0)
    throw ApiError(400, "the prompt encodes to no tokens",
                   r.endpoint == Endpoint::Chat ? "messages" : "prompt");
  if (P >= ctx)
    throw ApiError(400,
                   "this model's context is " + std::to_string(ctx) +
                       " tokens, and the prompt has " + std::to_string(P) +
                       " (no room to generate)",
                   r.endpoint == Endpoint::Chat ? "messages" : "prompt",
                   "context_length_exceeded");
  if (r.maxTokens) {
    if (P + *r.maxTokens > ctx)
      throw ApiError(400,
                     "this model's context is " + std::to_string(ctx) + " tokens; the prompt (" +
                         std::to_string(P) + ") and max_tokens (" +
                         std::to_string(*r.maxTokens) + ") do not fit",
                     "max_tokens", "context_length_exceeded");
    job.maxTokens = *r.maxTokens;
  } else {
    job.maxTokens = std::min(ctx - P, o_.maxNewTokens.value_or(ctx));
    if (job.maxTokens < 1)
      job.maxTokens = 1;
  }
  SamplerParams sp = setup_.sampling;
  if (r.temperature) {
    sp.temperature = *r.temperature;
    sp.greedy = false;
  }
  if (r.topK)
    sp.topK = *r.topK;
  if (r.topP)
    sp.topP = *r.topP;
  if (r.minP)
    sp.minP = *r.minP;
  if (r.repeatPenalty)
    sp.repeatPenalty = *r.repeatPenalty;
  if (r.seed)
    sp.seed = *r.seed;
  else if (!setup_.seedGiven)
    sp.seed = freshSeed();
  job.sampling = sp;
  job.stopStrings = r.stop;
  return job;
}

void Server::count(const std::string &path, int status) {
  std::string ep = path == "/v1/chat/completions" || path == "/v1/completions" ||
                           path == "/v1/models" || path == "/health" || path == "/metrics"
                       ? path
                       : "other";
  std::lock_guard<std::mutex> lock(countsMu_);
  ++counts_[{ep, status}];
}

void Server::generate(Endpoint endpoint, const httplib::Request &req, httplib::Response &res) {
  // Counted before the draining check: shutdown waits for what it counts.
  ++inflight_;
  bool handedOff = false;
  struct Done {
    std::atomic<int64_t> &n;
    bool &handedOff;
    ~Done() {
      if (!handedOff)
        --n;
    }
  } done{inflight_, handedOff};
  if (draining_)
    throw ApiError(503, "the server is shutting down", "", "shutting_down", "server_error");
  api::Request r = api::parseRequest(endpoint, req.body);
  GenerationJob job = makeJob(r);
  const int64_t promptTokens = int64_t(job.prompt.size());
  std::shared_ptr<Ticket> ticket = scheduler_->submit(std::move(job));
  if (!ticket) {
    ++rejectedFull_;
    throw ApiError(503,
                   draining_ ? "the server is shutting down"
                             : "the server is busy: all " + std::to_string(o_.parallel) +
                                   " sequences are generating and " +
                                   std::to_string(o_.queue) + " requests wait; retry later",
                   "", draining_ ? "shutting_down" : "queue_full", "server_error");
  }
  api::ResponseId rid;
  rid.id = std::string(endpoint == Endpoint::Chat ? "chatcmpl-" : "cmpl-") + idPrefix_ +
           std::to_string(nextId_.fetch_add(1));
  rid.created = unixNow();
  rid.model = modelName_;

  auto finishOf = [](const Ticket::Update &u) {
    return u.reason == FinishReason::Length ? api::Finish::Length : api::Finish::Stop;
  };

  if (!r.stream) {
    std::string text;
    for (;;) {
      Ticket::Update u = ticket->take(std::chrono::milliseconds(500));
      text += u.text;
      if (!u.done)
        continue;
      if (u.reason == FinishReason::Error)
        throw ApiError(500, "generation failed: " + u.error, "", "", "server_error");
      res.set_content(api::responseBody(endpoint, rid, text, finishOf(u),
                                        {u.promptTokens, u.completionTokens}),
                      "application/json");
      return;
    }
  }

  // Streamed: one event per piece of text, then the finish reason, the
  // usage (if asked for) and [DONE]. A failed write or a closed connection
  // cancels the generation.
  struct StreamState {
    std::shared_ptr<Ticket> ticket;
    api::ResponseId rid;
    Endpoint endpoint;
    bool includeUsage;
    bool started = false;
    int64_t promptTokens;
  };
  auto st = std::make_shared<StreamState>(
      StreamState{ticket, rid, endpoint, r.includeUsage, false, promptTokens});
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  std::atomic<int64_t> *inflight = &inflight_;
  res.set_chunked_content_provider(
      "text/event-stream",
      [st](size_t, httplib::DataSink &sink) -> bool {
        auto write = [&](const std::string &s) {
          if (!sink.write(s.data(), s.size())) {
            st->ticket->cancel();
            return false;
          }
          return true;
        };
        if (!st->started) {
          st->started = true;
          if (st->endpoint == Endpoint::Chat &&
              !write(api::streamChunk(st->endpoint, st->rid, "", true, std::nullopt)))
            return false;
        }
        Ticket::Update u = st->ticket->take(std::chrono::milliseconds(250));
        if (!sink.is_writable()) {
          st->ticket->cancel();
          return false;
        }
        // An event per step that sampled tokens, even without text (special
        // tokens, a character still incomplete, text held back while it may
        // start a stop string): clients see progress, and a closed
        // connection is noticed while the model emits no text.
        if ((!u.text.empty() || (u.tokens > 0 && !u.done)) &&
            !write(api::streamChunk(st->endpoint, st->rid, u.text, false, std::nullopt)))
          return false;
        if (!u.done)
          return true;
        if (u.reason == FinishReason::Error) {
          ApiError e(500, "generation failed: " + u.error, "", "", "server_error");
          write("data: " + api::errorBody(e) + "\n\n");
        } else {
          api::Finish f =
              u.reason == FinishReason::Length ? api::Finish::Length : api::Finish::Stop;
          if (!write(api::streamChunk(st->endpoint, st->rid, "", false, f)))
            return false;
          if (st->includeUsage &&
              !write(api::streamUsage(st->endpoint, st->rid,
                                      {u.promptTokens, u.completionTokens})))
            return false;
        }
        write(api::streamDone());
        sink.done();
        return true;
      },
      [st, inflight](bool success) {
        if (!success)
          st->ticket->cancel();
        --*inflight;
      });
  handedOff = true;
}

std::string Server::metrics() {
  SchedulerStats s = scheduler_->stats();
  std::string out;
  char buf[512];
  auto metric = [&](const char *name, const char *type, const char *help, double v) {
    std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name,
                  type, name, v);
    out += buf;
  };
  out += "# HELP gemma4_http_responses_total HTTP responses by endpoint and status.\n"
         "# TYPE gemma4_http_responses_total counter\n";
  {
    std::lock_guard<std::mutex> lock(countsMu_);
    for (auto &[key, n] : counts_) {
      std::snprintf(buf, sizeof buf,
                    "gemma4_http_responses_total{endpoint=\"%s\",code=\"%d\"} %llu\n",
                    key.first.c_str(), key.second, (unsigned long long)n);
      out += buf;
    }
  }
  metric("gemma4_requests_admitted_total", "counter", "Requests that got a slot.",
         double(s.admitted));
  metric("gemma4_requests_finished_total", "counter",
         "Requests that generated to a stop or their length.", double(s.finished));
  metric("gemma4_requests_cancelled_total", "counter",
         "Requests whose client went away before the end.", double(s.cancelled));
  metric("gemma4_requests_failed_total", "counter", "Requests the model failed on.",
         double(s.failed));
  metric("gemma4_requests_rejected_total", "counter",
         "Requests answered 503 because the queue was full.", double(rejectedFull_.load()));
  metric("gemma4_prompt_tokens_total", "counter", "Prompt tokens prefilled.",
         double(s.promptTokens));
  metric("gemma4_generated_tokens_total", "counter", "Tokens sampled.",
         double(s.generatedTokens));
  metric("gemma4_generated_tokens_per_second", "gauge",
         "Tokens sampled per second over the last 10 seconds.", s.recentTokensPerSecond);
  metric("gemma4_decode_tokens_total", "counter", "Tokens run through decode steps.",
         double(s.decodeCalls));
  metric("gemma4_decode_seconds_total", "counter", "Time in decode steps.", s.decodeSeconds);
  metric("gemma4_prefill_seconds_total", "counter", "Time in prefill calls.", s.prefillSeconds);
  metric("gemma4_scheduler_steps_total", "counter", "Scheduler steps.", double(s.steps));
  metric("gemma4_queue_depth", "gauge", "Requests waiting for a slot.", double(s.queued));
  metric("gemma4_queue_capacity", "gauge", "Requests that may wait (--queue).",
         double(o_.queue));
  metric("gemma4_slots_busy", "gauge", "Sequences being generated.", double(s.busy));
  metric("gemma4_slots_total", "gauge", "Sequences at once (--parallel).", double(s.slots));
  metric("gemma4_kv_tokens_used", "gauge", "Positions held in the busy slots' KV caches.",
         double(s.kvTokens));
  metric("gemma4_kv_tokens_capacity", "gauge", "Positions of all slots' KV caches.",
         double(s.context) * s.slots);
  metric("gemma4_kv_usage_ratio", "gauge", "KV positions used / capacity.",
         s.context > 0 ? double(s.kvTokens) / (double(s.context) * s.slots) : 0.0);
  return out;
}

int Server::run() {
  httplib::Server svr;
  // A thread per connection being served: every slot and queued request can
  // stream, and a few more answer /health, /metrics and 503s meanwhile.
  const size_t threads = size_t(o_.parallel) + size_t(o_.queue) + 8;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which
  // would let a second server bind the same port and share its traffic.
  svr.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.set_payload_max_length(size_t(o_.maxBody));
  svr.set_read_timeout(30);
  svr.set_write_timeout(30);
  svr.set_keep_alive_timeout(2);
  svr.set_keep_alive_max_count(1000);

  svr.set_pre_routing_handler([this](const httplib::Request &req, httplib::Response &res) {
    if (apiKey_.empty() || req.path.rfind("/v1/", 0) != 0)
      return httplib::Server::HandlerResponse::Unhandled;
    std::string auth = req.get_header_value("Authorization");
    const std::string bearer = "Bearer ";
    if (auth.rfind(bearer, 0) == 0 && sameKey(auth.substr(bearer.size()), apiKey_))
      return httplib::Server::HandlerResponse::Unhandled;
    sendError(res, ApiError(401,
                            auth.empty() ? "missing API key (Authorization: Bearer KEY)"
                                         : "incorrect API key",
                            "", "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });
  svr.set_error_handler([this](const httplib::Request &req, httplib::Response &res) {
    if (!res.body.empty())
      return;
    std::string msg;
    switch (res.status) {
    case 404: msg = "no such endpoint: " + req.method + " " + req.path; break;
    case 413:
      msg = "the request body is larger than --max-body (" + std::to_string(o_.maxBody) +
            " bytes)";
      break;
    default: msg = std::string(httplib::detail::status_message(res.status)); break;
    }
    sendError(res, ApiError(res.status, msg, "", res.status == 413 ? "body_too_large" : "",
                            res.status >= 500 ? "server_error" : "invalid_request_error"));
  });
  svr.set_exception_handler(
      [this](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const ApiError &e) {
          sendError(res, e);
        } catch (const std::exception &e) {
          sendError(res, ApiError(500, e.what(), "", "", "server_error"));
        } catch (...) {
          sendError(res, ApiError(500, "internal error", "", "", "server_error"));
        }
      });
  svr.set_post_routing_handler(
      [this](const httplib::Request &req, httplib::Response &res) { count(req.path, res.status); });

  svr.Get("/health", [this](const httplib::Request &, httplib::Response &res) {
    if (draining_) {
      res.status = 503;
      res.set_content("{\"status\":\"draining\"}", "application/json");
    } else {
      res.set_content("{\"status\":\"ok\"}", "application/json");
    }
  });
  svr.Get("/v1/models", [this](const httplib::Request &, httplib::Response &res) {
    res.set_content(api::modelsBody(modelName_, created_), "application/json");
  });
  svr.Get("/metrics", [this](const httplib::Request &, httplib::Response &res) {
    res.set_content(metrics(), "text/plain; version=0.0.4");
  });
  svr.Post("/v1/chat/completions", [this](const httplib::Request &req, httplib::Response &res) {
    generate(Endpoint::Chat, req, res);
  });
  svr.Post("/v1/completions", [this](const httplib::Request &req, httplib::Response &res) {
    generate(Endpoint::Completion, req, res);
  });

  int port = o_.port;
  if (port == 0) {
    port = svr.bind_to_any_port(o_.host);
    if (port <= 0)
      throw Error("--host: cannot listen on " + o_.host + " (any port): " +
                  std::strerror(errno));
  } else if (!svr.bind_to_port(o_.host, port)) {
    throw Error("--port: cannot listen on " + o_.host + ":" + std::to_string(port) + ": " +
                std::strerror(errno));
  }

  // SIGTERM/SIGINT: a pipe wakes the watcher, which stops new work, waits
  // for what is in flight and then stops the listener.
  if (::pipe(gSignalPipe) != 0)
    throw Error(std::string("cannot create a pipe: ") + std::strerror(errno));
  struct sigaction sa {};
  sa.sa_handler = onTerminate;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  std::atomic<bool> listening{true};
  std::thread watcher([&] {
    pollfd p{gSignalPipe[0], POLLIN, 0};
    while (listening) {
      if (::poll(&p, 1, 200) <= 0)
        continue;
      char c;
      (void)!::read(gSignalPipe[0], &c, 1);
      if (!listening)
        return;
      std::fprintf(stderr, "%s: shutting down: finishing %lld request(s) in flight\n",
                   setup_.prog.c_str(), (long long)inflight_.load());
      draining_ = true;
      while (inflight_.load() > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      svr.stop();
      return;
    }
  });

  std::fprintf(stderr, "%s: listening on http://%s:%d (%d sequences of %lld tokens, queue %d)\n",
               setup_.prog.c_str(), o_.host.c_str(), port, o_.parallel,
               (long long)setup_.context, o_.queue);
  std::fflush(stderr);
  bool ok = svr.listen_after_bind();
  listening = false;
  char c = 0;
  (void)!::write(gSignalPipe[1], &c, 1);
  watcher.join();
  scheduler_->drain();
  if (!ok && !draining_)
    throw Error("the HTTP server stopped unexpectedly");
  SchedulerStats s = scheduler_->stats();
  std::fprintf(stderr, "%s: served %llu requests, %llu tokens generated; bye\n",
               setup_.prog.c_str(), (unsigned long long)(s.finished + s.cancelled + s.failed),
               (unsigned long long)s.generatedTokens);
  return 0;
}

} // namespace

int serve(const ServeSetup &setup) {
  if (!setup.codec)
    throw UsageError("--serve: this binary has no tokenizer");
  Server server(setup);
  return server.run();
}

} // namespace gemma4rt

#endif
