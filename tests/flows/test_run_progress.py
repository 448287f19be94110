"""`smsarchive status` while a run holds the archive: the run's progress, not an error."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pytest

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.run_progress import (
    PROGRESS_NAME,
    describe_run_progress,
    read_run_progress,
    run_progress,
)
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.conftest import (
    SMSARCHIVE,
    Notes,
    backfill_running,
    sandbox_env,
    without_our_settings,
)


def test_progress_is_written_as_it_moves_and_removed_at_the_end(tmp_path: Path) -> None:
    inner = Notes()
    with run_progress(tmp_path, "sync") as progress:
        progress.retitle("sync 2024-01-01..2024-01-31")
        tracker = progress.stage("windows", 2, inner)
        tracker.advance("2024-01-01..2024-01-31")
        state = read_run_progress(tmp_path)
        assert state is not None
        assert state["pid"] == os.getpid()
        # the first of two items: written only if a second has passed; the last always is
        tracker.advance()
        state = read_run_progress(tmp_path)
        assert state is not None
        assert state["stages"] == [{"stage": "windows", "done": 2, "total": 2}]
        line = describe_run_progress(state)
        assert line.startswith(f"sync 2024-01-01..2024-01-31 is running (process {os.getpid()}")
        assert "windows 2/2" in line
        # its moments read as status writes them, not as ISO timestamps
        assert re.search(r", since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)", line), line
        assert re.search(r"\(as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$", line), line
    assert inner.notes == ["2024-01-01..2024-01-31", ""]  # the wrapped tracker saw each one
    assert not (tmp_path / PROGRESS_NAME).exists()
    assert read_run_progress(tmp_path) is None


@contextmanager
def slow_backfill(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, dict[str, str]]]:
    """`smsarchive backfill` of 2024 running against a sandbox that answers in a second, once
    its windows are being fetched (the run is in sync_runs): the process, data dir and env."""
    account = SandboxAccount.generate(
        AccountSpec(seed=5, messages=600, start=date(2024, 1, 1), end=date(2024, 12, 31), dids=2)
    )
    with SandboxServer(
        account,
        username=SANDBOX_USERNAME,
        password=SANDBOX_PASSWORD,
        faults=FaultConfig(latency_s=1.0),
    ) as server:
        data_dir = tmp_path / "data"
        env = {
            **without_our_settings(),
            **sandbox_env(server, data_dir),
            "VOIPMS_MAX_CONCURRENCY": "1",
        }
        env.pop("PREFECT_API_URL", None)
        with backfill_running(
            cwd=tmp_path,
            env=env,
            ready=lambda: bool((read_run_progress(data_dir) or {}).get("stages")),
            within_s=60,
            every_s=0.05,
            stdout=subprocess.DEVNULL,
        ) as backfill:
            yield backfill, data_dir, env


def test_status_during_a_backfill_shows_its_progress(tmp_path: Path) -> None:
    # slow answers keep the backfill running while status is asked
    with slow_backfill(tmp_path) as (backfill, data_dir, env):
        status, report = (
            subprocess.run(
                [SMSARCHIVE, *args], cwd=tmp_path, env=env, capture_output=True, text=True
            )
            for args in (["status"], ["report"])
        )
        _, errors = backfill.communicate(timeout=120)
    assert backfill.returncode == 0, errors
    assert status.returncode == 0, status.stderr
    assert f"backfill 2024-01-01..2024-12-31 is running (process {backfill.pid}" in status.stdout
    assert "windows" in status.stdout
    assert report.returncode == 1
    assert "backfill 2024-01-01..2024-12-31 is running" in report.stderr
    assert report.stderr.rstrip().endswith("; report once it ends")
    assert not (data_dir / PROGRESS_NAME).exists()
    after = subprocess.run(
        [SMSARCHIVE, "status"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert after.returncode == 0, after.stderr
    assert "is running" not in after.stdout


def test_progress_that_cannot_be_written_does_not_stop_the_run(tmp_path: Path) -> None:
    gone = tmp_path / "not-a-folder"
    gone.write_text("a file where the data dir should be")
    with run_progress(gone, "backfill") as progress:  # every write fails: nothing raised
        progress.stage("windows", 1, Notes()).advance()


def test_sigterm_stops_a_backfill_as_ctrl_c_does(tmp_path: Path) -> None:
    with slow_backfill(tmp_path) as (backfill, data_dir, _):
        backfill.send_signal(signal.SIGTERM)  # as `kill` or a service manager stops it
        _, errors = backfill.communicate(timeout=60)
    assert backfill.returncode == 143, errors
    assert "Traceback" not in errors
    assert errors.rstrip().splitlines()[-1] == (
        "error: stopped by SIGTERM; nothing is lost, rerun to continue"
    )
    assert not (data_dir / PROGRESS_NAME).exists()
    with duckdb.connect(str(data_dir / "archive.duckdb"), read_only=True) as con:
        runs = con.execute("SELECT outcome, detail FROM sync_runs").fetchall()
        # how far it got: the windows whose merge committed, and their messages
        got = con.execute(
            "SELECT windows_merged = (SELECT count(*) FROM window_checkpoints), "
            "messages_inserted = (SELECT count(*) FROM messages) FROM sync_runs"
        ).fetchall()
    assert runs == [("interrupted", "Terminated")]
    assert got == [(True, True)]


def test_a_window_cut_in_two_adds_one_to_every_count_of_windows(tmp_path: Path) -> None:
    from flows.progress import Reporter

    for bars in (False, True):  # the log lines, and the bars a terminal draws
        reporter = Reporter(bars=bars)
        with reporter.running(), run_progress(tmp_path, "backfill") as progress:
            tracker = progress.stage("windows", 2, reporter.stage("windows", 2))
            tracker.advance()
            tracker.grow(1)  # the second window cut in two: three to do
            tracker.advance()
            tracker.advance()
            state = read_run_progress(tmp_path)
            assert state is not None
            assert state["stages"] == [{"stage": "windows", "done": 3, "total": 3}]
            if bars:
                (task,) = reporter._progress.tasks  # type: ignore[union-attr]
                assert (task.completed, task.total) == (3, 3)


def test_a_stage_says_how_far_it_is_at_least_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from flows.progress import LOG_EVERY_SECONDS, _LogTracker

    now = [0.0]
    tracker = _LogTracker("media", 1_000, clock=lambda: now[0])  # a line each 100 files
    with caplog.at_level(logging.INFO, logger="smsarchive"):
        for seconds in (1.0, 2.0, LOG_EVERY_SECONDS + 1, LOG_EVERY_SECONDS + 2):
            now[0] = seconds
            tracker.advance()
    assert [r.getMessage() for r in caplog.records] == ["media: 3/1000"]
