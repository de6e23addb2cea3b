#!/usr/bin/env bash
# Fetches the official OpenAI Node.js client (npm package `openai`, pinned
# and hash-checked; it has no dependencies) into
# .cache/openai-node/node_modules/openai, for the server tests
# (test/Serve/openai-client.test: chat, streaming chat and completions
# through the real client against ./model --serve). Idempotent: does nothing
# when the pinned version is already unpacked.
set -euo pipefail

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
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-openai-node: error: npm not found (install node/npm to fetch $PKG)" >&2
  exit 1
fi

mkdir -p "$DEST"
TMP="$(mktemp -d "$DEST/.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
( cd "$TMP" && npm pack --silent "$PKG@$VERSION" >/dev/null 2>"$TMP/npm.log" ) || {
  cat "$TMP/npm.log" >&2
  echo "fetch-openai-node: error: npm pack $PKG@$VERSION failed" >&2
  exit 1
}
TGZ="$(ls "$TMP"/*.tgz)"
got="sha512-$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "fetch-openai-node: error: integrity mismatch for $TGZ ($got)" >&2
  exit 1
fi
mkdir -p "$TMP/unpack"
tar -xzf "$TGZ" -C "$TMP/unpack"
[ -f "$TMP/unpack/package/package.json" ] || {
  echo "fetch-openai-node: error: the package has no package.json" >&2
  exit 1
}
rm -rf "$PKGDIR" "$DEST"/.fetched-*
mkdir -p "$DEST/node_modules"
mv "$TMP/unpack/package" "$PKGDIR"
touch "$STAMP"
echo "fetch-openai-node: $PKGDIR ($VERSION)"
