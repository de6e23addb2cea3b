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

} // namespace gemma4rt
