"""Content types from magic numbers, and the provider's 'Not found' body told apart from media."""

from __future__ import annotations

import pytest

from extract.media.sniffing import is_expired_marker, sniff_content_type
from tests.media.samples import SAMPLES


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_sniffs_as_its_type(name: str) -> None:
    data, expected = SAMPLES[name]
    assert sniff_content_type(data) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"#!AMR-WB\n\x00", "audio/amr-wb"),
        (b"\x00\x00\x00\x14ftyp3g2a\x00\x00\x00\x00", "video/3gpp2"),
        (b"\x00\x00\x00\x14ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"\x00\x00\x00\x14ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"\xef\xbb\xbfbegin:vcard\r\n", "text/vcard"),
        (b"BEGIN:VCALENDAR\r\n", "text/calendar"),
        (b"<!DOCTYPE html><html></html>", "text/html"),
        (b"<smil><body/></smil>", "application/smil+xml"),
        (b"", "application/octet-stream"),
        # ADTS AAC shares the frame sync but has layer 0: not mp3
        (b"\xff\xf1\x50\x80\x00\x1f\xfc", "application/octet-stream"),
        (b"BMW cars are fast\n", "text/plain"),  # "BM" but not a BMP: reserved bytes not zero
        (b"hello\x00world", "application/octet-stream"),
    ],
)
def test_edge_cases(head: bytes, expected: str) -> None:
    assert sniff_content_type(head) == expected


def test_text_cut_mid_character_is_still_text() -> None:
    data = "é".encode() * 3000
    assert sniff_content_type(data[:4095]) == "text/plain"


@pytest.mark.parametrize(
    "body",
    [
        b"Not found",
        b"  Not found\n",
        b"not found.",
        b"404 Not Found",
        b"<html><body>Not found</body></html>",
        b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>",
    ],
)
def test_expired_marker(body: bytes) -> None:
    assert is_expired_marker(body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"Found it",
        b"The page was not found in the archive, sorry",
        b"Not found" + b" " * 2000,  # too long for the provider's short answer
        SAMPLES["png"][0],
        SAMPLES["vcard"][0],
    ],
)
def test_not_expired_marker(body: bytes) -> None:
    assert not is_expired_marker(body)
