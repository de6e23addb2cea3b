//===- media.h - --image / --audio inputs of a compiled model --*- C++ -*-===//
#ifndef GEMMA4RT_MEDIA_H
#define GEMMA4RT_MEDIA_H

#include "gemma4rt/cli.h"
#include "gemma4rt/payload.h"

namespace gemma4rt {

/// Reads and preprocesses every --image and --audio file as transformers'
/// Gemma 4 processor does (a bad file is an Error naming it), then checks
/// that the model has the tower for each kind. The compiler does not build
/// the towers yet (issue 28), so with any such file this throws an Error
/// saying so; without any it does nothing.
void checkMediaInputs(const Options &o, const Manifest &m);

} // namespace gemma4rt

#endif
