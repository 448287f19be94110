"""Rerunning an export, and crashing in the middle of one, never shows a reader half an export."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from polars.testing import assert_frame_equal

from flows.settings import Settings
from tests.export.frames import read_with_duckdb, read_with_polars
from warehouse import WarehouseBusyError
from warehouse.connection import open_warehouse
from warehouse.errors import (
    ForeignExportFolderError,
    LinklessExportFolderError,
    ShrunkenArchiveError,
)
from warehouse.export import EXPORT_TABLES, TableExport, export_archive
from warehouse.export.layout import next_snapshot_id, write_file_atomically
from warehouse.export.single_exporter import export_lock

ROOT = Path(__file__).resolve().parents[2]
TABLES = [table.name for table in EXPORT_TABLES]

KILL_AFTER_FIRST_TABLE = """
import os, signal, sys
from pathlib import Path
from warehouse.export import export_archive

def die(table):
    os.kill(os.getpid(), signal.SIGKILL)

export_archive(Path(sys.argv[1]), Path(sys.argv[2]), on_table=die)
"""


def _everything(out_dir: Path) -> dict[str, object]:
    return {table: read_with_duckdb(out_dir, table) for table in TABLES}


def _assert_same(left: dict[str, object], right: dict[str, object]) -> None:
    assert left.keys() == right.keys()
    for name, frame in left.items():
        assert_frame_equal(frame, right[name], check_row_order=True)  # type: ignore[arg-type]


def _temp_entries(out_dir: Path) -> list[str]:
    return sorted(p.name for p in out_dir.iterdir() if p.name.endswith("-tmp"))


def test_rerun_gives_the_same_data_and_clears_stale_temp_dirs(
    archive: Settings, tmp_path: Path
) -> None:
    first = export_archive(archive.archive_path, tmp_path)
    before = _everything(tmp_path)
    stale = tmp_path / ".export-20000101T000000000000Z-tmp"
    (stale / "messages").mkdir(parents=True)
    (stale / "messages" / "half.parquet").write_bytes(b"PAR1 not really")
    second = export_archive(archive.archive_path, tmp_path)
    assert second.snapshot > first.snapshot
    assert second.row_counts == first.row_counts
    _assert_same(_everything(tmp_path), before)
    assert _temp_entries(tmp_path) == []
    third = export_archive(archive.archive_path, tmp_path)
    # The current snapshot and the one before it are kept; older ones go.
    kept = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert kept == [second.snapshot, third.snapshot]
    _assert_same(_everything(tmp_path), before)


def test_an_archive_of_fewer_messages_than_the_export_is_refused_and_the_export_kept(
    archive: Settings, tmp_path: Path
) -> None:
    # the archive lost, a sync then starts a new one of a few days: exporting it would make
    # it current, and the next exports would prune the snapshot holding the history
    out = tmp_path / "export"
    first = export_archive(archive.archive_path, out)
    before = _everything(out)
    manifest = (out / "_manifest.json").read_text()
    started_again = tmp_path / "data" / "archive.duckdb"
    open_warehouse(started_again).close()
    for _ in range(3):
        with pytest.raises(ShrunkenArchiveError) as refused:
            export_archive(started_again, out)
        said = str(refused.value)
        assert f"holds 0 messages, fewer than the {first.row_counts['messages']:,}" in said
        assert f"(snapshot {first.snapshot})" in said
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == [first.snapshot]
    assert (out / "_manifest.json").read_text() == manifest
    assert _temp_entries(out) == []
    _assert_same(_everything(out), before)
    # with the snapshot's manifest damaged, its files say how many it holds
    own = out / "snapshots" / first.snapshot / "_manifest.json"
    own.write_text(own.read_text()[:100])
    with pytest.raises(ShrunkenArchiveError, match=f"the {first.row_counts['messages']:,} of"):
        export_archive(started_again, out)
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == [first.snapshot]
    # into a folder of its own, it is exported
    assert export_archive(started_again, tmp_path / "elsewhere").row_counts["messages"] == 0


def test_sigkill_mid_export_leaves_the_previous_export_current(
    archive: Settings, tmp_path: Path
) -> None:
    previous = export_archive(archive.archive_path, tmp_path)
    before = _everything(tmp_path)
    manifest = (tmp_path / "_manifest.json").read_text()
    crashed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_TABLE, str(archive.archive_path), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    # The killed export got as far as writing its first table, in its temp folder only.
    (half,) = [tmp_path / name for name in _temp_entries(tmp_path)]
    assert list((half / "messages").rglob("*.parquet"))
    assert not (half / "_manifest.json").exists()
    # Readers still see the previous export, whole.
    assert os.readlink(tmp_path / "current") == f"snapshots/{previous.snapshot}"
    assert (tmp_path / "_manifest.json").read_text() == manifest
    _assert_same(_everything(tmp_path), before)
    for table in TABLES:
        assert read_with_polars(tmp_path, table).height == previous.row_counts[table]
    # The next export removes the leftovers and completes.
    again = export_archive(archive.archive_path, tmp_path)
    assert _temp_entries(tmp_path) == []
    assert again.row_counts == previous.row_counts
    assert json.loads((tmp_path / "_manifest.json").read_text())["snapshot"] == again.snapshot


def test_a_failure_mid_export_removes_its_temp_dir_and_changes_nothing(
    archive: Settings, tmp_path: Path
) -> None:
    previous = export_archive(archive.archive_path, tmp_path)
    before = _everything(tmp_path)

    # A real failure: the second table's folder is taken by a file, so DuckDB cannot write it.
    def block_next_table(table: TableExport) -> None:
        temp = next(p for p in tmp_path.iterdir() if p.name.startswith(".export-"))
        (temp / "media").write_text("in the way")

    with pytest.raises(duckdb.IOException, match="Cannot write"):
        export_archive(archive.archive_path, tmp_path, on_table=block_next_table)
    assert _temp_entries(tmp_path) == []
    assert os.readlink(tmp_path / "current") == f"snapshots/{previous.snapshot}"
    _assert_same(_everything(tmp_path), before)


def test_a_second_export_into_the_same_folder_waits_its_turn(
    archive: Settings, tmp_path: Path
) -> None:
    with export_lock(tmp_path), pytest.raises(WarehouseBusyError, match="another export"):
        export_archive(archive.archive_path, tmp_path)
    assert not (tmp_path / "current").exists()


def _tree(root: Path) -> dict[str, bytes | None]:
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(
    "theirs",
    [
        {".cache-tmp/keep": b"k"},  # named like an export's temp folder
        {"current": b"precious"},  # a file where the export's link would go
        {"current/notes.txt": b"n"},  # a folder there
        {"_manifest.json": b'{"mine": 1}'},  # another tool's manifest
        {"photos/2023.jpg": b"p"},
    ],
)
def test_a_folder_holding_what_no_export_made_is_refused_untouched(
    archive: Settings, tmp_path: Path, theirs: dict[str, bytes]
) -> None:
    out = tmp_path / "out"
    for name, data in theirs.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    before = _tree(out)
    with pytest.raises(ForeignExportFolderError, match="holds what no export made"):
        export_archive(archive.archive_path, out)
    assert _tree(out) == before  # not even a lock file left


def test_an_earlier_export_keeps_only_its_own_snapshots_pruned(
    archive: Settings, tmp_path: Path
) -> None:
    first = export_archive(archive.archive_path, tmp_path)
    (tmp_path / "snapshots" / "2023-photos").mkdir()
    with pytest.raises(ForeignExportFolderError, match="snapshots/2023-photos"):
        export_archive(archive.archive_path, tmp_path)
    (tmp_path / "snapshots" / "2023-photos").rmdir()
    export_archive(archive.archive_path, tmp_path)
    assert (tmp_path / "snapshots" / first.snapshot).is_dir()  # the two newest are kept


def test_the_manifest_is_never_written_through_a_link_planted_at_its_temp_name(
    tmp_path: Path,
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    manifest = tmp_path / "_manifest.json"
    (tmp_path / "._manifest.json-tmp").symlink_to(victim)  # as an export that checked it left
    write_file_atomically(manifest, '{"snapshot_path": "snapshots/x"}')
    assert victim.read_text() == "mine"
    assert not manifest.is_symlink()
    assert json.loads(manifest.read_text()) == {"snapshot_path": "snapshots/x"}
    assert not (tmp_path / "._manifest.json-tmp").exists()


def test_a_snapshot_that_never_became_current_does_not_push_out_the_one_before(
    archive: Settings, tmp_path: Path
) -> None:
    before = export_archive(archive.archive_path, tmp_path)
    # an export killed after moving its snapshot into place, before pointing `current` at it
    orphan = tmp_path / "snapshots" / "99991231T235959999999Z"
    shutil.copytree(tmp_path / "snapshots" / before.snapshot, orphan)
    after = export_archive(archive.archive_path, tmp_path)
    assert os.readlink(tmp_path / "current") == f"snapshots/{after.snapshot}"
    kept = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert kept == sorted([before.snapshot, after.snapshot])  # readers of `before` still read


def test_an_old_snapshot_that_cannot_be_deleted_leaves_the_export_done(
    archive: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = export_archive(archive.archive_path, tmp_path)
    export_archive(archive.archive_path, tmp_path)
    stuck = tmp_path / "snapshots" / first.snapshot
    pinned = next(stuck.rglob("*.parquet"))
    # immutable: not even root may delete it, as another account's file is for us
    if subprocess.run(["chattr", "+i", str(pinned)], check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        third = export_archive(archive.archive_path, tmp_path)
    finally:
        subprocess.run(["chattr", "-i", str(pinned)], check=True)
    assert os.readlink(tmp_path / "current") == f"snapshots/{third.snapshot}"
    assert pinned.is_file()
    assert f"could not delete the old {stuck}" in caplog.text


def test_a_reader_that_listed_files_before_an_export_never_reads_the_next_ones_bytes(
    archive: Settings, tmp_path: Path
) -> None:
    first = export_archive(archive.archive_path, tmp_path)
    listed = sorted((tmp_path / "current").rglob("*.parquet"))  # as a lazy reader lists them
    second = export_archive(archive.archive_path, tmp_path)
    assert second.snapshot != first.snapshot
    for path in listed:
        # through `current` the old names are gone, not the new snapshot's files under them
        assert not path.exists(), path
    assert sorted((tmp_path / "current").rglob("*.parquet")) != listed


def test_snapshot_ids_only_grow_even_when_the_clock_went_back(tmp_path: Path) -> None:
    (tmp_path / "snapshots" / "20300101T000000000000Z").mkdir(parents=True)  # made "later"
    now = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    assert next_snapshot_id(tmp_path, now) == "20300101T000000000001Z"
    assert next_snapshot_id(tmp_path / "fresh", now) == "20261206T050000000000Z"


def test_a_folder_that_cannot_hold_links_is_refused_before_anything_is_written(
    archive: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = export_archive(archive.archive_path, tmp_path)
    manifest = (tmp_path / "_manifest.json").read_text()

    def refused(self: Path, target: Path, target_is_directory: bool = False) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted", str(self))

    # an exFAT disk or an SMB share, which cannot be mounted here
    monkeypatch.setattr(Path, "symlink_to", refused)
    for _ in range(3):
        with pytest.raises(LinklessExportFolderError, match="cannot hold symbolic links"):
            export_archive(archive.archive_path, tmp_path)
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [first.snapshot]
    assert os.readlink(tmp_path / "current") == f"snapshots/{first.snapshot}"
    assert (tmp_path / "_manifest.json").read_text() == manifest
    assert _temp_entries(tmp_path) == []

    # a disk that is full holds links all the same: that is said as a full disk
    def full(self: Path, target: Path, target_is_directory: bool = False) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "symlink_to", full)
    with pytest.raises(OSError, match="No space left") as caught:
        export_archive(archive.archive_path, tmp_path)
    assert not isinstance(caught.value, LinklessExportFolderError)
