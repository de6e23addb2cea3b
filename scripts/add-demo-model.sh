#!/usr/bin/env bash
# Puts the output of scripts/train-demo-model.py (its --out folder, e.g. the
# files a GPU machine sent back) into examples/demo/, then unpacks it into
# .cache/demo-model/ (scripts/unpack-demo-model.sh). Checks first that every
# file is there, that the run met its accuracy target (summary.json "pass")
# and that what the repository stores stays under 30 MB.
#
#   scripts/add-demo-model.sh OUT_DIR [--force]    --force: take a run below target
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${1:?usage: scripts/add-demo-model.sh OUT_DIR [--force]}"
FORCE="${2:-}"
DEST="$ROOT/examples/demo"
FILES=(config.json generation_config.json tokenizer_config.json model.safetensors.gz
       golden.safetensors.gz golden.json heldout.jsonl summary.json)
for f in "${FILES[@]}"; do
  if [ ! -f "$SRC/$f" ]; then
    echo "add-demo-model: error: $SRC/$f is missing" >&2
    exit 1
  fi
done
for f in model.safetensors.gz golden.safetensors.gz; do
  if ! gzip -t "$SRC/$f" 2>/dev/null; then
    echo "add-demo-model: error: $SRC/$f is not a valid gzip file" >&2
    exit 1
  fi
done
verdict="$(python3 - "$SRC/summary.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
e = s.get("eval_pruned", {})
print("%s %s" % ("pass" if s.get("pass") else "below-target", e.get("exact_match_bf16")))
EOF
)" || { echo "add-demo-model: error: $SRC/summary.json is not the training summary" >&2; exit 1; }
echo "add-demo-model: held-out exact match (bf16, transformers) ${verdict#* } (${verdict%% *})"
if [ "${verdict%% *}" != pass ] && [ "$FORCE" != --force ]; then
  echo "add-demo-model: error: the run is below its target; retrain, or pass --force" >&2
  exit 1
fi
total=$(cat "$SRC"/config.json "$SRC"/generation_config.json "$SRC"/tokenizer_config.json \
        "$SRC"/model.safetensors.gz "$SRC"/golden.safetensors.gz "$SRC"/golden.json \
        "$SRC"/heldout.jsonl "$SRC"/summary.json | wc -c)
if [ "$total" -gt 30000000 ]; then
  echo "add-demo-model: error: the files take $total bytes (> 30 MB)" >&2
  exit 1
fi
for f in "${FILES[@]}"; do
  [ "$f" = summary.json ] && continue
  cp "$SRC/$f" "$DEST/$f"
done
cp "$SRC/summary.json" "$DEST/train-summary.json"
echo "add-demo-model: $total bytes into $DEST"
bash "$ROOT/scripts/unpack-demo-model.sh"
