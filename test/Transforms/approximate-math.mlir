// gemma4-approximate-math replaces math.tanh (GeLU, soft-cap) and math.exp
// (softmax) by MLIR's f32 polynomial approximations: clamps (cmpf/select),
// fma chains and, for exp, the 2^n scaling built with integer bit tricks.
// Calls to libm would block vectorisation. Other math ops are kept.
//
// RUN: gemma4c-opt %s -split-input-file -gemma4-approximate-math | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file | FileCheck %s --check-prefix=BEFORE

// tanh(x): clamp x to +-7.99881172, odd rational polynomial p(x^2)*x / q(x^2),
// and x itself for |x| < 4e-4.
// BEFORE-LABEL: func.func @tanh
// BEFORE: math.tanh
// CHECK-LABEL: func.func @tanh
// CHECK-SAME: (%[[X:[^:]+]]: f32) -> f32
// CHECK-NOT: math.tanh
// CHECK-DAG: %[[HI:.+]] = arith.constant 7.99881172 : f32
// CHECK-DAG: %[[LO:.+]] = arith.constant -7.99881172 : f32
// CHECK-DAG: %[[TINY:.+]] = arith.constant 4.000000e-04 : f32
// CHECK: %[[C1:.+]] = arith.cmpf ult, %[[X]], %[[HI]] : f32
// CHECK: %[[X1:.+]] = arith.select %[[C1]], %[[X]], %[[HI]] : f32
// CHECK: %[[C2:.+]] = arith.cmpf ugt, %[[X1]], %[[LO]] : f32
// CHECK: %[[XC:.+]] = arith.select %[[C2]], %[[X1]], %[[LO]] : f32
// CHECK: %[[AX:.+]] = math.absf %[[X]] : f32
// CHECK: %[[SMALL:.+]] = arith.cmpf olt, %[[AX]], %[[TINY]] : f32
// CHECK: %[[X2:.+]] = arith.mulf %[[XC]], %[[XC]] : f32
// CHECK-COUNT-6: math.fma %[[X2]],
// CHECK: %[[P:.+]] = arith.mulf %[[XC]], %{{.+}} : f32
// CHECK-COUNT-3: math.fma %[[X2]],
// CHECK: %[[R:.+]] = arith.divf %[[P]], %{{.+}} : f32
// CHECK: %[[Y:.+]] = arith.select %[[SMALL]], %[[XC]], %[[R]] : f32
// CHECK-NOT: math.tanh
// CHECK: return %[[Y]] : f32
func.func @tanh(%x: f32) -> f32 {
  %y = math.tanh %x : f32
  return %y : f32
}

// -----

// exp(x): clamp x to [-87.8, 88.8], n = floor(x log2(e) + 1/2) clamped to
// [-127, 127], Cody-Waite reduction r = x - n ln 2, polynomial in r, times
// 2^n assembled as bitcast((n + 127) << 23).
// BEFORE-LABEL: func.func @exp
// BEFORE: math.exp
// CHECK-LABEL: func.func @exp
// CHECK-SAME: (%[[X:[^:]+]]: f32) -> f32
// CHECK-NOT: math.exp
// CHECK-DAG: %[[BIAS:.+]] = arith.constant 127 : i32
// CHECK-DAG: %[[MANT:.+]] = arith.constant 23 : i32
// CHECK-DAG: %[[LOG2E:.+]] = arith.constant 1.44269502 : f32
// CHECK-DAG: %[[XMAX:.+]] = arith.constant 8.880000e+01 : f32
// CHECK-DAG: %[[XMIN:.+]] = arith.constant -8.780000e+01 : f32
// CHECK: arith.cmpf uge, %[[X]], %[[XMIN]] : f32
// CHECK: arith.cmpf ule, %{{.+}}, %[[XMAX]] : f32
// CHECK: math.fma %{{.+}}, %[[LOG2E]], %{{.+}} : f32
// CHECK: %[[N:.+]] = math.floor
// CHECK-COUNT-8: math.fma
// CHECK: %[[NI:.+]] = arith.fptosi %{{.+}} : f32 to i32
// CHECK: %[[E:.+]] = arith.addi %[[NI]], %[[BIAS]] : i32
// CHECK: %[[SH:.+]] = arith.shli %[[E]], %[[MANT]] : i32
// CHECK: %[[POW2:.+]] = arith.bitcast %[[SH]] : i32 to f32
// CHECK: %[[Y:.+]] = arith.mulf %{{.+}}, %[[POW2]] : f32
// CHECK-NOT: math.exp
// CHECK: return %[[Y]] : f32
func.func @exp(%x: f32) -> f32 {
  %y = math.exp %x : f32
  return %y : f32
}

// -----

// Vectors get the same expansion with splat constants; the lowered loop
// bodies of the compiler (math ops inside scf loops) are rewritten too.
// sin/cos/rsqrt/powf/log are not touched.
// CHECK-LABEL: func.func @vector_and_others
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK: math.sin %{{.+}} : f32
// CHECK: math.log %{{.+}} : f32
// CHECK: arith.shli %{{.+}} : vector<8xi32>
// CHECK: arith.bitcast %{{.+}} : vector<8xi32> to vector<8xf32>
// CHECK: scf.for
// CHECK: math.cos
// CHECK: math.rsqrt
// CHECK: math.powf
// CHECK: math.fma
// CHECK: arith.divf
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK: return
func.func @vector_and_others(%x: f32, %v: vector<8xf32>, %m: memref<8xf32>) -> (f32, f32, vector<8xf32>) {
  %a = math.sin %x : f32
  %b = math.log %x : f32
  %c = math.exp %v : vector<8xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %e = memref.load %m[%i] : memref<8xf32>
    %f = math.cos %e : f32
    %g = math.rsqrt %f : f32
    %h = math.powf %g, %e : f32
    %t = math.tanh %h : f32
    memref.store %t, %m[%i] : memref<8xf32>
  }
  return %a, %b, %c : f32, f32, vector<8xf32>
}
