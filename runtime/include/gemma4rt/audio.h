//===- audio.h - audio input: WAV reading, resampling, Gemma 4 log-mel --*- C++ -*-===//
//
// What transformers' Gemma 4 audio feature extractor does to a clip before
// the audio tower sees it (docs/multimodal.md): mono 16 kHz samples (a WAV
// file's channels averaged, other rates resampled with a Hann-windowed sinc),
// padded to a multiple of 128 samples, framed every 10 ms with 20 ms windows
// after 10 ms of leading zeros, |FFT| through 128 HTK mel filters, log(x +
// 0.001), and a mask of the frames that hold only real audio.
// Bad input is an Error whose one-line message starts with the file name.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_AUDIO_H
#define GEMMA4RT_AUDIO_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gemma4rt {

/// A WAV file's samples as floats in [-1, 1): 8-bit unsigned, 16/24/32-bit
/// signed PCM (divided by 2^(bits-1)), 32/64-bit IEEE float, plain or
/// WAVE_FORMAT_EXTENSIBLE. `channels` interleaved.
struct Wave {
  int sampleRate = 0;
  int channels = 0;
  std::vector<float> samples; ///< [frames, channels]
  size_t frames() const { return channels ? samples.size() / size_t(channels) : 0; }
};

Wave decodeWav(const uint8_t *data, size_t size, const std::string &name);
Wave readWavFile(const std::string &path);

/// The channels' mean (librosa's and transformers' mono mix), in double.
std::vector<double> mixToMono(const Wave &wave);

/// Band-limited resampling with a Hann-windowed sinc (6 zero crossings,
/// roll-off 0.99: torchaudio.functional.resample's defaults). Output length
/// ceil(n * to / from).
std::vector<double> resample(const std::vector<double> &x, int from, int to);

struct AudioParams {
  int sampleRate = 16000;
  int featureSize = 128;      ///< mel bins
  int frameLength = 320;      ///< samples per window (20 ms)
  int hopLength = 160;        ///< samples between windows (10 ms)
  int fftLength = 512;        ///< 2^ceil(log2(frameLength)) (x2 with fft_overdrive)
  double minFrequency = 0.0;
  double maxFrequency = 8000.0;
  double melFloor = 1e-3;
  double preemphasis = 0.0;
  bool preemphasisHtkFlavor = true;
  double inputScaleFactor = 1.0;
  std::vector<double> perBinMean, perBinStddev; ///< empty: none
  int padToMultipleOf = 128;
  int64_t maxSamples = 480000; ///< 30 s; transformers truncates, we refuse
};

/// The HTK mel filter bank, [fftLength / 2 + 1, featureSize], row-major.
std::vector<double> melFilterBank(const AudioParams &p);

struct AudioFeatures {
  int64_t frames = 0;
  int featureSize = 0;
  std::vector<float> values; ///< [frames, featureSize]; masked frames are 0
  std::vector<uint8_t> mask; ///< [frames]: 1 = the frame's window is all real audio
  int64_t numSoftTokens = 0; ///< the processor's placeholder count
};

/// Features of 16 kHz mono samples. Throws Error naming `name` when the
/// clip is longer than p.maxSamples or too short for one frame.
AudioFeatures logMelFeatures(const std::vector<double> &samples, const AudioParams &p,
                             const std::string &name);

/// WAV file -> mono -> p.sampleRate -> features.
AudioFeatures preprocessAudioFile(const std::string &path, const AudioParams &p);

/// The processor's soft-token count for a frame mask: the mask through two
/// stride-2 convolutions (kernel 3, padding 1), valid entries counted.
int64_t audioSoftTokens(const std::vector<uint8_t> &mask);

} // namespace gemma4rt

#endif
