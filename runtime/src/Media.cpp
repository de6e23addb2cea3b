//===- Media.cpp - --image / --audio inputs of a compiled model -----------===//
#include "gemma4rt/media.h"
#include "gemma4rt/audio.h"
#include "gemma4rt/error.h"
#include "gemma4rt/image.h"

namespace gemma4rt {

void checkMediaInputs(const Options &o, const Manifest &) {
  if (o.images.empty() && o.audios.empty())
    return;
  // E2B/E4B's processor settings (patch 16, 280 soft tokens, pooling 3; 16
  // kHz, 128 mel bins). They will come from the manifest once the compiler
  // records the checkpoint's processor_config.json.
  ImageParams ip;
  for (const std::string &f : o.images) // as transformers' load_image + processor
    preprocessImage(loadImageFile(f), ip, f);
  AudioParams ap;
  for (const std::string &f : o.audios)
    preprocessAudioFile(f, ap);
  // No compiled model carries a tower yet: say so rather than ignore them.
  if (!o.images.empty())
    throw Error("--image " + o.images.front() +
                ": this model has no vision tower compiled in (gemma4c does not compile "
                "Gemma 4's image encoder yet)");
  throw Error("--audio " + o.audios.front() +
              ": this model has no audio tower compiled in (gemma4c does not compile "
              "Gemma 4's audio encoder yet)");
}

std::vector<MediaSpan> matchPlaceholders(const std::vector<int32_t> &ids, const PlaceholderIds &p,
                                         const std::vector<std::string> &imageFiles,
                                         const std::vector<int64_t> &imageTokens,
                                         const std::vector<std::string> &audioFiles,
                                         const std::vector<int64_t> &audioTokens) {
  std::vector<MediaSpan> spans;
  size_t nImage = 0, nAudio = 0;
  for (size_t i = 0; i < ids.size();) {
    if (ids[i] != p.image && ids[i] != p.audio) {
      ++i;
      continue;
    }
    const int32_t id = ids[i];
    size_t j = i;
    while (j < ids.size() && ids[j] == id)
      ++j;
    MediaSpan s;
    s.image = id == p.image;
    s.begin = int64_t(i);
    s.length = int64_t(j - i);
    const auto &files = s.image ? imageFiles : audioFiles;
    const auto &tokens = s.image ? imageTokens : audioTokens;
    size_t &n = s.image ? nImage : nAudio;
    const char *kind = s.image ? "image" : "audio";
    if (n >= files.size())
      throw Error("prompt: " + std::string(kind) + " placeholder run " + std::to_string(n + 1) +
                  " at position " + std::to_string(i) + " has no --" + kind + " file (" +
                  std::to_string(files.size()) + " given)");
    if (tokens[n] != s.length)
      throw Error(files[n] + ": " + std::to_string(tokens[n]) + " soft tokens, but its placeholder run at " +
                  "position " + std::to_string(i) + " has " + std::to_string(s.length));
    s.file = n++;
    spans.push_back(s);
    i = j;
  }
  if (nImage < imageFiles.size())
    throw Error(imageFiles[nImage] + ": the prompt has " + std::to_string(nImage) +
                " image placeholder run" + (nImage == 1 ? "" : "s") + " for " +
                std::to_string(imageFiles.size()) + " --image files");
  if (nAudio < audioFiles.size())
    throw Error(audioFiles[nAudio] + ": the prompt has " + std::to_string(nAudio) +
                " audio placeholder run" + (nAudio == 1 ? "" : "s") + " for " +
                std::to_string(audioFiles.size()) + " --audio files");
  return spans;
}

} // namespace gemma4rt
