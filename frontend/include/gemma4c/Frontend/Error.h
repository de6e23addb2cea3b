//===- Error.h - user-facing errors of the frontend ------------*- C++ -*-===//
//
// Readers throw gemma4c::InputError with a message that already names the
// file, tensor, key or flag at fault. Command-line tools catch it and print
// it as one line, exiting non-zero. Nothing may crash on bad input.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_FRONTEND_ERROR_H
#define GEMMA4C_FRONTEND_ERROR_H

#include <stdexcept>
#include <string>

namespace gemma4c {
class InputError : public std::runtime_error {
public:
  explicit InputError(const std::string &msg) : std::runtime_error(msg) {}
};
} // namespace gemma4c

#endif
