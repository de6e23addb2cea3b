#!/usr/bin/env bash
# Fetches the official OpenAI Node.js client (npm package `openai`, pinned
# and hash-checked; it has no dependencies) into
# .cache/openai-node/node_modules/openai, for the server tests
# (test/Serve/openai-client.test: chat, streaming chat and completions
# through the real client against ./model --serve). Idempotent: does nothing
# when the pinned version is already unpacked.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/npm-pinned.sh"

PKG="openai"
VERSION="6.49.0"
INTEGRITY="sha512-aYCc0C6L864eR6WSYIwQGyXriw/nIyZx0ObvhzOEVuk0zoBDpynjSbrionWI7q65B5H8jJX0DXR9snEzM6bfPg=="

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.cache/openai-node"
PKGDIR="$DEST/node_modules/openai"
STAMP="$DEST/.fetched-$VERSION"

if [ -f "$STAMP" ] && [ -f "$PKGDIR/package.json" ]; then
  echo "fetch-openai-node: $PKGDIR ($VERSION, cached)"
  exit 0
fi
mkdir -p "$DEST"
TMP="$(mktemp -d "$DEST/.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
npm_pinned fetch-openai-node "$PKG" "$VERSION" "$INTEGRITY" "$TMP"
[ -f "$TMP/unpack/package/package.json" ] || {
  echo "fetch-openai-node: error: the package has no package.json" >&2
  exit 1
}
rm -rf "$PKGDIR" "$DEST"/.fetched-*
mkdir -p "$DEST/node_modules"
mv "$TMP/unpack/package" "$PKGDIR"
touch "$STAMP"
echo "fetch-openai-node: $PKGDIR ($VERSION)"
