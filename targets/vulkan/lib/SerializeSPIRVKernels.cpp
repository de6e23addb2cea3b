//===- SerializeSPIRVKernels.cpp - prepared kernels -> one SPIR-V binary --===//
//
// See Passes.td (gemma4-serialize-spirv-kernels).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/Vulkan/Passes.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Conversion/ArithToSPIRV/ArithToSPIRV.h"
#include "mlir/Conversion/FuncToSPIRV/FuncToSPIRV.h"
#include "mlir/Conversion/GPUToSPIRV/GPUToSPIRV.h"
#include "mlir/Conversion/IndexToSPIRV/IndexToSPIRV.h"
#include "mlir/Conversion/MathToSPIRV/MathToSPIRV.h"
#include "mlir/Conversion/MemRefToSPIRV/MemRefToSPIRV.h"
#include "mlir/Conversion/SCFToSPIRV/SCFToSPIRV.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/Dialect/SPIRV/Transforms/Passes.h"
#include "mlir/Dialect/SPIRV/Transforms/SPIRVConversion.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/SPIRV/Serialization.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4SERIALIZESPIRVKERNELS
#include "gemma4c/Target/Vulkan/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

std::string mlir::gemma4::vulkanTargetEnv(int64_t subgroupSize) {
  // SPIR-V 1.5 (Vulkan 1.2); 64-bit integers for addresses and index math,
  // 8/16-bit loads and stores (int8 weights, bf16 as i16), device
  // addresses, subgroup shuffles.
  return "#spirv.target_env<#spirv.vce<v1.5, [Shader, Int64, Int16, Int8, "
         "StorageBuffer16BitAccess, StorageBuffer8BitAccess, PhysicalStorageBufferAddresses, "
         "GroupNonUniform, GroupNonUniformShuffle], [SPV_KHR_16bit_storage, "
         "SPV_KHR_8bit_storage, SPV_KHR_physical_storage_buffer]>, api=Vulkan, "
         "#spirv.resource_limits<subgroup_size = " +
         std::to_string(subgroupSize) +
         ", max_compute_workgroup_invocations = 1024, max_compute_workgroup_size = [1024, "
         "1024, 64]>>";
}

namespace {

/// MLIR's scf.for -> spirv.mlir.loop conversion (SCFToSPIRV) hands a loop's
/// results out through Function variables that only the loop's latch (the
/// converted scf.yield) stores, and loads them after the loop's merge. A
/// loop that runs no iteration leaves them unwritten: its results are
/// reads of uninitialised variables, not its inits. Lavapipe's LLVM happens
/// to fold the undefined value into the header's phi (the init); NVIDIA's
/// compiler need not. Lane loops run no iteration on lanes past the end
/// (`for i = lb + lane * st` to ub), so every loop with results whose trip
/// count is not a known positive constant runs under `lb < ub`, its inits
/// the results otherwise (a selection both of whose branches store them).
void guardZeroTripLoops(gpu::GPUModuleOp mod) {
  SmallVector<scf::ForOp> loops;
  mod.walk([&](scf::ForOp f) {
    if (f.getNumResults() == 0)
      return;
    std::optional<APInt> n = f.getStaticTripCount();
    if (!n || n->isZero())
      loops.push_back(f);
  });
  for (scf::ForOp f : loops) {
    OpBuilder b(f);
    Location loc = f.getLoc();
    Value any = arith::CmpIOp::create(
        b, loc, f.getUnsignedCmp() ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt,
        f.getLowerBound(), f.getUpperBound());
    auto guard = scf::IfOp::create(b, loc, f.getResultTypes(), any, /*withElseRegion=*/true);
    f->replaceAllUsesWith(guard.getResults());
    b.setInsertionPointToEnd(guard.thenBlock());
    f->moveBefore(guard.thenBlock(), guard.thenBlock()->end());
    scf::YieldOp::create(b, loc, f.getResults());
    b.setInsertionPointToEnd(guard.elseBlock());
    scf::YieldOp::create(b, loc, f.getInitArgs());
  }
}

struct SerializeSPIRVKernelsPass
    : mlir::gemma4::impl::Gemma4SerializeSPIRVKernelsBase<SerializeSPIRVKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    gpu::GPUModuleOp mod;
    for (auto m : module.getOps<gpu::GPUModuleOp>())
      if (m->hasAttr("gemma4.spirv"))
        mod = m;
    if (!mod) {
      module.emitError() << "gemma4-serialize-spirv-kernels: no prepared kernels (run "
                            "gemma4-prepare-spirv-kernels first)";
      return signalPassFailure();
    }
    auto targetAttr = mod->getAttrOfType<spirv::TargetEnvAttr>(spirv::getTargetEnvAttrName());
    if (!targetAttr) {
      targetAttr = dyn_cast_or_null<spirv::TargetEnvAttr>(
          parseAttribute(mlir::gemma4::vulkanTargetEnv(), ctx));
      if (!targetAttr) {
        module.emitError() << "gemma4-serialize-spirv-kernels: bad target environment";
        return signalPassFailure();
      }
      mod->setAttr(spirv::getTargetEnvAttrName(), targetAttr);
    }

    // Per kernel: its parameter block's size and workgroup shape; the
    // parameter block's address from the push constant.
    llvm::StringMap<SmallVector<int64_t>> info;
    OpBuilder b(ctx);
    for (auto fn : mod.getOps<gpu::GPUFuncOp>()) {
      auto bytes = fn->getAttrOfType<IntegerAttr>("gemma4.param_bytes");
      std::optional<ArrayRef<int32_t>> wg = fn.getKnownBlockSize();
      if (!bytes || !wg || fn.getNumArguments() != 1) {
        fn.emitOpError() << "gemma4-serialize-spirv-kernels: kernel not prepared";
        return signalPassFailure();
      }
      ArrayRef<int32_t> w = *wg;
      // Its workgroup memory (the Workgroup-storage allocations
      // gemma4-prepare-spirv-kernels made of its workgroup buffers): the
      // runtime checks it against the device's maxComputeSharedMemorySize.
      int64_t shared = 0;
      fn.walk([&](memref::AllocOp a) {
        auto sc = dyn_cast_or_null<spirv::StorageClassAttr>(a.getType().getMemorySpace());
        if (sc && sc.getValue() == spirv::StorageClass::Workgroup && a.getType().hasStaticShape())
          shared += a.getType().getNumElements() *
                    std::max<int64_t>(1, a.getType().getElementTypeBitWidth() / 8);
      });
      info[fn.getName()] = {bytes.getInt(), w[0], w[1], w[2], shared};
      fn->setAttr(spirv::getEntryPointABIAttrName(),
                  spirv::getEntryPointABIAttr(ctx, w));
      b.setInsertionPointToStart(&fn.front());
      // The push constant: the block's address as two 32-bit words (little
      // endian, as the runtime pushes the 64-bit address).
      Location loc = fn.getLoc();
      Value lo = spirv::getPushConstantValue(fn, 2, 0, b.getI32Type(), b);
      Value hi = spirv::getPushConstantValue(fn, 2, 1, b.getI32Type(), b);
      Value pc = arith::OrIOp::create(
          b, loc, arith::ExtUIOp::create(b, loc, b.getI64Type(), lo),
          arith::ShLIOp::create(b, loc, arith::ExtUIOp::create(b, loc, b.getI64Type(), hi),
                                arith::ConstantIntOp::create(b, loc, b.getI64Type(), 32)));
      fn.getArgument(0).replaceAllUsesWith(pc);
      if (failed(fn.eraseArgument(0)))
        return signalPassFailure();
      fn->removeAttr("gemma4.param_bytes");
    }

    guardZeroTripLoops(mod);
    {
      std::unique_ptr<ConversionTarget> target = SPIRVConversionTarget::get(targetAttr);
      SPIRVConversionOptions options;
      options.use64bitIndex = true;
      SPIRVTypeConverter typeConverter(targetAttr, options);
      RewritePatternSet patterns(ctx);
      populateGPUToSPIRVPatterns(typeConverter, patterns);
      ScfToSPIRVContext scfContext;
      populateSCFToSPIRVPatterns(typeConverter, scfContext, patterns);
      arith::populateArithToSPIRVPatterns(typeConverter, patterns);
      populateMathToSPIRVPatterns(typeConverter, patterns);
      populateMemRefToSPIRVPatterns(typeConverter, patterns);
      populateFuncToSPIRVPatterns(typeConverter, patterns);
      index::populateIndexToSPIRVPatterns(typeConverter, patterns);
      if (failed(applyFullConversion(mod.getOperation(), *target, std::move(patterns))))
        return signalPassFailure();
    }
    spirv::ModuleOp spv;
    for (auto s : module.getOps<spirv::ModuleOp>())
      spv = s;
    if (!spv) {
      module.emitError() << "gemma4-serialize-spirv-kernels: gpu-to-spirv made no spirv.module";
      return signalPassFailure();
    }
    if (!spv->hasAttr(spirv::getTargetEnvAttrName()))
      spv->setAttr(spirv::getTargetEnvAttrName(), targetAttr);
    {
      OpPassManager pm(spirv::ModuleOp::getOperationName());
      pm.addPass(spirv::createSPIRVLowerABIAttributesPass());
      pm.addPass(createCanonicalizerPass());
      pm.addPass(createCSEPass());
      pm.addPass(spirv::createSPIRVUpdateVCEPass());
      if (failed(runPipeline(pm, spv)))
        return signalPassFailure();
    }
    // SPIR-V 1.5, whatever the minimum spirv-update-vce found: the entry
    // points list their push constant (1.4+), and 1.5 has the storage and
    // device address extensions in its core.
    if (auto vce = spv.getVceTriple()) {
      SmallVector<spirv::Extension> exts;
      for (spirv::Extension e : vce->getExtensions())
        if (e != spirv::Extension::SPV_KHR_physical_storage_buffer &&
            e != spirv::Extension::SPV_EXT_physical_storage_buffer &&
            e != spirv::Extension::SPV_KHR_8bit_storage &&
            e != spirv::Extension::SPV_KHR_16bit_storage &&
            e != spirv::Extension::SPV_KHR_storage_buffer_storage_class)
          exts.push_back(e);
      SmallVector<spirv::Capability> caps(vce->getCapabilities());
      spv.setVceTripleAttr(spirv::VerCapExtAttr::get(spirv::Version::V_1_5, caps, exts, ctx));
    }
    SmallVector<uint32_t> words;
    if (failed(spirv::serialize(spv, words))) {
      spv.emitError() << "gemma4-serialize-spirv-kernels: serialization failed";
      return signalPassFailure();
    }

    auto names = module->getAttrOfType<ArrayAttr>("gemma4.gpu_kernels");
    if (!names) {
      module.emitError() << "gemma4-serialize-spirv-kernels: no gemma4.gpu_kernels attribute";
      return signalPassFailure();
    }
    SmallVector<Attribute> kernels;
    for (Attribute n : names) {
      auto it = info.find(cast<StringAttr>(n).getValue());
      if (it == info.end()) {
        module.emitError() << "gemma4-serialize-spirv-kernels: kernel " << n
                           << " is not in the SPIR-V module";
        return signalPassFailure();
      }
      kernels.push_back(b.getDenseI64ArrayAttr(it->second));
    }
    module->setAttr("gemma4.spirv",
                    b.getStringAttr(StringRef(reinterpret_cast<const char *>(words.data()),
                                              words.size() * sizeof(uint32_t))));
    module->setAttr("gemma4.spirv_kernels", b.getArrayAttr(kernels));
    if (!keep)
      spv.erase();
    // The host's launches name the original kernels: they become a
    // gpu.binary (as on NVIDIA), whose object the driver does not use.
    SmallVector<gpu::GPUModuleOp> originals(module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp m : originals) {
      b.setInsertionPoint(m);
      auto obj = gpu::ObjectAttr::get(ctx, targetAttr, gpu::CompilationTarget::Binary,
                                      b.getStringAttr("gemma4.spirv"), nullptr, nullptr);
      gpu::BinaryOp::create(b, m.getLoc(), m.getName(), nullptr, ArrayRef<Attribute>{obj});
      m.erase();
    }
  }
};
} // namespace
