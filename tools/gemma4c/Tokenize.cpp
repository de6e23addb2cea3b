//===- Tokenize.cpp - gemma4c tokenize ------------------------------------===//
//
//   gemma4c tokenize <checkpoint-dir | tokenizer.json | tokenizer.model>
//                    (--text T | --file F)
//
// Prints the token ids of the text, space-separated on one line, without BOS
// (Hugging Face encode with add_special_tokens=False). Exit codes: 0 ok,
// 1 bad input (unreadable/corrupt tokenizer, unreadable file, invalid UTF-8),
// 2 bad usage.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"

#include "gemma4rt/tokenizer.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

namespace gemma4c {
namespace {

const char *kUsage =
    "Usage: gemma4c tokenize <checkpoint-dir | tokenizer.json | tokenizer.model>\n"
    "                        (--text TEXT | --file FILE)\n\n"
    "Prints the token ids of TEXT (or of FILE's contents; '-' reads stdin),\n"
    "space-separated on one line. No BOS is added; special-token strings in the\n"
    "text (e.g. <start_of_turn>) become their ids. A directory is searched for\n"
    "tokenizer.json, then tokenizer.model.\n\n"
    "Options:\n"
    "  --text TEXT   the text to tokenize (must be valid UTF-8)\n"
    "  --file FILE   read the text from FILE ('-' = standard input)\n"
    "  -h, --help    this text\n";

int usageError(const std::string &msg) {
  std::fprintf(stderr, "gemma4c tokenize: error: %s (see gemma4c tokenize --help)\n",
               msg.c_str());
  return 2;
}

int inputError(const std::string &msg) {
  std::fprintf(stderr, "gemma4c tokenize: error: %s\n", msg.c_str());
  return 1;
}

} // namespace

int runTokenize(const Args &args) {
  std::optional<std::string> path, text, file;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    bool known = false;
    for (auto [name, slot] : {std::pair{"--text", &text}, std::pair{"--file", &file}}) {
      std::string n = name;
      if (a != n && a.rfind(n + "=", 0) != 0)
        continue;
      known = true;
      if (*slot)
        return usageError("option '" + n + "' given twice");
      if (a == n) {
        if (i + 1 >= args.size())
          return usageError("option '" + n + "' needs a value");
        *slot = args[++i];
      } else {
        *slot = a.substr(n.size() + 1);
      }
    }
    if (known)
      continue;
    if (a.size() > 1 && a[0] == '-')
      return usageError("unknown option '" + a + "'");
    if (path)
      return usageError("unexpected argument '" + a + "'");
    path = a;
  }
  if (!path)
    return usageError("missing tokenizer path (checkpoint directory, tokenizer.json or "
                      "tokenizer.model)");
  if (text && file)
    return usageError("give either --text or --file, not both");
  if (!text && !file)
    return usageError("missing --text or --file");

  std::string input, what;
  if (text) {
    input = *text;
    what = "--text";
  } else if (*file == "-") {
    input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    what = "standard input";
  } else {
    std::ifstream in(*file, std::ios::binary);
    if (!in)
      return inputError("--file: cannot read " + *file + ": " + std::strerror(errno));
    input.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad())
      return inputError("--file: cannot read " + *file);
    what = *file;
  }

  std::string out;
  try {
    auto tok = gemma4rt::Tokenizer::fromFile(*path);
    std::vector<int32_t> ids;
    try {
      ids = tok->encode(input);
    } catch (const gemma4rt::TokenizerError &e) {
      std::string msg = e.what();
      const std::string generic = "input text";
      if (size_t p = msg.find(generic); p != std::string::npos)
        msg.replace(p, generic.size(), what);
      return inputError(msg);
    }
    out.reserve(ids.size() * 7 + 1);
    char buf[16];
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i)
        out += ' ';
      auto r = std::to_chars(buf, buf + sizeof(buf), ids[i]);
      out.append(buf, r.ptr);
    }
    out += '\n';
  } catch (const gemma4rt::TokenizerError &e) {
    return inputError(e.what());
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0)
    return inputError("cannot write to standard output");
  return 0;
}

} // namespace gemma4c
