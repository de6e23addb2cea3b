//===- Scheme.h - --quant schemes and what they quantize -------*- C++ -*-===//
//
// A scheme names, for each role a weight plays in the model, the encoding it
// gets (or none). Roles are decided by the ops that use a weight:
//   linear     attention projections, MLP, per-layer-input projections/gates
//   experts    MoE expert gate_up / down stacks
//   embedding  the token embedding table (also the lm-head when tied)
//   ple        the per-layer-embedding table (gathered, one row per token)
//   router     the MoE router projection
// Norm weights and other vectors are never quantized.
//
//   bf16 | none          weights as in the checkpoint
//   int8                 every role int8, per output channel, f32 scales
//   int4[-gG][-sym|-asym][-f16|-bf16]
//                        every role int4, groups of G (32 default, or 128)
//                        along K, f16 (default) or bf16 scales
//   mixed                linear + experts int4-g32 sym f16; embedding/lm-head
//                        and ple int8; router kept. A tensor whose K the
//                        int4 group does not divide falls back to int8.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_QUANT_SCHEME_H
#define GEMMA4C_QUANT_SCHEME_H

#include "gemma4/IR/QuantLayout.h"

#include <optional>
#include <string>

namespace gemma4c::quant {

using ::gemma4::quant::Spec;

enum class Role { Linear, Experts, Embedding, PLE, Router, Count };

const char *roleName(Role r);

struct Scheme {
  std::string name;
  std::optional<Spec> role[static_cast<int>(Role::Count)];
  /// When the spec of a role cannot encode a tensor (group does not divide
  /// K): fall back to int8 per-channel (true) or fail (false).
  bool fallbackToInt8 = false;

  const std::optional<Spec> &forRole(Role r) const { return role[static_cast<int>(r)]; }
  bool quantizesAnything() const;
};

/// Parses a --quant value; on failure returns nullopt and sets `error` to a
/// one-line message that lists the valid schemes.
std::optional<Scheme> parseScheme(const std::string &text, std::string &error);

/// Why `spec` cannot encode rows of K elements, or "" when it can.
std::string unsupportedReason(const Spec &spec, long long K);

/// "int4 g32 sym f16"-style description of a spec.
std::string describe(const Spec &spec);

} // namespace gemma4c::quant

#endif
