//===- Scheduler.cpp - continuous batching over N sessions ---------------===//
#include "gemma4rt/scheduler.h"
#include "gemma4rt/error.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace gemma4rt {

using Clock = std::chrono::steady_clock;

namespace {
double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
} // namespace

//===----------------------------------------------------------------------===//
// Ticket
//===----------------------------------------------------------------------===//

Ticket::Update Ticket::take(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout,
               [&] { return done_ || !pending_.text.empty() || pending_.tokens > 0; });
  Update u = pending_;
  pending_.text.clear();
  pending_.tokens = 0;
  u.done = done_;
  return u;
}

void Ticket::emit(const std::string &text) {
  if (text.empty())
    return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.text += text;
  }
  cv_.notify_all();
}

void Ticket::sampled() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++pending_.tokens;
  }
  cv_.notify_all();
}

void Ticket::finish(FinishReason reason, int64_t promptTokens, int64_t completionTokens,
                    std::string error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.reason = reason;
    pending_.promptTokens = promptTokens;
    pending_.completionTokens = completionTokens;
    pending_.error = std::move(error);
    done_ = true;
  }
  cv_.notify_all();
}

//===----------------------------------------------------------------------===//
// Scheduler
//===----------------------------------------------------------------------===//

Scheduler::Scheduler(const Payload &payload, EntryPoints entry, SchedulerConfig config,
                     TextCodec *codec, Device *device, const void *deviceWeights)
    : payload_(payload), entry_(entry), config_(config), codec_(codec) {
  if (config_.slots < 1)
    throw Error("the server needs at least one slot");
  if (config_.prefillBudget <= 0)
    config_.prefillBudget = std::max<int64_t>(1, payload.manifest().prefillChunk);
  slots_.resize(size_t(config_.slots));
  // Several slots of a CPU binary with a batched decode entry share one
  // KV arena, decoded together (DecodeBatch); otherwise one call a slot.
  // GEMMA4RT_DECODE_BATCH=0 keeps per-slot calls (bench/serve's
  // comparisons of both on one binary).
  const char *env = std::getenv("GEMMA4RT_DECODE_BATCH");
  const bool allowed = !(env && std::strcmp(env, "0") == 0);
  if (config_.slots > 1 && allowed && DecodeBatch::available(payload, entry, device))
    batch_ = std::make_unique<DecodeBatch>(payload, entry, config_.slots, config_.context);
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot &s = slots_[i];
    if (batch_)
      s.session = std::make_unique<Session>(payload, entry, *batch_, int(i));
    else
      s.session = std::make_unique<Session>(payload, entry, config_.context, device, deviceWeights);
    if (config_.slots > 1)
      s.session->setPrepareAhead(false);
  }
  stats_.slots = config_.slots;
  stats_.context = config_.context;
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
  drain();
  if (thread_.joinable())
    thread_.join();
}

std::shared_ptr<Ticket> Scheduler::submit(GenerationJob job) {
  auto ticket = std::make_shared<Ticket>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (draining_)
      return nullptr;
    if (int(queue_.size()) >= config_.queue) {
      // Requests whose clients left while waiting make room.
      std::erase_if(queue_, [&](auto &q) {
        if (!q.second->cancelled())
          return false;
        q.second->finish(FinishReason::Cancelled, 0, 0);
        ++stats_.cancelled;
        return true;
      });
      if (int(queue_.size()) >= config_.queue)
        return nullptr;
    }
    queue_.emplace_back(std::move(job), ticket);
  }
  cv_.notify_all();
  return ticket;
}

void Scheduler::drain() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SchedulerStats s = stats_;
  s.queued = int(queue_.size());
  // Generated tokens over the window kept in recent_ (~10 s).
  if (!recent_.empty()) {
    double span = seconds(recent_.front().first, Clock::now());
    int64_t n = 0;
    for (auto &r : recent_)
      n += r.second;
    s.recentTokensPerSecond = span > 0.5 ? double(n) / span : 0;
  }
  return s;
}

void Scheduler::admit(std::unique_lock<std::mutex> &) {
  for (Slot &s : slots_) {
    if (s.state != Slot::State::Free)
      continue;
    while (!queue_.empty() && queue_.front().second->cancelled()) {
      queue_.front().second->finish(FinishReason::Cancelled, 0, 0);
      queue_.pop_front();
      ++stats_.cancelled;
    }
    if (queue_.empty())
      return;
    auto [job, ticket] = std::move(queue_.front());
    queue_.pop_front();
    std::unique_ptr<TextStream> text;
    try {
      s.session->reset();
      text = codec_ ? codec_->newStream() : nullptr;
    } catch (const std::exception &e) {
      ticket->finish(FinishReason::Error, 0, 0, e.what());
      ++stats_.failed;
      continue; // this slot stays free for the next step
    }
    s.job = std::move(job);
    s.ticket = std::move(ticket);
    s.state = Slot::State::Prefill;
    s.prefilled = 0;
    s.next = -1;
    s.logits = nullptr;
    s.generated = 0;
    s.history = s.job.prompt;
    s.sampler.emplace(s.job.sampling, payload_.manifest().model.vocabSize);
    s.text = std::move(text);
    s.held.clear();
    s.order = admissions_++;
    ++stats_.admitted;
    ++stats_.busy;
  }
}

void Scheduler::retire(Slot &s, FinishReason reason, std::string error) {
  s.ticket->finish(reason, int64_t(s.job.prompt.size()), s.generated, std::move(error));
  s.ticket.reset();
  s.state = Slot::State::Free;
  s.text.reset();
  s.sampler.reset();
  s.history = {};
  std::lock_guard<std::mutex> lock(mu_);
  --stats_.busy;
  if (reason == FinishReason::Cancelled)
    ++stats_.cancelled;
  else if (reason == FinishReason::Error)
    ++stats_.failed;
  else
    ++stats_.finished;
}

void Scheduler::emitText(Slot &s, std::string text, bool final) {
  // Hold back a tail that may be the start of a stop string; cut the text
  // at the first stop string (the response ends before it).
  std::string &h = s.held;
  h += text;
  if (s.job.stopStrings.empty()) {
    s.ticket->emit(h);
    h.clear();
    return;
  }
  size_t cut = std::string::npos;
  for (const std::string &stop : s.job.stopStrings)
    if (size_t at = h.find(stop); at != std::string::npos)
      cut = std::min(cut, at);
  if (cut != std::string::npos) {
    s.ticket->emit(h.substr(0, cut));
    h.clear();
    retire(s, FinishReason::Stop);
    return;
  }
  size_t keep = 0;
  if (!final)
    for (const std::string &stop : s.job.stopStrings)
      for (size_t k = std::min(stop.size() - 1, h.size()); k > keep; --k)
        if (h.compare(h.size() - k, k, stop, 0, k) == 0) {
          keep = k;
          break;
        }
  s.ticket->emit(h.substr(0, h.size() - keep));
  h.erase(0, h.size() - keep);
}

void Scheduler::sampleNext(Slot &s) {
  // Sampling and detokenizing errors end this request only.
  try {
    sampleOne(s);
  } catch (const std::exception &e) {
    if (s.state != Slot::State::Free)
      retire(s, FinishReason::Error, e.what());
  }
}

void Scheduler::sampleOne(Slot &s) {
  int32_t t = s.sampler->sample(s.logits, s.history);
  s.logits = nullptr;
  s.history.push_back(t);
  ++s.generated;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.generatedTokens;
    if (!recent_.empty() && seconds(recent_.back().first, Clock::now()) < 0.1)
      ++recent_.back().second;
    else
      recent_.emplace_back(Clock::now(), 1);
    while (recent_.size() > 1 && seconds(recent_.front().first, Clock::now()) > 10)
      recent_.pop_front();
  }
  s.ticket->sampled();
  const bool stopToken =
      std::find(s.job.stopIds.begin(), s.job.stopIds.end(), t) != s.job.stopIds.end();
  const bool full = s.generated >= s.job.maxTokens ||
                    s.session->position() + 1 > s.session->context();
  if (!stopToken && s.text) {
    emitText(s, s.text->piece(t), false);
    if (s.state == Slot::State::Free) // a stop string ended it
      return;
  }
  if (stopToken || full) {
    if (s.text)
      emitText(s, s.text->finish(), true);
    if (s.state != Slot::State::Free)
      retire(s, stopToken ? FinishReason::Stop : FinishReason::Length);
    return;
  }
  s.next = t;
  s.state = Slot::State::Decode;
}

void Scheduler::stepDecode(std::span<Slot *const> slots) {
  // One call of the batched entry for every B generating slots (each
  // weight read once for them all); one slot alone, or a binary without
  // the entry (GPU, --decode-batch=0, older), decodes per slot.
  if (!batch_ || slots.size() < 2) {
    for (Slot *s : slots)
      s->logits = s->session->decode(s->next);
    return;
  }
  std::vector<Session *> sessions;
  std::vector<int32_t> ids;
  for (Slot *s : slots) {
    sessions.push_back(s->session.get());
    ids.push_back(s->next);
  }
  batch_->step(sessions, ids);
  for (Slot *s : slots)
    s->logits = s->session->lastLogits();
}

void Scheduler::loop() {
  std::vector<Slot *> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        admit(lock);
        bool busy = std::any_of(slots_.begin(), slots_.end(),
                                [](const Slot &s) { return s.state != Slot::State::Free; });
        if (busy)
          break;
        if (draining_ && queue_.empty())
          return;
        cv_.wait(lock);
      }
      ++stats_.steps;
    }

    // Clients that went away.
    for (Slot &s : slots_)
      if (s.state != Slot::State::Free && s.ticket->cancelled())
        retire(s, FinishReason::Cancelled);

    // One token for every generating slot.
    batch.clear();
    for (Slot &s : slots_)
      if (s.state == Slot::State::Decode)
        batch.push_back(&s);
    if (!batch.empty()) {
      auto t0 = Clock::now();
      try {
        stepDecode(batch);
      } catch (const std::exception &e) {
        for (Slot *s : batch)
          if (s->state != Slot::State::Free)
            retire(*s, FinishReason::Error, e.what());
        batch.clear();
      }
      double dt = seconds(t0, Clock::now());
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.decodeSeconds += dt;
        stats_.decodeCalls += batch.size();
      }
      for (Slot *s : batch)
        if (s->state == Slot::State::Decode && s->logits)
          sampleNext(*s);
    }

    // A bounded share of prompt tokens, oldest request first.
    int64_t budget = config_.prefillBudget;
    const int64_t chunk = std::max<int64_t>(1, payload_.manifest().prefillChunk);
    std::vector<Slot *> reading;
    for (Slot &s : slots_)
      if (s.state == Slot::State::Prefill)
        reading.push_back(&s);
    std::sort(reading.begin(), reading.end(),
              [](const Slot *a, const Slot *b) { return a->order < b->order; });
    for (Slot *s : reading) {
      if (budget <= 0)
        break;
      const int64_t P = int64_t(s->job.prompt.size());
      int64_t n = std::min({budget, chunk, P - s->prefilled});
      auto t0 = Clock::now();
      try {
        s->logits = s->session->prefill(
            std::span<const int32_t>(s->job.prompt.data() + s->prefilled, size_t(n)));
      } catch (const std::exception &e) {
        retire(*s, FinishReason::Error, e.what());
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.prefillSeconds += seconds(t0, Clock::now());
        stats_.promptTokens += uint64_t(n);
      }
      s->prefilled += n;
      budget -= n;
      if (s->prefilled == P)
        sampleNext(*s);
      else
        s->logits = nullptr;
    }

    int64_t kv = 0;
    for (const Slot &s : slots_)
      if (s.state != Slot::State::Free)
        kv += s.session->position();
    std::lock_guard<std::mutex> lock(mu_);
    stats_.kvTokens = kv;
  }
}

} // namespace gemma4rt
