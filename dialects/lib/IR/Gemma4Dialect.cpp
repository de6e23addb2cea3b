//===- Gemma4Dialect.cpp - gemma4 dialect registration --------------------===//
#include "gemma4/IR/Gemma4Dialect.h"
#include "gemma4/IR/Gemma4Ops.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::gemma4;

#include "gemma4/IR/Gemma4Dialect.cpp.inc"
#include "gemma4/IR/Gemma4Enums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "gemma4/IR/Gemma4Attrs.cpp.inc"

void Gemma4Dialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "gemma4/IR/Gemma4Ops.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "gemma4/IR/Gemma4Attrs.cpp.inc"
      >();
}

LogicalResult RopeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               FloatAttr theta, int64_t rotaryDims) {
  // Written so that NaN fails too; an infinite base would zero every
  // frequency but the first.
  if (!theta || !std::isfinite(theta.getValueAsDouble()) ||
      !(theta.getValueAsDouble() > 1.0))
    return emitError() << "rope theta must be finite and greater than 1";
  if (rotaryDims < 0)
    return emitError() << "rope rotary_dims must be non-negative, got "
                       << rotaryDims;
  return success();
}

//===----------------------------------------------------------------------===//
// #gemma4.quant
//===----------------------------------------------------------------------===//

LogicalResult QuantAttr::verify(function_ref<InFlightDiagnostic()> emitError, int64_t bits,
                                int64_t groupSize, Type scaleType, bool symmetric, int64_t panel,
                                int64_t tile, bool plain) {
  if (bits != 4 && bits != 8)
    return emitError() << "quantized weights have 4 or 8 bits, got " << bits;
  if (groupSize < 0)
    return emitError() << "quantization group size must be positive (or per_channel), got "
                       << groupSize;
  if (bits == 4 && groupSize % ::gemma4::quant::kInt4Block != 0)
    return emitError() << "int4 group size must be a multiple of " << ::gemma4::quant::kInt4Block
                       << ", got " << (groupSize ? std::to_string(groupSize) : "per_channel");
  if (!scaleType || !(scaleType.isF16() || scaleType.isBF16() || scaleType.isF32()))
    return emitError() << "quantization scales must be f16, bf16 or f32";
  if (bits == 8 && !symmetric)
    return emitError() << "int8 quantization is symmetric only";
  if (panel != 0 && (bits != 4 || groupSize != ::gemma4::quant::kInt4Block ||
                     panel < 0 || panel % ::gemma4::quant::kInt4SuperBlock != 0))
    return emitError() << "K panels are for int4 with group size " << ::gemma4::quant::kInt4Block
                       << " and a multiple of " << ::gemma4::quant::kInt4SuperBlock
                       << " elements, got panel " << panel;
  if (tile != 0 && (bits != 4 || groupSize != ::gemma4::quant::kInt4Block || panel != 0 ||
                    tile < 2 || tile > 16))
    return emitError() << "row tiles are for int4 with group size " << ::gemma4::quant::kInt4Block
                       << " and no K panels, of 2 to 16 rows, got tile " << tile
                       << (panel ? " with a panel" : "");
  if (plain && (bits != 4 || panel != 0 || tile != 0))
    return emitError() << "plain is for int4 without K panels or row tiles";
  return success();
}

Attribute QuantAttr::parse(AsmParser &p, Type) {
  // <int4|int8, (group = N | per_channel), scale = T, sym|asym[, panel = P][, tile = T][, plain]>
  StringRef kind;
  int64_t group = 0;
  Type scale;
  StringRef symKw;
  if (p.parseLess() || p.parseKeyword(&kind))
    return {};
  int64_t bits = kind == "int4" ? 4 : kind == "int8" ? 8 : 0;
  if (!bits) {
    p.emitError(p.getCurrentLocation(), "expected int4 or int8, got '") << kind << "'";
    return {};
  }
  if (p.parseComma())
    return {};
  if (succeeded(p.parseOptionalKeyword("per_channel"))) {
    group = 0;
  } else if (p.parseKeyword("group") || p.parseEqual() || p.parseInteger(group)) {
    return {};
  }
  if (p.parseComma() || p.parseKeyword("scale") || p.parseEqual() || p.parseType(scale) ||
      p.parseComma() || p.parseKeyword(&symKw))
    return {};
  if (symKw != "sym" && symKw != "asym") {
    p.emitError(p.getCurrentLocation(), "expected sym or asym, got '") << symKw << "'";
    return {};
  }
  int64_t panel = 0, tile = 0;
  bool plain = false;
  while (succeeded(p.parseOptionalComma())) {
    StringRef key;
    if (p.parseKeyword(&key))
      return {};
    if (key == "plain") {
      plain = true;
      continue;
    }
    if (key != "panel" && key != "tile") {
      p.emitError(p.getCurrentLocation(), "expected panel, tile or plain, got '") << key << "'";
      return {};
    }
    if (p.parseEqual() || p.parseInteger(key == "panel" ? panel : tile))
      return {};
  }
  if (p.parseGreater())
    return {};
  return QuantAttr::getChecked([&] { return p.emitError(p.getNameLoc()); }, p.getContext(), bits,
                               group, scale, symKw == "sym", panel, tile, plain);
}

void QuantAttr::print(AsmPrinter &p) const {
  p << "<int" << getBits() << ", ";
  if (getGroupSize() == 0)
    p << "per_channel";
  else
    p << "group = " << getGroupSize();
  p << ", scale = " << getScaleType() << ", " << (getSymmetric() ? "sym" : "asym");
  if (getPanel())
    p << ", panel = " << getPanel();
  if (getTile())
    p << ", tile = " << getTile();
  if (getPlain())
    p << ", plain";
  p << ">";
}

::gemma4::quant::Spec QuantAttr::getSpec() const {
  ::gemma4::quant::Spec s;
  s.bits = static_cast<int>(getBits());
  s.group = getGroupSize();
  Type t = getScaleType();
  s.scale = t.isF16() ? ::gemma4::quant::ScaleType::F16 : t.isBF16() ? ::gemma4::quant::ScaleType::BF16 : ::gemma4::quant::ScaleType::F32;
  s.symmetric = getSymmetric();
  s.panel = getPanel();
  s.tile = getTile();
  s.plain = getPlain();
  return s;
}

QuantAttr QuantAttr::get(MLIRContext *ctx, const ::gemma4::quant::Spec &spec) {
  Type scale = spec.scale == ::gemma4::quant::ScaleType::F16    ? Type(Float16Type::get(ctx))
               : spec.scale == ::gemma4::quant::ScaleType::BF16 ? Type(BFloat16Type::get(ctx))
                                                                 : Type(Float32Type::get(ctx));
  return get(ctx, spec.bits, spec.group, scale, spec.symmetric, spec.panel, spec.tile, spec.plain);
}

int64_t mlir::gemma4::weightByteSize(RankedTensorType t) {
  if (QuantAttr q = getQuant(t)) {
    int64_t K = t.getShape().back();
    int64_t rows = K ? t.getNumElements() / K : 0;
    return static_cast<int64_t>(::gemma4::quant::layout(q.getSpec(), rows, K).total);
  }
  return (t.getNumElements() * t.getElementTypeBitWidth() + 7) / 8;
}
