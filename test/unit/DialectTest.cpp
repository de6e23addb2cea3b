//===- DialectTest.cpp - C++ API tests for the gemma4 dialect -------------===//
#include "gemma4/IR/Gemma4Dialect.h"
#include "gemma4/IR/Gemma4Ops.h"
#include "gemma4c/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::gemma4;

namespace {
struct Gemma4DialectTest : ::testing::Test {
  Gemma4DialectTest() { ctx.loadDialect<Gemma4Dialect>(); }
  MLIRContext ctx;
};

TEST_F(Gemma4DialectTest, BuildsAndVerifiesLinear) {
  OpBuilder b(&ctx);
  auto loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto w = WeightOp::create(
      b, loc, RankedTensorType::get({32, 64}, b.getBF16Type()),
      b.getStringAttr("w"), IntegerAttr());
  EXPECT_TRUE(succeeded(verify(w)));
  EXPECT_EQ(w.getName(), "w");
  module->destroy();
}

TEST_F(Gemma4DialectTest, RopeAttrRejectsBadTheta) {
  OpBuilder b(&ctx);
  auto bad = RopeAttr::getChecked(
      [&] { return emitError(b.getUnknownLoc()); }, &ctx,
      b.getF64FloatAttr(0.5), int64_t{4});
  EXPECT_FALSE(bad);
  auto good = RopeAttr::get(&ctx, b.getF64FloatAttr(10000.0), int64_t{4});
  EXPECT_EQ(good.getRotaryDims(), 4);
}

TEST_F(Gemma4DialectTest, LayoutWeightsAlignsAndDeduplicates) {
  const char *src = R"mlir(
    func.func @f() -> (tensor<3x5xbf16>, tensor<7xf32>, tensor<3x5xbf16>) {
      %a = gemma4.weight "a" : tensor<3x5xbf16>
      %b = gemma4.weight "b" : tensor<7xf32>
      %c = gemma4.weight "a" : tensor<3x5xbf16>
      return %a, %b, %c : tensor<3x5xbf16>, tensor<7xf32>, tensor<3x5xbf16>
    })mlir";
  ctx.loadDialect<func::FuncDialect>();
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(src, &ctx);
  ASSERT_TRUE(m);
  PassManager pm(&ctx);
  pm.addPass(createGemma4LayoutWeights());
  ASSERT_TRUE(succeeded(pm.run(*m)));
  std::vector<int64_t> offs;
  m->walk([&](WeightOp op) { offs.push_back(*op.getOffset()); });
  ASSERT_EQ(offs.size(), 3u);
  EXPECT_EQ(offs[0], 0);
  EXPECT_EQ(offs[1], 64); // 30 bytes, then aligned to 64
  EXPECT_EQ(offs[2], 0);  // same tensor, same bytes
  auto size = (*m)->getAttrOfType<IntegerAttr>("gemma4.weights_size");
  ASSERT_TRUE(size);
  EXPECT_EQ(size.getInt(), 64 + 28);
}
} // namespace
