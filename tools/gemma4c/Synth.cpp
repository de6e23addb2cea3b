//===- Synth.cpp - gemma4c synth ---------------------------------------------===//
// Placeholder until the implementation lands; replaced wholesale.
#include "Commands.h"

#include <cstdio>

namespace gemma4c {
int runSynth(const Args &) {
  std::fprintf(stderr, "gemma4c synth: error: not available in this build yet\n");
  return 2;
}
} // namespace gemma4c
