//===- config_fuzzer.cpp - libFuzzer target for config.json parsing -------===//
//
// Feeds arbitrary bytes to gemma4c::parseConfig as the text of a config.json.
// Any input must either resolve to a TextConfig whose per-layer view is
// self-consistent or throw InputError; crashes, UB and other exceptions are
// bugs.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Frontend/Config.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string json(reinterpret_cast<const char *>(data), size);
  try {
    gemma4c::TextConfig c = gemma4c::parseConfig(json, "fuzz/config.json");
    // A resolved config describes every layer with positive shapes.
    if ((int64_t)c.layers.size() != c.numLayers)
      std::abort();
    for (size_t l = 0; l < c.layers.size(); ++l) {
      const gemma4c::LayerConfig &lc = c.layers[l];
      if (lc.headDim <= 0 || lc.numHeads <= 0 || lc.numKVHeads <= 0 ||
          lc.numHeads % lc.numKVHeads != 0 || lc.kvSourceLayer < 0 ||
          lc.kvSourceLayer > (int64_t)l || lc.rope.rotaryDims(lc.headDim) > lc.headDim / 2)
        std::abort();
    }
  } catch (const gemma4c::InputError &) {
  }
  return 0;
}
