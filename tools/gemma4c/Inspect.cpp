//===- Inspect.cpp - gemma4c inspect ---------------------------------------------===//
// Placeholder until the implementation lands; replaced wholesale.
#include "Commands.h"

#include <cstdio>

namespace gemma4c {
int runInspect(const Args &) {
  std::fprintf(stderr, "gemma4c inspect: error: not available in this build yet\n");
  return 2;
}
} // namespace gemma4c
