//===- Toolkit.h - GPU names, PTX and the CUDA toolkit's ptxas --*- C++ -*-===//
#ifndef GEMMA4C_TARGET_CUDA_TOOLKIT_H
#define GEMMA4C_TARGET_CUDA_TOOLKIT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace gemma4c {

/// A named --gpu value: an SM or a board (which also fixes the host).
struct GPUPreset {
  const char *name;        ///< --gpu value
  const char *chip;        ///< sm_NN
  const char *hostTriple;  ///< "" = the compiling machine's
  const char *hostCPU;     ///< --cpu for the host code ("" = default)
  const char *description; ///< one line for gemma4c targets
};
llvm::ArrayRef<GPUPreset> gpuPresets();
/// The preset of a --gpu value, or nullopt (with the accepted values in
/// `error`).
std::optional<GPUPreset> findGPU(llvm::StringRef name, std::string &error);

/// ptxas from $CUDA_PATH/bin, /usr/local/cuda/bin or PATH; empty if none.
std::string findPtxas();

/// Assembles `ptx` for `chip` with ptxas into a cubin. False with a one-line
/// error (ptxas's first error line) on failure.
bool assembleCubin(const std::string &ptxas, const std::string &ptx, llvm::StringRef chip,
                   std::string &cubin, std::string &error);

} // namespace gemma4c

#endif
