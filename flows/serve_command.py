"""`smsarchive serve`: the nightly deployment on its cron, with a local Prefect server if needed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import typer
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import ObjectNotFound
from prefect.runner import Runner
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_HOME,
    get_current_settings,
    temporary_settings,
)
from prefect.types.entrypoint import EntrypointType

from flows.dead_flow_runs import close_runs_of_a_stopped_serve
from flows.logging_setup import OUR_LOGGERS
from flows.prefect_outage import prefect_answers
from flows.prefect_results import results_folder
from flows.schedule import (
    ONE_AT_A_TIME,
    deployment_name,
    next_run_at,
    nightly,
    nightly_schedule,
)
from flows.settings import Settings, without_login
from warehouse.writer_lock import serve_lock

logger = logging.getLogger("smsarchive")

DEFAULT_PORT = 4200
"""Prefect's usual port: the UI is then where Prefect's docs say it is."""
SERVER_STARTUP_SECONDS = 120.0
SERVER_LOG = "prefect-server.log"
SERVER_ARGV = [sys.executable, "-P", "-m", "prefect", "server", "start", "--host", "127.0.0.1"]


class PrefectServerError(ValueError):
    """The local Prefect server `serve` started did not come up."""


class PrefectServerGone(PrefectServerError):
    """The Prefect server serve ran against went away while it served: this message when that
    ends serve, `again` when serve goes on (`named`, the API of a server not serve's own, to
    wait for; None for serve's own, which is started again)."""

    def __init__(self, message: str, *, again: str, named: str | None) -> None:
        super().__init__(message)
        self.again = again
        self.named = named


def serve_nightly(settings: Settings) -> None:
    """Serve `nightly` on SMSARCHIVE_SCHEDULE_CRON until Ctrl-C or SIGTERM.

    Runs never overlap: this process starts at most one run at a time (`limit=1`: a run
    that comes due while one is running starts late, once it ends), and the deployment's
    concurrency limit of 1 cancels one started elsewhere meanwhile (`prefect deployment
    run`). A Prefect server lost while serving is started again (serve's own, up to
    `_Restarts.LIMIT` times an hour) or waited for (one named by PREFECT_API_URL), and
    serving begins again.
    """
    schedule = nightly_schedule(settings)
    # Each run is a child process with Prefect's logging, not ours: our records (windows
    # skipped, what the API sent that was new, media left for later) go to the Prefect API,
    # so a scheduled run's log in the UI says what the run said on a terminal.
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", ",".join(OUR_LOGGERS))
    # and what Prefect records of a failed run stays in the data dir (flows.prefect_results)
    os.environ.setdefault(
        "PREFECT_LOCAL_STORAGE_PATH", str(results_folder(settings.smsarchive_data_dir))
    )
    name = deployment_name(settings)
    stop = _Stop()
    restarts = _Restarts()
    with serve_lock(settings.smsarchive_data_dir), stop_signals(stop):
        while True:
            try:
                _serve_round(settings, name, schedule, stop)
                return
            except PrefectServerGone as gone:
                if stop.asked:  # stopped meanwhile: the stop asked for, the loss said above
                    raise KeyboardInterrupt from None
                theirs = gone.named
                if theirs is not None:
                    logger.warning("%s", gone.again)
                elif restarts.another():
                    logger.warning(
                        "%s (restart %d of %d allowed within an hour)",
                        gone.again,
                        restarts.made,
                        restarts.LIMIT,
                    )
                else:
                    raise PrefectServerError(
                        f"{gone} (it had been started again {restarts.LIMIT} times within the hour)"
                    ) from None
            if theirs is not None:  # waited for out of the handler, which holds the last round
                _wait_until_it_answers(theirs, stop)


def _serve_round(settings: Settings, name: str, schedule: Any, stop: _Stop) -> None:
    """Serve until stopped, or until the Prefect server is gone (PrefectServerGone)."""
    stop.new_round()
    with prefect_api(settings.smsarchive_data_dir, stop.cut) as api_url:
        # a run the last serve was stopped in would hold the one slot: no run would start
        close_runs_of_a_stopped_serve(f"{nightly.name}/{name}", settings.smsarchive_data_dir)
        # Served as a deployment, not `nightly.serve()`: a runner holding the flow object
        # pickles it into each run's process, and a pickled flow function loses the module
        # globals its string annotations name (`report`'s `date`); this way each run imports
        # `flows.schedule.nightly` afresh in `python -m prefect.engine`.
        deployment = RunnerDeployment.from_flow(
            nightly,
            name=name,
            schedules=[schedule],
            concurrency_limit=ONE_AT_A_TIME,
            description=(
                "smsarchive: sync, then report, then parquet export, of "
                f"{settings.voipms_api_username} into {settings.smsarchive_data_dir.resolve()}"
            ),
            tags=["smsarchive"],
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        runner = _Runner(stop, pause_on_shutdown=True, limit=1)
        runner.add_deployment(deployment)  # on the server once this returns
        first = next_run_at(settings, datetime.now(UTC))
        typer.echo(
            f"serving nightly/{name} (sync, report, export) on "
            f"'{settings.smsarchive_schedule_cron}' ({settings.voipms_account_timezone}), "
            f"next run {first:%Y-%m-%d %H:%M %Z}; Prefect API {api_url}; Ctrl-C stops"
        )
        stop.run(runner.start())


class _Restarts:
    """How often serve may start its own Prefect server again: a server that keeps dying
    (its database damaged, say) ends serve rather than being restarted for ever."""

    LIMIT = 3
    WITHIN_S = 3600.0

    def __init__(self) -> None:
        self._at: list[float] = []

    @property
    def made(self) -> int:
        """The restarts made within the last WITHIN_S."""
        return len(self._at)

    def another(self) -> bool:
        """Whether one more restart is allowed now (counted when it is)."""
        now = time.monotonic()
        self._at = [at for at in self._at if now - at < self.WITHIN_S]
        if len(self._at) >= self.LIMIT:
            return False
        self._at.append(now)
        return True


def _wait_until_it_answers(api_url: str, stop: _Stop) -> None:
    """Wait until the Prefect server at `api_url` is healthy; a stop meanwhile is serve's end."""
    while not prefect_answers(api_url, healthy=True):
        if stop.wait(_Unanswered.EVERY_S):
            raise KeyboardInterrupt
    logger.info("the Prefect server at %s answers again: serving again", without_login(api_url))


class _Stop:
    """Stops serve from a signal handler or another thread: its main task is cancelled, as
    asyncio does on Ctrl-C, and serve ends in KeyboardInterrupt. It needs no SIGINT: a serve
    started in the background by a script inherits SIGINT ignored, and SIGTERM (a service
    manager's stop) or a closed terminal must stop it all the same. Its Prefect server gone
    cuts the round of serving the same way (`cut`), and serve begins again."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._asked = threading.Event()
        self._cut = threading.Event()

    @property
    def asked(self) -> bool:
        """Whether serve was asked to stop (not only this round of serving cut)."""
        return self._asked.is_set()

    @property
    def cut_only(self) -> bool:
        """Whether this round of serving was cut (its server gone) and serve not stopped."""
        return self._cut.is_set() and not self._asked.is_set()

    def wait(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for serve to be asked to stop; whether it was."""
        return self._asked.wait(timeout_s)

    def new_round(self) -> None:
        """Serving begins again (its Prefect server back): an earlier cut is spent."""
        self._cut.clear()

    def run(self, serving: Coroutine[Any, Any, None]) -> None:
        """Run `serving` until it ends, or until serve is stopped (KeyboardInterrupt) or this
        round of serving cut (it returns)."""

        async def main() -> None:
            self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
            if self._asked.is_set() or self._cut.is_set():  # stopped or cut before it began
                serving.close()
                return
            await serving

        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            if not (self._asked.is_set() or self._cut.is_set()):
                raise
        finally:
            self._loop = self._task = None
        if self._asked.is_set():
            raise KeyboardInterrupt

    def __call__(self) -> None:
        """Stop serve; from any thread, or a signal handler."""
        self._asked.set()
        if not self._cancel() and threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt  # not serving: stop where serve is (a wait, a start)
        # else serving has not begun either: run() sees that it was asked, and returns

    def cut(self) -> None:
        """End this round of serving as a stop does, but not serve: its server is gone."""
        self._cut.set()
        self._cancel()

    def _cancel(self) -> bool:
        loop, task = self._loop, self._task
        if loop is None or task is None:
            return False
        with contextlib.suppress(RuntimeError):  # the loop has already closed
            loop.call_soon_threadsafe(task.cancel)
        return True


class _Runner(Runner):
    """Prefect's runner, stopped by SIGTERM (systemd's stop) as by Ctrl-C: its own handler
    leaves a coroutine never awaited, exits before the schedule is paused, and `serve`
    could not say it stopped."""

    def __init__(self, stop: _Stop, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stop_serve = stop

    async def _pause_schedules(self) -> None:
        """Prefect's, but a deployment deleted while served (in the UI, say), or a server that
        no longer answers, is no error when serve stops (Prefect's ended in a traceback); and
        nothing is paused when serving is only cut, to begin again once the server is back."""
        if self._stop_serve.cut_only:
            return
        for deployment_id in self._deployment_registry.get_deployment_ids():
            try:
                await self._client.pause_deployment(deployment_id)
            except ObjectNotFound:
                logger.warning(
                    "deployment %s was deleted while served: no schedule to pause", deployment_id
                )
            except httpx.HTTPError as exc:  # the Prefect server is gone: serve still stops
                logger.warning(
                    "the schedule of deployment %s could not be paused (the Prefect server "
                    "does not answer: %s); it stays on until the next `serve` or the UI",
                    deployment_id,
                    type(exc).__name__,
                )

    def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
        # serve's main task cancelled, as asyncio does on SIGINT, not a KeyboardInterrupt
        # raised here: a run under way is stopped and the schedule paused
        self._stop_serve()


@contextmanager
def stop_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGTERM (a service manager's stop) and SIGHUP (a closed terminal) `stop()` serve, from
    its first moment: Prefect's runner handles SIGTERM only once it runs (until then the
    default action killed serve and left the Prefect server it started running), and the
    server, out of the terminal's reach, must be stopped with serve."""

    def stopped(signum: int, frame: FrameType | None) -> None:
        stop()

    previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def prefect_api(data_dir: Path, cut: Callable[[], None]) -> Iterator[str]:
    """The Prefect API to serve against: PREFECT_API_URL, else a local server started here.

    A schedule only fires where Prefect's scheduler runs, which the temporary server a plain
    flow run starts does not have; so without PREFECT_API_URL a `prefect server start` child
    runs on 127.0.0.1 (port 4200 when free, its log in the data dir) and stops with us.
    Either way `cut()` is called once that server is gone (`_ServerWatch`: Prefect's runner
    does not recover from that), and the block ends in PrefectServerGone.
    """
    configured = PREFECT_API_URL.value()
    if configured:
        shown = without_login(str(configured))
        theirs = _ServerWatch(_Unanswered(str(configured)), cut, every_s=_Unanswered.EVERY_S)
        try:
            yield str(configured)
        finally:
            theirs.stop()
            theirs.restore()
            if theirs.gone is not None:
                raise PrefectServerGone(
                    f"the Prefect server at {shown} {theirs.gone} at {theirs.gone_at:%H:%M:%S}",
                    again=f"waiting for the Prefect server at {shown} to answer again, to "
                    "serve again then (Ctrl-C stops serve)",
                    named=str(configured),
                )
        return
    refuse_an_unwritable_prefect_home()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private messages: owner only
    stop_a_left_server(data_dir)
    port = DEFAULT_PORT if _port_is_free(DEFAULT_PORT) else _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = data_dir / SERVER_LOG
    with log_path.open("ab") as log:
        server = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [*SERVER_ARGV, "--port", str(port)],
            env=_server_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            # out of the terminal's process group: a Ctrl-C there reaches every process of
            # the group at once, and a server gone before `serve` has paused its schedule
            # left it stuck retrying a refused connection. It is stopped below, last.
            start_new_session=True,
        )
    _note_server(data_dir, server.pid, port)
    watch: _ServerWatch | None = None
    try:
        _wait_until_healthy(api_url, server, log_path)
        typer.echo(f"started a Prefect server: UI http://127.0.0.1:{port} (log: {log_path})")
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            watch = _ServerWatch(_Exited(server), cut, every_s=1.0)
            yield api_url
    finally:
        if watch is not None:
            watch.stop()
            watch.look()  # an exit just before the watch's next look counts as well
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        with contextlib.suppress(OSError):
            (data_dir / SERVER_NOTE).unlink(missing_ok=True)
        if watch is not None and watch.gone is not None:
            raise PrefectServerGone(
                f"serve stopped: the Prefect server it started {watch.gone} at "
                f"{watch.gone_at:%H:%M:%S}; see {log_path}. Start serve again to go on",
                again=f"starting a Prefect server again; why the last one {watch.gone}: see "
                f"{log_path}",
                named=None,
            )


class _Exited:
    """Whether the Prefect server serve started has exited: how, or None."""

    def __init__(self, server: subprocess.Popen[bytes]) -> None:
        self._server = server

    def __call__(self) -> str | None:
        code = self._server.poll()
        return None if code is None else f"exited (code {code})"


class _Unanswered:
    """Whether the Prefect server at `api_url` has not answered for GONE_AFTER_S: how, or
    None. Long enough for a quick restart of the server; Prefect's runner gives up its
    cancellation watch after about 25 s without it, and its schedule's poller soon after."""

    GONE_AFTER_S = 15.0
    EVERY_S = 3.0

    def __init__(self, api_url: str) -> None:
        self._api_url = api_url
        self._since: float | None = None

    def __call__(self) -> str | None:
        if prefect_answers(self._api_url):
            self._since = None
            return None
        now = time.monotonic()
        if self._since is None:
            self._since = now
        if now - self._since < self.GONE_AFTER_S:
            return None
        return f"stopped answering (for {self.GONE_AFTER_S:.0f} s)"


class _ServerWatch:
    """Cuts serving, as Ctrl-C stops it, when its Prefect server is gone (`gone()` says how): with
    no server, Prefect's runner would go on failing every call (each retried for a minute),
    every run it starts, and its own loops, which it does not restart. For the server serve
    started, also catches a server on the port that was not ours: ours then fails to bind,
    and exits, after that one answered the health check."""

    def __init__(
        self, gone: Callable[[], str | None], cut: Callable[[], None], *, every_s: float
    ) -> None:
        self._gone = gone
        self._cut = cut
        self._settings = get_current_settings()  # the settings serve runs with
        self._every_s = every_s
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._retries: int | None = None
        self.gone: str | None = None
        self.gone_at = datetime.now()
        threading.Thread(target=self._watch, name="prefect-server-watch", daemon=True).start()

    def stop(self) -> None:
        """serve is stopping: what becomes of the server from here on is serve's own doing."""
        with self._lock:
            self._stopping.set()

    def look(self) -> bool:
        """Whether the server is gone (noted once, with when)."""
        if self.gone is None:
            how = self._gone()
            if how is None:
                return False
            self.gone, self.gone_at = how, datetime.now()
            # the runner's last calls (pausing the schedule) fail at once, not after a minute
            self._retries = self._settings.client.max_retries
            self._settings.client.max_retries = 0
            # said here, whoever looked: Prefect's runner may fail on its own first
            logger.warning("the Prefect server %s: serving stops", how)
        return True

    def restore(self) -> None:
        """Prefect's retries as they were before the server went (for serving again)."""
        if self._retries is not None:
            self._settings.client.max_retries = self._retries
            self._retries = None

    def _watch(self) -> None:
        while not self._stopping.wait(self._every_s):
            with self._lock:
                if self._stopping.is_set() or not self.look():
                    continue
            self._cut()
            return


VACUUM = "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED"
VACUUMED = "events,flow_runs"
"""What the server serve starts deletes once past Prefect's retention (90 days after a flow
run's end; events after their own 7 days): its database (~0.4 MB a nightly run) would
otherwise grow for as long as serve runs. The archive's own ledger keeps every run."""


SERVER_NOTE = ".prefect-server.json"
"""The PID and port of the Prefect server serve started, kept while it runs: a serve killed
outright (SIGKILL, the OOM killer) cannot stop it, which the next serve then does."""


def _note_server(data_dir: Path, pid: int, port: int) -> None:
    try:
        (data_dir / SERVER_NOTE).write_text(json.dumps({"pid": pid, "port": port}))
    except OSError as exc:  # serving matters more than this note
        logger.debug("could not note the Prefect server's process: %s", exc)


def stop_a_left_server(data_dir: Path) -> None:
    """Stop the Prefect server a serve of this data dir started and, killed outright, left
    running (call it holding the serve lock: no serve of this data dir runs). Left so, each
    kill would leave one more server of some 200 MB on the same database. A process is
    taken for it only if its command line is that server's, with the noted port (a PID
    may have been given to another process since)."""
    note = data_dir / SERVER_NOTE
    if not note.exists():
        return
    try:
        noted = json.loads(note.read_text())
        pid, port = int(noted["pid"]), int(noted["port"])
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, KeyError, TypeError):
        argv = []  # unreadable, or the process gone (or no /proc to tell by): none to stop
    else:
        ours = [arg.encode() for arg in [*SERVER_ARGV[2:], "--port", str(port)]]
        if all(arg in argv for arg in ours):
            logger.warning(
                "stopping the Prefect server (process %d, port %d) that a serve killed "
                "outright left running",
                pid,
                port,
            )
            _stop_process(pid)
    with contextlib.suppress(OSError):
        note.unlink(missing_ok=True)


def _stop_process(pid: int) -> None:
    """SIGTERM to `pid`, then SIGKILL if it has not ended within 15 s."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # ProcessLookupError once it is gone
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


def _server_env() -> dict[str, str]:
    """The environment of the Prefect server serve starts: ours, with old runs vacuumed
    unless the user said otherwise, and without the API password (the server never calls
    VoIP.ms; a process's environment is readable in /proc by its user and by root)."""
    env = {
        name: value for name, value in os.environ.items() if name.upper() != "VOIPMS_API_PASSWORD"
    }
    env.setdefault(VACUUM, VACUUMED)
    return env


def refuse_an_unwritable_prefect_home() -> None:
    """Raise PrefectServerError when the server could not keep its database in PREFECT_HOME
    (by default ~/.prefect: a service user's home may be missing or not its own)."""
    home = Path(PREFECT_HOME.value())
    try:
        home.mkdir(parents=True, exist_ok=True)
        writable = os.access(home, os.W_OK | os.X_OK)
    except OSError:
        writable = False
    if not writable:
        raise PrefectServerError(
            f"the Prefect server keeps its database in {home} (PREFECT_HOME), which cannot be "
            "made or written by this user: set PREFECT_HOME to a folder it can write, or "
            "PREFECT_API_URL to a Prefect server that runs"
        )


def _wait_until_healthy(api_url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise PrefectServerError(
                f"the Prefect server exited with code {server.returncode}; see {log_path}"
            )
        if prefect_answers(api_url, healthy=True):  # on loopback: never through a proxy
            return
        time.sleep(0.5)
    raise PrefectServerError(
        f"the Prefect server did not answer within {SERVER_STARTUP_SECONDS:.0f} s; see {log_path}"
    )


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
