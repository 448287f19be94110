"""Small real media files, distinct per media item, with valid magic bytes."""

# PNG, GIF, WAV, AMR and MIDI are built here with the standard library. JPEG, MP3, MP4 and
# 3GP start from tiny templates in `templates/` (8.5 KB in all), made once with Debian's
# ffmpeg 5.1:
#
#     B="-map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact"
#     ffmpeg -f lavfi -i testsrc=size=64x48:rate=1 -frames:v 1 -q:v 6 $B template.jpg
#     ffmpeg -f lavfi -i testsrc=size=64x48:rate=10 \
#         -f lavfi -i sine=frequency=440:sample_rate=8000 -t 0.5 \
#         -c:v libx264 -preset veryslow -crf 35 -pix_fmt yuv420p -c:a aac -b:a 16k -ac 1 \
#         $B -movflags +faststart template.mp4
#     ffmpeg -f lavfi -i testsrc=size=128x96:rate=10 -t 0.5 -c:v h263 -q:v 25 $B -f 3gp \
#         -movflags +faststart template.3gp
#     ffmpeg -f lavfi -i sine=frequency=660:sample_rate=16000 -t 0.4 -ac 1 -ar 16000 \
#         -c:a libmp3lame -b:a 16k -write_xing 0 -id3v2_version 0 $B template.mp3
#
# Each file carries the media item's identity (a JPEG COM segment, an ID3 tag, a trailing
# ISO-BMFF `free` box, a PNG tEXt chunk, a GIF comment, a RIFF LIST chunk, a MIDI text event,
# AMR frames derived from it), so two items differ unless they share an identity on purpose.

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True, slots=True)
class MediaType:
    """A MIME type the sandbox serves, its URL extension and how common it is."""

    mime: str
    ext: str
    weight: float


MEDIA_TYPES: tuple[MediaType, ...] = (
    MediaType("image/jpeg", "jpg", 46.0),
    MediaType("image/png", "png", 14.0),
    MediaType("image/gif", "gif", 8.0),
    MediaType("video/mp4", "mp4", 9.0),
    MediaType("video/3gpp", "3gp", 4.0),
    MediaType("audio/mpeg", "mp3", 4.0),
    MediaType("audio/wav", "wav", 3.0),
    MediaType("audio/amr", "amr", 9.0),
    MediaType("audio/midi", "mid", 3.0),
)

EXT_BY_MIME = {t.mime: t.ext for t in MEDIA_TYPES}


@cache
def _template(name: str) -> bytes:
    return (_TEMPLATES / name).read_bytes()


def _stream(identity: str, size: int) -> bytes:
    """Deterministic pseudo-random bytes derived from `identity`."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{identity}#{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


@cache
def _png_pattern() -> bytes:
    """Filter-byte-prefixed RGB rows of a fixed pattern; each file recolours it."""
    width, height = 32, 24
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((x * 7 + y * 3) % 256, (x * 2 + y * 9) % 256, (x * y + 5 * x) % 256))
    return bytes(rows)


def _deflate_stored(data: bytes) -> bytes:
    # stored (level 0) blocks: a valid zlib stream, and 40x faster than compressing noise
    packer = zlib.compressobj(0, zlib.DEFLATED, 10, 1)
    return packer.compress(data) + packer.flush()


def _png(identity: str) -> bytes:
    width, height = 32, 24
    table = bytearray(_stream(identity, 256))
    pixels = bytearray(_png_pattern().translate(table))
    pixels[:: width * 3 + 1] = bytes(height)  # filter type 0 on every row
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _png_chunk(b"tEXt", b"Comment\x00" + identity.encode()),
            _png_chunk(b"IDAT", _deflate_stored(bytes(pixels))),
            _png_chunk(b"IEND", b""),
        )
    )


def _gif_lzw(pixels: bytes) -> bytes:
    """LZW for 8-bit codes without a growing table: a clear code every 100 pixels.

    Codes stay 9 bits wide because the table never nears 512 entries.
    """
    clear, end = 256, 257
    codes: list[int] = []
    for start in range(0, len(pixels), 100):
        codes.append(clear)
        codes.extend(pixels[start : start + 100])
    codes.append(end)
    bits = 0
    nbits = 0
    out = bytearray()
    for code in codes:
        bits |= code << nbits
        nbits += 9
        while nbits >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8
    if nbits:
        out.append(bits & 0xFF)
    blocks = bytearray([8])
    for i in range(0, len(out), 255):
        chunk = out[i : i + 255]
        blocks.append(len(chunk))
        blocks += chunk
    blocks.append(0)
    return bytes(blocks)


@cache
def _gif_image() -> bytes:
    """Image descriptor and LZW data of a fixed 24x16 pattern; each file brings its palette."""
    width, height = 24, 16
    pixels = bytes((x * 11 + y * 16 + x * y) % 256 for y in range(height) for x in range(width))
    return b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + _gif_lzw(pixels)


def _gif(identity: str) -> bytes:
    comment = identity.encode()[:255]
    return b"".join(
        (
            b"GIF89a",
            struct.pack("<HHBBB", 24, 16, 0xF7, 0, 0),
            _stream(identity + ":palette", 768),
            b"\x21\xfe" + bytes([len(comment)]) + comment + b"\x00",
            _gif_image(),
            b"\x3b",
        )
    )


def _jpeg(identity: str) -> bytes:
    body = _template("template.jpg")
    comment = identity.encode()
    return body[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + body[2:]


def _id3(identity: str) -> bytes:
    text = b"\x00" + identity.encode("latin-1", "replace")
    frame = b"TIT2" + struct.pack(">I", len(text)) + b"\x00\x00" + text
    size = len(frame)
    syncsafe = bytes(((size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F))
    return b"ID3\x03\x00\x00" + syncsafe + frame


def _mp3(identity: str) -> bytes:
    return _id3(identity) + _template("template.mp3")


def _isobmff(template: str, identity: str) -> bytes:
    # a trailing top-level `free` box: moov's chunk offsets point before it, so they stay valid
    payload = identity.encode()
    return _template(template) + struct.pack(">I", len(payload) + 8) + b"free" + payload


@cache
def _tone(freq: int, rate: int) -> bytes:
    return b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate)))
        for i in range(rate // 5)
    )


def _wav(identity: str) -> bytes:
    rate = 8000
    seed = _stream(identity, 1)
    samples = _tone(300 + 25 * (seed[0] % 64), rate)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    comment = identity.encode() + b"\x00"
    if len(comment) % 2:
        comment += b"\x00"
    info = b"INFO" + b"ICMT" + struct.pack("<I", len(comment)) + comment
    chunks = (
        b"fmt " + struct.pack("<I", len(fmt)) + fmt,
        b"LIST" + struct.pack("<I", len(info)) + info,
        b"data" + struct.pack("<I", len(samples)) + samples,
    )
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _amr(identity: str) -> bytes:
    # AMR-NB storage format: magic, then 12.2 kbit/s frames (header 0x3C + 31 bytes), 0.8 s
    frames = 40
    payload = _stream(identity, frames * 31)
    return b"#!AMR\n" + b"".join(b"\x3c" + payload[i * 31 : (i + 1) * 31] for i in range(frames))


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def _midi(identity: str) -> bytes:
    text = identity.encode()
    track = bytearray(b"\x00\xff\x01" + _vlq(len(text)) + text)
    track += b"\x00\xff\x51\x03\x07\xa1\x20"
    for note in _stream(identity, 8):
        pitch = 48 + note % 36
        track += b"\x00" + bytes((0x90, pitch, 80)) + _vlq(96) + bytes((0x80, pitch, 0))
    track += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def media_bytes(mime: str, identity: str) -> bytes:
    """The file served for a media item of type `mime` whose identity is `identity`."""
    if mime == "image/jpeg":
        return _jpeg(identity)
    if mime == "image/png":
        return _png(identity)
    if mime == "image/gif":
        return _gif(identity)
    if mime == "video/mp4":
        return _isobmff("template.mp4", identity)
    if mime == "video/3gpp":
        return _isobmff("template.3gp", identity)
    if mime == "audio/mpeg":
        return _mp3(identity)
    if mime == "audio/wav":
        return _wav(identity)
    if mime == "audio/amr":
        return _amr(identity)
    if mime == "audio/midi":
        return _midi(identity)
    raise ValueError(f"no generator for {mime}")


EXPIRED_BODY = b"Not found"
"""What VoIP.ms serves, with HTTP 200 and Content-Type text/html, for expired media."""
