// gemma4-plan-buffers packs a function's static top-level allocations into
// one arena allocated on entry: buffers whose live ranges (allocation to
// last top-level use, views included) do not overlap share bytes; the
// others get disjoint, 64-byte aligned slots.
//
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -gemma4-plan-buffers | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file -gemma4-plan-buffers=alignment=256 | FileCheck %s --check-prefix=A256
// RUN: not gemma4c-opt %s -split-input-file -gemma4-plan-buffers=alignment=48 2>&1 | FileCheck %s --check-prefix=BAD

// A chain a -> b -> c: a dies where c is born, so c takes a's bytes; b
// overlaps both. The largest (b, 400 bytes -> 448) is placed first at 0.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: attributes {gemma4.arena_bytes = 512 : i64}
// CHECK: %[[ARENA:.+]] = memref.alloc() {alignment = 64 : i64} : memref<512xi8>
// CHECK-NOT: memref.alloc
// CHECK: %[[A:.+]] = memref.view %[[ARENA]][%c448{{.*}}][] : memref<512xi8> to memref<16xf32>
// CHECK: %[[B:.+]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<512xi8> to memref<100xf32>
// CHECK: %[[C:.+]] = memref.view %[[ARENA]][%c448{{.*}}][] : memref<512xi8> to memref<16xf32>
// CHECK-NOT: memref.dealloc %[[A]]
// CHECK: memref.dealloc %[[ARENA]] : memref<512xi8>
// CHECK-NEXT: return
// A256-LABEL: func.func @chain
// A256-SAME: attributes {gemma4.arena_bytes = 768 : i64}
// A256: memref.alloc() {alignment = 256 : i64} : memref<768xi8>
// BAD: gemma4-plan-buffers: alignment must be a power of two, got 48
func.func @chain(%x: f32, %i: index) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.store %x, %a[%i] : memref<16xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<100xf32>
  %v = memref.load %a[%i] : memref<16xf32>
  memref.store %v, %b[%i] : memref<100xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  %w = memref.load %b[%i] : memref<100xf32>
  memref.store %w, %c[%i] : memref<16xf32>
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<100xf32>
  memref.dealloc %c : memref<16xf32>
  return
}

// -----

// A use through a view (expand_shape) inside a loop extends the range to
// that loop, so the second buffer cannot take the first's bytes.
// CHECK-LABEL: func.func @view_in_loop
// CHECK-SAME: gemma4.arena_bytes = 128 : i64
// CHECK: memref.view %{{.+}}[%c0{{.*}}][] : memref<128xi8> to memref<1x16xf32>
// CHECK: memref.view %{{.+}}[%c64{{.*}}][] : memref<128xi8> to memref<16xf32>
func.func @view_in_loop(%x: f32, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc() {alignment = 64 : i64} : memref<1x16xf32>
  %e = memref.collapse_shape %a [[0, 1]] : memref<1x16xf32> into memref<16xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %e[%i] : memref<16xf32>
    memref.store %v, %b[%i] : memref<16xf32>
  }
  memref.dealloc %a : memref<1x16xf32>
  memref.dealloc %b : memref<16xf32>
  return
}

// -----

// Left alone: a dynamic size, and a buffer passed to a call (it could
// outlive the range seen here). No static buffer remains, so no arena.
// CHECK-LABEL: func.func @unplanned
// CHECK-NOT: gemma4.arena_bytes
// CHECK: memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<8xf32>
// CHECK-NOT: memref.view
func.func private @sink(memref<8xf32>)
func.func @unplanned(%n: index) {
  %d = memref.alloc(%n) {alignment = 64 : i64} : memref<?xf32>
  %s = memref.alloc() {alignment = 64 : i64} : memref<8xf32>
  func.call @sink(%s) : (memref<8xf32>) -> ()
  memref.dealloc %d : memref<?xf32>
  memref.dealloc %s : memref<8xf32>
  return
}

// -----

// Buffers of a dynamic size (a prefill call's tokens x features) are not
// packed, but each is freed right after its last top-level use, not at the
// return: %a after the op that reads it last, %b after the loop using it,
// so an allocator can hand their memory to later buffers of the call.
// CHECK-LABEL: func.func @dynamic_freed_early
// CHECK: %[[A:.+]] = memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK: %[[B:.+]] = memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK: memref.load %[[A]]
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK: scf.for
// CHECK: memref.store {{.+}}, %[[B]]
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK: %[[C:.+]] = memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK: memref.store {{.+}}, %[[C]]
// CHECK-NEXT: memref.dealloc %[[C]]
// CHECK-NEXT: return
func.func @dynamic_freed_early(%x: f32, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc(%n) : memref<?xf32>
  %b = memref.alloc(%n) : memref<?xf32>
  memref.store %x, %a[%c0] : memref<?xf32>
  %v = memref.load %a[%c0] : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    memref.store %v, %b[%i] : memref<?xf32>
  }
  %c = memref.alloc(%n) : memref<?xf32>
  memref.store %x, %c[%c0] : memref<?xf32>
  memref.dealloc %a : memref<?xf32>
  memref.dealloc %b : memref<?xf32>
  memref.dealloc %c : memref<?xf32>
  return
}
