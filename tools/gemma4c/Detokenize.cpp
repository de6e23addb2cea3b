//===- Detokenize.cpp - gemma4c detokenize --------------------------------===//
//
//   gemma4c detokenize <checkpoint-dir | tokenizer.json | tokenizer.model>
//                      --ids "1 2 3" [--show-special]
//
// Prints the text of the ids followed by a newline (Hugging Face decode;
// special tokens are dropped unless --show-special). Exit codes: 0 ok, 1 bad
// input (unreadable/corrupt tokenizer, id out of range), 2 bad usage.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"

#include "gemma4rt/tokenizer.h"

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace gemma4c {
namespace {

const char *kUsage =
    "Usage: gemma4c detokenize <checkpoint-dir | tokenizer.json | tokenizer.model>\n"
    "                          --ids \"ID ID ...\" [--show-special]\n\n"
    "Prints the text of the token ids (separated by spaces or commas), followed\n"
    "by a newline. Special tokens (<bos>, <end_of_turn>, ...) are left out\n"
    "unless --show-special is given.\n\n"
    "Options:\n"
    "  --ids IDS        the token ids\n"
    "  --show-special   print special tokens too\n"
    "  -h, --help       this text\n";

int usageError(const std::string &msg) {
  std::fprintf(stderr, "gemma4c detokenize: error: %s (see gemma4c detokenize --help)\n",
               msg.c_str());
  return 2;
}

int inputError(const std::string &msg) {
  std::fprintf(stderr, "gemma4c detokenize: error: %s\n", msg.c_str());
  return 1;
}

} // namespace

int runDetokenize(const Args &args) {
  std::optional<std::string> path, idsText;
  bool showSpecial = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--show-special") {
      showSpecial = true;
      continue;
    }
    if (a == "--ids" || a.rfind("--ids=", 0) == 0) {
      if (idsText)
        return usageError("option '--ids' given twice");
      if (a == "--ids") {
        if (i + 1 >= args.size())
          return usageError("option '--ids' needs a value");
        idsText = args[++i];
      } else {
        idsText = a.substr(6);
      }
      continue;
    }
    if (a.size() > 1 && a[0] == '-')
      return usageError("unknown option '" + a + "'");
    if (path)
      return usageError("unexpected argument '" + a + "'");
    path = a;
  }
  if (!path)
    return usageError("missing tokenizer path (checkpoint directory, tokenizer.json or "
                      "tokenizer.model)");
  if (!idsText)
    return usageError("missing --ids");

  std::vector<int32_t> ids;
  const std::string &s = *idsText;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == ' ' || s[i] == ',' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && !(s[j] == ' ' || s[j] == ',' || s[j] == '\t' || s[j] == '\n' ||
                             s[j] == '\r'))
      ++j;
    int32_t v = 0;
    auto r = std::from_chars(s.data() + i, s.data() + j, v);
    if (r.ec != std::errc() || r.ptr != s.data() + j || v < 0)
      return usageError("--ids: '" + s.substr(i, j - i) + "' is not a token id");
    ids.push_back(v);
    i = j;
  }

  std::string text;
  try {
    auto tok = gemma4rt::Tokenizer::fromFile(*path);
    text = tok->decode(ids, showSpecial);
  } catch (const gemma4rt::TokenizerError &e) {
    return inputError(e.what());
  }
  text += '\n';
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    return inputError("cannot write to standard output");
  return 0;
}

} // namespace gemma4c
