//===- Commands.cpp - the table of gemma4c subcommands --------------------===//
#include "Commands.h"

namespace gemma4c {
int runImport(const Args &);
int runInspect(const Args &);
int runCompile(const Args &);
int runTokenize(const Args &);
int runDetokenize(const Args &);
int runSynth(const Args &);
int runTargets(const Args &);
int runFakeQuant(const Args &);

const std::vector<Command> &commands() {
  static const std::vector<Command> table = {
      {"compile", "compile a checkpoint into a standalone executable", runCompile},
      {"import", "import a checkpoint and print it in the gemma4 dialect", runImport},
      {"inspect", "summarise a checkpoint (variant, layers, parameters)", runInspect},
      {"tokenize", "text to token ids with a checkpoint's tokenizer", runTokenize},
      {"detokenize", "token ids to text with a checkpoint's tokenizer", runDetokenize},
      {"synth", "write a random-weight checkpoint with real shapes", runSynth},
      {"fake-quant", "write a checkpoint with a --quant scheme's dequantised weights", runFakeQuant},
      {"targets", "list the supported targets and CPUs", runTargets},
  };
  return table;
}
} // namespace gemma4c
