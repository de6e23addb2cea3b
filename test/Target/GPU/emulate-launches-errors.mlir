// gemma4-emulate-gpu-launches refuses syncs it cannot run as phases.
// RUN: gemma4c-opt %s --gemma4-emulate-gpu-launches --split-input-file --verify-diagnostics

// A barrier under a branch (not at the top level of the guarded body or of
// a loop there).
func.func @barrier_in_if(%out: memref<64xf32>, %p: i1) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %in = arith.cmpi ult, %bx, %gx : index
    scf.if %in {
      // expected-error @+1 {{a barrier or subgroup reduce inside this op}}
      scf.if %p {
        gpu.barrier
      }
    }
    gpu.terminator
  }
  return
}

// -----

// A loop with barriers whose trip count depends on the thread.
func.func @per_thread_bounds(%out: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %in = arith.cmpi ult, %bx, %gx : index
    scf.if %in {
      %n = arith.addi %tx, %c1 : index
      // expected-error @+1 {{a loop with barriers whose bounds (or the guard) may differ}}
      scf.for %i = %c0 to %n step %c1 {
        gpu.barrier
      }
    }
    gpu.terminator
  }
  return
}

// -----

// A barrier loop inside a plain loop.
func.func @barrier_in_plain_while(%out: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %in = arith.cmpi ult, %bx, %gx : index
    scf.if %in {
      scf.for %i = %c0 to %c64 step %c1 {
        // expected-error @+1 {{a barrier or subgroup reduce inside this op}}
        scf.if %in {
          gpu.barrier
        }
      }
    }
    gpu.terminator
  }
  return
}
