//===- ObjectEmitter.cpp - LLVM dialect -> optimised LLVM IR -> object ----===//
#include "gemma4c/Target/CPU/ObjectEmitter.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

using namespace llvm;

namespace gemma4c {

static void initTargets() {
  static bool done = [] {
    InitializeAllTargetInfos();
    InitializeAllTargets();
    InitializeAllTargetMCs();
    InitializeAllAsmPrinters();
    InitializeAllAsmParsers();
    return true;
  }();
  (void)done;
}

bool isSupportedCPUTriple(const llvm::Triple &t) {
  return (t.getArch() == Triple::x86_64 || t.getArch() == Triple::aarch64) && t.isOSLinux();
}

static bool isHost(const CPUTarget &t) {
  return t.triple.empty() ||
         Triple(Triple::normalize(t.triple)) == Triple(sys::getDefaultTargetTriple());
}

std::string resolvedTriple(const CPUTarget &t) {
  return t.triple.empty() ? Triple::normalize(sys::getDefaultTargetTriple())
                          : Triple::normalize(t.triple);
}

std::string resolvedCPU(const CPUTarget &t) {
  if (!t.cpu.empty() && t.cpu != "native")
    return t.cpu;
  if (isHost(t))
    return sys::getHostCPUName().str();
  return "generic";
}

static std::string hostFeatures() {
  SubtargetFeatures f;
  for (auto &kv : sys::getHostCPUFeatures())
    f.AddFeature(kv.getKey(), kv.getValue());
  return f.getString();
}

bool emitCPU(mlir::ModuleOp module, const CPUTarget &target, EmitKind kind,
             const std::string &path, std::string &error) {
  initTargets();
  mlir::registerBuiltinDialectTranslation(*module.getContext());
  mlir::registerLLVMDialectTranslation(*module.getContext());

  std::string tripleStr = resolvedTriple(target);
  Triple triple(tripleStr);
  if (!isSupportedCPUTriple(triple)) {
    error = "unsupported target '" + tripleStr + "' (supported: x86_64-linux-gnu, aarch64-linux-gnu; see gemma4c targets)";
    return false;
  }
  std::string lookupErr;
  const Target *tgt = TargetRegistry::lookupTarget(triple, lookupErr);
  if (!tgt) {
    error = "unsupported target '" + tripleStr + "': " + lookupErr;
    return false;
  }
  std::string cpu = resolvedCPU(target);
  std::string features = target.features;
  if (features.empty() && isHost(target) && (target.cpu.empty() || target.cpu == "native"))
    features = hostFeatures();
  TargetOptions topts;
  std::unique_ptr<TargetMachine> tm(tgt->createTargetMachine(
      triple, cpu, features, topts, Reloc::PIC_, std::nullopt,
      target.optLevel >= 2 ? CodeGenOptLevel::Aggressive : CodeGenOptLevel::Default));
  if (!tm) {
    error = "cannot create a target machine for '" + tripleStr + "' cpu '" + cpu + "'";
    return false;
  }

  LLVMContext llctx;
  std::unique_ptr<Module> llm = mlir::translateModuleToLLVMIR(module, llctx, "gemma4_model");
  if (!llm) {
    error = "translation to LLVM IR failed";
    return false;
  }
  llm->setTargetTriple(triple);
  llm->setDataLayout(tm->createDataLayout());
  for (Function &f : *llm) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", cpu);
    if (!features.empty())
      f.addFnAttr("target-features", features);
  }

  if (target.optLevel > 0) {
    LoopAnalysisManager lam;
    FunctionAnalysisManager fam;
    CGSCCAnalysisManager cgam;
    ModuleAnalysisManager mam;
    PipelineTuningOptions pto;
    pto.LoopVectorization = true;
    pto.SLPVectorization = true;
    PassBuilder pb(tm.get(), pto);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    OptimizationLevel lvl = target.optLevel >= 3   ? OptimizationLevel::O3
                            : target.optLevel == 2 ? OptimizationLevel::O2
                                                   : OptimizationLevel::O1;
    ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(lvl);
    mpm.run(*llm, mam);
  }

  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path + "': " + ec.message();
    return false;
  }
  if (kind == EmitKind::LLVMIR) {
    llm->print(os, nullptr);
    return true;
  }
  legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr,
                              kind == EmitKind::Object ? CodeGenFileType::ObjectFile
                                                       : CodeGenFileType::AssemblyFile)) {
    error = "the target cannot emit this file type";
    return false;
  }
  pm.run(*llm);
  os.flush();
  return true;
}

} // namespace gemma4c
