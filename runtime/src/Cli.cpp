//===- Cli.cpp - command-line parsing of a compiled model ----------------===//
#include "gemma4rt/cli.h"
#include "gemma4rt/error.h"
#include "gemma4rt/payload.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <string_view>

namespace gemma4rt {

std::string usage(const std::string &prog) {
  return "usage: " + prog + R"( [options]

A Gemma 4 model compiled by gemma4c. Runs the prompt, then generates.

Prompt (one of):
  --tokens LIST          token ids, e.g. 2,17,93 (commas or blanks), as is
  --prompt TEXT          one user turn through the model's chat template
                         (with --raw: the text as is, BOS first)
  --chat [TEXT]          with TEXT: the same as --prompt TEXT; without:
                         an interactive chat reading one user turn per line
                         from stdin (end with EOF or a line "/exit"); the
                         KV cache is kept, so each turn prefills only what
                         is new (a full context ends the chat with an error)

Images and audio (Gemma 4's encoders; gemma4c does not compile them yet,
so a binary checks the files and then says it cannot take them):
  --image FILE           a PNG or JPEG picture (repeatable, in prompt order)
  --audio FILE           a WAV clip: PCM or float, any sample rate, at most
                         30 s (repeatable)

Text:
  --raw                  send the --prompt text without the chat template
  --system TEXT          system prompt for --prompt/--chat
  --think, --no-think    thinking mode on/off (default off; Gemma 4 only)
  --show-special         also print special tokens (turn markers, EOS, ...)

Generation:
  --max-new-tokens N     tokens to generate (default: until EOS or the
                         context is full); prompt + N must fit the context
  --max-context N        KV cache capacity in tokens (default: the one given
                         to gemma4c; at most max_position_embeddings)
  --ignore-eos           do not stop at end-of-sequence tokens
  --threads N            worker threads, caller included (default: all CPUs)
  --device N             the CUDA GPU to run on, for binaries compiled for
                         a GPU (default 0; --info lists them); CPU binaries
                         ignore it
  --load-weights MODE    how a CPU binary gets its weights from the file:
                         read: copy them into memory in 2 MiB pages at
                         start-up (fewer TLB misses, not dropped with the
                         page cache); map: map the file (nothing copied,
                         pages shared with other processes, paged in at
                         start-up when they take at most half of the
                         available memory, else on first use); auto
                         (default): read when they take at most half of the
                         available memory, else map. Default from the
                         environment variable GEMMA4RT_LOAD_WEIGHTS

Sampling (applied in this order):
  --repeat-penalty F     penalise the last --repeat-last-n tokens (1 = off)
  --repeat-last-n N      history the penalty looks at (default 64, -1 = all)
  --greedy               always take the most likely token (= --temperature 0)
  --top-k N              keep the N most likely tokens (0 = off)
  --top-p F              keep the smallest set with probability >= F (1 = off)
  --min-p F              drop tokens below F x the top probability (0 = off)
  --temperature F        divide logits by F before drawing (0 = greedy)
  --seed N               random seed (default: random); fixes the output
  Defaults come from the model's generation config, else temperature 1,
  top-k 64, top-p 0.95, min-p 0, repeat-penalty 1.

Speculative decoding (binaries compiled with gemma4c compile --draft):
  --draft-tokens K|auto  tokens the draft model proposes per step, verified
                         by the model in one call (1-32, below the prefill
                         chunk; 0 = off; default auto: adapts K to how many
                         drafts the model accepts); greedy output is the
                         model's own, sampling keeps its distribution

Output:
  --print-ids            print generated token ids, space separated, on one
                         line (the default output when there is no tokenizer)
  --dump-logits FILE     write the prompt's logits (tensor "logits", F32
                         [prompt_len, vocab]) to a .safetensors file; with no
                         --max-new-tokens, nothing is generated
  --dump-decode-logits   with --dump-logits and --max-new-tokens: also one
                         row per decode step (the logits that chose each
                         generated token after the first)
  --print-prompt-ids     print the ids of each prefill (and its starting
                         position) to stderr
  --stats                print load / prefill / decode speed to stderr
                         (--chat: also per turn; with a draft: the drafts'
                         acceptance rate and tokens per model weight pass)
  --info                 print what this model is and exit
  -h, --help             print this help and exit

Serving (an OpenAI-compatible HTTP server instead of one prompt):
  --serve                serve POST /v1/chat/completions, POST /v1/completions,
                         GET /v1/models, /health and /metrics (Prometheus)
                         until SIGTERM/SIGINT, which finishes the requests in
                         flight and exits 0; the sampling and generation flags
                         above are the requests' defaults
  --host ADDR            address to listen on (default 127.0.0.1)
  --port N               TCP port (default 8080; 0 = any free port, printed)
  --parallel N           sequences generated at once, each with its own KV
                         cache of --max-context tokens (default 4)
  --queue N              requests that may wait for a free sequence (default
                         64); more are answered 503 with Retry-After
  --api-key KEY          require "Authorization: Bearer KEY" on /v1/
                         (default: $GEMMA4_API_KEY when set, else none)
  --max-body BYTES       largest request body (default 1048576); larger: 413
  --prefill-budget N     prompt tokens read per scheduler step between decode
                         steps (default: the model's prefill chunk)

Benchmarking:
  --random-weights[=SEED]
                         do not read the weights: fill memory of their size
                         (on all CPUs) with seeded pseudo-random bytes in
                         [0x3c, 0x3f] (default seed 1), so every float is
                         moderate and finite whatever the format: real
                         shapes and speed, meaningless output; with external
                         weights the .weights file need not exist
  --bench-verify R       binaries with a draft: after the prompt, R rounds of
                         one decode step and one verify call of k + 1 tokens
                         for k = 1..8 at the same position (each rolled
                         back), interleaved; prints each k's median time
                         and median ratio to the decode step on stderr
  --check-decode-batch   CPU binaries with a batched decode entry: decode
                         B + 1 sequences (prefixes of the prompt, so at
                         different positions) two steps through it and
                         through gemma4_decode one by one; prints how
                         many rows agree within 1e-4 of the largest logit
                         and the largest difference; exit 1 unless 3/4 of
                         the rows do and none is off by 2e-2
  --repeat-prefill N     after the prompt, prefill it N more times in this
                         process (the KV cache cleared before each), then
                         generate; --stats gives the first prompt of a fresh
                         process (prefill:) and the median of the others
                         (prefill again:)
  --fake-context N       start the prompt at position N as if N tokens were
                         already in the KV cache (left zero): the speed of a
                         long context without prefilling it; prompt + N +
                         --max-new-tokens must fit --max-context
)";
}

namespace {

int64_t parseInt(const std::string &flag, const std::string &v, int64_t lo, int64_t hi) {
  if (v.empty())
    throw UsageError(flag + ": expected an integer, got an empty value");
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (*end != 0 || end == v.c_str() || v.front() == ' ')
    throw UsageError(flag + ": expected an integer, got '" + v + "'");
  if (errno == ERANGE || x < lo || x > hi)
    throw UsageError(flag + ": " + v + " is out of range [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  return x;
}

uint64_t parseU64(const std::string &flag, const std::string &v) {
  char *end = nullptr;
  errno = 0;
  if (v.empty() || v.front() == '-' || v.front() == '+' || v.front() == ' ')
    throw UsageError(flag + ": expected a non-negative integer, got '" + v + "'");
  unsigned long long x = std::strtoull(v.c_str(), &end, 10);
  if (*end != 0 || end == v.c_str())
    throw UsageError(flag + ": expected a non-negative integer, got '" + v + "'");
  if (errno == ERANGE)
    throw UsageError(flag + ": " + v + " does not fit 64 bits");
  return x;
}

double parseReal(const std::string &flag, const std::string &v, double lo, double hi,
                 bool loOpen, const char *range) {
  char *end = nullptr;
  errno = 0;
  double x = v.empty() ? 0 : std::strtod(v.c_str(), &end);
  if (v.empty() || *end != 0 || end == v.c_str() || v.front() == ' ')
    throw UsageError(flag + ": expected a number, got '" + v + "'");
  if (!std::isfinite(x) || x < lo || x > hi || (loOpen && x == lo))
    throw UsageError(flag + ": " + v + " is out of range " + range);
  return x;
}

} // namespace

std::vector<int32_t> parseIdList(const std::string &text, const std::string &flag) {
  std::vector<int32_t> ids;
  size_t i = 0, n = text.size();
  auto isSep = [](char c) { return c == ',' || c == ' ' || c == '\t' || c == '\n'; };
  bool expectItem = true; // after a comma an item must follow
  while (i < n) {
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'))
      ++i;
    if (i >= n)
      break;
    if (text[i] == ',') {
      if (expectItem)
        throw UsageError(flag + ": empty item in token list '" + text + "'");
      expectItem = true;
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && !isSep(text[j]))
      ++j;
    std::string item = text.substr(i, j - i);
    char *end = nullptr;
    errno = 0;
    long long x = std::strtoll(item.c_str(), &end, 10);
    if (*end != 0 || end == item.c_str())
      throw UsageError(flag + ": '" + item + "' is not a token id");
    if (errno == ERANGE || x < std::numeric_limits<int32_t>::min() ||
        x > std::numeric_limits<int32_t>::max())
      throw UsageError(flag + ": token id " + item + " is out of range");
    ids.push_back(static_cast<int32_t>(x));
    expectItem = false;
    i = j;
  }
  if (ids.empty())
    throw UsageError(flag + ": empty token list");
  if (expectItem)
    throw UsageError(flag + ": token list '" + text + "' ends with a comma");
  return ids;
}

Options parseArgs(int argc, const char *const *argv) {
  Options o;
  using ValueFn = std::function<void(const std::string &flag, const std::string &value)>;
  using FlagFn = std::function<void()>;
  const std::map<std::string, ValueFn> withValue = {
      {"--tokens", [&](auto &f, auto &v) { o.tokens = parseIdList(v, f); }},
      {"--prompt", [&](auto &, auto &v) { o.prompt = v; }},
      {"--chat", [&](auto &, auto &v) { o.chat = v; }},
      {"--system", [&](auto &, auto &v) { o.system = v; }},
      {"--max-new-tokens",
       [&](auto &f, auto &v) { o.maxNewTokens = parseInt(f, v, 0, int64_t(1) << 40); }},
      {"--max-context",
       [&](auto &f, auto &v) { o.maxContext = parseInt(f, v, 1, int64_t(1) << 40); }},
      {"--threads", [&](auto &f, auto &v) { o.threads = int(parseInt(f, v, 1, 4096)); }},
      {"--device", [&](auto &f, auto &v) { o.device = int(parseInt(f, v, 0, 1023)); }},
      {"--temperature",
       [&](auto &f, auto &v) { o.temperature = parseReal(f, v, 0, 1e6, false, "[0, inf)"); }},
      {"--top-k", [&](auto &f, auto &v) { o.topK = parseInt(f, v, 0, INT32_MAX); }},
      {"--top-p", [&](auto &f, auto &v) { o.topP = parseReal(f, v, 0, 1, true, "(0, 1]"); }},
      {"--min-p", [&](auto &f, auto &v) { o.minP = parseReal(f, v, 0, 1, false, "[0, 1]"); }},
      {"--repeat-penalty",
       [&](auto &f, auto &v) { o.repeatPenalty = parseReal(f, v, 0, 1e6, true, "(0, inf)"); }},
      {"--repeat-last-n",
       [&](auto &f, auto &v) { o.repeatLastN = parseInt(f, v, -1, INT32_MAX); }},
      {"--seed", [&](auto &f, auto &v) { o.seed = parseU64(f, v); }},
      {"--fake-context",
       [&](auto &f, auto &v) { o.fakeContext = parseInt(f, v, 0, int64_t(1) << 40); }},
      {"--bench-verify",
       [&](auto &f, auto &v) { o.benchVerify = parseInt(f, v, 1, 100000); }},
      {"--draft-tokens",
       [&](auto &f, auto &v) {
         if (v == "auto") {
           o.draftTokens.reset();
           return;
         }
         char *end = nullptr;
         long long k = std::strtoll(v.c_str(), &end, 10);
         if (v.empty() || *end != 0 || v.front() == ' ' || k < 0 || k > kMaxDraftTokens)
           throw UsageError(f + ": expected 0 to " + std::to_string(kMaxDraftTokens) +
                            " or auto, got '" + v + "'");
         o.draftTokens = k;
       }},

      {"--repeat-prefill",
       [&](auto &f, auto &v) { o.repeatPrefill = parseInt(f, v, 0, 1000000); }},
      {"--host",
       [&](auto &f, auto &v) {
         if (v.empty())
           throw UsageError(f + ": expected an address");
         o.host = v;
       }},
      {"--port", [&](auto &f, auto &v) { o.port = int(parseInt(f, v, 0, 65535)); }},
      {"--parallel", [&](auto &f, auto &v) { o.parallel = int(parseInt(f, v, 1, 256)); }},
      {"--queue", [&](auto &f, auto &v) { o.queue = int(parseInt(f, v, 0, 65536)); }},
      {"--api-key",
       [&](auto &f, auto &v) {
         if (v.empty())
           throw UsageError(f + ": expected a key");
         o.apiKey = v;
       }},
      {"--max-body",
       [&](auto &f, auto &v) { o.maxBody = parseInt(f, v, 1024, int64_t(1) << 30); }},
      {"--prefill-budget",
       [&](auto &f, auto &v) { o.prefillBudget = parseInt(f, v, 1, int64_t(1) << 20); }},
      {"--load-weights",
       [&](auto &f, auto &v) {
         parseWeightsLoad(v, f); // checks the value
         o.loadWeights = v;
       }},
      {"--image",
       [&](auto &f, auto &v) {
         if (v.empty())
           throw UsageError(f + ": expected a file name");
         o.images.push_back(v);
       }},
      {"--audio",
       [&](auto &f, auto &v) {
         if (v.empty())
           throw UsageError(f + ": expected a file name");
         o.audios.push_back(v);
       }},
      {"--dump-logits",
       [&](auto &f, auto &v) {
         if (v.empty())
           throw UsageError(f + ": expected a file name");
         o.dumpLogits = v;
       }},
  };
  const std::map<std::string, FlagFn> noValue = {
      {"--help", [&] { o.help = true; }},
      {"-h", [&] { o.help = true; }},
      {"--info", [&] { o.info = true; }},
      {"--greedy", [&] { o.greedy = true; }},
      {"--ignore-eos", [&] { o.ignoreEos = true; }},
      {"--print-ids", [&] { o.printIds = true; }},
      {"--print-prompt-ids", [&] { o.printPromptIds = true; }},
      {"--raw", [&] { o.raw = true; }},
      {"--think", [&] { o.think = true; }},
      {"--no-think", [&] { o.think = false; }},
      {"--show-special", [&] { o.showSpecial = true; }},
      {"--stats", [&] { o.stats = true; }},
      {"--check-decode-batch", [&] { o.checkDecodeBatch = true; }},
      {"--dump-decode-logits", [&] { o.dumpDecodeLogits = true; }},
      {"--serve", [&] { o.serve = true; }},
  };
  bool serveFlag = false; // a --serve-only flag was given

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string name = arg, value;
    bool hasInline = false;
    if (arg.rfind("--", 0) == 0) {
      if (auto eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        hasInline = true;
      }
    } else if (arg != "-h") {
      throw UsageError("unexpected argument '" + arg + "' (see --help)");
    }
    if (name == "--random-weights") {
      // Optional value, inline only (--random-weights 7 would be ambiguous).
      o.randomWeights = hasInline ? parseU64(name, value) : kDefaultRandomWeightsSeed;
      continue;
    }
    if (auto it = noValue.find(name); it != noValue.end()) {
      if (hasInline)
        throw UsageError(name + ": takes no value");
      it->second();
      continue;
    }
    auto it = withValue.find(name);
    if (it == withValue.end())
      throw UsageError("unknown flag " + name + " (see --help)");
    if (name == "--chat" && !hasInline &&
        (i + 1 >= argc || std::string_view(argv[i + 1]).starts_with("--") ||
         std::string_view(argv[i + 1]) == "-h")) {
      // --chat without text: the interactive chat (--chat=--x sends "--x").
      o.interactive = true;
      continue;
    }
    if (!hasInline) {
      if (i + 1 >= argc)
        throw UsageError(name + ": missing value");
      value = argv[++i];
      if (value.rfind("--", 0) == 0 && name != "--prompt" && name != "--system")
        throw UsageError(name + ": missing value (got flag " + value + ")");
    }
    it->second(name, value);
    static const char *const serveOnly[] = {"--host",    "--port",     "--parallel",
                                             "--queue",   "--api-key",  "--max-body",
                                             "--prefill-budget"};
    for (const char *f : serveOnly)
      if (name == f)
        serveFlag = true;
  }

  if (o.serve) {
    const char *prompt = o.tokens ? "--tokens" : o.prompt ? "--prompt" : o.chat ? "--chat"
                       : o.interactive ? "--chat" : nullptr;
    if (prompt)
      throw UsageError(std::string(prompt) + ": not with --serve (requests carry the prompts)");
    const char *other = o.dumpLogits ? "--dump-logits" : o.fakeContext ? "--fake-context"
                      : o.checkDecodeBatch ? "--check-decode-batch"
                      : o.repeatPrefill ? "--repeat-prefill"
                      : o.printIds ? "--print-ids" : o.printPromptIds ? "--print-prompt-ids"
                      : o.raw ? "--raw" : o.system ? "--system"
                      : !o.images.empty() ? "--image" : !o.audios.empty() ? "--audio" : nullptr;
    if (other)
      throw UsageError(std::string(other) + ": not with --serve");
  } else if (serveFlag) {
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      for (const char *f : {"--host", "--port", "--parallel", "--queue", "--api-key",
                            "--max-body", "--prefill-budget"})
        if (a == f || (a.starts_with(f) && a.size() > strlen(f) && a[strlen(f)] == '='))
          throw UsageError(std::string(f) + ": needs --serve");
    }
  }
  const bool chat = o.chat.has_value() || o.interactive;
  int sources = int(o.tokens.has_value()) + int(o.prompt.has_value()) + int(chat);
  if (sources > 1)
    throw UsageError(std::string(chat ? "--chat" : "--prompt") +
                     ": give only one of --tokens, --prompt, --chat");
  if (o.raw && !o.prompt)
    throw UsageError("--raw: applies to --prompt only");
  if ((o.system || o.think) && (o.raw || o.tokens))
    throw UsageError(std::string(o.system ? "--system" : "--think") +
                     ": needs the chat template (--prompt without --raw, or --chat)");
  if (o.interactive && o.fakeContext)
    throw UsageError("--fake-context: not with the interactive --chat");
  if (o.interactive && o.repeatPrefill)
    throw UsageError("--repeat-prefill: not with the interactive --chat");
  if (o.dumpDecodeLogits && !o.dumpLogits)
    throw UsageError("--dump-decode-logits: needs --dump-logits FILE");
  if (o.interactive && o.dumpLogits)
    throw UsageError("--dump-logits: not with the interactive --chat");
  return o;
}

} // namespace gemma4rt
