//===- cli.h - the compiled model's command line ----------------*- C++ -*-===//
#ifndef GEMMA4RT_CLI_H
#define GEMMA4RT_CLI_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gemma4rt {

struct Options {
  bool help = false;
  bool info = false; ///< --info: print the manifest summary and exit

  // Prompt: exactly one of these.
  std::optional<std::vector<int32_t>> tokens; ///< --tokens 2,17,93
  std::optional<std::string> prompt;          ///< --prompt TEXT (one user turn)
  std::optional<std::string> chat;            ///< --chat TEXT (one user turn)
  bool interactive = false;                   ///< --chat with no text: turns from stdin

  /// --image FILE / --audio FILE (repeatable, in prompt order): PNG/JPEG
  /// pictures and WAV clips for the vision and audio towers (media.h).
  std::vector<std::string> images, audios;

  // Text.
  bool raw = false;                  ///< --raw: --prompt text as is, no template
  std::optional<std::string> system; ///< --system TEXT
  bool think = false;                ///< --think (--no-think: false)
  bool showSpecial = false;          ///< --show-special

  std::optional<int64_t> maxNewTokens; ///< unset: until EOS or context full
  std::optional<int64_t> maxContext;   ///< unset: manifest default_context
  std::optional<int> threads;          ///< unset: all CPUs
  int device = 0;                      ///< --device N: the GPU (GPU binaries)
  /// --load-weights auto|read|map (checked); unset: $GEMMA4RT_LOAD_WEIGHTS,
  /// else auto.
  std::optional<std::string> loadWeights;

  bool greedy = false;
  std::optional<double> temperature;
  std::optional<int64_t> topK;
  std::optional<double> topP;
  std::optional<double> minP;
  std::optional<double> repeatPenalty;
  std::optional<int64_t> repeatLastN;
  std::optional<uint64_t> seed;
  bool ignoreEos = false;

  bool printIds = false;
  bool printPromptIds = false; ///< --print-prompt-ids: each prefill's ids to stderr
  std::optional<std::string> dumpLogits;
  bool dumpDecodeLogits = false; ///< --dump-decode-logits: also each decode step's row
  bool stats = false;

  // --serve: the OpenAI-compatible HTTP server (serve.h).
  bool serve = false;
  std::string host = "127.0.0.1";       ///< --host ADDR
  int port = 8080;                      ///< --port N (0: any free port)
  int parallel = 4;                     ///< --parallel N: sequences at once
  int queue = 64;                       ///< --queue N: requests waiting for a slot
  std::optional<std::string> apiKey;    ///< --api-key KEY (also $GEMMA4_API_KEY)
  int64_t maxBody = int64_t(1) << 20;   ///< --max-body BYTES
  std::optional<int64_t> prefillBudget; ///< --prefill-budget N: prompt tokens per step

  /// --random-weights[=SEED]: instead of mapping the weights, fill an
  /// anonymous region of the manifest's size with seeded pseudo-random bytes
  /// that are harmless under every interpretation (benchmarks of real shapes
  /// without the weights file). Unset: map the real weights.
  std::optional<uint64_t> randomWeights;
  /// --fake-context N: start the prompt at position N, as if N tokens were
  /// already in the (zeroed) KV cache: decode speed at a long context without
  /// prefilling it. 0 = off.
  int64_t fakeContext = 0;
  /// --draft-tokens K|auto: tokens the draft model proposes per verify
  /// call in binaries compiled with --draft (0 = no speculative decoding;
  /// unset or "auto": chosen from the acceptance as it goes).
  std::optional<int64_t> draftTokens;
  /// --bench-verify ROUNDS: after the prompt, time verify calls of k + 1
  /// tokens (k = 1..8) against decode steps at the same position,
  /// interleaved, and print the ratios (bench/verify). 0 = off.
  int64_t benchVerify = 0;
  /// --repeat-prefill N: prefill the prompt N more times (KV cache cleared
  /// before each) before generating; --stats reports first vs later.
  int64_t repeatPrefill = 0;
  /// --check-decode-batch: compare the batched decode entry's logits with
  /// gemma4_decode's for sequences at different positions, then exit.
  bool checkDecodeBatch = false;
};

/// The most --draft-tokens takes (a verify call also needs K + 1 <= the
/// model's prefill chunk).
constexpr int64_t kMaxDraftTokens = 32;

/// The SEED of a bare --random-weights.
constexpr uint64_t kDefaultRandomWeightsSeed = 1;

/// Parses argv[1..]. Accepts "--flag value" and "--flag=value". Throws
/// UsageError naming the flag for an unknown flag, a missing or malformed
/// value, or a value out of range.
Options parseArgs(int argc, const char *const *argv);

/// The --help text.
std::string usage(const std::string &prog);

/// "2,17,93" (commas and/or blanks) -> ids; throws UsageError naming `flag`.
std::vector<int32_t> parseIdList(const std::string &text, const std::string &flag);

} // namespace gemma4rt

#endif
