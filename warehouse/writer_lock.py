"""One writer at a time, and one `serve`: OS locks in the data dir naming their holders."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shlex
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from warehouse.errors import WarehouseBusyError

LOCK_NAME = ".writer.lock"
SERVE_LOCK_NAME = ".serve.lock"
_POLL_SECONDS = 0.05
_NOTE_EVERY_SECONDS = 60.0

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def writer_lock(data_dir: Path, *, wait: float = 0) -> Iterator[Path]:
    """Hold the archive's writer lock for the `with` block; yields the lock file's path.

    Files made meanwhile are private (umask 077). A second holder (another process, or
    another open of the file in this one) waits up to `wait` seconds, then gets
    `WarehouseBusyError` naming the holder's PID and start time.
    The lock is the kernel's (flock), so it is released when its holder dies, however.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private messages: owner only
    _warn_if_open_to_all(data_dir)
    path = data_dir / LOCK_NAME
    with lock_file_held(path, lambda fd: _acquire(fd, path, wait)), _private_files():
        yield path


@contextlib.contextmanager
def _private_files() -> Iterator[None]:
    """Files made in the block are the owner's alone, whatever the umask: what DuckDB makes
    beside the archive (its write-ahead log, its spill files) holds messages too."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


@contextlib.contextmanager
def lock_file_held(path: Path, acquire: Callable[[int], None]) -> Iterator[None]:
    """The lock file at `path` (never a link planted there), taken by `acquire` (an flock
    on its descriptor: let go if its holder dies) and naming this process while held;
    emptied and let go after the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)  # never a planted link
    try:
        acquire(fd)
        try:
            _write_holder(fd)
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def taken_at_once(busy: Callable[[], Exception]) -> Callable[[int], None]:
    """An `acquire` for `lock_file_held` that does not wait: held by another, it raises
    `busy()` (the error naming who holds it, or what to do)."""

    def acquire(fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy() from None

    return acquire


def _warn_if_open_to_all(data_dir: Path) -> None:
    """Say so when every account on this machine may enter the data dir (a folder the user
    made before smsarchive did: a group may be meant to share it, all users hardly)."""
    mode = data_dir.stat().st_mode & 0o777
    if mode & 0o007:
        logger.warning(
            "%s is mode %o: every account on this machine may read the messages in it; "
            "`chmod 700 %s` keeps them yours",
            data_dir,
            mode,
            shlex.quote(str(data_dir)),
        )


def _acquire(fd: int, path: Path, wait: float) -> None:
    deadline = time.monotonic() + max(wait, 0.0)
    next_note = 0.0
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            now = time.monotonic()
            if now >= deadline:
                busy = _busy(path, wait)
                if wait <= 0:  # say how not to be turned away next time
                    busy.args = (f"{busy} (or give the command --wait SECONDS to wait for it)",)
                raise busy from None
            if now >= next_note:
                logger.warning(
                    "waiting (up to %.0f s more) for the writer lock: %s",
                    deadline - now,
                    _busy(path, 0),
                )
                next_note = now + _NOTE_EVERY_SECONDS
            time.sleep(_POLL_SECONDS)


def _write_holder(fd: int) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    data = json.dumps(holder).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


@contextlib.contextmanager
def serve_lock(data_dir: Path) -> Iterator[Path]:
    """Hold `<data dir>/.serve.lock` for the block, or raise `WarehouseBusyError` at once
    naming the `serve` that holds it: one schedule per archive, so that whatever of its
    deployment is left unfinished when a `serve` starts was left by one that stopped."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / SERVE_LOCK_NAME
    with lock_file_held(
        path, taken_at_once(lambda: _busy(path, 0, doing="serving this archive's schedule"))
    ):
        yield path


def _busy(path: Path, wait: float, *, doing: str = "writing to this archive") -> WarehouseBusyError:
    pid: int | None = None
    since: str | None = None
    host: str | None = None
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    if isinstance(holder, dict):
        pid = holder.get("pid") if isinstance(holder.get("pid"), int) else None
        since = holder.get("started_at") if isinstance(holder.get("started_at"), str) else None
        host = holder.get("host") if isinstance(holder.get("host"), str) else None
    who = f"process {pid}" if pid is not None else "another process"
    if host is not None:
        who += f" on {host}"
    if since is not None:
        who += f", running since {since}"
    waited = f" (waited {wait:g} s)" if wait > 0 else ""
    return WarehouseBusyError(
        f"another smsarchive run is {doing}: {who}{waited}. "
        f"Let it finish or stop it; the lock is {path}",
        pid=pid,
        since=since,
    )


def writer_alive(data_dir: Path) -> bool:
    """True when the lock names a live process on this host (a run is writing right now).

    A run that ended cleanly empties the lock; one that was killed leaves its PID there,
    which then names no live process. Reads only: never takes the lock.
    """
    try:
        holder = json.loads((data_dir / LOCK_NAME).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return False
    if not isinstance(holder, dict) or not isinstance(holder.get("pid"), int):
        return False
    if holder.get("host") not in (None, socket.gethostname()):
        return True  # another machine's process: we cannot tell, so trust the record
    held = _flock_held_by(data_dir / LOCK_NAME, holder["pid"])
    if held is not None:
        return held
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _flock_held_by(path: Path, pid: int) -> bool | None:
    """Whether process `pid` holds an flock on `path`, as Linux lists the locks it keeps
    (/proc/locks); None where it does not. A killed run's PID, reused by another program
    (after a reboot, say), names a live process but holds no lock."""
    try:
        inode = os.stat(path).st_ino
        listed = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in listed.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 1234 fe:00:2146441 0 EOF"
        fields = line.split()
        if (
            len(fields) >= 6
            and fields[1] == "FLOCK"
            and fields[4] == str(pid)
            and fields[5].rsplit(":", 1)[-1] == str(inode)
        ):
            return True
    return False
