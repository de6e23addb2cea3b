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
