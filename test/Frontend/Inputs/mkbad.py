#!/usr/bin/env python3
"""Makes a (usually broken) copy of a checkpoint fixture for the lit tests.

    mkbad.py CASE FIXTURE_DIR OUT_DIR

copies config.json, generation_config.json and model.safetensors from
FIXTURE_DIR into a fresh OUT_DIR and applies CASE (see CASES below). Only the
standard library is used: struct and json.
"""
import json
import os
import shutil
import struct
import sys

PREFIX = "model.language_model."


def read_st(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    return header, data[8 + n:]


def write_st(path, header, body, raw=None):
    text = raw if raw is not None else json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)


def tensors(header):
    return sorted((k for k in header if k != "__metadata__"),
                  key=lambda k: header[k]["data_offsets"][0])


def edit_config(out, fn):
    p = os.path.join(out, "config.json")
    cfg = json.load(open(p))
    fn(cfg)
    json.dump(cfg, open(p, "w"), indent=2)


def text(cfg):
    return cfg["text_config"]


class Ckpt:
    def __init__(self, out):
        self.out = out
        self.path = os.path.join(out, "model.safetensors")
        self.header, self.body = read_st(self.path)

    def save(self, raw=None):
        write_st(self.path, self.header, self.body, raw)

    def append(self, name, dtype, shape, nbytes):
        b = len(self.body)
        self.body += b"\0" * nbytes
        self.header[name] = {"dtype": dtype, "shape": shape,
                             "data_offsets": [b, b + nbytes]}


def shard(out, n=2):
    """Splits model.safetensors into n shards plus an index; returns them."""
    ck = Ckpt(out)
    names = tensors(ck.header)
    parts = [names[i::n] for i in range(n)]
    files = []
    weight_map = {}
    for i, part in enumerate(parts):
        fname = "model-%05d-of-%05d.safetensors" % (i + 1, n)
        h = {"__metadata__": {"format": "pt"}}
        body = b""
        for name in part:
            e = ck.header[name]
            b, en = e["data_offsets"]
            h[name] = {"dtype": e["dtype"], "shape": e["shape"],
                       "data_offsets": [len(body), len(body) + en - b]}
            body += ck.body[b:en]
            weight_map[name] = fname
        write_st(os.path.join(out, fname), h, body)
        files.append(fname)
    os.remove(ck.path)
    index = {"metadata": {"total_size": len(ck.body)}, "weight_map": weight_map}
    json.dump(index, open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=2)
    return files, index


def save_index(out, index):
    json.dump(index, open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=2)


def run(case, out):
    ck = Ckpt(out)
    h = ck.header
    names = tensors(h)
    first = names[0]
    norm = PREFIX + "norm.weight"
    qproj = PREFIX + "layers.0.self_attn.q_proj.weight"

    # --- safetensors container -------------------------------------------
    if case == "truncated":
        data = open(ck.path, "rb").read()
        open(ck.path, "wb").write(data[:5])
    elif case == "truncated-data":
        data = open(ck.path, "rb").read()
        open(ck.path, "wb").write(data[:len(data) // 2])
    elif case == "header-past-end":
        data = bytearray(open(ck.path, "rb").read())
        data[:8] = struct.pack("<Q", 1 << 40)
        open(ck.path, "wb").write(data)
    elif case == "malformed-json":
        ck.save(raw=b'{"a": {"dtype": "BF16", "shape": [1], ')
    elif case == "header-not-object":
        ck.save(raw=b"[1, 2, 3]")
    elif case == "entry-not-object":
        h[first] = [1, 2]
        ck.save()
    elif case == "missing-dtype":
        del h[first]["dtype"]
        ck.save()
    elif case == "missing-data-offsets":
        del h[first]["data_offsets"]
        ck.save()
    elif case == "negative-shape":
        h[norm]["shape"] = [-64]
        ck.save()
    elif case == "non-integer-shape":
        h[norm]["shape"] = [64.0]
        ck.save()
    elif case == "offsets-out-of-range":
        b, e = h[norm]["data_offsets"]
        size = e - b
        h[norm]["data_offsets"] = [len(ck.body) - size + 2, len(ck.body) + 2]
        ck.save()
    elif case == "begin-after-end":
        b, e = h[norm]["data_offsets"]
        h[norm]["data_offsets"] = [e, b]
        ck.save()
    elif case == "byte-count":
        h[norm]["shape"] = [32]
        ck.save()
    elif case == "overlap":
        other = PREFIX + "layers.0.input_layernorm.weight"
        h[norm]["data_offsets"] = list(h[other]["data_offsets"])
        ck.save()
    elif case == "duplicate-name":
        raw = json.dumps(h)
        entry = json.dumps({norm: h[norm]})[1:-1]
        ck.save(raw=(raw[:-1] + ", " + entry + "}").encode())
    elif case == "unsupported-dtype":
        h[norm]["dtype"] = "F8_E4M3"
        ck.save()
    elif case == "bad-metadata":
        h["__metadata__"] = {"format": 1}
        ck.save()
    # --- tensors against the config ----------------------------------------
    elif case == "shape-mismatch":
        h[qproj]["shape"] = [32, 128]
        ck.save()
    elif case == "int-dtype":
        h[norm]["dtype"] = "I16"
        ck.save()
    elif case == "missing-tensor":
        del h[norm]
        ck.save()
    elif case == "unexpected-tensor":
        ck.append(PREFIX + "layers.0.self_attn.v_bias", "BF16", [64], 128)
        ck.save()
    elif case == "unexpected-prefix":
        ck.append("multi_modal_projector.weight", "BF16", [64], 128)
        ck.save()
    # --- config.json --------------------------------------------------------
    elif case == "config-activation":
        edit_config(out, lambda c: text(c).update(hidden_activation="relu"))
    elif case == "config-rope-type":
        edit_config(out, lambda c: text(c)["rope_parameters"]["full_attention"].update(rope_type="yarn"))
    elif case == "config-layer-type":
        edit_config(out, lambda c: text(c)["layer_types"].__setitem__(0, "local_attention"))
    elif case == "config-layer-types-length":
        edit_config(out, lambda c: text(c)["layer_types"].pop())
    elif case == "config-missing-key":
        edit_config(out, lambda c: text(c).pop("hidden_size"))
    elif case == "config-wrong-type":
        edit_config(out, lambda c: text(c).update(hidden_size="64"))
    elif case == "config-heads":
        edit_config(out, lambda c: text(c).update(num_attention_heads=3))
    elif case == "config-nonpositive":
        edit_config(out, lambda c: text(c).update(intermediate_size=0))
    elif case == "config-bidirectional":
        edit_config(out, lambda c: text(c).update(use_bidirectional_attention=True))
    elif case == "config-architecture":
        edit_config(out, lambda c: c.update(architectures=["LlamaForCausalLM"]))
    elif case == "config-kv-shared-all":
        edit_config(out, lambda c: text(c).update(num_kv_shared_layers=text(c)["num_hidden_layers"]))
    elif case == "config-malformed":
        open(os.path.join(out, "config.json"), "w").write('{"architectures": [')
    elif case == "generation-config-bad":
        json.dump({"eos_token_id": "one"}, open(os.path.join(out, "generation_config.json"), "w"))
    elif case == "missing-config":
        os.remove(os.path.join(out, "config.json"))
    # --- files and directories ---------------------------------------------
    elif case == "missing-weights":
        os.remove(ck.path)
    elif case == "weights-not-a-file":
        os.remove(ck.path)
        os.mkdir(ck.path)
    # --- sharded checkpoints ------------------------------------------------
    elif case == "sharded":
        shard(out)
    elif case == "index-malformed":
        shard(out)
        open(os.path.join(out, "model.safetensors.index.json"), "w").write('{"weight_map": ')
    elif case == "index-no-weight-map":
        shard(out)
        save_index(out, {"metadata": {}})
    elif case == "index-missing-shard":
        files, _ = shard(out)
        os.remove(os.path.join(out, files[1]))
    elif case == "index-missing-tensor":
        files, index = shard(out)
        index["weight_map"][PREFIX + "layers.0.self_attn.k_bias"] = files[0]
        save_index(out, index)
    elif case == "index-wrong-shard":
        files, index = shard(out)
        index["weight_map"][norm] = files[1] if index["weight_map"][norm] == files[0] else files[0]
        save_index(out, index)
    elif case == "index-unlisted":
        files, index = shard(out)
        del index["weight_map"][norm]
        save_index(out, index)
    elif case == "index-duplicate":
        files, index = shard(out)
        # Copy the norm into the other shard too.
        src = os.path.join(out, index["weight_map"][norm])
        dst = os.path.join(out, files[1] if src.endswith(files[0]) else files[0])
        sh, sb = read_st(src)
        dh, db = read_st(dst)
        b, e = sh[norm]["data_offsets"]
        dh[norm] = {"dtype": sh[norm]["dtype"], "shape": sh[norm]["shape"],
                    "data_offsets": [len(db), len(db) + e - b]}
        write_st(dst, dh, db + sb[b:e])
    elif case == "index-bad-shard-name":
        files, index = shard(out)
        index["weight_map"][norm] = "../" + files[0]
        save_index(out, index)
    # --- other valid layouts ------------------------------------------------
    elif case == "causal":
        def flat(c):
            t = c["text_config"]
            t["architectures"] = ["Gemma4ForCausalLM"]
            c.clear()
            c.update(t)
        edit_config(out, flat)
        ck.header = {(("model." + k[len(PREFIX):]) if k.startswith(PREFIX) else k): v
                     for k, v in h.items()}
        ck.save()
    elif case == "towers":
        edit_config(out, lambda c: c.update(vision_config={"model_type": "gemma4_vision"}))
        ck.append("model.vision_tower.encoder.weight", "BF16", [4, 8], 64)
        ck.append("model.embed_vision.proj.weight", "F32", [8], 32)
        ck.save()
    elif case == "towers-full":
        # The tiny multimodal fixture's tower layout (scripts/make-multimodal-
        # fixtures.py): real tensor names and shapes, zero BF16 data.
        edit_config(out, lambda c: c.update(vision_config={"model_type": "gemma4_vision"},
                                            audio_config={"model_type": "gemma4_audio"}))
        def add(name, shape):
            n = 1
            for d in shape:
                n *= d
            ck.append(name, "BF16", shape, 2 * n)
        v, a = "model.vision_tower.", "model.audio_tower."
        add(v + "patch_embedder.input_proj.weight", [32, 192])
        add(v + "patch_embedder.position_embedding_table", [2, 256, 32])
        for l in range(2):
            p = v + "encoder.layers.%d." % l
            for m in ("q", "k", "v", "o"):
                add(p + "self_attn.%s_proj.linear.weight" % m, [32, 32])
            add(p + "self_attn.q_norm.weight", [16])
            add(p + "self_attn.k_norm.weight", [16])
            add(p + "mlp.gate_proj.linear.weight", [64, 32])
            add(p + "mlp.up_proj.linear.weight", [64, 32])
            add(p + "mlp.down_proj.linear.weight", [32, 64])
            for n in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                      "post_feedforward_layernorm"):
                add(p + n + ".weight", [32])
        add(v + "std_bias", [32])
        add(v + "std_scale", [32])
        add("model.embed_vision.embedding_projection.weight", [64, 32])
        add(a + "subsample_conv_projection.layer0.conv.weight", [128, 1, 3, 3])
        add(a + "subsample_conv_projection.layer0.norm.weight", [128])
        add(a + "subsample_conv_projection.layer1.conv.weight", [8, 128, 3, 3])
        add(a + "subsample_conv_projection.layer1.norm.weight", [8])
        add(a + "subsample_conv_projection.input_proj_linear.weight", [32, 256])
        for l in range(2):
            p = a + "layers.%d." % l
            for m in ("q", "k", "v"):
                add(p + "self_attn.%s_proj.linear.weight" % m, [32, 32])
            add(p + "self_attn.post.linear.weight", [32, 32])
            add(p + "self_attn.relative_k_proj.weight", [32, 32])
            add(p + "self_attn.per_dim_scale", [16])
            for f in ("feed_forward1", "feed_forward2"):
                add(p + f + ".ffw_layer_1.linear.weight", [128, 32])
                add(p + f + ".ffw_layer_2.linear.weight", [32, 128])
            add(p + "lconv1d.linear_start.linear.weight", [64, 32])
            add(p + "lconv1d.linear_end.linear.weight", [32, 32])
            add(p + "lconv1d.depthwise_conv1d.weight", [32, 1, 5])
        add(a + "output_proj.weight", [48, 32])
        add(a + "output_proj.bias", [48])
        add("model.embed_audio.embedding_projection.weight", [64, 48])
        ck.save()
    elif case == "untied":
        def untie(c):
            c["tie_word_embeddings"] = False
            text(c)["tie_word_embeddings"] = False
        edit_config(out, untie)
        e = h[PREFIX + "embed_tokens.weight"]
        ck.append("lm_head.weight", e["dtype"], e["shape"], e["data_offsets"][1] - e["data_offsets"][0])
        ck.save()
    elif case == "copy":
        pass
    else:
        sys.exit("mkbad.py: unknown case " + case)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    case, src, out = sys.argv[1:]
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for f in ("config.json", "generation_config.json", "model.safetensors"):
        shutil.copy(os.path.join(src, f), os.path.join(out, f))
    run(case, out)


if __name__ == "__main__":
    main()
