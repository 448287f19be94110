"""Content type from a file's first bytes (magic numbers), and the provider's expired-media body."""

from __future__ import annotations

import re

# How many leading bytes the sniffer and the expired-body check look at.
HEAD_BYTES = 4096

# VoIP.ms answers expired media with HTTP 200 and this text (sometimes wrapped in a little
# HTML); a body longer than this cannot be that answer.
EXPIRED_MAX_BYTES = 1024
# 'Not found', maybe '404' or 'file' before it, maybe repeated (a page's title and heading).
_EXPIRED_TEXT = re.compile(r"(?:(?:404|error|file)?[\s:.-]*not found[\s.!]*)+")
_TAG = re.compile(rb"<[^>]*>")
_SPACE = re.compile(rb"\s+")

OCTET_STREAM = "application/octet-stream"
TEXT_PLAIN = "text/plain"

_ISO_BMFF_BRANDS: tuple[tuple[bytes, str], ...] = (
    (b"3gp", "video/3gpp"),
    (b"3gg", "video/3gpp"),
    (b"3gs", "video/3gpp"),
    (b"3ge", "video/3gpp"),
    (b"3g2", "video/3gpp2"),
    (b"M4A", "audio/mp4"),
    (b"M4B", "audio/mp4"),
    (b"qt  ", "video/quicktime"),
    (b"heic", "image/heic"),
    (b"heix", "image/heic"),
    (b"mif1", "image/heif"),
    (b"msf1", "image/heif"),
    (b"avif", "image/avif"),
)


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG-1/2/2.5 audio frame header (mp3 without an ID3 tag); rejects reserved fields."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0x3
    layer = (head[1] >> 1) & 0x3
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0x3
    # layer 0 is reserved (and is what AAC ADTS uses); version 1, bitrate 15, rate 3 reserved.
    return version != 1 and layer != 0 and bitrate != 0xF and sample_rate != 0x3


def _iso_bmff_type(head: bytes) -> str | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    for prefix, content_type in _ISO_BMFF_BRANDS:
        if brand.startswith(prefix):
            return content_type
    return "video/mp4"


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 (a character cut off at the end of `head` is fine) without control characters."""
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\t\n\r\f\v" for ch in text.removeprefix("\ufeff"))


def sniff_content_type(head: bytes) -> str:
    """The MIME type the leading bytes of a file show; text/plain for other UTF-8 text,
    application/octet-stream when nothing fits."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"BM") and len(head) >= 14 and head[6:10] == b"\0\0\0\0":
        return "image/bmp"
    if head.startswith(b"#!AMR-WB\n"):
        return "audio/amr-wb"
    if head.startswith(b"#!AMR\n"):
        return "audio/amr"
    if head.startswith(b"MThd"):
        return "audio/midi"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return "audio/mpeg"
    iso = _iso_bmff_type(head)
    if iso is not None:
        return iso
    if _looks_like_text(head):
        stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip().upper()
        if stripped.startswith(b"BEGIN:VCARD"):
            return "text/vcard"
        if stripped.startswith(b"BEGIN:VCALENDAR"):
            return "text/calendar"
        if stripped.startswith((b"<!DOCTYPE HTML", b"<HTML")):
            return "text/html"
        if stripped.startswith(b"<SMIL"):
            return "application/smil+xml"
        return TEXT_PLAIN
    return OCTET_STREAM


def is_expired_marker(body: bytes) -> bool:
    """True for the provider's 'Not found' answer to expired media: the bare text, with any
    surrounding whitespace, or inside a small HTML page."""
    if len(body) > EXPIRED_MAX_BYTES:
        return False
    text = _SPACE.sub(b" ", _TAG.sub(b" ", body)).strip().lower()
    return _EXPIRED_TEXT.fullmatch(text.decode("utf-8", errors="replace")) is not None
