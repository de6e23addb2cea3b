//===- Tokenize.cpp - gemma4c tokenize ---------------------------------------------===//
// Placeholder until the implementation lands; replaced wholesale.
#include "Commands.h"

#include <cstdio>

namespace gemma4c {
int runTokenize(const Args &) {
  std::fprintf(stderr, "gemma4c tokenize: error: not available in this build yet\n");
  return 2;
}
} // namespace gemma4c
