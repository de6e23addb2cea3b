//===- Detokenize.cpp - gemma4c detokenize ---------------------------------------------===//
// Placeholder until the implementation lands; replaced wholesale.
#include "Commands.h"

#include <cstdio>

namespace gemma4c {
int runDetokenize(const Args &) {
  std::fprintf(stderr, "gemma4c detokenize: error: not available in this build yet\n");
  return 2;
}
} // namespace gemma4c
