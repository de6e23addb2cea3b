//===- Gemma4Dialect.h - gemma4 dialect ------------------------*- C++ -*-===//
#ifndef GEMMA4_IR_GEMMA4DIALECT_H
#define GEMMA4_IR_GEMMA4DIALECT_H

#include "mlir/IR/Dialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "gemma4/IR/QuantLayout.h"

#include "gemma4/IR/Gemma4Dialect.h.inc"
#include "gemma4/IR/Gemma4Enums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "gemma4/IR/Gemma4Attrs.h.inc"

namespace mlir::gemma4 {
/// The quantization encoding of a weight type, or null for a plain weight.
inline QuantAttr getQuant(Type t) {
  auto rt = llvm::dyn_cast<RankedTensorType>(t);
  return rt ? llvm::dyn_cast_or_null<QuantAttr>(rt.getEncoding()) : QuantAttr();
}
/// Bytes a weight of type `t` occupies in the weight blob.
int64_t weightByteSize(RankedTensorType t);
} // namespace mlir::gemma4

#endif
