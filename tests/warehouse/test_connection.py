"""open_warehouse: creates and migrates the file, reads timestamps in UTC, read-only mode."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from warehouse import WarehouseError, open_warehouse
from warehouse.errors import UnreadableArchiveError, UnusablePathError
from warehouse.export import export_archive
from warehouse.queries import migration_dir, query_dir, read_query
from warehouse.report import REPORT_TABLES
from warehouse.report.tables import PREPARED

ROOT = Path(__file__).resolve().parents[2]


def test_open_creates_the_folder_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "archive.duckdb"
    con = open_warehouse(path)
    assert path.exists()
    assert con.execute("SELECT name FROM schema_migrations ORDER BY version").fetchall() == [
        ("001_initial",),
        ("002_provider_notices",),
        ("003_sync_run_flow_runs",),
        ("004_recheck_expired_media",),
    ]
    con.close()


def test_the_session_is_in_utc(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "archive.duckdb")
    assert con.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]
    montreal = timezone(timedelta(hours=-5))
    moment = datetime(2024, 1, 1, 7, 0, tzinfo=montreal)
    con.execute("CREATE TABLE t (ts TIMESTAMPTZ)")
    con.execute("INSERT INTO t VALUES (?)", [moment])
    ((stored,),) = con.execute("SELECT ts FROM t").fetchall()
    assert stored == moment
    assert stored.utcoffset() == timedelta(0)
    assert con.sql("SELECT ts FROM t").pl()["ts"].item() == datetime(2024, 1, 1, 12, tzinfo=UTC)
    con.close()


def test_read_only_needs_an_existing_archive(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="no archive at"):
        open_warehouse(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_read_only_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "archive.duckdb"
    open_warehouse(path).close()
    con = open_warehouse(path, read_only=True)
    assert con.execute("SELECT count(*) FROM messages").fetchall() == [(0,)]
    with pytest.raises(duckdb.InvalidInputException):
        con.execute("DELETE FROM messages")
    con.close()


def test_every_query_file_parses_and_is_used(con: duckdb.DuckDBPyConnection) -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "warehouse").rglob("*.py"))
    names = sorted(
        f.name.removesuffix(".sql") for f in query_dir().iterdir() if f.name.endswith(".sql")
    )
    assert len(names) > 20
    for name in names:
        assert con.extract_statements(read_query(name)), name
        used = (
            f'"{name}"' in source
            or name.removeprefix("report_") in REPORT_TABLES
            or name.removeprefix("report_prepare_") in PREPARED
        )
        assert used, f"warehouse/sql/{name}.sql is not used"
    migrations = [f for f in migration_dir().iterdir() if f.name.endswith(".sql")]
    for migration in migrations:
        assert con.extract_statements(migration.read_text()), migration.name


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("q?mark", "holds a `?`, which DuckDB reads as the start of options"),
        (os.fsdecode(b"caf\xe9"), "not UTF-8 on disk"),  # a Latin-1 name on a UTF-8 system
    ],
)
def test_a_path_duckdb_would_misread_is_refused_before_anything_is_made(
    tmp_path: Path, name: str, said: str
) -> None:
    archive = tmp_path / name / "archive.duckdb"
    with pytest.raises(UnusablePathError, match=re.escape(said)):
        open_warehouse(archive)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UnusablePathError, match=re.escape(said)):
        export_archive(tmp_path / "archive.duckdb", tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["with space", "it's", 'say "hi"', "100%", "été 短信", "[ab]*"])
def test_paths_duckdb_reads_as_written_are_used(tmp_path: Path, name: str) -> None:
    archive = tmp_path / name / "archive.duckdb"
    open_warehouse(archive).close()
    assert archive.is_file()
    assert export_archive(archive, tmp_path / name / "export").row_counts["messages"] == 0


@pytest.mark.parametrize("size", [0, 4096, 8192])
def test_a_new_archive_file_left_half_written_is_set_aside_for_a_new_one(
    tmp_path: Path, size: int
) -> None:
    duckdb.connect(str(tmp_path / "whole.duckdb")).close()
    path = tmp_path / "data" / "archive.duckdb"
    path.parent.mkdir()
    path.write_bytes((tmp_path / "whole.duckdb").read_bytes()[:size])
    open_warehouse(path).close()
    assert [
        aside.name.startswith("archive.duckdb.unfinished-")
        for aside in path.parent.glob("archive.duckdb.*")
    ] == [True]


@pytest.mark.parametrize("content", [b"garbage\n", b"PAR1" + bytes(100), b"x" * 5000])
def test_a_short_file_duckdb_never_wrote_is_refused_where_it_is(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "archive.duckdb"
    path.write_bytes(content)
    with pytest.raises(UnreadableArchiveError, match="cannot be opened"):
        open_warehouse(path)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.duckdb"]
