//===- Safetensors.cpp - zero-copy safetensors reader and writer ----------===//
//
// Format (https://github.com/huggingface/safetensors): an unsigned 64-bit
// little-endian header length N, N bytes of JSON (an object mapping tensor
// names to {dtype, shape, data_offsets} plus an optional "__metadata__"
// string->string map), then the data section. data_offsets are relative to
// the start of the data section.
//
// Nothing here depends on LLVM or MLIR: the runtime reuses this file.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Frontend/Safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gemma4c {

namespace {
using json = nlohmann::json;

/// The safetensors reference implementation refuses headers over 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
/// Nesting deeper than this is never a valid header (tensor entries nest 2).
constexpr int kMaxDepth = 8;

[[noreturn]] void fail(const std::string &path, const std::string &msg) {
  throw InputError(path + ": " + msg);
}

std::string quote(std::string_view s) {
  // Names come from untrusted input: keep the message on one line and short.
  std::string out = "'";
  size_t n = 0;
  for (unsigned char c : s) {
    if (++n > 200) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const char *jsonTypeName(const json &j) {
  if (j.is_number_float())
    return "a floating-point number";
  if (j.is_number_unsigned() || j.is_number_integer())
    return "an integer";
  return j.type_name();
}

/// A non-negative integer that fits in int64, or an error naming `what`.
uint64_t getUnsigned(const json &j, const std::string &path,
                     const std::string &what) {
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(INT64_MAX))
      fail(path, what + " is too large (" + std::to_string(v) + ")");
    return v;
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v < 0)
      fail(path, what + " is negative (" + std::to_string(v) + ")");
    return static_cast<uint64_t>(v);
  }
  fail(path, what + " must be a non-negative integer, got " + jsonTypeName(j));
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

void writeAll(int fd, const void *data, uint64_t n, const std::string &path) {
  const char *p = static_cast<const char *>(data);
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, 1ull << 30));
    ssize_t w = ::write(fd, p, chunk);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      fail(path, std::string("write failed: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<uint64_t>(w);
  }
}
} // namespace

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F64: return "F64";
  case DType::F32: return "F32";
  case DType::F16: return "F16";
  case DType::BF16: return "BF16";
  case DType::I64: return "I64";
  case DType::I32: return "I32";
  case DType::I16: return "I16";
  case DType::I8: return "I8";
  case DType::U8: return "U8";
  case DType::BOOL: return "BOOL";
  }
  return "?";
}

DType parseDType(std::string_view s, const std::string &context) {
  static const std::pair<const char *, DType> table[] = {
      {"F64", DType::F64}, {"F32", DType::F32}, {"F16", DType::F16},
      {"BF16", DType::BF16}, {"I64", DType::I64}, {"I32", DType::I32},
      {"I16", DType::I16}, {"I8", DType::I8}, {"U8", DType::U8},
      {"BOOL", DType::BOOL}};
  for (auto &[name, t] : table)
    if (s == name)
      return t;
  throw InputError(context + ": unsupported dtype " + quote(s) +
                   " (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
}

int64_t dtypeSize(DType t) {
  switch (t) {
  case DType::F64: case DType::I64: return 8;
  case DType::F32: case DType::I32: return 4;
  case DType::F16: case DType::BF16: case DType::I16: return 2;
  case DType::I8: case DType::U8: case DType::BOOL: return 1;
  }
  return 1;
}

int64_t TensorView::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

namespace {
/// parseHeader, but each TensorView::data holds the tensor's offset in the
/// data section (as an integer cast to a pointer) for open() to rebase.
std::vector<TensorView> parseImpl(std::string_view text, uint64_t dataSize,
                                  const std::string &path,
                                  std::map<std::string, std::string> *metadata) {
  json root;
  std::set<std::string> seen;
  // The callback sees keys before nlohmann's object silently keeps the last
  // of two equal ones, and bounds the nesting depth.
  json::parser_callback_t cb = [&](int depth, json::parse_event_t ev,
                                   json &parsed) -> bool {
    if (depth > kMaxDepth)
      fail(path, "malformed header: JSON nested too deeply");
    if (ev == json::parse_event_t::key && depth == 1) {
      const std::string &k = parsed.get_ref<const std::string &>();
      if (!seen.insert(k).second)
        fail(path, "duplicate tensor name " + quote(k) + " in header");
    }
    return true;
  };
  try {
    root = json::parse(text.begin(), text.end(), cb);
  } catch (const json::exception &e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    fail(path, "malformed JSON header: " + what);
  }
  if (!root.is_object())
    fail(path, std::string("malformed header: expected a JSON object, got ") +
                   jsonTypeName(root));

  std::vector<TensorView> out;
  out.reserve(root.size());
  for (auto &[name, entry] : root.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        fail(path, std::string("__metadata__ must be an object, got ") +
                       jsonTypeName(entry));
      for (auto &[k, v] : entry.items()) {
        if (!v.is_string())
          fail(path, "__metadata__ key " + quote(k) +
                         " must map to a string, got " + jsonTypeName(v));
        if (metadata)
          (*metadata)[k] = v.get<std::string>();
      }
      continue;
    }
    std::string what = "tensor " + quote(name);
    if (!entry.is_object())
      fail(path, what + ": entry must be an object, got " + jsonTypeName(entry));
    for (const char *key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key))
        fail(path, what + ": missing '" + key + "'");
    const json &jd = entry["dtype"], &js = entry["shape"],
               &jo = entry["data_offsets"];
    if (!jd.is_string())
      fail(path, what + ": 'dtype' must be a string, got " + jsonTypeName(jd));
    TensorView t;
    t.name = name;
    t.file = path;
    t.dtype = parseDType(jd.get_ref<const std::string &>(), path + ": " + what);
    if (!js.is_array())
      fail(path, what + ": 'shape' must be an array, got " + jsonTypeName(js));
    uint64_t numel = 1;
    for (const json &d : js) {
      uint64_t v = getUnsigned(d, path, what + ": shape entry");
      if (__builtin_mul_overflow(numel, v, &numel) ||
          numel > static_cast<uint64_t>(INT64_MAX))
        fail(path, what + ": shape " + js.dump() + " is too large");
      t.shape.push_back(static_cast<int64_t>(v));
    }
    if (!jo.is_array() || jo.size() != 2)
      fail(path, what + ": 'data_offsets' must be an array [begin, end]");
    uint64_t begin = getUnsigned(jo[0], path, what + ": data_offsets begin");
    uint64_t end = getUnsigned(jo[1], path, what + ": data_offsets end");
    if (begin > end)
      fail(path, what + ": data_offsets begin " + std::to_string(begin) +
                     " > end " + std::to_string(end));
    if (end > dataSize)
      fail(path, what + ": data_offsets [" + std::to_string(begin) + ", " +
                     std::to_string(end) + "] out of range (data section has " +
                     std::to_string(dataSize) + " bytes)");
    uint64_t expect;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtypeSize(t.dtype)),
                               &expect))
      fail(path, what + ": shape " + js.dump() + " is too large");
    if (end - begin != expect)
      fail(path, what + ": holds " + std::to_string(end - begin) +
                     " bytes but shape " + shapeStr(t.shape) + " of " +
                     dtypeName(t.dtype) + " needs " + std::to_string(expect));
    t.nbytes = expect;
    // Remember the offset in `data` until open() rebases it on the mapping.
    t.data = reinterpret_cast<const uint8_t *>(static_cast<uintptr_t>(begin));
    out.push_back(std::move(t));
  }

  // Overlaps: sort the non-empty ranges by start.
  std::vector<const TensorView *> byOffset;
  for (const TensorView &t : out)
    if (t.nbytes)
      byOffset.push_back(&t);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const TensorView *a, const TensorView *b) { return a->data < b->data; });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const TensorView *a = byOffset[i - 1], *b = byOffset[i];
    auto aEnd = reinterpret_cast<uintptr_t>(a->data) + a->nbytes;
    if (reinterpret_cast<uintptr_t>(b->data) < aEnd)
      fail(path, "tensors " + quote(a->name) + " and " + quote(b->name) +
                     " overlap in the data section");
  }
  return out;
}
} // namespace

std::vector<TensorView>
SafetensorsFile::parseHeader(std::string_view text, uint64_t dataSize,
                             const std::string &path,
                             std::map<std::string, std::string> *metadata) {
  std::vector<TensorView> out = parseImpl(text, dataSize, path, metadata);
  for (TensorView &t : out) // no file mapped: no pointers
    t.data = nullptr;
  return out;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string &path) {
  Fd fd;
  fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0)
    fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(fd.fd, &st) != 0)
    fail(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    fail(path, "not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8)
    fail(path, "file is too short (" + std::to_string(size) +
                   " bytes) to be a safetensors file");

  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.fd, 0);
  if (map == MAP_FAILED)
    fail(path, std::string("cannot mmap: ") + std::strerror(errno));
  f->map_ = map;
  f->mapSize_ = size;

  const uint8_t *base = static_cast<const uint8_t *>(map);
  uint64_t hlen = 0;
  for (int i = 0; i < 8; ++i)
    hlen |= static_cast<uint64_t>(base[i]) << (8 * i);
  if (hlen > size - 8)
    fail(path, "header length " + std::to_string(hlen) +
                   " runs past the end of the file (" + std::to_string(size) +
                   " bytes)");
  if (hlen > kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(hlen) +
                   " exceeds the 100 MB limit");
  std::string_view text(reinterpret_cast<const char *>(base + 8), hlen);
  uint64_t dataSize = size - 8 - hlen;

  std::vector<TensorView> tensors =
      parseImpl(text, dataSize, path, &f->metadata_);
  const uint8_t *data = base + 8 + hlen;
  for (TensorView &t : tensors)
    t.data = data + reinterpret_cast<uintptr_t>(t.data);
  f->tensors_ = std::move(tensors);
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_)
    ::munmap(map_, mapSize_);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

uint64_t TensorSpec::nbytes() const {
  uint64_t n = static_cast<uint64_t>(dtypeSize(dtype));
  for (int64_t d : shape) {
    if (d < 0)
      throw InputError("tensor " + quote(name) + ": negative dimension in shape " +
                       shapeStr(shape));
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      throw InputError("tensor " + quote(name) + ": shape " + shapeStr(shape) +
                       " is too large");
  }
  return n;
}

std::string safetensorsHeader(const std::vector<TensorSpec> &tensors,
                              const std::map<std::string, std::string> &metadata) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (auto &[k, v] : metadata)
      m[k] = v;
    h["__metadata__"] = m;
  }
  uint64_t off = 0;
  std::set<std::string> names;
  for (const TensorSpec &t : tensors) {
    if (t.name == "__metadata__" || !names.insert(t.name).second)
      throw InputError("tensor " + quote(t.name) +
                       ": duplicate or reserved tensor name");
    uint64_t n = t.nbytes();
    h[t.name] = {{"dtype", dtypeName(t.dtype)},
                 {"shape", t.shape},
                 {"data_offsets", {off, off + n}}};
    off += n;
  }
  std::string text = h.dump();
  // Pad with spaces so the data section starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t hlen = text.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((hlen >> (8 * i)) & 0xff);
  return out + text;
}

void writeSafetensorsStreaming(const std::string &path,
                               const std::vector<TensorSpec> &tensors,
                               const TensorFill &fill,
                               const std::map<std::string, std::string> &metadata) {
  std::string header = safetensorsHeader(tensors, metadata);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail(tmp, std::string("cannot create: ") + std::strerror(errno));
  try {
    writeAll(fd, header.data(), header.size(), tmp);
    constexpr uint64_t kChunk = 8ull << 20;
    std::vector<uint8_t> buf;
    for (size_t i = 0; i < tensors.size(); ++i) {
      uint64_t n = tensors[i].nbytes();
      if (buf.size() < std::min(n, kChunk))
        buf.resize(std::min(n, kChunk));
      for (uint64_t off = 0; off < n; off += kChunk) {
        uint64_t m = std::min(kChunk, n - off);
        fill(i, off, buf.data(), m);
        writeAll(fd, buf.data(), m, tmp);
      }
    }
    if (::close(fd) != 0) {
      fd = -1;
      fail(tmp, std::string("close failed: ") + std::strerror(errno));
    }
    fd = -1;
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      fail(path, std::string("cannot rename ") + quote(tmp) + ": " +
                     std::strerror(errno));
  } catch (...) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
}

void writeSafetensors(const std::string &path,
                      const std::vector<TensorToWrite> &tensors) {
  std::vector<TensorSpec> specs;
  specs.reserve(tensors.size());
  for (const TensorToWrite &t : tensors) {
    TensorSpec s{t.name, t.dtype, t.shape};
    if (s.nbytes() != t.nbytes)
      throw InputError(path + ": tensor " + quote(t.name) + ": " +
                       std::to_string(t.nbytes) + " bytes given but shape " +
                       shapeStr(t.shape) + " of " + dtypeName(t.dtype) +
                       " needs " + std::to_string(s.nbytes()));
    specs.push_back(std::move(s));
  }
  writeSafetensorsStreaming(
      path, specs, [&](size_t i, uint64_t off, uint8_t *buf, uint64_t n) {
        std::memcpy(buf, static_cast<const uint8_t *>(tensors[i].data) + off, n);
      });
}

} // namespace gemma4c
