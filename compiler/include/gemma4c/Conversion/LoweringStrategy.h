//===- LoweringStrategy.h - how a target runs the ops' loops ----*- C++ -*-===//
//
// convert-gemma4-to-loops is split in two. The LoopEmitter (LoopEmitter.h,
// compiler/lib/Conversion) knows what every gemma4 op computes and emits it
// as loops; where the way the loops run differs by target (the matmul's
// rows, tiles and dot kernels, the MLP's gate/up, the decode attention's
// split), it calls the LoweringStrategy the pass was given. Each target
// implements one in its own folder (targets/cpu/lib/Strategy: rows,
// integer dots, threads; targets/gpu/lib/Strategy: what a GPU block and its
// subgroups run) and registers it by name; the pass option `strategy=`
// picks one. compiler/ never links against a target: the tools call each
// target's registration function at start-up, as they do for pipelines.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_CONVERSION_LOWERINGSTRATEGY_H
#define GEMMA4C_CONVERSION_LOWERINGSTRATEGY_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Value.h"
#include "mlir/IR/ValueRange.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlir::gemma4 {

class LoopEmitter;
struct QuantView;
struct XRow;

/// Computes 16 activations of row `pre` from element k: a producer (the
/// MLP's activation) that a strategy may fuse into the loop that prepares
/// the activations for a weight (it also stores them to the buffer).
using ActSource = std::function<Value(ValueRange pre, Value k)>;

/// One attention's operands, as buffers: query [S, nh, D] (normalised and
/// rotated), KV caches [capacity, kvh, D], out [S, nh, D]; `pos` the first
/// query's position, `group` query heads per KV head.
struct AttentionArgs {
  Value q, kc, vc, out, pos;
  int64_t nh = 0, D = 0, group = 1, window = 0;
  float scale = 1.0f;
};

/// The MLP's first half: gbuf[s, i] = LoopEmitter::geluGate(W_g x_s . , W_u x_s .)
/// for every token s < S and row i < I of the [I, H] gate and up weights.
/// The down projection (wd, [H, I]) follows as LoweringStrategy::matmul of
/// gbuf; a strategy may prepare gbuf's activations for it (prepareActs).
struct MLPArgs {
  Value x, wg, wu, wd, gbuf;
  int64_t I = 0, H = 0;
};

/// How one target runs the loops whose execution differs by target. One
/// object lowers a whole module, one function and one op at a time.
class LoweringStrategy {
public:
  virtual ~LoweringStrategy();
  /// The name it was registered under.
  virtual llvm::StringRef name() const = 0;

  // ---- threads -------------------------------------------------------------
  /// The elements of elementwise work (a norm row's, a copy's) worth one
  /// more thread: the LoopEmitter sets a parallel loop's gemma4.grain
  /// (kGrainAttr) from it. <= 1: no grains (targets without a thread pool).
  virtual int64_t elementGrain() const { return 1; }

  /// Whether the LoopEmitter folds elementwise ops into the loops of the op
  /// that produces their input (Fusion.cpp): a norm's residual add, the
  /// scale after it and the norm of the sum; the GELU gating of a matmul's
  /// rows (then matmul applies LoopEmitter::matmulEpilogue to each output).
  /// Each folded op is a kernel launch a GPU saves. Default false: the
  /// CPU's loops are those of the ops one by one.
  virtual bool fusesElementwise() const { return false; }

  // ---- dot products --------------------------------------------------------
  /// Called before each op is lowered: per-op state (prepared activations)
  /// is stale once the op that wrote them has run.
  virtual void beginOp(LoopEmitter &) {}
  /// Prepares activation buffer x (last dim K) for the dot products of
  /// quantized weight qv that follow (e.g. the CPU's int8 blocks). False:
  /// the LoopEmitter prepares it for its f32 dot products (interleaved int4
  /// weights read permuted activations). With `src`, x is first computed by
  /// it (only when quantizesActs).
  virtual bool prepareActs(LoopEmitter &, Value x, const QuantView &qv, int64_t K,
                           const ActSource &src) {
    return false;
  }
  /// Whether prepareActs(x, w, K) prepares x its own way.
  virtual bool quantizesActs(LoopEmitter &, Value w, int64_t K) { return false; }
  /// sum_k x_t[k] * W[wPres[r].., k] for every weight row r and activation
  /// row t (result r * T + t). Every dot product an op computes goes
  /// through here (LoopEmitter::dotRows). Default: LoopEmitter::dotF32.
  virtual llvm::SmallVector<Value> dotTile(LoopEmitter &e, Value w,
                                           llvm::ArrayRef<llvm::SmallVector<Value>> wPres,
                                           int64_t K, llvm::ArrayRef<XRow> xs);

  // ---- matmul and MLP ------------------------------------------------------
  /// out[s, n] = sum_k x[s, k] * W[n, k] (x: [S, K], W: [N, K], out:
  /// [S, N]; S = LoopEmitter::tokens, 1 when the function decodes).
  virtual void matmul(LoopEmitter &e, Value x, Value w, Value out, int64_t N, int64_t K) = 0;
  /// The MLP's gate and up products and their activation (MLPArgs).
  virtual void mlpGateUp(LoopEmitter &e, const MLPArgs &m) = 0;

  // ---- attention -----------------------------------------------------------
  /// Decode attention (one query token; LoopEmitter::canAttendDecode).
  virtual void attendDecode(LoopEmitter &e, const AttentionArgs &a) = 0;
  /// Writes query row iv = {s, h}, normalised and rotated, to dst[at..., :].
  using QueryRowFn = std::function<void(ValueRange iv, Value dst, ValueRange at)>;
  /// Decode attention whose query rows are made by `queryRow` (QK-norm and
  /// RoPE of a fused attention) and stored in a.q. Default: every row into
  /// a.q (one parallel iteration each), then attendDecode. A strategy may
  /// make them where it attends instead (the GPU: in each chunk's kernel,
  /// one launch fewer per layer).
  virtual void attendDecodeFused(LoopEmitter &e, const AttentionArgs &a, QueryRowFn queryRow);
  /// Prefill attention: every (token, head) query row, after `prologue`
  /// (iv = {s, h}: the query row's norm and RoPE) when given. Default: one
  /// parallel iteration per row, LoopEmitter::attendRow.
  virtual void attendPrefill(LoopEmitter &e, const AttentionArgs &a,
                             std::function<void(ValueRange iv)> prologue);
};

/// A strategy's tunables, as convert-gemma4-to-loops's options spell them
/// ("int-dot" -> "x86-vnni"): each strategy reads those it documents and
/// ignores the others.
using StrategyOptions = llvm::StringMap<std::string>;
/// Makes a strategy; null with a one-line `error` for bad options.
using StrategyFactory =
    std::function<std::unique_ptr<LoweringStrategy>(const StrategyOptions &, std::string &error)>;

/// Adds the dialects a strategy's loops use beyond convert-gemma4-to-loops's
/// own (the pass loads them: a gpu strategy's barriers, NVVM's mma).
using StrategyDialects = std::function<void(DialectRegistry &)>;

/// Registers (or replaces) the strategy `name` (a target's registration
/// function calls it; safe to call more than once).
void registerLoweringStrategy(llvm::StringRef name, StrategyFactory factory,
                              StrategyDialects dialects = {});
/// Adds the dialects of strategy `name` (none when it is not registered).
void getLoweringStrategyDialects(llvm::StringRef name, DialectRegistry &registry);
/// The strategy `name` made with `opts`; null with a one-line `error`.
std::unique_ptr<LoweringStrategy> createLoweringStrategy(llvm::StringRef name,
                                                         const StrategyOptions &opts,
                                                         std::string &error);
/// The registered names, sorted.
std::vector<std::string> registeredLoweringStrategies();

} // namespace mlir::gemma4

#endif
