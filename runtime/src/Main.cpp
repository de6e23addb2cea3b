//===- Main.cpp - main() of a compiled model (library gemma4rt_main) -----===//
//
// Kept apart from libgemma4rt.a because it references the generated entry
// points gemma4_prefill / gemma4_decode, which only the model object defines.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/abi.h"
#include "gemma4rt/run.h"

int main(int argc, char **argv) {
  return gemma4rt::runMain(argc, argv, {&gemma4_prefill, &gemma4_decode, &gemma4_verify, &gemma4_draft_prefill,
                                               &gemma4_draft_decode, &gemma4_decode_batch},
                           &gemma4rt::makeTextCodec);
}
