"""Failure reasons: which say the media host could not serve, and which are a file's own."""

from __future__ import annotations

import pytest

from extract.media.records import host_trouble


@pytest.mark.parametrize(
    ("reason", "host"),
    [
        ("timeout", True),
        ("connect_error", True),
        ("network_error", True),
        ("truncated", True),
        ("http_500", True),
        ("http_503", True),
        ("http_429", True),
        ("http_403", False),
        ("http_404", False),
        ("too_large", False),
        ("host_not_allowed", False),
        ("wrong_content", False),
        (None, False),
    ],
)
def test_host_trouble_is_what_says_the_host_could_not_serve(reason: str | None, host: bool) -> None:
    assert host_trouble(reason) is host
