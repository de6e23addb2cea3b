#!/usr/bin/env bash
# Fetches Debian's arm64 static libpng, libjpeg-turbo and zlib (libpng16.a,
# libjpeg.a, libz.a and their headers, from the arm64 -dev .debs of the
# versions apt would install on this host) into .cache/arm64-codecs/, so the
# AArch64 cross runtime decodes PNG/JPEG for --image. Idempotent. Never
# fails: on any error it prints one warning and AArch64 binaries refuse
# PNG/JPEG in one line (WAV input needs no library).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.cache/arm64-codecs"
STAMP="$DEST/VERSIONS"

warn() { echo "fetch-arm64-codecs: warning: $*; AArch64 binaries will not decode PNG/JPEG" >&2; exit 0; }

command -v apt-cache >/dev/null 2>&1 || warn "no apt-cache (not Debian/Ubuntu)"
want=""
declare -A FILE VER
for p in libpng-dev libjpeg62-turbo-dev zlib1g-dev; do
  line="$(apt-cache show "$p" 2>/dev/null | awk '/^Version:/{v=$2} /^Filename:/{print v " " $2; exit}')"
  [ -n "$line" ] || warn "apt-cache knows no $p"
  VER[$p]="${line%% *}"
  FILE[$p]="${line#* }"
  want+="$p ${VER[$p]}"$'\n'
done

if [ -f "$DEST/lib/libpng16.a" ] && [ -f "$DEST/lib/libjpeg.a" ] && [ -f "$DEST/lib/libz.a" ] &&
   [ "$(cat "$STAMP" 2>/dev/null)" = "$(printf '%s' "$want")" ]; then
  echo "fetch-arm64-codecs: $DEST (cached)"
  exit 0
fi

mkdir -p "$DEST" 2>/dev/null || warn "cannot create $DEST"
TMP="$(mktemp -d "$DEST/.tmp.XXXXXX")" || warn "cannot create a temporary directory in $DEST"
trap 'rm -rf "$TMP"' EXIT
for p in libpng-dev libjpeg62-turbo-dev zlib1g-dev; do
  f="${FILE[$p]}"
  case "$f" in
    pool/updates/*) base=http://security.debian.org/debian-security ;;
    *) base=http://deb.debian.org/debian ;;
  esac
  url="$base/$(sed 's/_[a-z0-9]*\.deb$/_arm64.deb/' <<<"$f")"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$TMP/$p.deb" "$url" 2>/dev/null || warn "download failed: $url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$TMP/$p.deb" "$url" || warn "download failed: $url"
  else
    warn "neither curl nor wget found"
  fi
  info="$(dpkg-deb --info "$TMP/$p.deb" 2>/dev/null)" || warn "$url is not a valid .deb"
  grep -q "^ Package: $p$" <<<"$info" || warn "$url is not $p"
  grep -q "^ Architecture: arm64$" <<<"$info" || warn "$url is not arm64"
  dpkg-deb -x "$TMP/$p.deb" "$TMP/x" 2>/dev/null || warn "cannot unpack $url"
done
X="$TMP/x/usr"
mkdir -p "$TMP/out/lib" "$TMP/out/include" || warn "cannot write $TMP"
for f in lib/aarch64-linux-gnu/libpng16.a lib/aarch64-linux-gnu/libjpeg.a lib/aarch64-linux-gnu/libz.a; do
  cp "$X/$f" "$TMP/out/lib/" 2>/dev/null || warn "no usr/$f in the arm64 packages"
done
for f in include/libpng16/png.h include/libpng16/pngconf.h include/libpng16/pnglibconf.h \
         include/jpeglib.h include/jmorecfg.h include/jerror.h include/aarch64-linux-gnu/jconfig.h \
         include/zlib.h include/zconf.h; do
  cp "$X/$f" "$TMP/out/include/" 2>/dev/null || warn "no usr/$f in the arm64 packages"
done
rm -rf "$DEST/lib" "$DEST/include"
mv "$TMP/out/lib" "$TMP/out/include" "$DEST/" || warn "cannot write $DEST"
printf '%s' "$want" >"$STAMP" || warn "cannot write $STAMP"
echo "fetch-arm64-codecs: $DEST ($(tr '\n' ' ' <"$STAMP"))"
