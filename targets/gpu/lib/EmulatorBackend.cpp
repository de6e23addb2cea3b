//===- EmulatorBackend.cpp - the hidden gpu-emulator target (tests) -------===//
//
// `gemma4c compile --target=gpu-emulator`: the GPU mapping (the kernels
// every GPU target runs) executed by gemma4-emulate-gpu-launches as CPU
// loops in an ordinary CPU executable, so the goldens check the mapping on
// machines without a GPU (test/Target/GPU/emulated-goldens.test). Not for
// users: it is slow and not listed by gemma4c targets.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/CPU/Passes.h"
#include "gemma4c/Target/GPU/Passes.h"
#include "gemma4c/Target/Target.h"

namespace gemma4c {
namespace {

class GPUEmulatorBackend : public Target {
public:
  mlir::gemma4::CPUPipelineOptions cpu;
  mlir::gemma4::GPULoweringOptions gpu;

  void buildGraphPipeline(mlir::OpPassManager &pm) const override {
    mlir::gemma4::buildGraphPipeline(pm, cpu);
  }
  void buildLoweringPipeline(mlir::OpPassManager &pm) const override {
    mlir::gemma4::buildGPUMappingPipeline(pm, gpu);
    pm.addPass(mlir::gemma4::createGemma4EmulateGPULaunches());
    mlir::gemma4::buildCPUToLLVMPipeline(pm, cpu);
  }
  void describe(nlohmann::json &m,
                const std::map<std::string, std::pair<uint64_t, uint64_t>> &) const override {
    nlohmann::json &c = m["compiler"];
    describeHost(c);
    c["activations"] = "f32 (gpu-emulator)";
  }
};

} // namespace

std::unique_ptr<Target> makeGPUEmulatorTarget(const CodegenRequest &req, std::string &error) {
  auto t = std::make_unique<GPUEmulatorBackend>();
  CPUTarget &host = const_cast<CPUTarget &>(t->host());
  host.cpu = req.cpu; // the compiling machine's CPU by default: the tests run here
  host.optLevel = req.optLevel;
  t->cpu.fuseAttention = req.fuseAttention;
  t->cpu.quant = req.quant;
  t->cpu.kPanel = 0;
  t->cpu.rowTile = 0;
  t->cpu.int4Interleave = false; // the GPU targets' int4 layout
  t->cpu.threads = false; // the emulated kernels are plain loops
  t->cpu.bf16Activations = req.bf16;
  t->gpu.bf16Activations = req.bf16;
  if (!mlir::gemma4::applyGPUTune(req.gpuTune, t->gpu, error))
    return nullptr;
  if (t->gpu.mma != "auto") {
    error = "--gpu-tune: mma (tensor cores) applies to --target=cuda only";
    return nullptr;
  }
  (void)error;
  return t;
}

} // namespace gemma4c
