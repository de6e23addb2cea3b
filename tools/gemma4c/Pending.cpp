//===- Pending.cpp - subcommands whose implementation has not landed ------===//
// Each entry here is removed when its real implementation lands.
#include "Commands.h"

#include <cstdio>

namespace gemma4c {
static int pending(const char *name) {
  std::fprintf(stderr, "gemma4c %s: error: not available in this build yet\n",
               name);
  return 2;
}
int runImport(const Args &) { return pending("import"); }
int runInspect(const Args &) { return pending("inspect"); }
int runCompile(const Args &) { return pending("compile"); }
int runTokenize(const Args &) { return pending("tokenize"); }
int runDetokenize(const Args &) { return pending("detokenize"); }
int runSynth(const Args &) { return pending("synth"); }
int runTargets(const Args &) { return pending("targets"); }
} // namespace gemma4c
