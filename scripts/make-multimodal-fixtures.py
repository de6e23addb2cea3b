#!/usr/bin/env python3
"""Makes the multimodal (image + audio) fixtures with transformers (issue 28).

  python3 scripts/make-multimodal-fixtures.py --out DIR [--seed 11]

Needs torch, numpy, Pillow and transformers >= 5.x with Gemma 4
(Gemma4ForConditionalGeneration); torchvision and torchaudio are used when
present (the image processor's default backend is torchvision's; the
torchaudio resampler is only a cross-check). Runs on the CPU; no network.

Writes DIR/mm-mini/:
  config.json, generation_config.json, model.safetensors (bf16)
      a tiny random Gemma4ForConditionalGeneration: e2b-mini's text config
      (vocabulary 384, so the image/audio marker ids are moved into it), a
      2-layer vision tower (patch 8, pooling 3, clipped linears, standardize)
      and a 2-layer conformer audio tower (128 mel bins, chunked attention).
  processor_config.json
      the preprocessing parameters the runtime needs (image: patch size,
      soft-token budget, pooling; audio: mel front end), as the processor
      objects report them.
  inputs/   files written by this script, deterministic content:
      img_a.png   96x64 RGB (upscaled by the processor)
      img_b.jpg   300x200 RGB JPEG, quality 90, 4:2:0 (downscaled)
      img_c.png   144x240 grayscale: exactly the target size (no resize)
      img_d.png   50x70 RGBA with partial alpha (composited onto white)
      audio_a.wav 16 kHz mono 16-bit PCM, 1.00 s
      audio_b.wav 44.1 kHz stereo 32-bit float, 0.75 s
  golden.safetensors (f32 unless noted; U8/I32 for pixels, ids and masks):
      input_ids [S] I32, logits_f32 [S, V]      prompt 1: text, img_a, img_b, audio_a
      greedy_ids [G] I32                         greedy continuation of prompt 1 (if generate works)
      input_ids_2 [S2] I32, logits_f32_2 [S2, V] prompt 2: img_c, img_d, audio_b
      decoded_<img> [H, W, C] U8                 the file as PIL decodes it (C = 1, 3 or 4)
      rgb_<img> [H, W, 3] U8                     after the processor's convert-to-RGB
      load_image_<img> [H, W, 3] U8              transformers.image_utils.load_image(path)
                                                 (EXIF transpose, convert("RGB"): alpha dropped)
      pixel_values_<img> [N, 3*p*p]              the processor's real patches (padding dropped)
      pixel_values_pil_<img> [N, 3*p*p]          the same from the PIL backend, when both exist
      image_position_ids_<img> [N, 2] I32        (x, y) patch coordinates
      vision_hidden_<img> [n, Hv]                vision tower output (pooled, standardized)
      image_soft_<img> [n, D]                    after embed_vision: what replaces the image tokens
      waveform_<aud> [L]                         mono 16 kHz samples the features are computed from
      input_features_<aud> [T, 128]              the feature extractor's log-mel features (masked)
      input_features_mask_<aud> [T] I32
      audio_hidden_<aud> [m, Ha], audio_soft_<aud> [m, D]   valid audio soft tokens
      mel_filters [F, 128]                       the extractor's mel filter bank
  golden.json: sizes, token counts, which processor classes ran, and the
      differences between this script's own numpy re-implementations of the
      preprocessing (docs/multimodal.md) and transformers' outputs, so the
      algorithm the runtime implements is checked before any C++ runs.

Each file is well under 16 MiB. The runtime's tests compare against these.
"""
import argparse, copy, json, math, os, struct, sys, time, traceback, zlib

T0 = time.time()


def log(*a):
    print("[%6.1fs]" % (time.time() - T0), *a, flush=True)


HERE = os.path.dirname(os.path.abspath(__file__))

# Marker ids inside the tiny vocabulary (384); random text ids stay below 370.
IDS = dict(boi_token_id=376, eoi_token_id=377, boa_token_id=378, eoa_token_index=379,
           image_token_id=380, audio_token_id=381, video_token_id=382)
TEXT_ID_MAX = 370
PATCH, POOL, MAX_SOFT = 8, 3, 70


# ---------------------------------------------------------------- inputs ----

def png_bytes(h, w, channels, pixel):
    """A PNG written by hand (zlib only): pixel(y, x) -> tuple of `channels` bytes."""
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    raw = bytearray()
    for y in range(h):
        raw.append(0)  # filter: none
        for x in range(w):
            raw.extend(pixel(y, x))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b""))


def clamp8(v):
    return max(0, min(255, int(v)))


def pix_a(y, x):  # smooth gradients + a checker: resampling has edges and ramps to get right
    chk = 60 if ((x // 8) + (y // 8)) % 2 else 0
    return (clamp8(x * 255 / 95), clamp8(y * 255 / 63 * 0.7 + chk), clamp8(128 + 100 * math.sin(x * 0.3 + y * 0.2)))


def pix_b(y, x):
    r = math.hypot(x - 100, y - 150)
    return (clamp8(127 + 120 * math.cos(r * 0.15)), clamp8((x * 3 + y) % 256), clamp8(255 - y * 255 / 299))


def pix_c(y, x):
    return (clamp8((x * 7 + y * 3) % 256 if (x // 12) % 2 else 255 - y),)


def pix_d(y, x):
    a = clamp8(255 * x / 69) if y < 35 else (255 if x % 10 < 5 else 40)
    return (clamp8(200 * y / 49), 90, clamp8(255 * x / 69), a)


def wav_bytes(rate, channels, frames, fmt):
    """RIFF/WAVE bytes: fmt 'pcm16' (tag 1) or 'f32' (tag 3, with a fact chunk)."""
    if fmt == "pcm16":
        data = b"".join(struct.pack("<" + "h" * channels, *f) for f in frames)
        tag, bits = 1, 16
    else:
        data = b"".join(struct.pack("<" + "f" * channels, *f) for f in frames)
        tag, bits = 3, 32
    block = channels * bits // 8
    fmt_chunk = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    if tag == 3:
        body += b"fact" + struct.pack("<II", 4, len(frames))
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def make_audio(rate, seconds, channels, seed):
    import random
    rnd = random.Random(seed)
    n = int(round(rate * seconds))
    out = []
    for i in range(n):
        t = i / rate
        env = min(1.0, t * 20) * min(1.0, (seconds - t) * 20)
        base = 0.4 * math.sin(2 * math.pi * 440 * t) + 0.2 * math.sin(2 * math.pi * (900 + 600 * t) * t)
        row = []
        for c in range(channels):
            row.append(env * (base * (1.0 - 0.3 * c) + 0.05 * (rnd.random() * 2 - 1)))
        out.append(row)
    return out


def write_inputs(d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "img_a.png"), "wb") as f:
        f.write(png_bytes(64, 96, 3, pix_a))
    with open(os.path.join(d, "img_c.png"), "wb") as f:
        f.write(png_bytes(144, 240, 1, pix_c))
    with open(os.path.join(d, "img_d.png"), "wb") as f:
        f.write(png_bytes(50, 70, 4, pix_d))
    from PIL import Image
    im = Image.new("RGB", (200, 300))
    im.putdata([pix_b(y, x) for y in range(300) for x in range(200)])
    im.save(os.path.join(d, "img_b.jpg"), format="JPEG", quality=90, subsampling=2)  # 2 = 4:2:0
    a = make_audio(16000, 1.0, 1, 1)
    with open(os.path.join(d, "audio_a.wav"), "wb") as f:
        f.write(wav_bytes(16000, 1, [[max(-32768, min(32767, int(round(r[0] * 32767))))] for r in a], "pcm16"))
    b = make_audio(44100, 0.75, 2, 2)
    with open(os.path.join(d, "audio_b.wav"), "wb") as f:
        f.write(wav_bytes(44100, 2, b, "f32"))


def read_wav(path):
    """(rate, [channels][samples] floats): 16-bit PCM / 32768, float as is."""
    with open(path, "rb") as f:
        b = f.read()
    assert b[:4] == b"RIFF" and b[8:12] == b"WAVE", path
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(b):
        tag, size = b[pos:pos + 4], struct.unpack("<I", b[pos + 4:pos + 8])[0]
        body = b[pos + 8:pos + 8 + size]
        if tag == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif tag == b"data":
            data = body
        pos += 8 + size + (size & 1)
    tag, ch, rate, _, _, bits = fmt
    if tag == 1 and bits == 16:
        vals = struct.unpack("<%dh" % (len(data) // 2), data)
        vals = [v / 32768.0 for v in vals]
    elif tag == 3 and bits == 32:
        vals = list(struct.unpack("<%df" % (len(data) // 4), data))
    else:
        raise SystemExit("unexpected wav format in %s" % path)
    return rate, [vals[c::ch] for c in range(ch)]


# ------------------------------------------- numpy re-implementations ------
# What docs/multimodal.md describes and the C++ runtime implements; compared
# against transformers' outputs here so a mistake shows in golden.json.

def np_target_size(h, w, patch, max_patches, pool):
    total, target = h * w, max_patches * patch * patch
    f = math.sqrt(target / total)
    side = pool * patch
    th = int(math.floor(f * h / side)) * side
    tw = int(math.floor(f * w / side)) * side
    max_side = (max_patches // pool ** 2) * side
    if th == 0:
        th, tw = side, min(int(math.floor(w / h)) * side, max_side)
    elif tw == 0:
        tw, th = side, min(int(math.floor(h / w)) * side, max_side)
    return th, tw


def np_aa_weights(np, in_size, out_size):
    """Antialiased bicubic (a = -0.5) weights, PIL / torch 'aa' convention."""
    scale = in_size / out_size
    support = 2.0 * scale if scale >= 1.0 else 2.0
    inv = 1.0 / scale if scale >= 1.0 else 1.0

    def cubic(x):
        a = -0.5
        x = abs(x)
        if x < 1.0:
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        if x < 2.0:
            return (((x - 5.0) * x + 8.0) * x - 4.0) * a
        return 0.0
    rows = []
    for i in range(out_size):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        w = [cubic((j + xmin - center + 0.5) * inv) for j in range(xmax - xmin)]
        s = sum(w)
        if s != 0.0:
            w = [v / s for v in w]
        rows.append((xmin, w))
    return rows


def np_resize_float(np, img, oh, ow):
    """img [H, W, C] uint8 -> float64, horizontal pass then vertical, then
    clamp + round half to even (torchvision's float path for uint8 bicubic)."""
    x = img.astype(np.float64)
    H, W, C = x.shape
    tmp = np.zeros((H, ow, C))
    for i, (lo, w) in enumerate(np_aa_weights(np, W, ow)):
        tmp[:, i, :] = np.tensordot(np.array(w), x[:, lo:lo + len(w), :], axes=([0], [1]))
    out = np.zeros((oh, ow, C))
    for i, (lo, w) in enumerate(np_aa_weights(np, H, oh)):
        out[i, :, :] = np.tensordot(np.array(w), tmp[lo:lo + len(w), :, :], axes=([0], [0]))
    return np.round(np.clip(out, 0, 255)).astype(np.uint8)


def np_resize_pil(np, img, oh, ow):
    """PIL's 8-bit path: weights in 22-bit fixed point, rounded, uint8 between passes."""
    def fixed(rows):
        out = []
        for lo, w in rows:
            out.append((lo, np.array([int(v * (1 << 22) + (0.5 if v >= 0 else -0.5)) for v in w], dtype=np.int64)))
        return out
    x = img.astype(np.int64)
    H, W, C = x.shape
    if ow != W:
        tmp = np.zeros((H, ow, C), dtype=np.int64)
        for i, (lo, k) in enumerate(fixed(np_aa_weights(np, W, ow))):
            acc = (1 << 21) + np.tensordot(k, x[:, lo:lo + len(k), :], axes=([0], [1]))
            tmp[:, i, :] = np.clip(acc >> 22, 0, 255)
        x = tmp
    if oh != H:
        tmp = np.zeros((oh, x.shape[1], C), dtype=np.int64)
        for i, (lo, k) in enumerate(fixed(np_aa_weights(np, H, oh))):
            acc = (1 << 21) + np.tensordot(k, x[lo:lo + len(k), :, :], axes=([0], [0]))
            tmp[i, :, :] = np.clip(acc >> 22, 0, 255)
        x = tmp
    return x.astype(np.uint8)


def np_resize_int16(np, img, oh, ow):
    """torch's uint8 antialiased path (AVX2, ported from Pillow-SIMD): the same
    weights in double, scaled to int16 with the most bits that keep the
    largest weight of the dimension below 2^15, uint8 between passes."""
    def fixed(rows):
        wmax = max(max(w) for _, w in rows)
        prec = 0
        while prec < 22 and int(0.5 + wmax * (1 << (prec + 1))) < (1 << 15):
            prec += 1
        out = []
        for lo, w in rows:
            out.append((lo, np.array([int(v * (1 << prec) + (0.5 if v >= 0 else -0.5)) for v in w], dtype=np.int64)))
        return out, prec
    x = img.astype(np.int64)
    H, W, C = x.shape
    if ow != W:
        rows, prec = fixed(np_aa_weights(np, W, ow))
        tmp = np.zeros((H, ow, C), dtype=np.int64)
        for i, (lo, k) in enumerate(rows):
            acc = (1 << (prec - 1)) + np.tensordot(k, x[:, lo:lo + len(k), :], axes=([0], [1]))
            tmp[:, i, :] = np.clip(acc >> prec, 0, 255)
        x = tmp
    if oh != H:
        rows, prec = fixed(np_aa_weights(np, H, oh))
        tmp = np.zeros((oh, x.shape[1], C), dtype=np.int64)
        for i, (lo, k) in enumerate(rows):
            acc = (1 << (prec - 1)) + np.tensordot(k, x[lo:lo + len(k), :, :], axes=([0], [0]))
            tmp[i, :, :] = np.clip(acc >> prec, 0, 255)
        x = tmp
    return x.astype(np.uint8)


def np_patchify(np, img_f, patch):
    """[H, W, 3] float -> [N, patch*patch*3]: patches row-major over the grid,
    each patch (py, px, channel) with the channel fastest."""
    H, W, C = img_f.shape
    ph, pw = H // patch, W // patch
    p = img_f.reshape(ph, patch, pw, patch, C).transpose(0, 2, 1, 3, 4).reshape(ph * pw, patch * patch * C)
    pos = np.stack(np.meshgrid(np.arange(pw), np.arange(ph), indexing="xy"), -1).reshape(-1, 2)
    return p, pos


def np_resample(np, x, orig, new, width_zc=6, rolloff=0.99):
    """Windowed-sinc (Hann) resampling, torchaudio.functional.resample's defaults."""
    if orig == new:
        return np.asarray(x, dtype=np.float64)
    g = math.gcd(orig, new)
    o, n = orig // g, new // g
    base = min(o, n) * rolloff
    width = int(math.ceil(width_zc * o / base))
    idx = np.arange(-width, width + o, dtype=np.float64) / o
    t = (-np.arange(n, dtype=np.float64) / n)[:, None] + idx[None, :]
    t = np.clip(t * base, -width_zc, width_zc)
    window = np.cos(t * math.pi / width_zc / 2) ** 2
    t = t * math.pi
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(t == 0, 1.0, np.sin(t) / t)
    k = k * window * (base / o)
    L = len(x)
    xp = np.concatenate([np.zeros(width), np.asarray(x, dtype=np.float64), np.zeros(width + o)])
    frames = (len(xp) - k.shape[1]) // o + 1
    out = np.zeros((frames, n))
    for j in range(frames):
        out[j] = k @ xp[j * o:j * o + k.shape[1]]
    out = out.reshape(-1)
    return out[:int(math.ceil(n * L / o))]


def np_mel_filters(np, n_freq, n_mels, fmin, fmax, sr):
    def hz2mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    def mel2hz(m):
        return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)
    mels = np.linspace(hz2mel(fmin), hz2mel(fmax), n_mels + 2)
    ff = mel2hz(mels)
    fft = np.linspace(0, sr // 2, n_freq)
    diff = np.diff(ff)
    slopes = ff[None, :] - fft[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    return np.maximum(0.0, np.minimum(down, up))


def np_logmel(np, wave, fe):
    """The extractor's pipeline for one waveform at its own rate: pad to a
    multiple of 128 samples, semicausal left pad of frame_length // 2, frames
    of frame_length + 1 every hop (the last sample only feeds preemphasis),
    periodic Hann, |rfft(n = fft_length)|, mel, log(x + floor), mask."""
    fl, hop, nfft = fe["frame_length"], fe["hop_length"], fe["fft_length"]
    L = len(wave)
    Lp = int(math.ceil(L / 128.0)) * 128
    x = np.zeros(Lp)
    x[:L] = wave
    m = np.zeros(Lp, dtype=bool)
    m[:L] = True
    x = np.concatenate([np.zeros(fl // 2), x])
    m = np.concatenate([np.zeros(fl // 2, dtype=bool), m])
    nf = (len(x) - (fl + 1)) // hop + 1
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(fl) / fl)).astype(np.float32).astype(np.float64)
    frames = np.stack([x[i * hop:i * hop + fl + 1] for i in range(nf)])
    pre = fe["preemphasis"]
    if pre > 0:
        frames = np.concatenate([frames[:, :1] * (1 - pre), frames[:, 1:-1] - pre * frames[:, :-2]], axis=1)
    else:
        frames = frames[:, :-1]
    spec = np.abs(np.fft.rfft(frames * win, n=nfft, axis=-1))
    mel = np.log(spec @ fe["mel_filters"] + fe["mel_floor"])
    mask = m[np.arange(nf) * hop + fl]
    return (mel * mask[:, None]).astype(np.float32), mask


# ------------------------------------------------------------ the model ----

# test/fixtures/e2b-mini's text config, for when the script runs outside the repository.
E2B_MINI_TEXT = {
    "attention_bias": False, "attention_dropout": 0.0, "attention_k_eq_v": False, "bos_token_id": 2,
    "enable_moe_block": False, "eos_token_id": 1, "final_logit_softcapping": 30.0, "head_dim": 16,
    "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 64, "hidden_size_per_layer_input": 8,
    "initializer_range": 0.02, "intermediate_size": 96,
    "layer_types": ["sliding_attention"] * 3 + ["full_attention"] + ["sliding_attention"] * 3 + ["full_attention"],
    "max_position_embeddings": 4096, "model_type": "gemma4_text", "moe_intermediate_size": None,
    "num_attention_heads": 4, "num_experts": None, "num_hidden_layers": 8, "num_key_value_heads": 1,
    "num_kv_shared_layers": 3, "pad_token_id": 0, "per_layer_config": {"3": {"head_dim": 32}, "7": {"head_dim": 32}},
    "rms_norm_eps": 1e-06,
    "rope_parameters": {"full_attention": {"partial_rotary_factor": 0.25, "rope_theta": 1000000.0,
                                           "rope_type": "proportional"},
                        "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}},
    "sliding_window": 8, "tie_word_embeddings": True, "top_k_experts": None, "use_bidirectional_attention": None,
    "use_cache": True, "use_double_wide_mlp": True, "vocab_size": 384, "vocab_size_per_layer_input": 384}


def tiny_config():
    path = os.path.join(HERE, "..", "test", "fixtures", "e2b-mini", "config.json")
    if os.path.exists(path):
        with open(path) as f:
            text = json.load(f)["text_config"]
    else:
        text = copy.deepcopy(E2B_MINI_TEXT)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                  num_key_value_heads=2, head_dim=16, hidden_activation="gelu_pytorch_tanh",
                  rms_norm_eps=1e-6, pooling_kernel_size=POOL, patch_size=PATCH,
                  position_embedding_size=256, use_clipped_linears=True, standardize=True,
                  rope_parameters={"rope_type": "default", "rope_theta": 100.0})
    audio = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, hidden_act="silu",
                 subsampling_conv_channels=[128, 8], conv_kernel_size=5, residual_weight=0.5,
                 attention_chunk_size=12, attention_context_left=13, attention_context_right=0,
                 attention_logit_cap=50.0, attention_invalid_logits_value=-1.0e9,
                 use_clipped_linears=True, rms_norm_eps=1e-6, gradient_clipping=1e10,
                 output_proj_dims=48)
    return text, vision, audio


def randomize_towers(torch, model, seed):
    """Random weights with unit-scale activations (the default 0.02 init makes
    the towers nearly constant), finite clip bounds, standardize buffers."""
    g = torch.Generator().manual_seed(seed + 1)
    towers = ("model.vision_tower.", "model.audio_tower.", "model.embed_vision.", "model.embed_audio.")
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith(towers):
                continue
            if p.dim() >= 2:
                fan_in = p[0].numel() if p.dim() > 2 and "position_embedding_table" not in name else p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
            elif name.endswith("per_dim_scale") or name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:  # norm scales
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
        for name, b in model.named_buffers():
            if not name.startswith(towers):
                continue
            last = name.rsplit(".", 1)[-1]
            bound = 1.5 + float(torch.rand((), generator=g))
            if last in ("input_min", "output_min"):
                b.fill_(-bound)
            elif last in ("input_max", "output_max"):
                b.fill_(bound)
            elif last == "std_bias":
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif last == "std_scale":
                b.copy_(1.0 + 0.1 * torch.randn(b.shape, generator=g))


# ------------------------------------------------------- the processors ----

def image_processors(tf):
    """(name, instance) for every Gemma 4 image processor class this
    transformers has: the torchvision backend first (AutoImageProcessor's
    default when torchvision is installed), then the PIL backend."""
    kw = dict(patch_size=PATCH, max_soft_tokens=MAX_SOFT, pooling_kernel_size=POOL)
    out = []
    for cls in ("Gemma4ImageProcessor", "Gemma4ImageProcessorFast", "Gemma4ImageProcessorPil"):
        try:
            C = getattr(tf, cls, None)
        except Exception as e:
            log("image processor %s not importable: %s" % (cls, e))
            C = None
        if C is None:
            continue
        try:
            ip = C(**kw)
        except Exception as e:  # e.g. the torchvision class without torchvision
            log("image processor %s unusable: %s" % (cls, e))
            continue
        backend = getattr(ip, "backend", "?")
        if any(b == backend for _, b, _ in out):
            continue
        out.append((cls, backend, ip))
    if not out:
        raise SystemExit("no usable Gemma 4 image processor in this transformers")
    out.sort(key=lambda t: 0 if t[1] == "torchvision" else 1)
    return out


def feature_extractor(tf):
    for cls in ("Gemma4AudioFeatureExtractor", "Gemma4AudioProcessor"):
        try:
            C = getattr(tf, cls, None)
        except Exception:
            C = None
        if C is None:
            try:
                import importlib
                mod = {"Gemma4AudioFeatureExtractor": "feature_extraction_gemma4",
                       "Gemma4AudioProcessor": "audio_processing_gemma4"}[cls]
                C = getattr(importlib.import_module("transformers.models.gemma4." + mod), cls)
            except Exception:
                continue
        try:
            return cls, C()
        except Exception as e:
            log("audio front end %s unusable: %s" % (cls, e))
    raise SystemExit("no usable Gemma 4 audio feature extractor in this transformers")


def run_feature_extractor(np, fe, wave):
    # A batch of one: transformers 5.17's extractor mis-shapes a bare 1-D array.
    r = fe([np.asarray(wave, dtype=np.float32)], sampling_rate=16000, return_tensors="np")
    feats = r.get("input_features", r.get("audio_features"))
    mask = r.get("input_features_mask", r.get("audio_features_mask"))
    return np.asarray(feats)[0].astype(np.float32), np.asarray(mask)[0].astype(bool)


def fe_params(np, fe):
    """The extractor's parameters as plain values (both class flavours)."""
    def get(*names, default=None):
        for n in names:
            v = getattr(fe, n, None)
            if v is not None:
                return v
        return default
    sc = getattr(fe, "spectrogram_config", None)
    stft = getattr(sc, "stft_config", None) if sc is not None else None
    frame_length = get("frame_length", default=getattr(stft, "win_length", 320))
    hop = get("hop_length", default=getattr(stft, "hop_length", 160))
    fft_length = get("fft_length", default=getattr(stft, "n_fft", 512))
    rate = get("sampling_rate", "sample_rate", default=16000)
    melf = np.asarray(get("mel_filters"), dtype=np.float64)
    if melf.shape[0] != fft_length // 2 + 1:
        melf = melf.T
    pre = get("preemphasis", default=getattr(sc, "preemphasis", 0.0) if sc is not None else 0.0) or 0.0
    floor = get("mel_floor", default=1e-3)
    return dict(frame_length=int(frame_length), hop_length=int(hop), fft_length=int(fft_length),
                sampling_rate=int(rate), mel_filters=melf, preemphasis=float(pre),
                mel_floor=float(np.asarray(floor)), feature_size=int(melf.shape[1]),
                min_frequency=float(get("min_frequency", default=0.0)),
                max_frequency=float(get("max_frequency", default=8000.0)),
                preemphasis_htk_flavor=bool(get("preemphasis_htk_flavor", default=True)),
                fft_overdrive=bool(get("fft_overdrive", default=False)),
                dither=float(get("dither", default=0.0)),
                input_scale_factor=float(get("input_scale_factor", default=1.0)),
                per_bin_mean=None if get("per_bin_mean") is None else np.asarray(get("per_bin_mean")).ravel().tolist(),
                per_bin_stddev=None if get("per_bin_stddev") is None else np.asarray(get("per_bin_stddev")).ravel().tolist())


def audio_tokens_from_mask(mask):
    """The processor's count: the mask through two stride-2 (kernel 3, pad 1) convolutions."""
    m = list(mask)
    for _ in range(2):
        t_out = (len(m) + 2 - 3) // 2 + 1
        m = m[::2][:t_out]
    return int(sum(bool(v) for v in m))


def tower_outputs(torch, model, main_ip, images, audios, img_report, aud_report, g):
    with torch.no_grad():
        for nm in images:
            pv = main_ip(images=[images[nm]], return_tensors="pt")
            o = model.model.get_image_features(pv["pixel_values"].float(), pv["image_position_ids"].long(),
                                               return_dict=True)
            g["vision_hidden_" + nm] = o.last_hidden_state.reshape(-1, o.last_hidden_state.shape[-1]).float().contiguous()
            g["image_soft_" + nm] = o.pooler_output.reshape(-1, o.pooler_output.shape[-1]).float().contiguous()
            img_report[nm]["tower_tokens"] = int(g["image_soft_" + nm].shape[0])
        for nm, (feats, mask) in audios.items():
            o = model.model.get_audio_features(torch.from_numpy(feats)[None], torch.from_numpy(mask)[None],
                                               return_dict=True)
            valid = o.attention_mask[0].bool()
            g["audio_hidden_" + nm] = o.last_hidden_state[0][valid].float().contiguous()
            g["audio_soft_" + nm] = o.pooler_output[0][valid].float().contiguous()
            aud_report[nm]["tower_tokens"] = int(valid.sum())
            aud_report[nm]["tower_frames"] = int(valid.numel())
    for nm, r in list(img_report.items()) + list(aud_report.items()):
        if r.get("tower_tokens") != r["num_soft_tokens"]:
            log("WARNING: %s: the tower gives %s soft tokens, the processor counts %s" %
                (nm, r.get("tower_tokens"), r["num_soft_tokens"]))



def save_all(out, g, report):
    from safetensors.torch import save_file
    save_file({k: v.detach().contiguous().clone() for k, v in g.items()}, os.path.join(out, "golden.safetensors"))
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(report, f, indent=1, sort_keys=True, default=str)
        f.write("\n")


def plain(v):
    """JSON-able copies of processor attributes (enums, numpy scalars, tuples)."""
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if hasattr(v, "tolist"):
        return v.tolist()
    if hasattr(v, "item"):
        return v.item()
    return str(v)


def write_processor_config(out, ip, P):
    pc = {"image_processor": {k: plain(getattr(ip, k, None)) for k in
                              ("patch_size", "max_soft_tokens", "pooling_kernel_size", "do_resize", "do_rescale",
                               "rescale_factor", "do_normalize", "image_mean", "image_std", "do_convert_rgb",
                               "resample")},
          "feature_extractor": plain({k: v for k, v in P.items() if k != "mel_filters"}),
          "image_seq_length": MAX_SOFT, "audio_seq_length": 750, "audio_ms_per_token": 40}
    pc["image_processor"]["backend"] = plain(getattr(ip, "backend", None))
    pc["feature_extractor"].update({"pad_to_multiple_of": 128, "max_length": 480000})
    with open(os.path.join(out, "processor_config.json"), "w") as f:
        json.dump(pc, f, indent=1, sort_keys=True)
        f.write("\n")


# ------------------------------------------------------------------ main ----

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()

    import numpy as np
    import torch
    import transformers as tf
    from PIL import Image
    log("torch %s transformers %s numpy %s" % (torch.__version__, tf.__version__, np.__version__))
    torch.manual_seed(a.seed)
    report = {"seed": a.seed, "transformers_version": tf.__version__, "torch_version": torch.__version__}

    out = os.path.join(a.out, "mm-mini")
    ind = os.path.join(out, "inputs")
    write_inputs(ind)
    log("wrote inputs to", ind)
    g = {}

    # ---- images
    procs = image_processors(tf)
    report["image_processors"] = [(c, b) for c, b, _ in procs]
    log("image processors:", report["image_processors"])
    main_ip = procs[0][2]
    images = {}
    img_report = {}
    for name, fn in (("img_a", "img_a.png"), ("img_b", "img_b.jpg"), ("img_c", "img_c.png"), ("img_d", "img_d.png")):
        pil = Image.open(os.path.join(ind, fn))
        pil.load()
        images[name] = pil
        dec = np.asarray(pil)
        if dec.ndim == 2:
            dec = dec[:, :, None]
        g["decoded_" + name] = torch.from_numpy(np.ascontiguousarray(dec.astype(np.uint8)))
        from transformers.image_transforms import convert_to_rgb
        rgb = np.asarray(convert_to_rgb(pil)).astype(np.uint8)
        g["rgb_" + name] = torch.from_numpy(np.ascontiguousarray(rgb))
        try:  # what transformers' load_image (file paths, URLs) hands the processor
            from transformers.image_utils import load_image
            li = np.asarray(load_image(os.path.join(ind, fn))).astype(np.uint8)
            g["load_image_" + name] = torch.from_numpy(np.ascontiguousarray(li))
        except Exception as e:
            log("load_image failed:", e)
        r = {"mode": pil.mode, "size_hw": [pil.height, pil.width]}
        th, tw = np_target_size(pil.height, pil.width, PATCH, MAX_SOFT * POOL * POOL, POOL)
        r["target_hw"] = [th, tw]
        try:
            own = {"float": np_resize_float(np, rgb, th, tw) if (th, tw) != rgb.shape[:2] else rgb,
                   "pil": np_resize_pil(np, rgb, th, tw) if (th, tw) != rgb.shape[:2] else rgb,
                   "int16": np_resize_int16(np, rgb, th, tw) if (th, tw) != rgb.shape[:2] else rgb}
        except Exception as e:
            log("own resize failed:", e)
            own = {}
        for i, (cls, backend, ip) in enumerate(procs):
            pv = ip(images=[pil], return_tensors="pt")
            n_soft = int(pv["num_soft_tokens_per_image"][0])
            pos = pv["image_position_ids"][0]
            real = (pos != -1).all(-1)
            vals = pv["pixel_values"][0][real].float().contiguous()
            key = "pixel_values_" + name if i == 0 else "pixel_values_%s_%s" % (backend, name)
            g[key] = vals
            if i == 0:
                g["image_position_ids_" + name] = pos[real].to(torch.int32).contiguous()
                r["num_soft_tokens"] = n_soft
                r["num_patches"] = int(real.sum())
            for variant, arr in own.items():
                try:
                    mine, mpos = np_patchify(np, arr.astype(np.float32) * np.float32(1.0 / 255.0), PATCH)
                    same_shape = mine.shape == tuple(vals.shape)
                    d = float(np.abs(mine - vals.numpy()).max()) if same_shape else None
                    nbad = int((np.abs(mine - vals.numpy()) > 1e-4).sum()) if same_shape else None
                    pos_ok = bool(same_shape and (mpos == pos[real].numpy()).all())
                    r["own_%s_vs_%s" % (variant, backend)] = {"max_abs": d, "values_over_1e-4": nbad,
                                                              "shape_ok": same_shape, "positions_ok": pos_ok}
                except Exception as e:
                    r["own_%s_vs_%s" % (variant, backend)] = "failed: %s" % e
        img_report[name] = r
        log("image", name, json.dumps(r))
    report["images"] = img_report
    save_all(out, g, report)  # the image goldens stand on their own

    # ---- audio
    fe_cls, fe = feature_extractor(tf)
    P = fe_params(np, fe)
    report["audio_front_end"] = fe_cls
    try:
        own_mel = np_mel_filters(np, P["fft_length"] // 2 + 1, P["feature_size"], P["min_frequency"],
                                 P["max_frequency"], P["sampling_rate"])
        report["own_mel_filters_max_abs"] = float(np.abs(own_mel - P["mel_filters"]).max())
    except Exception as e:
        report["own_mel_filters"] = "failed: %s" % e
    g["mel_filters"] = torch.from_numpy(P["mel_filters"].astype(np.float32))
    audios = {}
    aud_report = {}
    for name, fn in (("audio_a", "audio_a.wav"), ("audio_b", "audio_b.wav")):
        rate, chans = read_wav(os.path.join(ind, fn))
        mono = np.mean(np.array(chans, dtype=np.float64), axis=0)
        wave = np_resample(np, mono, rate, 16000).astype(np.float32)
        r = {"rate": rate, "channels": len(chans), "samples": len(chans[0]), "samples_16k": int(len(wave))}
        if rate != 16000:
            try:
                import torchaudio.functional as taf
                ta = taf.resample(torch.from_numpy(mono.astype(np.float32)), rate, 16000).numpy()
                r["own_resample_vs_torchaudio_max_abs"] = float(np.abs(ta - wave).max()) if ta.shape == wave.shape \
                    else "shape %s vs %s" % (ta.shape, wave.shape)
            except Exception as e:
                r["torchaudio"] = "unavailable: %s" % e
            try:
                from transformers.audio_utils import load_audio
                la = np.asarray(load_audio(os.path.join(ind, fn), sampling_rate=16000), dtype=np.float32)
                r["transformers_load_audio_samples"] = int(la.shape[-1])
                if la.shape == wave.shape:
                    r["own_resample_vs_load_audio_max_abs"] = float(np.abs(la - wave).max())
            except Exception as e:
                r["transformers_load_audio"] = "unavailable: %s" % str(e)[:200]
        feats, mask = run_feature_extractor(np, fe, wave)
        r["frames"] = int(feats.shape[0])
        r["valid_frames"] = int(mask.sum())
        try:
            mine, mmask = np_logmel(np, wave.astype(np.float64), P)
            r["own_features_max_abs"] = float(np.abs(mine - feats).max()) if mine.shape == feats.shape \
                else "shape %s vs %s" % (mine.shape, feats.shape)
            r["own_mask_equal"] = bool(mine.shape == feats.shape and (mmask == mask).all())
        except Exception as e:
            r["own_features"] = "failed: %s" % e
        r["num_soft_tokens"] = audio_tokens_from_mask(mask)
        g["waveform_" + name] = torch.from_numpy(wave)
        g["input_features_" + name] = torch.from_numpy(np.ascontiguousarray(feats))
        g["input_features_mask_" + name] = torch.from_numpy(mask.astype(np.int32))
        audios[name] = (feats, mask)
        aud_report[name] = r
        log("audio", name, json.dumps(r))
    report["audio"] = aud_report
    save_all(out, g, report)  # preprocessing goldens first: they stand without the model
    log("saved the preprocessing goldens")

    # ---- the model
    text, vision, audio = tiny_config()
    cfg = tf.Gemma4Config(text_config=text, vision_config=vision, audio_config=audio, **IDS)
    model = tf.Gemma4ForConditionalGeneration(cfg).eval()
    randomize_towers(torch, model, a.seed)
    os.makedirs(out, exist_ok=True)
    model.to(torch.bfloat16).save_pretrained(out)  # safetensors (the default)
    log("saved the bf16 checkpoint")
    model = tf.Gemma4ForConditionalGeneration.from_pretrained(out, dtype=torch.float32,
                                                              attn_implementation="eager").eval()
    report["params"] = {k: sum(p.numel() for n, p in model.named_parameters() if n.startswith(k))
                        for k in ("model.language_model.", "model.vision_tower.", "model.audio_tower.",
                                  "model.embed_vision.", "model.embed_audio.")}

    gen = torch.Generator().manual_seed(a.seed)

    def text_ids(n):
        return torch.randint(3, TEXT_ID_MAX, (n,), generator=gen).tolist()

    def build(img_names, aud_name):
        """Prompt ids with placeholders expanded as Gemma4Processor does, plus model inputs."""
        ids = [2] + text_ids(5)
        for nm in img_names:
            ids += [IDS["boi_token_id"]] + [IDS["image_token_id"]] * img_report[nm]["num_soft_tokens"] + \
                [IDS["eoi_token_id"]] + text_ids(3)
        ids += [IDS["boa_token_id"]] + [IDS["audio_token_id"]] * aud_report[aud_name]["num_soft_tokens"] + \
            [IDS["eoa_token_index"]] + text_ids(4)
        pv = main_ip(images=[images[n] for n in img_names], return_tensors="pt")
        feats, mask = audios[aud_name]
        kw = dict(input_ids=torch.tensor([ids]),
                  pixel_values=pv["pixel_values"].float(),
                  image_position_ids=pv["image_position_ids"].long(),
                  input_features=torch.from_numpy(feats)[None],
                  input_features_mask=torch.from_numpy(mask)[None])
        return ids, kw

    def logits_of(m, kw):
        kw = dict(kw)
        dt = next(m.parameters()).dtype
        kw["pixel_values"] = kw["pixel_values"].to(dt)
        kw["input_features"] = kw["input_features"].to(dt)
        with torch.no_grad():
            return m(**kw).logits[0].float()

    ids1, kw1 = build(["img_a", "img_b"], "audio_a")
    ids2, kw2 = build(["img_c", "img_d"], "audio_b")
    l1 = logits_of(model, kw1)
    log("prompt 1: %d tokens, logits absmax %.3g" % (len(ids1), float(l1.abs().max())))
    l2 = logits_of(model, kw2)
    log("prompt 2: %d tokens" % len(ids2))
    g["input_ids"] = torch.tensor(ids1, dtype=torch.int32)
    g["logits_f32"] = l1.contiguous()
    g["input_ids_2"] = torch.tensor(ids2, dtype=torch.int32)
    g["logits_f32_2"] = l2.contiguous()
    report["prompt_len"] = len(ids1)
    report["prompt_len_2"] = len(ids2)
    report["logit_absmax_f32"] = float(l1.abs().max())

    # per-image / per-audio tower outputs
    try:
        tower_outputs(torch, model, main_ip, images, audios, img_report, aud_report, g)
    except Exception as e:
        traceback.print_exc()
        report["tower_outputs"] = "failed: %s" % e
    save_all(out, g, report)  # a first save: what follows is optional

    # noise floor: the same in f64
    try:
        m64 = copy.deepcopy(model).double()
        report["max_abs_diff_f32_vs_f64"] = float((logits_of(m64, kw1) - l1).abs().max())
        report["max_abs_diff_f32_vs_f64_2"] = float((logits_of(m64, kw2) - l2).abs().max())
        del m64
        log("f32 vs f64: %.3g" % report["max_abs_diff_f32_vs_f64"])
    except Exception as e:
        report["f64"] = "failed: %s" % e
        log("f64 run failed:", e)

    # greedy continuation (the binary's --greedy check)
    try:
        with torch.no_grad():
            gen_out = model.generate(**kw1, max_new_tokens=8, do_sample=False)
        g["greedy_ids"] = gen_out[0, len(ids1):].to(torch.int32).contiguous()
        report["gen_len"] = int(g["greedy_ids"].numel())
        argmax_ok = int(torch.argmax(l1[-1])) == int(g["greedy_ids"][0])
        report["greedy_first_matches_argmax"] = argmax_ok
    except Exception as e:
        report["generate"] = "failed: %s" % str(e)[:300]
        log("generate failed:", e)

    # ---- the processor configuration the runtime reads
    try:
        write_processor_config(out, main_ip, P)
    except Exception as e:
        traceback.print_exc()
        report["processor_config"] = "failed: %s" % e
    save_all(out, g, report)
    total = 0
    for root, _, files in os.walk(out):
        for fn in files:
            s = os.path.getsize(os.path.join(root, fn))
            total += s
            log("%-40s %9d bytes" % (os.path.relpath(os.path.join(root, fn), out), s))
            if s >= 16 << 20:
                log("WARNING: %s is over 16 MiB" % fn)
    log("golden.json:", json.dumps(report, sort_keys=True, default=str))
    log("done: %d bytes in %s" % (total, out))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception:
        traceback.print_exc()
        sys.stdout.flush()
        sys.exit(1)
