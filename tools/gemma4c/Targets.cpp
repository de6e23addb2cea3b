//===- Targets.cpp - gemma4c targets --------------------------------------===//
#include "Commands.h"

#include "gemma4c/Target/CPU/ObjectEmitter.h"

#include <cstdio>

namespace gemma4c {

int runTargets(const Args &args) {
  for (const std::string &a : args) {
    if (a == "--help" || a == "-h") {
      std::puts("Usage: gemma4c targets\n\nLists the targets and CPU presets gemma4c compiles for.");
      return 0;
    }
    std::fprintf(stderr, "gemma4c targets: error: unexpected argument '%s'\n", a.c_str());
    return 2;
  }
  CPUTarget host;
  std::printf("host: %s (cpu %s)\n\n", resolvedTriple(host).c_str(), resolvedCPU(host).c_str());
  std::puts("target triple        --cpu values                     status");
  std::puts("x86_64-linux-gnu     native (default), x86-64, x86-64-v2, x86-64-v3, x86-64-v4,");
  std::puts("                     any LLVM x86 CPU name (skylake, znver4, ...)   supported");
  std::puts("aarch64-linux-gnu    generic, any LLVM AArch64 CPU name (cortex-a76, ...)");
  std::puts("                     code generation only: no cross runtime shipped yet");
  return 0;
}

} // namespace gemma4c
