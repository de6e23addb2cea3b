//===- Options.h - tiny flag parser shared by gemma4c subcommands -*- C++ -*-===//
#ifndef GEMMA4C_TOOLS_OPTIONS_H
#define GEMMA4C_TOOLS_OPTIONS_H

#include "Commands.h"

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

namespace gemma4c {

/// A bad flag or value: printed as one line, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Walks argv accepting `--name=value`, `--name value` and positionals.
class OptionCursor {
public:
  explicit OptionCursor(const Args &args) : args(args) {}
  bool done() const { return i >= args.size(); }
  /// The current raw argument.
  const std::string &peek() const { return args[i]; }
  bool isFlag() const { return peek().size() > 1 && peek()[0] == '-'; }
  /// Matches `--name` / `--name=value`; on a match with a value, returns it.
  bool match(const std::string &name, std::string *value = nullptr) {
    const std::string &a = args[i];
    if (a == name) {
      ++i;
      if (value) {
        if (i >= args.size())
          throw UsageError("flag " + name + " needs a value");
        *value = args[i++];
      }
      return true;
    }
    if (value && a.rfind(name + "=", 0) == 0) {
      *value = a.substr(name.size() + 1);
      ++i;
      return true;
    }
    return false;
  }
  std::string positional() { return args[i++]; }

private:
  const Args &args;
  size_t i = 0;
};

inline int64_t parseInt(const std::string &flag, const std::string &v, int64_t lo, int64_t hi) {
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || x < lo || x > hi)
    throw UsageError("invalid value '" + v + "' for " + flag + " (expected an integer in [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "])");
  return x;
}

} // namespace gemma4c

#endif
