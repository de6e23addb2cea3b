//===- ObjectEmitter.h - LLVM dialect -> LLVM IR / asm / object -*- C++ -*-===//
#ifndef GEMMA4C_TARGET_CPU_OBJECTEMITTER_H
#define GEMMA4C_TARGET_CPU_OBJECTEMITTER_H

#include "mlir/IR/BuiltinOps.h"

#include "llvm/TargetParser/Triple.h"

#include <string>

namespace gemma4c {

struct CPUTarget {
  std::string triple; ///< empty: the host
  std::string cpu;    ///< empty: "generic" for cross, the host CPU for native
  std::string features;
  int optLevel = 3;
};

enum class EmitKind { LLVMIR, Assembly, Object };

/// Translates an LLVM-dialect module to LLVM IR, optimises it for the target
/// and writes the requested form to `path`. Returns false and sets `error`
/// (one line) on failure.
bool emitCPU(mlir::ModuleOp module, const CPUTarget &target, EmitKind kind,
             const std::string &path, std::string &error);

/// The normalised triple and CPU that `target` resolves to.
std::string resolvedTriple(const CPUTarget &target);
std::string resolvedCPU(const CPUTarget &target);
/// x86-64 and AArch64 Linux, the CPU targets gemma4c supports.
bool isSupportedCPUTriple(const llvm::Triple &t);

} // namespace gemma4c

#endif
