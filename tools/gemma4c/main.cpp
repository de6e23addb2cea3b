//===- main.cpp - the gemma4c driver --------------------------------------===//
#include "Commands.h"

#include <cstdio>
#include <cstring>
#include <string>

using namespace gemma4c;

static void printHelp(FILE *out) {
  std::fprintf(out,
               "gemma4c %s - ahead-of-time compiler for Gemma 4 models\n\n"
               "Usage: gemma4c <command> [options]\n\nCommands:\n",
               GEMMA4C_VERSION);
  for (const Command &c : commands())
    std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
  std::fprintf(out, "\nRun 'gemma4c <command> --help' for a command's "
                    "options.\n  --help       this text\n  --version    "
                    "print the version\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    printHelp(stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    printHelp(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("gemma4c %s (LLVM/MLIR %s)\n", GEMMA4C_VERSION,
                GEMMA4C_LLVM_VERSION);
    return 0;
  }
  for (const Command &c : commands())
    if (cmd == c.name)
      return c.run(Args(argv + 2, argv + argc));
  std::fprintf(stderr,
               "gemma4c: error: unknown command '%s' (see gemma4c --help)\n",
               cmd.c_str());
  return 2;
}
