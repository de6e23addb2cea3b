//===- Import.cpp - gemma4c import ----------------------------------------===//
#include "Commands.h"
#include "Options.h"

#include "gemma4c/Frontend/Checkpoint.h"
#include "gemma4c/Frontend/Importer.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

namespace gemma4c {

static const char *kImportHelp = R"(Usage: gemma4c import <checkpoint-dir> [--emit=mlir] [-o <file>]

Imports a Gemma 4 checkpoint and prints it in the gemma4 dialect: entry
points @gemma4_prefill (token block) and @gemma4_decode (one token), weights
referenced by name (no data in the IR).

Options:
  --emit=mlir               the only form today (default)
  -o <file>                 write to a file instead of stdout
  --max-context=<n>         default context recorded on the module (4096)
  --prefill-chunk=<n>       tokens per prefill call (64)
  --decode-batch=<n>        also @gemma4_decode_batch, a decode step of n
                            sequences (2-64; default 0: none)
)";

int runImport(const Args &args) {
  std::string dir, out = "-", v;
  ImportOptions io;
  try {
    OptionCursor cur(args);
    while (!cur.done()) {
      if (cur.match("--help") || cur.match("-h")) {
        std::fputs(kImportHelp, stdout);
        return 0;
      }
      if (cur.match("--emit", &v)) {
        if (v != "mlir")
          throw UsageError("invalid value '" + v + "' for --emit (import emits mlir)");
      } else if (cur.match("-o", &v)) out = v;
      else if (cur.match("--max-context", &v)) io.maxContext = parseInt("--max-context", v, 1, int64_t(1) << 30);
      else if (cur.match("--prefill-chunk", &v)) io.prefillChunk = parseInt("--prefill-chunk", v, 1, 8192);
      else if (cur.match("--decode-batch", &v)) {
        io.decodeBatch = parseInt("--decode-batch", v, 0, 64);
        if (io.decodeBatch == 1)
          throw UsageError("invalid value '" + v + "' for --decode-batch (expected 0 or 2 to 64)");
      }
      else if (cur.isFlag()) throw UsageError("unknown flag '" + cur.peek() + "' (see gemma4c import --help)");
      else if (dir.empty()) dir = cur.positional();
      else throw UsageError("unexpected argument '" + cur.peek() + "'");
    }
    if (dir.empty())
      throw UsageError("missing <checkpoint-dir> (see gemma4c import --help)");
  } catch (const UsageError &e) {
    std::fprintf(stderr, "gemma4c import: error: %s\n", e.what());
    return 2;
  }
  try {
    auto ckpt = Checkpoint::open(dir);
    mlir::MLIRContext ctx;
    auto module = importCheckpoint(ctx, *ckpt, io);
    std::error_code ec;
    llvm::raw_fd_ostream os(out, ec);
    if (ec) {
      std::fprintf(stderr, "gemma4c import: error: cannot write '%s': %s\n", out.c_str(), ec.message().c_str());
      return 1;
    }
    module->print(os);
    return 0;
  } catch (const InputError &e) {
    std::fprintf(stderr, "gemma4c import: error: %s\n", e.what());
    return 1;
  }
}

} // namespace gemma4c
