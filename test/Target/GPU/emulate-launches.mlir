// gemma4-emulate-gpu-launches on block-cooperative kernels: workgroup
// memory as a stack buffer a block uses in turn; an scf.for holding
// barriers run once a block (under thread 0's guard), its body's phases
// each a loop over the threads, its iter_args kept per thread (stored from
// the inits, reloaded by the phases, stored back from the yield, read after
// the loop). emulate-launches-run.mlir runs these kernels.
// RUN: gemma4c-opt %s --gemma4-emulate-gpu-launches | FileCheck %s

// The prefill matmul tiled in workgroup memory (the form gemma4-map-to-gpu
// gives: copy, barrier, compute, barrier inside the K loop).
// CHECK-LABEL: func.func @tiled
// CHECK-NOT: gpu.
// CHECK: %[[XS:.*]] = memref.alloca() : memref<16x20xf32>
// CHECK: %[[WS:.*]] = memref.alloca() : memref<16x20xf32>
// CHECK: scf.for %[[BLK:.*]] = %{{.*}} to %arg3
// Before the K loop: the thread's tile indices kept for later phases.
// CHECK: scf.for %[[T0:.*]] =
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[T0]]] : memref<64xindex>
// The accumulators' inits.
// CHECK: scf.for %[[T1:.*]] =
// CHECK: scf.if
// CHECK-NEXT: memref.store %[[Z:.*]], %[[A0:.*]][%[[T1]]] : memref<64xf32>
// CHECK-NEXT: memref.store %[[Z]], %[[A1:.*]][%[[T1]]] : memref<64xf32>
// CHECK-NEXT: memref.store %[[Z]], %[[A2:.*]][%[[T1]]] : memref<64xf32>
// CHECK-NEXT: memref.store %[[Z]], %[[A3:.*]][%[[T1]]] : memref<64xf32>
// The K loop, once a block.
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[BLK]], %arg3
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK-NEXT: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// Copy: every thread's part of the tiles.
// CHECK: scf.for %[[T2:.*]] =
// CHECK: vector.load %arg0[%{{.*}}, %{{.*}}]
// CHECK: memref.store %{{.*}}, %[[XS]][
// CHECK: memref.store %{{.*}}, %[[WS]][
// CHECK-NOT: gpu.barrier
// Compute: reads the tiles and the accumulators.
// CHECK: scf.for %[[T3:.*]] =
// CHECK: memref.load %[[A0]][%[[T3]]] : memref<64xf32>
// CHECK: scf.for %{{.*}} iter_args
// CHECK: memref.load %[[XS]][
// CHECK: vector.load %[[WS]][
// CHECK: memref.store %{{.*}}, %[[S0:.*]][%[[T3]]] : memref<64xf32>
// After the second barrier: the yielded values into the accumulators.
// CHECK: scf.for %[[T4:.*]] =
// CHECK: %[[Y0:.*]] = memref.load %[[S0]][%[[T4]]]
// CHECK: memref.store %[[Y0]], %[[A0]][%[[T4]]]
// After the loop: its results from the accumulators.
// CHECK: scf.for %[[T5:.*]] =
// CHECK: %[[R0:.*]] = memref.load %[[A0]][%[[T5]]]
// CHECK: memref.store %[[R0]], %arg2[
// CHECK: return
module attributes {gpu.container_module} {
  func.func @tiled(%x: memref<?x64xf32>, %w: memref<32x64xbf16>, %out: memref<?x32xf32>, %tiles: index) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %tiles, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1)
               workgroup(%xs : memref<16x20xf32, #gpu.address_space<workgroup>>,
                         %ws : memref<16x20xf32, #gpu.address_space<workgroup>>) {
      %c0 = arith.constant 0 : index
      %c2 = arith.constant 2 : index
      %c4 = arith.constant 4 : index
      %c16 = arith.constant 16 : index
      %c64k = arith.constant 64 : index
      %zero = arith.constant 0.0 : f32
      %in = arith.cmpi ult, %bx, %gx : index
      scf.if %in {
        %tm = arith.divui %bx, %c2 : index
        %tn = arith.remui %bx, %c2 : index
        %t0 = arith.muli %tm, %c16 : index
        %n0 = arith.muli %tn, %c16 : index
        %tt = arith.divui %tx, %c4 : index
        %tq = arith.remui %tx, %c4 : index
        %tr = arith.muli %tq, %c4 : index
        %acc:4 = scf.for %k0 = %c0 to %c64k step %c16 iter_args(%a0 = %zero, %a1 = %zero, %a2 = %zero, %a3 = %zero) -> (f32, f32, f32, f32) {
          %r = arith.divui %tx, %c4 : index
          %kq = arith.remui %tx, %c4 : index
          %kk = arith.muli %kq, %c4 : index
          %k = arith.addi %k0, %kk : index
          %xt = arith.addi %t0, %r : index
          %xv = vector.load %x[%xt, %k] : memref<?x64xf32>, vector<4xf32>
          %wn = arith.addi %n0, %r : index
          %wv16 = vector.load %w[%wn, %k] : memref<32x64xbf16>, vector<4xbf16>
          %wv = arith.extf %wv16 : vector<4xbf16> to vector<4xf32>
          scf.for %j = %c0 to %c4 step %c1 {
            %e = vector.extract %xv[%j] : f32 from vector<4xf32>
            %f = vector.extract %wv[%j] : f32 from vector<4xf32>
            %kj = arith.addi %kk, %j : index
            memref.store %e, %xs[%kj, %r] : memref<16x20xf32, #gpu.address_space<workgroup>>
            memref.store %f, %ws[%kj, %r] : memref<16x20xf32, #gpu.address_space<workgroup>>
          }
          gpu.barrier
          %s:4 = scf.for %q = %c0 to %c16 step %c1 iter_args(%b0 = %a0, %b1 = %a1, %b2 = %a2, %b3 = %a3) -> (f32, f32, f32, f32) {
            %xe = memref.load %xs[%q, %tt] : memref<16x20xf32, #gpu.address_space<workgroup>>
            %wq = vector.load %ws[%q, %tr] : memref<16x20xf32, #gpu.address_space<workgroup>>, vector<4xf32>
            %w0 = vector.extract %wq[0] : f32 from vector<4xf32>
            %w1 = vector.extract %wq[1] : f32 from vector<4xf32>
            %w2 = vector.extract %wq[2] : f32 from vector<4xf32>
            %w3 = vector.extract %wq[3] : f32 from vector<4xf32>
            %n0_ = math.fma %xe, %w0, %b0 : f32
            %n1_ = math.fma %xe, %w1, %b1 : f32
            %n2_ = math.fma %xe, %w2, %b2 : f32
            %n3_ = math.fma %xe, %w3, %b3 : f32
            scf.yield %n0_, %n1_, %n2_, %n3_ : f32, f32, f32, f32
          }
          gpu.barrier
          scf.yield %s#0, %s#1, %s#2, %s#3 : f32, f32, f32, f32
        }
        %ot = arith.addi %t0, %tt : index
        %on = arith.addi %n0, %tr : index
        %on1 = arith.addi %on, %c1 : index
        %on2 = arith.addi %on, %c2 : index
        %c3 = arith.constant 3 : index
        %on3 = arith.addi %on, %c3 : index
        memref.store %acc#0, %out[%ot, %on] : memref<?x32xf32>
        memref.store %acc#1, %out[%ot, %on1] : memref<?x32xf32>
        memref.store %acc#2, %out[%ot, %on2] : memref<?x32xf32>
        memref.store %acc#3, %out[%ot, %on3] : memref<?x32xf32>
      }
      gpu.terminator
    }
    return
  }

  // A yield that swaps two iter_args: both read before either is stored.
  // CHECK-LABEL: func.func @swap
  // CHECK: scf.for %[[BK:.*]] =
  // CHECK: scf.for %[[I:.*]] =
  // CHECK: memref.store %{{.*}}, %[[P:.*]][%[[I]]] : memref<32xf32>
  // CHECK-NEXT: memref.store %{{.*}}, %[[Q:.*]][%[[I]]] : memref<32xf32>
  // CHECK: scf.for %[[L:.*]] = %{{.*}} to %{{.*}} step
  // CHECK: scf.for %[[T:.*]] =
  // CHECK: %[[VQ:.*]] = memref.load %[[Q]][%[[T]]]
  // CHECK-NEXT: %[[VP:.*]] = memref.load %[[P]][%[[T]]]
  // CHECK-NEXT: memref.store %[[VQ]], %[[P]][%[[T]]]
  // CHECK-NEXT: memref.store %[[VP]], %[[Q]][%[[T]]]
  func.func @swap(%out: memref<32xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    %c32 = arith.constant 32 : index
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
      %c0 = arith.constant 0 : index
      %one = arith.constant 1.0 : f32
      %two = arith.constant 2.0 : f32
      %in = arith.cmpi ult, %bx, %gx : index
      scf.if %in {
        %p, %q = scf.for %i = %c0 to %n step %c1 iter_args(%a = %one, %b = %two) -> (f32, f32) {
          gpu.barrier
          scf.yield %b, %a : f32, f32
        }
        %d = arith.subf %p, %q : f32
        memref.store %d, %out[%tx] : memref<32xf32>
      }
      gpu.terminator
    }
    return
  }

  // A merged launch with workgroup memory: each kernel it was made of keeps
  // its buffer.
  // CHECK-LABEL: func.func @merged
  // CHECK: memref.alloca() : memref<32xf32>
  // CHECK: scf.for
  // CHECK: memref.store %{{.*}}, %arg0[
  // CHECK: memref.alloca() : memref<32xf32>
  // CHECK: scf.for
  // CHECK: memref.store %{{.*}}, %arg1[
  // CHECK-NOT: gpu.
  func.func @merged(%a: memref<64xf32>, %b: memref<64xf32>, %ga: index, %g: index) {
    %c1 = arith.constant 1 : index
    %c32 = arith.constant 32 : index
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %g, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
               workgroup(%sh : memref<32xf32, #gpu.address_space<workgroup>>) {
      %first = arith.cmpi ult, %bx, %ga : index
      scf.if %first {
        %in = arith.cmpi ult, %bx, %ga : index
        scf.if %in {
          %v = memref.load %a[%tx] : memref<64xf32>
          memref.store %v, %sh[%tx] : memref<32xf32, #gpu.address_space<workgroup>>
          gpu.barrier
          %u = memref.load %sh[%c1] : memref<32xf32, #gpu.address_space<workgroup>>
          memref.store %u, %a[%tx] : memref<64xf32>
        }
      } else {
        %in = arith.cmpi ult, %bx, %g : index
        scf.if %in {
          %v = memref.load %b[%tx] : memref<64xf32>
          memref.store %v, %sh[%tx] : memref<32xf32, #gpu.address_space<workgroup>>
          gpu.barrier
          %u = memref.load %sh[%c1] : memref<32xf32, #gpu.address_space<workgroup>>
          memref.store %u, %b[%tx] : memref<64xf32>
        }
      }
      gpu.terminator
    } {gemma4.merged}
    return
  }
}
