//===- gemma4rt/tokenizer.h - Gemma tokenizer (HF tokenizer.json / SP model) -===//
//
// The tokenizer linked into gemma4c and into generated model binaries. It has
// no LLVM/MLIR dependency.
//
// Inputs
//   * Hugging Face `tokenizer.json` with a BPE model (byte_fallback, fuse_unk,
//     ignore_merges, continuing_subword_prefix / end_of_word_suffix, merges as
//     "a b" strings or ["a","b"] arrays), added tokens (special or not,
//     normalized or not, lstrip/rstrip/single_word), and these pipeline parts:
//       normalizer:    Replace (String pattern), Prepend, Sequence, null
//       pre_tokenizer: Split (String pattern, every behavior, invert=false),
//                      Metaspace, Sequence, null
//       decoder:       Replace (String pattern), ByteFallback, Fuse, Strip,
//                      Metaspace, Sequence, null
//     Anything else (Regex patterns, NFKC, ByteLevel, Unigram/WordPiece, ...)
//     is rejected with a TokenizerError naming the unsupported part.
//   * SentencePiece `tokenizer.model` (ModelProto) of type BPE. CONTROL and
//     USER_DEFINED pieces become added tokens (CONTROL/UNKNOWN are special),
//     exactly as Hugging Face's converter does; merges follow piece scores.
//     Normalizer: identity only (no precompiled charsmap); escape_whitespaces,
//     add_dummy_prefix and remove_extra_whitespaces are honoured.
//
// Semantics follow Hugging Face `tokenizers` (encode with
// add_special_tokens=False, decode with skip_special_tokens=!showSpecial):
// added tokens are matched leftmost-longest before normalization, the rest is
// normalized, pre-tokenized and BPE-merged (lowest merge rank first, leftmost
// on ties). Encoding is O(n log n) in the text length.
//
// Errors are reported by throwing TokenizerError.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_TOKENIZER_H
#define GEMMA4RT_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4rt {

/// Every failure of the tokenizer library (unreadable or corrupt files,
/// unsupported configurations, invalid UTF-8 input, out-of-range ids).
class TokenizerError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class TokenizerFormat {
  Auto,               ///< sniff: '{' => HuggingFaceJson, else SentencePieceModel
  HuggingFaceJson,    ///< tokenizer.json
  SentencePieceModel, ///< tokenizer.model (protobuf)
};

class Tokenizer {
public:
  /// Loads `path`: a tokenizer.json, a tokenizer.model, or a directory holding
  /// one of them (tokenizer.json is preferred when both exist).
  static std::unique_ptr<Tokenizer> fromFile(const std::string &path);
  /// Loads from bytes already in memory; `name` is used in error messages.
  static std::unique_ptr<Tokenizer> fromMemory(std::string_view bytes,
                                               TokenizerFormat format,
                                               std::string_view name = "<memory>");

  ~Tokenizer();
  Tokenizer(const Tokenizer &) = delete;
  Tokenizer &operator=(const Tokenizer &) = delete;

  /// Text to ids, no BOS/EOS added. Special-token strings in the text (e.g.
  /// "<start_of_turn>") become their ids. Throws on invalid UTF-8.
  std::vector<int32_t> encode(std::string_view text) const;

  /// Ids to text. With showSpecial=false, special tokens (added tokens marked
  /// special) are dropped. Byte-fallback tokens are joined; an invalid run of
  /// byte tokens becomes one U+FFFD per byte (as in Hugging Face). Throws on
  /// ids outside [0, vocabSize()) or ids with no token.
  std::string decode(std::span<const int32_t> ids, bool showSpecial = true) const;

  /// Id of a token string (added token or model vocabulary), if any.
  std::optional<int32_t> tokenId(std::string_view token) const;
  /// The raw token string of `id` ("▁the", "<0x0A>", "<eos>"); empty if none.
  std::string_view tokenString(int32_t id) const;
  bool isSpecial(int32_t id) const;
  bool isAddedToken(int32_t id) const;

  /// One past the largest id (model vocabulary and added tokens).
  int32_t vocabSize() const;
  /// Well-known ids, -1 when the tokenizer has none.
  int32_t bosId() const;
  int32_t eosId() const;
  int32_t padId() const;
  int32_t unkId() const;

  /// The file this tokenizer was read from (or the name given to fromMemory).
  const std::string &source() const;

  struct Impl;
  const Impl &impl() const { return *impl_; }

private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Incremental detokenizer for generation: feed ids one at a time and get back
/// only text that is complete, valid UTF-8. Runs of byte-fallback tokens
/// (<0xNN>) are held until the run ends, then joined; the concatenation of
/// every push() plus finish() equals Tokenizer::decode of all ids.
class StreamDecoder {
public:
  StreamDecoder(const Tokenizer &tokenizer, bool showSpecial);

  /// Adds one id; returns the text that became final (possibly empty).
  std::string push(int32_t id);
  /// Ends the stream: flushes a pending byte run (invalid bytes => U+FFFD).
  std::string finish();
  /// Forgets everything (start of a new, independent sequence).
  void reset();

private:
  std::string flushRun();
  std::string emit(std::vector<std::string> batch);
  const Tokenizer *tok_;
  bool showSpecial_;
  size_t byteStep_ = 0, fuseStep_ = 0;  // decoder-chain split points
  std::vector<size_t> seen_;            // per decoder step: elements processed
  std::vector<size_t> leadStrip_;       // per post-Fuse Strip: chars left to strip
  std::vector<std::string> pendingRun_; // byte tokens of the current run
  size_t emitted_ = 0;                  // tokens emitted (no-decoder join)
};

} // namespace gemma4rt

#endif
