// RUN: gemma4c-opt %s -split-input-file | gemma4c-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func @linear
func.func @linear(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  // CHECK: gemma4.weight "w" : tensor<32x64xbf16>
  %w = gemma4.weight "w" : tensor<32x64xbf16>
  // CHECK: gemma4.linear %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<32x64xbf16>) -> tensor<?x32xf32>
  %y = gemma4.linear %x, %w : (tensor<?x64xf32>, tensor<32x64xbf16>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
