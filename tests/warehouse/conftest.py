"""Fixtures of the warehouse tests: a fresh archive in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from warehouse import open_warehouse


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "archive.duckdb"


@pytest.fixture
def con(archive_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_warehouse(archive_path)
    yield connection
    connection.close()
