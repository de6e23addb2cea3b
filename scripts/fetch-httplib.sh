#!/usr/bin/env bash
# Fetches cpp-httplib's single header (httplib.h) for the compiled models'
# HTTP server (--serve) from Debian's source package cpp-httplib
# 0.11.4+ds-1+deb12u1, the version bookworm ships as libcpp-httplib-dev,
# with Debian's patches applied (its CVE fix), into .cache/httplib/include/.
#
# Why the source package and not libcpp-httplib-dev itself: Debian builds
# cpp-httplib as a shared library (libcpp-httplib.so.0.11, linked to OpenSSL,
# zlib and brotli) and its httplib.h holds only the declarations. A model
# binary must stay standalone (static libstdc++, nothing but libc; AArch64
# binaries fully static), so the runtime compiles the upstream header-only
# form instead, with TLS and compression off.
#
# Idempotent: does nothing when that version is already unpacked. Every file
# is checked against the pinned SHA-256 sums. Exits 1 on failure (the build
# then leaves --serve out of the runtime, saying so).
set -euo pipefail

VERSION="0.11.4+ds-1+deb12u1"
UPSTREAM="0.11.4+ds"
declare -A SHA256=(
  ["cpp-httplib_${VERSION}.dsc"]="a4dde747bbde7cc9fa62cdf50d61140a0eaefb7f1383497ef2d48daf3bf5f9ec"
  ["cpp-httplib_${UPSTREAM}.orig.tar.xz"]="8b1a5df569003b6a4f24c68489bbda5c64aec94697bdc9ebba5d79408b2ae7eb"
  ["cpp-httplib_${VERSION}.debian.tar.xz"]="a0adf8a38610806f6d94ba69839438635e5e6580775e28ff31d6a081e34f1484"
)
# deb.debian.org keeps the current version; snapshot.debian.org every one.
MIRRORS=(
  "http://deb.debian.org/debian/pool/main/c/cpp-httplib"
  "http://snapshot.debian.org/archive/debian/20250520T000000Z/pool/main/c/cpp-httplib"
)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.cache/httplib"
HEADER="$DEST/include/httplib.h"
STAMP="$DEST/VERSION"

if [ -f "$HEADER" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
  echo "fetch-httplib: $HEADER ($VERSION, cached)"
  exit 0
fi
fail() { echo "fetch-httplib: error: $*" >&2; exit 1; }
command -v dpkg-source >/dev/null 2>&1 || fail "dpkg-source not found (apt-get install dpkg-dev)"
command -v curl >/dev/null 2>&1 || fail "curl not found"

mkdir -p "$DEST"
TMP="$(mktemp -d "$DEST/.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

for f in "${!SHA256[@]}"; do
  ok=""
  for m in "${MIRRORS[@]}"; do
    # The pool's file names spell '+' as is; URLs escape it.
    if curl -fsSL --retry 2 --max-time 120 -o "$TMP/$f" "$m/${f//+/%2B}" 2>/dev/null; then
      ok=1
      break
    fi
  done
  [ -n "$ok" ] || fail "could not download $f from ${MIRRORS[*]}"
  got="$(sha256sum "$TMP/$f" | cut -d' ' -f1)"
  [ "$got" = "${SHA256[$f]}" ] || fail "SHA-256 mismatch for $f ($got)"
done

# Unpacks and applies debian/patches (the .dsc's own sums are checked too).
( cd "$TMP" && dpkg-source --no-check -x "cpp-httplib_${VERSION}.dsc" src >"$TMP/log" 2>&1 ) ||
  { cat "$TMP/log" >&2; fail "dpkg-source -x failed"; }
grep -q '^#define CPPHTTPLIB_VERSION "0.11.4"' "$TMP/src/httplib.h" ||
  fail "the source package's httplib.h is not version 0.11.4"
# The header-only form carries the definitions (Debian's installed header
# does not): Server::listen_internal is one of them.
grep -q '^inline bool Server::listen_internal()' "$TMP/src/httplib.h" ||
  fail "the source package's httplib.h is not the header-only form"

rm -rf "$DEST/include"
mkdir -p "$DEST/include"
cp "$TMP/src/httplib.h" "$TMP/src/LICENSE" "$DEST/include/"
echo "$VERSION" >"$STAMP"
echo "fetch-httplib: $HEADER ($VERSION)"
