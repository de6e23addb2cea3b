//===- RuntimeAudioTest.cpp - WAV reading, resampling, Gemma 4 log-mel ----===//
//
// Synthetic inputs; RuntimeMultimodalGoldensTest checks the same functions
// against transformers' feature extractor on the fixtures' WAV files.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/audio.h"
#include "gemma4rt/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace gemma4rt;

namespace {

void put16(std::vector<uint8_t> &b, uint16_t v) {
  b.push_back(uint8_t(v));
  b.push_back(uint8_t(v >> 8));
}
void put32(std::vector<uint8_t> &b, uint32_t v) {
  put16(b, uint16_t(v));
  put16(b, uint16_t(v >> 16));
}
void tag(std::vector<uint8_t> &b, const char *t) { b.insert(b.end(), t, t + 4); }

/// A WAV file: fmt (tag, channels, rate, bits) and the raw sample bytes.
std::vector<uint8_t> wav(uint16_t fmtTag, uint16_t channels, uint32_t rate, uint16_t bits,
                         const std::vector<uint8_t> &data, bool extensible = false) {
  std::vector<uint8_t> fmt;
  put16(fmt, extensible ? 0xFFFE : fmtTag);
  put16(fmt, channels);
  put32(fmt, rate);
  put32(fmt, rate * channels * bits / 8);
  put16(fmt, uint16_t(channels * bits / 8));
  put16(fmt, bits);
  if (extensible) {
    put16(fmt, 22);
    put16(fmt, bits);
    put32(fmt, 0);
    put16(fmt, fmtTag); // the sub-format GUID starts with the plain tag
    const uint8_t rest[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
                              0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    fmt.insert(fmt.end(), rest, rest + 14);
  }
  std::vector<uint8_t> body;
  tag(body, "WAVE");
  tag(body, "fmt ");
  put32(body, uint32_t(fmt.size()));
  body.insert(body.end(), fmt.begin(), fmt.end());
  tag(body, "LIST"); // an unrelated chunk before data, as many writers add
  put32(body, 3);
  body.insert(body.end(), {'a', 'b', 'c', 0});
  tag(body, "data");
  put32(body, uint32_t(data.size()));
  body.insert(body.end(), data.begin(), data.end());
  std::vector<uint8_t> out;
  tag(out, "RIFF");
  put32(out, uint32_t(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<uint8_t> pcm16(const std::vector<int16_t> &s) {
  std::vector<uint8_t> b;
  for (int16_t v : s)
    put16(b, uint16_t(v));
  return b;
}

std::string errorOf(const std::vector<uint8_t> &b, const std::string &name) {
  try {
    decodeWav(b.data(), b.size(), name);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(RuntimeAudio, ReadsPcmAndFloatEncodings) {
  auto b16 = wav(1, 1, 16000, 16, pcm16({0, 16384, -32768, 32767}));
  Wave a = decodeWav(b16.data(), b16.size(), "a.wav");
  EXPECT_EQ(a.sampleRate, 16000);
  EXPECT_EQ(a.channels, 1);
  EXPECT_EQ(a.samples, (std::vector<float>{0.0f, 0.5f, -1.0f, 32767.0f / 32768.0f}));

  std::vector<uint8_t> f32;
  for (float v : {0.25f, -0.75f, 1.5f, 0.0f}) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    put32(f32, u);
  }
  auto bf = wav(3, 2, 44100, 32, f32);
  Wave b = decodeWav(bf.data(), bf.size(), "b.wav");
  EXPECT_EQ(b.channels, 2);
  EXPECT_EQ(b.frames(), 2u);
  EXPECT_EQ(b.samples, (std::vector<float>{0.25f, -0.75f, 1.5f, 0.0f}));
  EXPECT_EQ(mixToMono(b), (std::vector<double>{-0.25, 0.75}));

  auto b8 = wav(1, 1, 8000, 8, {128, 255, 0});
  EXPECT_EQ(decodeWav(b8.data(), b8.size(), "c").samples,
            (std::vector<float>{0.0f, 127.0f / 128.0f, -1.0f}));
  auto b24 = wav(1, 1, 48000, 24, {0x00, 0x00, 0x40, 0xff, 0xff, 0xff});
  EXPECT_EQ(decodeWav(b24.data(), b24.size(), "d").samples,
            (std::vector<float>{0.5f, float(-1.0 / 8388608.0)}));
  auto bx = wav(1, 1, 22050, 16, pcm16({-16384}), /*extensible=*/true);
  EXPECT_EQ(decodeWav(bx.data(), bx.size(), "e").samples, (std::vector<float>{-0.5f}));
}

TEST(RuntimeAudio, BadWavIsOneLineNamingTheFile) {
  auto good = wav(1, 1, 16000, 16, pcm16({1, 2, 3, 4}));
  EXPECT_EQ(errorOf({'R', 'I', 'F', 'F'}, "x.wav"),
            "x.wav: not a WAV file (no RIFF/WAVE header; WAV is the audio format read)");
  const std::string mp3 = "ID3\x03\x00\x00\x00\x00\x00\x00 and more";
  EXPECT_EQ(errorOf(std::vector<uint8_t>(mp3.begin(), mp3.end()), "song.mp3"),
            "song.mp3: not a WAV file (no RIFF/WAVE header; WAV is the audio format read)");
  auto cut = good;
  cut.resize(cut.size() - 3);
  EXPECT_EQ(errorOf(cut, "cut.wav"), "cut.wav: truncated data chunk (header says 8 bytes, 5 present)");
  auto mpeg = wav(0x55, 1, 16000, 16, pcm16({1, 2}));
  EXPECT_EQ(errorOf(mpeg, "m.wav"),
            "m.wav: unsupported WAV encoding (format tag 85, 16 bits; 8/16/24/32-bit PCM and 32/64-bit "
            "float are read)");
  auto rate0 = wav(1, 1, 0, 16, pcm16({1}));
  EXPECT_EQ(errorOf(rate0, "r.wav"), "r.wav: sample rate 0 Hz is not supported (1 kHz to 768 kHz)");
  auto odd = wav(1, 2, 16000, 16, pcm16({1, 2, 3}));
  EXPECT_EQ(errorOf(odd, "o.wav"),
            "o.wav: data chunk of 6 bytes is not a whole number of 4-byte frames");
  auto empty = wav(1, 1, 16000, 16, {});
  EXPECT_EQ(errorOf(empty, "e.wav"), "e.wav: no samples");
  std::vector<uint8_t> nan;
  put32(nan, 0x7fc00000u);
  auto bn = wav(3, 1, 16000, 32, nan);
  EXPECT_EQ(errorOf(bn, "n.wav"), "n.wav: sample 0 is not a finite number");
  std::vector<uint8_t> nodata(good.begin(), good.begin() + 12 + 8 + 16);
  EXPECT_EQ(errorOf(nodata, "h.wav"), "h.wav: no data chunk");
  try {
    readWavFile("/nonexistent/clip.wav");
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()).rfind("/nonexistent/clip.wav: cannot open: ", 0), 0u);
  }
}

TEST(RuntimeAudio, ResamplesBandLimited) {
  std::vector<double> x(44100);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = std::sin(2 * M_PI * 440.0 * double(i) / 44100.0);
  std::vector<double> y = resample(x, 44100, 16000);
  ASSERT_EQ(y.size(), 16000u);
  double worst = 0;
  for (size_t i = 200; i + 200 < y.size(); ++i)
    worst = std::max(worst, std::fabs(y[i] - std::sin(2 * M_PI * 440.0 * double(i) / 16000.0)));
  EXPECT_LT(worst, 1e-3); // roll-off 0.99 passes 440 Hz almost untouched
  // A tone above the new Nyquist frequency is removed.
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = std::sin(2 * M_PI * 12000.0 * double(i) / 44100.0);
  y = resample(x, 44100, 16000);
  double peak = 0;
  for (size_t i = 200; i + 200 < y.size(); ++i)
    peak = std::max(peak, std::fabs(y[i]));
  EXPECT_LT(peak, 0.01);
  EXPECT_EQ(resample({1, 2, 3}, 16000, 16000), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(resample(std::vector<double>(33075), 44100, 16000).size(), 12000u);
}

TEST(RuntimeAudio, MelFilterBankShape) {
  AudioParams p;
  std::vector<double> bank = melFilterBank(p);
  ASSERT_EQ(bank.size(), size_t(257 * 128));
  // Triangles peak at 1; the lowest filter falls between the first FFT bins.
  for (int m = 1; m < 128; ++m) {
    double peak = 0;
    for (int f = 0; f < 257; ++f)
      peak = std::max(peak, bank[size_t(f) * 128 + m]);
    EXPECT_GT(peak, 0.1) << m; // narrow low filters miss the bins' centres
    EXPECT_LE(peak, 1.0) << m;
  }
}

TEST(RuntimeAudio, FramesMaskAndSoftTokens) {
  AudioParams p;
  // 1 s at 16 kHz: 99 frames, all real audio; 25 soft tokens (the fixture's audio_a).
  std::vector<double> s(16000);
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = 0.3 * std::sin(2 * M_PI * 1000.0 * double(i) / 16000.0);
  AudioFeatures f = logMelFeatures(s, p, "a.wav");
  EXPECT_EQ(f.frames, 99);
  EXPECT_EQ(f.featureSize, 128);
  EXPECT_EQ(std::count(f.mask.begin(), f.mask.end(), 1), 99);
  EXPECT_EQ(f.numSoftTokens, 25);
  // The 1 kHz tone lands in the mel bins around 1 kHz, far above silence.
  float best = -100;
  int bestBin = -1;
  for (int m = 0; m < 128; ++m)
    if (f.values[size_t(50) * 128 + m] > best) {
      best = f.values[size_t(50) * 128 + m];
      bestBin = m;
    }
  EXPECT_GT(best, 2.0f);
  EXPECT_GT(bestBin, 38); // 1000 mel of 2840 (8 kHz) over 129 intervals: bin ~44
  EXPECT_LT(bestBin, 50);
  // 0.75 s resampled from 44.1 kHz: 12000 samples -> padded to 12032: 75
  // frames, the last one partly padding (masked, zero); 19 soft tokens.
  AudioFeatures g = logMelFeatures(std::vector<double>(12000, 0.01), p, "b.wav");
  EXPECT_EQ(g.frames, 75);
  EXPECT_EQ(std::count(g.mask.begin(), g.mask.end(), 1), 74);
  EXPECT_EQ(g.mask.back(), 0);
  for (int m = 0; m < 128; ++m)
    EXPECT_EQ(g.values[size_t(74) * 128 + m], 0.0f);
  EXPECT_EQ(g.numSoftTokens, 19);
  // Silence: log(mel_floor).
  AudioFeatures z = logMelFeatures(std::vector<double>(1600, 0.0), p, "z.wav");
  EXPECT_NEAR(z.values[3 * 128 + 10], std::log(1e-3), 1e-6);
  EXPECT_EQ(audioSoftTokens({1, 1, 1, 1, 1, 0, 0}), 2);
}

TEST(RuntimeAudio, TooLongOrTooShortIsAnError) {
  AudioParams p;
  try {
    logMelFeatures(std::vector<double>(480001), p, "long.wav");
    FAIL();
  } catch (const Error &e) {
    EXPECT_STREQ(e.what(), "long.wav: 30.000 s of audio; the audio encoder takes at most 30 s");
  }
  try {
    logMelFeatures(std::vector<double>(0), p, "short.wav");
    FAIL();
  } catch (const Error &e) {
    EXPECT_STREQ(e.what(), "short.wav: 0 samples are too short for one 320-sample frame");
  }
}
