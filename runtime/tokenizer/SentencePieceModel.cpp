//===- SentencePieceModel.cpp - read SentencePiece tokenizer.model --------===//
//
// Turns a SentencePiece BPE ModelProto into the same pipeline Hugging Face's
// converter (convert_slow_tokenizer) produces, so both files of a checkpoint
// tokenize alike:
//   * CONTROL and UNKNOWN pieces become special added tokens, USER_DEFINED
//     pieces non-special added tokens (matched before BPE, never normalized);
//   * normalizer: remove_extra_whitespaces, add_dummy_prefix (text start
//     only), escape_whitespaces (' ' -> U+2581); identity rule only;
//   * BPE merges: every split of a NORMAL/USER_DEFINED piece into two such
//     pieces, ranked by the merged piece's score (higher first; equal scores
//     tie on position, as in SentencePiece's agenda);
//   * decoder: U+2581 -> ' ', byte fallback, fuse, and strip one leading
//     space when add_dummy_prefix is on.
// UNUSED pieces never take part in merges.
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#ifdef GEMMA4RT_NO_SENTENCEPIECE
// Built without protobuf-lite (the AArch64 cross runtime when no arm64
// protobuf-lite was fetched: scripts/fetch-arm64-protobuf.sh): tokenizer.json only.
namespace gemma4rt {
namespace detail {
std::unique_ptr<Tokenizer::Impl> loadSentencePieceModel(std::string_view, const std::string &name) {
  throw TokenizerError(name + ": SentencePiece tokenizer.model is not supported on this target "
                              "(built without protobuf); use the checkpoint's tokenizer.json");
}
} // namespace detail
} // namespace gemma4rt
#else

#include "sentencepiece_model.pb.h"

#include <algorithm>

namespace gemma4rt {
namespace detail {

std::unique_ptr<Tokenizer::Impl> loadSentencePieceModel(std::string_view bytes,
                                                        const std::string &name) {
  auto fail = [&](const std::string &msg) -> void { throw TokenizerError(name + ": " + msg); };
  namespace sp = gemma4rt::sentencepiece;
  using Piece = sp::ModelProto_SentencePiece;

  sp::ModelProto m;
  if (bytes.empty() || bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail("not a SentencePiece model (protobuf parse failed)");
  if (m.pieces_size() == 0)
    fail("not a SentencePiece model (no pieces)");
  if (m.pieces_size() > kMaxTokenId + 1)
    fail(std::to_string(m.pieces_size()) + " pieces exceed the limit of " +
         std::to_string(kMaxTokenId + 1));
  const sp::TrainerSpec &ts = m.trainer_spec();
  if (ts.model_type() != sp::TrainerSpec::BPE) {
    const char *names[] = {"?", "UNIGRAM", "BPE", "WORD", "CHAR"};
    int mt = ts.model_type();
    fail(std::string("unsupported SentencePiece model type ") +
         (mt >= 1 && mt <= 4 ? names[mt] : "?") + " (only BPE)");
  }
  if (ts.treat_whitespace_as_suffix())
    fail("treat_whitespace_as_suffix is not supported");
  const sp::NormalizerSpec &ns = m.normalizer_spec();
  if (!ns.precompiled_charsmap().empty())
    fail("unsupported normalizer '" + ns.name() + "' (only identity, no precompiled charsmap)");

  auto impl = std::make_unique<Tokenizer::Impl>();
  Tokenizer::Impl &t = *impl;
  const int n = m.pieces_size();
  t.idToToken.resize(static_cast<size_t>(n));
  t.vocab.reserve(static_cast<size_t>(n));
  std::vector<uint8_t> mergeable(static_cast<size_t>(n), 0);
  auto addToken = [&](const std::string &content, int id, bool special) {
    AddedToken a;
    a.content = content;
    a.id = id;
    a.special = special;
    t.added.push_back(std::move(a)); // normalized=false, no strip, not single-word
  };
  for (int i = 0; i < n; ++i) {
    const Piece &p = m.pieces(i);
    if (p.piece().empty())
      fail("piece " + std::to_string(i) + " is empty");
    validateUtf8(p.piece(), name + " piece " + std::to_string(i));
    t.vocab.set(p.piece(), i);
    t.idToToken[i] = p.piece();
    switch (p.type()) {
    case Piece::NORMAL:
      mergeable[i] = 1;
      break;
    case Piece::USER_DEFINED:
      mergeable[i] = 1;
      addToken(p.piece(), i, /*special=*/false);
      break;
    case Piece::CONTROL:
    case Piece::UNKNOWN:
      addToken(p.piece(), i, /*special=*/true);
      break;
    default: // BYTE, UNUSED
      break;
    }
  }

  auto idOrNone = [&](int id) { return id >= 0 && id < n ? id : -1; };
  t.unkId = idOrNone(ts.unk_id());
  t.bos = idOrNone(ts.bos_id());
  t.eos = idOrNone(ts.eos_id());
  t.pad = idOrNone(ts.pad_id());
  t.byteFallback = ts.byte_fallback();
  t.fuseUnk = true; // SentencePiece merges runs of unknown pieces

  // Rank = position of the piece's score among the distinct scores, best first.
  std::vector<float> scores;
  scores.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    if (mergeable[i])
      scores.push_back(m.pieces(i).score());
  std::sort(scores.begin(), scores.end(), std::greater<float>());
  scores.erase(std::unique(scores.begin(), scores.end()), scores.end());
  t.merges.reserve(static_cast<size_t>(n) * 2);
  for (int i = 0; i < n; ++i) {
    if (!mergeable[i])
      continue;
    const std::string &piece = m.pieces(i).piece();
    auto rank = static_cast<uint32_t>(
        std::lower_bound(scores.begin(), scores.end(), m.pieces(i).score(), std::greater<float>()) -
        scores.begin());
    for (size_t k = utf8Len(static_cast<unsigned char>(piece[0])); k < piece.size();
         k += utf8Len(static_cast<unsigned char>(piece[k]))) {
      int32_t l = t.vocab.find(std::string_view(piece).substr(0, k));
      int32_t r = t.vocab.find(std::string_view(piece).substr(k));
      if (l < 0 || r < 0 || !mergeable[l] || !mergeable[r])
        continue;
      t.merges.set((static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) |
                       static_cast<uint32_t>(r),
                   MergeVal{rank, i});
    }
  }

  if (ns.remove_extra_whitespaces())
    t.normalizers.push_back({NormStep::RemoveExtraSpaces, "", ""});
  if (ns.add_dummy_prefix())
    t.normalizers.push_back({NormStep::PrependFirst, "", " "});
  if (ns.escape_whitespaces())
    t.normalizers.push_back({NormStep::Replace, " ", "\xE2\x96\x81"});

  t.hasDecoder = true;
  if (ns.escape_whitespaces()) {
    DecodeStep r{DecodeStep::Replace};
    r.pattern = "\xE2\x96\x81";
    r.content = " ";
    t.decoders.push_back(std::move(r));
  }
  t.decoders.push_back(DecodeStep(DecodeStep::ByteFallback));
  t.decoders.push_back(DecodeStep(DecodeStep::Fuse));
  if (ns.add_dummy_prefix()) {
    DecodeStep s{DecodeStep::Strip};
    s.content = " ";
    s.start = 1;
    t.decoders.push_back(std::move(s));
  }
  return impl;
}

} // namespace detail
} // namespace gemma4rt

#endif // GEMMA4RT_NO_SENTENCEPIECE
