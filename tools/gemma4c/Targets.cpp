//===- Targets.cpp - gemma4c targets --------------------------------------===//
#include "Commands.h"

#include "gemma4c/Target/CPU/Linker.h"
#include "gemma4c/Target/CPU/ObjectEmitter.h"
#include "gemma4c/Target/CUDA/Toolkit.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdio>

namespace gemma4c {

int runTargets(const Args &args) {
  for (const std::string &a : args) {
    if (a == "--help" || a == "-h") {
      std::puts("Usage: gemma4c targets\n\nLists the targets and CPU presets gemma4c compiles for.");
      return 0;
    }
    std::fprintf(stderr, "gemma4c targets: error: unexpected argument '%s'\n", a.c_str());
    return 2;
  }
  CPUTarget host;
  std::string hostTriple = resolvedTriple(host);
  std::printf("host: %s (cpu %s)\n\n", hostTriple.c_str(), resolvedCPU(host).c_str());
  // Executables need the target's runtime libraries beside gemma4c; without
  // them only --emit=obj|asm|llvm work for that target.
  auto status = [&](const char *triple) -> std::string {
    std::string dir = findRuntimeDir(triple, "/proc/self/exe");
    bool host = llvm::Triple(llvm::Triple::normalize(triple)).getArch() ==
                llvm::Triple(hostTriple).getArch();
    if (llvm::sys::fs::exists(dir + "/libgemma4rt_main.a") &&
        llvm::sys::fs::exists(dir + "/libgemma4rt.a"))
      return host ? "supported (host)" : "supported (static executables, runtime " + dir + ")";
    return "code generation only (no runtime in " + dir + ")";
  };
  std::puts("x86_64-linux-gnu");
  std::printf("  status: %s\n", status("x86_64-linux-gnu").c_str());
  std::puts("  --cpu:  native (default natively; generic when cross-compiling), x86-64,");
  std::puts("          x86-64-v2, x86-64-v3, x86-64-v4, any LLVM x86 CPU (skylake, znver4, ...)");
  std::puts("aarch64-linux-gnu");
  std::printf("  status: %s\n", status("aarch64-linux-gnu").c_str());
  std::puts("  --cpu:  generic (default when cross-compiling), any LLVM AArch64 CPU");
  std::puts("          (cortex-a72, neoverse-n1, ...), or a preset:");
  for (const CPUPreset &p : cpuPresets())
    std::printf("            %-12s %s: %s%s%s\n", p.name, p.description, p.cpu,
                *p.features ? " " : "", p.features);
  std::puts("  A preset --cpu with no --target selects aarch64-linux-gnu. SentencePiece");
  std::puts("  tokenizer.model is not supported on aarch64 (tokenizer.json is).");
  std::puts("cuda (--target=cuda: the model runs on an NVIDIA GPU, the host code on");
  std::puts("      this machine's architecture or the --gpu board's)");
  std::string ptxas = findPtxas();
  std::printf("  status: %s\n", ptxas.empty()
                                    ? "supported (PTX only: no ptxas found, the driver compiles it at start-up)"
                                    : ("supported (PTX and a cubin from " + ptxas + ")").c_str());
  std::puts("  --gpu:");
  for (const GPUPreset &p : gpuPresets())
    std::printf("            %-12s %s\n", p.name, p.description);
  std::puts("vulkan (--target=vulkan: the model runs on any Vulkan 1.2 GPU through SPIR-V");
  std::puts("        kernels; the host code on this machine's architecture or --host's)");
  std::puts("  status: supported (the executable loads libvulkan.so.1 at start-up)");
  std::puts("  needs:  bufferDeviceAddress, shaderInt64/Int16/Int8, 8- and 16-bit storage");
  std::puts("          buffer access, subgroup shuffles, subgroups of a multiple of 8 lanes");
  return 0;
}

} // namespace gemma4c
