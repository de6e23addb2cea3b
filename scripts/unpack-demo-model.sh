#!/usr/bin/env bash
# Unpacks the trained demo model (examples/demo/, issue 26) into a checkpoint
# folder gemma4c can compile: .cache/demo-model/ (or DEST) gets config.json,
# generation_config.json, tokenizer_config.json, the gunzipped
# model.safetensors and golden.safetensors, golden.json, heldout.jsonl and
# the real Gemma tokenizer.json (scripts/fetch-tokenizer.sh; fetched when
# missing). The repository keeps the safetensors gzip'd (the checkpoint's
# unused vocabulary rows repeat one vector, so they compress ~30x).
#
#   scripts/unpack-demo-model.sh [DEST]     prints DEST; exit 1 with one line
#                                           when something is missing
#
# Idempotent and safe to run concurrently (the tests call it): it does nothing
# when DEST was unpacked from the same files, else unpacks into a temporary
# folder and renames it into place.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/examples/demo"
DEST="${1:-$ROOT/.cache/demo-model}"
TOK="$ROOT/.cache/tokenizer/tokenizer-gemma3-3.7.2/package/models/tokenizer.json"
FILES=(config.json generation_config.json tokenizer_config.json model.safetensors.gz
       golden.safetensors.gz golden.json heldout.jsonl)

for f in "${FILES[@]}"; do
  if [ ! -f "$SRC/$f" ]; then
    echo "unpack-demo-model: error: $SRC/$f is missing (the trained demo model is not in this checkout)" >&2
    exit 1
  fi
done
if [ ! -f "$TOK" ]; then
  bash "$ROOT/scripts/fetch-tokenizer.sh" >/dev/null || {
    echo "unpack-demo-model: error: no Gemma tokenizer at $TOK (scripts/fetch-tokenizer.sh failed)" >&2
    exit 1
  }
fi

stamp="$( (cd "$SRC" && sha256sum "${FILES[@]}") | sha256sum | cut -c1-64)"
if [ -f "$DEST/.unpacked" ] && [ "$(cat "$DEST/.unpacked")" = "$stamp" ] && [ -f "$DEST/tokenizer.json" ]; then
  echo "$DEST"
  exit 0
fi

mkdir -p "$(dirname "$DEST")"
TMP="$(mktemp -d "$DEST.tmp.XXXXXX")"
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
for f in config.json generation_config.json tokenizer_config.json golden.json heldout.jsonl; do
  cp "$SRC/$f" "$TMP/$f"
done
gzip -dc "$SRC/model.safetensors.gz" > "$TMP/model.safetensors"
gzip -dc "$SRC/golden.safetensors.gz" > "$TMP/golden.safetensors"
cp "$TOK" "$TMP/tokenizer.json"
echo "$stamp" > "$TMP/.unpacked"

# Another run may have finished first: keep whichever complete copy is there.
if [ -f "$DEST/.unpacked" ] && [ "$(cat "$DEST/.unpacked")" = "$stamp" ]; then
  echo "$DEST"
  exit 0
fi
OLD=""
if [ -e "$DEST" ]; then
  OLD="$(mktemp -d "$DEST.old.XXXXXX")"
  mv "$DEST" "$OLD/" 2>/dev/null || true
fi
if ! mv -T "$TMP" "$DEST" 2>/dev/null; then
  if [ ! -f "$DEST/.unpacked" ] || [ "$(cat "$DEST/.unpacked")" != "$stamp" ]; then
    echo "unpack-demo-model: error: cannot move the unpacked model to $DEST" >&2
    exit 1
  fi
fi
[ -n "$OLD" ] && rm -rf "$OLD"
echo "$DEST"
