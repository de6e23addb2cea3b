//===- CPUStrategy.cpp - the "cpu" lowering strategy's options ------------===//
//
// Registers the CPU's LoweringStrategy as "cpu" (convert-gemma4-to-loops
// strategy=cpu, the default) and reads its options, which the pass spells
// int-dot, weight-prefetch, decode-row-tile and accumulators
// (targets/cpu/lib/Backend.cpp chooses them for the target CPU).
//
//===----------------------------------------------------------------------===//
#include "CPUStrategy.h"

#include "gemma4c/Target/CPU/Passes.h"

#include "llvm/ADT/StringExtras.h"

#include <mutex>

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::cpu;

namespace {

std::unique_ptr<LoweringStrategy> makeCPUStrategy(const StrategyOptions &opts, std::string &error) {
  CPUStrategy::Options o;
  auto text = [&](llvm::StringRef key, llvm::StringRef dflt) {
    auto it = opts.find(key);
    return it == opts.end() ? dflt.str() : it->second;
  };
  auto integer = [&](llvm::StringRef key, int64_t dflt, int64_t &v) {
    std::string t = text(key, std::to_string(dflt));
    if (!llvm::to_integer(t, v)) {
      error = key.str() + " must be an integer, got '" + t + "'";
      return false;
    }
    return true;
  };
  std::string intDot = text("int-dot", "none");
  if (intDot == "none")
    o.intDot = CPUStrategy::IntDot::None;
  else if (intDot == "x86-vnni")
    o.intDot = CPUStrategy::IntDot::X86Vnni;
  else if (intDot == "x86-vnni-512")
    o.intDot = CPUStrategy::IntDot::X86Vnni512;
  else if (intDot == "arm-dotprod")
    o.intDot = CPUStrategy::IntDot::ArmDotprod;
  else {
    error = "unknown int-dot '" + intDot + "' (expected none, x86-vnni, x86-vnni-512 or arm-dotprod)";
    return nullptr;
  }
  std::string bf16Dot = text("bf16-dot", "none");
  if (bf16Dot != "none" && bf16Dot != "x86-avx512bf16") {
    error = "unknown bf16-dot '" + bf16Dot + "' (expected none or x86-avx512bf16)";
    return nullptr;
  }
  o.bf16Dot = bf16Dot == "x86-avx512bf16";
  if (!integer("accumulators", 4, o.accumulators) || !integer("decode-row-tile", 4, o.decodeRowTile) ||
      !integer("weight-prefetch", 0, o.weightPrefetch))
    return nullptr;
  if (o.accumulators < 1 || o.accumulators > 16) {
    error = "accumulators must be in 1..16, got " + std::to_string(o.accumulators);
    return nullptr;
  }
  if (o.decodeRowTile < 1 || o.decodeRowTile > 16) {
    error = "decode-row-tile must be in 1..16, got " + std::to_string(o.decodeRowTile);
    return nullptr;
  }
  if (o.weightPrefetch < 0) {
    error = "weight-prefetch must be >= 0, got " + std::to_string(o.weightPrefetch);
    return nullptr;
  }
  return std::make_unique<CPUStrategy>(o);
}

} // namespace

void mlir::gemma4::registerCPULoweringStrategy() {
  static std::once_flag once;
  std::call_once(once, [] { registerLoweringStrategy("cpu", makeCPUStrategy); });
}
