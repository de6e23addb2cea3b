// Workgroup memory (block-cooperative kernels): gemma4-prepare-spirv-kernels
// turns a kernel's workgroup attributions, which gpu-to-spirv's gpu.func
// conversion drops, into allocations in Workgroup storage at its entry
// (bf16 held as i16), their vector accesses into one scalar access a lane;
// gemma4-serialize-spirv-kernels makes each a spirv.GlobalVariable of
// Workgroup storage class in the entry point's interface. gpu.barrier, also
// inside an scf.for, waits for the workgroup and orders workgroup and device
// memory. The binary passes spirv-val (workgroup-memory-val.test).
// RUN: gemma4c-opt %s --gemma4-prepare-spirv-kernels | FileCheck %s --check-prefix=PREP
// RUN: gemma4c-opt %s --gemma4-prepare-spirv-kernels --canonicalize --cse --gemma4-serialize-spirv-kernels="keep=true" | FileCheck %s
// Each kernel's workgroup memory bytes (the runtime checks them against the
// device's maxComputeSharedMemorySize): 16x20 f32 + 64 bf16, and 64 f32.
// RUN: gemma4c-opt %s --gemma4-prepare-spirv-kernels --canonicalize --cse --gemma4-serialize-spirv-kernels | FileCheck %s --check-prefix=SHARED
// SHARED: gemma4.spirv_kernels = [array<i64: 120, 64, 1, 1, 1408>, array<i64: 56, 64, 1, 1, 256>]

// out[b, t] = 2 * (sum_j x[16b + 4q + j, r] + sum_j x[16b + r', 4q' + j]
//             + bf16(x[16b + r', q'])), r = t / 4, q = t % 4, t' = 63 - t:
// a tile of x through workgroup memory, read transposed and by another
// thread, twice (the barriers inside the loop).
module attributes {gpu.container_module, gemma4.gpu_kernels = ["wg", "wg2"]} {
  func.func @entry(%x: memref<?x16xf32>, %out: memref<?x64xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @gemma4_kernels::@wg blocks in (%n, %c1, %c1) threads in (%c64, %c1, %c1)
        args(%x : memref<?x16xf32>, %out : memref<?x64xf32>, %n : index)
    gpu.launch_func @gemma4_kernels::@wg2 blocks in (%n, %c1, %c1) threads in (%c64, %c1, %c1)
        args(%out : memref<?x64xf32>)
    return
  }
  gpu.module @gemma4_kernels {
    gpu.func @wg(%x: memref<?x16xf32>, %out: memref<?x64xf32>, %n: index)
        workgroup(%xs : memref<16x20xf32, #gpu.address_space<workgroup>>,
                  %hs : memref<64xbf16, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      %c4 = arith.constant 4 : index
      %c16 = arith.constant 16 : index
      %c63 = arith.constant 63 : index
      %zero = arith.constant 0.0 : f32
      %b = gpu.block_id x
      %t = gpu.thread_id x
      %r = arith.divui %t, %c4 : index
      %q = arith.remui %t, %c4 : index
      %k = arith.muli %q, %c4 : index
      %t2 = arith.subi %c63, %t : index
      %r2 = arith.divui %t2, %c4 : index
      %q2 = arith.remui %t2, %c4 : index
      %k2 = arith.muli %q2, %c4 : index
      %row0 = arith.muli %b, %c16 : index
      %row = arith.addi %row0, %r : index
      %acc = scf.for %i = %c0 to %c2 step %c1 iter_args(%a = %zero) -> (f32) {
        %xv = vector.load %x[%row, %k] : memref<?x16xf32>, vector<4xf32>
        vector.store %xv, %xs[%r, %k] {alignment = 16 : i64} : memref<16x20xf32, #gpu.address_space<workgroup>>, vector<4xf32>
        %xq = memref.load %x[%row, %q] : memref<?x16xf32>
        %h = arith.truncf %xq : f32 to bf16
        memref.store %h, %hs[%t] : memref<64xbf16, #gpu.address_space<workgroup>>
        gpu.barrier
        %s = scf.for %j = %c0 to %c4 step %c1 iter_args(%sj = %a) -> (f32) {
          %kj = arith.addi %k, %j : index
          %e = memref.load %xs[%kj, %r] : memref<16x20xf32, #gpu.address_space<workgroup>>
          %sn = arith.addf %sj, %e : f32
          scf.yield %sn : f32
        }
        %v = vector.load %xs[%r2, %k2] {alignment = 16 : i64} : memref<16x20xf32, #gpu.address_space<workgroup>>, vector<4xf32>
        %vs = vector.reduction <add>, %v, %s : vector<4xf32> into f32
        %g = memref.load %hs[%t2] : memref<64xbf16, #gpu.address_space<workgroup>>
        %gf = arith.extf %g : bf16 to f32
        %an = arith.addf %vs, %gf : f32
        gpu.barrier
        scf.yield %an : f32
      }
      memref.store %acc, %out[%b, %t] : memref<?x64xf32>
      gpu.return
    }
    // A second kernel: its own variable. out[b, t] = out[b, 63 - t].
    gpu.func @wg2(%out: memref<?x64xf32>)
        workgroup(%row : memref<64xf32, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %c63 = arith.constant 63 : index
      %b = gpu.block_id x
      %t = gpu.thread_id x
      %v = memref.load %out[%b, %t] : memref<?x64xf32>
      memref.store %v, %row[%t] : memref<64xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %t2 = arith.subi %c63, %t : index
      %w = memref.load %row[%t2] : memref<64xf32, #gpu.address_space<workgroup>>
      memref.store %w, %out[%b, %t] : memref<?x64xf32>
      gpu.return
    }
  }
}

// PREP-LABEL: gpu.module @gemma4_kernels_spirv attributes {gemma4.spirv}
// PREP: gpu.func @wg(%{{.*}}: i64) kernel attributes {gemma4.param_bytes = 120 : i64, known_block_size = array<i32: 64, 1, 1>} {
// PREP-DAG: %[[XS:.*]] = memref.alloc() : memref<16x20xf32, #spirv.storage_class<Workgroup>>
// PREP-DAG: %[[HS:.*]] = memref.alloc() : memref<64xi16, #spirv.storage_class<Workgroup>>
// PREP: scf.for
// The vector store, one store a lane at [r, k + lane].
// PREP: memref.store %{{.*}}, %[[XS]][%[[R:.*]], %[[K:.*]]] : memref<16x20xf32, #spirv.storage_class<Workgroup>>
// PREP: %[[K1:.*]] = arith.addi %[[K]], %c1
// PREP: memref.store %{{.*}}, %[[XS]][%[[R]], %[[K1]]]
// PREP: memref.store %{{.*}}, %[[XS]][%[[R]], %{{.*}}]
// PREP: memref.store %{{.*}}, %[[XS]][%[[R]], %{{.*}}]
// bf16 as i16.
// PREP: %[[H:.*]] = arith.bitcast %{{.*}} : bf16 to i16
// PREP: memref.store %[[H]], %[[HS]][%{{.*}}] : memref<64xi16, #spirv.storage_class<Workgroup>>
// PREP: spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|UniformMemory|WorkgroupMemory>
// PREP: scf.for
// PREP: memref.load %[[XS]][%{{.*}}, %[[R]]] : memref<16x20xf32, #spirv.storage_class<Workgroup>>
// PREP-COUNT-4: memref.load %[[XS]]
// PREP: memref.load %[[HS]][%{{.*}}] : memref<64xi16, #spirv.storage_class<Workgroup>>
// PREP: spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|UniformMemory|WorkgroupMemory>
// PREP: scf.yield
// PREP-LABEL: gpu.func @wg2(%{{.*}}: i64) kernel attributes {gemma4.param_bytes = 56 : i64
// PREP: memref.alloc() : memref<64xf32, #spirv.storage_class<Workgroup>>
// PREP-NOT: vector.
// PREP-NOT: workgroup(

// CHECK: spirv.module @__spv__gemma4_kernels_spirv
// CHECK-DAG: spirv.GlobalVariable @[[XV:__workgroup_mem__[0-9]+]] : !spirv.ptr<!spirv.struct<(!spirv.array<320 x f32>)>, Workgroup>
// CHECK-DAG: spirv.GlobalVariable @[[HV:__workgroup_mem__[0-9]+]] : !spirv.ptr<!spirv.struct<(!spirv.array<64 x i16>)>, Workgroup>
// CHECK-DAG: spirv.GlobalVariable @[[RV:__workgroup_mem__[0-9]+]] : !spirv.ptr<!spirv.struct<(!spirv.array<64 x f32>)>, Workgroup>
// CHECK-LABEL: spirv.func @wg()
// CHECK-DAG: %[[XA:.*]] = spirv.mlir.addressof @[[XV]]
// CHECK-DAG: %[[HA:.*]] = spirv.mlir.addressof @[[HV]]
// CHECK: spirv.mlir.loop
// CHECK: %[[P:.*]] = spirv.AccessChain %[[XA]][%{{.*}}, %{{.*}}] : {{.*}} -> !spirv.ptr<f32, Workgroup>
// CHECK: spirv.Store "Workgroup" %[[P]], %{{.*}} : f32
// CHECK: spirv.Store "Workgroup" %{{.*}}, %{{.*}} : i16
// CHECK: spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|UniformMemory|WorkgroupMemory>
// CHECK: spirv.mlir.loop
// CHECK: spirv.Load "Workgroup" %{{.*}} : f32
// CHECK: spirv.mlir.merge
// CHECK: spirv.Load "Workgroup" %{{.*}} : f32
// CHECK: spirv.Load "Workgroup" %{{.*}} : i16
// CHECK: spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|UniformMemory|WorkgroupMemory>
// CHECK: spirv.mlir.merge
// CHECK: spirv.Store "PhysicalStorageBuffer" %{{.*}}, %{{.*}} ["Aligned", 4] : f32
// CHECK-LABEL: spirv.func @wg2()
// CHECK: spirv.Store "Workgroup"
// CHECK: spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|UniformMemory|WorkgroupMemory>
// CHECK: spirv.Load "Workgroup"
// Each entry point's interface lists its own workgroup variables (SPIR-V 1.4+).
// CHECK: spirv.EntryPoint "GLCompute" @wg, {{.*}}@[[XV]], @[[HV]],
// CHECK-NOT: @[[RV]]
// CHECK: spirv.EntryPoint "GLCompute" @wg2, {{.*}}@[[RV]],
