//===- Linker.cpp - link generated code with the runtime, append payload --===//
#include "gemma4c/Target/CPU/Linker.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#ifndef GEMMA4C_CLANGXX
#define GEMMA4C_CLANGXX "/usr/lib/llvm-22/bin/clang++"
#endif

namespace gemma4c {

std::string findRuntimeDir(const std::string &triple, const char *argv0) {
  std::string exe = llvm::sys::fs::getMainExecutable(argv0, (void *)&findRuntimeDir);
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(exe));
  llvm::sys::path::remove_filename(dir); // <prefix>/bin -> <prefix>
  llvm::Triple t(triple), host(llvm::sys::getDefaultTargetTriple());
  // Cross runtimes: lib/<arch>; the host runtime: lib/.
  llvm::SmallString<256> cand(dir);
  if (t.getArch() != host.getArch())
    llvm::sys::path::append(cand, "lib", llvm::Triple::getArchTypeName(t.getArch()));
  else
    llvm::sys::path::append(cand, "lib");
  return std::string(cand);
}

bool linkExecutable(const std::string &object, const std::string &exe,
                    const std::string &triple, const std::string &runtimeDir,
                    std::string &error, bool dynamicLibc) {
  std::string main = runtimeDir + "/libgemma4rt_main.a", rt = runtimeDir + "/libgemma4rt.a",
              tok = runtimeDir + "/libgemma4rt_tokenizer.a",
              pb = runtimeDir + "/libgemma4rt_protobuf_lite.a";
  llvm::Triple t(triple), host(llvm::sys::getDefaultTargetTriple());
  bool cross = t.getArch() != host.getArch();
  for (const std::string &lib : {main, rt})
    if (!llvm::sys::fs::exists(lib)) {
      if (cross)
        error = "no " + llvm::Triple::getArchTypeName(t.getArch()).str() + " runtime: '" + lib +
                "' not found (gemma4c builds it when the cross sysroot is installed: "
                "scripts/install-deps.sh; --emit=obj|asm|llvm work without it)";
      else
        error = "runtime library '" + lib + "' not found (is gemma4c installed completely?)";
      return false;
    }
  std::vector<std::string> args = {GEMMA4C_CLANGXX, "-o", exe, object, main, rt};
  if (llvm::sys::fs::exists(tok)) {
    args.push_back(tok);
    if (llvm::sys::fs::exists(pb))
      args.push_back(pb);
  }
  if (cross && dynamicLibc) {
    // glibc from the device (a GPU binary dlopens the device's libcuda,
    // which needs the system's loader); libstdc++ linked in.
    args.push_back("--target=" + triple);
    args.push_back("-static-libstdc++");
    args.push_back("-static-libgcc");
    args.push_back("-Wl,--gc-sections");
  } else if (cross) {
    // Fully static (glibc, libstdc++, libm, pthreads from the cross sysroot):
    // the executable runs on the device with nothing installed.
    args.push_back("--target=" + triple);
    args.push_back("-static");
    args.push_back("-Wl,--gc-sections");
  } else {
    args.push_back("-static-libstdc++");
    args.push_back("-static-libgcc");
  }
  args.insert(args.end(), {"-fuse-ld=lld", "-pthread", "-lm"});
  std::vector<llvm::StringRef> refs(args.begin(), args.end());
  std::string msg;
  llvm::SmallString<128> errFile;
  llvm::sys::fs::createTemporaryFile("gemma4c-link", "txt", errFile);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, std::nullopt, llvm::StringRef(errFile)};
  int rc = llvm::sys::ExecuteAndWait(args[0], refs, std::nullopt, redirects, 0, 0, &msg);
  if (rc != 0) {
    std::ifstream in{std::string(errFile)};
    std::string first;
    std::getline(in, first);
    error = "linking failed (" + (msg.empty() ? "exit " + std::to_string(rc) : msg) + ")" +
            (first.empty() ? "" : ": " + first);
    llvm::sys::fs::remove(errFile);
    return false;
  }
  llvm::sys::fs::remove(errFile);
  return true;
}

bool appendPayload(const std::string &path, std::vector<PayloadPart> &parts,
                   const std::function<std::string(const std::vector<PayloadPart> &)> &manifest,
                   std::string &error) {
  FILE *f = std::fopen(path.c_str(), "ab");
  if (!f) {
    error = "cannot open '" + path + "' to append the payload: " + std::strerror(errno);
    return false;
  }
  std::fseek(f, 0, SEEK_END);
  uint64_t pos = std::ftell(f);
  bool ok = true;
  auto sink = [&](const void *p, size_t n) {
    if (ok && n && std::fwrite(p, 1, n, f) != n)
      ok = false;
    pos += n;
  };
  static const char zeros[4096] = {0};
  auto pad = [&](uint64_t align) {
    uint64_t target = (pos + align - 1) / align * align;
    while (pos < target)
      sink(zeros, std::min<uint64_t>(target - pos, sizeof zeros));
  };
  for (PayloadPart &p : parts) {
    pad(std::max<uint64_t>(1, p.align));
    p.offset = pos;
    uint64_t before = pos;
    p.write(sink);
    if (pos - before != p.size) {
      error = "internal error: payload part wrote " + std::to_string(pos - before) +
              " bytes, expected " + std::to_string(p.size);
      std::fclose(f);
      return false;
    }
  }
  std::string m = manifest(parts);
  uint64_t mOff = pos;
  sink(m.data(), m.size());
  char trailer[32];
  std::memcpy(trailer, "GEMMA4PL", 8);
  uint64_t vals[3] = {mOff, (uint64_t)m.size(), 1};
  std::memcpy(trailer + 8, vals, 24); // little-endian hosts only (x86-64, AArch64)
  sink(trailer, 32);
  if (std::fclose(f) != 0 || !ok) {
    error = "writing '" + path + "' failed: " + std::strerror(errno);
    return false;
  }
  return true;
}

} // namespace gemma4c
