//===- LogitsWriter.cpp ----------------------------------------------------===//
#include "LogitsWriter.h"
#include "gemma4rt/error.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace gemma4rt {

LogitsWriter::LogitsWriter(const std::string &path, int64_t rows, int64_t vocab)
    : path_(path), tmp_(path + ".tmp." + std::to_string(::getpid())), rows_(rows), vocab_(vocab) {
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_)
    throw Error("--dump-logits: cannot create " + tmp_ + ": " + std::strerror(errno));
  writeHeader(rows);
}

// The header is padded to a fixed width so finish() can rewrite it in place
// with the final row count.
static constexpr size_t kHeaderBytes = 184; // 8 + 184 keeps the data 8-aligned

void LogitsWriter::writeHeader(int64_t rows) {
  uint64_t bytes = uint64_t(rows) * uint64_t(vocab_) * 4;
  std::string header = "{\"logits\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(rows) + "," +
                       std::to_string(vocab_) + "],\"data_offsets\":[0," + std::to_string(bytes) +
                       "]}}";
  header.resize(kHeaderBytes, ' ');
  uint8_t len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    len[i] = uint8_t(n >> (8 * i));
  if (std::fwrite(len, 1, 8, f_) != 8 || std::fwrite(header.data(), 1, n, f_) != n)
    throw Error("--dump-logits: cannot write " + tmp_ + ": " + std::strerror(errno));
}

void LogitsWriter::write(int64_t rows, const float *data) {
  static_assert(sizeof(float) == 4);
  // safetensors is little endian, as is every target gemma4c supports.
  size_t n = size_t(rows) * size_t(vocab_);
  if (written_ + rows > rows_ || std::fwrite(data, sizeof(float), n, f_) != n)
    throw Error("--dump-logits: cannot write " + tmp_ + ": " + std::strerror(errno));
  written_ += rows;
}

void LogitsWriter::finish() {
  if (written_ != rows_) {
    if (std::fseek(f_, 0, SEEK_SET) != 0)
      throw Error("--dump-logits: cannot write " + tmp_ + ": " + std::strerror(errno));
    writeHeader(written_);
  }
  bool ok = std::fflush(f_) == 0 && ::fsync(::fileno(f_)) == 0;
  ok = (std::fclose(f_) == 0) && ok;
  f_ = nullptr;
  if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    std::remove(tmp_.c_str());
    throw Error("--dump-logits: cannot write " + path_ + ": " + std::strerror(e));
  }
}

LogitsWriter::~LogitsWriter() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

} // namespace gemma4rt
