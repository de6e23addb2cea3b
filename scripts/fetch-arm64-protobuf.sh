#!/usr/bin/env bash
# Fetches Debian's arm64 protobuf-lite static library (libprotobuf-lite.a from
# the arm64 libprotobuf-dev .deb, exactly the host's installed version) into
# .cache/arm64-protobuf/, so that the AArch64 cross runtime (runtime/cross)
# can read tokenizer.model (SentencePiece). Idempotent: does nothing when that
# version is already there. Never fails: on any error it prints one warning
# and the AArch64 runtime stays without SentencePiece (tokenizer.json only).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.cache/arm64-protobuf"
LIB="$DEST/libprotobuf-lite.a"
STAMP="$DEST/VERSION" # the Debian version the .a came from

warn() { echo "fetch-arm64-protobuf: warning: $*; AArch64 binaries will read tokenizer.json only" >&2; exit 0; }

VERSION="$(dpkg-query -W -f='${Version}' libprotobuf-dev 2>/dev/null)" || VERSION=""
[ -n "$VERSION" ] || warn "libprotobuf-dev is not installed on the host"

if [ -f "$LIB" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
  echo "fetch-arm64-protobuf: $LIB ($VERSION, cached)"
  exit 0
fi

URL="http://deb.debian.org/debian/pool/main/p/protobuf/libprotobuf-dev_${VERSION}_arm64.deb"
mkdir -p "$DEST" 2>/dev/null || warn "cannot create $DEST"
TMP="$(mktemp -d "$DEST/.tmp.XXXXXX")" || warn "cannot create a temporary directory in $DEST"
trap 'rm -rf "$TMP"' EXIT

if command -v curl >/dev/null 2>&1; then
  curl -fsSL --retry 2 -o "$TMP/pb.deb" "$URL" 2>/dev/null || warn "download failed: $URL"
elif command -v wget >/dev/null 2>&1; then
  wget -q -O "$TMP/pb.deb" "$URL" || warn "download failed: $URL"
else
  warn "neither curl nor wget found"
fi

info="$(dpkg-deb --info "$TMP/pb.deb" 2>/dev/null)" || warn "$URL is not a valid .deb"
grep -q "^ Package: libprotobuf-dev$" <<<"$info" || warn "$URL is not libprotobuf-dev"
grep -q "^ Version: ${VERSION}$" <<<"$info" || warn "$URL is not version $VERSION"
grep -q "^ Architecture: arm64$" <<<"$info" || warn "$URL is not arm64"

dpkg-deb --fsys-tarfile "$TMP/pb.deb" 2>/dev/null |
  tar -x -C "$TMP" ./usr/lib/aarch64-linux-gnu/libprotobuf-lite.a 2>/dev/null ||
  warn "no usr/lib/aarch64-linux-gnu/libprotobuf-lite.a in $URL"
mv -f "$TMP/usr/lib/aarch64-linux-gnu/libprotobuf-lite.a" "$LIB" || warn "cannot write $LIB"
echo "$VERSION" >"$STAMP" || warn "cannot write $STAMP"
echo "fetch-arm64-protobuf: $LIB ($VERSION)"
