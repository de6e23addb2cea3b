//===- WeightPacking.h - shared by gemma4c compile and fake-quant -*- C++ -*-===//
#ifndef GEMMA4C_TOOLS_WEIGHTPACKING_H
#define GEMMA4C_TOOLS_WEIGHTPACKING_H

#include "gemma4c/Frontend/Error.h"
#include "gemma4c/Frontend/Safetensors.h"
#include "gemma4c/Quant/Pack.h"

#include "gemma4/IR/Gemma4Dialect.h"
#include "mlir/IR/Diagnostics.h"

#include <cstdio>
#include <string>

namespace gemma4c {

/// Packs the checkpoint tensor `t` into the quantized layout of `type` (a
/// weight type with a #gemma4.quant encoding), streaming the bytes to
/// `sink`. InputError for a dtype that cannot be quantized or a NaN/Inf.
inline void packWeight(const TensorView &t, mlir::RankedTensorType type, const quant::Sink &sink) {
  mlir::gemma4::QuantAttr q = mlir::gemma4::getQuant(type);
  int64_t K = type.getShape().back(), rows = type.getNumElements() / K;
  quant::SrcType st;
  switch (t.dtype) {
  case DType::F32: st = quant::SrcType::F32; break;
  case DType::F16: st = quant::SrcType::F16; break;
  case DType::BF16: st = quant::SrcType::BF16; break;
  default:
    throw InputError("cannot quantize tensor '" + t.name + "' of dtype " + dtypeName(t.dtype) +
                     " in '" + t.file + "' (expected F32, F16 or BF16)");
  }
  try {
    quant::pack(q.getSpec(), t.data, st, rows, K, sink, t.name);
  } catch (const quant::PackError &err) {
    throw InputError(std::string(err.what()) + " (in '" + t.file + "')");
  }
}

/// Prints MLIR errors as this tool's one-line errors ("<tool>: error: ...")
/// and records that one was printed; notes, remarks and warnings are dropped
/// (the only warnings come from translating our own argument attributes to
/// LLVM IR, which are expected).
class OneLineErrors {
public:
  OneLineErrors(mlir::MLIRContext &ctx, std::string tool)
      : tool_(std::move(tool)), handler_(&ctx, [this](mlir::Diagnostic &d) {
          if (d.getSeverity() == mlir::DiagnosticSeverity::Error) {
            std::fprintf(stderr, "%s: error: %s\n", tool_.c_str(), d.str().c_str());
            printed_ = true;
          }
          return mlir::success();
        }) {}
  bool printed() const { return printed_; }

private:
  std::string tool_;
  bool printed_ = false;
  mlir::ScopedDiagnosticHandler handler_;
};

} // namespace gemma4c

#endif
