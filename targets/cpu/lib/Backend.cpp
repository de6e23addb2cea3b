//===- Backend.cpp - the CPU target behind gemma4c compile ----------------===//
//
// Chooses the CPU strategies for the target CPU (integer dot products,
// weight prefetch, row tiles, K panels) and runs the CPU pipeline.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/CPU/Passes.h"
#include "gemma4c/Target/Target.h"

#include "llvm/TargetParser/Triple.h"

namespace gemma4c {
namespace {

/// --weight-prefetch=auto. Measured with E2B int4 decode, 23 tokens: on a
/// Cascade Lake Xeon (16 cores) prefetching 2048 bytes ahead took 1 thread
/// from 6.9-7.8 to 8.5-10.1 tokens/s and 16 threads from 46-54 to 57-60; on
/// Zen 4 (2 cores) it cost 15-25%, the hardware prefetchers already keeping
/// up. Unknown CPUs (generic x86-64 levels, AArch64) get none.
bool isAmdX86(llvm::StringRef cpu) {
  return cpu.starts_with("znver") || cpu.starts_with("bdver") || cpu.starts_with("btver") ||
         cpu.starts_with("amdfam") || cpu.starts_with("athlon") || cpu.starts_with("opteron") ||
         cpu.starts_with("k8") || cpu == "barcelona";
}

int64_t defaultWeightPrefetch(const std::string &triple, llvm::StringRef cpu) {
  if (!llvm::Triple(triple).isX86())
    return 0;
  bool generic = cpu.starts_with("x86-64") || cpu == "generic" || cpu.empty();
  return isAmdX86(cpu) || generic ? 0 : 2048;
}

/// --row-tile=auto. Measured with E2B int4 decode, one thread: on Zen 4 one
/// stream of 4-row tiles took the MLP's gate/up from 2.10-2.17x the time of
/// the (untiled) down projections to 1.89-1.94x and the token from
/// 4.83-4.99x to 4.62-4.68x; on a Cascade Lake Xeon, whose cores read 4
/// streams faster than 1, it cost 15-20% (8.3-8.8 tokens/s against
/// 9.9-10.4, the LM head 15.0 -> 23.5 ms). Unknown CPUs get none.
int64_t defaultRowTile(const std::string &triple, llvm::StringRef cpu) {
  return llvm::Triple(triple).isX86() && isAmdX86(cpu) ? 4 : 0;
}

class CPUBackend : public Target {
public:
  mlir::gemma4::CPUPipelineOptions po;

  void buildGraphPipeline(mlir::OpPassManager &pm) const override {
    mlir::gemma4::buildGraphPipeline(pm, po);
  }
  void buildLoweringPipeline(mlir::OpPassManager &pm) const override {
    mlir::gemma4::buildCPULoweringPipeline(pm, po);
  }
  void describe(nlohmann::json &m,
                const std::map<std::string, std::pair<uint64_t, uint64_t>> &) const override {
    nlohmann::json &c = m["compiler"];
    describeHost(c);
    c["activations"] = po.intDot == "none" ? "f32" : "int8 (" + po.intDot + ")";
    c["bf16_dot"] = po.bf16Dot;
    c["weight_prefetch_bytes"] = po.weightPrefetch;
    c["decode_row_tile"] = po.decodeRowTile;
    c["k_panel"] = po.kPanel;
    c["row_tile"] = po.rowTile;
  }
};

} // namespace

std::unique_ptr<Target> makeCPUTarget(const CodegenRequest &req, std::string &error) {
  if (!req.gpuTune.empty()) {
    error = "--gpu-tune applies to GPU targets only (--target=cuda or vulkan)";
    return nullptr;
  }
  auto t = std::make_unique<CPUBackend>();
  CPUTarget &host = const_cast<CPUTarget &>(t->host());
  host.triple = req.target;
  host.cpu = req.cpu;
  host.optLevel = req.optLevel;
  std::string triple = resolvedTriple(host);
  if (!isSupportedCPUTriple(llvm::Triple(triple))) {
    error = "unsupported target '" + triple +
            "' (supported: x86_64-linux-gnu, aarch64-linux-gnu, cuda; see gemma4c targets)";
    return nullptr;
  }
  mlir::gemma4::CPUPipelineOptions &po = t->po;
  po.fuseAttention = req.fuseAttention;
  po.threads = !req.serial;
  po.bf16Activations = req.bf16;
  // --compute=bf16: bf16 weights meet bf16 activations, whose products and
  // pair sums vdpbf16ps computes in f32 (the bf16 reference's own rounding).
  if (req.bf16 && req.bf16Dot && targetHasFeatures(host, {"avx512bf16"}))
    po.bf16Dot = "x86-avx512bf16";
  po.quant = req.quant;
  if (req.actQuant != "f32" && req.quant != "bf16") {
    // 512-bit dot products halve the instructions per weight byte of the
    // int4 rows, so more loads fit the out-of-order window of a
    // bandwidth-bound decode; CPUs LLVM tunes for 256-bit vectors (Intel's
    // AVX-512 cores, which down-clock on wide ops) keep 256-bit ones.
    if (targetHasFeatures(host, {"avx512vnni", "avx512vl"}))
      po.intDot = targetHasFeatures(host, {"prefer-256-bit"}) ? "x86-vnni" : "x86-vnni-512";
    else if (targetHasFeatures(host, {"neon", "dotprod"}))
      po.intDot = "arm-dotprod";
    else if (req.actQuant == "int8") {
      error = "--act-quant=int8: target '" + triple + "' cpu '" + resolvedCPU(host) +
              "' has no integer dot product instructions (AVX-512 VNNI or AArch64 dotprod)";
      return nullptr;
    }
  }
  po.weightPrefetch = req.weightPrefetch >= 0 ? req.weightPrefetch
                                              : defaultWeightPrefetch(triple, resolvedCPU(host));
  po.decodeRowTile = req.decodeRowTile;
  po.kPanel = req.kPanel;
  // A tile pays off when a decode step computes all its rows, as the
  // integer dot path does; the f32 path reads one row per step.
  po.rowTile = po.intDot == "none" ? 0
               : req.rowTile >= 0  ? req.rowTile
                                   : defaultRowTile(triple, resolvedCPU(host));
  return t;
}

} // namespace gemma4c
