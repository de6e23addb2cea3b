// tcpeak.mlir - the tensor-core peak probe of bench/run --target cuda.
//
// One kernel, gemma4_tc_peak(out, iters): every warp runs `iters` steps of
// 8 independent bf16 mma.sync.m16n8k16 (f32 accumulators) on register
// fragments, so nothing but the tensor cores' issue rate bounds it; each
// thread stores the sum of its accumulators to out[block * blockDim + tid]
// (nothing is optimised away). 2 * 16 * 8 * 16 = 4096 FLOPs per mma a warp.
// bench/gpu_probe.c --mma launches it and prints the rate: the dense bf16
// peak that prefill products on the tensor cores (targets/cuda/lib/Strategy/
// Matmul.cpp, the same instruction) are measured against.
//
// Built through MLIR's own GPU pipeline (bench/run --build-only --target
// cuda does this and carries the PTX):
//   mlir-opt bench/tcpeak.mlir --pass-pipeline='builtin.module(gpu.module(
//     convert-scf-to-cf,convert-gpu-to-nvvm,reconcile-unrealized-casts),
//     gpu-module-to-binary{format=isa})'
// then the gpu.binary's PTX string. Hopper's wgmma (asynchronous, from
// shared memory) is not probed: the matmul does not use it yet.
module attributes {gpu.container_module} {
  gpu.module @tcpeak [#nvvm.target<chip = "sm_80", features = "+ptx70">] {
    gpu.func @gemma4_tc_peak(%out: !llvm.ptr<1>, %iters: i32) kernel {
      %tid = nvvm.read.ptx.sreg.tid.x : i32
      %bid = nvvm.read.ptx.sreg.ctaid.x : i32
      %ntid = nvvm.read.ptx.sreg.ntid.x : i32
      // bf16 pairs near 2^-7 (0x3c00): sums stay small and finite.
      %base = arith.constant 1006648320 : i32
      %f0 = arith.constant 0.0 : f32
      %c0 = arith.constant 0 : i32
      %c1 = arith.constant 1 : i32
      %k0 = arith.constant 0 : i32
      %a0 = arith.ori %tid, %k0 : i32
      %x0 = arith.xori %a0, %base : i32
      %k1 = arith.constant 1 : i32
      %a1 = arith.ori %tid, %k1 : i32
      %x1 = arith.xori %a1, %base : i32
      %k2 = arith.constant 2 : i32
      %a2 = arith.ori %tid, %k2 : i32
      %x2 = arith.xori %a2, %base : i32
      %k3 = arith.constant 3 : i32
      %a3 = arith.ori %tid, %k3 : i32
      %x3 = arith.xori %a3, %base : i32
      %k4 = arith.constant 4 : i32
      %a4 = arith.ori %tid, %k4 : i32
      %x4 = arith.xori %a4, %base : i32
      %k5 = arith.constant 5 : i32
      %a5 = arith.ori %tid, %k5 : i32
      %x5 = arith.xori %a5, %base : i32
      %k6 = arith.constant 6 : i32
      %a6 = arith.ori %tid, %k6 : i32
      %x6 = arith.xori %a6, %base : i32
      %k7 = arith.constant 7 : i32
      %a7 = arith.ori %tid, %k7 : i32
      %x7 = arith.xori %a7, %base : i32
      %b = arith.xori %tid, %base : i32
      %r:32 = scf.for %it = %c0 to %iters step %c1 iter_args(%i0_0 = %f0, %i0_1 = %f0, %i0_2 = %f0, %i0_3 = %f0, %i1_0 = %f0, %i1_1 = %f0, %i1_2 = %f0, %i1_3 = %f0, %i2_0 = %f0, %i2_1 = %f0, %i2_2 = %f0, %i2_3 = %f0, %i3_0 = %f0, %i3_1 = %f0, %i3_2 = %f0, %i3_3 = %f0, %i4_0 = %f0, %i4_1 = %f0, %i4_2 = %f0, %i4_3 = %f0, %i5_0 = %f0, %i5_1 = %f0, %i5_2 = %f0, %i5_3 = %f0, %i6_0 = %f0, %i6_1 = %f0, %i6_2 = %f0, %i6_3 = %f0, %i7_0 = %f0, %i7_1 = %f0, %i7_2 = %f0, %i7_3 = %f0) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) : i32 {
        %d0 = nvvm.mma.sync A[%x0, %x0, %x0, %x0] B[%b, %b] C[%i0_0, %i0_1, %i0_2, %i0_3]
          {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
           multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
           shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
        %e0_0 = llvm.extractvalue %d0[0] : !llvm.struct<(f32, f32, f32, f32)>
        %e0_1 = llvm.extractvalue %d0[1] : !llvm.struct<(f32, f32, f32, f32)>
        %e0_2 = llvm.extractvalue %d0[2] : !llvm.struct<(f32, f32, f32, f32)>
        %e0_3 = llvm.extractvalue %d0[3] : !llvm.struct<(f32, f32, f32, f32)>
        %d1 = nvvm.mma.sync A[%x1, %x1, %x1, %x1] B[%b, %b] C[%i1_0, %i1_1, %i1_2, %i1_3]
          {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
           multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
           shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
        %e1_0 = llvm.extractvalue %d1[0] : !llvm.struct<(f32, f32, f32, f32)>
        %e1_1 = llvm.extractvalue %d1[1] : !llvm.struct<(f32, f32, f32, f32)>
        %e1_2 = llvm.extractvalue %d1[2] : !llvm.struct<(f32, f32, f32, f32)>
        %e1_3 = llvm.extractvalue %d1[3] : !llvm.struct<(f32, f32, f32, f32)>
        %d2 = nvvm.mma.sync A[%x2, %x2, %x2, %x2] B[%b, %b] C[%i2_0, %i2_1, %i2_2, %i2_3]
          {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
           multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
           shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
        %e2_0 = llvm.extractvalue %d2[0] : !llvm.struct<(f32, f32, f32, f32)>
        %e2_1 = llvm.extractvalue %d2[1] : !llvm.struct<(f32, f32, f32, f32)>
        %e2_2 = llvm.extractvalue %d2[2] : !llvm.struct<(f32, f32, f32, f32)>
        %e2_3 = llvm.extractvalue %d2[3] : !llvm.struct<(f32, f32, f32, f32)>
        %d3 = nvvm.mma.sync A[%x3, %x3, %x3, %x3] B[%b, %b] C[%i3_0, %i3_1, %i3_2, %i3_3]
          {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
           multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
           shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
        %e3_0 = llvm.extractvalue %d3[0] : !llvm.struct<(f32, f32, f32, f32)>
        %e3_1 = llvm.extractvalue %d3[1] : !llvm.struct<(f32, f32, f32, f32)>
        %e3_2 = llvm.extractvalue %d3[2] : !llvm.struct<(f32, f32, f32, f32)>
        %e3_3 = llvm.extractvalue %d3[3] : !llvm.struct<(f32, f32, f32, f32)>
        %d4 = nvvm.mma.sync A[%x4, %x4, %x4, %x4] B[%b, %b] C[%i4_0, %i4_1, %i4_2, %i4_3]
          {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
           multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
           shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
        %e4_0 = llvm.extractvalue %d4[0] : !llvm.struct<(f32, f32, f32, f32)>
        %e4_1 = llvm.extractvalue %d4[1] : !llvm.struct<(f32, f32, f32, f32)>
        %e4_2 = llvm.extractvalue %d4[2] : !llvm.struct<(f32, f32, f32, f32)>
        %e4_3 = llvm.extractvalue %d4[3] : !llvm.struct<(f32, f32, f32, f32)>
        %d5 = nvvm.mma.sync A[%x5, %x5, %x5, %x5] B[%b, %b] C[%i5_0, %i5_1, %i5_2, %i5_3]
          {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
           multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
           shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
        %e5_0 = llvm.extractvalue %d5[0] : !llvm.struct<(f32, f32, f32, f32)>
        %e5_1 = llvm.extractvalue %d5[1] : !llvm.struct<(f32, f32, f32, f32)>
        %e5_2 = llvm.extractvalue %d5[2] : !llvm.struct<(f32, f32, f32, f32)>
        %e5_3 = llvm.extractvalue %d5[3] : !llvm.struct<(f32, f32, f32, f32)>
        %d6 = nvvm.mma.sync A[%x6, %x6, %x6, %x6] B[%b, %b] C[%i6_0, %i6_1, %i6_2, %i6_3]
          {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
           multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
           shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
        %e6_0 = llvm.extractvalue %d6[0] : !llvm.struct<(f32, f32, f32, f32)>
        %e6_1 = llvm.extractvalue %d6[1] : !llvm.struct<(f32, f32, f32, f32)>
        %e6_2 = llvm.extractvalue %d6[2] : !llvm.struct<(f32, f32, f32, f32)>
        %e6_3 = llvm.extractvalue %d6[3] : !llvm.struct<(f32, f32, f32, f32)>
        %d7 = nvvm.mma.sync A[%x7, %x7, %x7, %x7] B[%b, %b] C[%i7_0, %i7_1, %i7_2, %i7_3]
          {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
           multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
           shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
        %e7_0 = llvm.extractvalue %d7[0] : !llvm.struct<(f32, f32, f32, f32)>
        %e7_1 = llvm.extractvalue %d7[1] : !llvm.struct<(f32, f32, f32, f32)>
        %e7_2 = llvm.extractvalue %d7[2] : !llvm.struct<(f32, f32, f32, f32)>
        %e7_3 = llvm.extractvalue %d7[3] : !llvm.struct<(f32, f32, f32, f32)>
        scf.yield %e0_0, %e0_1, %e0_2, %e0_3, %e1_0, %e1_1, %e1_2, %e1_3, %e2_0, %e2_1, %e2_2, %e2_3, %e3_0, %e3_1, %e3_2, %e3_3, %e4_0, %e4_1, %e4_2, %e4_3, %e5_0, %e5_1, %e5_2, %e5_3, %e6_0, %e6_1, %e6_2, %e6_3, %e7_0, %e7_1, %e7_2, %e7_3 : f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32
      }
      %s1 = arith.addf %r#0, %r#1 : f32
      %s2 = arith.addf %s1, %r#2 : f32
      %s3 = arith.addf %s2, %r#3 : f32
      %s4 = arith.addf %s3, %r#4 : f32
      %s5 = arith.addf %s4, %r#5 : f32
      %s6 = arith.addf %s5, %r#6 : f32
      %s7 = arith.addf %s6, %r#7 : f32
      %s8 = arith.addf %s7, %r#8 : f32
      %s9 = arith.addf %s8, %r#9 : f32
      %s10 = arith.addf %s9, %r#10 : f32
      %s11 = arith.addf %s10, %r#11 : f32
      %s12 = arith.addf %s11, %r#12 : f32
      %s13 = arith.addf %s12, %r#13 : f32
      %s14 = arith.addf %s13, %r#14 : f32
      %s15 = arith.addf %s14, %r#15 : f32
      %s16 = arith.addf %s15, %r#16 : f32
      %s17 = arith.addf %s16, %r#17 : f32
      %s18 = arith.addf %s17, %r#18 : f32
      %s19 = arith.addf %s18, %r#19 : f32
      %s20 = arith.addf %s19, %r#20 : f32
      %s21 = arith.addf %s20, %r#21 : f32
      %s22 = arith.addf %s21, %r#22 : f32
      %s23 = arith.addf %s22, %r#23 : f32
      %s24 = arith.addf %s23, %r#24 : f32
      %s25 = arith.addf %s24, %r#25 : f32
      %s26 = arith.addf %s25, %r#26 : f32
      %s27 = arith.addf %s26, %r#27 : f32
      %s28 = arith.addf %s27, %r#28 : f32
      %s29 = arith.addf %s28, %r#29 : f32
      %s30 = arith.addf %s29, %r#30 : f32
      %s31 = arith.addf %s30, %r#31 : f32
      %bn = arith.muli %bid, %ntid : i32
      %at = arith.addi %bn, %tid : i32
      %p = llvm.getelementptr %out[%at] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
      llvm.store %s31, %p : f32, !llvm.ptr<1>
      gpu.return
    }
  }
}
