"""Concurrency: two runs on one data dir, and a notebook holding the archive open during a run."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.schedule import scheduled_settings
from flows.settings import SCHEDULED_BUSY_WAIT_SECONDS
from tests.conftest import serving
from tests.flows.archive_checks import (
    archived_messages,
    assert_matches_truth,
    media_problems,
    table,
    truth_messages,
)
from tests.flows.conftest import sandbox_env, sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_server")

SPAN = (date(2024, 1, 1), date(2024, 12, 31))
SMSARCHIVE = str(Path(sys.executable).parent / "smsarchive")
HOLD_OPEN = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SELECT count(*) FROM messages").fetchall()
print("open", flush=True)
sys.stdin.readline()
con.close()
"""
"""What a notebook does: open the archive read-only, query it, and keep the connection."""


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with serving(
        AccountSpec(seed=41, messages=1200, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.2)
    ) as srv:
        yield srv


def _env(server: SandboxServer, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        **sandbox_env(server, data_dir),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "VOIPMS_MAX_CONCURRENCY": "1",
    }


def _backfill(server: SandboxServer, data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            SMSARCHIVE,
            "backfill",
            "--start",
            SPAN[0].isoformat(),
            "--end",
            SPAN[1].isoformat(),
            *extra,
        ],
        env=_env(server, data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_lock_holder(data_dir: Path, proc: subprocess.Popen[str]) -> int:
    """The PID written in the writer lock once `proc` holds it."""
    lock = data_dir / ".writer.lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if lock.exists() and str(proc.pid) in lock.read_text():
            return proc.pid
        time.sleep(0.05)
    raise AssertionError("the first backfill never took the writer lock")


@contextlib.contextmanager
def _reaped() -> Iterator[Callable[[subprocess.Popen[str]], subprocess.Popen[str]]]:
    """Collect child processes; whatever happens, none outlives the test; faults reset."""
    children: list[subprocess.Popen[str]] = []

    def keep(proc: subprocess.Popen[str]) -> subprocess.Popen[str]:
        children.append(proc)
        return proc

    try:
        yield keep
    finally:
        for proc in children:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


@pytest.fixture(autouse=True)
def _no_faults_after(server: SandboxServer) -> Iterator[None]:
    yield
    server.set_faults(FaultConfig())


def _assert_whole(server: SandboxServer, data_dir: Path) -> None:
    archive = data_dir / "archive.duckdb"
    assert_matches_truth(archived_messages(archive), truth_messages(server.account))
    assert media_problems(archive, data_dir / "media", server.account) == []


def test_a_second_backfill_exits_at_once_naming_the_first(
    server: SandboxServer, tmp_path: Path
) -> None:
    # Slow API calls keep the first run busy while the second starts (the second stops
    # at the writer lock, before any API call).
    server.set_faults(FaultConfig(latency_s=1.5))
    with _reaped() as procs:
        first = procs(_backfill(server, tmp_path))
        pid = _wait_for_lock_holder(tmp_path, first)
        second = procs(_backfill(server, tmp_path))
        _, err = second.communicate(timeout=120)
        assert first.poll() is None, "the first run ended before the second tried"
        assert second.returncode == 1, err
        assert "error: another smsarchive run is writing to this archive" in err
        assert f"process {pid}" in err
        assert "(or give the command --wait SECONDS to wait for it)" in err
        assert "Traceback" not in err
        _, err = first.communicate(timeout=300)
        assert first.returncode == 0, err[-3000:]
    _assert_whole(server, tmp_path)
    runs = table(tmp_path / "archive.duckdb", "SELECT outcome FROM sync_runs")
    assert runs["outcome"].to_list() == ["ok"]  # the refused run never started one


def test_a_second_backfill_with_wait_runs_after_the_first(
    server: SandboxServer, tmp_path: Path
) -> None:
    server.set_faults(FaultConfig(latency_s=1.5))
    with _reaped() as procs:
        first = procs(_backfill(server, tmp_path))
        pid = _wait_for_lock_holder(tmp_path, first)
        second = procs(_backfill(server, tmp_path, "--wait", "300"))
        _, err1 = first.communicate(timeout=300)
        _, err2 = second.communicate(timeout=300)
    assert first.returncode == 0, err1[-3000:]
    assert second.returncode == 0, err2[-3000:]
    assert "waiting (up to" in err2
    assert f"process {pid}" in err2
    _assert_whole(server, tmp_path)
    runs = table(tmp_path / "archive.duckdb", "SELECT outcome FROM sync_runs ORDER BY run_id")
    assert runs["outcome"].to_list() == ["ok", "ok"]


@pytest.fixture
def archived(server: SandboxServer, tmp_path: Path) -> Path:
    """A data dir with the account archived."""
    done = subprocess.run(
        [SMSARCHIVE, "backfill", "--start", SPAN[0].isoformat(), "--end", SPAN[1].isoformat()],
        env=_env(server, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp_path


def _hold_open(archive: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(archive)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "open"
    return holder


def _sync(server: SandboxServer, data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SMSARCHIVE, "sync", *extra],
        env=_env(server, data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_notebook_holding_the_archive_makes_a_run_wait_and_say_why(
    server: SandboxServer, archived: Path
) -> None:
    with _reaped() as procs:
        holder = procs(_hold_open(archived / "archive.duckdb"))
        # Without patience: one clear line naming the process, nothing written.
        refused = procs(_sync(server, archived))
        _, err = refused.communicate(timeout=120)
        assert refused.returncode == 1, err
        assert f"is open in process {holder.pid}" in err
        assert "close the program that has it open (a notebook" in err
        assert "(or give the command --wait SECONDS to wait for it)" in err
        # With patience: it waits, says for whom, and runs once the notebook lets go.
        patient = procs(_sync(server, archived, "--wait", "120"))
        assert patient.stderr is not None
        said = patient.stderr.readline()  # its first words: whom it waits for
        assert "waiting (up to" in said, said + patient.communicate()[1]
        assert f"process {holder.pid}" in said
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
        out, err = patient.communicate(timeout=300)
    assert patient.returncode == 0, err[-3000:]
    assert "sync " in out
    _assert_whole(server, archived)
    runs = table(archived / "archive.duckdb", "SELECT kind, outcome FROM sync_runs ORDER BY run_id")
    assert runs.rows() == [("backfill", "ok"), ("sync", "ok")]


def test_a_scheduled_run_waits_at_least_half_an_hour(server: SandboxServer, tmp_path: Path) -> None:
    """The nightly flow runs with these settings (flows/schedule.py)."""
    eager = sandbox_settings(server, tmp_path)
    assert eager.smsarchive_busy_wait_seconds == 0
    assert scheduled_settings(eager).smsarchive_busy_wait_seconds == SCHEDULED_BUSY_WAIT_SECONDS
    patient = sandbox_settings(server, tmp_path, smsarchive_busy_wait_seconds=7200)
    assert scheduled_settings(patient).smsarchive_busy_wait_seconds == 7200
