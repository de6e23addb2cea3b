//===- run.h - the compiled model's main program ----------------*- C++ -*-===//
#ifndef GEMMA4RT_RUN_H
#define GEMMA4RT_RUN_H

#include "gemma4rt/session.h"
#include "gemma4rt/text.h"

#include <functional>
#include <memory>

namespace gemma4rt {

using CodecFactory = std::function<std::unique_ptr<TextCodec>(const Payload &)>;

/// Everything main() does: parse flags, load the payload of the running
/// executable, run the prompt and generate. Returns the exit status (0, 1 on
/// a runtime error, 2 on a usage error); every error is one line on stderr.
/// gemma4rt_main's main() calls it with &gemma4_prefill, &gemma4_decode and
/// makeTextCodec.
int runMain(int argc, char **argv, EntryPoints entry, const CodecFactory &makeCodec);

} // namespace gemma4rt

#endif
