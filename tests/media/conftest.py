"""Fixtures for the media tests: one loopback media server for the whole module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.media.media_server import MediaServer


@pytest.fixture(scope="module")
def server() -> Iterator[MediaServer]:
    with MediaServer() as running:
        yield running
