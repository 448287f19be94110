"""A run stopped (Ctrl-C) or failing while windows are fetched stops them, and says what it kept."""

from __future__ import annotations

import errno
import logging
import os
import signal
import threading
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, archive
from tests.conftest import serving
from tests.flows.conftest import sandbox_settings
from warehouse import open_warehouse, start_run

SPAN = (date(2024, 1, 1), date(2024, 12, 31))


def _api_calls(counts: dict[str, int]) -> int:
    return sum(n for method, n in counts.items() if method != "media")


def test_ctrl_c_while_windows_are_fetched_stops_their_calls_at_once(tmp_path: Path) -> None:
    # four windows of ~1,000 messages in pages of 50, each call 0.2 s: ~8 s of calls apiece
    spec = AccountSpec(seed=5, messages=4000, start=SPAN[0], end=SPAN[1], dids=2)
    with serving(spec) as server:
        server.set_faults(FaultConfig(latency_s=0.2))
        settings = sandbox_settings(server, tmp_path / "data", voipms_page_limit=50)
        at_interrupt: list[int] = []

        def ctrl_c() -> None:
            at_interrupt.append(_api_calls(server.call_counts()))
            os.kill(os.getpid(), signal.SIGINT)  # as the terminal sends it: to the process

        timer = threading.Timer(1.5, ctrl_c)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                archive(settings, "backfill", *SPAN, PlainSteps())
        finally:
            timer.cancel()
        after = _api_calls(server.call_counts())
    # only the calls already on their way when it was said (at most the 4 in flight, and
    # one more that got its slot meanwhile): the windows in flight asked nothing further
    assert at_interrupt
    assert at_interrupt[0] > 4  # the windows were well under way
    assert after - at_interrupt[0] <= 6, (at_interrupt, after)
    con = duckdb.connect(str(settings.archive_path), read_only=True)
    try:
        assert con.execute("SELECT outcome FROM sync_runs").fetchall() == [("interrupted",)]
        assert con.execute("SELECT count(*) FROM raw_landing").fetchone() == (0,)
    finally:
        con.close()
    landing = settings.smsarchive_data_dir / "landing"
    assert [p for p in landing.rglob("*") if p.is_file()] == []  # no temp file left behind


@pytest.mark.usefixtures("prefect_server")
def test_a_prefect_run_that_fails_waits_for_its_windows_in_flight_to_end(tmp_path: Path) -> None:
    from prefect import flow

    from extract.voipms.client import VoipMsClient
    from extract.voipms.windows import Window
    from flows.api_client import api_client
    from flows.archive_flows import PrefectSteps

    spec = AccountSpec(seed=5, messages=200, start=SPAN[0], end=SPAN[1], dids=1)
    with serving(spec) as server:
        server.set_faults(FaultConfig(latency_s=1.0))
        settings = sandbox_settings(server, tmp_path / "data")
        futures: list[object] = []

        def fail_while_fetching(steps: PrefectSteps, client: VoipMsClient) -> None:
            with steps.fetching(1):
                window = Window(SPAN[0], date(2024, 3, 31))
                futures.append(steps.submit_prepare(client, window, [], settings, client.username))
                raise RuntimeError("a merge failed")

        @flow
        def failing_midway() -> None:
            with api_client(settings) as client:
                with pytest.raises(RuntimeError, match="a merge failed"):
                    fail_while_fetching(PrefectSteps(), client)
                # the window's task ended before the client closed under it
                assert all(f.wrapped_future.done() for f in futures)  # type: ignore[attr-defined]

        failing_midway()
    assert len(futures) == 1


class _DiskGoneSteps(PlainSteps):
    """Plain steps whose media step finds the disk gone: a run failing after its windows."""

    def media(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EIO, "Input/output error", "media")


def test_a_run_that_fails_after_archiving_windows_says_what_it_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = AccountSpec(seed=5, messages=600, start=SPAN[0], end=SPAN[1], dids=2)
    with serving(spec) as server, caplog.at_level(logging.WARNING, logger="smsarchive"):
        settings = sandbox_settings(server, tmp_path / "data")
        with pytest.raises(OSError, match="Input/output error"):
            archive(settings, "backfill", *SPAN, _DiskGoneSteps())
    con = duckdb.connect(str(settings.archive_path), read_only=True)
    try:
        (merged, inserted), *_ = con.execute(
            "SELECT windows_merged, messages_inserted FROM sync_runs"
        ).fetchall()
    finally:
        con.close()
    assert (merged, inserted) == (4, 600)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("before it")]
    # every window was archived: no days left to show
    assert said == ["before it failed, the backfill archived 4 windows (600 new, 0 changed)"]


class _StoppedTellingPrefect(PlainSteps):
    """Plain steps stopped (as by a kill) while they tell Prefect of the dead runs' flow runs;
    or, with `stop` False, noting what they were asked to tell."""

    def __init__(self, *, stop: bool) -> None:
        super().__init__()
        self.stop = stop
        self.told: list[tuple[str, ...]] = []

    def close_dead_flow_runs(self, flow_run_ids: Any) -> None:
        self.told.append(tuple(flow_run_ids))
        if self.stop:
            raise KeyboardInterrupt


def test_a_run_stopped_before_prefect_heard_of_a_dead_run_leaves_it_to_the_next(
    tmp_path: Path,
) -> None:
    spec = AccountSpec(seed=5, messages=60, start=SPAN[0], end=SPAN[1], dids=1)
    week = (date(2024, 3, 1), date(2024, 3, 7))
    with serving(spec) as server:
        settings = sandbox_settings(server, tmp_path / "data")
        con = open_warehouse(settings.archive_path)
        try:  # a run killed as a Prefect flow run: left 'running', its flow run Running
            start_run(con, "sync", flow_run_id="0b7e-dead")
        finally:
            con.close()
        stopped = _StoppedTellingPrefect(stop=True)
        with pytest.raises(KeyboardInterrupt):
            archive(settings, "backfill", *week, stopped)
        assert stopped.told == [("0b7e-dead",)]
        next_run = _StoppedTellingPrefect(stop=False)
        archive(settings, "backfill", *week, next_run)
    # the dead run was still to be told of, so the next run told of it
    assert next_run.told == [("0b7e-dead",)]
    con = duckdb.connect(str(settings.archive_path), read_only=True)
    try:
        outcomes = con.execute("SELECT outcome FROM sync_runs ORDER BY run_id").fetchall()
    finally:
        con.close()
    assert outcomes == [("interrupted",), ("interrupted",), ("ok",)]
