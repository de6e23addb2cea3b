//===- Gemma4Ops.h - gemma4 dialect ops ------------------------*- C++ -*-===//
#ifndef GEMMA4_IR_GEMMA4OPS_H
#define GEMMA4_IR_GEMMA4OPS_H

#include "gemma4/IR/Gemma4Dialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "gemma4/IR/Gemma4Ops.h.inc"

#endif
