//===- Import.cpp - gemma4c import ---------------------------------------------===//
// Placeholder until the implementation lands; replaced wholesale.
#include "Commands.h"

#include <cstdio>

namespace gemma4c {
int runImport(const Args &) {
  std::fprintf(stderr, "gemma4c import: error: not available in this build yet\n");
  return 2;
}
} // namespace gemma4c
