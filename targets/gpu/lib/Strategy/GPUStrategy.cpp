//===- GPUStrategy.cpp - the "gpu" lowering strategy's registration -------===//
//
// Registers the GPU's LoweringStrategy as "gpu" (convert-gemma4-to-loops
// strategy=gpu, which buildGPUMappingPipeline uses). Its one option is
// fold-unroll and key-chunk (Attention.cpp); the cpu strategy's (int-dot, ...) are ignored.
//
//===----------------------------------------------------------------------===//
#include "GPUStrategy.h"

#include "gemma4c/Target/GPU/Passes.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;
using namespace mlir::gemma4;

void mlir::gemma4::registerGPULoweringStrategy() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerLoweringStrategy("gpu", [](const StrategyOptions &opts, std::string &error) -> std::unique_ptr<LoweringStrategy> {
      auto s = std::make_unique<gpu::GPUStrategy>();
      if (auto it = opts.find("fold-unroll"); it != opts.end()) {
        s->foldUnroll = std::atoll(it->second.c_str());
        if (s->foldUnroll < 1 || s->foldUnroll > 64) {
          error = "fold-unroll must be 1 to 64, got " + it->second;
          return nullptr;
        }
      }
      if (auto it = opts.find("key-chunk"); it != opts.end()) {
        s->keyChunk = std::atoll(it->second.c_str());
        if (s->keyChunk < 8 || s->keyChunk > 1024 || s->keyChunk % 8 != 0) {
          error = "key-chunk must be a multiple of 8 from 8 to 1024, got " + it->second;
          return nullptr;
        }
      }
      return s;
    });
  });
}
