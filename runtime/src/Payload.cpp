//===- Payload.cpp - locate, validate and map the appended payload -------===//
#include "gemma4rt/payload.h"
#include "gemma4rt/error.h"
#include "gemma4rt/threadpool.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <fcntl.h>
#include <mutex>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gemma4rt {

using json = nlohmann::json;

namespace {

std::string errnoText() { return std::strerror(errno); }

// Weights are streamed whole every decode step: 2 MiB pages spare the TLB
// misses of 4 KiB ones (one-core E2B int4 decode on Zen 4: ~10%). Advice
// only: no huge pages is fine. On a file mapping it must come before
// MADV_WILLNEED, so the readahead fills the page cache with 2 MiB folios
// where the file system allows (ext4 and XFS on recent kernels); pages
// already cached in small folios stay small.
void adviseHugePages(void *p, size_t n) {
#ifdef MADV_HUGEPAGE
  ::madvise(p, n, MADV_HUGEPAGE);
#endif
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

void preadAll(int fd, void *buf, size_t n, uint64_t off, const std::string &path) {
  auto *p = static_cast<uint8_t *>(buf);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      throw Error("cannot read " + path + ": " + (r < 0 ? errnoText() : "unexpected end of file"));
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
}

uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

std::string dirOf(const std::string &path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

} // namespace

//===----------------------------------------------------------------------===//
// Manifest
//===----------------------------------------------------------------------===//

Manifest parseManifest(std::string_view text, const std::string &where) {
  auto bad = [&](const std::string &what) -> Error {
    return Error("corrupt model payload in " + where + ": " + what);
  };
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw bad("manifest is not valid JSON");
  if (!j.is_object())
    throw bad("manifest is not a JSON object");

  auto member = [&](const json &obj, const char *key, const std::string &ctx) -> const json & {
    auto it = obj.find(key);
    if (it == obj.end())
      throw bad("manifest lacks \"" + ctx + key + "\"");
    return *it;
  };
  auto integer = [&](const json &obj, const char *key, const std::string &ctx, int64_t lo,
                     int64_t hi = INT64_MAX) -> int64_t {
    const json &v = member(obj, key, ctx);
    if (!v.is_number_integer())
      throw bad("manifest \"" + ctx + key + "\" is not an integer");
    int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)
                    ? INT64_MAX
                    : v.get<int64_t>();
    if (x < lo || x > hi)
      throw bad("manifest \"" + ctx + key + "\" = " + std::to_string(x) + " is out of range");
    return x;
  };
  auto optInteger = [&](const json &obj, const char *key, const std::string &ctx,
                        int64_t dflt) -> int64_t {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
      return dflt;
    return integer(obj, key, ctx, INT32_MIN, INT32_MAX);
  };

  Manifest m;
  m.abi = integer(j, "abi", "", 0);
  if (m.abi != GEMMA4RT_ABI_VERSION)
    throw Error("model payload in " + where + " has ABI version " + std::to_string(m.abi) +
                ", this runtime implements " + std::to_string(GEMMA4RT_ABI_VERSION));

  const json &model = member(j, "model", "");
  if (!model.is_object())
    throw bad("manifest \"model\" is not an object");
  if (auto it = model.find("name"); it != model.end() && it->is_string())
    m.model.name = it->get<std::string>();
  m.model.vocabSize = integer(model, "vocab_size", "model.", 1, INT32_MAX);
  m.model.numLayers = optInteger(model, "num_layers", "model.", 0);
  m.model.hiddenSize = optInteger(model, "hidden_size", "model.", 0);
  m.model.maxPositionEmbeddings = integer(model, "max_position_embeddings", "model.", 1);
  m.model.bosTokenId = static_cast<int32_t>(optInteger(model, "bos_token_id", "model.", -1));
  m.model.padTokenId = static_cast<int32_t>(optInteger(model, "pad_token_id", "model.", -1));
  if (auto it = model.find("eos_token_ids"); it != model.end() && !it->is_null()) {
    const json &eos = *it;
    auto addEos = [&](const json &v) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= m.model.vocabSize)
        throw bad("manifest \"model.eos_token_ids\" holds an invalid id");
      m.model.eosTokenIds.push_back(static_cast<int32_t>(v.get<int64_t>()));
    };
    if (eos.is_array())
      for (const json &v : eos)
        addEos(v);
    else
      addEos(eos);
  }

  m.prefillChunk = integer(j, "prefill_chunk", "", 1, 1 << 20);
  if (j.contains("decode_batch"))
    m.decodeBatch = integer(j, "decode_batch", "", 2, 1024);
  m.defaultContext = integer(j, "default_context", "", 1);
  m.kvBytesFixed = static_cast<uint64_t>(integer(j, "kv_bytes_fixed", "", 0));
  m.kvBytesPerContext = static_cast<uint64_t>(integer(j, "kv_bytes_per_context", "", 0));

  const json &w = member(j, "weights", "");
  if (!w.is_object())
    throw bad("manifest \"weights\" is not an object");
  m.weightsSize = static_cast<uint64_t>(integer(w, "size", "weights.", 0));
  if (auto it = w.find("file"); it != w.end()) {
    if (!it->is_string() || it->get<std::string>().empty())
      throw bad("manifest \"weights.file\" is not a file name");
    m.weightsExternal = true;
    m.weightsFile = it->get<std::string>();
  } else {
    m.weightsOffset = static_cast<uint64_t>(integer(w, "offset", "weights.", 0));
    if (m.weightsOffset % 4096 != 0)
      throw bad("weights offset " + std::to_string(m.weightsOffset) + " is not 4096-aligned");
  }

  if (auto it = j.find("tokenizer"); it != j.end() && !it->is_null()) {
    const json &t = *it;
    if (!t.is_object())
      throw bad("manifest \"tokenizer\" is neither an object nor null");
    m.hasTokenizer = true;
    m.tokenizerOffset = static_cast<uint64_t>(integer(t, "offset", "tokenizer.", 0));
    m.tokenizerSize = static_cast<uint64_t>(integer(t, "size", "tokenizer.", 0));
    if (auto f = t.find("format"); f != t.end() && f->is_string())
      m.tokenizerFormat = f->get<std::string>();
  }
  if (auto it = j.find("chat"); it != j.end() && !it->is_null())
    m.chatJson = it->dump();

  if (auto it = j.find("compiler"); it != j.end() && it->is_object()) {
    for (auto [key, list] : {std::pair{"x86_features", &m.x86Features},
                             std::pair{"aarch64_features", &m.aarch64Features}}) {
      auto f = it->find(key);
      if (f == it->end())
        continue;
      if (!f->is_array())
        throw bad(std::string("compiler.") + key + " is not a list");
      for (const json &x : *f) {
        if (!x.is_string())
          throw bad(std::string("compiler.") + key + " holds a non-string");
        list->push_back(x.get<std::string>());
      }
    }
    if (auto f = it->find("cpu"); f != it->end() && f->is_string())
      m.compiledForCpu = f->get<std::string>();
  }

  if (auto it = j.find("generation"); it != j.end() && it->is_object()) {
    const json &g = *it;
    auto num = [&](const char *key, double &out) {
      if (auto f = g.find(key); f != g.end() && f->is_number())
        out = f->get<double>();
    };
    num("temperature", m.generation.temperature);
    num("top_p", m.generation.topP);
    num("min_p", m.generation.minP);
    num("repetition_penalty", m.generation.repeatPenalty);
    if (auto f = g.find("top_k"); f != g.end() && f->is_number_integer())
      m.generation.topK = f->get<int64_t>();
  }
  if (auto it = j.find("quant"); it != j.end() && !it->is_null()) {
    if (!it->is_string())
      throw bad("manifest \"quant\" is not a string");
    m.quant = it->get<std::string>();
  }
  if (auto it = j.find("weights_read_per_token"); it != j.end() && !it->is_null())
    m.weightsReadPerToken = integer(j, "weights_read_per_token", "", 0);
  if (auto it = j.find("matmul_macs_per_token"); it != j.end() && !it->is_null())
    m.matmulMacsPerToken = integer(j, "matmul_macs_per_token", "", 0);
  if (auto it = j.find("output_macs_per_call"); it != j.end() && !it->is_null())
    m.outputMacsPerCall = integer(j, "output_macs_per_call", "", 0);

  if (auto it = j.find("draft"); it != j.end() && !it->is_null()) {
    const json &d = *it;
    if (!d.is_object())
      throw bad("manifest \"draft\" is not an object");
    DraftManifest dm;
    if (auto f = d.find("name"); f != d.end() && f->is_string())
      dm.name = f->get<std::string>();
    if (integer(d, "vocab_size", "draft.", 1) != m.model.vocabSize)
      throw bad("manifest \"draft.vocab_size\" differs from the model's");
    dm.numLayers = integer(d, "num_layers", "draft.", 1);
    dm.kvBytesFixed = static_cast<uint64_t>(integer(d, "kv_bytes_fixed", "draft.", 0));
    dm.kvBytesPerContext = static_cast<uint64_t>(integer(d, "kv_bytes_per_context", "draft.", 0));
    if (auto f = d.find("weights_read_per_token"); f != d.end() && !f->is_null())
      dm.weightsReadPerToken = integer(d, "weights_read_per_token", "draft.", 0);
    m.draft = dm;
  }

  if (auto it = j.find("gpu"); it != j.end() && !it->is_null()) {
    const json &g = *it;
    if (!g.is_object())
      throw bad("manifest \"gpu\" is not an object");
    GpuManifest gm;
    auto string = [&](const char *key) -> std::string {
      const json &v = member(g, key, "gpu.");
      if (!v.is_string())
        throw bad(std::string("manifest \"gpu.") + key + "\" is not a string");
      return v.get<std::string>();
    };
    gm.api = string("api");
    if (gm.api != "cuda" && gm.api != "vulkan")
      throw bad("manifest \"gpu.api\" is \"" + gm.api +
                "\": this runtime supports \"cuda\" and \"vulkan\"");
    // "kernels": gemma4rt_gpu_launch's table (both APIs).
    auto readKernels = [&] {
      const json &k = member(g, "kernels", "gpu.");
      if (!k.is_array())
        throw bad("manifest \"gpu.kernels\" is not a list of kernel names");
      for (const json &name : k) {
        if (!name.is_string() || name.get<std::string>().empty())
          throw bad("manifest \"gpu.kernels\" holds something other than a kernel name");
        gm.kernels.push_back(name.get<std::string>());
      }
    };
    if (gm.api == "cuda") {
    gm.arch = string("arch");
    {
      // sm_<major><minor>[a|f], e.g. sm_90, sm_90a, sm_100f, sm_120.
      const std::string &a = gm.arch;
      size_t end = a.size();
      if (end > 0 && (a.back() == 'a' || a.back() == 'f'))
        gm.archSuffix = a[--end];
      bool ok = a.size() > 3 && a.compare(0, 3, "sm_") == 0 && end > 4 && end <= 6;
      for (size_t i = 3; ok && i < end; ++i)
        ok = a[i] >= '0' && a[i] <= '9';
      if (!ok || a[3] == '0')
        throw bad("manifest \"gpu.arch\" = \"" + a + "\" is not a CUDA architecture (sm_XY)");
      gm.sm = std::stoi(a.substr(3, end - 3));
    }
    readKernels();
    const json &ptx = member(g, "ptx", "gpu.");
    if (!ptx.is_object())
      throw bad("manifest \"gpu.ptx\" is not an object");
    gm.ptxOffset = static_cast<uint64_t>(integer(ptx, "offset", "gpu.ptx.", 0));
    gm.ptxSize = static_cast<uint64_t>(integer(ptx, "size", "gpu.ptx.", 1));
    if (auto c = g.find("cubin"); c != g.end() && !c->is_null()) {
      if (!c->is_object())
        throw bad("manifest \"gpu.cubin\" is neither an object nor null");
      gm.hasCubin = true;
      gm.cubinOffset = static_cast<uint64_t>(integer(*c, "offset", "gpu.cubin.", 0));
      gm.cubinSize = static_cast<uint64_t>(integer(*c, "size", "gpu.cubin.", 1));
    }
    if (auto p = g.find("pdl"); p != g.end()) {
      if (!p->is_boolean())
        throw bad("manifest \"gpu.pdl\" is not true or false");
      gm.pdl = p->get<bool>();
    }
    } else {
      readKernels();
      const json &sp = member(g, "spirv", "gpu.");
      if (!sp.is_object())
        throw bad("manifest \"gpu.spirv\" is not an object");
      gm.spirvOffset = static_cast<uint64_t>(integer(sp, "offset", "gpu.spirv.", 0));
      gm.spirvSize = static_cast<uint64_t>(integer(sp, "size", "gpu.spirv.", 4));
      const json &ki = member(g, "kernel_info", "gpu.");
      if (!ki.is_array() || ki.size() != gm.kernels.size())
        throw bad("manifest \"gpu.kernel_info\" is not one entry per kernel");
      for (const json &e : ki) {
        if (!e.is_object())
          throw bad("manifest \"gpu.kernel_info\" holds something other than an object");
        GpuManifest::VulkanKernel vk;
        vk.paramBytes = static_cast<uint32_t>(integer(e, "params", "gpu.kernel_info.", 0));
        if (e.contains("shared"))
          vk.sharedBytes = static_cast<uint32_t>(integer(e, "shared", "gpu.kernel_info.", 0, UINT32_MAX));
        const json &wg = member(e, "workgroup", "gpu.kernel_info.");
        if (!wg.is_array() || wg.size() != 3)
          throw bad("manifest \"gpu.kernel_info.workgroup\" is not [x, y, z]");
        for (int d = 0; d < 3; ++d) {
          if (!wg[d].is_number_integer() || wg[d].get<int64_t>() < 1 || wg[d].get<int64_t>() > 1024)
            throw bad("manifest \"gpu.kernel_info.workgroup\" is not [x, y, z] in 1..1024");
          vk.workgroup[d] = static_cast<uint32_t>(wg[d].get<int64_t>());
        }
        gm.vulkanKernels.push_back(vk);
      }
      gm.subgroupSize = integer(g, "subgroup_size", "gpu.", 1);
    }
    m.gpu = std::move(gm);
  }
  return m;
}

bool GpuManifest::ptxRunsOn(int devSm) const {
  if (archSuffix == 'a')
    return devSm == sm;
  if (archSuffix == 'f')
    return devSm / 10 == sm / 10 && devSm >= sm;
  return devSm >= sm;
}

void checkCpuFeatures(const Manifest &m) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  for (const std::string &f : m.x86Features) {
    int has = 1; // names this runtime cannot test are assumed present
#define GEMMA4RT_FEATURE(name)                                                                     \
  else if (f == name) has = __builtin_cpu_supports(name);
    if (false) {
    }
    GEMMA4RT_FEATURE("sse4.2") GEMMA4RT_FEATURE("avx") GEMMA4RT_FEATURE("avx2")
    GEMMA4RT_FEATURE("fma") GEMMA4RT_FEATURE("f16c") GEMMA4RT_FEATURE("bmi2")
    GEMMA4RT_FEATURE("avx512f") GEMMA4RT_FEATURE("avx512bw") GEMMA4RT_FEATURE("avx512vl")
    GEMMA4RT_FEATURE("avx512dq") GEMMA4RT_FEATURE("avx512bf16") GEMMA4RT_FEATURE("avx512vnni")
    GEMMA4RT_FEATURE("avx512fp16")
#undef GEMMA4RT_FEATURE
    if (!has)
      throw Error("this model was compiled for CPU '" + m.compiledForCpu + "' and uses " + f +
                  ", which this CPU lacks: recompile it with gemma4c compile --cpu=<this CPU> "
                  "(e.g. --cpu=x86-64-v3 for any AVX2 machine)");
  }
#elif defined(__aarch64__)
  // HWCAP bits of the Linux arm64 ABI (asm/hwcap.h).
  constexpr unsigned long kFPHP = 1ul << 9, kASIMDHP = 1ul << 10, kASIMDDP = 1ul << 20;
  unsigned long hw = ::getauxval(AT_HWCAP);
  for (const std::string &f : m.aarch64Features) {
    bool has = true; // names this runtime cannot test are assumed present
    if (f == "dotprod")
      has = hw & kASIMDDP;
    else if (f == "fullfp16")
      has = (hw & kFPHP) && (hw & kASIMDHP);
    if (!has)
      throw Error("this model was compiled for CPU '" + m.compiledForCpu + "' and uses " + f +
                  ", which this CPU lacks: recompile it with gemma4c compile "
                  "--target=aarch64-linux-gnu --cpu=<this CPU> (e.g. --cpu=cortex-a72)");
  }
#else
  (void)m;
#endif
}

//===----------------------------------------------------------------------===//
// MappedRegion
//===----------------------------------------------------------------------===//

MappedRegion::MappedRegion(int fd, uint64_t offset, uint64_t size, const std::string &what) {
  size_ = size;
  if (size == 0) {
    alignas(4096) static const uint8_t empty[64] = {};
    data_ = empty;
    return;
  }
  uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t start = offset / page * page;
  mapSize_ = static_cast<size_t>(offset - start + size);
  map_ = ::mmap(nullptr, mapSize_, PROT_READ, MAP_PRIVATE, fd, static_cast<off_t>(start));
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw Error("cannot map " + what + ": " + errnoText());
  }
  adviseHugePages(map_, mapSize_); // before WILLNEED (see there)
  ::madvise(map_, mapSize_, MADV_WILLNEED);
  data_ = static_cast<const uint8_t *>(map_) + (offset - start);
}

double MappedRegion::populate() {
  if (!map_)
    return 0;
  auto t0 = std::chrono::steady_clock::now();
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 // Linux 5.14
#endif
  // In 64 MiB pieces on the thread pool: page-cache pages are mapped (and
  // missing ones read) by every thread at once.
  constexpr size_t kPiece = size_t(64) << 20;
  const int64_t pieces = int64_t((mapSize_ + kPiece - 1) / kPiece);
  std::atomic<bool> unsupported{false};
  globalThreadPool().parallelFor(pieces, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e && !unsupported.load(std::memory_order_relaxed); ++i) {
      size_t at = size_t(i) * kPiece, n = std::min(kPiece, mapSize_ - at);
      if (::madvise(static_cast<uint8_t *>(map_) + at, n, MADV_POPULATE_READ) != 0 &&
          errno == EINVAL)
        unsupported = true; // an older kernel: the pages come on first use
    }
  });
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

MappedRegion MappedRegion::anonymous(uint64_t size, const std::string &what) {
  MappedRegion r;
  r.size_ = size;
  if (size == 0) {
    alignas(4096) static const uint8_t empty[64] = {};
    r.data_ = empty;
    return r;
  }
  uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (size > UINT64_MAX / 2)
    throw Error("cannot allocate " + what + " of " + std::to_string(size) + " bytes");
  r.mapSize_ = static_cast<size_t>((size + page - 1) / page * page);
  // 2 MiB more than needed, then the slack before the first 2 MiB boundary
  // and after the end unmapped: a huge page needs a 2 MiB-aligned virtual
  // range (the kernel aligns large anonymous mappings itself only since 6.7).
  const size_t huge = size_t(2) << 20, slack = r.mapSize_ >= huge ? huge : 0;
  void *raw = ::mmap(nullptr, r.mapSize_ + slack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED)
    throw Error("cannot allocate " + what + " of " + std::to_string(size) +
                " bytes: " + errnoText());
  auto *base = static_cast<uint8_t *>(raw);
  uint8_t *p = base;
  if (slack) {
    p = reinterpret_cast<uint8_t *>((reinterpret_cast<uintptr_t>(base) + huge - 1) & ~(huge - 1));
    if (p > base)
      ::munmap(base, size_t(p - base));
    if (size_t tail = size_t(base + r.mapSize_ + slack - (p + r.mapSize_)))
      ::munmap(p + r.mapSize_, tail);
  }
  adviseHugePages(p, r.mapSize_);
  r.map_ = p;
  r.data_ = static_cast<const uint8_t *>(p);
  return r;
}

void MappedRegion::makeReadOnly() {
  if (map_ && ::mprotect(map_, mapSize_, PROT_READ) != 0)
    throw Error(std::string("cannot make the weights read-only: ") + errnoText());
}

MappedRegion::MappedRegion(MappedRegion &&o) noexcept { *this = std::move(o); }

MappedRegion &MappedRegion::operator=(MappedRegion &&o) noexcept {
  if (this != &o) {
    if (map_)
      ::munmap(map_, mapSize_);
    map_ = o.map_;
    mapSize_ = o.mapSize_;
    data_ = o.data_;
    size_ = o.size_;
    o.map_ = nullptr;
    o.mapSize_ = 0;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

MappedRegion::~MappedRegion() {
  if (map_)
    ::munmap(map_, mapSize_);
}

//===----------------------------------------------------------------------===//
// Payload
//===----------------------------------------------------------------------===//

WeightsLoad parseWeightsLoad(const std::string &value, const std::string &what) {
  if (value == "auto")
    return WeightsLoad::Auto;
  if (value == "read")
    return WeightsLoad::Read;
  if (value == "map")
    return WeightsLoad::Map;
  throw UsageError(what + ": expected auto, read or map, got '" + value + "'");
}

namespace {

/// MemAvailable of /proc/meminfo in bytes (free memory plus what the kernel
/// can reclaim, e.g. clean page cache); the free pages when it cannot be read.
uint64_t availableMemory() {
  if (FILE *f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kb = 0;
    bool found = false;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
        found = true;
        break;
      }
    std::fclose(f);
    if (found)
      return uint64_t(kb) * 1024;
  }
  return uint64_t(::sysconf(_SC_AVPHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGESIZE));
}

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(1ull << 30));
  return buf;
}

} // namespace

Payload::~Payload() {
  if (readFd_ >= 0)
    ::close(readFd_);
}

int64_t Payload::weightsHugePageBytes() const {
  const void *start = weights_.mapStart();
  if (!start)
    return -1;
  FILE *f = std::fopen("/proc/self/smaps", "r");
  if (!f)
    return -1;
  char line[512];
  bool inside = false;
  int64_t bytes = -1;
  while (std::fgets(line, sizeof line, f)) {
    unsigned long lo = 0, hi = 0;
    // A mapping's header: "lo-hi perms offset dev inode [path]".
    if (std::sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
      if (inside)
        break;
      inside = lo == reinterpret_cast<uintptr_t>(start);
      continue;
    }
    unsigned long long kb = 0;
    if (inside && (std::sscanf(line, "AnonHugePages: %llu kB", &kb) == 1 ||
                   std::sscanf(line, "FilePmdMapped: %llu kB", &kb) == 1))
      bytes = std::max<int64_t>(bytes, 0) + int64_t(kb) * 1024;
  }
  std::fclose(f);
  return bytes;
}

double Payload::readWeights() {
  if (!readPending_)
    return 0;
  auto t0 = std::chrono::steady_clock::now();
  const uint64_t n = manifest_.weightsSize;
  MappedRegion r = MappedRegion::anonymous(n, "memory for the weights");
  // Blocks of 8 MiB (4 huge pages) read in parallel: each thread faults in
  // and fills its own pages, and the page cache (or the disk) is read by
  // several threads at once.
  constexpr uint64_t kBlock = 8 << 20;
  const int64_t blocks = int64_t((n + kBlock - 1) / kBlock);
  std::mutex mu;
  std::string failure;
  uint8_t *dst = r.writableData();
  globalThreadPool().parallelFor(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const uint64_t begin = uint64_t(b) * kBlock, len = std::min(kBlock, n - begin);
      try {
        preadAll(readFd_, dst + begin, size_t(len), readOffset_ + begin, weightsPath_);
      } catch (const Error &e) {
        std::lock_guard<std::mutex> g(mu);
        if (failure.empty())
          failure = e.what();
        return;
      }
    }
  });
  if (!failure.empty())
    throw Error(failure);
  r.makeReadOnly();
  weights_ = std::move(r);
  ::close(readFd_);
  readFd_ = -1;
  readPending_ = false;
  readDone_ = true;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string Payload::selfExePath(const char *argv0) {
  char buf[PATH_MAX + 1];
  ssize_t n = ::readlink("/proc/self/exe", buf, PATH_MAX);
  if (n > 0) {
    buf[n] = 0;
    if (::access(buf, R_OK) == 0)
      return buf;
  }
  std::string a = argv0 ? argv0 : "";
  if (a.empty())
    throw Error("cannot locate the executable (no /proc/self/exe and no argv[0])");
  if (a.find('/') == std::string::npos) {
    if (const char *path = std::getenv("PATH")) {
      std::string p = path;
      size_t start = 0;
      while (start <= p.size()) {
        size_t end = p.find(':', start);
        if (end == std::string::npos)
          end = p.size();
        std::string dir = p.substr(start, end - start);
        std::string cand = (dir.empty() ? "." : dir) + "/" + a;
        if (::access(cand.c_str(), X_OK) == 0) {
          a = cand;
          break;
        }
        start = end + 1;
      }
    }
  }
  if (char *r = ::realpath(a.c_str(), nullptr)) {
    a = r;
    std::free(r);
  }
  return a;
}

std::unique_ptr<Payload> Payload::open(const std::string &exePath, bool mapWeights,
                                       WeightsLoad how) {
  std::unique_ptr<Payload> p(new Payload());
  p->path_ = exePath;
  Fd f;
  f.fd = ::open(exePath.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0)
    throw Error("cannot open " + exePath + ": " + errnoText());
  struct stat st;
  if (::fstat(f.fd, &st) != 0)
    throw Error("cannot stat " + exePath + ": " + errnoText());
  uint64_t fileSize = static_cast<uint64_t>(st.st_size);

  auto missing = [&]() {
    return Error("no model payload in " + exePath +
                 " (this runtime must be linked by `gemma4c compile`, which appends one)");
  };
  auto bad = [&](const std::string &what) {
    return Error("corrupt model payload in " + exePath + ": " + what);
  };
  if (fileSize < GEMMA4RT_TRAILER_SIZE)
    throw missing();
  uint8_t tr[GEMMA4RT_TRAILER_SIZE];
  preadAll(f.fd, tr, sizeof tr, fileSize - GEMMA4RT_TRAILER_SIZE, exePath);
  if (std::memcmp(tr, GEMMA4RT_PAYLOAD_MAGIC, 8) != 0)
    throw missing();
  uint64_t mOff = le64(tr + 8), mSize = le64(tr + 16), version = le64(tr + 24);
  if (version != GEMMA4RT_ABI_VERSION)
    throw Error("model payload in " + exePath + " has format version " + std::to_string(version) +
                ", this runtime reads version " + std::to_string(GEMMA4RT_ABI_VERSION));
  uint64_t payloadEnd = fileSize - GEMMA4RT_TRAILER_SIZE;
  if (mOff > payloadEnd || mSize > payloadEnd - mOff)
    throw bad("manifest [" + std::to_string(mOff) + ", +" + std::to_string(mSize) +
              ") lies outside the file (truncated?)");
  if (mSize > (64u << 20))
    throw bad("manifest of " + std::to_string(mSize) + " bytes is implausibly large");
  std::string text(mSize, '\0');
  preadAll(f.fd, text.data(), mSize, mOff, exePath);
  p->manifest_ = parseManifest(text, exePath);
  const Manifest &m = p->manifest_;

  if (m.hasTokenizer) {
    if (m.tokenizerOffset > mOff || m.tokenizerSize > mOff - m.tokenizerOffset)
      throw bad("tokenizer bytes lie outside the payload");
    p->tokenizer_.resize(m.tokenizerSize);
    preadAll(f.fd, p->tokenizer_.data(), m.tokenizerSize, m.tokenizerOffset, exePath);
  }

  if (m.gpu) {
    // Like the tokenizer: before the manifest. The PTX is a C string.
    auto read = [&](const char *field, uint64_t off, uint64_t size, std::string &out) {
      if (off > mOff || size > mOff - off)
        throw bad(std::string("gpu.") + field + " [" + std::to_string(off) + ", +" +
                  std::to_string(size) + ") lies outside the payload (truncated?)");
      out.resize(size);
      preadAll(f.fd, out.data(), size, off, exePath);
    };
    if (m.gpu->api == "vulkan") {
      read("spirv", m.gpu->spirvOffset, m.gpu->spirvSize, p->gpuSpirv_);
      if (p->gpuSpirv_.size() % 4 != 0 || p->gpuSpirv_.size() < 20 ||
          static_cast<uint8_t>(p->gpuSpirv_[0]) != 0x03 ||
          static_cast<uint8_t>(p->gpuSpirv_[3]) != 0x07)
        throw bad("gpu.spirv is not a SPIR-V module");
    } else {
      read("ptx", m.gpu->ptxOffset, m.gpu->ptxSize, p->gpuPtx_);
      if (p->gpuPtx_.back() != '\0' || p->gpuPtx_.find('\0') != p->gpuPtx_.size() - 1)
        throw bad("gpu.ptx is not one NUL-terminated text");
      if (m.gpu->hasCubin)
        read("cubin", m.gpu->cubinOffset, m.gpu->cubinSize, p->gpuCubin_);
    }
  }

  // Map, or read (later, on the thread pool: readWeights()). A GPU binary
  // uploads from the mapping and then drops it.
  // A CPU binary's mapping is paged in at start-up (the first prompt then
  // takes no page faults) when the weights take at most half of the
  // available memory; else pages come on first use, and the rows of gather-
  // only tables that are never used (most of the per-layer-embedding
  // table) are never read.
  bool populate = false;
  if (m.gpu || m.weightsSize == 0) {
    how = WeightsLoad::Map;
  } else {
    const uint64_t avail = availableMemory();
    const bool fits = m.weightsSize <= avail / 2;
    if (how == WeightsLoad::Auto) {
      how = fits ? WeightsLoad::Read : WeightsLoad::Map;
      p->loadReason_ = std::string(fits ? "at most" : "more than") + " half of the " +
                       gib(avail) + " available";
    }
    populate = how == WeightsLoad::Map && fits;
  }
  auto keep = [&](Fd &file, uint64_t offset) {
    p->readFd_ = file.fd;
    file.fd = -1;
    p->readOffset_ = offset;
    p->readPending_ = true;
  };

  if (!m.weightsExternal) {
    p->weightsPath_ = exePath;
    if (!mapWeights)
      return p;
    if (m.weightsOffset > mOff || m.weightsSize > mOff - m.weightsOffset)
      throw bad("weights [" + std::to_string(m.weightsOffset) + ", +" +
                std::to_string(m.weightsSize) + ") lie outside the payload (truncated?)");
    if (how == WeightsLoad::Read)
      keep(f, m.weightsOffset);
    else
      p->weights_ = MappedRegion(f.fd, m.weightsOffset, m.weightsSize, "the weights in " + exePath);
    if (populate) {
      p->populateSeconds_ = p->weights_.populate();
      p->populated_ = true;
    }
  } else {
    std::string wpath = m.weightsFile.front() == '/' ? m.weightsFile
                                                     : dirOf(exePath) + "/" + m.weightsFile;
    p->weightsPath_ = wpath;
    if (!mapWeights)
      return p;
    Fd wf;
    wf.fd = ::open(wpath.c_str(), O_RDONLY | O_CLOEXEC);
    if (wf.fd < 0)
      throw Error("cannot open the weights file " + wpath +
                  " (built with --weights=external; keep it beside the executable): " +
                  errnoText());
    struct stat ws;
    if (::fstat(wf.fd, &ws) != 0)
      throw Error("cannot stat " + wpath + ": " + errnoText());
    if (static_cast<uint64_t>(ws.st_size) != m.weightsSize)
      throw Error("weights file " + wpath + " has " + std::to_string(ws.st_size) +
                  " bytes, the model expects " + std::to_string(m.weightsSize) +
                  " (from a different build?)");
    if (how == WeightsLoad::Read)
      keep(wf, 0);
    else
      p->weights_ = MappedRegion(wf.fd, 0, m.weightsSize, wpath);
    if (populate) {
      p->populateSeconds_ = p->weights_.populate();
      p->populated_ = true;
    }
  }
  return p;
}

const uint8_t *Payload::weights() const {
  if (readPending_)
    throw Error("the weights were used before they were read (internal error)");
  return weights_.data();
}

void Payload::releaseWeights() { weights_ = MappedRegion(); }

double Payload::useRandomWeights(uint64_t seed) {
  auto t0 = std::chrono::steady_clock::now();
  MappedRegion r = MappedRegion::anonymous(manifest_.weightsSize, "the random weights");
  fillRandomWeights(r.writableData(), manifest_.weightsSize, seed);
  r.makeReadOnly();
  weights_ = std::move(r);
  randomSeed_ = seed;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

namespace {

uint64_t splitmix64(uint64_t &s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

} // namespace

void fillRandomWeights(uint8_t *p, uint64_t n, uint64_t seed) {
  // Blocks of 1 MiB, each from its own generator seeded by (seed, block), so
  // the bytes do not depend on how blocks are spread over threads. Within a
  // block one xorshift64* step gives 8 bytes: 0x3c | (bits & 0x03) puts each
  // in [0x3c, 0x3f] (see payload.h for why this range).
  constexpr uint64_t kBlock = 1 << 20;
  constexpr uint64_t kOr = 0x3C3C3C3C3C3C3C3Cull, kAnd = 0x0303030303030303ull;
  const uint64_t blocks = (n + kBlock - 1) / kBlock;
  globalThreadPool().parallelFor(int64_t(blocks), 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      uint64_t s = seed ^ (uint64_t(b) * 0xD1B54A32D192ED03ull);
      uint64_t x = splitmix64(s) | 1; // xorshift state: never 0
      const uint64_t begin = uint64_t(b) * kBlock, end = std::min(n, begin + kBlock);
      uint8_t *q = p + begin;
      uint64_t i = 0, len = end - begin;
      for (; i + 8 <= len; i += 8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t w = kOr | ((x * 0x2545F4914F6CDD1Dull) & kAnd);
        std::memcpy(q + i, &w, 8);
      }
      if (i < len) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t w = kOr | ((x * 0x2545F4914F6CDD1Dull) & kAnd);
        std::memcpy(q + i, &w, len - i);
      }
    }
  });
}

} // namespace gemma4rt
