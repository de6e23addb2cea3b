//===- Run.cpp - flags -> payload -> prefill -> sample/decode loop -------===//
#include "gemma4rt/run.h"
#include "LogitsWriter.h"
#include "gemma4rt/cli.h"
#include "gemma4rt/device.h"
#include "gemma4rt/error.h"
#include "gemma4rt/media.h"
#include "gemma4rt/sampler.h"
#include "gemma4rt/serve.h"
#include "gemma4rt/threadpool.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <cstring>
#include <dlfcn.h>
#include <malloc.h>
#include <elf.h>
#include <map>
#include <unordered_map>
#include <vector>
#include <cstdio>
#include <string>
#include <iostream>
#include <span>
#include <unistd.h>
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

/// --info of a GPU binary: its "gpu" entry and the machine's CUDA GPUs.
void printGpuInfo(const Payload &p, const GpuManifest &g) {
  if (g.api == "vulkan") {
    std::printf("gpu: vulkan, %zu kernel%s, SPIR-V %llu bytes, subgroup reductions over %lld "
                "lanes\n",
                g.kernels.size(), g.kernels.size() == 1 ? "" : "s",
                (unsigned long long)g.spirvSize, (long long)g.subgroupSize);
    std::printf("vulkan features used: bufferDeviceAddress, shaderInt64, shaderInt16, "
                "shaderInt8, storageBuffer16BitAccess, storageBuffer8BitAccess, subgroup "
                "shuffle (compute), subgroup size a multiple of %lld\n",
                (long long)g.subgroupSize);
    std::string error;
    std::vector<std::string> devices = listVulkanDevices(p, error);
    if (!error.empty()) {
      std::printf("Vulkan devices: none: %s\n", error.c_str());
      return;
    }
    for (const std::string &d : devices)
      std::printf("%s\n", d.c_str());
    return;
  }
  std::string cubin = g.hasCubin ? std::to_string(g.cubinSize) + " bytes" : "none";
  std::printf("gpu: %s %s, %zu kernel%s, PTX %llu bytes, cubin %s\n", g.api.c_str(),
              g.arch.c_str(), g.kernels.size(), g.kernels.size() == 1 ? "" : "s",
              (unsigned long long)g.ptxSize, cubin.c_str());
  CudaListing l = listCudaDevices();
  if (!l.error.empty()) {
    std::printf("CUDA GPUs: none: %s\n", l.error.c_str());
    return;
  }
  std::printf("CUDA driver: %d.%d, %zu GPU%s\n", l.driverVersion / 1000,
              l.driverVersion % 1000 / 10, l.gpus.size(), l.gpus.size() == 1 ? "" : "s");
  for (size_t i = 0; i < l.gpus.size(); ++i) {
    const CudaListing::Gpu &gpu = l.gpus[i];
    std::printf("CUDA GPU %zu: %s (sm_%d, %.1f GiB)%s\n", i, gpu.name.c_str(), gpu.sm,
                double(gpu.totalBytes) / double(uint64_t(1) << 30),
                g.ptxRunsOn(gpu.sm) ? "" : ", too old for this binary");
  }
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
  if (m.decodeBatch > 0)
    std::printf("decode_batch: %lld\n", (long long)m.decodeBatch);
  std::printf("kv_bytes: %llu + %llu per context token\n", (unsigned long long)m.kvBytesFixed,
              (unsigned long long)m.kvBytesPerContext);
  std::printf("weights: %llu bytes (%s)\n", (unsigned long long)m.weightsSize,
              m.weightsExternal ? p.weightsPath().c_str() : "embedded");
  if (!m.quant.empty())
    std::printf("quant: %s\n", m.quant.c_str());
  if (m.weightsReadPerToken >= 0)
    std::printf("weights_read_per_token: %lld bytes\n", (long long)m.weightsReadPerToken);
  if (m.matmulMacsPerToken >= 0)
    std::printf("matmul_macs_per_token: %lld\n", (long long)m.matmulMacsPerToken);
  if (m.outputMacsPerCall >= 0)
    std::printf("output_macs_per_call: %lld\n", (long long)m.outputMacsPerCall);
  std::printf("tokenizer: %s\n", m.hasTokenizer ? m.tokenizerFormat.c_str() : "none");
  std::string chat = "none";
  if (!m.chatJson.empty()) {
    auto c = nlohmann::json::parse(m.chatJson, nullptr, false);
    chat = c.is_object() && c.contains("format") && c["format"].is_string()
               ? c["format"].get<std::string>()
               : "from the tokenizer";
  }
  std::printf("chat template: %s\n", chat.c_str());
  const GenerationDefaults &g = m.generation;
  std::string gen;
  char buf[64];
  auto add = [&](const char *name, double v, bool present) {
    if (!present)
      return;
    std::snprintf(buf, sizeof buf, "%s%s %g", gen.empty() ? "" : ", ", name, v);
    gen += buf;
  };
  add("temperature", g.temperature, g.temperature >= 0);
  add("top-k", double(g.topK), g.topK >= 0);
  add("top-p", g.topP, g.topP > 0);
  add("min-p", g.minP, g.minP >= 0);
  add("repeat-penalty", g.repeatPenalty, g.repeatPenalty > 0);
  std::printf("sampling defaults: %s\n", gen.empty() ? "none (runtime defaults)" : gen.c_str());
  if (m.draft)
    std::printf("draft: %s, %lld layers, kv_bytes %llu + %llu per context token, "
                "weights_read_per_token %lld bytes\n",
                m.draft->name.empty() ? "(unnamed)" : m.draft->name.c_str(),
                (long long)m.draft->numLayers, (unsigned long long)m.draft->kvBytesFixed,
                (unsigned long long)m.draft->kvBytesPerContext,
                (long long)m.draft->weightsReadPerToken);
  if (m.gpu)
    printGpuInfo(p, *m.gpu);
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
  sp.seed = o.seed ? *o.seed : freshSeed();
  return sp;
}

/// --random-weights: fills the weights on the thread pool, with every CPU
/// this process may use even under a smaller --threads (the fill is start-up
/// work, not part of what is measured), then restores the pool's size.
/// Returns the seconds it took (0 when the real weights are mapped).
/// Weights read into memory (--load-weights): the same, reading them.
double prepareWeights(const Options &o, Payload &payload) {
  if (!o.randomWeights && !payload.weightsRead())
    return 0;
  const int threads = globalThreadPool().size();
  const int fillThreads = std::max(threads, defaultThreadCount());
  if (fillThreads != threads)
    setThreadCount(fillThreads);
  double secs = o.randomWeights ? payload.useRandomWeights(*o.randomWeights)
                                : payload.readWeights();
  if (fillThreads != threads)
    setThreadCount(threads);
  return secs;
}

std::string fixed3(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", x);
  return buf;
}

/// CPU binaries: the generated code mallocs a prefill call's activations
/// (tokens x features) and frees each after its last use. With glibc's
/// defaults the freed megabytes went back to the kernel (the heap trimmed,
/// large blocks unmapped), so every call faulted them in again: ~11k page
/// faults per 64-token call of E2B. Keeping them lets a call reuse the
/// pages of the one before (the heap stays at its largest call's size).
void keepFreedMemory() {
#ifdef __GLIBC__
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20); // glibc's largest: bigger blocks are still mapped
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

/// --load-weights, else $GEMMA4RT_LOAD_WEIGHTS, else auto.
WeightsLoad weightsLoadMode(const Options &o) {
  if (o.loadWeights)
    return parseWeightsLoad(*o.loadWeights, "--load-weights");
  const char *env = std::getenv("GEMMA4RT_LOAD_WEIGHTS");
  if (env && *env)
    return parseWeightsLoad(env, "GEMMA4RT_LOAD_WEIGHTS");
  return WeightsLoad::Auto;
}

/// Where the model runs: for GPU binaries the device, with the weights
/// uploaded to it (or filled there for --random-weights) once at start-up.
/// Members are destroyed in reverse: the weights before the device.
struct Backend {
  std::unique_ptr<Device> device;
  DeviceBuffer weights;
  bool randomWeights = false; ///< --random-weights (CPU or GPU)
  double fillSeconds = 0;     ///< --random-weights fill, or reading the weights
  double uploadSeconds = 0;   ///< GPU: copying the weights
};

/// --random-weights, or for a GPU binary: opens --device, checks the model
/// fits its memory and puts the weights there (with a progress line when
/// stderr is a terminal and the weights are over 1 GiB or --stats is given;
/// --stats also reports the upload afterwards).
Backend prepareBackend(const Options &o, Payload &payload, int64_t ctx) {
  Backend b;
  b.randomWeights = o.randomWeights.has_value();
  const Manifest &m = payload.manifest();
  if (!m.gpu) {
    keepFreedMemory();
    b.fillSeconds = prepareWeights(o, payload);
    return b;
  }
  b.device = openDevice(payload, o.device);
  setCurrentDevice(b.device.get());
  checkDeviceMemory(*b.device, m, ctx);
  b.device->reserveScratch(planDeviceMemory(m, ctx).scratch);
  auto t0 = Clock::now();
  if (o.randomWeights) {
    b.weights = randomDeviceWeights(*b.device, payload.weightsSize());
    b.fillSeconds = seconds(t0, Clock::now());
    return b;
  }
  const bool tty = ::isatty(STDERR_FILENO);
  const bool progress = tty && (payload.weightsSize() > (uint64_t(1) << 30) || o.stats);
  std::string what = "loading the weights onto " + b.device->label();
  b.weights = uploadWeights(*b.device, payload, [&](uint64_t done, uint64_t total) {
    if (progress)
      std::fprintf(stderr, "\r%s: %s of %s", what.c_str(), formatBytes(done).c_str(),
                   formatBytes(total).c_str());
  });
  if (progress)
    std::fputc('\n', stderr);
  b.uploadSeconds = seconds(t0, Clock::now());
  payload.releaseWeights(); // the host copy is not needed any more
  return b;
}

const char *weightsSource(const Payload &p, const Backend &b) {
  return b.randomWeights ? "random" : b.device ? "uploaded" : p.weightsRead() ? "read" : "mapped";
}

/// The --stats "load:" line.
void printLoadStats(double secs, int64_t ctx, const Session &session, const Payload &p,
                    const Backend &b) {
  std::string gpu = b.device ? ", GPU " + b.device->description() : "";
  std::fprintf(stderr,
               "load: %.3f s (threads %d, context %lld, KV cache %llu bytes, weights %s%s)\n",
               secs, globalThreadPool().size(), (long long)ctx,
               (unsigned long long)session.arena().size(), weightsSource(p, b), gpu.c_str());
}

/// Function symbols of this executable (its .symtab), by offset from the
/// load base; empty when the file cannot be read or has been stripped.
std::unordered_map<uintptr_t, std::string> ownFunctionSymbols() {
  std::unordered_map<uintptr_t, std::string> out;
  FILE *f = std::fopen("/proc/self/exe", "rb");
  if (!f)
    return out;
  std::vector<char> img;
  char chunk[1 << 16];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;)
    img.insert(img.end(), chunk, chunk + n);
  std::fclose(f);
  auto in = [&](uint64_t off, uint64_t len) { return off <= img.size() && len <= img.size() - off; };
  if (!in(0, sizeof(Elf64_Ehdr)) || std::memcmp(img.data(), ELFMAG, SELFMAG) != 0 ||
      img[EI_CLASS] != ELFCLASS64)
    return out;
  Elf64_Ehdr eh;
  std::memcpy(&eh, img.data(), sizeof eh);
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || !in(eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr)))
    return out;
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  std::memcpy(sh.data(), img.data() + eh.e_shoff, sh.size() * sizeof(Elf64_Shdr));
  for (const Elf64_Shdr &s : sh) {
    if (s.sh_type != SHT_SYMTAB || s.sh_link >= sh.size() || !in(s.sh_offset, s.sh_size))
      continue;
    const Elf64_Shdr &str = sh[s.sh_link];
    if (!in(str.sh_offset, str.sh_size))
      continue;
    for (uint64_t i = 0; i + sizeof(Elf64_Sym) <= s.sh_size; i += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, img.data() + s.sh_offset + i, sizeof sym);
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_name >= str.sh_size)
        continue;
      const char *name = img.data() + str.sh_offset + sym.st_name;
      out[uintptr_t(sym.st_value)] = std::string(name, strnlen(name, str.sh_size - sym.st_name));
    }
  }
  return out;
}

/// GEMMA4RT_PROFILE: where decode time went, per generated body function
/// (named by its offset in the executable: `nm -C <binary>` names it).
void printDecodeProfile(int64_t calls, double seconds, size_t limit) {
  auto entries = globalThreadPool().profile();
  if (calls <= 0 || seconds <= 0)
    return;
  ProfileEntry all;
  for (auto &[fn, e] : entries) {
    all.calls += e.calls;
    all.parallel += e.parallel;
    all.ns += e.ns;
    all.waitNs += e.waitNs;
  }
  std::fprintf(stderr,
               "profile: %lld decode calls, %.0f us/token; %.1f body calls/token (%.1f in "
               "parallel), %.0f us/token in them (%.0f%%), %.0f us/token of it waiting for "
               "other threads\n",
               (long long)calls, seconds * 1e6 / double(calls), double(all.calls) / double(calls),
               double(all.parallel) / double(calls), double(all.ns) * 1e-3 / double(calls),
               100.0 * double(all.ns) * 1e-9 / seconds, double(all.waitNs) * 1e-3 / double(calls));
  std::sort(entries.begin(), entries.end(),
            [](const auto &a, const auto &b) { return a.second.ns > b.second.ns; });
  auto symbols = ownFunctionSymbols();
  auto fmtHex = [](uintptr_t v) {
    char t[32];
    std::snprintf(t, sizeof t, "%llx", (unsigned long long)v);
    return std::string(t);
  };
  for (size_t i = 0; i < entries.size() && i < limit; ++i) {
    const auto &[fn, e] = entries[i];
    Dl_info info{};
    uintptr_t off = fn;
    if (dladdr(reinterpret_cast<void *>(fn), &info) && info.dli_fbase)
      off = fn - reinterpret_cast<uintptr_t>(info.dli_fbase);
    std::string name = "0x" + fmtHex(off);
    if (auto it = symbols.find(off); it != symbols.end())
      name = it->second;
    if (name.size() > 7 && name.ends_with("__tramp"))
      name.resize(name.size() - 7);
    std::fprintf(stderr, "profile: %8.1f us/token %5.1f calls/token %8.2f us/call wait %4.1f%%  %s\n",
                 double(e.ns) * 1e-3 / double(calls), double(e.calls) / double(calls),
                 double(e.ns) * 1e-3 / double(e.calls), e.ns ? 100.0 * double(e.waitNs) / double(e.ns) : 0.0,
                 name.c_str());
  }
}

void printWeightsStats(const Payload &payload, const Backend &b) {
  if (payload.randomWeights())
    std::fprintf(stderr, "random weights: %llu bytes (seed %llu) filled in %.3f s\n",
                 (unsigned long long)payload.weightsSize(),
                 (unsigned long long)payload.randomWeightsSeed(), b.fillSeconds);
  else if (b.device && b.randomWeights)
    std::fprintf(stderr, "random weights: %llu bytes (pattern 0x%08x) filled on the GPU in %.3f s\n",
                 (unsigned long long)payload.weightsSize(), kDeviceRandomWeightsPattern,
                 b.fillSeconds);
  else if (b.device)
    std::fprintf(stderr, "weights: %llu bytes uploaded to the GPU in %.3f s (%.2f GB/s)\n",
                 (unsigned long long)payload.weightsSize(), b.uploadSeconds,
                 b.uploadSeconds > 0 ? double(payload.weightsSize()) / b.uploadSeconds * 1e-9
                                     : 0.0);
  else {
    // Read or mapped from the file: how much of them sits in 2 MiB pages
    // now (a mapped file only where the page cache holds 2 MiB folios).
    const int64_t huge = payload.weightsHugePageBytes();
    std::string hugeText = huge < 0 ? "" : "; " + formatBytes(uint64_t(huge)) + " in 2 MiB pages";
    std::string why = payload.weightsLoadReason().empty()
                          ? ""
                          : "; auto: " + payload.weightsLoadReason();
    if (payload.weightsRead())
      std::fprintf(stderr, "weights: %llu bytes read into memory in %.3f s (%.2f GB/s%s%s)\n",
                   (unsigned long long)payload.weightsSize(), b.fillSeconds,
                   b.fillSeconds > 0 ? double(payload.weightsSize()) / b.fillSeconds * 1e-9 : 0.0,
                   hugeText.c_str(), why.c_str());
    else
      std::fprintf(stderr, "weights: %llu bytes mapped from the file, %s (%s%s)\n",
                   (unsigned long long)payload.weightsSize(),
                   payload.weightsPopulated()
                       ? ("paged in in " + fixed3(payload.weightsPopulateSeconds()) + " s").c_str()
                       : "paged in on first use",
                   hugeText.empty() ? "nothing copied" : hugeText.c_str() + 2, why.c_str());
  }
}

/// GPU binaries: how the generated code's scratch allocations went, and the
/// kernels a call launched.
void printScratchStats(const Backend &b, const Session &session) {
  if (!b.device)
    return;
  const ScratchCache::Stats &st = b.device->scratchStats();
  std::fprintf(stderr, "gpu scratch: %llu device allocations, %llu reused, peak %s\n",
               (unsigned long long)st.allocations, (unsigned long long)st.reuses,
               formatBytes(st.peakBytes).c_str());
  std::fprintf(stderr, "gpu launches: %llu in the last prefill call, %llu per decode step\n",
               (unsigned long long)session.prefillLaunches(),
               (unsigned long long)session.decodeLaunches());
}

void printIdsLine(const char *label, int64_t pos, std::span<const int32_t> ids) {
  std::string line = std::string(label) + " (position " + std::to_string(pos) + "):";
  for (int32_t t : ids)
    line += " " + std::to_string(t);
  line += "\n";
  std::fflush(stdout);
  std::fputs(line.c_str(), stderr);
}

void writeOut(const std::string &s) {
  if (!s.empty()) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }
}

/// How generated tokens are shown.
struct Output {
  bool ids = false;          ///< print ids, space separated
  TextCodec *codec = nullptr; ///< print text (when !ids); also collects it
  bool showSpecial = false;   ///< print the stop token's text too
};

struct Reply {
  int64_t generated = 0;   ///< tokens sampled (the stop token included)
  int32_t last = -1;       ///< the last sampled token
  bool stopped = false;    ///< ended by a stop token
  int64_t decodeCalls = 0;
  double decodeTime = 0;
  std::string text;        ///< what was printed as text (codec only)

  /// Appends sampled token t to `history` and the reply, streaming it as
  /// `out` says; whether it was a stop token.
  bool take(int32_t t, std::vector<int32_t> &history, const std::unordered_set<int32_t> &stops,
            const Output &out) {
    history.push_back(t);
    ++generated;
    last = t;
    stopped = stops.count(t) != 0;
    if (out.ids) {
      std::printf(generated > 1 ? " %d" : "%d", t);
      std::fflush(stdout);
    }
    if (out.codec && (!stopped || out.showSpecial)) {
      std::string piece = out.codec->piece(t);
      text += piece;
      if (!out.ids)
        writeOut(piece);
    }
    return stopped;
  }
};

/// Samples up to `maxTokens` tokens, starting from `logits` (those of the
/// last prefilled token); every sampled token but the last is run through
/// decode. Streams the output as it goes.
Reply generateReply(Session &session, Sampler &sampler, const float *logits,
               std::vector<int32_t> &history, int64_t maxTokens,
               const std::unordered_set<int32_t> &stops, const Output &out,
               LogitsWriter *dump) {
  Reply r;
  for (int64_t k = 0; k < maxTokens; ++k) {
    int32_t t = sampler.sample(logits, history);
    if (r.take(t, history, stops, out) || k + 1 == maxTokens)
      break;
    auto a = Clock::now();
    logits = session.decode(t);
    r.decodeTime += seconds(a, Clock::now());
    ++r.decodeCalls;
    if (dump)
      dump->write(1, logits);
  }
  if (out.codec) {
    std::string rest = out.codec->finish();
    r.text += rest;
    if (!out.ids)
      writeOut(rest);
  }
  return r;
}

/// Speculative decoding (binaries compiled with --draft): what --stats says.
struct SpecStats {
  int64_t steps = 0;        ///< verify calls
  int64_t drafted = 0;      ///< draft tokens proposed
  int64_t accepted = 0;     ///< of them, accepted
  int64_t decodes = 0;      ///< plain target decode steps (k = 0)
  int64_t draftCalls = 0;   ///< draft model calls (decode steps and catch-up prefills)
  int64_t kSum = 0;         ///< sum of k over the verify calls
  double verifyTime = 0, draftTime = 0, decodeTime = 0, total = 0;
  std::map<int64_t, std::pair<int64_t, double>> verifyByK; ///< k -> (calls, seconds)
};

/// Chooses k, the tokens to draft before the next verify call: fixed by
/// --draft-tokens, or (auto) the k that maximises the expected tokens per
/// unit of time, E(k) / cost(k), with E(k) = (1 - a^(k+1)) / (1 - a) for
/// a per-token acceptance estimate a, and cost(k) = 1 + slope k + draft k
/// in units of one target decode step. slope (a verify call's cost per
/// draft beyond one decode step) and draft (a draft step's cost) are
/// measured as the run goes (the first step is a plain decode step, to
/// time one); before a measurement they are 0.1 (a memory-bound verify:
/// k + 1 tokens for about one pass over the weights) and the draft's
/// weight bytes over the target's. k = 0 is plain decoding (1 token for
/// 1); while it wins, every 16th step still drafts one token so the
/// estimates follow the text and the machine.
class DraftLength {
public:
  DraftLength(std::optional<int64_t> fixed, int64_t maxK, double draftCost)
      : fixed_(fixed), maxK_(maxK), draftCost_(draftCost) {}
  int64_t next() {
    if (fixed_)
      return std::min(*fixed_, maxK_);
    if (decodeSec_ <= 0)
      return 0; // time a decode step first
    const double a = (accepted_ + 1.0) / (tried_ + 2.0);
    int64_t best = 0;
    double bestRate = 1.0;
    for (int64_t k = 1; k <= std::min<int64_t>(maxK_, 16); ++k) {
      double tokens = a >= 1.0 ? double(k + 1) : (1.0 - std::pow(a, double(k + 1))) / (1.0 - a);
      double cost = 1.0 + slope_ * double(k) + draftCost_ * double(k);
      if (tokens / cost > bestRate * 1.0001)
        best = k, bestRate = tokens / cost;
    }
    if (best == 0 && ++idle_ % 16 == 0 && maxK_ >= 1)
      return 1;
    return best;
  }
  /// After a verify call that drafted k and accepted a of them.
  void record(int64_t k, int64_t a) {
    // Per-token trials: the accepted drafts, and the first rejected one.
    accepted_ = accepted_ * kDecay + double(a);
    tried_ = tried_ * kDecay + double(a < k ? a + 1 : k);
  }
  /// Measured times: a plain decode step; a verify call of k drafts; k
  /// draft steps.
  void timeDecode(double sec) { decodeSec_ = decodeSec_ > 0 ? 0.7 * decodeSec_ + 0.3 * sec : sec; }
  void timeVerify(int64_t k, double sec) {
    if (decodeSec_ > 0 && k > 0)
      slope_ = 0.7 * slope_ + 0.3 * std::max(0.0, (sec / decodeSec_ - 1.0) / double(k));
  }
  void timeDraft(int64_t k, double sec) {
    if (decodeSec_ > 0 && k > 0)
      draftCost_ = 0.7 * draftCost_ + 0.3 * sec / double(k) / decodeSec_;
  }

private:
  static constexpr double kDecay = 0.9;
  std::optional<int64_t> fixed_;
  int64_t maxK_;
  double draftCost_;
  double slope_ = 0.1, decodeSec_ = 0;
  double accepted_ = 0, tried_ = 0;
  int64_t idle_ = 0;
};

/// generateReply with a draft model: each step the draft proposes k tokens
/// (k from `lengths`), the target runs its last token and them through
/// gemma4_verify in one call, and the standard speculative-sampling rule
/// picks what to keep: draft token d with draft probability q(d) is
/// accepted with probability min(1, p(d) / q(d)) under the target's p, and
/// the first rejected one is replaced by a draw from max(0, p - q)
/// (normalised); when all k are accepted the target's next row gives one
/// more. p and q are the samplers' distributions (Sampler::distribution),
/// so greedy (both point masses) accepts exactly the drafts equal to the
/// target's argmax and the output is token for token the target's own;
/// sampling keeps the target's distribution. Both sessions then roll back
/// to the last accepted token (Session::rollback). `draft` has run the
/// prompt already.
Reply generateSpeculative(Session &target, Session &draft, Sampler &sampler, Sampler &draftSampler,
                          DraftLength &lengths, const float *logits, std::vector<int32_t> &history,
                          int64_t maxTokens, const std::unordered_set<int32_t> &stops,
                          const Output &out, LogitsWriter *dump, SpecStats &st) {
  Reply r;
  const int64_t V = target.vocab();
  auto tStart = Clock::now();
  auto emit = [&](int32_t t) {
    return r.take(t, history, stops, out) || r.generated == maxTokens;
  };
  // History index i is at position off + i in both sessions.
  const int64_t off = target.position() - static_cast<int64_t>(history.size());
  bool done = maxTokens <= 0 || emit(sampler.sample(logits, history));
  std::vector<int32_t> drafts, tokens;
  std::vector<Sampler::Distribution> q;
  Sampler::Distribution p;
  while (!done) {
    const int64_t L = static_cast<int64_t>(history.size()); // history[L-1] is not in the target's KV yet
    const int64_t room = target.context() - target.position();
    int64_t k = std::min({lengths.next(), maxTokens - r.generated - 1, room - 1,
                          target.chunk() - 1, draft.context() - (off + L) + 1});
    if (k <= 0) {
      auto a = Clock::now();
      const float *l = target.decode(history.back());
      const double dt = seconds(a, Clock::now());
      st.decodeTime += dt;
      lengths.timeDecode(dt);
      ++st.decodes;
      if (dump)
        dump->write(1, l);
      done = emit(sampler.sample(l, history));
      continue;
    }
    // The draft catches up on the tokens it has not run (1, or 2 after a
    // step that accepted every draft, more after plain decode steps), then
    // proposes k tokens.
    auto a = Clock::now();
    const int64_t seen = draft.position() - off;
    std::span<const int32_t> pending(history.data() + seen, size_t(L - seen));
    const float *dl = pending.size() == 1 ? draft.decode(pending[0]) : draft.prefill(pending);
    ++st.draftCalls;
    drafts.clear();
    q.resize(size_t(k));
    for (int64_t i = 0; i < k; ++i) {
      // The repetition penalty sees the drafts so far.
      history.insert(history.end(), drafts.begin(), drafts.end());
      draftSampler.distribution(dl, history, q[size_t(i)]);
      history.resize(size_t(L));
      const int32_t d = draftSampler.draw(q[size_t(i)]);
      drafts.push_back(d);
      if (i + 1 < k) {
        dl = draft.decode(d);
        ++st.draftCalls;
      }
    }
    const double dt = seconds(a, Clock::now());
    st.draftTime += dt;
    lengths.timeDraft(k, dt);
    // One target call for the last token and the drafts.
    tokens.assign(1, history.back());
    tokens.insert(tokens.end(), drafts.begin(), drafts.end());
    a = Clock::now();
    const float *vl = target.verify(tokens);
    const double vt = seconds(a, Clock::now());
    st.verifyTime += vt;
    lengths.timeVerify(k, vt);
    st.verifyByK[k].first += 1;
    st.verifyByK[k].second += vt;
    ++st.steps;
    st.kSum += k;
    st.drafted += k;
    int64_t accepted = 0;
    for (int64_t i = 0; i <= k && !done; ++i) {
      if (dump) // the row that chooses the next token, as a decode step's would
        dump->write(1, vl + i * V);
      sampler.distribution(vl + i * V, history, p);
      if (i == k) { // every draft accepted: one more from the target
        done = emit(sampler.draw(p));
        break;
      }
      bool kept = false;
      const int32_t t = sampler.acceptOrResample(p, q[size_t(i)], drafts[size_t(i)], kept);
      accepted += kept;
      done = emit(t);
      if (!kept)
        break;
    }
    st.accepted += accepted;
    lengths.record(k, accepted);
    // Keep the KV of the last verified token and the accepted drafts; the
    // rows of the rejected ones are overwritten by the next calls.
    target.rollback(off + L + accepted);
    draft.rollback(std::min(draft.position(), off + L + accepted));
  }
  st.total = seconds(tStart, Clock::now());
  r.decodeCalls = std::max<int64_t>(0, r.generated - 1);
  r.decodeTime = st.total;
  if (out.codec) {
    std::string rest = out.codec->finish();
    r.text += rest;
    if (!out.ids)
      writeOut(rest);
  }
  return r;
}

/// The --stats lines of a speculative run: acceptance, tokens per target
/// weight pass (verify calls and plain decode steps each read the target's
/// weights once), and where the time went.
void printSpecStats(const SpecStats &st, const Reply &r, double draftPrefill,
                    std::optional<int64_t> fixedK) {
  const int64_t passes = st.steps + st.decodes;
  const int64_t after = std::max<int64_t>(0, r.generated - 1); // tokens after the prefill's
  std::string k = fixedK ? std::to_string(*fixedK) : "auto";
  std::fprintf(stderr,
               "speculative: draft tokens %s (mean k %.2f), %lld verify calls, %lld plain decode "
               "steps; acceptance %lld/%lld (%.1f%%); %.2f tokens per target weight pass\n",
               k.c_str(), st.steps ? double(st.kSum) / double(st.steps) : 0.0, (long long)st.steps,
               (long long)st.decodes, (long long)st.accepted, (long long)st.drafted,
               st.drafted ? 100.0 * double(st.accepted) / double(st.drafted) : 0.0,
               passes ? double(after) / double(passes) : 0.0);
  std::fprintf(stderr,
               "speculative time: verify %.3f s (%.2f ms/call), draft %.3f s (%lld calls; prompt "
               "%.3f s), plain decode %.3f s (%.2f ms/step)\n",
               st.verifyTime, st.steps ? st.verifyTime * 1e3 / double(st.steps) : 0.0, st.draftTime,
               (long long)st.draftCalls, draftPrefill, st.decodeTime,
               st.decodes ? st.decodeTime * 1e3 / double(st.decodes) : 0.0);
  std::string byK;
  char buf[96];
  for (auto &[k, cs] : st.verifyByK) {
    std::snprintf(buf, sizeof buf, "%s k=%lld: %lld x %.2f ms", byK.empty() ? "" : ",",
                  (long long)k, (long long)cs.first, cs.second * 1e3 / double(cs.first));
    byK += buf;
  }
  if (!byK.empty())
    std::fprintf(stderr, "speculative verify by k:%s\n", byK.c_str());
}

/// --bench-verify: the cost of a verify call of k + 1 tokens against one
/// decode step at the same position, k = 1..8, in one process and
/// interleaved (decode, verify k = 1, ..., verify k = 8, every call rolled
/// back), so a shared machine's slow phases hit both alike. Prints per k
/// the median call time and the median of the per-round ratios.
void benchVerify(Session &s, int32_t token, int64_t rounds) {
  const int64_t pos = s.position();
  const int64_t maxK = std::min<int64_t>({8, s.chunk() - 1, s.context() - pos - 1});
  if (maxK < 1)
    throw UsageError("--bench-verify: no room for a verify call after the prompt");
  std::vector<double> decode;
  std::vector<std::vector<double>> verify(size_t(maxK) + 1), ratio(size_t(maxK) + 1);
  std::vector<int32_t> ids(size_t(maxK) + 1, token);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v.size() % 2 ? v[v.size() / 2]
                                         : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  s.verify(std::span<const int32_t>(ids.data(), 2)); // first calls: warm-up
  s.rollback(pos);
  s.decode(token);
  s.rollback(pos);
  // GEMMA4RT_PROFILE=K: where the verify calls of k = K spend their time.
  const char *profEnv = std::getenv("GEMMA4RT_PROFILE");
  const int64_t profK = profEnv ? std::atoll(profEnv) : 0;
  double profSeconds = 0;
  for (int64_t r = 0; r < rounds; ++r) {
    auto a = Clock::now();
    s.decode(token);
    const double d = seconds(a, Clock::now());
    s.rollback(pos);
    decode.push_back(d);
    for (int64_t k = 1; k <= maxK; ++k) {
      if (k == profK)
        globalThreadPool().setProfiling(true);
      a = Clock::now();
      s.verify(std::span<const int32_t>(ids.data(), size_t(k + 1)));
      const double v = seconds(a, Clock::now());
      if (k == profK) {
        globalThreadPool().setProfiling(false);
        profSeconds += v;
      }
      s.rollback(pos);
      verify[size_t(k)].push_back(v);
      ratio[size_t(k)].push_back(v / d);
    }
  }
  std::fprintf(stderr, "bench-verify: position %lld, %lld rounds, decode step %.2f ms (median)\n",
               (long long)pos, (long long)rounds, median(decode) * 1e3);
  for (int64_t k = 1; k <= maxK; ++k)
    std::fprintf(stderr, "bench-verify: k=%lld (%lld tokens) %.2f ms, %.3f x decode (median ratio)\n",
                 (long long)k, (long long)(k + 1), median(verify[size_t(k)]) * 1e3,
                 median(ratio[size_t(k)]));
  if (profK >= 1 && profK <= maxK)
    printDecodeProfile(rounds, profSeconds, 25);
}

std::unique_ptr<TextCodec> textCodec(const Payload &payload, const CodecFactory &makeCodec,
                                     const std::string &flag) {
  if (!payload.manifest().hasTokenizer)
    throw UsageError(flag + ": this binary has no tokenizer (use --tokens)");
  std::unique_ptr<TextCodec> codec;
  if (makeCodec)
    codec = makeCodec(payload);
  if (!codec)
    throw UsageError(flag + ": this binary was built without tokenizer support (use --tokens)");
  return codec;
}

/// --chat without text: one user turn per line of stdin, the KV cache kept
/// across turns.
int runChat(const Options &o, Payload &payload, EntryPoints entry, TextCodec &codec,
            int64_t ctx, const std::string &prog, Clock::time_point tLoad) {
  const Manifest &m = payload.manifest();
  const int64_t V = m.model.vocabSize;
  setThreadCount(o.threads.value_or(defaultThreadCount()));
  Backend backend = prepareBackend(o, payload, ctx);
  SamplerParams sp = samplerParams(o, m);
  Session session(payload, entry, ctx, backend.device.get(), backend.weights.data());
  Sampler sampler(sp, V);
  std::unordered_set<int32_t> stops;
  if (!o.ignoreEos) {
    stops.insert(m.model.eosTokenIds.begin(), m.model.eosTokenIds.end());
    for (int32_t t : codec.chatStopIds())
      stops.insert(t);
  }
  Output out{o.printIds, &codec, o.showSpecial};
  const bool tty = ::isatty(STDIN_FILENO);
  if (o.stats) {
    printLoadStats(seconds(tLoad, Clock::now()), ctx, session, payload, backend);
    printWeightsStats(payload, backend);
  }
  if (tty)
    std::fprintf(stderr, "Chatting with %s (context %lld tokens). End with Ctrl-D or /exit.\n",
                 m.model.name.empty() ? "the model" : m.model.name.c_str(), (long long)ctx);

  std::vector<int32_t> history;
  int32_t pending = -1; // sampled but not yet in the KV cache
  int turn = 0;
  bool rejected = false;
  std::string line;
  for (;;) {
    if (tty) {
      std::fputs("> ", stderr);
      std::fflush(stderr);
    }
    if (!std::getline(std::cin, line)) {
      if (tty)
        std::fputc('\n', stderr);
      break;
    }
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line == "/exit")
      break;
    if (line.empty())
      continue;
    ++turn;
    const std::string what = "turn " + std::to_string(turn);
    std::vector<int32_t> ids;
    try {
      ids = codec.chatTurn(line, what);
    } catch (const Error &e) {
      // The conversation is unchanged; say so and read the next turn.
      std::fflush(stdout);
      std::fprintf(stderr, "%s: error: %s (turn ignored)\n", prog.c_str(), e.what());
      rejected = true;
      --turn;
      continue;
    }
    if (pending >= 0)
      ids.insert(ids.begin(), pending);
    for (int32_t t : ids)
      if (t < 0 || t >= V)
        throw Error(what + ": token id " + std::to_string(t) + " is outside [0, " +
                    std::to_string(V) + ")");
    const int64_t pos = session.position(), n = static_cast<int64_t>(ids.size());
    if (pos + n >= ctx)
      throw Error(what + ": " + std::to_string(n) + " new tokens do not fit the " +
                  std::to_string(ctx - pos) + " left in the context of " + std::to_string(ctx) +
                  ": the conversation is full (use a larger --max-context)");
    if (o.printPromptIds)
      printIdsLine("prompt ids", pos, ids);
    history.insert(history.end(), ids.begin(), ids.end());
    auto t0 = Clock::now();
    const float *logits = session.prefill(ids);
    double prefillTime = seconds(t0, Clock::now());
    pending = -1;

    const int64_t room = ctx - session.position();
    const int64_t K = o.maxNewTokens ? std::min(*o.maxNewTokens, room) : room;
    Reply r;
    if (K > 0)
      r = generateReply(session, sampler, logits, history, K, stops, out, nullptr);
    codec.reply(r.text);
    if (r.generated > 0 && !r.stopped)
      pending = r.last; // cut by --max-new-tokens (or the context)
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (o.stats)
      std::fprintf(stderr,
                   "turn %d: prefill %lld tokens at positions %lld-%lld in %.3f s; "
                   "generated %lld tokens, decode %.3f s (%.2f tokens/s)\n",
                   turn, (long long)n, (long long)pos, (long long)(pos + n - 1), prefillTime,
                   (long long)r.generated, r.decodeTime,
                   r.decodeTime > 0 ? double(r.decodeCalls) / r.decodeTime : 0.0);
    if (!r.stopped && r.generated == room)
      throw Error(what + ": the reply reached the end of the context of " + std::to_string(ctx) +
                  ": the conversation is full (use a larger --max-context)");
  }
  if (o.stats) {
    std::fprintf(stderr, "chat: %d turns, %lld of %lld context tokens used (seed %llu)\n", turn,
                 (long long)session.position(), (long long)ctx, (unsigned long long)sp.seed);
    printScratchStats(backend, session);
  }
  return rejected ? 1 : 0;
}

/// --check-decode-batch: B + 1 sequences, sequence i holding the prompt's
/// first P - i tokens (at least 1), decode two steps through
/// gemma4_decode_batch (a full call, then one of B + 1 - B rows and
/// filler; the second step B - 1 sequences: filler rows again) and,
/// separately, through gemma4_decode; the logits must agree.
int checkDecodeBatch(const Payload &payload, EntryPoints entry, Device *device, int64_t ctx,
                     const std::vector<int32_t> &ids) {
  if (!DecodeBatch::available(payload, entry, device))
    throw UsageError("--check-decode-batch: this binary has no batched decode entry (a CPU "
                     "binary compiled with --decode-batch N)");
  const int64_t B = payload.manifest().decodeBatch, V = payload.manifest().model.vocabSize;
  const int64_t P = int64_t(ids.size()), n = B + 1;
  if (P + 2 > ctx)
    throw UsageError("--check-decode-batch: the prompt and two steps do not fit the context");
  DecodeBatch batch(payload, entry, int(n), ctx);
  std::vector<std::unique_ptr<Session>> ref, bat;
  std::vector<int32_t> next;
  for (int64_t i = 0; i < n; ++i) {
    int64_t len = std::max<int64_t>(1, P - i);
    std::span<const int32_t> prefix(ids.data(), size_t(len));
    ref.push_back(std::make_unique<Session>(payload, EntryPoints{entry.prefill, entry.decode},
                                            ctx));
    bat.push_back(std::make_unique<Session>(payload, entry, batch, int(i)));
    ref.back()->prefill(prefix);
    bat.back()->prefill(prefix);
    next.push_back(ids[size_t(i % P)]);
  }
  double worst = 0, scale = 0;
  std::vector<double> rowDiffs;
  for (int step = 0; step < 2; ++step) {
    const int64_t m = step == 0 ? n : B - 1;
    std::vector<Session *> ss;
    for (int64_t i = 0; i < m; ++i)
      ss.push_back(bat[size_t(i)].get());
    batch.step(ss, std::span<const int32_t>(next.data(), size_t(m)));
    for (int64_t i = 0; i < m; ++i) {
      const float *want = ref[size_t(i)]->decode(next[size_t(i)]);
      const float *got = bat[size_t(i)]->lastLogits();
      int32_t best = 0;
      double rowDiff = 0;
      for (int64_t v = 0; v < V; ++v) {
        rowDiff = std::max(rowDiff, double(std::fabs(got[v] - want[v])));
        worst = std::max(worst, rowDiff);
        scale = std::max(scale, double(std::fabs(want[v])));
        if (want[v] > want[best])
          best = int32_t(v);
      }
      next[size_t(i)] = best;
      rowDiffs.push_back(rowDiff);
    }
  }
  // The batched entry's products run the prefill's register tiles, whose
  // sums may round differently in the last bit; with int8 activations
  // (quantized weights) such a bit can move an activation to the next
  // int8 step, so a few rows may differ by up to ~1%, never most of them.
  const double s = std::max(scale, 1.0);
  int64_t close = 0;
  for (double d : rowDiffs)
    close += d <= 1e-4 * s;
  bool ok = worst <= 2e-2 * s && close * 4 >= int64_t(rowDiffs.size()) * 3;
  std::printf("check-decode-batch: B=%lld, %lld sequences at positions %lld..%lld, 2 steps: "
              "%lld of %lld rows within 1e-4, max |logit difference| %.3g (max |logit| %.3g): "
              "%s\n",
              (long long)B, (long long)n, (long long)std::max<int64_t>(1, P - n + 1),
              (long long)P, (long long)close, (long long)rowDiffs.size(), worst, scale,
              ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}

int run(int argc, char **argv, EntryPoints entry, const CodecFactory &makeCodec,
        const std::string &prog) {
  Options o = parseArgs(argc, argv);
  if (o.help) {
    std::fputs(usage(prog).c_str(), stdout);
    return 0;
  }

  auto tLoad = Clock::now();
  // --info describes the model without its weights (an external file may be
  // absent); --random-weights makes its own.
  auto payload = Payload::open(Payload::selfExePath(argv[0]),
                               /*mapWeights=*/!o.randomWeights && !o.info,
                               o.randomWeights || o.info ? WeightsLoad::Map : weightsLoadMode(o));
  const Manifest &m = payload->manifest();
  if (o.info) {
    printInfo(*payload);
    return 0;
  }
  checkCpuFeatures(m);
  checkMediaInputs(o, m);
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

  // Text: the tokenizer library provides the codec.
  std::unique_ptr<TextCodec> codec;
  const bool templated = (o.prompt && !o.raw) || o.chat || o.interactive;
  if (o.prompt || o.chat || o.interactive) {
    std::string flag = o.prompt ? "--prompt" : "--chat";
    codec = textCodec(*payload, makeCodec, flag);
    ChatSettings cs;
    cs.system = o.system.value_or("");
    cs.thinking = o.think;
    cs.showSpecial = o.showSpecial;
    codec->configure(cs);
  }
  if (o.interactive)
    return runChat(o, *payload, entry, *codec, ctx, prog, tLoad);
  if (o.serve) {
    if (!m.hasTokenizer)
      throw UsageError("--serve: this binary has no tokenizer (the server takes text)");
    codec = textCodec(*payload, makeCodec, "--serve");
    ChatSettings cs;
    cs.thinking = o.think;
    codec->configure(cs);
    setThreadCount(o.threads.value_or(defaultThreadCount()));
    Backend backend = prepareBackend(o, *payload, ctx);
    ServeSetup setup;
    setup.options = &o;
    setup.payload = payload.get();
    setup.entry = entry;
    setup.codec = codec.get();
    setup.context = ctx;
    setup.sampling = samplerParams(o, m);
    setup.seedGiven = o.seed.has_value();
    setup.device = backend.device.get();
    setup.deviceWeights = backend.weights.data();
    setup.prog = prog;
    return serve(setup);
  }

  // Prompt.
  std::vector<int32_t> ids;
  if (o.prompt || o.chat) {
    std::string flag = o.prompt ? "--prompt" : "--chat";
    ids = o.prompt && o.raw ? codec->encode(*o.prompt, flag)
                            : codec->encodeChat(o.prompt ? *o.prompt : *o.chat, flag);
    if (ids.empty())
      throw Error(flag + ": the text encodes to no tokens");
  } else if (o.tokens) {
    ids = *o.tokens;
  } else {
    throw UsageError("no prompt: give --tokens LIST, --prompt TEXT or --chat (see --help)");
  }
  for (int32_t t : ids)
    if (t < 0 || t >= V)
      throw UsageError(std::string(o.tokens ? "--tokens" : "prompt") + ": token id " +
                       std::to_string(t) + " is outside [0, " + std::to_string(V) + ")");

  // Does it fit? Prompt + requested tokens must fit the context.
  const int64_t P = static_cast<int64_t>(ids.size());
  const bool generate = !o.dumpLogits || o.maxNewTokens.has_value();

  // Output: text when there is a tokenizer and --print-ids is not given.
  if (generate && !o.printIds && !codec && m.hasTokenizer && makeCodec) {
    codec = makeCodec(*payload);
    if (codec) {
      ChatSettings cs;
      cs.showSpecial = o.showSpecial;
      codec->configure(cs);
    }
  }
  const bool textOut = !o.printIds && codec;
  int64_t K = 0;
  if (generate)
    K = o.maxNewTokens ? *o.maxNewTokens : std::max<int64_t>(0, ctx - P);
  // --fake-context: positions [0, F) count as used.
  const int64_t F = o.fakeContext;
  if (F > 0 && F + P > ctx)
    throw UsageError("--fake-context: " + std::to_string(F) + " positions and a prompt of " +
                     std::to_string(P) + " tokens do not fit the context of " +
                     std::to_string(ctx));
  if (generate && !o.maxNewTokens)
    K = std::max<int64_t>(0, ctx - F - P);
  if (P > ctx || F + P + K > ctx || (generate && !o.maxNewTokens && K == 0)) {
    std::string why = P > ctx ? ""
                      : o.maxNewTokens
                          ? " with --max-new-tokens " + std::to_string(K)
                          : " (no room left to generate)";
    if (F > 0 && P <= ctx)
      why += " after --fake-context " + std::to_string(F);
    throw Error("prompt of " + std::to_string(P) + " tokens does not fit the context of " +
                std::to_string(ctx) + why);
  }

  int threads = o.threads.value_or(defaultThreadCount());
  setThreadCount(threads);
  Backend backend = prepareBackend(o, *payload, ctx);
  SamplerParams sp = samplerParams(o, m);

  if (o.checkDecodeBatch)
    return checkDecodeBatch(*payload, entry, backend.device.get(), ctx, ids);

  Session session(*payload, entry, ctx, backend.device.get(), backend.weights.data());
  if (F > 0)
    session.skipTo(F);

  // Speculative decoding: a binary compiled with --draft drafts with its
  // draft model unless --draft-tokens 0 (--dump-decode-logits then writes
  // the verify rows that chose each token).
  if (o.draftTokens && !m.draft)
    throw UsageError("--draft-tokens: this binary has no draft model (compile it with gemma4c "
                     "compile --draft)");
  if (o.draftTokens && *o.draftTokens + 1 > m.prefillChunk)
    throw UsageError("--draft-tokens: " + std::to_string(*o.draftTokens) +
                     " drafts and the last token do not fit one verify call of at most " +
                     std::to_string(m.prefillChunk) + " tokens (the prefill chunk)");
  const bool speculate = m.draft && o.draftTokens.value_or(1) > 0;
  if (speculate && (!entry.verify || !entry.draftPrefill || !entry.draftDecode))
    throw Error("the manifest names a draft model but the binary lacks its entry points");
  std::unique_ptr<Session> draftSession;
  if (speculate) {
    KvShape ks{m.draft->kvBytesFixed, m.draft->kvBytesPerContext};
    draftSession = std::make_unique<Session>(
        *payload, EntryPoints{entry.draftPrefill, entry.draftDecode}, ctx, backend.device.get(),
        backend.weights.data(), &ks);
    // A GPU keeps one recorded step ahead; two sessions take turns on it.
    session.setPrepareAhead(false);
    draftSession->setPrepareAhead(false);
    if (F > 0)
      draftSession->skipTo(F);
  }
  auto tPrefill = Clock::now();

  // Prefill (and --dump-logits).
  std::unique_ptr<LogitsWriter> dump;
  if (o.dumpLogits)
    dump = std::make_unique<LogitsWriter>(
        *o.dumpLogits, P + (o.dumpDecodeLogits ? std::max<int64_t>(K - 1, 0) : 0), V);
  Session::RowsFn onRows;
  if (dump)
    onRows = [&](int64_t, int64_t rows, const float *l) { dump->write(rows, l); };
  if (o.printPromptIds)
    printIdsLine("prompt ids", session.position(), ids);
  const float *logits = session.prefill(ids, onRows);
  auto tPrefillEnd = Clock::now();
  const auto firstCalls = session.prefillCalls();
  // --repeat-prefill: the same prompt again in this process, each from a
  // cleared KV cache; decode follows the last.
  std::vector<double> again;
  for (int64_t i = 0; i < o.repeatPrefill; ++i) {
    session.reset();
    if (F > 0)
      session.skipTo(F);
    auto a = Clock::now();
    logits = session.prefill(ids);
    again.push_back(seconds(a, Clock::now()));
  }
  double draftPrefillTime = 0;
  if (draftSession && K > 0) {
    auto tDraft = Clock::now();
    draftSession->prefill(ids);
    draftPrefillTime = seconds(tDraft, Clock::now());
  }

  // Decode loop.
  std::unordered_set<int32_t> stops;
  if (!o.ignoreEos) {
    stops.insert(m.model.eosTokenIds.begin(), m.model.eosTokenIds.end());
    if (templated)
      for (int32_t t : codec->chatStopIds())
        stops.insert(t);
  }
  Sampler sampler(sp, V);
  std::vector<int32_t> history = ids;
  history.reserve(size_t(P + K));
  const bool idsOut = generate && !textOut;
  Output out{idsOut, textOut ? codec.get() : nullptr, o.showSpecial};
  Reply r;
  const char *profileEnv = std::getenv("GEMMA4RT_PROFILE");
  const bool profile = profileEnv && *profileEnv && std::strcmp(profileEnv, "0") != 0;
  if (profile)
    globalThreadPool().setProfiling(true);
  if (o.benchVerify > 0) {
    benchVerify(session, ids.back(), o.benchVerify);
    return 0;
  }
  SpecStats spec;
  if (K > 0 && draftSession) {
    SamplerParams dp = sp;
    dp.seed = sp.seed ^ 0x9e3779b97f4a7c15ull; // the draft's own draws
    Sampler draftSampler(dp, V);
    double draftCost = m.draft->weightsReadPerToken > 0 && m.weightsReadPerToken > 0
                           ? double(m.draft->weightsReadPerToken) / double(m.weightsReadPerToken)
                           : 0.25;
    DraftLength lengths(o.draftTokens, m.prefillChunk - 1, draftCost);
    r = generateSpeculative(session, *draftSession, sampler, draftSampler, lengths, logits, history,
                            K, stops, out, o.dumpDecodeLogits ? dump.get() : nullptr, spec);
  } else if (K > 0) {
    r = generateReply(session, sampler, logits, history, K, stops, out,
                      o.dumpDecodeLogits ? dump.get() : nullptr);
  }
  if (profile)
    globalThreadPool().setProfiling(false);
  if (dump)
    dump->finish();
  if (idsOut || (textOut && r.generated > 0)) {
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

  if (profile)
    printDecodeProfile(r.decodeCalls, r.decodeTime,
                       std::strcmp(profileEnv, "all") == 0 ? SIZE_MAX : 25);
  if (o.stats) {
    double pf = seconds(tPrefill, tPrefillEnd);
    printLoadStats(seconds(tLoad, tPrefill), ctx, session, *payload, backend);
    printWeightsStats(*payload, backend);
    std::fprintf(stderr, "prefill: %lld tokens in %.3f s (%.2f tokens/s)\n", (long long)P, pf,
                 pf > 0 ? double(P) / pf : 0.0);
    if (firstCalls.size() > 1) {
      std::string calls;
      for (auto [n, secs] : firstCalls)
        calls += (calls.empty() ? "" : ", ") + std::to_string(n) + (calls.empty() ? " tokens" : "") +
                 " in " + fixed3(secs) + " s";
      std::fprintf(stderr, "prefill calls: %s\n", calls.c_str());
    }
    if (!again.empty()) {
      std::sort(again.begin(), again.end());
      double med = again.size() % 2 ? again[again.size() / 2]
                                    : (again[again.size() / 2 - 1] + again[again.size() / 2]) / 2;
      std::fprintf(stderr, "prefill again: %lld tokens in %.3f s (%.2f tokens/s; median of %zu)\n",
                   (long long)P, med, med > 0 ? double(P) / med : 0.0, again.size());
    }
    std::fprintf(stderr, "decode: %lld tokens in %.3f s (%.2f tokens/s)\n",
                 (long long)r.decodeCalls, r.decodeTime,
                 r.decodeTime > 0 ? double(r.decodeCalls) / r.decodeTime : 0.0);
    std::fprintf(stderr, "generated: %lld tokens (seed %llu)\n", (long long)r.generated,
                 (unsigned long long)sp.seed);
    if (draftSession)
      printSpecStats(spec, r, draftPrefillTime, o.draftTokens);
    printScratchStats(backend, session);
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
