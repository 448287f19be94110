"""The writer's DuckDB memory limit: applied, read back, and raised when a merge needs more."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.warehouse.builders import merge, message, messages_frame
from warehouse import open_warehouse
from warehouse.memory_limit import (
    duckdb_default_limit,
    memory_limit_bytes,
    raise_memory_limit,
    size_bytes,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("244.1 MiB", int(244.1 * 1024**2)),
        ("256MB", 256 * 1000**2),
        ("2 GB", 2 * 1000**3),
        ("1.5GiB", int(1.5 * 1024**3)),
        ("536870912B", 536870912),
        ("0 bytes", 0),
    ],
)
def test_sizes_as_duckdb_and_people_write_them(text: str, expected: int) -> None:
    assert size_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "12 parsecs", "MB"])
def test_what_is_not_a_size_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a memory size"):
        size_bytes(text)


def test_the_writer_opens_with_the_limit_it_is_given(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "archive.duckdb", memory_limit="64MB")
    try:
        assert abs(memory_limit_bytes(con) - 64_000_000) < 1_000_000
    finally:
        con.close()


def test_the_limit_is_not_raised_past_duckdbs_own_default(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "archive.duckdb", memory_limit=f"{duckdb_default_limit()}B")
    try:
        assert not raise_memory_limit(con, "a test")
    finally:
        con.close()


def test_a_window_too_big_for_the_limit_is_merged_with_the_limit_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = 20_000  # DuckDB needs ~2.5 KB a message to merge them: far past 8 MB
    con = open_warehouse(tmp_path / "archive.duckdb", memory_limit="8MB")
    try:
        frame = messages_frame(*(message(str(i), body="x" * 200) for i in range(rows)))
        with caplog.at_level(logging.WARNING, logger="warehouse.memory_limit"):
            result = merge(con, frame)
        assert result.inserted == rows
        assert con.execute("SELECT count(*) FROM messages").fetchone() == (rows,)
        assert con.execute("SELECT count(*) FROM carrier_status_history").fetchone() == (rows,)
        assert memory_limit_bytes(con) > 8_000_000
        assert "needed more memory than DuckDB's limit" in caplog.text
    finally:
        con.close()
