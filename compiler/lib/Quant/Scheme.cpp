//===- Scheme.cpp - --quant scheme parsing --------------------------------===//
#include "gemma4c/Quant/Scheme.h"

#include <sstream>
#include <vector>

namespace gemma4c::quant {

using ::gemma4::quant::ScaleType;

const char *roleName(Role r) {
  switch (r) {
  case Role::Linear: return "linear";
  case Role::Experts: return "experts";
  case Role::Embedding: return "embedding";
  case Role::PLE: return "ple";
  case Role::Router: return "router";
  case Role::Count: break;
  }
  return "?";
}

bool Scheme::quantizesAnything() const {
  for (const auto &r : role)
    if (r)
      return true;
  return false;
}

namespace {
Spec int8Spec() {
  Spec s;
  s.bits = 8;
  s.group = 0;
  s.scale = ScaleType::F32;
  s.symmetric = true;
  return s;
}

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

const char *kValid = "bf16, int8, int4[-g32|-g128][-sym|-asym][-f16|-bf16], mixed";
} // namespace

std::optional<Scheme> parseScheme(const std::string &text, std::string &error) {
  Scheme s;
  s.name = text;
  auto all = [&](const std::optional<Spec> &spec) {
    for (auto &r : s.role)
      r = spec;
  };
  if (text == "bf16" || text == "none")
    return s;
  if (text == "int8") {
    all(int8Spec());
    return s;
  }
  if (text == "mixed") {
    Spec i4;
    i4.bits = 4;
    i4.group = 32;
    i4.scale = ScaleType::F16;
    i4.symmetric = true;
    s.role[int(Role::Linear)] = i4;
    s.role[int(Role::Experts)] = i4;
    s.role[int(Role::Embedding)] = int8Spec();
    s.role[int(Role::PLE)] = int8Spec();
    s.fallbackToInt8 = true;
    return s;
  }
  std::vector<std::string> parts = split(text, '-');
  if (parts[0] == "int4") {
    Spec i4;
    i4.bits = 4;
    i4.group = 32;
    i4.scale = ScaleType::F16;
    i4.symmetric = true;
    bool seenGroup = false, seenSym = false, seenScale = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      const std::string &p = parts[i];
      if (!seenGroup && (p == "g32" || p == "g128")) {
        i4.group = p == "g32" ? 32 : 128;
        seenGroup = true;
      } else if (!seenSym && (p == "sym" || p == "asym")) {
        i4.symmetric = p == "sym";
        seenSym = true;
      } else if (!seenScale && (p == "f16" || p == "bf16")) {
        i4.scale = p == "f16" ? ScaleType::F16 : ScaleType::BF16;
        seenScale = true;
      } else if (p.size() > 1 && p[0] == 'g' && !seenGroup) {
        error = "unsupported int4 group size '" + p.substr(1) + "' in --quant=" + text +
                " (supported: g32, g128)";
        return std::nullopt;
      } else {
        error = "invalid --quant value '" + text + "' (expected " + kValid + ")";
        return std::nullopt;
      }
    }
    all(i4);
    return s;
  }
  error = "unknown --quant scheme '" + text + "' (expected " + kValid + ")";
  return std::nullopt;
}

std::string unsupportedReason(const Spec &spec, long long K) {
  std::ostringstream os;
  if (spec.group > 0 && K % spec.group != 0)
    os << "group size " << spec.group << " does not divide the input dimension " << K;
  else if (spec.bits == 4 && K % ::gemma4::quant::kInt4Block != 0)
    os << "int4 packing needs the input dimension to be a multiple of "
       << ::gemma4::quant::kInt4Block << ", got " << K;
  return os.str();
}

std::string describe(const Spec &spec) {
  std::ostringstream os;
  os << "int" << spec.bits << " ";
  if (spec.group)
    os << "g" << spec.group;
  else
    os << "per-channel";
  os << " " << (spec.symmetric ? "sym" : "asym") << " "
     << (spec.scale == ScaleType::F16 ? "f16" : spec.scale == ScaleType::BF16 ? "bf16" : "f32");
  return os.str();
}

} // namespace gemma4c::quant
