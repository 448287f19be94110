"""An export never replaces a snapshot with one of an archive that lacks some of its messages."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from flows.settings import Settings
from warehouse.connection import open_warehouse
from warehouse.errors import ShrunkenArchiveError
from warehouse.export import export_archive
from warehouse.export.snapshot import last_run

FORGOTTEN = 7
"""Messages the copy lacks: forgotten by the provider before the archive was made again."""


def _copy(archive: Settings, folder: Path) -> Path:
    """The archive (and its log, if any) copied into `folder`."""
    folder.mkdir()
    for name in ("archive.duckdb", "archive.duckdb.wal"):
        if (archive.archive_path.parent / name).exists():
            shutil.copy2(archive.archive_path.parent / name, folder / name)
    return folder / "archive.duckdb"


def _made_again(path: Path) -> tuple[datetime, datetime]:
    """`path` as an archive made again: its oldest messages missing, more new ones than
    that, and only a run of its own. When the first and last missing were sent."""
    con = open_warehouse(path)
    try:
        first, last = con.execute(
            "SELECT min(sent_at), max(sent_at) FROM (SELECT sent_at FROM messages "
            "ORDER BY sent_at, message_id LIMIT $n)",
            {"n": FORGOTTEN},
        ).fetchone() or (None, None)
        con.execute(
            "DELETE FROM messages WHERE message_id IN (SELECT message_id FROM messages "
            "ORDER BY sent_at, message_id LIMIT $n)",
            {"n": FORGOTTEN},
        )
        con.execute(  # newer messages than the export holds, more than were lost
            "INSERT INTO messages SELECT * REPLACE ('new-' || message_id AS message_id) "
            "FROM messages ORDER BY sent_at DESC LIMIT $n",
            {"n": FORGOTTEN + 5},
        )
        con.execute("DELETE FROM sync_runs")
        con.execute(
            "INSERT INTO sync_runs (run_id, kind, started_at, outcome) "
            "VALUES (1, 'sync', now(), 'ok')"
        )
    finally:
        con.close()
    assert first is not None
    assert last is not None
    return first, last


def _swap_one_message(con: duckdb.DuckDBPyConnection) -> None:
    """One message deleted, a new one in its place: the count stays."""
    con.execute(
        "INSERT INTO messages SELECT * REPLACE ('new-' || message_id AS message_id) "
        "FROM messages ORDER BY message_id LIMIT 1"
    )
    con.execute("DELETE FROM messages WHERE message_id = (SELECT min(message_id) FROM messages)")


def test_an_archive_made_again_with_more_messages_but_not_all_is_refused(
    archive: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    first = export_archive(_copy(archive, tmp_path / "was"), out)
    manifest = (out / "_manifest.json").read_text()
    again = _copy(archive, tmp_path / "again")
    oldest, newest = _made_again(again)
    with pytest.raises(ShrunkenArchiveError) as refused:
        export_archive(again, out)
    said = str(refused.value)
    assert f"lacks {FORGOTTEN:,} messages of the current export" in said
    assert f"(snapshot {first.snapshot})" in said
    assert f"sent {oldest.astimezone(UTC):%Y-%m-%d} to {newest.astimezone(UTC):%Y-%m-%d}" in said
    assert "--out" in said
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == [first.snapshot]
    assert (out / "_manifest.json").read_text() == manifest
    # an export of an older smsarchive names no run: the files are compared all the same
    own = out / "snapshots" / first.snapshot / "_manifest.json"
    said_before = json.loads(own.read_text())
    del said_before["archive_last_run"]
    own.write_text(json.dumps(said_before))
    with pytest.raises(ShrunkenArchiveError, match=f"lacks {FORGOTTEN:,} messages"):
        export_archive(again, out)
    # into a folder of its own, it is exported
    export_archive(again, tmp_path / "elsewhere")


def test_the_export_names_the_archives_last_run_and_knows_the_archive_by_it(
    archive: Settings, tmp_path: Path
) -> None:
    path = _copy(archive, tmp_path / "archive")
    out = tmp_path / "export"
    first = export_archive(path, out)
    con = open_warehouse(path, read_only=True)
    try:
        run = last_run(con)
    finally:
        con.close()
    assert run is not None
    assert first.archive_last_run == run
    said = json.loads((out / "snapshots" / first.snapshot / "_manifest.json").read_text())
    assert said["archive_last_run"] == {
        "run_id": run.run_id,
        "started_at": run.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    # A message removed by hand from the archive that still holds that run (another in its
    # place) is not looked for: the run says the archive is the one exported, or grown from it.
    con = open_warehouse(path)
    try:
        _swap_one_message(con)
        con.execute(
            "INSERT INTO sync_runs (kind, started_at, outcome) VALUES ('sync', now(), 'ok')"
        )
    finally:
        con.close()
    second = export_archive(path, out)
    assert second.row_counts["messages"] == first.row_counts["messages"]
    assert second.archive_last_run is not None
    assert second.archive_last_run.run_id == run.run_id + 1


def test_a_run_of_the_same_id_started_at_another_time_is_another_run(
    archive: Settings, tmp_path: Path
) -> None:
    path = _copy(archive, tmp_path / "archive")
    out = tmp_path / "export"
    export_archive(path, out)
    con = open_warehouse(path)
    try:
        # put back from a backup taken before that run: the same id, given to a later run
        con.execute(
            "UPDATE sync_runs SET started_at = started_at + INTERVAL 1 HOUR "
            "WHERE run_id = (SELECT max(run_id) FROM sync_runs)"
        )
        _swap_one_message(con)
    finally:
        con.close()
    with pytest.raises(ShrunkenArchiveError, match="lacks 1 message of the current export"):
        export_archive(path, out)


def test_a_backup_from_before_a_replay_grown_past_the_export_is_compared(
    archive: Settings, tmp_path: Path
) -> None:
    path = _copy(archive, tmp_path / "archive")
    backup = _copy(archive, tmp_path / "backup")  # taken after the last run, before the replay
    con = open_warehouse(path)
    try:
        # a replay adopts landed answers: messages first seen when those were fetched, no run
        con.execute(
            "INSERT INTO messages SELECT * REPLACE ('adopted-' || message_id AS message_id) "
            "FROM messages ORDER BY message_id LIMIT $n",
            {"n": FORGOTTEN},
        )
    finally:
        con.close()
    out = tmp_path / "export"
    first = export_archive(path, out)
    con = open_warehouse(backup)
    try:
        # put back, then a sync: new messages past the export's count, and a run of its own
        con.execute(
            "INSERT INTO messages SELECT * REPLACE ('new-' || message_id AS message_id, "
            "now() AS first_seen_at, now() AS last_seen_at) "
            "FROM messages ORDER BY message_id LIMIT $n",
            {"n": FORGOTTEN + 3},
        )
        con.execute(
            "INSERT INTO sync_runs (kind, started_at, outcome) VALUES ('sync', now(), 'ok')"
        )
        held = con.execute("SELECT count(*) FROM messages").fetchone()
    finally:
        con.close()
    assert held is not None
    assert held[0] > first.row_counts["messages"]  # no fewer messages: the count cannot tell
    with pytest.raises(ShrunkenArchiveError, match=f"lacks {FORGOTTEN} messages of the current"):
        export_archive(backup, out)
    assert (out / "current").resolve().name == first.snapshot
