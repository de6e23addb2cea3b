// gemma4-emulate-gpu-launches, run: block-cooperative kernels (workgroup
// buffers, barriers inside a loop carrying per-thread accumulators, nested
// such loops, subgroup sums inside them) emulated on the CPU, lowered with
// upstream passes and run by mlir-runner; the results are compared with
// plain loops (exact: small integers in f32) and with values worked out by
// hand.
// REQUIRES: mlir-runner
// RUN: gemma4c-opt %s --gemma4-emulate-gpu-launches | mlir-opt --convert-scf-to-cf \
// RUN:   --convert-vector-to-llvm --convert-math-to-llvm --expand-strided-metadata \
// RUN:   --finalize-memref-to-llvm --convert-arith-to-llvm --convert-cf-to-llvm \
// RUN:   --convert-func-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s

// tiled (a prefill matmul tiled in workgroup memory, the form
// gemma4-map-to-gpu gives): 32 tokens x 32 rows, 4 blocks of 16x16.
// CHECK: tiled mismatches
// CHECK-NEXT: 0
// out[5, 7], out[17, 30], out[31, 31], sum
// CHECK-NEXT: 3
// CHECK-NEXT: -5
// CHECK-NEXT: -5
// CHECK-NEXT: -64
// nested: see @nested.
// CHECK: nested
// out[0], [31], [62], [93], [95], [127]
// CHECK-NEXT: 3168
// CHECK-NEXT: 9312
// CHECK-NEXT: 9312
// CHECK-NEXT: 22368
// CHECK-NEXT: 28512
// CHECK-NEXT: 22368
module attributes {gpu.container_module} {
  // The form gemma4-map-to-gpu will give a block-cooperative kernel (from
  // /work/scratch/wg/example.mlir): out[t, n] = sum_k x[t, k] * w[n, k], 64
  // threads a block, a block a 16x16 tile of outputs, each thread 4 of them.
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
        // tile (tokens tm, rows tn); thread: token row tt, rows tr..tr+3
        %tm = arith.divui %bx, %c2 : index
        %tn = arith.remui %bx, %c2 : index
        %t0 = arith.muli %tm, %c16 : index
        %n0 = arith.muli %tn, %c16 : index
        %tt = arith.divui %tx, %c4 : index
        %tq = arith.remui %tx, %c4 : index
        %tr = arith.muli %tq, %c4 : index
        %acc:4 = scf.for %k0 = %c0 to %c64k step %c16 iter_args(%a0 = %zero, %a1 = %zero, %a2 = %zero, %a3 = %zero) -> (f32, f32, f32, f32) {
          // copy: thread tid loads 4 consecutive k of x row (tid / 4) and
          // of w row (tid / 4), stores them at [k][row]
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

  // Two blocks of 64 threads (two subgroups of 32). Three times: every
  // thread's v = tid + i + 100 * bx summed over its subgroup (s), then
  // twice (a barrier loop inside a barrier loop): s written to workgroup
  // memory, barrier, the next thread's (tid + 1 mod 64) s added to the
  // accumulator, barrier. Block 0: a thread whose neighbour is in subgroup 0
  // gets 2 * (3 * 496 + 32 * 3) = 3168, in subgroup 1 2 * (3 * 1520 + 96) =
  // 9312; block 1 adds 2 * 3 * 3200 each.
  func.func @nested(%out: memref<128xf32>) {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c64 = arith.constant 64 : index
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1)
               workgroup(%sh : memref<64xf32, #gpu.address_space<workgroup>>) {
      %c0 = arith.constant 0 : index
      %c1_ = arith.constant 1 : index
      %c3 = arith.constant 3 : index
      %c100 = arith.constant 100 : index
      %zero = arith.constant 0.0 : f32
      %in = arith.cmpi ult, %bx, %gx : index
      scf.if %in {
        %b100 = arith.muli %bx, %c100 : index
        %base = arith.addi %tx, %b100 : index
        %r = scf.for %i = %c0 to %c3 step %c1_ iter_args(%acc = %zero) -> (f32) {
          %vi = arith.addi %base, %i : index
          %vn = arith.index_cast %vi : index to i32
          %v = arith.sitofp %vn : i32 to f32
          %s = gpu.subgroup_reduce add %v : (f32) -> f32
          %nb = arith.addi %tx, %c1_ : index
          %nbr = arith.remui %nb, %sx : index
          %acc2 = scf.for %j = %c0 to %c2 step %c1_ iter_args(%a = %acc) -> (f32) {
            memref.store %s, %sh[%tx] : memref<64xf32, #gpu.address_space<workgroup>>
            gpu.barrier
            %o = memref.load %sh[%nbr] : memref<64xf32, #gpu.address_space<workgroup>>
            %a2 = arith.addf %a, %o : f32
            gpu.barrier
            scf.yield %a2 : f32
          }
          scf.yield %acc2 : f32
        }
        %blk = arith.muli %bx, %c64 : index
        %at = arith.addi %blk, %tx : index
        memref.store %r, %out[%at] : memref<128xf32>
      }
      gpu.terminator
    }
    return
  }

  func.func @main() {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %c5 = arith.constant 5 : index
    %c7 = arith.constant 7 : index
    %c32 = arith.constant 32 : index
    %c64 = arith.constant 64 : index
    %c17 = arith.constant 17 : index
    %c30 = arith.constant 30 : index
    %c31 = arith.constant 31 : index
    %zero = arith.constant 0.0 : f32
    %x = memref.alloc(%c32) : memref<?x64xf32>
    %w = memref.alloc() : memref<32x64xbf16>
    %out = memref.alloc(%c32) : memref<?x32xf32>
    // x[t, k] = (3t + k) % 7 - 3, w[n, k] = (5n + 2k) % 5 - 2
    scf.for %t = %c0 to %c32 step %c1 {
      scf.for %k = %c0 to %c64 step %c1 {
        %t3 = arith.muli %t, %c3 : index
        %a = arith.addi %t3, %k : index
        %m = arith.remui %a, %c7 : index
        %v = arith.subi %m, %c3 : index
        %vi = arith.index_cast %v : index to i32
        %vf = arith.sitofp %vi : i32 to f32
        memref.store %vf, %x[%t, %k] : memref<?x64xf32>
        %n5 = arith.muli %t, %c5 : index
        %k2 = arith.muli %k, %c2 : index
        %b = arith.addi %n5, %k2 : index
        %mb = arith.remui %b, %c5 : index
        %wv = arith.subi %mb, %c2 : index
        %wi = arith.index_cast %wv : index to i32
        %wf = arith.sitofp %wi : i32 to f32
        %wb = arith.truncf %wf : f32 to bf16
        memref.store %wb, %w[%t, %k] : memref<32x64xbf16>
      }
      // not written by the kernel: a mismatch
      %nan = arith.constant 0x7FC00000 : f32
      scf.for %n = %c0 to %c32 step %c1 {
        memref.store %nan, %out[%t, %n] : memref<?x32xf32>
      }
    }
    call @tiled(%x, %w, %out, %c4) : (memref<?x64xf32>, memref<32x64xbf16>, memref<?x32xf32>, index) -> ()
    // Plain loops: mismatches and the sum.
    %bad, %sum = scf.for %t = %c0 to %c32 step %c1 iter_args(%e = %c0, %s = %zero) -> (index, f32) {
      %e2, %s2 = scf.for %n = %c0 to %c32 step %c1 iter_args(%e1 = %e, %s1 = %s) -> (index, f32) {
        %ref = scf.for %k = %c0 to %c64 step %c1 iter_args(%r = %zero) -> (f32) {
          %xv = memref.load %x[%t, %k] : memref<?x64xf32>
          %wb = memref.load %w[%n, %k] : memref<32x64xbf16>
          %wv = arith.extf %wb : bf16 to f32
          %r2 = math.fma %xv, %wv, %r : f32
          scf.yield %r2 : f32
        }
        %got = memref.load %out[%t, %n] : memref<?x32xf32>
        %ne = arith.cmpf une, %got, %ref : f32
        %inc = arith.select %ne, %c1, %c0 : index
        %e3 = arith.addi %e1, %inc : index
        %s3 = arith.addf %s1, %got : f32
        scf.yield %e3, %s3 : index, f32
      }
      scf.yield %e2, %s2 : index, f32
    }
    vector.print str "tiled mismatches\n"
    vector.print %bad : index
    %o1 = memref.load %out[%c5, %c7] : memref<?x32xf32>
    %o2 = memref.load %out[%c17, %c30] : memref<?x32xf32>
    %o3 = memref.load %out[%c31, %c31] : memref<?x32xf32>
    vector.print %o1 : f32
    vector.print %o2 : f32
    vector.print %o3 : f32
    vector.print %sum : f32
    %nout = memref.alloc() : memref<128xf32>
    call @nested(%nout) : (memref<128xf32>) -> ()
    vector.print str "nested\n"
    %c63 = arith.constant 63 : index
    %c95 = arith.constant 95 : index
    %c127 = arith.constant 127 : index
    scf.for %i = %c0 to %c4 step %c1 {
      %idx = arith.muli %i, %c31 : index
      %v = memref.load %nout[%idx] : memref<128xf32>
      vector.print %v : f32
    }
    %v95 = memref.load %nout[%c95] : memref<128xf32>
    vector.print %v95 : f32
    %v127 = memref.load %nout[%c127] : memref<128xf32>
    vector.print %v127 : f32
    return
  }
}
