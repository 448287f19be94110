"""A Prefect server that stops answering at a run's end: the work is said, kept and let go."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import duckdb
import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_URL

from extract.voipms.sandbox.server import SandboxServer
from flows.logging_setup import PrefectOutageLines
from flows.unrecorded_ends import DONE, FILE
from tests.flows.conftest import sandbox_env
from tests.flows.test_cli_errors import _error_lines, _smsarchive
from tests.goes_dark_proxy import GoesDarkProxy
from warehouse import open_warehouse


@pytest.fixture
def dark_at_the_end() -> Iterator[GoesDarkProxy]:
    proxy = GoesDarkProxy(str(PREFECT_API_URL.value()))
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.mark.usefixtures("prefect_server")
def test_a_backfill_whose_prefect_server_dies_at_its_end_says_its_work_and_exits_0(
    sandbox: SandboxServer, tmp_path: Path, dark_at_the_end: GoesDarkProxy
) -> None:
    env = {
        **sandbox_env(sandbox, tmp_path),
        "PREFECT_API_URL": dark_at_the_end.url,
        "PREFECT_CLIENT_MAX_RETRIES": "0",  # Prefect's own retries take two minutes a call
    }
    result = _smsarchive(
        ("backfill", "--start", "2024-01-01", "--end", "2024-02-15"),
        cwd=tmp_path,
        env=env,
        timeout=240,
    )
    assert dark_at_the_end.dark.is_set(), result.stderr  # the server went away at the end
    assert result.returncode == 0, result.stderr
    assert _error_lines(result.stderr) == []
    assert result.stdout.startswith("backfill 2024-01-01..2024-02-15: "), result.stdout
    [warning] = [line for line in result.stderr.splitlines() if "before Prefect recorded" in line]
    assert "this run lost its Prefect server before Prefect recorded its end" in warning
    assert "the run's work is done (below); Prefect may show it running until the next" in warning
    assert "Error logging to API" not in result.stderr  # Prefect's own, unended
    # Prefect's own lines about the lost server: short, not the kilobytes of each event
    assert all(len(line) < 1000 for line in result.stderr.splitlines()), result.stderr
    with duckdb.connect(str(tmp_path / "archive.duckdb"), read_only=True) as con:
        [(archived,)] = con.execute("SELECT count(*) FROM messages").fetchall()
        [(outcome,)] = con.execute("SELECT outcome FROM sync_runs").fetchall()
    assert f"{archived:,} new messages" in result.stdout
    assert archived > 0
    assert outcome == "ok"


def _record(message: str, *args: object, at: float) -> logging.LogRecord:
    record = logging.LogRecord("prefect", logging.ERROR, __file__, 1, message, args, None)
    record.created = at
    return record


def test_prefects_lines_about_a_lost_server_are_short_and_said_once_in_ten_minutes() -> None:
    lines = PrefectOutageLines()
    event = "Event(" + "x" * 5000 + ")"
    first = _record(PrefectOutageLines.UNSENT, "EventsWorker", event, at=1000.0)
    assert lines.filter(first)
    assert first.getMessage() == (
        "Service 'EventsWorker' could not send an item to the Prefect API (more are not shown)"
    )
    assert not lines.filter(_record(PrefectOutageLines.UNSENT, "EventsWorker", event, at=1007.0))
    no_socket = (
        "Unable to connect to %r. Please check your network settings to ensure websocket "
        "connections to the API are allowed. Otherwise event data (including task run data) "
        "may be lost. Reason: %s. Set PREFECT_DEBUG_MODE=1 to see the full error."
    )
    said = _record(no_socket, "ws://127.0.0.1:1/api/events/in", "refused", at=1001.0)
    assert lines.filter(said)
    assert said.getMessage() == (
        "Unable to connect to 'ws://127.0.0.1:1/api/events/in' (refused): the run's events may "
        "not reach the Prefect server (more are not shown)"
    )
    assert not lines.filter(
        _record(no_socket, "ws://127.0.0.1:1/api/events/in", "refused", at=1008.0)
    )
    assert lines.filter(_record("Finished in state %s", "Completed()", at=1009.0))
    later = _record(PrefectOutageLines.UNSENT, "EventsWorker", event, at=1000.0 + 601)
    assert lines.filter(later)  # a later outage, in a long-lived serve, is said again


def test_once_the_command_has_said_the_server_is_gone_prefects_lines_are_not_shown() -> None:
    from flows.prefect_outage import drop_undeliverable_events

    lines = PrefectOutageLines()
    drop_undeliverable_events()  # as a command does once it has said the server is gone
    assert PrefectOutageLines.HUSHED.is_set()
    assert not lines.filter(_record(PrefectOutageLines.UNSENT, "EventsWorker", "E", at=1000.0))
    assert not lines.filter(_record(PrefectOutageLines.NO_SOCKET, "ws://x", at=1000.0))
    other = _record("Finished in state %s", "Completed()", at=1000.0)
    assert lines.filter(other)  # a line about anything else still passes


@pytest.mark.usefixtures("prefect_server")
def test_a_server_back_before_the_works_end_is_said_back_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from prefect import flow

    from flows.prefect_outage import work_done

    @flow
    def body_done() -> int:
        return work_done(1)

    PrefectOutageLines.SAID.clear()
    said = logging.getLogger("flows.prefect_outage")
    # caught here, whether or not an earlier CLI run stopped our loggers' propagation
    said.addHandler(caplog.handler)
    propagates, said.propagate = said.propagate, False
    try:
        with caplog.at_level(logging.INFO, logger=said.name):
            assert body_done() == 1  # no line about a lost server came: nothing to say back
            assert "answers again" not in caplog.text
            lines = PrefectOutageLines()
            unsent = _record(PrefectOutageLines.UNSENT, "EventsWorker", "Event()", at=1000.0)
            assert lines.filter(unsent)
            again = _record(PrefectOutageLines.UNSENT, "EventsWorker", "E", at=1001.0)
            assert not lines.filter(again)  # not shown, and still noted
            assert PrefectOutageLines.SAID.is_set()
            assert body_done() == 1
            assert body_done() == 1
    finally:
        said.removeHandler(caplog.handler)
        said.propagate = propagates
    [back] = [r.getMessage() for r in caplog.records if "answers again" in r.getMessage()]
    assert back == (
        f"the Prefect server at {PREFECT_API_URL.value()} answers again: the work is done and "
        "kept, and Prefect records the run's end; what it could not send meanwhile (some "
        "events and log lines of this run) is missing from the Prefect UI"
    )


def test_serves_runner_losing_its_event_sockets_is_said_without_prefects_upgrade_advice() -> None:
    lines = PrefectOutageLines()
    emitter = (  # Prefect 3.8's, as serve's runner logs it when its server goes
        "Unable to connect to the events WebSocket (%s). Event data will not be emitted for "
        "this runner; the flow run will continue. Upgrade the Prefect client to >=3.6.14 to "
        "restore event support if the server has authentication configured."
    )
    refused = "[Errno 111] Connect call failed ('127.0.0.1', 4710)"
    said = _record(emitter, refused, at=1000.0)
    assert lines.filter(said)
    assert said.getMessage() == (
        f"Unable to connect to the events WebSocket ({refused}): serve's runner sends no "
        "events (more are not shown); its runs go on"
    )
    assert not lines.filter(_record(emitter, refused, at=1030.0))
    stream = (
        "Failed to connect to the events stream. Falling back to polling for cancellation "
        "events. Reason: %s"
    )
    assert lines.filter(_record(stream, refused, at=1000.0))
    assert not lines.filter(_record(stream, refused, at=1030.0))  # once in ten minutes


@pytest.mark.usefixtures("prefect_server")
def test_an_export_whose_prefect_server_dies_at_its_end_is_made_current_and_said(
    tmp_path: Path, dark_at_the_end: GoesDarkProxy
) -> None:
    open_warehouse(tmp_path / "archive.duckdb").close()
    env = {
        "SMSARCHIVE_DATA_DIR": str(tmp_path),
        "PREFECT_API_URL": dark_at_the_end.url,
        "PREFECT_CLIENT_MAX_RETRIES": "0",
    }
    result = _smsarchive(("export", "--out", str(tmp_path / "out")), cwd=tmp_path, env=env)
    assert dark_at_the_end.dark.is_set(), result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"exported to {tmp_path / 'out' / 'current'} "), result.stdout
    assert "before Prefect recorded its end" in result.stderr
    assert (tmp_path / "out" / "current" / "_manifest.json").is_file()
    # the run's end is noted in the data dir, for the next run to record
    [note] = json.loads((tmp_path / FILE).read_text())
    assert note["api_url"] == dark_at_the_end.url
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(UUID(note["flow_run_id"])).state_type == StateType.RUNNING

    dark_at_the_end.come_back()  # the server is back
    again = _smsarchive(("export", "--out", str(tmp_path / "out")), cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert "1 Prefect flow run whose end the server had missed marked Completed" in again.stderr
    assert not (tmp_path / FILE).exists()
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(note["flow_run_id"])).state
    assert state is not None
    assert state.type == StateType.COMPLETED
    assert state.message == DONE


@pytest.mark.usefixtures("prefect_server")
def test_a_server_gone_as_the_work_ends_is_said_at_once_and_tried_once_more_only(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    proxy = GoesDarkProxy(str(PREFECT_API_URL.value()), at_health_check=True)
    try:
        env = {**sandbox_env(sandbox, tmp_path), "PREFECT_API_URL": proxy.url}
        # Prefect's own 5 retries would take two minutes for each of two calls
        result = _smsarchive(
            ("backfill", "--start", "2024-01-01", "--end", "2024-01-31"),
            cwd=tmp_path,
            env=env,
            timeout=100,
        )
    finally:
        proxy.close()
    assert proxy.dark.is_set(), result.stderr
    assert result.returncode == 0, result.stderr
    said = result.stderr
    assert f"the Prefect server at {proxy.url} stopped answering during the run" in said
    assert "the work is done and kept; Prefect tries once more" in said
    assert said.index("stopped answering during") < said.index("before Prefect recorded")
    assert result.stdout.startswith("backfill 2024-01-01..2024-01-31: ")


def test_a_body_error_under_prefects_own_is_the_one_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from extract.voipms.errors import ConnectionFailedError
    from flows.prefect_outage import kept_if_prefect_stops

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    body = ConnectionFailedError("connection_error", "getSMS")

    def failed_then_unrecorded() -> None:
        try:
            raise body
        except ConnectionFailedError:  # Prefect records the failure: no server
            raise RuntimeError("Failed to reach API at http://127.0.0.1:9/api/") from None

    with pytest.raises(ConnectionFailedError) as raised:
        kept_if_prefect_stops(failed_then_unrecorded, tmp_path)
    assert raised.value is body

    def unrecorded_alone() -> None:
        raise RuntimeError("Failed to reach API at http://127.0.0.1:9/api/")

    with pytest.raises(RuntimeError, match="Failed to reach API"):
        kept_if_prefect_stops(unrecorded_alone, tmp_path)

    def refused_under_prefects_own() -> None:  # as a server gone before the flow run began
        try:
            httpx.get("http://127.0.0.1:9/api/health", timeout=2)
        except httpx.ConnectError as refused:
            raise RuntimeError("Failed to reach API at http://127.0.0.1:9/api/") from refused

    with pytest.raises(RuntimeError, match="Failed to reach API") as prefects:
        kept_if_prefect_stops(refused_under_prefects_own, tmp_path)
    # httpx's error and the httpcore and socket errors under it are the connection's
    assert isinstance(prefects.value.__cause__, httpx.ConnectError)


def test_a_log_batch_prefect_cannot_send_writes_nothing_of_its_own(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import temporary_settings

    from flows.logging_setup import send_logs_to_prefect

    monkeypatch.setattr(logging, "raiseExceptions", True)  # restored: each flow turns it off
    # a closed port, as a server gone at any moment of a run (in Prefect's own thread, before
    # the run can know): Prefect's unended "--- Error logging to API ---" is not written
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        send_logs_to_prefect()
        worker = APILogWorker.instance()
        worker.send({"name": "flows", "level": 20, "message": "archived", "timestamp": "now"})
        worker.drain()
    assert not logging.raiseExceptions
    assert "Error logging to API" not in capfd.readouterr().err


@pytest.mark.usefixtures("prefect_server")
def test_ctrl_c_after_the_work_with_the_server_up_is_an_interruption(tmp_path: Path) -> None:
    from flows.prefect_outage import kept_if_prefect_stops, work_done

    def done_then_stopped() -> None:
        work_done({"messages": 1})
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        kept_if_prefect_stops(done_then_stopped, tmp_path)


def _failed(name: str, error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord(name, logging.WARNING, __file__, 1, "%s failed", ("it",), exc_info)


def test_prefects_lines_about_a_lost_connection_carry_no_traceback() -> None:
    lines = PrefectOutageLines()
    refused = _failed("prefect.FlowRunCancellingObserver", ConnectionRefusedError(111, "refused"))
    assert lines.filter(refused)
    assert refused.exc_info is None
    assert refused.getMessage() == "it failed (ConnectionRefusedError: [Errno 111] refused)"
    # any other error of Prefect's, and a lost connection of ours, keep their tracebacks
    own = _failed("prefect.runner", ValueError("a bug"))
    ours = _failed("smsarchive", ConnectionRefusedError(111, "refused"))
    assert lines.filter(own)
    assert lines.filter(ours)
    assert own.exc_info is not None
    assert ours.exc_info is not None
    # asyncio on a callback that met its task cancelled (Prefect's runner, as serve stops)
    assert not lines.filter(_failed("asyncio", asyncio.CancelledError()))
    assert lines.filter(_failed("asyncio", RuntimeError("a real one")))


def test_a_server_behind_a_proxy_that_answers_502_answers_but_is_not_healthy() -> None:
    from flows.prefect_outage import prefect_answers
    from tests.media.media_server import MediaServer, send

    status = [502]
    with MediaServer() as server:
        health = server.add(lambda handler, _: send(handler, b"", status=status[0]), "health")
        url = health.removesuffix("/health")
        assert prefect_answers(url)  # an answer: not a server gone
        assert not prefect_answers(url, healthy=True)  # but nothing to serve against yet
        status[0] = 200
        assert prefect_answers(url, healthy=True)
        assert server.route(health).hits == 3
