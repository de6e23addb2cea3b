//===- Audio.cpp - WAV reading, resampling and Gemma 4 log-mel features ---===//
//
// See audio.h and docs/multimodal.md. Everything is computed in double; the
// processor works in float32/float64 numpy, so features agree to ~1e-5.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/audio.h"
#include "gemma4rt/error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <complex>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numeric>

namespace gemma4rt {

namespace {

uint16_t le16(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t *p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

constexpr double kPi = 3.14159265358979323846;

/// In-place iterative radix-2 FFT (n a power of two).
void fft(std::vector<std::complex<double>> &a) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j)
      std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2.0 * kPi / double(len);
    for (size_t i = 0; i < n; i += len)
      for (size_t k = 0; k < len / 2; ++k) {
        std::complex<double> w(std::cos(ang * double(k)), std::sin(ang * double(k)));
        std::complex<double> u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
      }
  }
}

} // namespace

Wave decodeWav(const uint8_t *data, size_t size, const std::string &name) {
  auto bad = [&](const std::string &why) { return Error(name + ": " + why); };
  if (size < 12 || std::memcmp(data, "RIFF", 4) != 0 || std::memcmp(data + 8, "WAVE", 4) != 0) {
    if (size >= 4 && std::memcmp(data, "RIFX", 4) == 0)
      throw bad("big-endian WAV (RIFX) is not supported");
    throw bad("not a WAV file (no RIFF/WAVE header; WAV is the audio format read)");
  }
  const uint8_t *fmt = nullptr, *pcm = nullptr;
  size_t fmtSize = 0, pcmSize = 0;
  for (size_t pos = 12; pos + 8 <= size;) {
    uint32_t chunk = le32(data + pos + 4);
    const uint8_t *body = data + pos + 8;
    size_t avail = size - pos - 8;
    if (std::memcmp(data + pos, "fmt ", 4) == 0) {
      if (chunk > avail)
        throw bad("truncated fmt chunk");
      fmt = body;
      fmtSize = chunk;
    } else if (std::memcmp(data + pos, "data", 4) == 0) {
      if (chunk > avail)
        throw bad("truncated data chunk (header says " + std::to_string(chunk) + " bytes, " +
                  std::to_string(avail) + " present)");
      pcm = body;
      pcmSize = chunk;
      break;
    }
    if (chunk > avail)
      break; // a damaged trailing chunk before data: reported below
    pos += 8 + size_t(chunk) + (chunk & 1);
  }
  if (!fmt)
    throw bad("no fmt chunk");
  if (fmtSize < 16)
    throw bad("fmt chunk of " + std::to_string(fmtSize) + " bytes (16 expected)");
  if (!pcm)
    throw bad("no data chunk");
  uint16_t tag = le16(fmt), channels = le16(fmt + 2), bits = le16(fmt + 14),
           blockAlign = le16(fmt + 12);
  uint32_t rate = le32(fmt + 4);
  if (tag == 0xFFFE) { // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID's first two bytes
    if (fmtSize < 40)
      throw bad("WAVE_FORMAT_EXTENSIBLE fmt chunk too short");
    tag = le16(fmt + 24);
  }
  if (channels == 0)
    throw bad("0 channels");
  if (rate < 1000 || rate > 768000)
    throw bad("sample rate " + std::to_string(rate) + " Hz is not supported (1 kHz to 768 kHz)");
  bool isFloat = tag == 3, isPcm = tag == 1;
  if (!(isPcm && (bits == 8 || bits == 16 || bits == 24 || bits == 32)) &&
      !(isFloat && (bits == 32 || bits == 64)))
    throw bad("unsupported WAV encoding (format tag " + std::to_string(tag) + ", " +
              std::to_string(bits) +
              " bits; 8/16/24/32-bit PCM and 32/64-bit float are read)");
  const size_t bytes = bits / 8, frameBytes = bytes * channels;
  if (blockAlign != frameBytes)
    throw bad("block align " + std::to_string(blockAlign) + " does not match " +
              std::to_string(channels) + " channels of " + std::to_string(bits) + " bits");
  if (pcmSize % frameBytes != 0)
    throw bad("data chunk of " + std::to_string(pcmSize) + " bytes is not a whole number of " +
              std::to_string(frameBytes) + "-byte frames");
  Wave w;
  w.sampleRate = int(rate);
  w.channels = channels;
  const size_t n = pcmSize / bytes;
  w.samples.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *p = pcm + i * bytes;
    float v = 0;
    if (isFloat && bits == 32) {
      uint32_t u = le32(p);
      std::memcpy(&v, &u, 4);
    } else if (isFloat) {
      uint64_t u = uint64_t(le32(p)) | (uint64_t(le32(p + 4)) << 32);
      double d;
      std::memcpy(&d, &u, 8);
      v = float(d);
    } else if (bits == 8) {
      v = float((int(p[0]) - 128) / 128.0);
    } else if (bits == 16) {
      v = float(int16_t(le16(p)) / 32768.0);
    } else if (bits == 24) {
      int32_t s = int32_t(uint32_t(p[0]) << 8 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 24) >> 8;
      v = float(s / 8388608.0);
    } else {
      v = float(int32_t(le32(p)) / 2147483648.0);
    }
    if (!std::isfinite(v))
      throw bad("sample " + std::to_string(i / channels) + " is not a finite number");
    w.samples[i] = v;
  }
  if (w.frames() == 0)
    throw bad("no samples");
  return w;
}

Wave readWavFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    throw Error(path + ": read failed");
  return decodeWav(bytes.data(), bytes.size(), path);
}

std::vector<double> mixToMono(const Wave &wave) {
  const size_t n = wave.frames();
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    double s = 0;
    for (int c = 0; c < wave.channels; ++c)
      s += wave.samples[i * wave.channels + c];
    out[i] = s / wave.channels;
  }
  return out;
}

std::vector<double> resample(const std::vector<double> &x, int from, int to) {
  if (from == to)
    return x;
  const int g = std::gcd(from, to);
  const int64_t o = from / g, n = to / g;
  const double zeroCrossings = 6.0, rolloff = 0.99;
  const double base = double(std::min(o, n)) * rolloff;
  const int64_t width = int64_t(std::ceil(zeroCrossings * double(o) / base));
  const int64_t K = 2 * width + o;
  // kernel[phase][k]: output phase p (of n) reads input taps k relative to
  // the frame start, as torchaudio's sinc_interp_hann kernel.
  std::vector<double> kernel(static_cast<size_t>(n * K));
  for (int64_t p = 0; p < n; ++p)
    for (int64_t k = 0; k < K; ++k) {
      double t = (-double(p) / double(n) + double(k - width) / double(o)) * base;
      t = std::clamp(t, -zeroCrossings, zeroCrossings);
      double window = std::cos(t * kPi / zeroCrossings / 2.0);
      window *= window;
      t *= kPi;
      double s = t == 0.0 ? 1.0 : std::sin(t) / t;
      kernel[size_t(p * K + k)] = s * window * (base / double(o));
    }
  const int64_t L = int64_t(x.size());
  const int64_t outLen = int64_t(std::ceil(double(n) * double(L) / double(o)));
  std::vector<double> y(static_cast<size_t>(outLen));
  for (int64_t i = 0; i < outLen; ++i) {
    const int64_t frame = i / n, p = i % n;
    const int64_t start = frame * o - width; // in x's coordinates
    double acc = 0.0;
    for (int64_t k = 0; k < K; ++k) {
      int64_t j = start + k;
      if (j >= 0 && j < L)
        acc += x[size_t(j)] * kernel[size_t(p * K + k)];
    }
    y[size_t(i)] = acc;
  }
  return y;
}

std::vector<double> melFilterBank(const AudioParams &p) {
  const int nFreq = p.fftLength / 2 + 1, nMel = p.featureSize;
  auto hz2mel = [](double f) { return 2595.0 * std::log10(1.0 + f / 700.0); };
  auto mel2hz = [](double m) { return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0); };
  std::vector<double> edges(static_cast<size_t>(nMel) + 2);
  const double lo = hz2mel(p.minFrequency), hi = hz2mel(p.maxFrequency);
  for (int i = 0; i < nMel + 2; ++i)
    edges[size_t(i)] = mel2hz(lo + (hi - lo) * double(i) / double(nMel + 1));
  std::vector<double> bank(static_cast<size_t>(nFreq) * nMel);
  for (int f = 0; f < nFreq; ++f) {
    const double hz = double(p.sampleRate / 2) * double(f) / double(nFreq - 1);
    for (int m = 0; m < nMel; ++m) {
      double down = (hz - edges[size_t(m)]) / (edges[size_t(m) + 1] - edges[size_t(m)]);
      double up = (edges[size_t(m) + 2] - hz) / (edges[size_t(m) + 2] - edges[size_t(m) + 1]);
      bank[size_t(f) * nMel + m] = std::max(0.0, std::min(down, up));
    }
  }
  return bank;
}

int64_t audioSoftTokens(const std::vector<uint8_t> &mask) {
  std::vector<uint8_t> m = mask;
  for (int pass = 0; pass < 2; ++pass) {
    const size_t tOut = (m.size() + 2 - 3) / 2 + 1;
    std::vector<uint8_t> next;
    for (size_t i = 0; i < m.size() && next.size() < tOut; i += 2)
      next.push_back(m[i]);
    m = std::move(next);
  }
  return int64_t(std::count(m.begin(), m.end(), uint8_t(1)));
}

AudioFeatures logMelFeatures(const std::vector<double> &samples, const AudioParams &p,
                             const std::string &name) {
  if (int64_t(samples.size()) > p.maxSamples)
    throw Error(name + ": " + std::to_string(double(samples.size()) / p.sampleRate).substr(0, 6) +
                " s of audio; the audio encoder takes at most " +
                std::to_string(p.maxSamples / p.sampleRate) + " s");
  const int64_t L = int64_t(samples.size());
  const int64_t mult = std::max(1, p.padToMultipleOf);
  const int64_t Lp = (L + mult - 1) / mult * mult;
  const int64_t left = p.frameLength / 2, unfold = p.frameLength + 1;
  const int64_t total = left + Lp;
  const int64_t frames = total >= unfold ? (total - unfold) / p.hopLength + 1 : 0;
  if (frames <= 0)
    throw Error(name + ": " + std::to_string(L) + " samples are too short for one " +
                std::to_string(p.frameLength) + "-sample frame");
  // The extractor's window is float32; its values, not the formula, matter.
  std::vector<double> window(static_cast<size_t>(p.frameLength));
  for (int i = 0; i < p.frameLength; ++i)
    window[size_t(i)] =
        double(float(0.5 - 0.5 * std::cos(2.0 * kPi * double(i) / double(p.frameLength))));
  const std::vector<double> bank = melFilterBank(p);
  const int nFreq = p.fftLength / 2 + 1, nMel = p.featureSize;
  auto sample = [&](int64_t padded) -> double { // index into [left zeros | samples | pad zeros]
    int64_t i = padded - left;
    return i >= 0 && i < L ? samples[size_t(i)] * p.inputScaleFactor : 0.0;
  };
  AudioFeatures out;
  out.frames = frames;
  out.featureSize = nMel;
  out.values.assign(size_t(frames) * nMel, 0.0f);
  out.mask.assign(size_t(frames), 0);
  std::vector<std::complex<double>> buf(static_cast<size_t>(p.fftLength));
  std::vector<double> frame(static_cast<size_t>(p.frameLength)), mag(static_cast<size_t>(nFreq));
  for (int64_t f = 0; f < frames; ++f) {
    const int64_t s0 = f * p.hopLength;
    // Valid when the window's last sample (of frameLength + 1) is real audio.
    const int64_t last = s0 + unfold - 1 - left;
    out.mask[size_t(f)] = last >= 0 && last < L;
    if (p.preemphasis > 0.0) {
      if (p.preemphasisHtkFlavor) {
        frame[0] = sample(s0) * (1.0 - p.preemphasis);
        for (int i = 1; i < p.frameLength; ++i)
          frame[size_t(i)] = sample(s0 + i) - p.preemphasis * sample(s0 + i - 1);
      } else {
        for (int i = 0; i < p.frameLength; ++i)
          frame[size_t(i)] = sample(s0 + i + 1) - p.preemphasis * sample(s0 + i);
      }
    } else {
      for (int i = 0; i < p.frameLength; ++i)
        frame[size_t(i)] = sample(s0 + i);
    }
    std::fill(buf.begin(), buf.end(), std::complex<double>(0.0, 0.0));
    for (int i = 0; i < p.frameLength && i < p.fftLength; ++i)
      buf[size_t(i)] = frame[size_t(i)] * window[size_t(i)];
    fft(buf);
    for (int k = 0; k < nFreq; ++k)
      mag[size_t(k)] = std::abs(buf[size_t(k)]);
    if (!out.mask[size_t(f)])
      continue; // the extractor zeroes masked frames
    for (int m = 0; m < nMel; ++m) {
      double acc = 0.0;
      for (int k = 0; k < nFreq; ++k)
        acc += mag[size_t(k)] * bank[size_t(k) * nMel + m];
      double v = std::log(acc + p.melFloor);
      if (!p.perBinMean.empty())
        v -= p.perBinMean[size_t(m)];
      if (!p.perBinStddev.empty())
        v /= p.perBinStddev[size_t(m)];
      out.values[size_t(f) * nMel + m] = float(v);
    }
  }
  out.numSoftTokens = audioSoftTokens(out.mask);
  return out;
}

AudioFeatures preprocessAudioFile(const std::string &path, const AudioParams &p) {
  Wave w = readWavFile(path);
  std::vector<double> mono = mixToMono(w);
  if (w.sampleRate != p.sampleRate) {
    // Refuse before resampling a huge file.
    if (double(mono.size()) / w.sampleRate > double(p.maxSamples) / p.sampleRate + 1.0)
      throw Error(path + ": " + std::to_string(double(mono.size()) / w.sampleRate).substr(0, 6) +
                  " s of audio; the audio encoder takes at most " +
                  std::to_string(p.maxSamples / p.sampleRate) + " s");
    mono = resample(mono, w.sampleRate, p.sampleRate);
  }
  // The extractor receives float32 samples.
  for (double &v : mono)
    v = double(float(v));
  return logMelFeatures(mono, p, path);
}

} // namespace gemma4rt
