//===- ObjectEmitter.h - LLVM dialect -> LLVM IR / asm / object -*- C++ -*-===//
#ifndef GEMMA4C_TARGET_CPU_OBJECTEMITTER_H
#define GEMMA4C_TARGET_CPU_OBJECTEMITTER_H

#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/TargetParser/Triple.h"

#include <string>
#include <vector>

namespace gemma4c {

struct CPUTarget {
  std::string triple; ///< empty: the host (or the preset's architecture)
  std::string cpu;    ///< empty: "generic" for cross, the host CPU for native;
                      ///< or a preset name (rpi5, jetson-orin, armv8.2-a)
  std::string features;
  int optLevel = 3;
};

/// A named --cpu value for a board or architecture level.
struct CPUPreset {
  const char *name;        ///< --cpu value, e.g. "rpi5"
  const char *arch;        ///< architecture it belongs to, e.g. "aarch64"
  const char *cpu;         ///< LLVM CPU name
  const char *features;    ///< extra LLVM target features ("" = the CPU's own)
  const char *description; ///< one line for gemma4c targets
};
/// The CPU presets, in the order gemma4c targets lists them.
llvm::ArrayRef<CPUPreset> cpuPresets();

enum class EmitKind { LLVMIR, Assembly, Object };

/// Translates an LLVM-dialect module to LLVM IR, optimises it for the target
/// and writes the requested form to `path`. Returns false and sets `error`
/// (one line) on failure.
bool emitCPU(mlir::ModuleOp module, const CPUTarget &target, EmitKind kind,
             const std::string &path, std::string &error);

/// The normalised triple, LLVM CPU and target features that `target`
/// resolves to. A preset --cpu with no --target selects the preset's
/// architecture (Linux, GNU).
std::string resolvedTriple(const CPUTarget &target);
std::string resolvedCPU(const CPUTarget &target);
std::string resolvedFeatures(const CPUTarget &target);
/// Checks that the --cpu value exists for the resolved target (a preset of
/// its architecture or an LLVM CPU name). False with a one-line `error`.
bool validateCPU(const CPUTarget &target, std::string &error);
/// The instruction-set extensions (from a fixed list the runtime can test:
/// avx, avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512dq, avx512bf16,
/// avx512vnni, avx512fp16, ...) that code generated for `target` may use.
/// Empty for non-x86 targets. Generated binaries refuse to start, with a
/// one-line error, on a CPU that lacks one of them.
std::vector<std::string> requiredX86Features(const CPUTarget &target);
/// The same for AArch64 targets: the optional extensions (dotprod,
/// fullfp16) the generated code may use, which the runtime tests through
/// the kernel's HWCAP bits. Empty for other targets.
std::vector<std::string> requiredAArch64Features(const CPUTarget &target);
/// Whether code generated for `target` may use every one of `features`
/// (LLVM feature names, e.g. avx512vnni, dotprod).
bool targetHasFeatures(const CPUTarget &target, llvm::ArrayRef<const char *> features);

/// x86-64 and AArch64 Linux, the CPU targets gemma4c supports.
bool isSupportedCPUTriple(const llvm::Triple &t);

} // namespace gemma4c

#endif
