//===- scheduler.h - continuous batching over N sessions (--serve) -*- C++ -*-===//
//
// The server's engine: `slots` sessions (each its own KV arena, --parallel),
// a bounded queue of requests waiting for one (--queue), and one thread that
// runs the model. Each step of that thread:
//
//   1. admits queued requests into free slots (a slot's KV arena is reset),
//      and retires slots whose client went away (Ticket::cancel);
//   2. decodes one token for every slot that is generating (stepDecode);
//   3. prefills at most `prefillBudget` prompt tokens of slots still reading
//      their prompts (oldest first, in calls of at most the model's prefill
//      chunk), so that a long new prompt costs the running streams one
//      bounded delay per step instead of stalling them;
//   4. samples every slot whose logits are ready, streams the text, and
//      retires the ones that finished (stop token, stop string, max tokens,
//      end of the context).
//
// Each slot keeps its own sampler, history and detokenizer: one request's
// output depends only on its own prompt and parameters, whatever runs beside
// it. Only the scheduler thread touches sessions and slots; a request's
// Ticket is what it shares with the thread that serves the request.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_SCHEDULER_H
#define GEMMA4RT_SCHEDULER_H

#include "gemma4rt/sampler.h"
#include "gemma4rt/session.h"
#include "gemma4rt/text.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace gemma4rt {

/// What one request asks for, tokenized and validated.
struct GenerationJob {
  std::vector<int32_t> prompt; ///< non-empty, shorter than the context
  SamplerParams sampling;
  int64_t maxTokens = 1; ///< >= 1; prompt + maxTokens <= context
  std::vector<int32_t> stopIds;
  std::vector<std::string> stopStrings; ///< the text ends before the first one
};

enum class FinishReason { Stop, Length, Cancelled, Error };

/// A request's link between the scheduler (producer) and the thread that
/// answers it (consumer).
class Ticket {
public:
  struct Update {
    std::string text;  ///< new text since the last take()
    int64_t tokens = 0; ///< tokens sampled since the last take()
    bool done = false; ///< the last update: reason and counts are final
    FinishReason reason = FinishReason::Stop;
    int64_t promptTokens = 0, completionTokens = 0;
    std::string error; ///< reason Error: what went wrong
  };

  /// Waits until there is a new token or the request ended, at most
  /// `timeout`; returns (and clears) the text and token count gathered so
  /// far.
  Update take(std::chrono::milliseconds timeout);
  /// The client went away: the scheduler stops the generation at its next
  /// step (or drops the request from the queue).
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // The scheduler's side.
  void emit(const std::string &text);
  void sampled(); ///< one more token (its text, if any, comes by emit)
  void finish(FinishReason reason, int64_t promptTokens, int64_t completionTokens,
              std::string error = {});

private:
  std::mutex mu_;
  std::condition_variable cv_;
  Update pending_;
  bool done_ = false;
  std::atomic<bool> cancelled_{false};
};

/// One sequence position in the batch: a session and the request it serves.
struct Slot {
  enum class State { Free, Prefill, Decode };
  State state = State::Free;
  std::unique_ptr<Session> session;
  std::shared_ptr<Ticket> ticket;
  GenerationJob job;
  int64_t prefilled = 0;    ///< prompt tokens in the KV cache
  int32_t next = -1;        ///< Decode: the sampled token the next step feeds
  const float *logits = nullptr; ///< logits to sample from (after a call)
  int64_t generated = 0;    ///< tokens sampled
  std::vector<int32_t> history;
  std::optional<Sampler> sampler;
  std::unique_ptr<TextStream> text;
  std::string held; ///< text held back while it may begin a stop string
  uint64_t order = 0; ///< admission number (prefill goes oldest first)
};

struct SchedulerConfig {
  int slots = 1;
  int queue = 16;               ///< requests that may wait for a slot
  int64_t context = 0;          ///< per slot
  int64_t prefillBudget = 0;    ///< prompt tokens per step; 0 = the model's chunk
};

/// Counters for /metrics (a consistent snapshot).
struct SchedulerStats {
  int slots = 0, busy = 0, queued = 0;
  int64_t context = 0;
  int64_t kvTokens = 0; ///< positions held by the busy slots
  uint64_t admitted = 0, finished = 0, cancelled = 0, failed = 0;
  uint64_t promptTokens = 0, generatedTokens = 0;
  uint64_t steps = 0, decodeCalls = 0;
  double decodeSeconds = 0, prefillSeconds = 0;
  double recentTokensPerSecond = 0; ///< generated tokens/s over the last ~10 s
};

class Scheduler {
public:
  /// Creates the sessions (their KV arenas) and starts the thread. `codec`
  /// gives each slot its detokenizer (null: no text, ids only).
  Scheduler(const Payload &payload, EntryPoints entry, SchedulerConfig config, TextCodec *codec,
            Device *device = nullptr, const void *deviceWeights = nullptr);
  /// drain() then joins the thread.
  ~Scheduler();
  Scheduler(const Scheduler &) = delete;
  Scheduler &operator=(const Scheduler &) = delete;

  /// Queues a job; null when the queue is full or the scheduler is draining.
  std::shared_ptr<Ticket> submit(GenerationJob job);
  /// Refuses new jobs, finishes every queued and running one, stops the
  /// thread.
  void drain();

  SchedulerStats stats() const;
  const SchedulerConfig &config() const { return config_; }

  /// One decode step for `slots` (all in State::Decode): each feeds its
  /// `next` token at its session's position and gets its `logits`: one
  /// call of the generated batched decode entry (abi.h
  /// gemma4_decode_batch) for every B of them where the binary has it.
  void stepDecode(std::span<Slot *const> slots);

private:
  void loop();
  void admit(std::unique_lock<std::mutex> &lock);
  /// Samples from slot.logits, streams the text; retires the slot when it
  /// finished, else leaves it in Decode with `next` set.
  void sampleNext(Slot &slot);
  void sampleOne(Slot &slot);
  void emitText(Slot &slot, std::string text, bool final);
  void retire(Slot &slot, FinishReason reason, std::string error = {});

  const Payload &payload_;
  EntryPoints entry_;
  SchedulerConfig config_;
  TextCodec *codec_;
  std::unique_ptr<DecodeBatch> batch_; ///< the slots' shared arena (batched decoding)
  std::vector<Slot> slots_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<GenerationJob, std::shared_ptr<Ticket>>> queue_;
  bool draining_ = false;
  uint64_t admissions_ = 0;

  // Statistics (under mu_).
  SchedulerStats stats_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> recent_;

  std::thread thread_;
};

} // namespace gemma4rt

#endif
