//===- Backend.cpp - the NVIDIA target behind gemma4c compile -------------===//
//
// The model's kernels as PTX (always: the driver JITs it for newer GPUs)
// and a cubin for the named SM when the CUDA toolkit's ptxas is found; the
// host code for this machine's architecture, or the --gpu board's (Jetson).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/CUDA/Passes.h"
#include "gemma4c/Target/CUDA/Toolkit.h"
#include "gemma4c/Target/Target.h"

#include "llvm/TargetParser/Triple.h"

#include <cstdio>

namespace gemma4c {
namespace {

/// The compute capability x 10 of "sm_90", "sm_90a": 90.
int smOf(llvm::StringRef chip) {
  int sm = 0;
  chip.drop_front(3).consumeInteger(10, sm);
  return sm;
}

class CUDABackend : public Target {
public:
  GPUPreset gpu{};
  mlir::gemma4::GraphPipelineOptions graph;
  mlir::gemma4::CUDAPipelineOptions cuda;
  std::string ptx, cubin;
  std::vector<std::string> kernels;

  bool dynamicLibc() const override { return true; }
  void prepareContext(mlir::MLIRContext &ctx) override {
    mlir::DialectRegistry registry;
    mlir::gemma4::registerCUDACompilerInterfaces(registry);
    ctx.appendDialectRegistry(registry);
  }
  void buildGraphPipeline(mlir::OpPassManager &pm) const override {
    mlir::gemma4::buildGraphPipeline(pm, graph);
  }
  void buildLoweringPipeline(mlir::OpPassManager &pm) const override {
    mlir::gemma4::buildCUDALoweringPipeline(pm, cuda);
  }
  bool finish(mlir::ModuleOp module, const std::string &emit, std::string &error) override {
    auto objects = module->getAttrOfType<mlir::DictionaryAttr>("gemma4.gpu_objects");
    auto ptxAttr = objects ? objects.getAs<mlir::StringAttr>("assembly") : nullptr;
    auto names = module->getAttrOfType<mlir::ArrayAttr>("gemma4.gpu_kernels");
    if (!ptxAttr || !names) {
      error = "the CUDA lowering produced no PTX";
      return false;
    }
    ptx = ptxAttr.getValue().str();
    for (mlir::Attribute n : names)
      kernels.push_back(llvm::cast<mlir::StringAttr>(n).getValue().str());
    module->removeAttr("gemma4.gpu_objects");
    module->removeAttr("gemma4.gpu_kernels");
    return emit != "exe" || assemble(error);
  }
  std::optional<std::string> emitDeviceCode(const std::string &kind) const override {
    if (kind == "ptx")
      return ptx;
    return std::nullopt;
  }
  std::vector<TargetBlob> blobs() const override {
    // The driver needs the PTX NUL-terminated.
    std::vector<TargetBlob> b{{"ptx", ptx + std::string(1, '\0')}};
    if (!cubin.empty())
      b.push_back({"cubin", cubin});
    return b;
  }
  /// Assembles the cubin when ptxas is there.
  bool assemble(std::string &error) {
    std::string ptxas = findPtxas();
    if (ptxas.empty()) {
      std::fprintf(stderr, "gemma4c compile: note: no ptxas found (CUDA_PATH, /usr/local/cuda/bin, "
                           "PATH): embedding PTX only, which the driver compiles at start-up\n");
      return true;
    }
    return assembleCubin(ptxas, ptx, gpu.chip, cubin, error);
  }
  void describe(nlohmann::json &m,
                const std::map<std::string, std::pair<uint64_t, uint64_t>> &placed) const override {
    auto part = [&](const char *key) -> nlohmann::json {
      auto it = placed.find(key);
      if (it == placed.end())
        return nullptr;
      return {{"offset", it->second.first}, {"size", it->second.second}};
    };
    m["gpu"] = {{"api", "cuda"}, {"arch", gpu.chip}, {"kernels", kernels},
                {"ptx", part("ptx")}, {"cubin", part("cubin")}};
    if (cuda.gridDependency)
      m["gpu"]["pdl"] = true; // the kernels wait for their predecessor themselves
    nlohmann::json &c = m["compiler"];
    describeHost(c);
    c["gpu"] = gpu.chip;
    c["activations"] = "f32";
  }
};

} // namespace

std::unique_ptr<Target> makeCUDATarget(const CodegenRequest &req, std::string &error) {
  if (!req.cpuOnlyFlags.empty()) {
    error = req.cpuOnlyFlags.front() + " applies to CPU targets only, not --target=cuda";
    return nullptr;
  }
  if (req.actQuant == "int8") {
    error = "--act-quant=int8 applies to CPU targets only, not --target=cuda";
    return nullptr;
  }
  std::optional<GPUPreset> gpu = findGPU(req.gpu.empty() ? "sm_90" : req.gpu, error);
  if (!gpu)
    return nullptr;
  auto t = std::make_unique<CUDABackend>();
  t->gpu = *gpu;
  CPUTarget &host = const_cast<CPUTarget &>(t->host());
  host.triple = gpu->hostTriple;
  host.optLevel = req.optLevel;
  // The host code only launches kernels: build it for any CPU of the
  // architecture unless told otherwise.
  host.cpu = !req.cpu.empty()                               ? req.cpu
             : *gpu->hostCPU                                ? gpu->hostCPU
             : llvm::Triple(resolvedTriple(host)).isX86() ? "x86-64"
                                                            : "generic";
  if (!isSupportedCPUTriple(llvm::Triple(resolvedTriple(host)))) {
    error = "unsupported host '" + resolvedTriple(host) + "' for --target=cuda";
    return nullptr;
  }
  t->graph.fuseAttention = req.fuseAttention;
  t->graph.quant = req.quant;
  t->graph.kPanel = 0; // K panels and row tiles are CPU cache strategies
  t->graph.rowTile = 0;
  t->graph.int4Interleave = false; // a subgroup's lanes take whole int4 blocks
  t->cuda.gpu.bf16Activations = req.bf16;
  if (!mlir::gemma4::applyGPUTune(req.gpuTune, t->cuda.gpu, error))
    return nullptr;
  t->cuda.chip = gpu->chip;
  t->cuda.gridDependency = smOf(gpu->chip) >= 90;
  t->cuda.optLevel = req.optLevel;
  return t;
}

} // namespace gemma4c
