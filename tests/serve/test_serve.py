"""`smsarchive serve`: the nightly deployment has its cron, and a scheduled run of it completes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import httpx
import psutil
import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    LogFilter,
    LogFilterTimestamp,
)
from prefect.client.schemas.objects import ConcurrencyLimitStrategy
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.schedule import deployment_name, next_run_at, nightly_schedule
from flows.settings import Settings
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.conftest import sandbox_env
from tests.goes_dark_proxy import GoesDarkProxy

TIMEZONE = "America/New_York"
EVERY_MINUTE = "* * * * *"
RUN_TIMEOUT_SECONDS = 120.0


def test_default_schedule_is_daily_at_three_in_the_account_zone() -> None:
    settings = Settings(_env_file=None, voipms_account_timezone="Europe/Paris")  # type: ignore[call-arg]
    schedule = nightly_schedule(settings)
    assert settings.smsarchive_schedule_cron == "0 3 * * *"
    assert schedule.cron == "0 3 * * *"
    assert schedule.timezone == "Europe/Paris"


def test_the_next_run_is_read_in_the_account_zone_as_the_server_reads_the_cron() -> None:
    settings = Settings(_env_file=None, voipms_account_timezone="Europe/Paris")  # type: ignore[call-arg]
    first = next_run_at(settings, datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    assert first.isoformat() == "2026-12-08T03:00:00+01:00"
    weekly = settings.model_copy(
        update={"smsarchive_schedule_cron": "30 2 * * 0", "voipms_account_timezone": TIMEZONE}
    )
    # the Sunday after, at 02:30 in New York: 07:30 UTC
    first = next_run_at(weekly, datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    assert first.isoformat() == "2026-12-13T02:30:00-05:00"


def test_each_data_dir_and_account_is_served_as_its_own_deployment(tmp_path: Path) -> None:
    def name(data_dir: Path, username: str) -> str:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, smsarchive_data_dir=data_dir, voipms_api_username=username
        )
        return deployment_name(settings)

    alice = name(tmp_path / "data", "alice@example.com")
    assert alice.startswith("smsarchive-nightly-")
    assert alice == name(tmp_path / "data", "alice@example.com")  # the next serve resumes it
    assert alice != name(tmp_path / "data", "bob@example.com")
    assert alice != name(tmp_path / "other", "alice@example.com")


@pytest.fixture(scope="module")
def recent_sandbox() -> Iterator[SandboxServer]:
    """A sandbox whose history ends today, so that a sync (the last days) finds messages."""
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    account = SandboxAccount.generate(
        AccountSpec(
            seed=3,
            messages=300,
            start=today - timedelta(days=30),
            end=today,
            dids=2,
            mms_share=0.2,
        )
    )
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    try:
        yield server
    finally:
        server.stop()


def _start_serve(
    tmp_path: Path,
    env: dict[str, str],
    log_path: Path,
    *,
    own_group: bool,
    sigint_ignored: bool = False,
) -> subprocess.Popen[bytes]:
    """`smsarchive serve` started in `tmp_path`, stdout and stderr in `log_path`; with
    `sigint_ignored`, as a script's `smsarchive serve &` starts it (SIGINT ignored)."""
    argv = [str(Path(sys.executable).with_name("smsarchive")), "serve"]
    if sigint_ignored:
        argv = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *argv]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            argv,
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )


@pytest.fixture
def serving(
    prefect_server: None, recent_sandbox: SandboxServer, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`smsarchive serve` in a child process, against the test Prefect server and the sandbox."""
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        **sandbox_env(recent_sandbox, data_dir),
        "VOIPMS_ACCOUNT_TIMEZONE": TIMEZONE,
        "SMSARCHIVE_SCHEDULE_CRON": EVERY_MINUTE,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
    }
    process = _start_serve(tmp_path, env, tmp_path / "serve.log", own_group=False)
    try:
        yield process, data_dir
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _name(data_dir: Path) -> str:
    """The deployment `serve` makes for the sandbox's account into `data_dir`."""
    return deployment_name(
        Settings(  # type: ignore[call-arg]
            _env_file=None, smsarchive_data_dir=data_dir, voipms_api_username=SANDBOX_USERNAME
        )
    )


def _deployment(client: Any, process: subprocess.Popen[bytes], log: Path, data_dir: Path) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            return client.read_deployment_by_name(f"nightly/{_name(data_dir)}")
        except ObjectNotFound:  # not registered yet
            time.sleep(0.5)
    pytest.fail(f"the deployment never appeared:\n{log.read_text(errors='replace')}")


def _scheduled_run_fired(
    client: Any, deployment: Any, process: subprocess.Popen[bytes], log: Path
) -> list[Any]:
    """The deployment's runs, once one fired by serve's runner has ended (or after
    RUN_TIMEOUT_SECONDS). Prefect's test server runs no scheduler service (not one an
    ephemeral server starts), so the server is asked to do the scheduler's job for the
    minute just gone: it derives the run from the deployment's own cron."""
    now = datetime.now(UTC)
    response = client._client.post(
        f"/deployments/{deployment.id}/schedule",
        json={
            "start_time": (now - timedelta(seconds=61)).isoformat(),
            "end_time": now.isoformat(),
            "min_runs": 1,
            "max_runs": 1,
        },
    )
    response.raise_for_status()
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    runs: list[Any] = []
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
        )
        if any(run.state is not None and run.state.is_final() for run in runs):
            break
        time.sleep(1)
    return runs


@pytest.mark.slow
def test_a_scheduled_run_fires_and_completes(
    serving: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    process, data_dir = serving
    log = tmp_path / "serve.log"
    started = datetime.now(UTC)
    with get_client(sync_client=True) as client:
        deployment = _deployment(client, process, log, data_dir)
        # The cron from the setting, in the account's zone; runs never overlap.
        [schedule] = deployment.schedules
        assert schedule.active
        assert schedule.schedule.cron == EVERY_MINUTE
        assert schedule.schedule.timezone == TIMEZONE
        assert deployment.global_concurrency_limit.limit == 1
        assert deployment.concurrency_options.collision_strategy == (
            ConcurrencyLimitStrategy.CANCEL_NEW
        )
        runs = _scheduled_run_fired(client, deployment, process, log)
    states = [(run.name, run.state_name, run.state and run.state.message) for run in runs]
    [run] = runs
    assert run.state is not None, states
    assert run.state.is_completed(), (states, log.read_text(errors="replace"))
    assert run.auto_scheduled
    assert run.expected_start_time.second == 0  # a minute of the cron
    with duckdb.connect(str(data_dir / "archive.duckdb"), read_only=True) as con:
        messages = con.execute("SELECT count(*) FROM messages").fetchone()
        syncs = con.execute(
            "SELECT count(*) FROM sync_runs WHERE kind = 'sync' AND outcome = 'ok'"
        ).fetchone()
    assert messages is not None
    assert messages[0] > 0
    assert syncs == (1,)
    assert (data_dir / "export" / "current" / "messages").is_dir()
    assert any((data_dir / "reports").iterdir())
    # what the run said reached the run's log in Prefect (here: its first sync's advice)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(  # the test server holds every other test's logs too
            log_filter=LogFilter(timestamp=LogFilterTimestamp(after_=started)), limit=200
        )
    said = [log.message for log in logs]
    assert any("sync fetches today and the" in message for message in said), said
    assert any(message.startswith("nightly: windows: ") for message in said), said
    # stopped as systemd stops it (SIGTERM), idle between runs: serve pauses its schedule and
    # ends as on Ctrl-C, a normal stop (Prefect's own SIGTERM handler said nothing of it)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    ended = log.read_text(errors="replace")
    assert process.returncode == 0, ended
    assert "serve stopped" in ended
    assert "never awaited" not in ended
    with get_client(sync_client=True) as client:
        assert client.read_deployment(deployment.id).paused, ended


def _serve_env(tmp_path: Path, prefect_home: Path) -> dict[str, str]:
    """`serve`'s environment: no Prefect server named, Prefect's home and a data dir here."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    return env | {
        "PREFECT_HOME": str(prefect_home),
        "VOIPMS_API_USERNAME": SANDBOX_USERNAME,
        "VOIPMS_API_PASSWORD": SANDBOX_PASSWORD,
        "SMSARCHIVE_DATA_DIR": str(tmp_path / "data"),
    }


def _serve_once(
    tmp_path: Path, env: dict[str, str], *, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`smsarchive serve` run to its end (one that is refused ends at once)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("smsarchive")), "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _serve_in_background(
    tmp_path: Path, env: dict[str, str], log_path: Path, *, sigint_ignored: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    """`smsarchive serve` started, its output in `log_path`, in a process group of its own
    (as a terminal's foreground job); returns it with its Prefect API once it is serving."""
    process = _start_serve(tmp_path, env, log_path, own_group=True, sigint_ignored=sigint_ignored)
    try:
        said = _said(log_path, "serving nightly", process)
    except BaseException:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return process, _api_of(said)


def _said(log_path: Path, text: str, process: subprocess.Popen[bytes], *, times: int = 1) -> str:
    """serve's output once `text` is in it `times` times (it failing meanwhile, or not
    saying it within two minutes, fails the test)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        said = log_path.read_text(errors="replace")
        if said.count(text) >= times:
            return said
        assert process.poll() is None, said
        time.sleep(0.5)
    pytest.fail(f"serve never said {text!r} {times} times:\n{said}")


def _api_of(said: str) -> str:
    """The Prefect API named in serve's last `serving nightly` line."""
    *_, line = (line for line in said.splitlines() if line.startswith("serving nightly"))
    return line.split("Prefect API ")[1].split(";")[0]


def _ended_by(process: subprocess.Popen[bytes], end: Callable[[], object]) -> float:
    """`end()`, then the seconds until serve exited (killed, with its group, after 90)."""
    began = time.monotonic()
    try:
        end()
        process.wait(timeout=90)
        return time.monotonic() - began
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _prefect_server_of(process: subprocess.Popen[bytes]) -> psutil.Process:
    """The `prefect server start` child of a `serve`."""
    [server] = [
        child
        for child in psutil.Process(process.pid).children()
        if "server" in child.cmdline() and "start" in child.cmdline()
    ]
    return server


def test_a_prefect_home_that_cannot_be_written_is_one_error_line(tmp_path: Path) -> None:
    # a service user whose home is missing or not its own: Prefect could keep no database
    in_the_way = tmp_path / "a file"
    in_the_way.write_text("not a folder")
    served = _serve_once(tmp_path, _serve_env(tmp_path, in_the_way / ".prefect"), timeout=120)
    assert served.returncode == 1, served.stderr
    assert "Traceback" not in served.stderr
    assert [line for line in served.stderr.splitlines() if line.startswith("error:")] == [
        f"error: the Prefect server keeps its database in {in_the_way / '.prefect'} "
        "(PREFECT_HOME), which cannot be made or written by this user: set PREFECT_HOME to a "
        "folder it can write, or PREFECT_API_URL to a Prefect server that runs"
    ]
    assert not (tmp_path / "data" / "prefect-server.log").exists()


def test_without_an_api_url_serve_starts_and_stops_its_own_prefect_server(
    tmp_path: Path,
) -> None:
    env = _serve_env(tmp_path, tmp_path / "prefect-home")
    log_path = tmp_path / "serve.log"
    process, api_url = _serve_in_background(tmp_path, env, log_path)
    try:
        assert (tmp_path / "data" / "prefect-server.log").is_file()
        # serving is said once the deployment is on the server, with when it first runs
        said = log_path.read_text(errors="replace")
        assert re.search(r"next run \d{4}-\d\d-\d\d 03:00 E[SD]T; Prefect API", said), said
        answer = httpx.post(f"{api_url}/deployments/filter", json={}, timeout=5)
        found = [d for d in answer.json() if d["name"] == _name(tmp_path / "data")]
        [deployment] = found
        assert deployment["schedules"][0]["schedule"]["cron"] == "0 3 * * *"
        # its server forgets flow runs past Prefect's retention: its database stays bounded
        settings = httpx.get(f"{api_url}/admin/settings", timeout=5).json()
        vacuum = settings["server"]["services"]["db_vacuum"]["enabled"]
        assert set(vacuum) == {"events", "flow_runs"}, vacuum
        # the server is out of reach of the terminal's Ctrl-C, which serve passes on last
        server = _prefect_server_of(process)
        assert os.getsid(server.pid) != os.getsid(process.pid)
        # it never calls VoIP.ms: the password is not in its environment (/proc/PID/environ)
        assert "VOIPMS_API_PASSWORD" not in server.environ()
        assert "VOIPMS_API_USERNAME" in server.environ()  # the rest of serve's is
        # a second serve of the same archive is refused: one schedule, one runner
        second = _serve_once(tmp_path, env, timeout=60)
        assert second.returncode != 0
        assert "another smsarchive run is serving this archive's schedule" in second.stderr
        assert f"process {process.pid}" in second.stderr
    finally:
        # the terminal closed: its group gets SIGHUP, and serve stops its server as it goes
        os.killpg(process.pid, signal.SIGHUP)
        process.wait(timeout=60)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api_url}/health", timeout=2)
    said = log_path.read_text(errors="replace")
    # a normal stop, not an error
    assert process.returncode == 0, said
    assert "serve stopped" in said
    assert "error:" not in said
    assert "ConnectionRefusedError" not in said  # the server outlived the schedule's pause


def test_the_prefect_server_a_killed_serve_left_is_stopped_by_the_next(tmp_path: Path) -> None:
    env = _serve_env(tmp_path, tmp_path / "prefect-home")
    first, _ = _serve_in_background(tmp_path, env, tmp_path / "first.log")
    left = _prefect_server_of(first)
    os.kill(first.pid, signal.SIGKILL)  # the OOM killer: serve cannot stop its server
    first.wait(timeout=30)
    assert left.is_running()  # out of serve's session: left running
    log_path = tmp_path / "second.log"
    second, api_url = _serve_in_background(tmp_path, env, log_path)
    try:
        said = log_path.read_text(errors="replace")
        assert f"stopping the Prefect server (process {left.pid}" in said, said
        assert not left.is_running() or left.status() == psutil.STATUS_ZOMBIE
        assert httpx.get(f"{api_url}/health", timeout=5).status_code == 200
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
        if left.is_running():  # this test failing: no server of it outlives it
            left.kill()
    # stopped with serve as ever; nothing noted is left for a next serve to stop
    assert not (tmp_path / "data" / ".prefect-server.json").exists()


def test_a_prefect_server_that_dies_under_serve_is_started_again_up_to_a_limit(
    tmp_path: Path,
) -> None:
    env = _serve_env(tmp_path, tmp_path / "prefect-home")
    log_path = tmp_path / "serve.log"
    server_log = tmp_path / "data" / "prefect-server.log"
    process, _ = _serve_in_background(tmp_path, env, log_path)
    try:
        first = _prefect_server_of(process)
        first.kill()  # the OOM killer, say
        said = _said(log_path, "serving nightly", process, times=2)
        assert "WARNING the Prefect server exited (code -9): serving stops" in said
        assert (
            "WARNING starting a Prefect server again; why the last one exited (code -9): see "
            f"{server_log} (restart 1 of 3 allowed within an hour)"
        ) in said
        assert "could not be paused" not in said
        second = _prefect_server_of(process)
        assert second.pid != first.pid
        api_url = _api_of(said)
        answer = httpx.post(f"{api_url}/deployments/filter", json={}, timeout=5)
        [deployment] = [d for d in answer.json() if d["name"] == _name(tmp_path / "data")]
        assert not deployment["paused"]  # its schedule goes on
        # a server that keeps dying ends serve, as it did before restarts
        for restarted in (2, 3):
            _prefect_server_of(process).kill()
            _said(log_path, "serving nightly", process, times=restarted + 1)
        _ended_by(process, _prefect_server_of(process).kill)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    said = log_path.read_text(errors="replace")
    assert process.returncode == 1, said
    assert "Traceback" not in said
    assert "serve stopped (and" not in said  # not said as a normal stop
    [error] = [line for line in said.splitlines() if line.startswith("error:")]
    assert re.fullmatch(
        r"error: serve stopped: the Prefect server it started exited \(code -9\) at "
        rf"\d\d:\d\d:\d\d; see {re.escape(str(server_log))}\. Start serve again to go on "
        r"\(it had been started again 3 times within the hour\)",
        error,
    ), said
    assert len(said.splitlines()) < 30, said


def test_restarts_are_allowed_three_times_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.serve_command import _Restarts

    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    restarts = _Restarts()
    assert [restarts.another() for _ in range(4)] == [True, True, True, False]
    assert restarts.made == 3
    now[0] += 3599
    assert not restarts.another()
    now[0] += 2  # the three are more than an hour old
    assert restarts.another()
    assert restarts.made == 1


@pytest.mark.usefixtures("prefect_server")
def test_a_named_prefect_server_that_stops_answering_is_waited_for(
    tmp_path: Path, recent_sandbox: SandboxServer
) -> None:
    proxy = GoesDarkProxy(str(PREFECT_API_URL.value()))
    log_path = tmp_path / "serve.log"
    data_dir = tmp_path / "data"
    try:
        env = {
            **_serve_env(tmp_path, tmp_path / "prefect-home"),
            **sandbox_env(recent_sandbox, data_dir),
            "VOIPMS_ACCOUNT_TIMEZONE": TIMEZONE,
            "SMSARCHIVE_SCHEDULE_CRON": EVERY_MINUTE,
            "PREFECT_API_URL": proxy.url,
        }
        process, api_url = _serve_in_background(tmp_path, env, log_path)
        assert api_url == proxy.url
        went = time.monotonic()
        proxy.go_dark()  # as a server killed, or its machine gone
        waiting = f"waiting for the Prefect server at {proxy.url} to answer again"
        said = _said(log_path, waiting, process)
        # a server back within 15 s (restarted, say) would have been kept
        assert time.monotonic() - went >= 15
        assert "WARNING the Prefect server stopped answering (for 15 s): serving stops" in said
        proxy.come_back()  # the server is back
        said = _said(log_path, "serving nightly", process, times=2)
        assert f"the Prefect server at {proxy.url} answers again: serving again" in said
        assert "could not be paused" not in said  # serving was cut, not stopped: none tried
        assert "Upgrade the Prefect client" not in said
        # and serving goes on: the next scheduled run fires and completes
        with get_client(sync_client=True) as client:
            deployment = _deployment(client, process, log_path, data_dir)
            runs = _scheduled_run_fired(client, deployment, process, log_path)
        states = [(run.name, run.state_name, run.state and run.state.message) for run in runs]
        assert any(run.state is not None and run.state.is_completed() for run in runs), (
            states,
            log_path.read_text(errors="replace"),
        )
        _ended_by(process, partial(process.send_signal, signal.SIGTERM))
    finally:
        proxy.close()
    said = log_path.read_text(errors="replace")
    assert process.returncode == 0, said
    assert "serve stopped" in said
    assert "Traceback" not in said
    assert "error:" not in said


@pytest.mark.usefixtures("prefect_server")
def test_serve_started_with_sigint_ignored_stops_on_sigterm_also_while_its_server_is_gone(
    tmp_path: Path,
) -> None:
    # `smsarchive serve &` in a script: the shell starts it with SIGINT ignored, which serve
    # used to turn SIGTERM into (and its server watch), so that nothing but SIGKILL stopped it
    proxy = GoesDarkProxy(str(PREFECT_API_URL.value()))
    try:
        env = _serve_env(tmp_path, tmp_path / "prefect-home") | {"PREFECT_API_URL": proxy.url}
        for stopped_by in ("SIGTERM", "its server gone"):
            log_path = tmp_path / "serve.log"
            process, _ = _serve_in_background(tmp_path, env, log_path, sigint_ignored=True)
            if stopped_by == "its server gone":  # serving is cut; serve waits for it
                proxy.go_dark()
                _said(log_path, "waiting for the Prefect server at", process)
            _ended_by(process, partial(process.send_signal, signal.SIGTERM))
            said = log_path.read_text(errors="replace")
            assert process.returncode == 0, said
            assert "serve stopped" in said
            assert "Traceback" not in said
    finally:
        proxy.close()


def _served_then(name: str, then: Callable[[Any, Any], Awaitable[None]]) -> None:
    """`nightly` served as deployment `name-<hex>` by serve's runner, `then(runner,
    deployment_id)`, and the runner left as serve's stop leaves it (pausing what it serves)."""
    import asyncio
    from uuid import uuid4

    from prefect.deployments.runner import RunnerDeployment
    from prefect.types.entrypoint import EntrypointType

    from flows.schedule import nightly
    from flows.serve_command import _Runner, _Stop

    async def served() -> None:
        runner = _Runner(_Stop(), pause_on_shutdown=True, limit=1)  # no SIGTERM comes
        async with runner:
            deployment = RunnerDeployment.from_flow(
                nightly,
                name=f"{name}-{uuid4().hex[:8]}",
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
            await then(runner, await runner.aadd_deployment(deployment))

    asyncio.run(served())


@pytest.mark.usefixtures("prefect_server")
def test_a_deployment_deleted_while_served_is_no_error_when_serve_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def deleted(runner: Any, deployment_id: Any) -> None:
        await runner._client.delete_deployment(deployment_id)

    _served_then("deleted", deleted)
    assert "was deleted while served: no schedule to pause" in caplog.text


@pytest.mark.usefixtures("prefect_server")
def test_a_server_gone_when_serve_stops_is_a_warning_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{probe.getsockname()[1]}/api/"

    async def server_gone(runner: Any, deployment_id: Any) -> None:
        runner._client._client.base_url = gone  # the server stops answering

    with temporary_settings(updates={PREFECT_CLIENT_MAX_RETRIES: 0}):
        _served_then("gone", server_gone)
    assert "could not be paused (the Prefect server does not answer" in caplog.text


def test_sigterm_and_sighup_stop_serve_from_its_first_moment() -> None:
    import signal as signals

    from flows.serve_command import _Stop, stop_signals

    for sig in (signals.SIGTERM, signals.SIGHUP):
        before = signals.getsignal(sig)
        stop = _Stop()
        # before serving began (the deployment still being registered), in the main thread
        with pytest.raises(KeyboardInterrupt), stop_signals(stop):
            signals.raise_signal(sig)
        assert signals.getsignal(sig) == before  # put back as serve ends
