//===- LogitsWriter.h - stream logits into a .safetensors file -*- C++ -*-===//
//
// One F32 tensor "logits" [rows, vocab], written row block by row block to
// "<path>.tmp.<pid>" and renamed to <path> by finish(); a writer destroyed
// before finish() removes its temporary file. `rows` is the most that will
// be written; finish() records the rows actually written (generation can
// stop early at an end-of-sequence token) in a fixed-width header.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_SRC_LOGITSWRITER_H
#define GEMMA4RT_SRC_LOGITSWRITER_H

#include <cstdint>
#include <cstdio>
#include <string>

namespace gemma4rt {

class LogitsWriter {
public:
  LogitsWriter(const std::string &path, int64_t rows, int64_t vocab);
  ~LogitsWriter();
  void write(int64_t rows, const float *data);
  void finish();

private:
  void writeHeader(int64_t rows);
  std::string path_, tmp_;
  std::FILE *f_ = nullptr;
  int64_t rows_, vocab_, written_ = 0;
};

} // namespace gemma4rt

#endif
