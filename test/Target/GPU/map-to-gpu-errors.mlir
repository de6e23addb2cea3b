// gemma4-map-to-gpu refuses what a GPU target cannot run.
// RUN: gemma4c-opt %s --gemma4-map-to-gpu --split-input-file --verify-diagnostics

// The host cannot use what only the device knows.
func.func @host_needs_device_value(%a: memref<4xindex>, %b: memref<?xf32>) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%c1) step (%c1) {
    memref.store %c1, %a[%i] : memref<4xindex>
    scf.reduce
  }
  // expected-error@+1 {{a value computed on the device is used outside its kernel}}
  %n = memref.load %a[%c0] : memref<4xindex>
  return %n : index
}

// -----

// An offset the host would have to read from device memory.
func.func @host_view_from_device(%a: memref<4xindex>, %b: memref<?xi8>) {
  %c0 = arith.constant 0 : index
  %n = memref.load %a[%c0] : memref<4xindex>
  // expected-error@+1 {{the host needs a value computed in device memory}}
  %v = memref.view %b[%n][] : memref<?xi8> to memref<4xf32>
  return
}

// -----

// A block's threads must be the last dimension, 0 to the attribute.
func.func @block_threads_mismatch(%y: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %z = arith.constant 0.0 : f32
  // expected-error@+1 {{gemma4.block_threads = 64 needs a last dimension from 0 to it}}
  scf.parallel (%b, %t) = (%c0, %c0) to (%n, %c32) step (%c1, %c1) {
    memref.store %z, %y[%t] : memref<?xf32>
    scf.reduce
  } {gemma4.block_threads = 64 : i64}
  return
}

// -----

// A block's shared buffers are static workgroup allocas.
func.func @block_private_alloca(%y: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %z = arith.constant 0.0 : f32
  scf.parallel (%b, %t) = (%c0, %c0) to (%n, %c32) step (%c1, %c1) {
    // expected-error@+1 {{a block's buffers are static workgroup allocas at the top of its body}}
    %p = memref.alloca() : memref<4xf32>
    memref.store %z, %p[%c0] : memref<4xf32>
    scf.reduce
  } {gemma4.block_threads = 32 : i64}
  return
}
