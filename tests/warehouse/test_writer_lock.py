"""One writer at a time: the writer lock and DuckDB's own file lock, held by another process."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from warehouse import WarehouseBusyError, open_warehouse, writer_lock
from warehouse.export.single_exporter import export_lock
from warehouse.report import default_folder
from warehouse.writer_lock import LOCK_NAME

ROOT = Path(__file__).resolve().parents[2]

HOLD_WRITER_LOCK = """
import sys, time
from pathlib import Path
from warehouse import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""

HOLD_DATABASE = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextmanager
def other_process(script: str, target: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Run `script` in a real second process until it says it holds the lock."""
    with subprocess.Popen(
        [sys.executable, "-c", script, str(target), str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "holding"
            yield process
        finally:
            process.kill()
            process.wait(timeout=10)


def test_a_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    with (
        other_process(HOLD_WRITER_LOCK, tmp_path, 30) as holder,
        pytest.raises(WarehouseBusyError) as caught,
        writer_lock(tmp_path),
    ):
        pass
    error = caught.value
    assert error.pid == holder.pid
    assert error.since is not None
    message = str(error)
    assert f"process {holder.pid}" in message
    assert "running since" in message
    assert str(tmp_path / LOCK_NAME) in message


def test_a_second_writer_waits_for_the_first_to_finish(tmp_path: Path) -> None:
    with other_process(HOLD_WRITER_LOCK, tmp_path, 0.5) as holder:
        started = time.monotonic()
        with writer_lock(tmp_path, wait=20) as lock_file:
            waited = time.monotonic() - started
            holder_info = json.loads(lock_file.read_text())
        assert holder.wait(timeout=10) == 0
    assert waited > 0.1
    assert holder_info["pid"] == os.getpid()


def test_waiting_too_short_says_so(tmp_path: Path) -> None:
    with other_process(HOLD_WRITER_LOCK, tmp_path, 30):
        started = time.monotonic()
        with (
            pytest.raises(WarehouseBusyError, match=r"waited 0\.3 s"),
            writer_lock(tmp_path, wait=0.3),
        ):
            pass
        assert time.monotonic() - started >= 0.3


def test_a_killed_holder_frees_the_lock(tmp_path: Path) -> None:
    with other_process(HOLD_WRITER_LOCK, tmp_path, 30) as holder:
        holder.kill()
        holder.wait(timeout=10)
        with writer_lock(tmp_path):
            pass


def test_the_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with writer_lock(tmp_path) as lock_file:
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
        with (
            pytest.raises(WarehouseBusyError, match=f"process {os.getpid()}"),
            writer_lock(tmp_path),
        ):
            pass
    assert lock_file.read_text() == ""  # released: no stale holder named
    with writer_lock(tmp_path):
        pass


def test_the_archive_open_elsewhere_is_a_clear_busy_error(tmp_path: Path) -> None:
    path = tmp_path / "archive.duckdb"
    open_warehouse(path).close()
    with other_process(HOLD_DATABASE, path, 30) as holder:
        for read_only in (False, True):
            with pytest.raises(WarehouseBusyError) as caught:
                open_warehouse(path, read_only=read_only)
            assert caught.value.pid == holder.pid
            assert f"open in process {holder.pid}" in str(caught.value)
            assert "close the program" in str(caught.value)
    open_warehouse(path).close()


def test_writer_alive_tells_a_live_writer_from_a_killed_one(tmp_path: Path) -> None:
    from warehouse import writer_alive

    assert not writer_alive(tmp_path)  # no lock file yet
    with writer_lock(tmp_path):
        assert writer_alive(tmp_path)
    assert not writer_alive(tmp_path)  # a clean exit empties the lock
    # A killed run leaves its PID behind: one that names no live process.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    holder = {"pid": int(dead.stdout), "host": socket.gethostname(), "started_at": "x"}
    (tmp_path / ".writer.lock").write_text(json.dumps(holder), encoding="utf-8")
    assert not writer_alive(tmp_path)
    # Its PID reused by another program (after a reboot): a live process, holding no lock.
    reused = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": "x"}
    (tmp_path / ".writer.lock").write_text(json.dumps(reused), encoding="utf-8")
    if Path("/proc/locks").exists():  # where the kernel lists its locks
        assert not writer_alive(tmp_path)


def test_folders_smsarchive_makes_are_their_owners_alone(tmp_path: Path) -> None:
    # private messages: under the usual umask 022 the folders would be readable by all
    old = os.umask(0o022)
    try:
        with writer_lock(tmp_path / "locked"):
            pass
        open_warehouse(tmp_path / "opened" / "archive.duckdb").close()
        with export_lock(tmp_path / "exported"):
            pass
        report = default_folder(tmp_path / "reported", datetime(2024, 1, 1, tzinfo=UTC))
    finally:
        os.umask(old)
    for made in ("locked", "opened", "exported", "reported/reports"):
        assert (tmp_path / made).stat().st_mode & 0o777 == 0o700, made
    assert report.stat().st_mode & 0o777 == 0o700


def test_an_archive_made_in_a_folder_others_may_read_is_the_owners_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)  # made by the user, open to all
    old = os.umask(0o022)
    try:
        open_warehouse(tmp_path / "archive.duckdb").close()
    finally:
        os.umask(old)
    assert (tmp_path / "archive.duckdb").stat().st_mode & 0o777 == 0o600


def test_a_data_dir_every_account_may_enter_is_named_with_the_remedy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="warehouse.writer_lock")
    shared, open_to_all = tmp_path / "group", tmp_path / "all"
    shared.mkdir(mode=0o750)
    shared.chmod(0o750)  # a group meant to share it: not a warning
    open_to_all.mkdir()
    open_to_all.chmod(0o755)
    for folder in (shared, open_to_all, tmp_path / "made"):
        with writer_lock(folder):
            pass
    warned = [r.getMessage() for r in caplog.records]
    assert warned == [
        f"{open_to_all} is mode 755: every account on this machine may read the messages in "
        f"it; `chmod 700 {open_to_all}` keeps them yours"
    ]


def test_files_made_under_the_lock_are_private_whatever_the_umask(tmp_path: Path) -> None:
    from warehouse import open_warehouse

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)  # a folder the user made open
    previous = os.umask(0o022)
    try:
        with writer_lock(data_dir):
            con = open_warehouse(data_dir / "archive.duckdb")
            try:
                con.execute("CREATE TABLE scratch AS SELECT range AS n FROM range(10)")
                wal = data_dir / "archive.duckdb.wal"
                assert wal.exists()  # DuckDB's log, made by DuckDB, holds the rows
                assert wal.stat().st_mode & 0o077 == 0
            finally:
                con.close()
        assert os.umask(0o022) == 0o022  # the user's umask is back
    finally:
        os.umask(previous)
