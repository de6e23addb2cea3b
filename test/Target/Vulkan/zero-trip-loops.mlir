// A loop with results that may run no iteration (a lane loop: lane l
// starts at l * 16 of 64, so lanes 4-7 run none). MLIR's scf.for ->
// spirv.mlir.loop hands the results out through Function variables that
// only the loop's latch stores: with no iteration they would be read
// uninitialised (lavapipe's LLVM folds that into the init; NVIDIA's driver
// need not). gemma4-serialize-spirv-kernels runs such a loop under
// `lb < ub`, a selection that stores the inits otherwise; a loop of a known
// positive trip count keeps its plain form.
// RUN: gemma4c-opt %s --gemma4-prepare-spirv-kernels --canonicalize --cse --gemma4-serialize-spirv-kernels="keep=true" | FileCheck %s

module attributes {gpu.container_module, gemma4.gpu_kernels = ["lanes"]} {
  func.func @entry(%x: memref<?xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    gpu.launch_func @gemma4_kernels::@lanes blocks in (%n, %c1, %c1) threads in (%c8, %c1, %c1)
        args(%x : memref<?xf32>)
    return
  }
  gpu.module @gemma4_kernels {
    gpu.func @lanes(%x: memref<?xf32>) kernel
        attributes {known_block_size = array<i32: 8, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c4 = arith.constant 4 : index
      %c16 = arith.constant 16 : index
      %c64 = arith.constant 64 : index
      %c128 = arith.constant 128 : index
      %one = arith.constant 1.0 : f32
      %t = gpu.thread_id x
      %lb = arith.muli %t, %c16 : index
      %s = scf.for %i = %lb to %c64 step %c128 iter_args(%a = %one) -> (f32) {
        %v = memref.load %x[%i] : memref<?xf32>
        %a2 = arith.addf %a, %v : f32
        scf.yield %a2 : f32
      }
      %p = scf.for %j = %c0 to %c4 step %c1 iter_args(%b = %s) -> (f32) {
        %b2 = arith.mulf %b, %b : f32
        scf.yield %b2 : f32
      }
      memref.store %p, %x[%t] : memref<?xf32>
      gpu.return
    }
  }
}

// CHECK-LABEL: spirv.func @lanes()
// The lane loop: under lb < 64, its init stored in the else branch.
// CHECK: %[[INIT:.*]] = spirv.Constant 1.000000e+00 : f32
// CHECK: %[[LB:.*]] = spirv.IMul %{{.*}}, %{{.*}} : i64
// CHECK: %[[ANY:.*]] = spirv.SLessThan %[[LB]], %{{.*}} : i64
// CHECK: %[[GUARD:.*]] = spirv.Variable : !spirv.ptr<f32, Function>
// CHECK: spirv.mlir.selection {
// CHECK-NEXT: spirv.BranchConditional %[[ANY]], ^[[THEN:.*]], ^[[ELSE:.*]]
// CHECK: ^[[THEN]]:
// CHECK: %[[RES:.*]] = spirv.Variable : !spirv.ptr<f32, Function>
// CHECK: spirv.mlir.loop {
// CHECK: spirv.Branch ^{{.*}}(%[[LB]], %[[INIT]] : i64, f32)
// CHECK: spirv.mlir.merge
// CHECK: %[[R:.*]] = spirv.Load "Function" %[[RES]] : f32
// CHECK: spirv.Store "Function" %[[GUARD]], %[[R]] : f32
// CHECK: ^[[ELSE]]:
// CHECK-NEXT: spirv.Store "Function" %[[GUARD]], %[[INIT]] : f32
// CHECK: spirv.mlir.merge
// CHECK: %[[S:.*]] = spirv.Load "Function" %[[GUARD]] : f32
// The loop of 4 iterations: no selection.
// CHECK-NOT: spirv.mlir.selection
// CHECK: spirv.mlir.loop {
// CHECK-NEXT: spirv.Branch ^{{.*}}(%{{.*}}, %[[S]] : i64, f32)
// CHECK: spirv.Return
