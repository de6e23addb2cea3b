//===- Synth.cpp - gemma4c synth ------------------------------------------===//
//
// Writes a random-weight checkpoint with the published shapes of a Gemma 4
// variant (or of a config file): config.json in the transformers format,
// generation_config.json and bf16 safetensors (sharded at 4 GiB with an
// index for big models). Weights are streamed from a fast xorshift
// generator through a table of normal samples, so nothing close to the model
// size is ever held in memory. With --zeros every tensor is all zeros and the
// files are sparse: the header is written and the file is extended with
// ftruncate, so the data region is a hole that takes no disk (for building
// benchmark binaries of big models whose weights the runtime fills at
// start-up with --random-weights: only the shapes matter). The output is
// written to a temporary sibling directory, checked with Checkpoint::open
// and renamed into place; a failure or an interrupt removes the partial
// output.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"

#include "gemma4c/Frontend/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <fcntl.h>
#include <unistd.h>

namespace gemma4c {
namespace {
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

const char *kUsage =
    "Usage: gemma4c synth --preset <e2b|e4b|26b-a4b|31b|tiny|file.json> -o <dir>\n"
    "                     [--seed N | --zeros] [--wrapper conditional|causal] [--force]\n\n"
    "Writes a checkpoint with random bf16 weights and the shapes of a Gemma 4\n"
    "variant: config.json, generation_config.json and model.safetensors (or\n"
    "shards of at most 4 GiB plus model.safetensors.index.json).\n\n"
    "Options:\n"
    "  --preset P     e2b, e4b, 26b-a4b, 31b (published shapes), tiny (a small\n"
    "                 CI model using every feature) or a config.json-style file\n"
    "                 (a full config or just its text_config)\n"
    "  -o DIR         output directory (must not exist or be empty)\n"
    "  --seed N       random seed (default 0)\n"
    "  --zeros        all-zero weights written as sparse files (the data is a\n"
    "                 hole: no disk used, however big the model); for building\n"
    "                 binaries that run with --random-weights, where only the\n"
    "                 shapes matter. The model computes nothing useful\n"
    "  --wrapper W    conditional (Gemma4ForConditionalGeneration, default) or\n"
    "                 causal (Gemma4ForCausalLM)\n"
    "  --force        replace DIR if it exists\n"
    "  --help         this text\n";

constexpr uint64_t kShardBytes = 4ull << 30;
std::atomic<bool> gInterrupted{false};
extern "C" void onSignal(int) { gInterrupted = true; }

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
uint64_t fnv1a(const std::string &s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s)
    h = (h ^ c) * 0x100000001b3ull;
  return h;
}
uint16_t toBF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fff + ((u >> 16) & 1); // round to nearest even (finite values only)
  return static_cast<uint16_t>(u >> 16);
}

/// How a tensor is filled.
enum class Init { Normal, NearOne, One };
Init initOf(const std::string &name) {
  if (name.size() >= 12 && name.compare(name.size() - 12, 12, "layer_scalar") == 0)
    return Init::One;
  if (name.find("norm") != std::string::npos || name.find("router.scale") != std::string::npos ||
      name.find("per_expert_scale") != std::string::npos)
    return Init::NearOne;
  return Init::Normal;
}

struct Generator {
  std::vector<uint16_t> normal; ///< 65536 bf16 samples of N(0, 0.02^2)
  std::vector<uint16_t> nearOne; ///< 65536 bf16 samples of 1 + N(0, 0.05^2)
  explicit Generator(uint64_t seed) : normal(65536), nearOne(65536) {
    std::mt19937_64 rng(splitmix64(seed ^ 0x5eed));
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (size_t i = 0; i < 65536; ++i) {
      float z = nd(rng);
      normal[i] = toBF16(0.02f * z);
      nearOne[i] = toBF16(1.0f + 0.05f * z);
    }
  }
  /// Bytes [off, off+n) of a bf16 tensor with stream seed `s`; off is a
  /// multiple of 8, so the values do not depend on how the writer chunks.
  void fill(Init init, uint64_t s, uint64_t off, uint8_t *buf, uint64_t n) const {
    if (init == Init::One) {
      uint16_t one = toBF16(1.0f);
      for (uint64_t i = 0; i + 1 < n; i += 2)
        std::memcpy(buf + i, &one, 2);
      return;
    }
    const uint16_t *table = init == Init::Normal ? normal.data() : nearOne.data();
    uint64_t x = splitmix64(s + off) | 1;
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      uint16_t v[4] = {table[x & 0xffff], table[(x >> 16) & 0xffff],
                       table[(x >> 32) & 0xffff], table[x >> 48]};
      std::memcpy(buf + i, v, 8);
    }
    for (; i + 1 < n; i += 2) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      uint16_t v = table[x & 0xffff];
      std::memcpy(buf + i, &v, 2);
    }
  }
};

void writeText(const fs::path &p, const std::string &text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  out.close();
  if (!out)
    throw InputError(p.string() + ": cannot write");
}

/// A safetensors file whose tensors are all zeros, as a sparse file: the
/// header, then ftruncate to the full size so the data region is a hole
/// (reads as zeros, takes no disk). Written under a temporary name and
/// renamed, like writeSafetensorsStreaming.
void writeZeroSafetensors(const std::string &path, const std::vector<TensorSpec> &tensors) {
  std::string header = safetensorsHeader(tensors, {{"format", "pt"}});
  uint64_t size = header.size();
  for (const TensorSpec &t : tensors)
    size += t.nbytes();
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  auto fail = [&](const char *what) {
    int err = errno;
    throw InputError(path + ": " + what + ": " + std::strerror(err));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail("cannot create");
  try {
    for (size_t done = 0; done < header.size();) {
      ssize_t w = ::write(fd, header.data() + done, header.size() - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        fail("write failed");
      done += static_cast<size_t>(w);
    }
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0)
      fail("cannot extend to its full size");
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0)
      fail("close failed");
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      fail("cannot rename the temporary file into place");
  } catch (...) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path))
    throw InputError(path + ": cannot read preset file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Options {
  std::string preset, out, wrapper;
  uint64_t seed = 0;
  bool force = false;
  bool zeros = false;
};

int synth(const Options &opt) {
  auto start = std::chrono::steady_clock::now();
  // The config to write.
  json text;
  bool conditional = opt.wrapper != "causal";
  bool isFile = opt.preset.find('/') != std::string::npos ||
                (opt.preset.size() > 5 && opt.preset.substr(opt.preset.size() - 5) == ".json");
  json config;
  if (isFile) {
    std::string raw = readText(opt.preset);
    TextConfig probe = parseConfig(raw, opt.preset); // validates it, one-line errors
    json j = json::parse(raw);
    if (opt.wrapper.empty())
      conditional = probe.architecture == "Gemma4ForConditionalGeneration";
    if (j.contains("text_config") && j["text_config"].is_object()) {
      text = j["text_config"];
      if (conditional && j.value("model_type", "") == "gemma4")
        config = j; // keep the file's own wrapper fields
    } else {
      text = j;
      text.erase("architectures");
    }
  } else {
    config = json::parse(presetConfig(opt.preset, conditional));
  }
  if (config.is_null())
    config = json::parse(wrapTextConfig(text.dump(), conditional));
  std::string configText = config.dump(2) + "\n";
  TextConfig c = parseConfig(configText, "preset " + opt.preset);

  std::vector<TensorSpec> specs;
  for (auto &[name, shape] : expectedTensors(c))
    specs.push_back({name == "lm_head.weight" ? name : c.tensorPrefix + name, DType::BF16, shape});
  uint64_t total = 0;
  for (const TensorSpec &s : specs)
    total += s.nbytes();
  // Shards: greedy in name order, at most 4 GiB each unless one tensor alone
  // is bigger (it then gets a shard of its own, as transformers does).
  std::vector<std::vector<size_t>> shards(1);
  uint64_t cur = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t n = specs[i].nbytes();
    if (!shards.back().empty() && cur + n > kShardBytes) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(i);
    cur += n;
  }

  // Output directory.
  fs::path out = fs::path(opt.out).lexically_normal();
  if (out.has_filename() == false)
    out = out.parent_path();
  bool existed = fs::exists(out);
  if (existed && !opt.force && !(fs::is_directory(out) && fs::is_empty(out)))
    throw InputError(out.string() + ": already exists and is not empty (use --force to replace it)");
  fs::path tmp = out;
  tmp += ".tmp." + std::to_string(::getpid());
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  try {
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    writeText(tmp / "config.json", configText);
    json gen;
    gen["_from_model_config"] = true;
    gen["bos_token_id"] = c.bosTokenId;
    gen["eos_token_id"] = c.eosTokenIds.size() == 1 ? json(c.eosTokenIds[0]) : json(c.eosTokenIds);
    gen["pad_token_id"] = c.padTokenId;
    gen["transformers_version"] = "5.17.0";
    writeText(tmp / "generation_config.json", gen.dump(2) + "\n");

    Generator g(opt.seed);
    json weightMap = json::object();
    for (size_t s = 0; s < shards.size(); ++s) {
      char name[64];
      if (shards.size() == 1)
        std::snprintf(name, sizeof name, "model.safetensors");
      else
        std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
      std::vector<TensorSpec> part;
      std::vector<uint64_t> seeds;
      std::vector<Init> inits;
      for (size_t i : shards[s]) {
        part.push_back(specs[i]);
        seeds.push_back(splitmix64(opt.seed ^ fnv1a(specs[i].name)));
        inits.push_back(initOf(specs[i].name));
        weightMap[specs[i].name] = name;
      }
      if (gInterrupted)
        throw InputError("interrupted");
      if (opt.zeros) {
        writeZeroSafetensors((tmp / name).string(), part);
        continue;
      }
      writeSafetensorsStreaming((tmp / name).string(), part,
                                [&](size_t i, uint64_t off, uint8_t *buf, uint64_t n) {
                                  if (gInterrupted)
                                    throw InputError("interrupted");
                                  g.fill(inits[i], seeds[i], off, buf, n);
                                });
    }
    if (shards.size() > 1) {
      json index;
      index["metadata"] = {{"total_size", total}};
      index["weight_map"] = weightMap;
      writeText(tmp / "model.safetensors.index.json", index.dump(2) + "\n");
    }
    Checkpoint::open(tmp.string()); // must read back cleanly
    if (existed)
      fs::remove_all(out);
    fs::rename(tmp, out);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %s: %s, %zu tensors, %.2f GiB in %zu file%s%s, %.1f s\n", out.c_str(),
              guessVariant(c) == "unknown" ? opt.preset.c_str() : guessVariant(c).c_str(),
              specs.size(), double(total) / double(1ull << 30), shards.size(),
              shards.size() == 1 ? "" : "s", opt.zeros ? " (zeros, sparse)" : "", secs);
  return 0;
}
} // namespace

int runSynth(const Args &args) {
  Options opt;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto value = [&](const char *flag) -> const std::string * {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "gemma4c synth: error: %s needs a value\n", flag);
        return nullptr;
      }
      return &args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--preset") {
      const std::string *v = value("--preset");
      if (!v)
        return 2;
      opt.preset = *v;
    } else if (a == "-o" || a == "--output") {
      const std::string *v = value("-o");
      if (!v)
        return 2;
      opt.out = *v;
    } else if (a == "--seed") {
      const std::string *v = value("--seed");
      if (!v)
        return 2;
      char *end = nullptr;
      errno = 0;
      opt.seed = std::strtoull(v->c_str(), &end, 0);
      if (v->empty() || *end || errno || (*v)[0] == '-') {
        std::fprintf(stderr, "gemma4c synth: error: --seed needs a non-negative integer, got '%s'\n",
                     v->c_str());
        return 2;
      }
    } else if (a == "--wrapper") {
      const std::string *v = value("--wrapper");
      if (!v)
        return 2;
      if (*v != "conditional" && *v != "causal") {
        std::fprintf(stderr,
                     "gemma4c synth: error: --wrapper must be conditional or causal, got '%s'\n",
                     v->c_str());
        return 2;
      }
      opt.wrapper = *v;
    } else if (a == "--force") {
      opt.force = true;
    } else if (a == "--zeros") {
      opt.zeros = true;
    } else {
      std::fprintf(stderr, "gemma4c synth: error: unknown argument '%s' (see --help)\n",
                   a.c_str());
      return 2;
    }
  }
  if (opt.preset.empty() || opt.out.empty()) {
    std::fprintf(stderr, "gemma4c synth: error: --preset and -o are required (see --help)\n");
    return 2;
  }
  try {
    return synth(opt);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "gemma4c synth: error: %s\n", e.what());
    return 1;
  }
}

} // namespace gemma4c
