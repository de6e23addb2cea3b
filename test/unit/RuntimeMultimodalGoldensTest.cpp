//===- RuntimeMultimodalGoldensTest.cpp - image/audio preprocessing vs transformers -===//
//
// test/fixtures/mm-mini (scripts/make-multimodal-fixtures.py, run with
// transformers): the runtime's decoding and preprocessing of the fixture's
// own PNG/JPEG/WAV files must reproduce the processor's pixel values,
// positions, log-mel features and masks within 1e-4, and its soft-token
// counts exactly.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/audio.h"
#include "gemma4rt/error.h"
#include "gemma4rt/image.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

using namespace gemma4rt;

namespace {

const std::string kDir = std::string(GEMMA4C_TEST_DIR) + "/fixtures/mm-mini";

struct Tensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  template <typename T> std::vector<T> as() const {
    std::vector<T> v(bytes.size() / sizeof(T));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
    return v;
  }
};

std::map<std::string, Tensor> readSafetensors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, Tensor> out;
  if (b.size() < 8)
    return out;
  uint64_t n = 0;
  std::memcpy(&n, b.data(), 8);
  auto h = nlohmann::json::parse(std::string(b.begin() + 8, b.begin() + 8 + long(n)));
  for (auto &[name, v] : h.items()) {
    if (name == "__metadata__")
      continue;
    Tensor t;
    t.dtype = v["dtype"];
    t.shape = v["shape"].get<std::vector<int64_t>>();
    size_t lo = v["data_offsets"][0], hi = v["data_offsets"][1];
    t.bytes.assign(b.begin() + 8 + long(n) + long(lo), b.begin() + 8 + long(n) + long(hi));
    out[name] = std::move(t);
  }
  return out;
}

class MultimodalGoldens : public ::testing::Test {
protected:
  void SetUp() override {
    if (!std::ifstream(kDir + "/golden.safetensors"))
      GTEST_SKIP() << "no " << kDir << " (scripts/make-multimodal-fixtures.py makes it)";
    g = readSafetensors(kDir + "/golden.safetensors");
    std::ifstream pc(kDir + "/processor_config.json");
    if (pc) {
      auto j = nlohmann::json::parse(pc);
      auto &ip = j["image_processor"];
      params.patchSize = ip.value("patch_size", 16);
      params.maxSoftTokens = ip.value("max_soft_tokens", 280);
      params.poolingKernel = ip.value("pooling_kernel_size", 3);
    } else {
      params.patchSize = 8;
      params.maxSoftTokens = 70;
    }
  }
  std::map<std::string, Tensor> g;
  ImageParams params;
};

double maxDiff(const std::vector<float> &a, const std::vector<float> &b) {
  double d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    d = std::max(d, double(std::fabs(a[i] - b[i])));
  return d;
}

const char *const kImages[][2] = {
    {"img_a", "img_a.png"}, {"img_b", "img_b.jpg"}, {"img_c", "img_c.png"}, {"img_d", "img_d.png"}};

} // namespace

TEST_F(MultimodalGoldens, DecodesAsPillow) {
  if (!imageCodecsAvailable())
    GTEST_SKIP();
  for (auto &[key, file] : kImages) {
    SCOPED_TRACE(file);
    Image im = readImageFile(kDir + "/inputs/" + file);
    const Tensor &dec = g.at(std::string("decoded_") + key);
    ASSERT_EQ(dec.shape, (std::vector<int64_t>{im.height, im.width, im.channels}));
    size_t differ = 0;
    for (size_t i = 0; i < im.pixels.size(); ++i)
      differ += im.pixels[i] != dec.bytes[i];
    EXPECT_EQ(differ, 0u);
    const Tensor &rgb = g.at(std::string("rgb_") + key);
    Image r = toRGB(im);
    differ = 0;
    for (size_t i = 0; i < r.pixels.size(); ++i)
      differ += r.pixels[i] != rgb.bytes[i];
    EXPECT_EQ(differ, 0u);
  }
}

TEST_F(MultimodalGoldens, LoadsFilesAsLoadImage) {
  // transformers.image_utils.load_image(path): what --image FILE reproduces.
  if (!imageCodecsAvailable())
    GTEST_SKIP();
  for (auto &[key, file] : kImages) {
    SCOPED_TRACE(file);
    auto it = g.find(std::string("load_image_") + key);
    if (it == g.end())
      continue; // an older fixture without it
    Image im = loadImageFile(kDir + "/inputs/" + file);
    ASSERT_EQ(it->second.shape, (std::vector<int64_t>{im.height, im.width, 3}));
    EXPECT_EQ(im.pixels, it->second.bytes);
  }
}

TEST_F(MultimodalGoldens, PixelValuesAsTheProcessor) {
  if (!imageCodecsAvailable())
    GTEST_SKIP();
  for (auto &[key, file] : kImages) {
    SCOPED_TRACE(file);
    const Tensor &pv = g.at(std::string("pixel_values_") + key);
    const Tensor &pos = g.at(std::string("image_position_ids_") + key);
    ImagePatches p = preprocessImage(readImageFile(kDir + "/inputs/" + file), params, file);
    ASSERT_EQ(pv.shape, (std::vector<int64_t>{p.numPatches, p.patchDim}));
    std::vector<float> want = pv.as<float>();
    double d = maxDiff(p.values, want);
    size_t over = 0;
    for (size_t i = 0; i < want.size(); ++i)
      over += std::fabs(p.values[i] - want[i]) > 1e-4f;
    EXPECT_LE(d, 1e-4) << over << " of " << want.size() << " values differ";
    EXPECT_EQ(p.positions, pos.as<int32_t>());
  }
}

TEST_F(MultimodalGoldens, FeaturesAsTheExtractor) {
  for (const char *key : {"audio_a", "audio_b"}) {
    SCOPED_TRACE(key);
    AudioParams ap;
    AudioFeatures f = preprocessAudioFile(kDir + "/inputs/" + key + ".wav", ap);
    const Tensor &feat = g.at(std::string("input_features_") + key);
    const Tensor &mask = g.at(std::string("input_features_mask_") + key);
    ASSERT_EQ(feat.shape, (std::vector<int64_t>{f.frames, f.featureSize}));
    EXPECT_LE(maxDiff(f.values, feat.as<float>()), 1e-4);
    std::vector<int32_t> m = mask.as<int32_t>();
    ASSERT_EQ(m.size(), f.mask.size());
    for (size_t i = 0; i < m.size(); ++i)
      EXPECT_EQ(int(f.mask[i]), m[i]) << i;
    // The soft tokens the tower gives for it (when the fixture has them).
    if (auto it = g.find(std::string("audio_soft_") + key); it != g.end())
      EXPECT_EQ(f.numSoftTokens, it->second.shape[0]);
  }
}

TEST_F(MultimodalGoldens, MelFilterBankAsTheExtractor) {
  AudioParams ap;
  std::vector<double> bank = melFilterBank(ap);
  const Tensor &want = g.at("mel_filters");
  ASSERT_EQ(want.shape, (std::vector<int64_t>{257, 128}));
  std::vector<float> w = want.as<float>();
  double d = 0;
  for (size_t i = 0; i < w.size(); ++i)
    d = std::max(d, std::fabs(bank[i] - double(w[i])));
  EXPECT_LE(d, 1e-6);
}

TEST_F(MultimodalGoldens, PlaceholderCountsMatchThePrompt) {
  // Prompt 1 holds img_a, img_b and audio_a; each soft-token count the
  // runtime computes must equal the placeholders the processor wrote.
  std::vector<int32_t> ids = g.at("input_ids").as<int32_t>();
  std::ifstream cfg(kDir + "/config.json");
  auto c = nlohmann::json::parse(cfg);
  int imageId = c["image_token_id"], audioId = c["audio_token_id"];
  int64_t nImage = std::count(ids.begin(), ids.end(), imageId);
  int64_t nAudio = std::count(ids.begin(), ids.end(), audioId);
  int64_t want = 0;
  for (const char *key : {"img_a", "img_b"})
    want += g.at(std::string("pixel_values_") + key).shape[0] /
            (int64_t(params.poolingKernel) * params.poolingKernel);
  EXPECT_EQ(nImage, want);
  AudioFeatures f = preprocessAudioFile(kDir + "/inputs/audio_a.wav", AudioParams{});
  EXPECT_EQ(nAudio, f.numSoftTokens);
}
