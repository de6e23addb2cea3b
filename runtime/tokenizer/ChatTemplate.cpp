//===- ChatTemplate.cpp - Gemma 3 / Gemma 4 chat formats, natively --------===//
#include "gemma4rt/chat_template.h"

#include "TokenizerImpl.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace gemma4rt {
namespace {

using json = nlohmann::json;

bool fileExists(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  if (!in)
    throw TokenizerError("cannot read " + p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json readJsonFile(const std::string &p) {
  try {
    return json::parse(slurp(p));
  } catch (const json::exception &e) {
    throw TokenizerError(p + ": not valid JSON (" + e.what() + ")");
  }
}

/// Python str.strip() (the Jinja `trim` filter).
std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    uint32_t cp = detail::decodeCodepoint(s, b);
    if (!(detail::isUnicodeWhitespace(cp) || (cp >= 0x1C && cp <= 0x1F)))
      break;
    b += detail::utf8Len(static_cast<unsigned char>(s[b]));
  }
  while (e > b) {
    size_t k = e - 1;
    while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80)
      --k;
    uint32_t cp = detail::decodeCodepoint(s, k);
    if (!(detail::isUnicodeWhitespace(cp) || (cp >= 0x1C && cp <= 0x1F)))
      break;
    e = k;
  }
  return std::string(s.substr(b, e - b));
}

/// A token string from tokenizer_config.json: "x" or {"content": "x"}.
std::string configToken(const json &cfg, const char *key) {
  auto it = cfg.find(key);
  if (it == cfg.end())
    return {};
  if (it->is_string())
    return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return {};
}

std::string roleOf(const ChatMessage &m) {
  return m.role == "assistant" ? std::string("model") : m.role;
}
bool isSystem(const ChatMessage &m) { return m.role == "system" || m.role == "developer"; }
bool isModel(const ChatMessage &m) { return m.role == "assistant" || m.role == "model"; }

json parseJsonText(const std::string &text, const std::string &what) {
  if (text.empty())
    return json::object();
  try {
    return json::parse(text);
  } catch (const json::exception &e) {
    throw TokenizerError("chat template: " + what + " is not valid JSON (" + e.what() + ")");
  }
}

std::string upper(std::string s) {
  for (char &c : s)
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  return s;
}

std::string number(const json &v) {
  if (v.is_number_integer())
    return v.dump();
  double d = v.get<double>();
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15)
    return std::to_string(static_cast<long long>(d));
  return v.dump();
}

/// Gemma 4 value syntax: strings in <|"|>, keys bare and sorted.
std::string formatArg(const json &v, const ChatMarkers &mk) {
  if (v.is_string())
    return mk.quote + v.get<std::string>() + mk.quote;
  if (v.is_boolean())
    return v.get<bool>() ? "true" : "false";
  if (v.is_number())
    return number(v);
  if (v.is_null())
    return "null";
  std::string out;
  if (v.is_array()) {
    out = "[";
    for (size_t i = 0; i < v.size(); ++i)
      out += (i ? "," : "") + formatArg(v[i], mk);
    return out + "]";
  }
  out = "{";
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) { // nlohmann::json keeps keys sorted
    out += (first ? "" : ",") + it.key() + ":" + formatArg(it.value(), mk);
    first = false;
  }
  return out + "}";
}

/// Schema values outside the modelled keys: keys quoted too.
std::string formatSchemaValue(const json &v, const ChatMarkers &mk) {
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += (first ? "" : ",") + mk.quote + it.key() + mk.quote + ":" +
             formatSchemaValue(it.value(), mk);
      first = false;
    }
    return out + "}";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i)
      out += (i ? "," : "") + formatSchemaValue(v[i], mk);
    return out + "]";
  }
  return formatArg(v, mk);
}

std::vector<std::string> typeNames(const json &t) {
  std::vector<std::string> out;
  if (t.is_string())
    out.push_back(upper(t.get<std::string>()));
  else if (t.is_array())
    for (const json &x : t)
      if (x.is_string())
        out.push_back(upper(x.get<std::string>()));
  return out;
}

std::string quotedList(const json &list, const ChatMarkers &mk) {
  std::string out = "[";
  bool first = true;
  if (list.is_array())
    for (const json &x : list) {
      out += (first ? "" : ",") + mk.quote + (x.is_string() ? x.get<std::string>() : x.dump()) +
             mk.quote;
      first = false;
    }
  return out + "]";
}

std::string typeField(const std::vector<std::string> &names, const ChatMarkers &mk) {
  if (names.size() == 1)
    return "type:" + mk.quote + names[0] + mk.quote;
  std::string out = "type:[";
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? "," : "") + mk.quote + names[i] + mk.quote;
  return out + "]";
}

std::string schemaProperties(const json &props, const ChatMarkers &mk);

std::string itemsSpec(const json &items, const ChatMarkers &mk) {
  std::string out;
  bool first = true;
  for (auto it = items.begin(); it != items.end(); ++it) {
    if (it.value().is_null())
      continue;
    out += first ? "" : ",";
    first = false;
    if (it.key() == "properties")
      out += "properties:{" + schemaProperties(it.value(), mk) + "}";
    else if (it.key() == "required")
      out += "required:" + quotedList(it.value(), mk);
    else if (it.key() == "type")
      out += typeField(typeNames(it.value()), mk);
    else
      out += it.key() + ":" + formatSchemaValue(it.value(), mk);
  }
  return out;
}

std::string schemaProperties(const json &props, const ChatMarkers &mk) {
  static const char *standard[] = {"description", "type", "properties", "required", "nullable"};
  std::string out;
  bool first = true;
  if (!props.is_object())
    return out;
  for (auto it = props.begin(); it != props.end(); ++it) {
    if (std::find(std::begin(standard), std::end(standard), it.key()) != std::end(standard))
      continue;
    const json &p = it.value();
    if (!p.is_object())
      continue;
    out += (first ? "" : ",") + it.key() + ":{";
    first = false;
    std::vector<std::string> parts;
    if (p.contains("description") && p["description"].is_string() &&
        !p["description"].get<std::string>().empty())
      parts.push_back("description:" + mk.quote + p["description"].get<std::string>() + mk.quote);
    std::vector<std::string> types = p.contains("type") ? typeNames(p["type"]) : std::vector<std::string>{};
    std::string t0 = types.empty() ? "" : types[0];
    if (t0 == "STRING" && p.contains("enum") && p["enum"].is_array() && !p["enum"].empty()) {
      std::string e = "enum:[";
      for (size_t i = 0; i < p["enum"].size(); ++i) {
        const json &x = p["enum"][i];
        e += (i ? "," : "") + mk.quote + (x.is_string() ? x.get<std::string>() : x.dump()) + mk.quote;
      }
      parts.push_back(e + "]");
    } else if (t0 == "ARRAY" && p.contains("items") && p["items"].is_object() &&
               !p["items"].empty()) {
      parts.push_back("items:{" + itemsSpec(p["items"], mk) + "}");
    }
    if (p.contains("nullable") && p["nullable"].is_boolean() && p["nullable"].get<bool>())
      parts.push_back("nullable:true");
    if (t0 == "OBJECT") {
      const json &nested = p.contains("properties") && p["properties"].is_object() ? p["properties"] : p;
      parts.push_back("properties:{" + schemaProperties(nested, mk) + "}");
      if (p.contains("required") && p["required"].is_array() && !p["required"].empty())
        parts.push_back("required:" + quotedList(p["required"], mk));
    }
    if (!types.empty())
      parts.push_back(typeField(types, mk));
    for (size_t i = 0; i < parts.size(); ++i)
      out += (i ? "," : "") + parts[i];
    out += "}";
  }
  return out;
}

std::string toolDeclaration(const ToolDeclaration &t, const ChatMarkers &mk) {
  std::string out = mk.toolStart + "declaration:" + t.name + "{description:" + mk.quote +
                    t.description + mk.quote;
  json params = parseJsonText(t.parameters, "parameters of tool '" + t.name + "'");
  if (!t.parameters.empty()) {
    if (!params.is_object())
      throw TokenizerError("chat template: parameters of tool '" + t.name +
                           "' must be a JSON object");
    std::vector<std::string> parts;
    if (params.contains("properties") && params["properties"].is_object() &&
        !params["properties"].empty())
      parts.push_back("properties:{" + schemaProperties(params["properties"], mk) + "}");
    if (params.contains("required") && params["required"].is_array() &&
        !params["required"].empty())
      parts.push_back("required:" + quotedList(params["required"], mk));
    if (params.contains("type") && params["type"].is_string())
      parts.push_back("type:" + mk.quote + upper(params["type"].get<std::string>()) + mk.quote);
    out += ",parameters:{";
    for (size_t i = 0; i < parts.size(); ++i)
      out += (i ? "," : "") + parts[i];
    out += "}";
  }
  return out + "}" + mk.toolEnd;
}

std::string toolCall(const ToolCall &tc, const ChatMarkers &mk) {
  json args = parseJsonText(tc.arguments, "arguments of tool call '" + tc.name + "'");
  if (!args.is_object())
    throw TokenizerError("chat template: arguments of tool call '" + tc.name +
                         "' must be a JSON object");
  std::string out = mk.toolCallStart + "call:" + tc.name + "{";
  bool first = true;
  for (auto it = args.begin(); it != args.end(); ++it) {
    out += (first ? "" : ",") + it.key() + ":" + formatArg(it.value(), mk);
    first = false;
  }
  return out + "}" + mk.toolCallEnd;
}

std::string stripThinking(std::string_view text, const ChatMarkers &mk) {
  std::string out;
  while (true) {
    size_t s = text.find(mk.channelStart);
    if (s == std::string_view::npos) {
      out.append(text);
      break;
    }
    out.append(text.substr(0, s));
    size_t e = text.find(mk.channelEnd, s);
    if (e == std::string_view::npos)
      break;
    text = text.substr(e + mk.channelEnd.size());
  }
  return trim(out);
}

} // namespace

ChatTemplate ChatTemplate::forTokenizer(const Tokenizer &tok, std::string dir) {
  if (dir.empty()) {
    const std::string &src = tok.source();
    size_t slash = src.find_last_of('/');
    dir = slash == std::string::npos ? "." : src.substr(0, slash);
  }
  if (!dir.empty() && dir.back() != '/')
    dir += '/';

  json cfg = json::object();
  std::string jinja;
  if (fileExists(dir + "tokenizer_config.json")) {
    cfg = readJsonFile(dir + "tokenizer_config.json");
    if (!cfg.is_object())
      throw TokenizerError(dir + "tokenizer_config.json: top level is not an object");
    if (cfg.contains("chat_template") && cfg["chat_template"].is_string())
      jinja = cfg["chat_template"].get<std::string>();
  }
  if (fileExists(dir + "chat_template.jinja"))
    jinja += slurp(dir + "chat_template.jinja");

  ChatTemplate ct;
  ChatMarkers &mk = ct.markers_;
  bool gemma4 = !configToken(cfg, "sot_token").empty() || tok.tokenId("<|turn>").has_value() ||
                jinja.find("<|turn>") != std::string::npos;
  ct.format_ = gemma4 ? ChatFormat::Gemma4 : ChatFormat::Gemma3;
  if (gemma4) {
    mk.startOfTurn = "<|turn>";
    mk.endOfTurn = "<turn|>";
  } else {
    mk.startOfTurn = "<start_of_turn>";
    mk.endOfTurn = "<end_of_turn>";
  }
  auto over = [&](std::string &field, const char *key) {
    std::string v = configToken(cfg, key);
    if (!v.empty())
      field = v;
  };
  if (gemma4) {
    over(mk.startOfTurn, "sot_token");
    over(mk.endOfTurn, "eot_token");
    over(mk.think, "think_token");
    over(mk.channelStart, "soc_token");
    over(mk.channelEnd, "eoc_token");
    over(mk.toolStart, "std_token");
    over(mk.toolEnd, "etd_token");
    over(mk.toolCallStart, "stc_token");
    over(mk.toolCallEnd, "etc_token");
    over(mk.toolResponseStart, "str_token");
    over(mk.toolResponseEnd, "etr_token");
    over(mk.quote, "escape_token");
  }
  std::string bos = configToken(cfg, "bos_token");
  if (bos.empty() && tok.bosId() >= 0)
    bos = std::string(tok.tokenString(tok.bosId()));
  mk.bos = bos;

  auto addStop = [&](int32_t id) {
    if (id >= 0 && id < tok.vocabSize() &&
        std::find(ct.stopIds_.begin(), ct.stopIds_.end(), id) == ct.stopIds_.end())
      ct.stopIds_.push_back(id);
  };
  auto addStopStr = [&](const std::string &s) {
    if (auto id = tok.tokenId(s))
      addStop(*id);
  };
  addStopStr(mk.endOfTurn);
  addStop(tok.eosId());
  addStopStr(configToken(cfg, "eos_token"));
  if (fileExists(dir + "generation_config.json")) {
    json gen = readJsonFile(dir + "generation_config.json");
    if (gen.is_object() && gen.contains("eos_token_id")) {
      const json &e = gen["eos_token_id"];
      if (e.is_number_integer())
        addStop(e.get<int32_t>());
      else if (e.is_array())
        for (const json &x : e)
          if (x.is_number_integer())
            addStop(x.get<int32_t>());
    }
  }
  if (gemma4)
    addStopStr(mk.toolResponseStart);
  return ct;
}

ChatTemplate ChatTemplate::fromParts(ChatFormat format, ChatMarkers markers,
                                     std::vector<int32_t> stopTokenIds) {
  ChatTemplate ct;
  ct.format_ = format;
  ct.markers_ = std::move(markers);
  for (int32_t id : stopTokenIds)
    if (std::find(ct.stopIds_.begin(), ct.stopIds_.end(), id) == ct.stopIds_.end())
      ct.stopIds_.push_back(id);
  return ct;
}

std::string ChatTemplate::render(const std::vector<ChatMessage> &messages,
                                 bool addGenerationPrompt) const {
  ChatOptions o;
  o.addGenerationPrompt = addGenerationPrompt;
  return render(messages, o);
}

std::string ChatTemplate::render(const std::vector<ChatMessage> &messages,
                                 const ChatOptions &opts) const {
  for (const ChatMessage &m : messages) {
    if (!(isSystem(m) || isModel(m) || m.role == "user" || m.role == "tool"))
      throw TokenizerError("chat template: unknown role '" + m.role + "'");
    detail::validateUtf8(m.content, "chat message content");
    detail::validateUtf8(m.thinking, "chat message thinking");
  }
  return format_ == ChatFormat::Gemma4 ? renderGemma4(messages, opts)
                                       : renderGemma3(messages, opts);
}

std::string ChatTemplate::renderGemma3(const std::vector<ChatMessage> &msgs,
                                       const ChatOptions &opts) const {
  const ChatMarkers &mk = markers_;
  if (opts.thinking)
    throw TokenizerError("chat template: the Gemma 3 format has no thinking mode");
  if (!opts.tools.empty())
    throw TokenizerError("chat template: the Gemma 3 format has no tool declarations");
  std::string out = mk.bos;
  std::string prefix;
  size_t start = 0;
  if (!msgs.empty() && isSystem(msgs[0])) {
    prefix = msgs[0].content + "\n\n";
    start = 1;
  }
  for (size_t i = start; i < msgs.size(); ++i) {
    const ChatMessage &m = msgs[i];
    if (m.role == "tool" || !m.toolCalls.empty())
      throw TokenizerError("chat template: the Gemma 3 format has no tool calls or tool messages");
    if ((m.role == "user") != ((i - start) % 2 == 0))
      throw TokenizerError(
          "chat template: conversation roles must alternate user/assistant/user/assistant/...");
    out += mk.startOfTurn + roleOf(m) + "\n" + (i == start ? prefix : "") + trim(m.content) +
           mk.endOfTurn + "\n";
  }
  if (opts.addGenerationPrompt)
    out += mk.startOfTurn + "model\n";
  return out;
}

std::string ChatTemplate::renderGemma4(const std::vector<ChatMessage> &all,
                                       const ChatOptions &opts) const {
  const ChatMarkers &mk = markers_;
  std::string out = mk.bos;
  size_t start = 0;
  bool hasSystem = !all.empty() && isSystem(all[0]);
  if (hasSystem)
    start = 1;
  if (hasSystem || !opts.tools.empty() || opts.thinking) {
    out += mk.startOfTurn + "system\n";
    if (opts.thinking)
      out += mk.think + "\n";
    if (hasSystem)
      out += trim(all[0].content);
    for (const ToolDeclaration &t : opts.tools)
      out += toolDeclaration(t, mk);
    out += mk.endOfTurn + "\n";
  }
  std::vector<const ChatMessage *> msgs;
  for (size_t i = start; i < all.size(); ++i)
    msgs.push_back(&all[i]);
  long lastUser = -1;
  for (size_t i = 0; i < msgs.size(); ++i)
    if (msgs[i]->role == "user")
      lastUser = static_cast<long>(i);

  std::string prevType;
  for (size_t i = 0; i < msgs.size(); ++i) {
    const ChatMessage &m = *msgs[i];
    if (m.role == "tool") {
      bool folded = false;
      for (size_t k = i; k-- > 0;) {
        if (msgs[k]->role == "tool")
          continue;
        folded = isModel(*msgs[k]) && !msgs[k]->toolCalls.empty();
        break;
      }
      if (!folded)
        throw TokenizerError("chat template: a tool message must follow an assistant "
                             "message with tool calls");
      continue;
    }
    prevType.clear();
    std::string role = isModel(m) ? "model" : m.role;
    bool continueSame = false;
    if (role == "model")
      for (size_t k = i; k-- > 0;) {
        if (msgs[k]->role == "tool")
          continue;
        continueSame = isModel(*msgs[k]);
        break;
      }
    if (!continueSame)
      out += mk.startOfTurn + role + "\n";
    if (!isModel(m) && !m.toolCalls.empty())
      throw TokenizerError("chat template: only assistant messages can carry tool calls");
    if (isModel(m) && !m.thinking.empty() && static_cast<long>(i) > lastUser &&
        !m.toolCalls.empty())
      out += mk.channelStart + "thought\n" + m.thinking + "\n" + mk.channelEnd;
    for (const ToolCall &tc : m.toolCalls)
      out += toolCall(tc, mk);
    if (!m.toolCalls.empty())
      prevType = "tool_call";
    bool responses = false;
    if (!m.toolCalls.empty()) {
      for (size_t k = i + 1; k < msgs.size() && msgs[k]->role == "tool"; ++k) {
        const ChatMessage &r = *msgs[k];
        std::string name = r.toolName.empty() ? "unknown" : r.toolName;
        if (!r.toolCallId.empty())
          for (const ToolCall &tc : m.toolCalls)
            if (tc.id == r.toolCallId) {
              name = tc.name;
              break;
            }
        out += mk.toolResponseStart + "response:" + name + "{value:" + mk.quote + r.content +
               mk.quote + "}" + mk.toolResponseEnd;
        responses = true;
        prevType = "tool_response";
      }
    }
    bool hadContent;
    if (role == "model") {
      std::string text = stripThinking(m.content, mk);
      out += text;
      hadContent = !text.empty();
    } else {
      std::string text = trim(m.content);
      out += text;
      hadContent = !text.empty();
    }
    if (prevType == "tool_call" && !responses)
      out += mk.toolResponseStart;
    else if (!(responses && !hadContent))
      out += mk.endOfTurn + "\n";
  }
  if (opts.addGenerationPrompt && prevType != "tool_response" && prevType != "tool_call") {
    out += mk.startOfTurn + "model\n";
    if (opts.emptyThoughtBlock && !opts.thinking)
      out += mk.channelStart + "thought\n" + mk.channelEnd;
  }
  return out;
}

} // namespace gemma4rt
