//===- media.h - --image / --audio inputs of a compiled model --*- C++ -*-===//
#ifndef GEMMA4RT_MEDIA_H
#define GEMMA4RT_MEDIA_H

#include "gemma4rt/cli.h"
#include "gemma4rt/payload.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gemma4rt {

/// Reads and preprocesses every --image and --audio file as transformers'
/// Gemma 4 processor does (a bad file is an Error naming it), then checks
/// that the model has the tower for each kind. The compiler does not build
/// the towers yet (issue 28), so with any such file this throws an Error
/// saying so; without any it does nothing.
void checkMediaInputs(const Options &o, const Manifest &m);

/// Gemma 4's placeholder ids (config.json: image_token_id, audio_token_id).
struct PlaceholderIds {
  int32_t image = 258880;
  int32_t audio = 258881;
};

/// One picture's or clip's run of placeholders in a prompt.
struct MediaSpan {
  bool image = true;
  size_t file = 0;       ///< index into the --image or --audio files
  int64_t begin = 0;     ///< first placeholder position
  int64_t length = 0;    ///< placeholders = soft tokens
};

/// Matches the runs of placeholder ids in `ids` (as transformers' processor
/// expands them: one run per picture or clip, in prompt order) with the
/// files' soft-token counts, in order per kind. Throws Error naming the file
/// (or the prompt) when the counts differ, or when there are more files than
/// runs or more runs than files.
std::vector<MediaSpan> matchPlaceholders(const std::vector<int32_t> &ids, const PlaceholderIds &p,
                                         const std::vector<std::string> &imageFiles,
                                         const std::vector<int64_t> &imageTokens,
                                         const std::vector<std::string> &audioFiles,
                                         const std::vector<int64_t> &audioTokens);

} // namespace gemma4rt

#endif
