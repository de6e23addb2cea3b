//===- ObjectEmitter.cpp - LLVM dialect -> optimised LLVM IR -> object ----===//
#include "gemma4c/Target/CPU/ObjectEmitter.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/MCSubtargetInfo.h"
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

// Boards and architecture levels, by the LLVM CPU they are. The CPU names
// imply their features (Cortex-A76 and A78AE: ARMv8.2-A with NEON, dotprod,
// fp16, RCpc); armv8.2-a is the generic scheduling model with those features.
static const CPUPreset kPresets[] = {
    {"rpi5", "aarch64", "cortex-a76", "", "Raspberry Pi 5 (Cortex-A76)"},
    {"jetson-orin", "aarch64", "cortex-a78ae", "", "NVIDIA Jetson Orin CPU (Cortex-A78AE)"},
    {"armv8.2-a", "aarch64", "generic", "+v8.2a,+neon,+fp-armv8,+dotprod,+fullfp16",
     "any ARMv8.2-A core with dotprod and fp16 (generic tuning)"},
};

ArrayRef<CPUPreset> cpuPresets() { return kPresets; }

static StringRef archName(const Triple &t) { return Triple::getArchTypeName(t.getArch()); }

static const CPUPreset *findPreset(const std::string &name) {
  for (const CPUPreset &p : kPresets)
    if (name == p.name)
      return &p;
  return nullptr;
}

std::string resolvedTriple(const CPUTarget &t) {
  if (!t.triple.empty())
    return Triple::normalize(t.triple);
  Triple host(Triple::normalize(sys::getDefaultTargetTriple()));
  if (const CPUPreset *p = findPreset(t.cpu))
    if (archName(host) != p->arch)
      return Triple::normalize(std::string(p->arch) + "-linux-gnu");
  return host.str();
}

static bool isHost(const CPUTarget &t) {
  return Triple(resolvedTriple(t)) == Triple(Triple::normalize(sys::getDefaultTargetTriple()));
}

std::string resolvedCPU(const CPUTarget &t) {
  if (const CPUPreset *p = findPreset(t.cpu))
    return p->cpu;
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

std::string resolvedFeatures(const CPUTarget &t) {
  if (!t.features.empty())
    return t.features;
  if (const CPUPreset *p = findPreset(t.cpu))
    return p->features;
  if (isHost(t) && (t.cpu.empty() || t.cpu == "native"))
    return hostFeatures();
  return "";
}

bool validateCPU(const CPUTarget &t, std::string &error) {
  initTargets();
  Triple triple(resolvedTriple(t));
  if (const CPUPreset *p = findPreset(t.cpu)) {
    if (archName(triple) != p->arch) {
      error = "--cpu=" + t.cpu + " is an " + p->arch + " preset; it does not apply to target '" +
              triple.str() + "' (use --target=" + p->arch + "-linux-gnu)";
      return false;
    }
    return true;
  }
  std::string cpu = resolvedCPU(t);
  std::string lookupErr;
  const Target *tgt = TargetRegistry::lookupTarget(triple, lookupErr);
  if (!tgt) {
    error = "unsupported target '" + triple.str() + "': " + lookupErr;
    return false;
  }
  std::unique_ptr<MCSubtargetInfo> sti(tgt->createMCSubtargetInfo(triple, "", ""));
  if (!sti || !sti->isCPUStringValid(cpu)) {
    std::string expected = "native";
    for (const CPUPreset &p : kPresets)
      if (archName(triple) == p.arch)
        expected += std::string(", ") + p.name;
    error = "unknown --cpu '" + cpu + "' for target '" + triple.str() + "' (expected " + expected +
            (expected == "native" ? " or" : ", or") + " an LLVM CPU name; see gemma4c targets)";
    return false;
  }
  return true;
}

/// The subtarget `target` resolves to (null if the target is unknown).
static std::unique_ptr<MCSubtargetInfo> subtargetOf(const CPUTarget &target) {
  initTargets();
  Triple triple(resolvedTriple(target));
  std::string err;
  const Target *tgt = TargetRegistry::lookupTarget(triple, err);
  if (!tgt)
    return nullptr;
  std::string cpu = resolvedCPU(target), features = target.features;
  if (features.empty() && isHost(target) && (target.cpu.empty() || target.cpu == "native"))
    features = hostFeatures();
  return std::unique_ptr<MCSubtargetInfo>(tgt->createMCSubtargetInfo(triple, cpu, features));
}

bool targetHasFeatures(const CPUTarget &target, ArrayRef<const char *> features) {
  std::unique_ptr<MCSubtargetInfo> sti = subtargetOf(target);
  if (!sti)
    return false;
  auto known = sti->getAllProcessorFeatures();
  for (const char *f : features) {
    // checkFeatures aborts on a name the target does not know (x86 names
    // asked of AArch64): such a feature is simply absent.
    bool isKnown = llvm::any_of(known, [&](const SubtargetFeatureKV &kv) {
      return StringRef(kv.Key) == f;
    });
    if (!isKnown || !sti->checkFeatures(std::string("+") + f))
      return false;
  }
  return true;
}

/// Which of `names` code generated for `target` may use, when it is an
/// `arch` target; empty otherwise.
static std::vector<std::string> usedFeatures(const CPUTarget &target, Triple::ArchType arch,
                                             ArrayRef<const char *> names) {
  std::vector<std::string> out;
  if (Triple(resolvedTriple(target)).getArch() != arch)
    return out;
  std::unique_ptr<MCSubtargetInfo> sti = subtargetOf(target);
  if (!sti)
    return out;
  for (const char *f : names)
    if (sti->checkFeatures(std::string("+") + f))
      out.push_back(f);
  return out;
}

std::vector<std::string> requiredX86Features(const CPUTarget &target) {
  // The names __builtin_cpu_supports knows, checked by the runtime.
  return usedFeatures(target, Triple::x86_64,
                      {"sse4.2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512bw",
                       "avx512vl", "avx512dq", "avx512bf16", "avx512vnni", "avx512fp16"});
}

std::vector<std::string> requiredAArch64Features(const CPUTarget &target) {
  // The names the runtime maps to HWCAP bits (checkCpuFeatures).
  return usedFeatures(target, Triple::aarch64, {"dotprod", "fullfp16"});
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
  if (!validateCPU(target, error))
    return false;
  std::string cpu = resolvedCPU(target);
  std::string features = resolvedFeatures(target);
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
