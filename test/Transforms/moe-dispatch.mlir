// gemma4-moe-dispatch splits every gemma4.moe into gemma4.router (reading the
// router input) and gemma4.expert_ffn (reading the expert input and the
// router's [tokens, top_k] choices), keeping top_k, epsilon and all weights.
//
// RUN: gemma4c-opt %s -split-input-file -gemma4-moe-dispatch | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file | FileCheck %s --check-prefix=BEFORE

// 26B-A4B prefill: 128 experts, top-8, expert intermediate 704.
// BEFORE-LABEL: func.func @prefill
// BEFORE: gemma4.moe
// BEFORE-NOT: gemma4.router
// CHECK-LABEL: func.func @prefill
// CHECK-SAME: (%[[R:[^:]+]]: tensor<?x2816xf32>, %[[X:[^:]+]]: tensor<?x2816xf32>)
// CHECK: %[[RW:.+]] = gemma4.weight "layers.0.router.proj.weight"
// CHECK: %[[RS:.+]] = gemma4.weight "layers.0.router.scale"
// CHECK: %[[PES:.+]] = gemma4.weight "layers.0.router.per_expert_scale"
// CHECK: %[[GU:.+]] = gemma4.weight "layers.0.experts.gate_up_proj"
// CHECK: %[[DN:.+]] = gemma4.weight "layers.0.experts.down_proj"
// CHECK-NOT: gemma4.moe
// CHECK: %[[E:[^,]+]], %[[W:.+]] = gemma4.router %[[R]], %[[RW]], %[[RS]], %[[PES]] {epsilon = 9.99999997E-7 : f32, top_k = 8 : i64}
// CHECK-SAME: : (tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
// CHECK: %[[Y:.+]] = gemma4.expert_ffn %[[X]], %[[E]], %[[W]], %[[GU]], %[[DN]]
// CHECK-SAME: : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
// CHECK-NOT: gemma4.moe
// CHECK: return %[[Y]] : tensor<?x2816xf32>
func.func @prefill(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "layers.0.router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "layers.0.router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "layers.0.router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "layers.0.experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "layers.0.experts.down_proj" : tensor<128x2816x704xbf16>
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32}
       : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// Decode (one token) with the moe-mini fixture's shape: 8 experts, top-2.
// The MoE block sits beside the dense MLP and is followed by its norm; only
// the MoE op changes.
// CHECK-LABEL: func.func @decode
// CHECK-SAME: (%[[R:[^:]+]]: tensor<1x64xf32>, %[[X:[^:]+]]: tensor<1x64xf32>)
// CHECK: %[[M:.+]] = gemma4.mlp %[[X]],
// CHECK: %[[E:[^,]+]], %[[W:.+]] = gemma4.router %[[R]], %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {epsilon = 9.99999997E-7 : f32, top_k = 2 : i64}
// CHECK-SAME: -> (tensor<1x2xi32>, tensor<1x2xf32>)
// CHECK: %[[Y:.+]] = gemma4.expert_ffn %[[X]], %[[E]], %[[W]], %{{[^,]+}}, %{{[^ ]+}} :
// CHECK-SAME: -> tensor<1x64xf32>
// CHECK: %[[N:.+]] = gemma4.rms_norm %[[Y]], %{{.+}} {epsilon = 9.99999997E-7 : f32}
// CHECK: gemma4.add %[[M]], %[[N]] : tensor<1x64xf32>
func.func @decode(%r: tensor<1x64xf32>, %x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %g = gemma4.weight "layers.1.mlp.gate_proj.weight" : tensor<128x64xbf16>
  %u = gemma4.weight "layers.1.mlp.up_proj.weight" : tensor<128x64xbf16>
  %d = gemma4.weight "layers.1.mlp.down_proj.weight" : tensor<64x128xbf16>
  %m = gemma4.mlp %x, %g, %u, %d : (tensor<1x64xf32>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<64x128xbf16>) -> tensor<1x64xf32>
  %rw = gemma4.weight "layers.1.router.proj.weight" : tensor<8x64xbf16>
  %rs = gemma4.weight "layers.1.router.scale" : tensor<64xbf16>
  %pes = gemma4.weight "layers.1.router.per_expert_scale" : tensor<8xbf16>
  %gu = gemma4.weight "layers.1.experts.gate_up_proj" : tensor<8x64x64xbf16>
  %dn = gemma4.weight "layers.1.experts.down_proj" : tensor<8x64x32xbf16>
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 2 : i64, epsilon = 1.0e-6 : f32}
       : (tensor<1x64xf32>, tensor<1x64xf32>, tensor<8x64xbf16>, tensor<64xbf16>, tensor<8xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<1x64xf32>
  %nw = gemma4.weight "layers.1.post_feedforward_layernorm_2.weight" : tensor<64xbf16>
  %n = gemma4.rms_norm %y, %nw {epsilon = 1.0e-6 : f32} : (tensor<1x64xf32>, tensor<64xbf16>) -> tensor<1x64xf32>
  %s = gemma4.add %m, %n : tensor<1x64xf32>
  return %s : tensor<1x64xf32>
}

// -----

// Every MoE op is split, in every function, including one whose router input
// is the previous block's output; each router feeds its own expert_ffn.
// CHECK-LABEL: func.func @layer_pair
// CHECK-SAME: (%[[R:[^:]+]]: tensor<?x64xf32>, %[[X:[^:]+]]: tensor<?x64xf32>)
// CHECK-NOT: gemma4.moe
// CHECK: %[[E0:[^,]+]], %[[W0:.+]] = gemma4.router %[[R]],
// CHECK: %[[Y0:.+]] = gemma4.expert_ffn %[[X]], %[[E0]], %[[W0]],
// CHECK: %[[E1:[^,]+]], %[[W1:.+]] = gemma4.router %[[Y0]],
// CHECK: %[[Y1:.+]] = gemma4.expert_ffn %[[X]], %[[E1]], %[[W1]],
// CHECK-NOT: gemma4.moe
// CHECK: return %[[Y1]]
// CHECK-LABEL: func.func @other_entry
// CHECK-NOT: gemma4.moe
// CHECK: gemma4.router
// CHECK-SAME: top_k = 1 : i64
// CHECK-SAME: -> (tensor<1x1xi32>, tensor<1x1xf32>)
// CHECK: gemma4.expert_ffn
// CHECK-NOT: gemma4.moe
func.func @layer_pair(%r: tensor<?x64xf32>, %x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<8x64xbf16>
  %rs = gemma4.weight "router.scale" : tensor<64xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<8xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<8x64x64xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<8x64x32xbf16>
  %y0 = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 2 : i64, epsilon = 1.0e-6 : f32}
       : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<8x64xbf16>, tensor<64xbf16>, tensor<8xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<?x64xf32>
  %y1 = gemma4.moe %y0, %x, %rw, %rs, %pes, %gu, %dn {top_k = 2 : i64, epsilon = 1.0e-6 : f32}
       : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<8x64xbf16>, tensor<64xbf16>, tensor<8xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<?x64xf32>
  return %y1 : tensor<?x64xf32>
}
func.func @other_entry(%r: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<8x64xbf16>
  %rs = gemma4.weight "router.scale" : tensor<64xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<8xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<8x64x64xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<8x64x32xbf16>
  %y = gemma4.moe %r, %r, %rw, %rs, %pes, %gu, %dn {top_k = 1 : i64, epsilon = 1.0e-6 : f32}
       : (tensor<1x64xf32>, tensor<1x64xf32>, tensor<8x64xbf16>, tensor<64xbf16>, tensor<8xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}

// -----

// A module without MoE blocks is left alone.
// CHECK-LABEL: func.func @dense
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xf32>)
// CHECK-NOT: gemma4.router
// CHECK-NOT: gemma4.expert_ffn
// CHECK: %[[M:.+]] = gemma4.mlp %[[X]], %{{.+}}, %{{.+}}, %{{.+}} :
// CHECK: return %[[M]]
func.func @dense(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<128x64xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<128x64xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<64x128xbf16>
  %m = gemma4.mlp %x, %g, %u, %d : (tensor<?x64xf32>, tensor<128x64xbf16>, tensor<128x64xbf16>, tensor<64x128xbf16>) -> tensor<?x64xf32>
  return %m : tensor<?x64xf32>
}
