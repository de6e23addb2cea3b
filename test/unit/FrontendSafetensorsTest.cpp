//===- FrontendSafetensorsTest.cpp - safetensors reader/writer -------------===//
#include "gemma4c/Frontend/Checkpoint.h"
#include "gemma4c/Frontend/Safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace gemma4c;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("gemma4c-fe-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const InputError &e) {
    return e.what();
  }
  return "<no error>";
}

std::string parseError(const std::string &json, uint64_t dataSize = 64) {
  return errorOf([&] { SafetensorsFile::parseHeader(json, dataSize, "f.safetensors"); });
}
} // namespace

TEST(FrontendSafetensors, DTypes) {
  EXPECT_EQ(parseDType("BF16", "x"), DType::BF16);
  EXPECT_EQ(dtypeSize(DType::F64), 8);
  EXPECT_EQ(dtypeSize(DType::BOOL), 1);
  EXPECT_STREQ(dtypeName(DType::I16), "I16");
  EXPECT_NE(errorOf([] { parseDType("F8_E4M3", "f: tensor 'w'"); })
                .find("f: tensor 'w': unsupported dtype 'F8_E4M3'"),
            std::string::npos);
}

TEST(FrontendSafetensors, WriteReadRoundTrip) {
  TempDir d;
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> b = {0x3f80, 0x4000, 0x4040};
  std::vector<TensorToWrite> ts = {{"a", DType::F32, {2, 3}, a.data(), 24},
                                   {"b.bf16", DType::BF16, {3}, b.data(), 6},
                                   {"empty", DType::I64, {0, 4}, nullptr, 0}};
  std::string p = (d.path / "x.safetensors").string();
  writeSafetensors(p, ts);
  // Nothing but the file itself: the temporary was renamed.
  EXPECT_EQ(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()), 1);
  std::ifstream in(p, std::ios::binary);
  uint64_t hlen = 0;
  in.read(reinterpret_cast<char *>(&hlen), 8);
  EXPECT_EQ(hlen % 8, 0u); // data section 8-byte aligned

  auto f = SafetensorsFile::open(p);
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  for (const TensorView &t : f->tensors()) {
    EXPECT_EQ(t.file, p);
    if (t.name == "a") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
      EXPECT_EQ(t.numElements(), 6);
      EXPECT_EQ(std::memcmp(t.data, a.data(), 24), 0);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 4, 0u);
    } else if (t.name == "b.bf16") {
      EXPECT_EQ(t.dtype, DType::BF16);
      EXPECT_EQ(std::memcmp(t.data, b.data(), 6), 0);
    } else {
      EXPECT_EQ(t.name, "empty");
      EXPECT_EQ(t.nbytes, 0u);
    }
  }
}

TEST(FrontendSafetensors, WriterRejectsBadInput) {
  TempDir d;
  std::vector<float> a(4);
  std::string p = (d.path / "bad.safetensors").string();
  EXPECT_THROW(writeSafetensors(p, {{"a", DType::F32, {3}, a.data(), 16}}), InputError);
  EXPECT_THROW(writeSafetensors(p, {{"a", DType::F32, {1}, a.data(), 4},
                                    {"a", DType::F32, {1}, a.data(), 4}}),
               InputError);
  // A failing producer leaves nothing behind.
  EXPECT_THROW(writeSafetensorsStreaming(p, {{"a", DType::F32, {4}}},
                                         [](size_t, uint64_t, uint8_t *, uint64_t) {
                                           throw InputError("boom");
                                         }),
               InputError);
  EXPECT_TRUE(fs::is_empty(d.path));
}

TEST(FrontendSafetensors, HeaderValidation) {
  EXPECT_EQ(parseError("{}"), "<no error>");
  EXPECT_EQ(parseError(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}   )"),
            "<no error>");
  EXPECT_NE(parseError("{").find("f.safetensors: malformed JSON header"), std::string::npos);
  EXPECT_NE(parseError("[]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(parseError(R"({"a": 1})").find("tensor 'a': entry must be an object"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"dtype": "F32", "data_offsets": [0, 4]}})")
                .find("tensor 'a': missing 'shape'"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})")
                .find("negative"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}})")
                .find("[begin, end]"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})")
                .find("begin 8 > end 4"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [64, 68]}})")
                .find("out of range"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})")
                .find("holds 4 bytes but shape [2] of F32 needs 8"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4],
                             "data_offsets": [0, 4]}})")
                .find("too large"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                           "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})")
                .find("tensors 'a' and 'b' overlap"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                           "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})")
                .find("duplicate tensor name 'a'"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"__metadata__": {"k": 1}})").find("__metadata__ key 'k'"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}})")
                .find("nested too deeply"),
            std::string::npos);
  // Zero-sized tensors occupy no bytes and overlap nothing.
  EXPECT_EQ(parseError(R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]},
                           "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})"),
            "<no error>");
}

TEST(FrontendSafetensors, OpenRejectsBadFiles) {
  TempDir d;
  auto write = [&](const std::string &name, const std::string &bytes) {
    std::ofstream(d.path / name, std::ios::binary) << bytes;
    return (d.path / name).string();
  };
  std::string shortFile = write("short", "abc");
  EXPECT_NE(errorOf([&] { SafetensorsFile::open(shortFile); }).find("file is too short (3 bytes)"),
            std::string::npos);
  std::string past = write("past", std::string("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10));
  EXPECT_NE(errorOf([&] { SafetensorsFile::open(past); }).find("runs past the end"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { SafetensorsFile::open((d.path / "none").string()); })
                .find("cannot open: No such file or directory"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { SafetensorsFile::open(d.path.string()); }).find("not a regular file"),
            std::string::npos);
}

TEST(FrontendSafetensors, PresetCheckpointsOpen) {
  // Zero weights with every preset's shapes would be large; the tiny preset
  // in both wrappers round-trips through writeSafetensors + Checkpoint::open.
  for (bool conditional : {true, false}) {
    TempDir d;
    std::string cfg = presetConfig("tiny", conditional);
    std::ofstream(d.path / "config.json") << cfg;
    TextConfig c = parseConfig(cfg, "tiny");
    std::vector<std::vector<uint8_t>> bufs;
    std::vector<TensorToWrite> ts;
    for (auto &[name, shape] : expectedTensors(c)) {
      uint64_t n = 2;
      for (int64_t s : shape)
        n *= static_cast<uint64_t>(s);
      bufs.emplace_back(n);
      ts.push_back({name == "lm_head.weight" ? name : c.tensorPrefix + name, DType::BF16, shape,
                    bufs.back().data(), n});
    }
    writeSafetensors((d.path / "model.safetensors").string(), ts);
    std::unique_ptr<Checkpoint> ck;
    ASSERT_NO_THROW(ck = Checkpoint::open(d.path.string()));
    EXPECT_EQ(ck->config().architecture,
              conditional ? "Gemma4ForConditionalGeneration" : "Gemma4ForCausalLM");
    EXPECT_EQ(ck->tensors().size(), ts.size());
  }
}
