//===- Compile.cpp - gemma4c compile ---------------------------------------------===//
// Placeholder until the implementation lands; replaced wholesale.
#include "Commands.h"

#include <cstdio>

namespace gemma4c {
int runCompile(const Args &) {
  std::fprintf(stderr, "gemma4c compile: error: not available in this build yet\n");
  return 2;
}
} // namespace gemma4c
