//===- Linker.h - object + runtime + payload -> executable -----*- C++ -*-===//
#ifndef GEMMA4C_TARGET_CPU_LINKER_H
#define GEMMA4C_TARGET_CPU_LINKER_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gemma4c {

/// One piece of the payload: `size` bytes produced by `write` (called with a
/// sink that appends bytes).
struct PayloadPart {
  uint64_t size = 0;
  uint64_t align = 1;
  std::function<void(const std::function<void(const void *, size_t)> &)> write;
  uint64_t offset = 0; ///< filled by appendPayload: offset in the final file
};

/// Links `object` with the runtime libraries for `triple` into `exe`
/// (clang++ from the LLVM 22 install and lld; -static-libstdc++ -static-libgcc
/// for the host, fully -static when cross-compiling, e.g. for AArch64).
/// `runtimeDir` holds libgemma4rt_main.a, libgemma4rt.a and, when present,
/// libgemma4rt_tokenizer.a. `dynamicLibc`: a cross executable links the
/// device's glibc dynamically instead (GPU binaries, which dlopen the
/// driver). Returns false with a one-line `error`.
bool linkExecutable(const std::string &object, const std::string &exe,
                    const std::string &triple, const std::string &runtimeDir,
                    std::string &error, bool dynamicLibc = false);

/// Appends parts, then the manifest produced by `manifest(parts)` (called once
/// all part offsets are known) and the trailer, to the file at `path`.
bool appendPayload(const std::string &path, std::vector<PayloadPart> &parts,
                   const std::function<std::string(const std::vector<PayloadPart> &)> &manifest,
                   std::string &error);

/// Where the runtime libraries for `triple` live, relative to the running
/// gemma4c: <prefix>/lib for the host architecture, <prefix>/lib/<arch>
/// (e.g. lib/aarch64) for a cross target.
std::string findRuntimeDir(const std::string &triple, const char *argv0);

} // namespace gemma4c

#endif
