// gemma4-launch-parallel-loops runs on the LLVM dialect, after the range
// functions made by gemma4-outline-parallel-loops have been lowered. For
// each `__par<N>` function it adds an internal trampoline
// `__tramp(ptr ctx, i64 begin, i64 end)` that loads the captures from
// 8-byte context slots and calls the range function, and it rewrites each
// call `f__par<N>(0, total, captures...)` into: stores of the captures into
// a stack array (alloca in the entry block), then
// gemma4rt_parallel_for(@tramp, ctx, total, grain), the grain being the
// range function's gemma4.grain (1 without one).
//
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -gemma4-launch-parallel-loops | FileCheck %s
// From scf.parallel through outlining and the CPU pipeline's LLVM lowering:
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -gemma4-outline-parallel-loops -convert-scf-to-cf \
// RUN:   -expand-strided-metadata -finalize-memref-to-llvm -convert-arith-to-llvm -convert-index-to-llvm \
// RUN:   -convert-cf-to-llvm -convert-func-to-llvm -reconcile-unrealized-casts -gemma4-launch-parallel-loops \
// RUN:   | FileCheck %s --check-prefix=LOWERED

// A caller with two launches of one range function (i64 bound, pointer
// and f32 captures): one trampoline, one context array per launch, the
// runtime entry declared once.
// CHECK-LABEL: llvm.func @f(
// CHECK-SAME: %[[P:[^:]+]]: !llvm.ptr, %[[N:[^:]+]]: i64, %[[S:[^:]+]]: f32) {
// CHECK: %[[CNT1:.+]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-NEXT: %[[CTX1:.+]] = llvm.alloca %[[CNT1]] x i64 {alignment = 8 : i64} : (i64) -> !llvm.ptr
// CHECK-NEXT: %[[CNT0:.+]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-NEXT: %[[CTX0:.+]] = llvm.alloca %[[CNT0]] x i64 {alignment = 8 : i64} : (i64) -> !llvm.ptr
// CHECK-NOT: llvm.call @f__par0
// CHECK: %[[S00:.+]] = llvm.getelementptr %[[CTX0]][0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT: llvm.store %[[N]], %[[S00]] : i64, !llvm.ptr
// CHECK-NEXT: %[[S01:.+]] = llvm.getelementptr %[[CTX0]][1] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT: llvm.store %[[P]], %[[S01]] : !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[S02:.+]] = llvm.getelementptr %[[CTX0]][2] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT: llvm.store %[[S]], %[[S02]] : f32, !llvm.ptr
// CHECK-NEXT: %[[T0:.+]] = llvm.mlir.addressof @f__par0__tramp : !llvm.ptr
// CHECK-NEXT: %[[G0:.+]] = llvm.mlir.constant(1 : i64) : i64
// CHECK-NEXT: llvm.call @gemma4rt_parallel_for(%[[T0]], %[[CTX0]], %[[N]], %[[G0]]) : (!llvm.ptr, !llvm.ptr, i64, i64) -> ()
// CHECK-NOT: llvm.call @f__par0
// CHECK: llvm.store %[[S]], %{{.+}} : f32, !llvm.ptr
// CHECK-NEXT: %[[T1:.+]] = llvm.mlir.addressof @f__par0__tramp : !llvm.ptr
// CHECK-NEXT: %[[G1:.+]] = llvm.mlir.constant(1 : i64) : i64
// CHECK-NEXT: llvm.call @gemma4rt_parallel_for(%[[T1]], %[[CTX1]], %[[N]], %[[G1]]) : (!llvm.ptr, !llvm.ptr, i64, i64) -> ()
// CHECK-NOT: llvm.call @f__par0
// CHECK: llvm.return
// CHECK: llvm.func internal @f__par0(%{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: !llvm.ptr, %{{.+}}: f32)
// CHECK-LABEL: llvm.func internal @f__par0__tramp
// CHECK-SAME: (%[[CTX:[^:]+]]: !llvm.ptr, %[[B:[^:]+]]: i64, %[[E:[^:]+]]: i64) {
// CHECK-NEXT: %[[A0:.+]] = llvm.getelementptr %[[CTX]][0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT: %[[V0:.+]] = llvm.load %[[A0]] : !llvm.ptr -> i64
// CHECK-NEXT: %[[A1:.+]] = llvm.getelementptr %[[CTX]][1] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT: %[[V1:.+]] = llvm.load %[[A1]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[A2:.+]] = llvm.getelementptr %[[CTX]][2] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT: %[[V2:.+]] = llvm.load %[[A2]] : !llvm.ptr -> f32
// CHECK-NEXT: llvm.call @f__par0(%[[B]], %[[E]], %[[V0]], %[[V1]], %[[V2]]) : (i64, i64, i64, !llvm.ptr, f32) -> ()
// CHECK-NEXT: llvm.return
// CHECK: llvm.func @gemma4rt_parallel_for(!llvm.ptr, !llvm.ptr, i64, i64)
// CHECK-NOT: llvm.func @gemma4rt_parallel_for
llvm.func @f(%p: !llvm.ptr, %n: i64, %s: f32) {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  llvm.call @f__par0(%c0, %n, %n, %p, %s) : (i64, i64, i64, !llvm.ptr, f32) -> ()
  llvm.call @f__par0(%c0, %n, %n, %p, %s) : (i64, i64, i64, !llvm.ptr, f32) -> ()
  llvm.return
}
llvm.func @f__par0(%b: i64, %e: i64, %n: i64, %p: !llvm.ptr, %s: f32) {
  llvm.return
}

// -----

// A declaration of the runtime entry that is already there is reused.
// CHECK-LABEL: llvm.func @g(
// CHECK: llvm.call @gemma4rt_parallel_for(
// CHECK: llvm.func @gemma4rt_parallel_for(!llvm.ptr, !llvm.ptr, i64, i64)
// CHECK-NOT: llvm.func @gemma4rt_parallel_for
llvm.func @g(%n: i64) {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  llvm.call @g__par0(%c0, %n, %n) : (i64, i64, i64) -> ()
  llvm.return
}
llvm.func @gemma4rt_parallel_for(!llvm.ptr, !llvm.ptr, i64, i64)
llvm.func @g__par0(%b: i64, %e: i64, %n: i64) {
  llvm.return
}

// -----

// Without range functions the module is left as it is.
// CHECK-LABEL: llvm.func @plain
// CHECK-NEXT: llvm.return
// CHECK-NOT: gemma4rt_parallel_for
llvm.func @plain() {
  llvm.return
}

// -----

// expected-error @+1 {{'llvm.func' op is not a range function}}
llvm.func @h__par0(%b: i64) {
  llvm.return
}

// -----

// LOWERED-LABEL: llvm.func @lowered
// LOWERED: %[[CTX:.+]] = llvm.alloca %{{.+}} x i64 {alignment = 8 : i64} : (i64) -> !llvm.ptr
// LOWERED-NOT: llvm.call @lowered__par0(
// LOWERED: %[[T:.+]] = llvm.mlir.addressof @lowered__par0__tramp : !llvm.ptr
// LOWERED: llvm.call @gemma4rt_parallel_for(%[[T]], %[[CTX]], %{{.+}}, %{{.+}}) : (!llvm.ptr, !llvm.ptr, i64, i64) -> ()
// LOWERED-NOT: llvm.call @lowered__par0(
// LOWERED: llvm.return
// LOWERED: llvm.func internal @lowered__par0(%{{.+}}: i64, %{{.+}}: i64,
// LOWERED-LABEL: llvm.func internal @lowered__par0__tramp
// LOWERED: llvm.call @lowered__par0(
// LOWERED: llvm.func @gemma4rt_parallel_for(!llvm.ptr, !llvm.ptr, i64, i64)
func.func @lowered(%buf: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %f, %buf[%i] : memref<?xf32>
  }
  return
}

// -----

// gemma4.grain on the range function (from the scf.parallel, through
// outlining and the LLVM lowering) becomes the launch's grain.
// LOWERED-LABEL: llvm.func @grained
// LOWERED: %[[G:.+]] = llvm.mlir.constant(4096 : i64) : i64
// LOWERED-NEXT: llvm.call @gemma4rt_parallel_for(%{{.+}}, %{{.+}}, %{{.+}}, %[[G]]) : (!llvm.ptr, !llvm.ptr, i64, i64) -> ()
func.func @grained(%buf: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %f, %buf[%i] : memref<?xf32>
  } {gemma4.grain = 4096 : i64}
  return
}
