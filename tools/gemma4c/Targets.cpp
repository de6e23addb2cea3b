//===- Targets.cpp - gemma4c targets ---------------------------------------------===//
// Placeholder until the implementation lands; replaced wholesale.
#include "Commands.h"

#include <cstdio>

namespace gemma4c {
int runTargets(const Args &) {
  std::fprintf(stderr, "gemma4c targets: error: not available in this build yet\n");
  return 2;
}
} // namespace gemma4c
