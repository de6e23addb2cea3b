// gemma4-outline-parallel-loops turns every scf.parallel directly in a
// function body into a private range function `<fn>__par<N>(begin, end,
// upper bounds..., captures...)` that runs the linearised iterations
// [begin, end) (last dimension fastest), and a call covering [0, total).
// Constants the body uses are re-materialised inside it; every other value
// from above is passed.
//
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -gemma4-outline-parallel-loops | FileCheck %s

// CHECK-LABEL: func.func @entry
// CHECK-SAME: (%[[BUF:[^:]+]]: memref<?x4xf32>, %[[N:[^:]+]]: index, %[[S:[^:]+]]: f32) {
// CHECK-NOT: scf.parallel
// CHECK: %[[C4:.+]] = arith.constant 4 : index
// CHECK: %[[TOTAL:.+]] = arith.muli %[[N]], %[[C4]] : index
// CHECK: %[[ZERO:.+]] = arith.constant 0 : index
// CHECK: call @entry__par0(%[[ZERO]], %[[TOTAL]], %[[N]], %[[C4]], %[[BUF]], %[[S]]) : (index, index, index, index, memref<?x4xf32>, f32) -> ()
// CHECK-NOT: scf.parallel
// CHECK: %[[ZERO1:.+]] = arith.constant 0 : index
// CHECK: call @entry__par1(%[[ZERO1]], %[[N]], %[[N]], %[[S]], %[[BUF]]) : (index, index, index, f32, memref<?x4xf32>) -> ()
// CHECK-NOT: scf.parallel
// CHECK: return

// The 1-d loop: its induction variable is the linear index itself; the
// constant 0 it stores at is re-created, not passed.
// CHECK-LABEL: func.func private @entry__par1
// CHECK-SAME: (%[[B:[^:]+]]: index, %[[E:[^:]+]]: index, %{{[^:]+}}: index, %[[SV:[^:]+]]: f32, %[[M:[^:]+]]: memref<?x4xf32>) {
// CHECK: %[[K0:.+]] = arith.constant 0 : index
// CHECK: %[[ONE:.+]] = arith.constant 1 : index
// CHECK: scf.for %[[I:[^ ]+]] = %[[B]] to %[[E]] step %[[ONE]] {
// CHECK-NEXT: memref.store %[[SV]], %[[M]][%[[I]], %[[K0]]] : memref<?x4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return

// The 2-d loop: (i, j) = (l / 4, l mod 4) with 4 read from the argument;
// the f32 constant is cloned into the body function.
// CHECK-LABEL: func.func private @entry__par0
// CHECK-SAME: (%[[B:[^:]+]]: index, %[[E:[^:]+]]: index, %{{[^:]+}}: index, %[[UB1:[^:]+]]: index, %[[M:[^:]+]]: memref<?x4xf32>, %[[SV:[^:]+]]: f32) {
// CHECK: %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
// CHECK: %[[ONE:.+]] = arith.constant 1 : index
// CHECK: scf.for %[[L:[^ ]+]] = %[[B]] to %[[E]] step %[[ONE]] {
// CHECK-NEXT: %[[J:.+]] = arith.remui %[[L]], %[[UB1]] : index
// CHECK-NEXT: %[[I:.+]] = arith.divui %[[L]], %[[UB1]] : index
// CHECK-NEXT: %[[V:.+]] = memref.load %[[M]][%[[I]], %[[J]]] : memref<?x4xf32>
// CHECK-NEXT: %[[W:.+]] = arith.mulf %[[V]], %[[SV]] : f32
// CHECK-NEXT: %[[X:.+]] = arith.mulf %[[W]], %[[TWO]] : f32
// CHECK-NEXT: memref.store %[[X]], %[[M]][%[[I]], %[[J]]] : memref<?x4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @entry(%buf: memref<?x4xf32>, %n: index, %s: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c4) step (%c1, %c1) {
    %v = memref.load %buf[%i, %j] : memref<?x4xf32>
    %w = arith.mulf %v, %s : f32
    %x = arith.mulf %w, %two : f32
    memref.store %x, %buf[%i, %j] : memref<?x4xf32>
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %s, %buf[%i, %c0] : memref<?x4xf32>
  }
  return
}

// -----

// Three dimensions: k = l mod 3, j = (l / 3) mod 2, i = l / 3 / 2; the
// total is n * 2 * 3. A parallel loop nested inside stays in the body
// function; a parallel loop nested in an scf.for of the entry function is
// not outlined (it runs serially after the SCF lowering).
// CHECK-LABEL: func.func @three_d
// CHECK-SAME: (%[[BUF:[^:]+]]: memref<?x2x3xf32>, %[[N:[^:]+]]: index)
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.+]] = arith.constant 3 : index
// CHECK: %[[T1:.+]] = arith.muli %[[N]], %[[C2]] : index
// CHECK: %[[T2:.+]] = arith.muli %[[T1]], %[[C3]] : index
// CHECK: call @three_d__par0(%{{.+}}, %[[T2]], %[[N]], %[[C2]], %[[C3]], %[[BUF]])
// CHECK: scf.for
// CHECK-NEXT: scf.parallel
// CHECK-NOT: call
// CHECK: return
// CHECK-LABEL: func.func private @three_d__par0
// CHECK-SAME: (%[[B:[^:]+]]: index, %[[E:[^:]+]]: index, %{{[^:]+}}: index, %[[U1:[^:]+]]: index, %[[U2:[^:]+]]: index, %[[M:[^:]+]]: memref<?x2x3xf32>)
// CHECK: scf.for %[[L:[^ ]+]] = %[[B]] to %[[E]]
// CHECK-NEXT: %[[K:.+]] = arith.remui %[[L]], %[[U2]] : index
// CHECK-NEXT: %[[R:.+]] = arith.divui %[[L]], %[[U2]] : index
// CHECK-NEXT: %[[J:.+]] = arith.remui %[[R]], %[[U1]] : index
// CHECK-NEXT: %[[I:.+]] = arith.divui %[[R]], %[[U1]] : index
// CHECK: scf.parallel (%[[D:.+]]) =
// CHECK: memref.store %{{.+}}, %[[M]][%[[I]], %[[J]], %[[K]]]
// CHECK-NOT: func.func private @three_d__par1
func.func @three_d(%buf: memref<?x2x3xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%n, %c2, %c3) step (%c1, %c1, %c1) {
    scf.parallel (%d) = (%c0) to (%c2) step (%c1) {
      memref.store %f, %buf[%i, %j, %k] : memref<?x2x3xf32>
    }
  }
  scf.for %t = %c0 to %n step %c1 {
    scf.parallel (%d) = (%c0) to (%c2) step (%c1) {
      memref.store %f, %buf[%t, %d, %c0] : memref<?x2x3xf32>
    }
  }
  return
}

// -----

// Functions named like range functions, and declarations, are not touched.
// CHECK-LABEL: func.func private @decl(index)
// CHECK-LABEL: func.func @already__par7
// CHECK-NEXT: arith.constant
// CHECK-NEXT: arith.constant
// CHECK-NEXT: scf.parallel
func.func private @decl(index)
func.func @already__par7(%buf: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %v = memref.load %buf[%i] : memref<?xf32>
    memref.store %v, %buf[%i] : memref<?xf32>
  }
  return
}

// -----

func.func @nonzero_lower_bound(%buf: memref<?xf32>, %n: index) {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{'scf.parallel' op outlining needs zero lower bounds}}
  scf.parallel (%i) = (%c1) to (%n) step (%c1) {
    %v = memref.load %buf[%i] : memref<?xf32>
    memref.store %v, %buf[%i] : memref<?xf32>
  }
  return
}

// -----

func.func @non_unit_step(%buf: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  // expected-error @+1 {{'scf.parallel' op outlining needs unit steps}}
  scf.parallel (%i) = (%c0) to (%n) step (%c2) {
    %v = memref.load %buf[%i] : memref<?xf32>
    memref.store %v, %buf[%i] : memref<?xf32>
  }
  return
}

// -----

func.func @reduction(%buf: memref<?xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{'scf.parallel' op outlining does not support reductions}}
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f32 {
    %v = memref.load %buf[%i] : memref<?xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}

// -----

// A loop named by its location (convert-gemma4-to-loops: "<op>:<weight>")
// gives the body function that name as a suffix, non-alphanumerics as '_';
// its gemma4.grain moves to the body function.
// CHECK-LABEL: func.func @named
// CHECK: call @named__par0__linear_layers_0_q_proj_weight(
// CHECK-LABEL: func.func private @named__par0__linear_layers_0_q_proj_weight
// CHECK-SAME: attributes {gemma4.grain = 64 : i64}
func.func @named(%buf: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %f, %buf[%i] : memref<?xf32>
  } {gemma4.grain = 64 : i64} loc("linear:layers.0.q_proj.weight"("x.mlir":1:1))
  return
}
