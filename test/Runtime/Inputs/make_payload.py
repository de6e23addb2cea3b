#!/usr/bin/env python3
"""Appends a gemma4c payload to a linked executable (tests only).

Layout (runtime/include/gemma4rt/abi.h): [ELF][zero pad to 4096][weights]
[tokenizer][manifest JSON][trailer: "GEMMA4PL", u64 manifest_offset,
u64 manifest_size, u64 version]. Weights are `--weights-size` bytes whose
first byte is `--salt` (fake_model.c reads it), the rest a 256-byte period
or, with --weights-seed, pseudo-random. With --external NAME the
weights go to NAME beside the executable instead. With --gpu-ptx FILE the
manifest gets a "gpu" object (a GPU binary): the PTX text (a NUL appended)
and the --gpu-cubin bytes after the tokenizer.
"""
import argparse
import json
import os
import struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("--vocab", type=int, default=384)
    ap.add_argument("--eos", default="1", help="comma-separated eos ids ('' = none)")
    ap.add_argument("--bos", type=int, default=2)
    ap.add_argument("--max-pos", type=int, default=4096)
    ap.add_argument("--default-context", type=int, default=256)
    ap.add_argument("--chunk", type=int, default=8)
    ap.add_argument("--kv-fixed", type=int, default=64)
    ap.add_argument("--kv-per-context", type=int, default=4)
    ap.add_argument("--salt", type=int, default=5)
    ap.add_argument("--weights-size", type=int, default=10000)
    ap.add_argument("--weights-seed", type=int,
                    help="pseudo-random weight bytes from this seed (default: the period below)")
    ap.add_argument("--external", help="write the weights to this file beside the exe")
    ap.add_argument("--tokenizer", help="file whose bytes become the tokenizer")
    ap.add_argument("--generation", help="JSON object for the manifest's \"generation\"")
    ap.add_argument("--chat", help="JSON value for the manifest's \"chat\" (default null)")
    ap.add_argument("--quant", help="the manifest's \"quant\" (absent by default)")
    ap.add_argument("--weights-read-per-token", type=int,
                    help="the manifest's \"weights_read_per_token\" (absent by default)")
    ap.add_argument("--gpu-ptx", help="PTX file: makes a GPU binary (manifest \"gpu\")")
    ap.add_argument("--gpu-cubin", help="cubin file for the GPU binary (default: none)")
    ap.add_argument("--gpu-arch", default="sm_90")
    ap.add_argument("--gpu-kernels", default="k0", help="comma-separated kernel names")
    ap.add_argument("--gpu-json", help="raw \"gpu\" value (corruption tests)")
    ap.add_argument("--abi", type=int, default=1)
    ap.add_argument("--version", type=int, default=1, help="trailer version")
    ap.add_argument("--manifest-text", help="raw manifest text (corruption tests)")
    ap.add_argument("--manifest-offset-delta", type=int, default=0,
                    help="add this to the trailer's manifest offset (corruption tests)")
    ap.add_argument("--weights-offset-delta", type=int, default=0,
                    help="add this to the manifest's weights offset (corruption tests)")
    a = ap.parse_args()

    with open(a.exe, "rb") as f:
        data = bytearray(f.read())
    data += b"\0" * (-len(data) % 4096)

    period = bytes((i * 7 + 1) % 256 for i in range(256))  # byte i = (7i + 1) mod 256
    blob = bytearray((period * (a.weights_size // 256 + 1))[:a.weights_size])
    if a.weights_seed is not None:  # no period: a block read to the wrong place shows
        import random
        blob = bytearray(random.Random(a.weights_seed).randbytes(a.weights_size))
    if blob:
        blob[0] = a.salt
    if a.external:
        weights = {"file": a.external, "size": len(blob)}
        with open(os.path.join(os.path.dirname(os.path.abspath(a.exe)), a.external), "wb") as f:
            f.write(blob)
    else:
        weights = {"offset": len(data) + a.weights_offset_delta, "size": len(blob)}
        data += blob

    tokenizer = None
    if a.tokenizer:
        with open(a.tokenizer, "rb") as f:
            tok = f.read()
        tokenizer = {"offset": len(data), "size": len(tok), "format": "hf-json"}
        data += tok

    gpu = None
    if a.gpu_ptx:
        with open(a.gpu_ptx, "rb") as f:
            ptx = f.read() + b"\0"
        gpu = {"api": "cuda", "arch": a.gpu_arch,
               "kernels": [k for k in a.gpu_kernels.split(",") if k],
               "ptx": {"offset": len(data), "size": len(ptx)}, "cubin": None}
        data += ptx
        if a.gpu_cubin:
            with open(a.gpu_cubin, "rb") as f:
                cubin = f.read()
            gpu["cubin"] = {"offset": len(data), "size": len(cubin)}
            data += cubin

    manifest = {
        "abi": a.abi,
        "model": {
            "name": "fake", "vocab_size": a.vocab, "num_layers": 1, "hidden_size": 8,
            "max_position_embeddings": a.max_pos, "bos_token_id": a.bos,
            "eos_token_ids": [int(x) for x in a.eos.split(",") if x != ""],
            "pad_token_id": 0,
        },
        "prefill_chunk": a.chunk,
        "default_context": a.default_context,
        "kv_bytes_fixed": a.kv_fixed,
        "kv_bytes_per_context": a.kv_per_context,
        "weights": weights,
        "tokenizer": tokenizer,
        "chat": json.loads(a.chat) if a.chat else None,
    }
    if a.generation:
        manifest["generation"] = json.loads(a.generation)
    if a.quant is not None:
        manifest["quant"] = a.quant
    if a.weights_read_per_token is not None:
        manifest["weights_read_per_token"] = a.weights_read_per_token
    if gpu is not None:
        manifest["gpu"] = gpu
    if a.gpu_json is not None:
        manifest["gpu"] = json.loads(a.gpu_json)
    text = (a.manifest_text if a.manifest_text is not None else json.dumps(manifest)).encode()
    moff = len(data)
    data += text
    data += b"GEMMA4PL" + struct.pack("<QQQ", moff + a.manifest_offset_delta, len(text), a.version)

    tmp = a.exe + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o755)
    os.replace(tmp, a.exe)


if __name__ == "__main__":
    main()
