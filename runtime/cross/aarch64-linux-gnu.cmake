# Toolchain for the AArch64 cross runtime: clang from LLVM 22 against Debian's
# cross sysroot (/usr/aarch64-linux-gnu, from libc6-dev-arm64-cross and
# g++-aarch64-linux-gnu, found by clang's GCC detection; no --sysroot).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
if(NOT GEMMA4C_LLVM_ROOT)
  set(GEMMA4C_LLVM_ROOT /usr/lib/llvm-22)
endif()
set(CMAKE_C_COMPILER ${GEMMA4C_LLVM_ROOT}/bin/clang)
set(CMAKE_CXX_COMPILER ${GEMMA4C_LLVM_ROOT}/bin/clang++)
set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_CXX_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_AR ${GEMMA4C_LLVM_ROOT}/bin/llvm-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${GEMMA4C_LLVM_ROOT}/bin/llvm-ranlib CACHE FILEPATH "")
# Only static archives are built here; compiler checks need not link.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
