//===- LoweringStrategy.cpp - strategy defaults and the registry ----------===//
#include "gemma4c/Conversion/LoweringStrategy.h"
#include "gemma4c/Conversion/LoopEmitter.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <map>
#include <mutex>

using namespace mlir;
using namespace mlir::gemma4;

LoweringStrategy::~LoweringStrategy() = default;

SmallVector<Value> LoweringStrategy::dotTile(LoopEmitter &e, Value w, ArrayRef<SmallVector<Value>> wPres,
                                             int64_t K, ArrayRef<XRow> xs) {
  return e.dotF32(w, wPres, K, xs);
}

void LoweringStrategy::attendDecodeFused(LoopEmitter &e, const AttentionArgs &a,
                                         QueryRowFn queryRow) {
  e.parallel({e.tokens, e.c(a.nh)}, [&](ValueRange iv) { queryRow(iv, a.q, iv); },
             e.rowGrain(a.D));
  attendDecode(e, a);
}

void LoweringStrategy::attendPrefill(LoopEmitter &e, const AttentionArgs &a,
                                     std::function<void(ValueRange)> prologue) {
  e.parallel({e.tokens, e.c(a.nh)}, [&](ValueRange iv) {
    if (prologue)
      prologue(iv);
    e.attendRow(a, iv[0], iv[1]);
  });
}

namespace {
struct Registry {
  std::mutex mutex;
  std::map<std::string, StrategyFactory, std::less<>> factories;
  std::map<std::string, StrategyDialects, std::less<>> dialects;
};
Registry &registry() {
  static Registry r;
  return r;
}
} // namespace

void mlir::gemma4::registerLoweringStrategy(llvm::StringRef name, StrategyFactory factory,
                                            StrategyDialects dialects) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.factories[name.str()] = std::move(factory);
  r.dialects[name.str()] = std::move(dialects);
}

void mlir::gemma4::getLoweringStrategyDialects(llvm::StringRef name, DialectRegistry &registry) {
  StrategyDialects add;
  {
    Registry &r = ::registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    if (auto it = r.dialects.find(name); it != r.dialects.end())
      add = it->second;
  }
  if (add)
    add(registry);
}

std::unique_ptr<LoweringStrategy> mlir::gemma4::createLoweringStrategy(llvm::StringRef name,
                                                                       const StrategyOptions &opts,
                                                                       std::string &error) {
  StrategyFactory factory;
  {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.factories.find(name);
    if (it != r.factories.end())
      factory = it->second;
  }
  if (!factory) {
    std::vector<std::string> names = registeredLoweringStrategies();
    error = "no lowering strategy '" + name.str() + "' (registered: " +
            (names.empty() ? std::string("none") : llvm::join(names, ", ")) + ")";
    return nullptr;
  }
  return factory(opts, error);
}

std::vector<std::string> mlir::gemma4::registeredLoweringStrategies() {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (auto &[name, f] : r.factories)
    names.push_back(name);
  return names;
}
