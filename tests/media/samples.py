"""Small real files of each media type, built in code, with the type each must sniff as."""

from __future__ import annotations

import io
import struct
import wave
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png() -> bytes:
    """A 1x1 RGB PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def gif() -> bytes:
    """A 1x1 GIF89a."""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
        b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def jpeg() -> bytes:
    """A JFIF header and end marker (enough for the magic number)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def wav() -> bytes:
    """A tenth of a second of 8 kHz mono silence, written by `wave`."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    return out.getvalue()


def webp() -> bytes:
    """A RIFF/WEBP container header with a lossless chunk."""
    chunk = b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00\x00"
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def bmp() -> bytes:
    """A 1x1 24-bit BMP."""
    pixels = b"\x00\x00\xff\x00"
    dib = struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    size = 14 + len(dib) + len(pixels)
    return b"BM" + struct.pack("<IHHI", size, 0, 0, 14 + len(dib)) + dib + pixels


def midi() -> bytes:
    """A format-0 MIDI file with one empty track."""
    track = b"\x00\xff\x2f\x00"
    return (
        b"MThd"
        + struct.pack(">IHHH", 6, 0, 1, 96)
        + b"MTrk"
        + struct.pack(">I", len(track))
        + track
    )


def amr() -> bytes:
    """The AMR-NB storage header and one 12.2 kbit/s frame."""
    return b"#!AMR\n" + b"\x3c" + bytes(31)


def iso_bmff(brand: bytes) -> bytes:
    """An ftyp box with `brand` and an empty mdat box."""
    ftyp = brand + b"\x00\x00\x02\x00" + brand + b"isom"
    mdat = bytes(16)
    return (
        struct.pack(">I", 8 + len(ftyp))
        + b"ftyp"
        + ftyp
        + struct.pack(">I", 8 + len(mdat))
        + b"mdat"
        + mdat
    )


def _mp3_frame() -> bytes:
    # MPEG-1 layer III, 128 kbit/s, 44.1 kHz: a 417-byte frame.
    return b"\xff\xfb\x90\x64" + bytes(413)


def mp3_id3() -> bytes:
    """An ID3v2.4 tag with no frames, then one mp3 frame."""
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + _mp3_frame()


def mp3_bare() -> bytes:
    """One mp3 frame and no tag (sniffed by frame sync)."""
    return _mp3_frame()


def ogg() -> bytes:
    """An Ogg page header."""
    return b"OggS\x00\x02" + bytes(20) + b"\x01\x1e\x01vorbis" + bytes(16)


def pdf() -> bytes:
    """The smallest shape of a PDF."""
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def vcard() -> bytes:
    """A vCard 3.0."""
    return b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Example\r\nTEL:+15145550100\r\nEND:VCARD\r\n"


def text() -> bytes:
    """A text/plain MMS part (UTF-8, not Latin-1)."""
    return "Rendez-vous à 8 h — 到了\n".encode()


def unknown_binary() -> bytes:
    """Bytes with no known magic number and not text."""
    return bytes(range(256))


# name -> (bytes, the content type they must sniff as)
SAMPLES: dict[str, tuple[bytes, str]] = {
    "jpeg": (jpeg(), "image/jpeg"),
    "png": (png(), "image/png"),
    "gif": (gif(), "image/gif"),
    "webp": (webp(), "image/webp"),
    "bmp": (bmp(), "image/bmp"),
    "mp3_id3": (mp3_id3(), "audio/mpeg"),
    "mp3_bare": (mp3_bare(), "audio/mpeg"),
    "wav": (wav(), "audio/wav"),
    "amr": (amr(), "audio/amr"),
    "midi": (midi(), "audio/midi"),
    "mp4": (iso_bmff(b"isom"), "video/mp4"),
    "3gp": (iso_bmff(b"3gp4"), "video/3gpp"),
    "ogg": (ogg(), "audio/ogg"),
    "pdf": (pdf(), "application/pdf"),
    "vcard": (vcard(), "text/vcard"),
    "text": (text(), "text/plain"),
    "unknown": (unknown_binary(), "application/octet-stream"),
}
