//===- FakeQuant.cpp - gemma4c fake-quant ---------------------------------===//
//
// Writes a copy of a checkpoint in which every weight that a --quant scheme
// quantizes is replaced by its dequantised values (f32): the exact weights a
// quantized binary computes with. Two uses: evaluate a scheme's quality in
// any other engine (e.g. transformers), and check gemma4c's fused
// dequantising matmuls, since an unquantized binary of the fake-quantized
// checkpoint must agree with the quantized binary of the original to
// float-rounding accuracy (test/Quant).
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Options.h"
#include "WeightPacking.h"

#include "gemma4c/Frontend/Checkpoint.h"
#include "gemma4c/Frontend/Importer.h"
#include "gemma4c/Quant/Pack.h"
#include "gemma4c/Quant/Scheme.h"
#include "gemma4c/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

namespace gemma4c {
namespace {
namespace fs = std::filesystem;

const char *kHelp = R"(Usage: gemma4c fake-quant <checkpoint-dir> --quant=<scheme> -o <dir>

Writes <dir>: the checkpoint with every weight the scheme quantizes replaced
by its dequantised f32 values (what a --quant=<scheme> binary computes with),
other tensors copied unchanged, plus config and tokenizer files. Use it to
measure a scheme in another engine, or to check the fused dequantisation:
`compile <dir>` must give the same logits as `compile --quant=<scheme>` of
the original.

Options:
  --quant=<scheme>   as for gemma4c compile (required)
  -o <dir>           output directory (must not exist)
)";

struct Quantized {
  mlir::RankedTensorType type;
  ::gemma4::quant::Spec spec;
  int64_t rows, K;
};

int fakeQuant(const std::string &dir, const std::string &scheme, const std::string &out) {
  auto ckpt = Checkpoint::open(dir);
  if (fs::exists(out))
    throw InputError("output directory '" + out + "' already exists");
  mlir::MLIRContext ctx;
  OneLineErrors diagnostics(ctx, "gemma4c fake-quant");
  ImportOptions io;
  auto module = importCheckpoint(ctx, *ckpt, io);
  mlir::PassManager pm(&ctx);
  mlir::gemma4::GraphPipelineOptions po;
  po.quant = scheme;
  mlir::gemma4::buildGraphPipeline(pm, po);
  if (mlir::failed(pm.run(*module))) {
    if (!diagnostics.printed())
      std::fprintf(stderr, "gemma4c fake-quant: error: graph passes failed on '%s'\n", dir.c_str());
    return 1;
  }
  std::map<std::string, Quantized> quantized;
  module->walk([&](mlir::gemma4::WeightOp w) {
    auto t = w.getResult().getType();
    if (auto q = mlir::gemma4::getQuant(t)) {
      int64_t K = t.getShape().back();
      quantized[w.getName().str()] = {t, q.getSpec(), t.getNumElements() / K, K};
    }
  });

  std::string tmp = out + ".tmp." + std::to_string(::getpid());
  fs::create_directories(tmp);
  struct Cleanup {
    std::string p;
    bool keep = false;
    ~Cleanup() {
      if (!keep) {
        std::error_code ec;
        fs::remove_all(p, ec);
      }
    }
  } cleanup{tmp};
  for (const char *f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer.model",
                        "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"})
    if (fs::exists(fs::path(dir) / f))
      fs::copy_file(fs::path(dir) / f, fs::path(tmp) / f);

  // Header first: offsets of every tensor, quantized ones as F32.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  uint64_t off = 0;
  for (auto &[name, t] : ckpt->tensors()) {
    bool q = quantized.count(name);
    uint64_t n = q ? static_cast<uint64_t>(t->numElements()) * 4 : t->nbytes;
    header[t->name] = {{"dtype", q ? "F32" : dtypeName(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {off, off + n}}};
    off += n;
  }
  std::string h = header.dump();
  while (h.size() % 8)
    h += ' ';
  std::ofstream os(fs::path(tmp) / "model.safetensors", std::ios::binary);
  uint64_t hl = h.size();
  os.write(reinterpret_cast<const char *>(&hl), 8);
  os.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (auto &[name, t] : ckpt->tensors()) {
    auto it = quantized.find(name);
    if (it == quantized.end()) {
      os.write(reinterpret_cast<const char *>(t->data), static_cast<std::streamsize>(t->nbytes));
      continue;
    }
    const Quantized &qz = it->second;
    std::vector<uint8_t> packed;
    packWeight(*t, qz.type, [&](const void *p, size_t n) {
      packed.insert(packed.end(), static_cast<const uint8_t *>(p), static_cast<const uint8_t *>(p) + n);
    });
    std::vector<float> row(static_cast<size_t>(qz.K));
    for (int64_t r = 0; r < qz.rows; ++r) {
      for (int64_t k = 0; k < qz.K; ++k)
        row[k] = quant::dequantize(qz.spec, packed.data(), qz.rows, qz.K, r, k);
      os.write(reinterpret_cast<const char *>(row.data()), static_cast<std::streamsize>(row.size() * 4));
    }
  }
  os.close();
  if (!os)
    throw InputError("writing '" + out + "/model.safetensors' failed");
  fs::rename(tmp, out);
  cleanup.keep = true;
  std::fprintf(stderr, "gemma4c fake-quant: %zu tensors dequantised from --quant=%s into %s\n",
               quantized.size(), scheme.c_str(), out.c_str());
  return 0;
}
} // namespace

int runFakeQuant(const Args &args) {
  std::string dir, out, scheme, v;
  try {
    OptionCursor cur(args);
    while (!cur.done()) {
      if (cur.match("--help") || cur.match("-h")) {
        std::fputs(kHelp, stdout);
        return 0;
      }
      if (cur.match("-o", &v)) out = v;
      else if (cur.match("--quant", &v)) {
        std::string err;
        if (!quant::parseScheme(v, err))
          throw UsageError(err);
        scheme = v;
      } else if (cur.isFlag()) throw UsageError("unknown flag '" + cur.peek() + "' (see gemma4c fake-quant --help)");
      else if (dir.empty()) dir = cur.positional();
      else throw UsageError("unexpected argument '" + cur.peek() + "'");
    }
    if (dir.empty())
      throw UsageError("missing <checkpoint-dir> (see gemma4c fake-quant --help)");
    if (scheme.empty())
      throw UsageError("missing --quant=<scheme>");
    if (out.empty())
      throw UsageError("missing -o <dir>");
  } catch (const UsageError &e) {
    std::fprintf(stderr, "gemma4c fake-quant: error: %s\n", e.what());
    return 2;
  }
  try {
    return fakeQuant(dir, scheme, out);
  } catch (const InputError &e) {
    std::fprintf(stderr, "gemma4c fake-quant: error: %s\n", e.what());
    return 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "gemma4c fake-quant: error: %s\n", e.what());
    return 1;
  }
}

} // namespace gemma4c
