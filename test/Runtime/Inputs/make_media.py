#!/usr/bin/env python3
"""make_media.py DIR: writes small good and bad image/audio files for the
--image/--audio tests (standard library only)."""
import math, os, struct, sys, zlib

d = sys.argv[1]
os.makedirs(d, exist_ok=True)


def chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff)


def png(w, h):
    raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 40 % 256, y * 60 % 256, 128))
                   for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def wav(rate, samples, tag=1, bits=16):
    data = b"".join(struct.pack("<h", s) for s in samples) if bits == 16 else b""
    fmt = struct.pack("<HHIIHH", tag, 1, rate, rate * bits // 8, bits // 8, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


good = png(64, 48)
write("good.png", good)
write("cut.png", good[:len(good) // 2])
bad = bytearray(good)
bad[-20] ^= 0x5a
write("flip.png", bytes(bad))
write("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
write("notes.jpg", b"these are notes, not a JPEG\n")
tone = [int(8000 * math.sin(2 * math.pi * 440 * i / 16000)) for i in range(16000)]
write("tone.wav", wav(16000, tone))
write("long.wav", wav(16000, [0] * (31 * 16000)))
write("mp3.wav", wav(16000, [1, 2, 3], tag=0x55))
t = wav(16000, tone)
write("cut.wav", t[:len(t) - 101])
write("song.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00 and then frames")
