"""Runs `smsarchive backfill` in child processes, watches them from outside and SIGKILLs them."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

from extract.voipms.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
LANDING_TEMP_PREFIX = ".landing-"
PRELOAD = ("duckdb", "polars", "httpx", "prefect.flows", "prefect.task_runners", "flows.cli")
PRELOAD_IF_THERE = ("flows.archive_flows",)
"""Imported by the backfill command itself; preloaded when the module exists."""


# ---------------------------------------------------------------- the launcher process
#
# Importing smsarchive (Prefect, polars, DuckDB) takes 5-10 s on a busy machine, more than a
# whole backfill of the test account. So one launcher process imports it once, then forks a
# child per run that calls `flows.cli.app` exactly as the `smsarchive` script does. The child
# is a real process with its own pid: it is what the tests watch and SIGKILL.


def serve() -> None:
    """The launcher's loop: one JSON request per stdin line, one forked run per request.

    Request: {"argv": [...], "env": {...}, "log": path}. Answers on stdout, one JSON line
    each: {"pid": N} when the run is forked, {"returncode": R} when it ended (-9 when killed).
    """
    # The slow imports, done once before any fork (the CLI imports its flows lazily).
    for module in PRELOAD:
        importlib.import_module(module)
    for module in PRELOAD_IF_THERE:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    from flows.cli import app

    answer = sys.stdout
    answer.write(json.dumps({"ready": os.getpid()}) + "\n")
    answer.flush()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(app, request)
        answer.write(json.dumps({"pid": pid}) + "\n")
        answer.flush()
        _, status = os.waitpid(pid, 0)
        answer.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        answer.flush()


def _child(app: Callable[..., Any], request: dict[str, Any]) -> NoReturn:
    code = 1
    try:
        os.environ.update(request["env"])
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.argv = ["smsarchive", *request["argv"]]
        try:
            app(args=request["argv"], prog_name="smsarchive")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class _Lines:
    """Whole lines from a pipe, read without Python's buffering (so select() tells the truth)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""

    def read(self, timeout: float) -> dict[str, Any] | None:
        """The next JSON line, or None when none came within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(left, 0.0))
            if not ready:
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                raise EOFError("the launcher is gone")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer: dict[str, Any] = json.loads(line)
        return answer


class Run:
    """One forked `smsarchive` process: its pid, poll, wait and SIGKILL."""

    def __init__(self, pid: int, lines: _Lines) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._lines = lines

    def poll(self, timeout: float = 0.0) -> int | None:
        """The exit code when the process has ended (negative: killed by that signal)."""
        if self.returncode is None:
            answer = self._lines.read(timeout)
            if answer is not None:
                self.returncode = int(answer["returncode"])
        return self.returncode

    def wait(self, timeout: float) -> int:
        """Wait for the end; fails after `timeout` seconds."""
        code = self.poll(timeout)
        if code is None:
            raise TimeoutError(f"smsarchive (pid {self.pid}) still runs after {timeout:g} s")
        return code

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a power cut would end it."""
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)


class Launcher:
    """The client side of `serve`: start it with the env every run shares, then `start` runs."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        self._log = log.open("wb")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.crash_watch"],
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        assert self._proc.stdout is not None
        self._lines = _Lines(self._proc.stdout.fileno())
        ready = self._lines.read(timeout=180)
        assert ready is not None, "the launcher did not start"

    def start(self, argv: Sequence[str], env: Mapping[str, str], log: Path) -> Run:
        """Fork one `smsarchive <argv>` with `env` added, its output going to `log`."""
        assert self._proc.stdin is not None
        request = {"argv": list(argv), "env": dict(env), "log": str(log)}
        self._proc.stdin.write((json.dumps(request) + "\n").encode())
        self._proc.stdin.flush()
        answer = self._lines.read(timeout=30)
        assert answer is not None, "the launcher did not fork"
        return Run(int(answer["pid"]), self._lines)

    def close(self) -> None:
        """End the launcher (its stdin closing ends its loop)."""
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            raise
        finally:
            self._proc.stdout.close()
            self._log.close()

    def __enter__(self) -> Launcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ---------------------------------------------------------------- watching a run from outside


@dataclass(frozen=True)
class Sight:
    """What could be seen of a live run from outside, at one moment."""

    elapsed: float
    """Seconds since the run was started."""
    locked_for: float | None
    """Seconds since the run was first seen holding the data dir's writer lock."""
    calls: Mapping[str, int]
    """Sandbox requests since the run started, by API method; media files as 'media'."""
    landed: int
    """Landing files (whole answers) written since the run started."""
    landing_temps: int
    """Landing files being written since the run started (temp files beside the answers)."""
    media_partials: int
    """Media downloads being written (files in media/.tmp)."""
    archive: bool
    """archive.duckdb exists."""

    @property
    def fetch_calls(self) -> int:
        """getSMS and getMMS requests."""
        return self.calls.get("getSMS", 0) + self.calls.get("getMMS", 0)


Trigger = Callable[[Sight], bool]


def _landing_files(directory: Path, since_ns: int) -> tuple[int, int]:
    """(answers written since `since_ns`, temp files) under the landing dir."""
    landed = temps = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0, 0
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            more, more_temps = _landing_files(Path(entry.path), since_ns)
            landed += more
            temps += more_temps
        elif entry.name.startswith(LANDING_TEMP_PREFIX) or entry.name.endswith(".json"):
            try:
                new = entry.stat().st_mtime_ns >= since_ns
            except FileNotFoundError:  # a temp file renamed or removed meanwhile
                continue
            if entry.name.startswith(LANDING_TEMP_PREFIX):
                temps += new
            else:
                landed += new
    return landed, temps


def _count_new(directory: Path, since_ns: int) -> int:
    """Files in `directory` written since `since_ns` (not a killed run's leftovers)."""
    count = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            count += entry.stat().st_mtime_ns >= since_ns
        except FileNotFoundError:  # renamed into the store meanwhile
            continue
    return count


def _holder(data_dir: Path) -> int | None:
    try:
        holder = json.loads((data_dir / ".writer.lock").read_text("utf-8") or "{}")
    except (OSError, ValueError):
        return None
    pid = holder.get("pid") if isinstance(holder, dict) else None
    return pid if isinstance(pid, int) else None


@dataclass
class Drive:
    """How one watched run ended, and what was seen of it."""

    label: str
    data_dir: Path
    log: Path
    started_at: datetime
    """Wall clock when the run was started (to tell its rows and files from older ones)."""
    returncode: int
    killed: bool
    """True when the SIGKILL ended it (False: it had ended on its own first)."""
    last: Sight
    """The last sight before the kill (or before it ended)."""
    milestones: dict[str, float] = field(default_factory=dict)
    """Seconds after taking the lock when each stage was first seen: lock, fetch, landing,
    media, end."""

    def output(self) -> str:
        """The run's own output (the tail, for failure messages)."""
        return self.log.read_text("utf-8", errors="replace")[-4000:]


def drive(
    launcher: Launcher,
    server: SandboxServer,
    data_dir: Path,
    log: Path,
    *,
    label: str,
    argv: Sequence[str],
    trigger: Trigger | None,
    poll: float = 0.005,
    timeout: float = 120.0,
) -> Drive:
    """Start `smsarchive <argv>` on `data_dir`, watch it, and SIGKILL it when `trigger` fires.

    With no trigger the run is left to end on its own. The sandbox's call counts are reset
    at the start, so they count this run's requests only.
    """
    server.reset_counts()
    started_at = datetime.now(UTC)
    since_ns = time.time_ns()
    began = time.monotonic()
    run = launcher.start(argv, {"SMSARCHIVE_DATA_DIR": str(data_dir)}, log)
    locked_at: float | None = None
    milestones: dict[str, float] = {}
    sight = Sight(0.0, None, {}, 0, 0, 0, archive=False)
    killed = False
    try:
        while run.poll() is None:
            now = time.monotonic()
            assert now - began < timeout, f"{label}: still running after {timeout:g} s"
            if locked_at is None and _holder(data_dir) == run.pid:
                locked_at = now
            landed, temps = _landing_files(data_dir / "landing", since_ns)
            sight = Sight(
                elapsed=now - began,
                locked_for=None if locked_at is None else now - locked_at,
                calls=server.call_counts(),
                landed=landed,
                landing_temps=temps,
                media_partials=_count_new(data_dir / "media" / ".tmp", since_ns),
                archive=(data_dir / "archive.duckdb").exists(),
            )
            if sight.locked_for is not None:
                for stage, reached in (
                    ("lock", True),
                    ("fetch", sight.fetch_calls > 0),
                    ("landing", sight.landed + sight.landing_temps > 0),
                    ("media", sight.calls.get("media", 0) > 0),
                ):
                    if reached:
                        milestones.setdefault(stage, sight.locked_for)
            if trigger is not None and trigger(sight):
                run.kill()
                killed = True
                break
            time.sleep(poll)
    finally:
        if run.poll() is None:  # the watch failed: never leave a run behind
            run.kill()
        code = run.wait(30)
    if locked_at is not None and not killed:
        milestones["end"] = time.monotonic() - locked_at
    return Drive(
        label=label,
        data_dir=data_dir,
        log=log,
        started_at=started_at,
        returncode=code,
        killed=killed and code == -signal.SIGKILL,
        last=sight,
        milestones=milestones,
    )


if __name__ == "__main__":
    serve()
