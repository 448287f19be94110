"""Upgrades: an archive of every schema version ever shipped is migrated in place without loss."""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from warehouse import WarehouseError, archive_status, open_warehouse, settled_windows
from warehouse.export import export_archive
from warehouse.migrate import known_migrations

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED = sorted(FIXTURES.glob("schema_v*.duckdb.gz"))


def _version(fixture: Path) -> int:
    return int(fixture.name.removeprefix("schema_v").split(".")[0])


def _unpacked(fixture: Path, into: Path) -> Path:
    target = into / "data" / "archive.duckdb"
    target.parent.mkdir(parents=True)
    with gzip.open(fixture, "rb") as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink)
    return target


def _contents(path: Path) -> dict[str, pl.DataFrame]:
    """Every base table, every row, in a stable order."""
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        names = [
            str(name)
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() ORDER BY table_name"
            ).fetchall()
        ]
        frames = {name: con.table(name).pl() for name in names}
    return {name: frame.sort(frame.columns) for name, frame in frames.items()}


def _as_migrated(table: str, frame: pl.DataFrame, version: int) -> pl.DataFrame:
    """`frame`, a table of an archive of schema `version`, as the later migrations leave it."""
    if table == "media" and version < 4:
        # 004: an older version's expiry may have been a media host's 404; asked once more
        expired = pl.col("state") == "expired"
        frame = frame.with_columns(
            pl.when(expired)
            .then(pl.lit("expiry_rechecked"))
            .otherwise("last_error")
            .alias("last_error"),
            pl.when(expired).then(pl.lit("pending")).otherwise("state").alias("state"),
        ).sort(frame.columns)
    return frame


def test_every_schema_version_has_a_fixture() -> None:
    """Shipping a migration means keeping an archive of the version before it, made by it."""
    have = {_version(fixture) for fixture in SHIPPED}
    assert have == {migration.version for migration in known_migrations()}, (
        "run `python -m tests.reliability.fixtures.make_schema_fixture` on the commit that "
        "adds a migration, and commit the file"
    )


@pytest.mark.parametrize("fixture", SHIPPED, ids=lambda p: p.name.split(".")[0])
def test_an_old_archive_is_migrated_in_place_without_loss(fixture: Path, tmp_path: Path) -> None:
    archive = _unpacked(fixture, tmp_path)
    before = _contents(archive)
    assert before["messages"].height > 0
    assert before["media"].height > 0

    con = open_warehouse(archive)  # writable: applies what is missing
    try:
        applied = [
            row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()
        ]
        assert sorted(applied) == [m.version for m in known_migrations()]
        status = archive_status(con)
        assert status.schema_version == known_migrations()[-1].version
    finally:
        con.close()

    after = _contents(archive)
    for name, frame in before.items():
        if name == "schema_migrations":
            old = frame.filter(pl.col("version") <= _version(fixture))
            assert_frame_equal(after[name].filter(pl.col("version") <= _version(fixture)), old)
            continue
        # Columns may be added by later migrations; none of the old ones change or go, but
        # what a migration is there to change
        expected = _as_migrated(name, frame, _version(fixture))
        assert_frame_equal(after[name].select(frame.columns), expected, check_row_order=True)

    # The archive as it was is kept beside it, the way back to the version that made it.
    kept = sorted(archive.parent.glob("archive.duckdb.before-*"))
    if _version(fixture) == known_migrations()[-1].version:
        assert kept == []
    else:
        first = next(m for m in known_migrations() if m.version > _version(fixture))
        assert [path.name for path in kept] == [f"archive.duckdb.before-{first.name}"]
        assert kept[0].stat().st_mode & 0o777 == 0o600
        assert not list(archive.parent.glob(".archive.duckdb.before-*"))  # no temp left
        as_it_was = _contents(kept[0])
        assert as_it_was.keys() == before.keys()
        for name, frame in before.items():
            assert_frame_equal(as_it_was[name], frame)

    # Opening again migrates nothing and the read-only paths accept the archive.
    open_warehouse(archive).close()
    read_only = open_warehouse(archive, read_only=True)
    read_only.close()
    assert _contents(archive).keys() == after.keys()

    result = export_archive(archive, tmp_path / "export")
    exported = {table.name: table.rows for table in result.tables}
    assert exported["messages"] == before["messages"].height
    assert exported["media"] == before["media"].height


@pytest.mark.parametrize("fixture", SHIPPED, ids=lambda p: p.name.split(".")[0])
def test_an_old_archive_keeps_its_windows_settled(fixture: Path, tmp_path: Path) -> None:
    """After the upgrade the fixture's windows still count as archived: no refetch."""
    con = open_warehouse(_unpacked(fixture, tmp_path))
    try:
        settled = settled_windows(con, "voipms", "fixture@example.com")
    finally:
        con.close()
    assert (date(2024, 1, 1), date(2024, 4, 1)) in settled


def test_an_old_archive_whose_folder_cannot_be_written_is_one_clear_error(
    tmp_path: Path,
) -> None:
    archive = _unpacked(SHIPPED[0], tmp_path)
    # as root no file mode stops a write: a lock path that is a folder does, as a read-only
    # disk would
    (archive.parent / ".writer.lock").mkdir()
    with pytest.raises(WarehouseError, match="was made by an older smsarchive") as refused:
        open_warehouse(archive, read_only=True, upgrade=True)
    assert "cannot be written (Is a directory); copy the data dir somewhere writable" in str(
        refused.value
    )
