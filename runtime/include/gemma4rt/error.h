//===- error.h - runtime error type -----------------------------*- C++ -*-===//
//
// Every failure the runtime reports is one line on stderr and a non-zero exit
// status: UsageError (a bad flag or value, exit 2) or Error (anything else,
// exit 1). Messages carry no "error:" prefix; main() adds "<prog>: error: ".
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_ERROR_H
#define GEMMA4RT_ERROR_H

#include <stdexcept>
#include <string>

namespace gemma4rt {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &msg, int exitCode = 1)
      : std::runtime_error(msg), exitCode_(exitCode) {}
  int exitCode() const { return exitCode_; }

private:
  int exitCode_;
};

/// A bad command-line flag or value; the message names the flag. Exit 2.
class UsageError : public Error {
public:
  explicit UsageError(const std::string &msg) : Error(msg, 2) {}
};

} // namespace gemma4rt

#endif
