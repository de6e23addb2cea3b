//===- Gemma4Ops.cpp - gemma4 op verifiers and folders --------------------===//
#include "gemma4/IR/Gemma4Ops.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::gemma4;

namespace {
/// Two extents agree when equal or when either is dynamic.
bool dimsAgree(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

LogicalResult expectRank(Operation *op, StringRef what, ShapedType t,
                         int64_t rank) {
  if (t.getRank() != rank)
    return op->emitOpError() << "expects " << what << " of rank " << rank
                             << ", got rank " << t.getRank();
  return success();
}

LogicalResult expectDim(Operation *op, StringRef what, int64_t got,
                        int64_t want) {
  if (!dimsAgree(got, want))
    return op->emitOpError() << what << " is " << dimStr(got) << ", expected "
                             << dimStr(want);
  return success();
}

ShapedType shaped(Value v) { return cast<ShapedType>(v.getType()); }

/// I64Attr getters return uint64_t; attribute checks must read the signed
/// value or negative numbers slip through (and -1 compares as UINT64_MAX).
int64_t sint(IntegerAttr a) { return a.getInt(); }

/// Weights that ops compute with must hold f32, f16 or bf16 (the checkpoint
/// dtypes the lowering reads) or be quantized (#gemma4.quant); weight ops
/// themselves may name any tensor.
LogicalResult expectFloatElements(Operation *op, StringRef what,
                                  ShapedType t) {
  if (getQuant(t))
    return success();
  if (!isa<Float32Type, Float16Type, BFloat16Type>(t.getElementType()))
    return op->emitOpError() << what
                             << " must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got "
                             << t.getElementType();
  return success();
}

/// Epsilons, scales and caps: a positive, finite constant.
LogicalResult expectPositive(Operation *op, StringRef what, APFloat v) {
  if (!v.isFinite() || v.isNegative() || v.isZero())
    return op->emitOpError() << what << " must be positive and finite";
  return success();
}
} // namespace

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError() << "needs a non-empty tensor name";
  auto t = getResult().getType();
  if (!t.hasStaticShape())
    return emitOpError() << "weight shapes must be static";
  if (IntegerAttr off = getOffsetAttr(); off && sint(off) < 0)
    return emitOpError() << "offset must be non-negative, got " << sint(off);
  if (t.getEncoding() && !getQuant(t))
    return emitOpError() << "weight types carry no encoding other than #gemma4.quant";
  if (QuantAttr q = getQuant(t)) {
    unsigned width = t.getElementType().isInteger() ? t.getElementTypeBitWidth() : 0;
    if (width != q.getBits())
      return emitOpError() << "int" << q.getBits() << " quantized weight must have element type i"
                           << q.getBits() << ", got " << t.getElementType();
    if (t.getRank() < 2)
      return emitOpError() << "quantized weights must have rank >= 2 (rows x K), got rank "
                           << t.getRank();
    int64_t K = t.getShape().back();
    if (q.getGroupSize() && K % q.getGroupSize() != 0)
      return emitOpError() << "group size " << q.getGroupSize()
                           << " does not divide the input dimension " << K << " of '"
                           << getName() << "'";
    if (q.getBits() == 4 && K % ::gemma4::quant::kInt4Block != 0)
      return emitOpError() << "int4 packing needs the input dimension to be a multiple of "
                           << ::gemma4::quant::kInt4Block << ", '" << getName() << "' has " << K;
    if (!::gemma4::quant::panelValid(q.getSpec(), K))
      return emitOpError() << "K panel " << q.getPanel() << " of '" << getName()
                           << "' must divide its input dimension " << K
                           << " into interleaved int4 panels (multiples of "
                           << ::gemma4::quant::kInt4SuperBlock << ")";
    int64_t rows = K ? t.getNumElements() / K : 0;
    if (!::gemma4::quant::tileValid(q.getSpec(), rows, K, t.getRank()))
      return emitOpError() << "row tile " << q.getTile() << " of '" << getName()
                           << "' needs a 2-D interleaved int4 weight (input dimension a multiple of "
                           << ::gemma4::quant::kInt4SuperBlock << ") whose " << rows
                           << " rows it divides";
  } else if (t.getElementType().isInteger(4)) {
    return emitOpError() << "i4 weights need a #gemma4.quant encoding";
  }
  return success();
}

LogicalResult KVCacheViewOp::verify() {
  auto t = getResult().getType();
  int64_t cap = sint(getCapacityAttr()), off = sint(getOffsetAttr()),
          perCtx = sint(getOffsetPerContextAttr());
  if (cap == 0 || cap < -1)
    return emitOpError() << "capacity must be positive or -1 (context), got "
                         << cap;
  if (off < 0 || perCtx < 0)
    return emitOpError() << "offsets must be non-negative";
  // The view's leading extent is the capacity: static for a ring buffer,
  // the runtime context length (a dynamic extent) for -1.
  if (cap > 0 && t.getDimSize(0) != cap)
    return emitOpError() << "result capacity " << dimStr(t.getDimSize(0))
                         << " disagrees with capacity attribute " << cap;
  if (cap == -1 && !ShapedType::isDynamic(t.getDimSize(0)))
    return emitOpError() << "capacity -1 (context) needs a dynamic result "
                            "capacity, got "
                         << t.getDimSize(0);
  if (ShapedType::isDynamic(t.getDimSize(1)) ||
      ShapedType::isDynamic(t.getDimSize(2)))
    return emitOpError() << "kv_heads and head_dim must be static";
  int64_t elt = t.getElementTypeBitWidth() / 8;
  if (off % elt || perCtx % elt)
    return emitOpError() << "offsets must be multiples of the element size ("
                         << elt << " bytes)";
  return success();
}

LogicalResult EmbeddingLookupOp::verify() {
  auto table = shaped(getTable()), ids = shaped(getIds()),
       res = shaped(getResult());
  if (failed(expectRank(*this, "table", table, 2)) ||
      failed(expectRank(*this, "ids", ids, 1)) ||
      failed(expectRank(*this, "result", res, 2)) ||
      failed(expectFloatElements(*this, "table", table)) ||
      failed(expectPositive(*this, "scale", getScale())))
    return failure();
  if (failed(expectDim(*this, "result token dimension", res.getDimSize(0),
                       ids.getDimSize(0))) ||
      failed(expectDim(*this, "result width", res.getDimSize(1),
                       table.getDimSize(1))))
    return failure();
  return success();
}

LogicalResult RMSNormOp::verify() {
  auto in = shaped(getInput()), res = shaped(getResult());
  if (in.getRank() < 1)
    return emitOpError() << "expects an input of rank >= 1";
  if (in.getShape() != res.getShape())
    return emitOpError() << "result shape must equal the input shape";
  if (failed(expectPositive(*this, "epsilon", getEpsilon())))
    return failure();
  if (Value w = getWeight()) {
    auto wt = shaped(w);
    if (failed(expectRank(*this, "weight", wt, 1)) ||
        failed(expectDim(*this, "weight size", wt.getDimSize(0),
                         in.getShape().back())))
      return failure();
  }
  return success();
}

LogicalResult LinearOp::verify() {
  auto in = shaped(getInput()), w = shaped(getWeight()),
       res = shaped(getResult());
  if (failed(expectRank(*this, "weight", w, 2)) ||
      failed(expectFloatElements(*this, "weight", w)))
    return failure();
  if (in.getRank() != 2 || res.getRank() != 2)
    return emitOpError() << "expects rank-2 input and result";
  if (failed(expectDim(*this, "input features", in.getDimSize(1),
                       w.getDimSize(1))) ||
      failed(expectDim(*this, "result features", res.getDimSize(1),
                       w.getDimSize(0))) ||
      failed(expectDim(*this, "result token dimension", res.getDimSize(0),
                       in.getDimSize(0))))
    return failure();
  return success();
}

LogicalResult RopeOp::verify() {
  auto in = shaped(getInput());
  if (failed(expectRank(*this, "input", in, 3)))
    return failure();
  if (in.getShape() != shaped(getResult()).getShape())
    return emitOpError() << "result shape must equal the input shape";
  int64_t d = in.getDimSize(2);
  if (ShapedType::isDynamic(d) || d % 2)
    return emitOpError() << "head_dim must be static and even";
  if (getRope().getRotaryDims() > d / 2)
    return emitOpError() << "rotary_dims " << getRope().getRotaryDims()
                         << " exceeds head_dim/2 = " << d / 2;
  return success();
}

namespace {
/// Checks k/v blocks [S, kvh, d] against caches [cap, kvh, d].
LogicalResult verifyKV(Operation *op, ShapedType k, ShapedType v,
                       ShapedType kc, ShapedType vc) {
  if (failed(expectRank(op, "key", k, 3)) ||
      failed(expectRank(op, "value", v, 3)))
    return failure();
  if (k.getShape() != v.getShape())
    return op->emitOpError() << "key and value shapes differ";
  if (kc.getShape() != vc.getShape())
    return op->emitOpError() << "key and value cache shapes differ";
  if (failed(expectDim(op, "cache kv_heads", kc.getDimSize(1),
                       k.getDimSize(1))) ||
      failed(expectDim(op, "cache head_dim", kc.getDimSize(2),
                       k.getDimSize(2))))
    return failure();
  return success();
}

/// Checks q [S, heads, d] against caches for GQA.
LogicalResult verifyQuery(Operation *op, ShapedType q, ShapedType kc,
                          ShapedType res, int64_t window) {
  if (failed(expectRank(op, "query", q, 3)))
    return failure();
  if (q.getShape() != res.getShape())
    return op->emitOpError() << "result shape must equal the query shape";
  if (failed(expectDim(op, "cache head_dim", kc.getDimSize(2),
                       q.getDimSize(2))))
    return failure();
  int64_t h = q.getDimSize(1), kvh = kc.getDimSize(1);
  if (!ShapedType::isDynamic(h) && !ShapedType::isDynamic(kvh) &&
      (kvh == 0 || h % kvh))
    return op->emitOpError() << "query heads (" << h
                             << ") must be a multiple of kv heads (" << kvh
                             << ")";
  if (window < 0)
    return op->emitOpError() << "sliding_window must be >= 0";
  return success();
}
} // namespace

LogicalResult KVCacheUpdateOp::verify() {
  return verifyKV(*this, shaped(getKey()), shaped(getValue()),
                  shaped(getKeyCache()), shaped(getValueCache()));
}

LogicalResult AttentionOp::verify() {
  if (shaped(getKeyCache()).getShape() != shaped(getValueCache()).getShape())
    return emitOpError() << "key and value cache shapes differ";
  if (failed(verifyQuery(*this, shaped(getQuery()), shaped(getKeyCache()),
                         shaped(getResult()),
                         sint(getSlidingWindowAttr()))))
    return failure();
  return expectPositive(*this, "scale", getScale());
}

LogicalResult FusedAttentionOp::verify() {
  auto q = shaped(getQuery());
  if (failed(verifyQuery(*this, q, shaped(getKeyCache()), shaped(getResult()),
                         sint(getSlidingWindowAttr()))))
    return failure();
  if (shaped(getKeyCache()).getShape() != shaped(getValueCache()).getShape())
    return emitOpError() << "key and value cache shapes differ";
  bool hasK = !!getKey(), hasV = !!getValue(), hasKN = !!getKeyNorm();
  if (hasK != hasV || hasK != hasKN)
    return emitOpError()
           << "key, value and key_norm must be given together (or none, "
              "for a KV-shared layer)";
  if (hasK) {
    if (failed(verifyKV(*this, shaped(getKey()), shaped(getValue()),
                        shaped(getKeyCache()), shaped(getValueCache()))))
      return failure();
    if (failed(expectDim(*this, "key token dimension",
                         shaped(getKey()).getDimSize(0), q.getDimSize(0))))
      return failure();
    auto kn = shaped(getKeyNorm());
    if (kn.getRank() != 1 ||
        !dimsAgree(kn.getDimSize(0), q.getDimSize(2)))
      return emitOpError() << "key_norm must be [head_dim]";
  }
  auto qn = shaped(getQueryNorm());
  if (qn.getRank() != 1 || !dimsAgree(qn.getDimSize(0), q.getDimSize(2)))
    return emitOpError() << "query_norm must be [head_dim]";
  int64_t d = q.getDimSize(2);
  if (ShapedType::isDynamic(d) || d % 2)
    return emitOpError() << "head_dim must be static and even";
  if (getRope().getRotaryDims() > d / 2)
    return emitOpError() << "rotary_dims " << getRope().getRotaryDims()
                         << " exceeds head_dim/2 = " << d / 2;
  if ((getLayerType() == LayerType::sliding) !=
      (sint(getSlidingWindowAttr()) > 0))
    return emitOpError()
           << "sliding layers need sliding_window > 0, full layers 0";
  if (failed(expectPositive(*this, "scale", getScale())) ||
      failed(expectPositive(*this, "epsilon", getEpsilon())))
    return failure();
  return success();
}

LogicalResult MLPOp::verify() {
  auto in = shaped(getInput()), g = shaped(getGateWeight()),
       u = shaped(getUpWeight()), d = shaped(getDownWeight()),
       res = shaped(getResult());
  if (failed(expectRank(*this, "input", in, 2)) ||
      failed(expectRank(*this, "gate weight", g, 2)) ||
      failed(expectRank(*this, "up weight", u, 2)) ||
      failed(expectRank(*this, "down weight", d, 2)) ||
      failed(expectFloatElements(*this, "gate weight", g)) ||
      failed(expectFloatElements(*this, "up weight", u)) ||
      failed(expectFloatElements(*this, "down weight", d)))
    return failure();
  if (g.getShape() != u.getShape())
    return emitOpError() << "gate and up weights must have the same shape";
  if (failed(expectDim(*this, "gate input features", g.getDimSize(1),
                       in.getDimSize(1))) ||
      failed(expectDim(*this, "down input features", d.getDimSize(1),
                       g.getDimSize(0))) ||
      failed(expectDim(*this, "down output features", d.getDimSize(0),
                       in.getDimSize(1))))
    return failure();
  if (in.getShape() != res.getShape())
    return emitOpError() << "result shape must equal the input shape";
  return success();
}

namespace {
LogicalResult verifyRouterWeights(Operation *op, ShapedType in,
                                  ShapedType rw, ShapedType rs,
                                  ShapedType pes, int64_t topK) {
  if (failed(expectRank(op, "input", in, 2)) ||
      failed(expectRank(op, "router weight", rw, 2)) ||
      failed(expectRank(op, "router scale", rs, 1)) ||
      failed(expectRank(op, "per-expert scale", pes, 1)) ||
      failed(expectFloatElements(op, "router weight", rw)) ||
      failed(expectFloatElements(op, "router scale", rs)) ||
      failed(expectFloatElements(op, "per-expert scale", pes)))
    return failure();
  int64_t e = rw.getDimSize(0);
  if (failed(expectDim(op, "router input features", rw.getDimSize(1),
                       in.getDimSize(1))) ||
      failed(expectDim(op, "router scale size", rs.getDimSize(0),
                       in.getDimSize(1))) ||
      failed(expectDim(op, "per-expert scale size", pes.getDimSize(0), e)))
    return failure();
  if (topK < 1 || (!ShapedType::isDynamic(e) && topK > e))
    return op->emitOpError() << "top_k must be in [1, " << dimStr(e)
                             << "], got " << topK;
  return success();
}

LogicalResult verifyExpertWeights(Operation *op, ShapedType in,
                                  ShapedType gu, ShapedType down,
                                  int64_t experts) {
  if (failed(expectRank(op, "gate_up weight", gu, 3)) ||
      failed(expectRank(op, "down weight", down, 3)) ||
      failed(expectFloatElements(op, "gate_up weight", gu)) ||
      failed(expectFloatElements(op, "down weight", down)))
    return failure();
  int64_t ie = down.getDimSize(2);
  int64_t rows = ShapedType::isDynamic(ie) ? ShapedType::kDynamic : 2 * ie;
  if (failed(expectDim(op, "gate_up experts", gu.getDimSize(0), experts)) ||
      failed(expectDim(op, "down experts", down.getDimSize(0), experts)) ||
      failed(expectDim(op, "gate_up rows", gu.getDimSize(1), rows)) ||
      failed(expectDim(op, "gate_up input features", gu.getDimSize(2),
                       in.getDimSize(1))) ||
      failed(expectDim(op, "down output features", down.getDimSize(1),
                       in.getDimSize(1))))
    return failure();
  return success();
}
} // namespace

LogicalResult MoEOp::verify() {
  auto in = shaped(getRouterInput()), x2 = shaped(getExpertInput());
  if (in.getShape() != x2.getShape())
    return emitOpError() << "router and expert inputs must have one shape";
  auto rw = shaped(getRouterWeight());
  if (failed(verifyRouterWeights(*this, in, rw, shaped(getRouterScale()),
                                 shaped(getPerExpertScale()),
                                 sint(getTopKAttr()))) ||
      failed(verifyExpertWeights(*this, in, shaped(getGateUpWeight()),
                                 shaped(getDownWeight()), rw.getDimSize(0))))
    return failure();
  if (shaped(getResult()).getShape() != in.getShape())
    return emitOpError() << "result shape must equal the input shape";
  return expectPositive(*this, "epsilon", getEpsilon());
}

LogicalResult RouterOp::verify() {
  auto in = shaped(getInput());
  if (failed(verifyRouterWeights(*this, in, shaped(getRouterWeight()),
                                 shaped(getRouterScale()),
                                 shaped(getPerExpertScale()),
                                 sint(getTopKAttr()))))
    return failure();
  for (Value r : {getExperts(), getWeights()}) {
    auto t = shaped(r);
    if (t.getRank() != 2 || !dimsAgree(t.getDimSize(0), in.getDimSize(0)) ||
        !dimsAgree(t.getDimSize(1), sint(getTopKAttr())))
      return emitOpError() << "results must be [tokens, top_k]";
  }
  return expectPositive(*this, "epsilon", getEpsilon());
}

LogicalResult ExpertFFNOp::verify() {
  auto in = shaped(getInput()), ex = shaped(getExperts()),
       w = shaped(getWeights());
  if (failed(expectRank(*this, "input", in, 2)) ||
      failed(expectRank(*this, "experts", ex, 2)))
    return failure();
  if (ex.getShape() != w.getShape())
    return emitOpError() << "experts and weights must have one shape";
  if (failed(expectDim(*this, "experts token dimension", ex.getDimSize(0),
                       in.getDimSize(0))))
    return failure();
  auto gu = shaped(getGateUpWeight());
  if (failed(verifyExpertWeights(*this, in, gu, shaped(getDownWeight()),
                                 gu.getDimSize(0))))
    return failure();
  int64_t k = ex.getDimSize(1), e = gu.getDimSize(0);
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(e) && k > e)
    return emitOpError() << "selects " << k << " experts per token from "
                         << e << " experts";
  if (shaped(getResult()).getShape() != in.getShape())
    return emitOpError() << "result shape must equal the input shape";
  return success();
}

LogicalResult PerLayerInputsOp::verify() {
  auto ids = shaped(getIds()), h = shaped(getHidden()),
       table = shaped(getTable()), pw = shaped(getProjectionWeight()),
       nw = shaped(getNormWeight()), res = shaped(getResult());
  if (failed(expectRank(*this, "ids", ids, 1)) ||
      failed(expectRank(*this, "hidden", h, 2)) ||
      failed(expectRank(*this, "table", table, 2)) ||
      failed(expectRank(*this, "projection weight", pw, 2)) ||
      failed(expectRank(*this, "norm weight", nw, 1)) ||
      failed(expectRank(*this, "result", res, 3)) ||
      failed(expectFloatElements(*this, "table", table)) ||
      failed(expectFloatElements(*this, "projection weight", pw)))
    return failure();
  int64_t l = res.getDimSize(1), p = res.getDimSize(2);
  if (ShapedType::isDynamic(l) || ShapedType::isDynamic(p))
    return emitOpError() << "layers and width must be static";
  if (failed(expectDim(*this, "result token dimension", res.getDimSize(0),
                       ids.getDimSize(0))) ||
      failed(expectDim(*this, "hidden token dimension", h.getDimSize(0),
                       ids.getDimSize(0))) ||
      failed(expectDim(*this, "table width", table.getDimSize(1), l * p)) ||
      failed(expectDim(*this, "projection rows", pw.getDimSize(0), l * p)) ||
      failed(expectDim(*this, "projection input features", pw.getDimSize(1),
                       h.getDimSize(1))) ||
      failed(expectDim(*this, "norm weight size", nw.getDimSize(0), p)))
    return failure();
  if (failed(expectPositive(*this, "table_scale", getTableScale())) ||
      failed(expectPositive(*this, "projection_scale", getProjectionScale())) ||
      failed(expectPositive(*this, "epsilon", getEpsilon())))
    return failure();
  return success();
}

LogicalResult OutputRowsOp::verify() {
  auto in = shaped(getInput()), res = shaped(getResult());
  if (failed(expectRank(*this, "input", in, 2)))
    return failure();
  if (!ShapedType::isDynamic(in.getDimSize(0)))
    return emitOpError() << "needs a dynamic token dimension (a prefill entry point), got "
                         << in;
  if (in != res)
    return emitOpError() << "result type " << res << " differs from the input's " << in;
  return success();
}

LogicalResult LayerSliceOp::verify() {
  auto in = shaped(getInput()), res = shaped(getResult());
  if (failed(expectRank(*this, "input", in, 3)) ||
      failed(expectRank(*this, "result", res, 2)))
    return failure();
  int64_t l = in.getDimSize(1), layer = sint(getLayerAttr());
  if (layer < 0 || (!ShapedType::isDynamic(l) && layer >= l))
    return emitOpError() << "layer " << layer << " out of range [0, "
                         << dimStr(l) << ")";
  if (failed(expectDim(*this, "result token dimension", res.getDimSize(0),
                       in.getDimSize(0))) ||
      failed(expectDim(*this, "result width", res.getDimSize(1),
                       in.getDimSize(2))))
    return failure();
  return success();
}

LogicalResult ScaleOp::verify() {
  if (getInput().getType() != getResult().getType())
    return emitOpError() << "result type must equal the input type";
  if (!getFactor().isFinite())
    return emitOpError() << "factor must be finite";
  if (Value s = getScalar()) {
    auto t = shaped(s);
    if (!t.hasStaticShape() || t.getNumElements() != 1)
      return emitOpError() << "scalar operand must hold exactly one element";
  }
  return success();
}

OpFoldResult ScaleOp::fold(FoldAdaptor) {
  if (!getScalar() && getFactor().convertToFloat() == 1.0f)
    return getInput();
  return {};
}

LogicalResult ReshapeOp::verify() {
  auto in = shaped(getInput()), res = shaped(getResult());
  if (in.getRank() < 1 || res.getRank() < 1)
    return emitOpError() << "expects ranked operands of rank >= 1";
  if (!dimsAgree(in.getDimSize(0), res.getDimSize(0)))
    return emitOpError() << "leading (token) dimension must be preserved";
  auto tail = [](ShapedType t) -> int64_t {
    int64_t n = 1;
    for (int64_t d : t.getShape().drop_front()) {
      if (ShapedType::isDynamic(d))
        return ShapedType::kDynamic;
      n *= d;
    }
    return n;
  };
  int64_t a = tail(in), b = tail(res);
  if (ShapedType::isDynamic(a) || ShapedType::isDynamic(b))
    return emitOpError() << "only the leading dimension may be dynamic";
  if (a != b)
    return emitOpError() << "element count per token differs: " << a
                         << " vs " << b;
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  if (auto prev = getInput().getDefiningOp<ReshapeOp>())
    if (prev.getInput().getType() == getResult().getType())
      return prev.getInput();
  return {};
}

LogicalResult SoftcapOp::verify() {
  return expectPositive(*this, "cap", getCap());
}

#define GET_OP_CLASSES
#include "gemma4/IR/Gemma4Ops.cpp.inc"

LogicalResult BatchIdsOp::verify() {
  auto in = shaped(getPacked()), res = shaped(getResult());
  if (failed(expectRank(*this, "packed ids", in, 1)) ||
      failed(expectRank(*this, "result", res, 1)))
    return failure();
  if (!in.hasStaticShape() || !res.hasStaticShape() || res.getDimSize(0) < 1 ||
      in.getDimSize(0) != 3 * res.getDimSize(0))
    return emitOpError() << "packed ids must hold 3 * B int32 for B >= 1 tokens, got "
                         << dimStr(in.getDimSize(0)) << " for " << dimStr(res.getDimSize(0));
  return success();
}

LogicalResult BatchSequenceOp::verify() {
  auto in = shaped(getPacked());
  if (failed(expectRank(*this, "packed ids", in, 1)))
    return failure();
  if (!in.hasStaticShape() || in.getDimSize(0) % 3 != 0 || in.getDimSize(0) == 0)
    return emitOpError() << "packed ids must hold 3 * B int32, got " << dimStr(in.getDimSize(0));
  int64_t B = in.getDimSize(0) / 3, row = sint(getRowAttr());
  if (row < 0 || row >= B)
    return emitOpError() << "row " << row << " out of range [0, " << B << ")";
  if (sint(getKvBytesFixedAttr()) < 0 || sint(getKvBytesPerContextAttr()) < 0)
    return emitOpError() << "KV byte counts must be non-negative";
  return success();
}

LogicalResult TakeRowOp::verify() {
  auto in = shaped(getInput()), res = shaped(getResult());
  if (in.getRank() < 1 || in.getRank() != res.getRank())
    return emitOpError() << "input and result must have the same rank >= 1";
  if (ShapedType::isDynamic(in.getDimSize(0)))
    return emitOpError() << "needs a static token dimension (a batched decode entry), got " << in;
  int64_t row = sint(getRowAttr());
  if (row < 0 || row >= in.getDimSize(0))
    return emitOpError() << "row " << row << " out of range [0, " << in.getDimSize(0) << ")";
  if (res.getDimSize(0) != 1 || res.getShape().drop_front() != in.getShape().drop_front())
    return emitOpError() << "result type " << res << " is not one row of " << in;
  return success();
}

LogicalResult StackRowsOp::verify() {
  auto res = shaped(getResult());
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  if (res.getRank() < 1 || res.getDimSize(0) != (int64_t)getInputs().size())
    return emitOpError() << "result token dimension must be the input count "
                         << getInputs().size() << ", got " << res;
  for (Value v : getInputs()) {
    auto t = shaped(v);
    if (t.getRank() != res.getRank() || t.getDimSize(0) != 1 ||
        t.getShape().drop_front() != res.getShape().drop_front())
      return emitOpError() << "input " << t << " is not one row of " << res;
  }
  return success();
}
