//===- Run.cpp - flags -> payload -> prefill -> sample/decode loop -------===//
#include "gemma4rt/run.h"
#include "LogitsWriter.h"
#include "gemma4rt/cli.h"
#include "gemma4rt/error.h"
#include "gemma4rt/sampler.h"
#include "gemma4rt/threadpool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <unordered_set>

namespace gemma4rt {

namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string baseName(const char *argv0) {
  std::string s = argv0 && *argv0 ? argv0 : "model";
  auto slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

void printInfo(const Payload &p) {
  const Manifest &m = p.manifest();
  std::printf("model: %s\n", m.model.name.empty() ? "(unnamed)" : m.model.name.c_str());
  std::printf("vocab_size: %lld\n", (long long)m.model.vocabSize);
  std::printf("num_layers: %lld\n", (long long)m.model.numLayers);
  std::printf("hidden_size: %lld\n", (long long)m.model.hiddenSize);
  std::printf("max_position_embeddings: %lld\n", (long long)m.model.maxPositionEmbeddings);
  std::printf("default_context: %lld\n", (long long)m.defaultContext);
  std::printf("prefill_chunk: %lld\n", (long long)m.prefillChunk);
  std::printf("kv_bytes: %llu + %llu per context token\n", (unsigned long long)m.kvBytesFixed,
              (unsigned long long)m.kvBytesPerContext);
  std::printf("weights: %llu bytes (%s)\n", (unsigned long long)m.weightsSize,
              m.weightsExternal ? p.weightsPath().c_str() : "embedded");
  std::printf("tokenizer: %s\n", m.hasTokenizer ? m.tokenizerFormat.c_str() : "none");
  std::printf("chat template: %s\n", m.chatJson.empty() ? "none" : "yes");
}

SamplerParams samplerParams(const Options &o, const Manifest &m) {
  SamplerParams sp; // runtime defaults: T 1, top-k 64, top-p 0.95 (Gemma's)
  const GenerationDefaults &g = m.generation;
  if (g.temperature >= 0)
    sp.temperature = g.temperature;
  if (g.topK >= 0)
    sp.topK = g.topK;
  if (g.topP > 0 && g.topP <= 1)
    sp.topP = g.topP;
  if (g.minP >= 0 && g.minP <= 1)
    sp.minP = g.minP;
  if (g.repeatPenalty > 0)
    sp.repeatPenalty = g.repeatPenalty;
  if (o.temperature)
    sp.temperature = *o.temperature;
  if (o.topK)
    sp.topK = *o.topK;
  if (o.topP)
    sp.topP = *o.topP;
  if (o.minP)
    sp.minP = *o.minP;
  if (o.repeatPenalty)
    sp.repeatPenalty = *o.repeatPenalty;
  if (o.repeatLastN)
    sp.repeatLastN = *o.repeatLastN;
  sp.greedy = o.greedy;
  if (o.seed) {
    sp.seed = *o.seed;
  } else {
    std::random_device rd;
    sp.seed = (uint64_t(rd()) << 32) ^ rd() ^
              uint64_t(Clock::now().time_since_epoch().count());
  }
  return sp;
}

int run(int argc, char **argv, EntryPoints entry, const CodecFactory &makeCodec,
        const std::string &prog) {
  Options o = parseArgs(argc, argv);
  if (o.help) {
    std::fputs(usage(prog).c_str(), stdout);
    return 0;
  }

  auto tLoad = Clock::now();
  auto payload = Payload::open(Payload::selfExePath(argv[0]));
  const Manifest &m = payload->manifest();
  if (o.info) {
    printInfo(*payload);
    return 0;
  }
  const int64_t V = m.model.vocabSize;

  // Context.
  const int64_t maxPos = m.model.maxPositionEmbeddings;
  int64_t ctx = std::min(m.defaultContext, maxPos);
  if (o.maxContext) {
    if (*o.maxContext > maxPos)
      throw UsageError("--max-context: " + std::to_string(*o.maxContext) +
                       " exceeds the model's max_position_embeddings of " +
                       std::to_string(maxPos));
    ctx = *o.maxContext;
  }

  // Prompt.
  std::vector<int32_t> ids;
  std::unique_ptr<TextCodec> codec;
  if (o.prompt || o.chat) {
    // Hook point for text: the tokenizer library provides the codec.
    std::string flag = o.prompt ? "--prompt" : "--chat";
    if (!m.hasTokenizer)
      throw UsageError(flag + ": this binary has no tokenizer (use --tokens)");
    if (makeCodec)
      codec = makeCodec(*payload);
    if (!codec)
      throw UsageError(flag + ": this binary was built without tokenizer support (use --tokens)");
    ids = o.prompt ? codec->encode(*o.prompt) : codec->encodeChat(*o.chat);
    if (ids.empty())
      throw Error(flag + ": the text encodes to no tokens");
  } else if (o.tokens) {
    ids = *o.tokens;
  } else {
    throw UsageError("no prompt: give --tokens LIST (see --help)");
  }
  for (int32_t t : ids)
    if (t < 0 || t >= V)
      throw UsageError(std::string(o.tokens ? "--tokens" : "prompt") + ": token id " +
                       std::to_string(t) + " is outside [0, " + std::to_string(V) + ")");

  // Does it fit? Prompt + requested tokens must fit the context.
  const int64_t P = static_cast<int64_t>(ids.size());
  const bool generate = !o.dumpLogits || o.maxNewTokens.has_value();

  // Output: text when there is a tokenizer and --print-ids is not given.
  if (generate && !o.printIds && !codec && m.hasTokenizer && makeCodec)
    codec = makeCodec(*payload);
  const bool textOut = !o.printIds && codec;
  int64_t K = 0;
  if (generate)
    K = o.maxNewTokens ? *o.maxNewTokens : std::max<int64_t>(0, ctx - P);
  if (P > ctx || P + K > ctx || (generate && !o.maxNewTokens && K == 0)) {
    std::string why = P > ctx ? ""
                      : o.maxNewTokens
                          ? " with --max-new-tokens " + std::to_string(K)
                          : " (no room left to generate)";
    throw Error("prompt of " + std::to_string(P) + " tokens does not fit the context of " +
                std::to_string(ctx) + why);
  }

  int threads = o.threads.value_or(defaultThreadCount());
  setThreadCount(threads);
  SamplerParams sp = samplerParams(o, m);

  Session session(*payload, entry, ctx);
  auto tPrefill = Clock::now();

  // Prefill (and --dump-logits).
  std::unique_ptr<LogitsWriter> dump;
  if (o.dumpLogits)
    dump = std::make_unique<LogitsWriter>(*o.dumpLogits, P, V);
  Session::RowsFn onRows;
  if (dump)
    onRows = [&](int64_t, int64_t rows, const float *l) { dump->write(rows, l); };
  const float *logits = session.prefill(ids, onRows);
  auto tPrefillEnd = Clock::now();
  if (dump)
    dump->finish();

  // Decode loop.
  std::unordered_set<int32_t> eos(m.model.eosTokenIds.begin(), m.model.eosTokenIds.end());
  if (o.chat)
    for (int32_t t : codec->chatStopIds())
      eos.insert(t);
  Sampler sampler(sp, V);
  std::vector<int32_t> history = ids;
  history.reserve(size_t(P + K));
  int64_t generated = 0, decodeCalls = 0;
  double decodeTime = 0;
  const bool idsOut = generate && !textOut;
  for (int64_t k = 0; k < K; ++k) {
    int32_t t = sampler.sample(logits, history);
    history.push_back(t);
    ++generated;
    bool stop = !o.ignoreEos && eos.count(t);
    if (idsOut) {
      std::printf(k ? " %d" : "%d", t);
      std::fflush(stdout);
    } else if (textOut && !stop) {
      std::string piece = codec->piece(t);
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    if (stop || k + 1 == K)
      break;
    auto a = Clock::now();
    logits = session.decode(t);
    decodeTime += seconds(a, Clock::now());
    ++decodeCalls;
  }
  if (textOut) {
    std::string rest = codec->finish();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
  }
  if (idsOut || (textOut && generated > 0)) {
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

  if (o.stats) {
    double pf = seconds(tPrefill, tPrefillEnd);
    std::fprintf(stderr, "load: %.3f s (threads %d, context %lld, KV cache %llu bytes)\n",
                 seconds(tLoad, tPrefill), globalThreadPool().size(), (long long)ctx,
                 (unsigned long long)session.arena().size());
    std::fprintf(stderr, "prefill: %lld tokens in %.3f s (%.2f tokens/s)\n", (long long)P, pf,
                 pf > 0 ? double(P) / pf : 0.0);
    std::fprintf(stderr, "decode: %lld tokens in %.3f s (%.2f tokens/s)\n",
                 (long long)decodeCalls, decodeTime,
                 decodeTime > 0 ? double(decodeCalls) / decodeTime : 0.0);
    std::fprintf(stderr, "generated: %lld tokens (seed %llu)\n", (long long)generated,
                 (unsigned long long)sp.seed);
  }
  return 0;
}

} // namespace

int runMain(int argc, char **argv, EntryPoints entry, const CodecFactory &makeCodec) {
  std::string prog = baseName(argc > 0 ? argv[0] : nullptr);
  try {
    return run(argc, argv, entry, makeCodec, prog);
  } catch (const Error &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), e.what());
    return e.exitCode();
  } catch (const std::bad_alloc &) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: out of memory\n", prog.c_str());
    return 1;
  } catch (const std::exception &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), e.what());
    return 1;
  }
}

} // namespace gemma4rt
