#!/usr/bin/env python3
"""Makes the speculative-decoding fixtures with transformers (issue 30).

  python3 scripts/make-assistant-fixtures.py --out test/fixtures [--seed 11]

Needs transformers >= 5.17 (Gemma4AssistantForCausalLM) and torch; run it on
the GPU machine (or any machine with them: CPU is enough), then copy the two
folders it writes into test/fixtures/:

  spec-target-mini/     a tiny random Gemma4ForCausalLM (e2b-mini's text
                        config: sliding + full layers, PLE, KV sharing,
                        soft-cap, vocabulary 384)
  spec-assistant-mini/  a tiny random Gemma4AssistantForCausalLM for it
                        (2 layers, every layer KV-shared with the target's
                        last sliding / full layer, pre/post projections,
                        no ordered embeddings)

Each gets config.json, generation_config.json, model.safetensors (bf16).
spec-assistant-mini/golden.safetensors holds what gemma4c's assistant
support must reproduce (f32, weights upcast, like the other fixtures):

  input_ids         [20]          the prompt (int32)
  target_hidden     [20, H]       the target's last hidden state (before
                                  the final norm's output projection: what
                                  transformers passes the assistant)
  anchors           [A]           prompt positions the assistant drafts from
  assistant_logits  [A, V]        the assistant's logits for the token
                                  after each anchor, given the target's
                                  embedding of the anchor token
                                  concatenated with its hidden state and
                                  the target's shared K/V of the prefix
  assistant_hidden  [A, H]        the assistant's projected hidden state
                                  (its next step's input)
  greedy_ids        [16]          target.generate(greedy) continuation
  assisted_ids      [16]          the same with assistant_model=: must
                                  equal greedy_ids
and golden.json the f32-vs-f64 difference of assistant_logits (the noise
floor for the tolerance) and the acceptance transformers saw.

The compiler does not support assistant drafts yet (gemma4c compile --draft
refuses them in one line); these fixtures are the goldens that work will
test against.
"""
import argparse, copy, json, os

import torch
from safetensors.torch import save_file
from transformers import (Gemma4AssistantConfig, Gemma4AssistantForCausalLM, Gemma4ForCausalLM,
                          Gemma4TextConfig)

HERE = os.path.dirname(os.path.abspath(__file__))


def target_text_config():
    with open(os.path.join(HERE, "..", "test", "fixtures", "e2b-mini", "config.json")) as f:
        c = json.load(f)
    return c.get("text_config", c)


def assistant_text_config(t):
    """Two layers, the target's last sliding and last full layer shapes (the
    assistant's attention reads those layers' K/V), no PLE, no MoE, no
    double-wide MLP, every layer KV-shared (Gemma4AssistantConfig checks)."""
    a = copy.deepcopy(t)
    types = t["layer_types"]
    last = {kind: max(i for i, x in enumerate(types) if x == kind)
            for kind in ("sliding_attention", "full_attention")}
    a.update({
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "layer_types": ["sliding_attention", "full_attention"],
        "hidden_size_per_layer_input": 0,
        "vocab_size_per_layer_input": 0,
        "use_double_wide_mlp": False,
        "enable_moe_block": False,
        "num_kv_shared_layers": 2,
    })
    plc = t.get("per_layer_config") or {}
    a["per_layer_config"] = {}
    for i, kind in enumerate(a["layer_types"]):
        src = plc.get(str(last[kind]))
        if src:
            a["per_layer_config"][str(i)] = src
    if not a["per_layer_config"]:
        a.pop("per_layer_config")
    return a


def save(model, out, name):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    model.to(torch.bfloat16).save_pretrained(d, safe_serialization=True)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "test", "fixtures"))
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    torch.manual_seed(a.seed)

    tt = target_text_config()
    target = Gemma4ForCausalLM(Gemma4TextConfig(**tt)).eval()
    acfg = Gemma4AssistantConfig(text_config=assistant_text_config(tt),
                                 backbone_hidden_size=tt["hidden_size"],
                                 use_ordered_embeddings=False)
    assistant = Gemma4AssistantForCausalLM(acfg).eval()
    tdir = save(target, a.out, "spec-target-mini")
    adir = save(assistant, a.out, "spec-assistant-mini")

    # Goldens in f32 from the saved (bf16) weights, as the other fixtures.
    target = Gemma4ForCausalLM.from_pretrained(tdir, dtype=torch.float32).eval()
    assistant = Gemma4AssistantForCausalLM.from_pretrained(adir, dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(a.seed)
    ids = torch.randint(3, tt["vocab_size"], (1, 20), generator=g)
    ids[0, 0] = tt.get("bos_token_id", 2)
    anchors = torch.tensor([5, 9, 13, 19])

    def assistant_at(tgt, asst, anchor):
        base = tgt.model
        out = base(input_ids=ids[:, :anchor + 1], return_shared_kv_states=True, use_cache=False)
        hid = out.last_hidden_state[:, -1:, :]
        emb = tgt.get_input_embeddings()(ids[:, anchor:anchor + 1])
        r = asst(inputs_embeds=torch.cat([emb, hid], dim=-1),
                 position_ids=torch.tensor([[anchor]]), shared_kv_states=out.shared_kv_states)
        return r.logits[0, -1], r.last_hidden_state[0, -1], out.last_hidden_state[0]

    with torch.no_grad():
        logits, hidden = [], []
        for p in anchors.tolist():
            l, h, th = assistant_at(target, assistant, p)
            logits.append(l)
            hidden.append(h)
        _, _, target_hidden = assistant_at(target, assistant, ids.shape[1] - 1)
        t64 = copy.deepcopy(target).double()
        a64 = copy.deepcopy(assistant).double()
        diff = max(float((assistant_at(t64, a64, p)[0].float() - l).abs().max())
                   for p, l in zip(anchors.tolist(), logits))
        greedy = target.generate(ids, max_new_tokens=16, do_sample=False)[0, 20:]
        assisted = target.generate(ids, max_new_tokens=16, do_sample=False,
                                   assistant_model=assistant)[0, 20:]
    if not torch.equal(greedy, assisted):
        raise SystemExit("transformers' assisted greedy differs from greedy: %s vs %s" %
                         (greedy.tolist(), assisted.tolist()))
    save_file({
        "input_ids": ids[0].to(torch.int32).contiguous(),
        "target_hidden": target_hidden.contiguous(),
        "anchors": anchors.to(torch.int32).contiguous(),
        "assistant_logits": torch.stack(logits).contiguous(),
        "assistant_hidden": torch.stack(hidden).contiguous(),
        "greedy_ids": greedy.to(torch.int32).contiguous(),
        "assisted_ids": assisted.to(torch.int32).contiguous(),
    }, os.path.join(adir, "golden.safetensors"))
    with open(os.path.join(adir, "golden.json"), "w") as f:
        json.dump({"seed": a.seed, "prompt_len": 20, "gen_len": 16,
                   "max_abs_diff_f32_vs_f64": diff, "anchors": anchors.tolist()}, f, indent=1)
        f.write("\n")
    print("wrote %s and %s (assistant f32 vs f64: %.3g)" % (tdir, adir, diff))


if __name__ == "__main__":
    main()
