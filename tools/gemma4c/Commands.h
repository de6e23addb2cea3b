//===- Commands.h - gemma4c subcommands ------------------------*- C++ -*-===//
//
// Each subcommand lives in its own file and receives the arguments that
// follow its name. It returns the process exit code; errors are printed as
// one line "gemma4c <cmd>: error: ..." on stderr.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_TOOLS_COMMANDS_H
#define GEMMA4C_TOOLS_COMMANDS_H

#include <string>
#include <vector>

namespace gemma4c {

using Args = std::vector<std::string>;

struct Command {
  const char *name;
  const char *summary;
  int (*run)(const Args &args);
};

/// All subcommands, in the order `gemma4c --help` lists them.
const std::vector<Command> &commands();

} // namespace gemma4c

#endif
