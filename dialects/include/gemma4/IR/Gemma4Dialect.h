//===- Gemma4Dialect.h - gemma4 dialect ------------------------*- C++ -*-===//
#ifndef GEMMA4_IR_GEMMA4DIALECT_H
#define GEMMA4_IR_GEMMA4DIALECT_H

#include "mlir/IR/Dialect.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "gemma4/IR/Gemma4Dialect.h.inc"
#include "gemma4/IR/Gemma4Enums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "gemma4/IR/Gemma4Attrs.h.inc"

#endif
