//===- Backend.cpp - the Vulkan target behind gemma4c compile -------------===//
//
// The model's kernels as one SPIR-V module (any Vulkan 1.2 GPU with buffer
// device addresses, 8/16-bit storage and subgroup shuffles), the host code
// for this machine's architecture or --host's. The runtime loads the
// driver with dlopen("libvulkan.so.1").
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/Target.h"
#include "gemma4c/Target/Vulkan/Passes.h"

#include "llvm/TargetParser/Triple.h"

namespace gemma4c {
namespace {

class VulkanBackend : public Target {
public:
  mlir::gemma4::GraphPipelineOptions graph;
  mlir::gemma4::VulkanPipelineOptions vulkan;
  std::string spirv;
  std::vector<std::string> kernels;
  nlohmann::json kernelInfo = nlohmann::json::array();

  bool dynamicLibc() const override { return true; }
  void prepareContext(mlir::MLIRContext &ctx) override {
    mlir::DialectRegistry registry;
    mlir::gemma4::registerVulkanCompilerInterfaces(registry);
    ctx.appendDialectRegistry(registry);
  }
  void buildGraphPipeline(mlir::OpPassManager &pm) const override {
    mlir::gemma4::buildGraphPipeline(pm, graph);
  }
  void buildLoweringPipeline(mlir::OpPassManager &pm) const override {
    mlir::gemma4::buildVulkanLoweringPipeline(pm, vulkan);
  }
  bool finish(mlir::ModuleOp module, const std::string &emit, std::string &error) override {
    auto bin = module->getAttrOfType<mlir::StringAttr>("gemma4.spirv");
    auto info = module->getAttrOfType<mlir::ArrayAttr>("gemma4.spirv_kernels");
    auto names = module->getAttrOfType<mlir::ArrayAttr>("gemma4.gpu_kernels");
    if (!bin || !info || !names || info.size() != names.size()) {
      error = "the Vulkan lowering produced no SPIR-V";
      return false;
    }
    spirv = bin.getValue().str();
    for (auto [n, k] : llvm::zip(names, info)) {
      kernels.push_back(llvm::cast<mlir::StringAttr>(n).getValue().str());
      auto a = llvm::cast<mlir::DenseI64ArrayAttr>(k).asArrayRef();
      kernelInfo.push_back({{"params", a[0]}, {"workgroup", {a[1], a[2], a[3]}}, {"shared", a[4]}});
    }
    for (const char *a : {"gemma4.spirv", "gemma4.spirv_kernels", "gemma4.gpu_kernels",
                          "gemma4.gpu_objects"})
      module->removeAttr(a);
    return true;
  }
  std::optional<std::string> emitDeviceCode(const std::string &kind) const override {
    if (kind == "spirv")
      return spirv;
    return std::nullopt;
  }
  std::vector<TargetBlob> blobs() const override { return {{"spirv", spirv, 16}}; }
  void describe(nlohmann::json &m,
                const std::map<std::string, std::pair<uint64_t, uint64_t>> &placed) const override {
    auto it = placed.find("spirv");
    nlohmann::json part = nullptr;
    if (it != placed.end())
      part = {{"offset", it->second.first}, {"size", it->second.second}};
    m["gpu"] = {{"api", "vulkan"},
                {"kernels", kernels},
                {"spirv", part},
                {"kernel_info", kernelInfo},
                {"subgroup_size", vulkan.gpu.subgroupSize}};
    nlohmann::json &c = m["compiler"];
    describeHost(c);
    c["gpu"] = "vulkan";
    c["activations"] = "f32";
  }
};

} // namespace

std::unique_ptr<Target> makeVulkanTarget(const CodegenRequest &req, std::string &error) {
  if (!req.cpuOnlyFlags.empty()) {
    error = req.cpuOnlyFlags.front() + " applies to CPU targets only, not --target=vulkan";
    return nullptr;
  }
  if (req.actQuant == "int8") {
    error = "--act-quant=int8 applies to CPU targets only, not --target=vulkan";
    return nullptr;
  }
  if (!req.gpu.empty()) {
    error = "--gpu applies to --target=cuda only (a Vulkan binary runs on any Vulkan GPU)";
    return nullptr;
  }
  auto t = std::make_unique<VulkanBackend>();
  CPUTarget &host = const_cast<CPUTarget &>(t->host());
  host.triple = req.host;
  host.optLevel = req.optLevel;
  host.cpu = !req.cpu.empty() ? req.cpu
             : llvm::Triple(resolvedTriple(host)).isX86() ? "x86-64"
                                                          : "generic";
  if (!isSupportedCPUTriple(llvm::Triple(resolvedTriple(host)))) {
    error = "unsupported --host '" + resolvedTriple(host) + "' for --target=vulkan";
    return nullptr;
  }
  t->graph.fuseAttention = req.fuseAttention;
  t->graph.quant = req.quant;
  t->graph.kPanel = 0; // K panels and row tiles are CPU cache strategies
  t->graph.rowTile = 0;
  t->graph.int4Interleave = false; // a subgroup's lanes take whole int4 blocks
  t->vulkan.gpu.bf16Activations = req.bf16;
  // Prefill block tiles within the 16 KiB of workgroup memory every Vulkan
  // device has (maxComputeSharedMemorySize): 64 tokens x 32 rows, 13.5 KiB.
  t->vulkan.gpu.blockTile = "64x32x32";
  // The prefill attention's tiles within those 16 KiB too: 32 query rows,
  // 16 keys a step, 13.6 KiB (the default 32x64 takes 39 KiB).
  t->vulkan.gpu.attnTile = "32x16x32";
  t->vulkan.gpu.maxWorkgroupBytes = 16 * 1024;
  // The decode attention's serial folds one key (chunk) a step: on NVIDIA's
  // Vulkan driver (580.159, H100) every build folding 2 or 8 a step, with or
  // without a remainder loop, gave wrong decode logits where fold-unroll=1
  // gave lavapipe's and CUDA's (bench/results/vulkan-nvidia-*-s8*.txt).
  t->vulkan.gpu.foldUnroll = 1;
  // One output row a subgroup in decode products (the kernels measured on
  // NVIDIA's Vulkan driver); laneDot (--gpu-tune=decode-rows=N) is measured
  // on CUDA only so far.
  t->vulkan.gpu.decodeRows = 0;
  if (!mlir::gemma4::applyGPUTune(req.gpuTune, t->vulkan.gpu, error))
    return nullptr;
  if (t->vulkan.gpu.mma != "auto") {
    error = "--gpu-tune: mma (tensor cores) applies to --target=cuda only";
    return nullptr;
  }
  return t;
}

} // namespace gemma4c
