//===- Toolkit.cpp - GPU names and the CUDA toolkit's ptxas ---------------===//
#include "gemma4c/Target/CUDA/Toolkit.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

namespace gemma4c {

llvm::ArrayRef<GPUPreset> gpuPresets() {
  static const GPUPreset presets[] = {
      {"sm_80", "sm_80", "", "", "NVIDIA Ampere A100 (x86-64 host)"},
      {"sm_86", "sm_86", "", "", "NVIDIA Ampere RTX 30xx / A40 (x86-64 host)"},
      {"sm_87", "sm_87", "", "", "NVIDIA Jetson Orin GPU with an x86-64 host (use jetson-orin)"},
      {"sm_89", "sm_89", "", "", "NVIDIA Ada RTX 40xx / L4 / L40 (x86-64 host)"},
      {"sm_90", "sm_90", "", "", "NVIDIA Hopper H100 / H200 (x86-64 host)"},
      {"jetson-orin", "sm_87", "aarch64-linux-gnu", "jetson-orin",
       "NVIDIA Jetson Orin: sm_87 GPU, AArch64 Cortex-A78AE host"},
  };
  return presets;
}

std::optional<GPUPreset> findGPU(llvm::StringRef name, std::string &error) {
  for (const GPUPreset &p : gpuPresets())
    if (name == p.name)
      return p;
  error = "unsupported --gpu '" + name.str() + "' (expected one of:";
  for (const GPUPreset &p : gpuPresets())
    error += std::string(" ") + p.name;
  error += "; see gemma4c targets)";
  return std::nullopt;
}

std::string findPtxas() {
  llvm::SmallVector<std::string> dirs;
  if (const char *p = std::getenv("CUDA_PATH"); p && *p)
    dirs.push_back(std::string(p) + "/bin");
  dirs.push_back("/usr/local/cuda/bin");
  for (const std::string &d : dirs) {
    std::string p = d + "/ptxas";
    if (llvm::sys::fs::can_execute(p))
      return p;
  }
  if (auto p = llvm::sys::findProgramByName("ptxas"))
    return *p;
  return "";
}

bool assembleCubin(const std::string &ptxas, const std::string &ptx, llvm::StringRef chip,
                   std::string &cubin, std::string &error) {
  llvm::SmallString<128> in, out, log;
  if (llvm::sys::fs::createTemporaryFile("gemma4c", "ptx", in) ||
      llvm::sys::fs::createTemporaryFile("gemma4c", "cubin", out) ||
      llvm::sys::fs::createTemporaryFile("gemma4c", "log", log)) {
    error = "cannot create temporary files for ptxas";
    return false;
  }
  auto cleanup = [&] {
    llvm::sys::fs::remove(in);
    llvm::sys::fs::remove(out);
    llvm::sys::fs::remove(log);
  };
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(in, ec);
    if (ec) {
      cleanup();
      error = "cannot write '" + in.str().str() + "': " + ec.message();
      return false;
    }
    // The embedded PTX keeps its terminating NUL for the driver; not ptxas's.
    os << llvm::StringRef(ptx).rtrim('\0');
  }
  std::string arch = "-arch=" + chip.str();
  llvm::SmallVector<llvm::StringRef> args{ptxas, arch, "-O3", in, "-o", out};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(), log.str()};
  std::string execErr;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, /*timeout=*/600, 0,
                                     &execErr);
  if (rc != 0) {
    std::string first;
    if (auto buf = llvm::MemoryBuffer::getFile(log))
      first = (*buf)->getBuffer().split('\n').first.trim().str();
    error = "ptxas " + arch + " failed" + (first.empty() ? execErr.empty() ? "" : ": " + execErr
                                                         : ": " + first);
    cleanup();
    return false;
  }
  auto buf = llvm::MemoryBuffer::getFile(out, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buf) {
    cleanup();
    error = "ptxas wrote no cubin";
    return false;
  }
  cubin = (*buf)->getBuffer().str();
  cleanup();
  return true;
}

} // namespace gemma4c
