//===- RuntimePayloadTest.cpp - manifest, payload, CLI, KV arena, session ===//
#include "gemma4rt/cli.h"
#include "gemma4rt/error.h"
#include "gemma4rt/payload.h"
#include "gemma4rt/session.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

using namespace gemma4rt;

namespace {

std::string manifestJson(const std::string &weights, const std::string &extra = "") {
  return R"({"abi": 1, "model": {"name": "t", "vocab_size": 10, "num_layers": 1,
    "hidden_size": 4, "max_position_embeddings": 100, "bos_token_id": 2,
    "eos_token_ids": [1, 3], "pad_token_id": 0},
    "prefill_chunk": 4, "default_context": 32, "kv_bytes_fixed": 16,
    "kv_bytes_per_context": 8, "weights": )" +
         weights + R"(, "tokenizer": null, "chat": null)" + extra + "}";
}

std::string expectError(const std::function<void()> &f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "<no error>";
}

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/gemma4rt-test-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

void putLe64(std::string &s, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    s.push_back(char(v >> (8 * i)));
}

/// [junk "exe"][pad 4096][weights][tokenizer][manifest][trailer]
std::string buildFile(const std::string &weights, const std::string &tok, bool external = false) {
  std::string f = "\x7f" "ELF pretend executable";
  f.resize(4096 * 2, '\0');
  uint64_t wOff = f.size();
  if (!external)
    f += weights;
  uint64_t tOff = f.size();
  f += tok;
  std::string w = external ? R"({"file": "w.bin", "size": )" + std::to_string(weights.size()) + "}"
                           : R"({"offset": )" + std::to_string(wOff) + R"(, "size": )" +
                                 std::to_string(weights.size()) + "}";
  std::string m = manifestJson(w);
  if (!tok.empty()) {
    std::string t = R"("tokenizer": {"offset": )" + std::to_string(tOff) + R"(, "size": )" +
                    std::to_string(tok.size()) + R"(, "format": "hf-json"})";
    m.replace(m.find(R"("tokenizer": null)"), std::strlen(R"("tokenizer": null)"), t);
  }
  uint64_t mOff = f.size();
  f += m;
  f += "GEMMA4PL";
  putLe64(f, mOff);
  putLe64(f, m.size());
  putLe64(f, 1);
  return f;
}

void writeFile(const std::string &path, const std::string &data) {
  std::ofstream(path, std::ios::binary) << data;
}

} // namespace

TEST(RuntimeManifest, ParsesEveryField) {
  Manifest m = parseManifest(
      manifestJson(R"({"offset": 8192, "size": 100})",
                   R"(, "generation": {"temperature": 0.7, "top_k": 20, "top_p": 0.8})"),
      "x");
  EXPECT_EQ(m.abi, 1);
  EXPECT_EQ(m.model.name, "t");
  EXPECT_EQ(m.model.vocabSize, 10);
  EXPECT_EQ(m.model.maxPositionEmbeddings, 100);
  EXPECT_EQ(m.model.bosTokenId, 2);
  EXPECT_EQ(m.model.eosTokenIds, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(m.prefillChunk, 4);
  EXPECT_EQ(m.defaultContext, 32);
  EXPECT_EQ(m.kvBytesFixed, 16u);
  EXPECT_EQ(m.kvBytesPerContext, 8u);
  EXPECT_FALSE(m.weightsExternal);
  EXPECT_EQ(m.weightsOffset, 8192u);
  EXPECT_EQ(m.weightsSize, 100u);
  EXPECT_FALSE(m.hasTokenizer);
  EXPECT_TRUE(m.chatJson.empty());
  EXPECT_DOUBLE_EQ(m.generation.temperature, 0.7);
  EXPECT_EQ(m.generation.topK, 20);
  EXPECT_DOUBLE_EQ(m.generation.topP, 0.8);
  EXPECT_LT(m.generation.minP, 0);

  Manifest e = parseManifest(manifestJson(R"({"file": "m.weights", "size": 7})"), "x");
  EXPECT_TRUE(e.weightsExternal);
  EXPECT_EQ(e.weightsFile, "m.weights");
}

TEST(RuntimeManifest, RejectsBadManifests) {
  EXPECT_EQ(expectError([] { parseManifest("{", "f"); }),
            "corrupt model payload in f: manifest is not valid JSON");
  EXPECT_EQ(expectError([] { parseManifest("[]", "f"); }),
            "corrupt model payload in f: manifest is not a JSON object");
  EXPECT_EQ(expectError([] { parseManifest(R"({"abi": 1})", "f"); }),
            "corrupt model payload in f: manifest lacks \"model\"");
  EXPECT_EQ(expectError([] { parseManifest(R"({"abi": 3})", "f"); }),
            "model payload in f has ABI version 3, this runtime implements 1");
  std::string m = manifestJson(R"({"offset": 8193, "size": 1})");
  EXPECT_EQ(expectError([&] { parseManifest(m, "f"); }),
            "corrupt model payload in f: weights offset 8193 is not 4096-aligned");
  m = manifestJson(R"({"offset": 0, "size": 1})");
  m.replace(m.find("\"prefill_chunk\": 4"), 18, "\"prefill_chunk\": \"4\"");
  EXPECT_EQ(expectError([&] { parseManifest(m, "f"); }),
            "corrupt model payload in f: manifest \"prefill_chunk\" is not an integer");
  m = manifestJson(R"({"offset": 0, "size": 1})");
  m.replace(m.find("[1, 3]"), 6, "[1, 10]");
  EXPECT_EQ(expectError([&] { parseManifest(m, "f"); }),
            "corrupt model payload in f: manifest \"model.eos_token_ids\" holds an invalid id");
  // decode_batch (a batched decode entry): optional, else 2 and up.
  m = manifestJson(R"({"offset": 0, "size": 1})");
  EXPECT_EQ(parseManifest(m, "f").decodeBatch, 0);
  m.replace(m.find("\"prefill_chunk\": 4"), 18, "\"prefill_chunk\": 4, \"decode_batch\": 8");
  EXPECT_EQ(parseManifest(m, "f").decodeBatch, 8);
  m.replace(m.find("\"decode_batch\": 8"), 17, "\"decode_batch\": 1");
  EXPECT_EQ(expectError([&] { parseManifest(m, "f"); }),
            "corrupt model payload in f: manifest \"decode_batch\" = 1 is out of range");
}

TEST(RuntimePayload, MapsEmbeddedWeightsWithoutCopy) {
  TempDir d;
  std::string weights(10000, '\0');
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = char(i * 13 + 5);
  std::string path = d.path + "/model";
  writeFile(path, buildFile(weights, "TOKENIZER-BYTES"));
  auto p = Payload::open(path);
  EXPECT_EQ(p->weightsSize(), weights.size());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p->weights()) % 4096, 0u);
  EXPECT_EQ(std::memcmp(p->weights(), weights.data(), weights.size()), 0);
  EXPECT_EQ(p->tokenizerBytes(), "TOKENIZER-BYTES");
  EXPECT_TRUE(p->manifest().hasTokenizer);
  EXPECT_EQ(p->manifest().tokenizerFormat, "hf-json");
  EXPECT_EQ(p->weightsPath(), path);
}

/// The VmFlags line of the /proc/self/smaps mapping holding `p` ("" if none).
std::string vmFlagsOf(const void *p) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  while (std::getline(in, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' '))
      inside = a >= lo && a < hi;
    else if (inside && line.rfind("VmFlags:", 0) == 0)
      return line;
  }
  return "";
}

// Weights are streamed whole every decode step: both the file mapping and
// the --random-weights region are advised for huge pages ("hg" in smaps),
// so the page cache can back them with 2 MiB folios.
TEST(RuntimePayload, WeightMappingsAdviseHugePages) {
  if (::access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0)
    GTEST_SKIP() << "no transparent huge pages on this kernel";
  TempDir d;
  std::string path = d.path + "/w.bin";
  writeFile(path, std::string(3 << 20, 'w'));
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  MappedRegion file(fd, 4096, (3 << 20) - 4096, "test weights");
  ::close(fd);
  EXPECT_EQ(file.data()[0], 'w');
  EXPECT_NE(vmFlagsOf(file.data()).find(" hg"), std::string::npos) << vmFlagsOf(file.data());
  MappedRegion anon = MappedRegion::anonymous(3 << 20, "test weights");
  EXPECT_NE(vmFlagsOf(anon.data()).find(" hg"), std::string::npos) << vmFlagsOf(anon.data());
}

TEST(RuntimePayload, ExternalWeightsBesideTheExecutable) {
  TempDir d;
  std::string path = d.path + "/model";
  writeFile(path, buildFile("external!", "", /*external=*/true));
  EXPECT_NE(expectError([&] { Payload::open(path); }).find("cannot open the weights file " +
                                                           d.path + "/w.bin"),
            std::string::npos);
  writeFile(d.path + "/w.bin", "external!");
  auto p = Payload::open(path);
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(p->weights()), p->weightsSize()),
            "external!");
  EXPECT_EQ(p->weightsPath(), d.path + "/w.bin");
}

TEST(RuntimePayload, MissingAndCorruptPayloads) {
  TempDir d;
  std::string path = d.path + "/model";
  writeFile(path, "just an executable");
  EXPECT_NE(expectError([&] { Payload::open(path); }).find("no model payload in " + path),
            std::string::npos);
  std::string f = buildFile("w", "");
  f[f.size() - 24] = char(0xff); // manifest offset far beyond the file
  writeFile(path, f);
  EXPECT_NE(expectError([&] { Payload::open(path); }).find("lies outside the file"),
            std::string::npos);
  EXPECT_NE(expectError([&] { Payload::open(d.path + "/nope"); }).find("cannot open"),
            std::string::npos);
}

TEST(RuntimePayload, SelfExePath) {
  std::string self = Payload::selfExePath(nullptr);
  EXPECT_EQ(self.front(), '/');
  EXPECT_EQ(::access(self.c_str(), R_OK), 0);
}

TEST(RuntimeCli, ParsesFlagsAndValues) {
  const char *argv[] = {"model", "--tokens", "2,17,93", "--max-new-tokens=16", "--greedy",
                        "--print-ids", "--top-k", "5", "--top-p=0.5", "--seed", "18446744073709551615",
                        "--dump-logits", "x.st", "--threads=3", "--repeat-last-n", "-1"};
  Options o = parseArgs(int(std::size(argv)), argv);
  EXPECT_EQ(*o.tokens, (std::vector<int32_t>{2, 17, 93}));
  EXPECT_EQ(*o.maxNewTokens, 16);
  EXPECT_TRUE(o.greedy);
  EXPECT_TRUE(o.printIds);
  EXPECT_EQ(*o.topK, 5);
  EXPECT_DOUBLE_EQ(*o.topP, 0.5);
  EXPECT_EQ(*o.seed, UINT64_MAX);
  EXPECT_EQ(*o.dumpLogits, "x.st");
  EXPECT_EQ(*o.threads, 3);
  EXPECT_EQ(*o.repeatLastN, -1);
  EXPECT_FALSE(o.maxContext.has_value());
}

TEST(RuntimeCli, BadFlagsAreUsageErrorsNamingTheFlag) {
  auto err = [](std::vector<const char *> args) -> std::pair<int, std::string> {
    args.insert(args.begin(), "model");
    try {
      parseArgs(int(args.size()), args.data());
    } catch (const Error &e) {
      return {e.exitCode(), e.what()};
    }
    return {0, ""};
  };
  EXPECT_EQ(err({"--nope"}), std::make_pair(2, std::string("unknown flag --nope (see --help)")));
  EXPECT_EQ(err({"--threads", "0"}).second, "--threads: 0 is out of range [1, 4096]");
  EXPECT_EQ(err({"--top-p", "abc"}).second, "--top-p: expected a number, got 'abc'");
  EXPECT_EQ(err({"--top-k"}).second, "--top-k: missing value");
  EXPECT_EQ(err({"--stats=1"}).second, "--stats: takes no value");
  EXPECT_EQ(err({"--seed", "99999999999999999999"}).second,
            "--seed: 99999999999999999999 does not fit 64 bits");
  EXPECT_EQ(err({"--tokens", "1", "--chat", "hi"}).second,
            "--chat: give only one of --tokens, --prompt, --chat");
}

TEST(RuntimeCli, IdLists) {
  EXPECT_EQ(parseIdList("1,2,3", "--t"), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(parseIdList(" 1 2\t3 ", "--t"), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(parseIdList("7, 8", "--t"), (std::vector<int32_t>{7, 8}));
  EXPECT_EQ(expectError([] { parseIdList("1,", "--t"); }), "--t: token list '1,' ends with a comma");
  EXPECT_EQ(expectError([] { parseIdList(",1", "--t"); }), "--t: empty item in token list ',1'");
  EXPECT_EQ(expectError([] { parseIdList("", "--t"); }), "--t: empty token list");
  EXPECT_EQ(expectError([] { parseIdList("1.5", "--t"); }), "--t: '1.5' is not a token id");
}

TEST(RuntimeKvArena, ZeroedAlignedAndSized) {
  Manifest m;
  m.kvBytesFixed = 100;
  m.kvBytesPerContext = 12;
  EXPECT_EQ(KvArena::bytesFor(m, 10), 220u);
  KvArena a(KvArena::bytesFor(m, 1000));
  EXPECT_EQ(a.size(), 12100u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
  for (uint64_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(a.data()[i], 0);
  m.kvBytesPerContext = uint64_t(1) << 62;
  EXPECT_THROW(KvArena::bytesFor(m, 1 << 20), Error);
}

namespace {
struct Call {
  bool decode;
  int64_t pos, n, context, kvSize, wSize;
  std::vector<int32_t> ids;
};
std::vector<Call> gCalls;

template <bool Decode>
void fakeEntry(int32_t *, int32_t *ids, int64_t, int64_t n, int64_t, int64_t pos, uint8_t *,
               uint8_t *, int64_t, int64_t kvSize, int64_t, int64_t context, uint8_t *, uint8_t *,
               int64_t, int64_t wSize, int64_t, float *, float *logits, int64_t, int64_t rows,
               int64_t vocab, int64_t, int64_t) {
  gCalls.push_back({Decode, pos, n, context, kvSize, wSize, std::vector<int32_t>(ids, ids + n)});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < vocab; ++v)
      logits[r * vocab + v] = float(pos + r) * 100 + float(v);
}
} // namespace

TEST(RuntimeSession, ChunksPrefillAndTracksPositions) {
  TempDir d;
  std::string path = d.path + "/model";
  writeFile(path, buildFile("wts", ""));
  auto p = Payload::open(path); // chunk 4, vocab 10, kv 16 + 8/ctx
  gCalls.clear();
  Session s(*p, {&fakeEntry<false>, &fakeEntry<true>}, 20);
  EXPECT_EQ(s.arena().size(), 16u + 8u * 20u);
  std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0};
  std::vector<int64_t> rowStarts;
  const float *last = s.prefill(ids, [&](int64_t first, int64_t rows, const float *l) {
    rowStarts.push_back(first);
    EXPECT_EQ(l[0], float(first) * 100); // row `first` is at position `first`
    (void)rows;
  });
  EXPECT_EQ(last[0], 900.0f); // position 9
  EXPECT_EQ(rowStarts, (std::vector<int64_t>{0, 4, 8}));
  ASSERT_EQ(gCalls.size(), 3u);
  EXPECT_EQ(gCalls[0].pos, 0);
  EXPECT_EQ(gCalls[0].n, 4);
  EXPECT_EQ(gCalls[1].pos, 4);
  EXPECT_EQ(gCalls[1].ids, (std::vector<int32_t>{5, 6, 7, 8}));
  EXPECT_EQ(gCalls[2].pos, 8);
  EXPECT_EQ(gCalls[2].n, 2);
  for (auto &c : gCalls) {
    EXPECT_FALSE(c.decode);
    EXPECT_EQ(c.context, 20);
    EXPECT_EQ(c.kvSize, 176);
    EXPECT_EQ(c.wSize, 3);
  }
  const float *l = s.decode(7);
  EXPECT_EQ(l[3], 1003.0f);
  EXPECT_TRUE(gCalls.back().decode);
  EXPECT_EQ(gCalls.back().pos, 10);
  EXPECT_EQ(s.position(), 11);
  std::vector<int32_t> tooMany(10, 1);
  EXPECT_THROW(s.prefill(tooMany), Error);
}
