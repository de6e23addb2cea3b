//===- Compile.cpp - gemma4c compile --------------------------------------===//
//
// checkpoint -> gemma4 dialect -> the target's graph and lowering pipelines
// (Target.h) -> host LLVM IR -> object -> linked with the runtime ->
// payload (weights, tokenizer, manifest, the target's device code)
// appended. Every output is written under a temporary name and renamed
// only when complete, so a failure never leaves a partial file behind.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Options.h"
#include "WeightPacking.h"

#include "gemma4/IR/Gemma4Ops.h"
#include "gemma4c/Frontend/Checkpoint.h"
#include "gemma4c/Frontend/Importer.h"
#include "gemma4c/Quant/Scheme.h"
#include "gemma4c/Target/CPU/Linker.h"
#include "gemma4c/Target/CPU/ObjectEmitter.h"
#include "gemma4c/Target/CUDA/Toolkit.h"
#include "gemma4c/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#if __has_include("gemma4rt/chat_template.h")
#include "gemma4rt/chat_template.h"
#include "gemma4rt/tokenizer.h"
#define GEMMA4C_HAS_TOKENIZER 1
#else
#define GEMMA4C_HAS_TOKENIZER 0
#endif

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <fcntl.h>
#include <unistd.h>

namespace gemma4c {
namespace {

const char *kCompileHelp = R"(Usage: gemma4c compile <checkpoint-dir> -o <output> [options]

Compiles a Hugging Face Gemma 4 checkpoint into a standalone executable.

Options:
  -o <path>                 output file ('-' = stdout for text forms)
  --emit=<kind>             exe (default) | obj | asm | llvm | mlir | ptx | spirv
                            (mlir: the gemma4 dialect after the graph passes;
                            with --target=cuda obj/asm/llvm are the host code,
                            ptx the kernels; spirv: the Vulkan kernels' SPIR-V
                            binary)
  --target=<triple>|cuda|vulkan
                            target triple (default: the host), e.g. x86_64-linux-gnu;
                            cuda: the model runs on an NVIDIA GPU (the host
                            code for this machine, or the --gpu board's)
                            vulkan: the model runs on any Vulkan 1.2 GPU
                            (SPIR-V kernels; the host code for this machine
                            or --host)
  --host=<triple>           with --target=vulkan: the host code's triple,
                            e.g. aarch64-linux-gnu
  --gpu=<name>              with --target=cuda: sm_80, sm_86, sm_87, sm_89,
                            sm_90 (default) or jetson-orin (sm_87 with an
                            AArch64 Jetson host); see gemma4c targets
  --cpu=<name>              target CPU (default: the host CPU natively, generic
                            when cross-compiling), e.g. x86-64-v3, skylake;
                            with --target=cuda the host CPU
  --weights=<mode>          embedded (default: inside the executable, memory-
                            mapped at start-up) | external (<output>.weights)
  --max-context=<n>         default context of the binary (default 4096,
                            clamped to max_position_embeddings)
  --prefill-chunk=<n>       tokens per prefill call (default 64; GPU
                            targets 512: a GPU needs wide products)
  --compute=<type>          f32 (default: weights widened to f32, matches
                            transformers run in f32) | bf16 (activations
                            rounded to bfloat16 between ops, as transformers
                            runs a bf16 model)
  --quant=<scheme>          weight quantization, done at compile time with
                            dequantisation fused into the matmuls:
                            bf16 (default): weights as in the checkpoint
                            int8: per-output-channel symmetric int8
                            int4[-g32|-g128][-sym|-asym][-f16|-bf16]: group-
                              wise int4 (default g32, sym, f16 scales)
                            mixed: int4-g32 layers and experts, int8
                              embedding/lm-head and per-layer table, router
                              kept (int8 where a group does not divide K)
  --act-quant=<mode>        activations of quantized matmuls:
                            auto (default): int8 per 32-element block with
                              integer dot products where the target has them
                              (x86 AVX-512 VNNI, AArch64 dotprod), else f32
                            int8: as auto, an error on a target without them
                            f32: weights widened to f32 in registers (equals
                              gemma4c fake-quant in f32; slower)
  --weight-prefetch=<n>     software-prefetch decode weights n bytes ahead
                            (auto (default): 2048 on Intel x86 CPUs, off on
                            AMD, generic x86-64 and AArch64; 0: off)
  --bf16-dot=<mode>         with --compute=bf16, bf16 weights' dot products:
                            off (default): widened to f32, f32 FMA tiles;
                            on: vdpbf16ps on x86 CPUs with AVX512-BF16
                            (slower than off where measured)
  --decode-row-tile=<n>     weight rows a decode matrix-vector step reads
                            side by side, from equal parts of the matrix, of
                            weights not in row tiles (1-16, default 4)
  --k-panel=<n>             store interleaved int4 weights of linear and MLP
                            down projections with more than n input features
                            as panels of at most n (a multiple of 256), so a
                            decode step's activations stay in L1 (default
                            3072; 0: none)
  --row-tile=<n>            store each n rows of an interleaved int4 weight
                            without K panels (linears, MLPs, embeddings) as
                            one stream with their scales, read by one decode
                            step; with integer dot products only (auto
                            (default): 4 on AMD x86 CPUs, none elsewhere;
                            2-16; 0: none)
  --decode-batch=<n>        also emit @gemma4_decode_batch, one decode step of
                            n sequences at once: the server's slots
                            (--serve --parallel) share each pass over the
                            weights; CPU targets; 2-64, 8 suits --parallel 8
                            (default 0: none; the entry makes compiling
                            about 2-3x slower)
  --serial                  generate single-threaded code (no thread pool)
  --gpu-tune=<k=v,...>      GPU kernel tuning, for benchmarks (GPU targets):
                            key-chunk (keys per attention chunk), fold-unroll,
                            decode-rows (output rows a subgroup, decode),
                            merge (kernels a launch may run),
                            unroll (constant loops), block-size,
                            tile (prefill block tiles TOKENSxROWSxK or 0)
                            attn-tile (prefill attention tiles
                            QUERIESxKEYS[xSLICE] or 0)
  --draft=<checkpoint-dir>  speculative decoding: compile a draft model (a
                            smaller Gemma 4 with the target's vocabulary)
                            into the same executable, with a verify entry of
                            the target; the binary then drafts --draft-tokens
                            tokens per step and verifies them in one call
  --no-fuse-attention       keep attention unfused (for debugging)
  --opt=<0-3>               LLVM optimisation level (default 3)
  --print-ir-after-all      print the IR after every MLIR pass to stderr
  --help                    this text
)";

struct CompileOptions {
  std::string checkpoint, output, emit = "exe", triple, cpu, weights = "embedded", quant = "bf16";
  bool cuda = false;   ///< --target=cuda
  bool vulkan = false; ///< --target=vulkan
  std::string host;    ///< --host (vulkan)
  std::string gpu;     ///< --gpu value (empty: sm_90)
  std::vector<std::string> cpuOnlyFlags; ///< CPU strategy flags given (an error with cuda)
  std::string actQuant = "auto";
  int64_t weightPrefetch = -1; ///< -1: auto (defaultWeightPrefetch)
  int64_t decodeRowTile = 4;
  bool bf16Dot = false;
  int64_t kPanel = 3072;
  int64_t rowTile = -1; ///< -1: auto (defaultRowTile)
  int64_t maxContext = 4096, opt = 3;
  int64_t prefillChunk = 0; ///< 0: the target's default (CPU 64, GPU 512)
  int64_t decodeBatch = 0; ///< --decode-batch (CPU targets; 0: none)
  bool serial = false, fuse = true, printAfterAll = false, bf16 = false;
  std::string gpuTune; ///< --gpu-tune
  std::string draft;   ///< --draft checkpoint ("" = none)
};

CompileOptions parse(const Args &args, bool &help) {
  CompileOptions o;
  OptionCursor cur(args);
  std::string v;
  while (!cur.done()) {
    if (cur.match("--help") || cur.match("-h")) {
      help = true;
      return o;
    }
    if (cur.match("-o", &v)) o.output = v;
    else if (cur.match("--emit", &v)) {
      if (v != "exe" && v != "obj" && v != "asm" && v != "llvm" && v != "mlir" && v != "ptx" &&
          v != "spirv")
        throw UsageError("invalid value '" + v +
                         "' for --emit (expected exe, obj, asm, llvm, mlir, ptx or spirv)");
      o.emit = v;
    } else if (cur.match("--target", &v)) {
      o.triple = v;
      o.cuda = v == "cuda";
      o.vulkan = v == "vulkan";
    } else if (cur.match("--host", &v)) {
      o.host = v;
    } else if (cur.match("--gpu", &v)) {
      std::string err;
      if (!findGPU(v, err))
        throw UsageError(err);
      o.gpu = v;
    }
    else if (cur.match("--cpu", &v)) o.cpu = v;
    else if (cur.match("--weights", &v)) {
      if (v != "embedded" && v != "external")
        throw UsageError("invalid value '" + v + "' for --weights (expected embedded or external)");
      o.weights = v;
    } else if (cur.match("--max-context", &v)) o.maxContext = parseInt("--max-context", v, 1, int64_t(1) << 30);
    else if (cur.match("--prefill-chunk", &v)) o.prefillChunk = parseInt("--prefill-chunk", v, 1, 8192);
    else if (cur.match("--opt", &v)) o.opt = parseInt("--opt", v, 0, 3);
    else if (cur.match("--serial")) o.serial = true, o.cpuOnlyFlags.push_back("--serial");
    else if (cur.match("--decode-batch", &v)) {
      o.cpuOnlyFlags.push_back("--decode-batch");
      o.decodeBatch = parseInt("--decode-batch", v, 0, 64);
      if (o.decodeBatch == 1)
        throw UsageError("invalid value '" + v + "' for --decode-batch (expected 0 or 2 to 64)");
    }
    else if (cur.match("--compute", &v)) {
      if (v != "f32" && v != "bf16")
        throw UsageError("invalid value '" + v + "' for --compute (expected f32 or bf16)");
      o.bf16 = v == "bf16";
    }
    else if (cur.match("--quant", &v)) {
      std::string err;
      if (!gemma4c::quant::parseScheme(v, err))
        throw UsageError(err);
      o.quant = v;
    }
    else if (cur.match("--act-quant", &v)) {
      if (v != "auto" && v != "int8" && v != "f32")
        throw UsageError("invalid value '" + v + "' for --act-quant (expected auto, int8 or f32)");
      o.actQuant = v;
    }
    else if (cur.match("--weight-prefetch", &v) && (o.cpuOnlyFlags.push_back("--weight-prefetch"), true))
      o.weightPrefetch = v == "auto" ? -1 : parseInt("--weight-prefetch", v, 0, 1 << 20);
    else if (cur.match("--bf16-dot", &v) && (o.cpuOnlyFlags.push_back("--bf16-dot"), true)) {
      if (v != "on" && v != "off")
        throw UsageError("invalid value '" + v + "' for --bf16-dot (expected on or off)");
      o.bf16Dot = v == "on";
    }
    else if (cur.match("--decode-row-tile", &v) && (o.cpuOnlyFlags.push_back("--decode-row-tile"), true))
      o.decodeRowTile = parseInt("--decode-row-tile", v, 1, 16);
    else if (cur.match("--k-panel", &v)) {
      o.kPanel = parseInt("--k-panel", v, 0, int64_t(1) << 20);
      if (o.kPanel % 256 != 0)
        throw UsageError("invalid value '" + v + "' for --k-panel (expected 0 or a multiple of 256)");
    }
    else if (cur.match("--row-tile", &v)) {
      o.cpuOnlyFlags.push_back("--row-tile");
      o.rowTile = v == "auto" ? -1 : parseInt("--row-tile", v, 0, 16);
      if (o.rowTile == 1)
        throw UsageError("invalid value '" + v + "' for --row-tile (expected 0 or 2 to 16)");
    }
    else if (cur.match("--gpu-tune", &v)) o.gpuTune = v;
    else if (cur.match("--draft", &v)) {
      if (v.empty())
        throw UsageError("--draft needs a checkpoint directory");
      o.draft = v;
    }
    else if (cur.match("--no-fuse-attention")) o.fuse = false;
    else if (cur.match("--print-ir-after-all")) o.printAfterAll = true;
    else if (cur.isFlag()) throw UsageError("unknown flag '" + cur.peek() + "' (see gemma4c compile --help)");
    else if (o.checkpoint.empty()) o.checkpoint = cur.positional();
    else throw UsageError("unexpected argument '" + cur.peek() + "'");
  }
  if (o.checkpoint.empty())
    throw UsageError("missing <checkpoint-dir> (see gemma4c compile --help)");
  if (o.output.empty()) {
    if (o.emit == "exe" || o.emit == "obj")
      throw UsageError("missing -o <output>");
    o.output = "-";
  }
  if (o.prefillChunk == 0)
    o.prefillChunk = o.cuda || o.vulkan ? 512 : 64;
  if (!o.gpu.empty() && !o.cuda)
    throw UsageError("--gpu needs --target=cuda");
  if (o.decodeBatch > 0 && o.triple == "gpu-emulator")
    throw UsageError("--decode-batch applies to CPU targets only, not --target=gpu-emulator");
  if (o.emit == "ptx" && !o.cuda)
    throw UsageError("--emit=ptx needs --target=cuda");
  if (o.emit == "spirv" && !o.vulkan)
    throw UsageError("--emit=spirv needs --target=vulkan");
  if (!o.host.empty() && !o.vulkan)
    throw UsageError("--host needs --target=vulkan (a CPU target takes the triple as --target)");
  if (o.emit == "spirv" && o.output == "-")
    throw UsageError("-o - is only for text outputs (--emit=mlir|llvm|asm|ptx)");
  if (o.output == "-" && (o.emit == "exe" || o.emit == "obj"))
    throw UsageError("-o - is only for text outputs (--emit=mlir|llvm|asm)");
  if (o.weights == "external" && o.emit != "exe")
    throw UsageError("--weights=external applies to --emit=exe only");
  return o;
}

/// A temporary file next to `final` that is removed unless committed.
struct TempFile {
  std::string path;
  bool keep = false;
  explicit TempFile(const std::string &final)
      : path(final + ".tmp." + std::to_string(::getpid())) {}
  ~TempFile() {
    if (!keep)
      std::remove(path.c_str());
  }
  bool commit(const std::string &final, std::string &err) {
    if (std::rename(path.c_str(), final.c_str()) != 0) {
      err = "cannot write '" + final + "': " + std::strerror(errno);
      return false;
    }
    keep = true;
    return true;
  }
};

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The manifest's "chat" object: what the runtime's ChatTemplate needs,
/// resolved here from the checkpoint (tokenizer, tokenizer_config.json markers,
/// chat template, generation_config.json eos ids) by the same
/// ChatTemplate::forTokenizer that `gemma4c` and the tests use:
///   {"format": "gemma4"|"gemma3", "markers": {...}, "stop_token_ids": [..],
///    "empty_thought_block": bool}
/// null when there is no tokenizer (or gemma4c was built without the
/// tokenizer library). Throws InputError when the tokenizer or its config
/// files do not load: the binary's text mode could not work.
nlohmann::json chatManifest(const std::string &dir, const std::string &tokPath) {
#if GEMMA4C_HAS_TOKENIZER
  if (tokPath.empty())
    return nullptr;
  using namespace gemma4rt;
  try {
    std::unique_ptr<Tokenizer> tok = Tokenizer::fromFile(tokPath);
    ChatTemplate ct = ChatTemplate::forTokenizer(*tok, dir);
    const ChatMarkers &mk = ct.markers();
    nlohmann::json c;
    c["format"] = ct.format() == ChatFormat::Gemma4 ? "gemma4" : "gemma3";
    c["markers"] = {{"bos", mk.bos},
                    {"start_of_turn", mk.startOfTurn},
                    {"end_of_turn", mk.endOfTurn},
                    {"think", mk.think},
                    {"channel_start", mk.channelStart},
                    {"channel_end", mk.channelEnd},
                    {"tool_start", mk.toolStart},
                    {"tool_end", mk.toolEnd},
                    {"tool_call_start", mk.toolCallStart},
                    {"tool_call_end", mk.toolCallEnd},
                    {"tool_response_start", mk.toolResponseStart},
                    {"tool_response_end", mk.toolResponseEnd},
                    {"quote", mk.quote}};
    c["stop_token_ids"] = ct.stopTokenIds();
    // The 26B/31B templates close an empty thought block after the
    // generation prompt when thinking is off; E2B/E4B ones do not.
    std::string jinja;
    if (llvm::sys::fs::exists(dir + "/chat_template.jinja"))
      jinja = readFile(dir + "/chat_template.jinja");
    if (llvm::sys::fs::exists(dir + "/tokenizer_config.json")) {
      auto cfg = nlohmann::json::parse(readFile(dir + "/tokenizer_config.json"), nullptr, false);
      if (cfg.is_object() && cfg.contains("chat_template") && cfg["chat_template"].is_string())
        jinja += cfg["chat_template"].get<std::string>();
    }
    bool empty = false;
    if (ct.format() == ChatFormat::Gemma4)
      for (const char *nl : {"\\n", "\n"})
        empty = empty || jinja.find(mk.channelStart + "thought" + nl + mk.channelEnd) !=
                             std::string::npos;
    c["empty_thought_block"] = empty;
    return c;
  } catch (const TokenizerError &e) {
    throw InputError(std::string("cannot prepare the chat template: ") + e.what());
  }
#else
  (void)dir;
  (void)tokPath;
  return nullptr;
#endif
}

/// The manifest's optional "generation" object: sampling defaults from
/// generation_config.json (temperature, top_k, top_p, min_p,
/// repetition_penalty; an explicit "do_sample": false means greedy, i.e.
/// temperature 0). Empty when there is nothing to record.
nlohmann::json generationManifest(const std::string &dir) {
  nlohmann::json g = nlohmann::json::object();
  std::string path = dir + "/generation_config.json";
  if (!llvm::sys::fs::exists(path))
    return g;
  auto cfg = nlohmann::json::parse(readFile(path), nullptr, false);
  if (!cfg.is_object())
    throw InputError("'" + path + "' is not a JSON object");
  for (const char *key : {"temperature", "top_p", "min_p", "repetition_penalty"})
    if (auto it = cfg.find(key); it != cfg.end() && it->is_number())
      g[key] = it->get<double>();
  if (auto it = cfg.find("top_k"); it != cfg.end() && it->is_number_integer())
    g["top_k"] = it->get<int64_t>();
  if (auto it = cfg.find("do_sample"); it != cfg.end() && it->is_boolean() && !it->get<bool>())
    g["temperature"] = 0.0;
  return g;
}

/// Bytes of weights one decode step reads: every streamed tensor once,
/// k/E of an MoE expert stack, one row of a table that is only gathered
/// (the per-layer-embedding table; the embedding table when not tied).
/// The decode roofline of bench/run divides the bandwidth by this.
/// Weight bytes one decode step reads and the multiply-adds of its matmuls
/// (weight elements with the same per-use fractions).
struct PerToken {
  int64_t bytes = 0, macs = 0;
  /// Of macs, the output projection's: a prefill call runs it for its last
  /// token only (gemma4.output_rows), once per call, not per token.
  int64_t outputMacs = 0;
};
PerToken weightsReadPerToken(mlir::ModuleOp module, llvm::StringRef decodeName = "gemma4_decode",
                             llvm::StringRef prefillName = "gemma4_prefill") {
  using namespace mlir::gemma4;
  auto decode = module.lookupSymbol<mlir::func::FuncOp>(decodeName);
  if (!decode)
    return {};
  std::map<std::string, double> bytes, macs;
  decode.walk([&](WeightOp w) {
    auto t = w.getResult().getType();
    double full = static_cast<double>(weightByteSize(t)), frac = 0;
    for (mlir::OpOperand &use : w.getResult().getUses()) {
      mlir::Operation *op = use.getOwner();
      double f = 1.0;
      if (auto e = llvm::dyn_cast<EmbeddingLookupOp>(op); e && e.getTable() == w.getResult())
        f = 1.0 / t.getShape()[0];
      else if (auto p = llvm::dyn_cast<PerLayerInputsOp>(op); p && p.getTable() == w.getResult())
        f = 1.0 / t.getShape()[0];
      else if (auto x = llvm::dyn_cast<ExpertFFNOp>(op))
        f = static_cast<double>(llvm::cast<mlir::ShapedType>(x.getExperts().getType()).getShape()[1]) /
            t.getShape()[0];
      frac = std::max(frac, f);
    }
    double &b = bytes[w.getName().str()];
    b = std::max(b, full * frac);
    double &e = macs[w.getName().str()];
    e = std::max(e, static_cast<double>(t.getNumElements()) * frac);
  });
  PerToken r;
  if (auto prefill = module.lookupSymbol<mlir::func::FuncOp>(prefillName))
    prefill.walk([&](OutputRowsOp rows) {
      for (mlir::Operation *op = rows->getNextNode(); op; op = op->getNextNode())
        if (auto l = llvm::dyn_cast<LinearOp>(op))
          r.outputMacs += llvm::cast<mlir::ShapedType>(l.getWeight().getType()).getNumElements();
    });
  for (auto &[name, b] : bytes)
    r.bytes += static_cast<int64_t>(b);
  for (auto &[name, e] : macs)
    r.macs += static_cast<int64_t>(e);
  return r;
}

/// Opens the --draft checkpoint and checks that it can draft for the target
/// `tc`: a Gemma 4 (text or conditional-generation) checkpoint whose
/// vocabulary is the target's. Every error is one line naming --draft.
std::unique_ptr<Checkpoint> openDraft(const std::string &dir, const TextConfig &tc) {
  const std::string what = "--draft '" + dir + "'";
  // Gemma 4's assistant (multi-token prediction) models are no
  // stand-alone language models: they read the target's last hidden state
  // and its last layers' KV caches (transformers' Gemma4AssistantForCausalLM).
  {
    std::ifstream in(dir + "/config.json");
    if (in) {
      std::string text((std::istreambuf_iterator<char>(in)), {});
      if (text.find("Gemma4AssistantForCausalLM") != std::string::npos ||
          text.find("\"gemma4_assistant\"") != std::string::npos)
        throw InputError(what + ": Gemma 4 assistant (MTP) drafts (Gemma4AssistantForCausalLM) "
                                "are not supported yet; give a Gemma 4 checkpoint with the "
                                "target's vocabulary");
    }
  }
  std::unique_ptr<Checkpoint> d;
  try {
    d = Checkpoint::open(dir);
  } catch (const InputError &e) {
    throw InputError(what + ": " + e.what());
  }
  const TextConfig &dc = d->config();
  if (dc.vocabSize != tc.vocabSize)
    throw InputError(what + ": vocab_size " + std::to_string(dc.vocabSize) +
                     " does not match the target's " + std::to_string(tc.vocabSize) +
                     " (a draft must share the target's tokenizer)");
  if (dc.bosTokenId != tc.bosTokenId)
    throw InputError(what + ": bos_token_id " + std::to_string(dc.bosTokenId) +
                     " does not match the target's " + std::to_string(tc.bosTokenId) +
                     " (a draft must share the target's tokenizer)");
  return d;
}

int compileMain(const CompileOptions &o, const char *argv0) {
  auto fail = [](const std::string &msg) {
    std::fprintf(stderr, "gemma4c compile: error: %s\n", msg.c_str());
    return 1;
  };
  std::unique_ptr<Checkpoint> ckpt = Checkpoint::open(o.checkpoint);
  const TextConfig &cfg = ckpt->config();
  if (!ckpt->towerTensors().empty())
    std::fprintf(stderr, "gemma4c compile: warning: '%s' has vision/audio towers (%zu tensors); they are "
                         "not compiled yet (docs/multimodal.md): the binary takes text only\n",
                 o.checkpoint.c_str(), ckpt->towerTensors().size());

  // The backend: every target-specific choice is behind it (Target.h).
  CodegenRequest req;
  req.target = o.triple;
  req.cpu = o.cpu;
  req.gpu = o.gpu;
  req.host = o.host;
  req.quant = o.quant;
  req.actQuant = o.actQuant;
  req.weightPrefetch = o.weightPrefetch;
  req.decodeRowTile = o.decodeRowTile;
  req.bf16Dot = o.bf16Dot;
  req.kPanel = o.kPanel;
  req.rowTile = o.rowTile;
  req.serial = o.serial;
  req.bf16 = o.bf16;
  req.fuseAttention = o.fuse;
  req.gpuTune = o.gpuTune;
  req.optLevel = (int)o.opt;
  req.cpuOnlyFlags = o.cpuOnlyFlags;
  std::string targetError;
  std::unique_ptr<Target> backend = o.cuda                       ? makeCUDATarget(req, targetError)
                                    : o.vulkan                   ? makeVulkanTarget(req, targetError)
                                    : o.triple == "gpu-emulator" ? makeGPUEmulatorTarget(req, targetError)
                                                                 : makeCPUTarget(req, targetError);
  if (!backend)
    throw InputError(targetError);
  const CPUTarget &target = backend->host();
  std::string triple = resolvedTriple(target);

  mlir::MLIRContext ctx;
  ctx.loadDialect<mlir::LLVM::LLVMDialect>();
  backend->prepareContext(ctx);
  OneLineErrors diagnostics(ctx, "gemma4c compile");
  ImportOptions io;
  io.maxContext = o.maxContext;
  io.prefillChunk = o.prefillChunk;
  io.roundScalesToWeightDType = o.bf16;
  // GPU targets keep one decode call per sequence (the server's slots).
  io.decodeBatch = o.decodeBatch;
  std::unique_ptr<Checkpoint> draft;
  if (!o.draft.empty()) {
    draft = openDraft(o.draft, cfg);
    io.verifyEntry = true;
  }
  mlir::OwningOpRef<mlir::ModuleOp> module = importCheckpoint(ctx, *ckpt, io);
  if (draft)
    importDraft(ctx, *module, *draft, io);

  if (o.printAfterAll)
    ctx.disableMultithreading();
  auto runPM = [&](auto build) -> bool {
    mlir::PassManager pm(&ctx);
    if (o.printAfterAll)
      pm.enableIRPrinting([](mlir::Pass *, mlir::Operation *) { return false; },
                          [](mlir::Pass *, mlir::Operation *) { return true; },
                          /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
    build(pm);
    return mlir::succeeded(pm.run(*module));
  };
  if (!runPM([&](mlir::PassManager &pm) { backend->buildGraphPipeline(pm); }))
    return diagnostics.printed() ? 1 : fail("graph passes failed on '" + o.checkpoint + "'");

  if (o.emit == "mlir") {
    std::error_code ec;
    llvm::raw_fd_ostream os(o.output, ec);
    if (ec)
      return fail("cannot write '" + o.output + "': " + ec.message());
    module->print(os);
    return 0;
  }

  // The weight blob layout, decided by gemma4-quantize-weights (encodings)
  // and gemma4-layout-weights (offsets).
  struct BlobEntry {
    const TensorView *tensor;
    mlir::RankedTensorType type;
  };
  std::map<int64_t, BlobEntry> blob;
  module->walk([&](mlir::gemma4::WeightOp w) {
    llvm::StringRef name = w.getName();
    const Checkpoint *from = ckpt.get();
    if (draft && name.consume_front("draft:"))
      from = draft.get();
    blob[(int64_t)*w.getOffset()] = {&from->get(name.str()), w.getResult().getType()};
  });
  PerToken perToken = weightsReadPerToken(*module);
  PerToken draftPerToken;
  if (draft)
    draftPerToken = weightsReadPerToken(*module, "gemma4_draft_decode", "gemma4_draft_prefill");
  auto sizeAttr = (*module)->getAttrOfType<mlir::IntegerAttr>("gemma4.weights_size");
  uint64_t weightsSize = sizeAttr ? sizeAttr.getInt() : 0;
  auto attrInt = [&](const char *name) {
    return (*module)->getAttrOfType<mlir::IntegerAttr>(name).getInt();
  };
  int64_t kvFixed = attrInt("gemma4.kv_bytes_fixed"), kvPerCtx = attrInt("gemma4.kv_bytes_per_context"),
          defaultCtx = attrInt("gemma4.default_context");
  int64_t draftKvFixed = draft ? attrInt("gemma4.draft.kv_bytes_fixed") : 0,
          draftKvPerCtx = draft ? attrInt("gemma4.draft.kv_bytes_per_context") : 0;

  if (!runPM([&](mlir::PassManager &pm) { backend->buildLoweringPipeline(pm); }))
    return diagnostics.printed() ? 1 : fail("lowering failed on '" + o.checkpoint + "'");
  {
    std::string err;
    if (!backend->finish(*module, o.emit, err))
      return fail(err);
  }
  if (std::optional<std::string> device = backend->emitDeviceCode(o.emit)) {
    if (o.output == "-") {
      std::fwrite(device->data(), 1, device->size(), stdout);
      return 0;
    }
    TempFile out(o.output);
    std::ofstream(out.path, std::ios::binary) << *device;
    std::string err;
    return out.commit(o.output, err) ? 0 : fail(err);
  }

  std::string err;
  if (o.emit != "exe") {
    EmitKind kind = o.emit == "obj" ? EmitKind::Object : o.emit == "asm" ? EmitKind::Assembly : EmitKind::LLVMIR;
    if (o.output == "-") {
      llvm::SmallString<128> tmp;
      llvm::sys::fs::createTemporaryFile("gemma4c", "out", tmp);
      if (!emitCPU(*module, target, kind, std::string(tmp), err))
        return std::remove(tmp.c_str()), fail(err);
      std::string text = readFile(std::string(tmp));
      std::remove(tmp.c_str());
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    }
    TempFile out(o.output);
    if (!emitCPU(*module, target, kind, out.path, err) || !out.commit(o.output, err))
      return fail(err);
    return 0;
  }

  // Object, link, payload.
  TempFile obj(o.output + ".o");
  if (!emitCPU(*module, target, EmitKind::Object, obj.path, err))
    return fail(err);
  TempFile exe(o.output);
  std::string rtDir = findRuntimeDir(triple, argv0);
  if (!linkExecutable(obj.path, exe.path, triple, rtDir, err, backend->dynamicLibc()))
    return fail(err);

  auto writeWeights = [&](const std::function<void(const void *, size_t)> &sink) {
    static const char zeros[4096] = {0};
    uint64_t pos = 0;
    for (auto &[off, e] : blob) {
      while (pos < (uint64_t)off) {
        uint64_t n = std::min<uint64_t>(off - pos, sizeof zeros);
        sink(zeros, n);
        pos += n;
      }
      const TensorView *t = e.tensor;
      if (mlir::gemma4::getQuant(e.type)) {
        packWeight(*t, e.type, [&](const void *p, size_t k) { sink(p, k), pos += k; });
        continue;
      }
      sink(t->data, t->nbytes);
      pos += t->nbytes;
    }
  };
  std::vector<PayloadPart> parts;
  bool external = o.weights == "external";
  std::string weightsName = llvm::sys::path::filename(o.output).str() + ".weights";
  std::unique_ptr<TempFile> wfile;
  if (external) {
    // Written in aligned 64 KiB blocks; a block that is all zeros is skipped
    // (a hole, read back as zeros) and the file is extended to its full size
    // at the end, so a zero checkpoint's weights (synth --zeros) take no disk.
    // Same bytes as a plain write.
    wfile = std::make_unique<TempFile>(o.output + ".weights");
    int fd = ::open(wfile->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
      return fail("cannot write '" + o.output + ".weights': " + std::strerror(errno));
    constexpr size_t kBlock = 64 << 10;
    static const char kZeros[kBlock] = {0};
    std::vector<char> buf(kBlock);
    size_t fill = 0;   // bytes in buf
    uint64_t at = 0;   // file offset of buf[0], a multiple of kBlock
    int werr = 0;      // first errno
    auto put = [&](const char *p, size_t n) { // one block at `at`, unless all zeros
      if (std::memcmp(p, kZeros, n) != 0)
        for (size_t done = 0; done < n && !werr;) {
          ssize_t w = ::pwrite(fd, p + done, n - done, static_cast<off_t>(at + done));
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0)
            werr = w < 0 ? errno : EIO;
          else
            done += static_cast<size_t>(w);
        }
      at += n;
    };
    writeWeights([&](const void *data, size_t n) {
      const char *p = static_cast<const char *>(data);
      while (n && !werr) {
        if (fill == 0 && n >= kBlock) { // whole blocks straight from the source
          put(p, kBlock), p += kBlock, n -= kBlock;
          continue;
        }
        size_t k = std::min(n, kBlock - fill);
        std::memcpy(buf.data() + fill, p, k), fill += k, p += k, n -= k;
        if (fill == kBlock)
          put(buf.data(), kBlock), fill = 0;
      }
    });
    if (fill)
      put(buf.data(), fill);
    if (!werr && ::ftruncate(fd, static_cast<off_t>(at)) != 0)
      werr = errno;
    if (::close(fd) != 0 && !werr)
      werr = errno;
    if (werr)
      return fail("writing '" + o.output + ".weights' failed: " + std::strerror(werr));
  } else {
    parts.push_back({weightsSize, 4096, writeWeights});
  }
  // Tokenizer: tokenizer.json, else tokenizer.model; none => ids-only.
  std::string tokPath, tokFormat;
  for (auto [file, fmt] : {std::pair{"tokenizer.json", "hf-json"}, std::pair{"tokenizer.model", "sentencepiece"}}) {
    std::string p = o.checkpoint + "/" + file;
    if (llvm::sys::fs::exists(p)) {
      tokPath = p;
      tokFormat = fmt;
      break;
    }
  }
  std::string tokBytes;
  if (!tokPath.empty()) {
    tokBytes = readFile(tokPath);
    parts.push_back({tokBytes.size(), 8, [&](const std::function<void(const void *, size_t)> &sink) {
                       sink(tokBytes.data(), tokBytes.size());
                     }});
  } else {
    std::fprintf(stderr, "gemma4c compile: warning: '%s' has no tokenizer.json or tokenizer.model: "
                         "the binary takes and prints token ids only\n", o.checkpoint.c_str());
  }
  // What the target adds (a GPU's kernels), placed after the tokenizer.
  std::vector<TargetBlob> targetBlobs = backend->blobs();
  size_t firstBlob = parts.size();
  for (const TargetBlob &tb : targetBlobs)
    parts.push_back({tb.bytes.size(), tb.align, [&tb](const std::function<void(const void *, size_t)> &sink) {
                       sink(tb.bytes.data(), tb.bytes.size());
                     }});
  nlohmann::json chat = chatManifest(o.checkpoint, tokPath);
  nlohmann::json generation = generationManifest(o.checkpoint);

  auto manifest = [&](const std::vector<PayloadPart> &ps) {
    nlohmann::json m;
    m["abi"] = 1;
    m["model"] = {{"name", llvm::sys::path::filename(llvm::StringRef(o.checkpoint).rtrim('/')).str()},
                  {"vocab_size", cfg.vocabSize},
                  {"num_layers", cfg.numLayers},
                  {"hidden_size", cfg.hiddenSize},
                  {"max_position_embeddings", cfg.maxPositionEmbeddings},
                  {"bos_token_id", cfg.bosTokenId},
                  {"eos_token_ids", cfg.eosTokenIds},
                  {"pad_token_id", cfg.padTokenId}};
    m["prefill_chunk"] = o.prefillChunk;
    if (io.decodeBatch > 0)
      m["decode_batch"] = io.decodeBatch;
    m["quant"] = o.quant;
    m["weights_read_per_token"] = perToken.bytes;
    m["matmul_macs_per_token"] = perToken.macs;
    m["output_macs_per_call"] = perToken.outputMacs;
    m["default_context"] = defaultCtx;
    m["kv_bytes_fixed"] = kvFixed;
    m["kv_bytes_per_context"] = kvPerCtx;
    if (draft) {
      const TextConfig &dc = draft->config();
      m["draft"] = {{"name", llvm::sys::path::filename(llvm::StringRef(o.draft).rtrim('/')).str()},
                    {"vocab_size", dc.vocabSize},
                    {"num_layers", dc.numLayers},
                    {"hidden_size", dc.hiddenSize},
                    {"kv_bytes_fixed", draftKvFixed},
                    {"kv_bytes_per_context", draftKvPerCtx},
                    {"weights_read_per_token", draftPerToken.bytes}};
    }
    size_t i = 0;
    if (external)
      m["weights"] = {{"file", weightsName}, {"size", weightsSize}};
    else
      m["weights"] = {{"offset", ps[i].offset}, {"size", weightsSize}}, ++i;
    if (!tokPath.empty())
      m["tokenizer"] = {{"offset", ps[i].offset}, {"size", ps[i].size}, {"format", tokFormat}};
    else
      m["tokenizer"] = nullptr;
    m["chat"] = chat;
    if (!generation.empty())
      m["generation"] = generation;
    std::map<std::string, std::pair<uint64_t, uint64_t>> placed;
    for (size_t i = 0; i < targetBlobs.size(); ++i)
      placed[targetBlobs[i].key] = {ps[firstBlob + i].offset, ps[firstBlob + i].size};
    m["compiler"] = {{"version", GEMMA4C_VERSION}};
    backend->describe(m, placed);
    return m.dump();
  };
  if (!appendPayload(exe.path, parts, manifest, err))
    return fail(err);
  llvm::sys::fs::setPermissions(exe.path, llvm::sys::fs::all_read | llvm::sys::fs::all_exe |
                                              llvm::sys::fs::owner_write);
  if (wfile && !wfile->commit(o.output + ".weights", err))
    return fail(err);
  if (!exe.commit(o.output, err))
    return fail(err);
  return 0;
}

} // namespace

int runCompile(const Args &args) {
  bool help = false;
  CompileOptions o;
  try {
    o = parse(args, help);
  } catch (const UsageError &e) {
    std::fprintf(stderr, "gemma4c compile: error: %s\n", e.what());
    return 2;
  }
  if (help) {
    std::fputs(kCompileHelp, stdout);
    return 0;
  }
  try {
    return compileMain(o, "/proc/self/exe");
  } catch (const InputError &e) {
    std::fprintf(stderr, "gemma4c compile: error: %s\n", e.what());
    return 1;
  }
}

} // namespace gemma4c
