"""Opens the archive's DuckDB file: migrated, in UTC, with a clear error when it is busy."""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

import duckdb

from warehouse.errors import (
    PendingMigrationsError,
    UnreadableArchiveError,
    WarehouseBusyError,
    WarehouseError,
)
from warehouse.landing_files import LANDING_DIR, landed_answer_count
from warehouse.migrate import (
    apply_migrations,
    check_migrations,
    known_migrations,
    pending_migrations,
)
from warehouse.queries import read_query
from warehouse.readable_paths import refuse_a_path_duckdb_misreads
from warehouse.writer_lock import writer_lock

_HOLDER_PID = re.compile(r"\(PID (\d+)\)")
_POLL_SECONDS = 0.5
_NEW_FILE_BYTES = 3 * 4096
_MAGIC, _MAGIC_AT = b"DUCK", 8
"""What DuckDB writes at the start of a new file, after an 8-byte checksum."""
_NOTE_EVERY_SECONDS = 60.0

logger = logging.getLogger(__name__)


def open_warehouse(
    path: Path,
    *,
    read_only: bool = False,
    wait: float = 0,
    memory_limit: str | None = None,
    upgrade: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Connect to the archive at `path`.

    Writable: creates the parent folder and applies missing migrations. Read-only: the file
    must exist and be fully migrated; with `upgrade`, one an older version made is migrated
    first, under the writer lock of its folder (`WarehouseBusyError` if a run holds it), so
    that `status`, `report` and `export` work right after an upgrade. Either way the
    session's timezone is UTC. When another
    process has the file open (for writing, or, for a writer, at all: a notebook), waits up
    to `wait` seconds, saying who holds it, then raises `WarehouseBusyError`.

    `memory_limit` (e.g. "256MB") caps DuckDB's memory, its cache of the archive included;
    by default DuckDB may take 80% of the machine's memory and, writing window after
    window, keeps most of what it touched.
    """
    refuse_a_path_duckdb_misreads(path, "the archive")
    if read_only and not path.exists():
        raise WarehouseError(missing_archive(path))
    if not read_only:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: owner only
        _set_aside_unfinished(path)
    config: dict[str, str | bool | int | float | list[str]] = {}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    new_file = not read_only and not path.exists()
    con = _connect(path, read_only=read_only, wait=wait, config=config)
    if new_file:  # every message text: the owner's alone, even in a folder others may read
        path.chmod(0o600)
    try:
        con.execute(read_query("set_session_timezone"))
        if read_only:
            check_migrations(con)
        else:
            if not new_file:
                keep_before_upgrade(con, path)
            apply_migrations(con)
    except PendingMigrationsError as pending:
        con.close()
        if not upgrade:
            raise
        try:
            with writer_lock(path.parent, wait=wait):
                open_warehouse(path, wait=wait, memory_limit=memory_limit).close()
        except OSError as exc:  # a read-only disk, a folder of another account's
            raise WarehouseError(
                f"{path} was made by an older smsarchive: upgrading it to this version's "
                f"schema writes it, and {exc.filename or path.parent} cannot be written "
                f"({exc.strerror or exc}); copy the data dir somewhere writable, or read it "
                "with the smsarchive that made it"
            ) from pending
        logger.info("%s migrated to this version's schema", path)
        return open_warehouse(path, read_only=True, wait=wait, memory_limit=memory_limit)
    except BaseException:
        con.close()
        raise
    return con


def missing_archive(path: Path) -> str:
    """What to say of an archive that is not there: none made yet, or one lost (its folder's
    landing/ holds the answers of earlier runs)."""
    landed = landed_answer_count(path.parent)
    if landed:
        return (
            f"there is no archive at {path}, but {path.parent / LANDING_DIR} holds {landed:,} "
            "answers earlier runs landed: the archive was lost or moved. Put it back (from a "
            "backup), or make it again from landing/ with `smsarchive replay`"
        )
    return f"there is no archive at {path} yet: run `smsarchive backfill` or `sync` first"


def keep_before_upgrade(con: duckdb.DuckDBPyConnection, path: Path) -> Path | None:
    """Before migrating an archive an older smsarchive made, copy it beside itself as
    `<name>.before-<first migration>` (an older smsarchive cannot open the upgraded one, so
    this is the way back); the copy's path, or None when nothing is to be migrated."""
    pending = pending_migrations(con)
    if not pending or len(pending) == len(known_migrations()):
        return None  # up to date, or a file no migration ever touched
    con.execute(read_query("checkpoint"))  # the file holds everything: its log is empty
    kept = path.with_name(f"{path.name}.before-{pending[0].name}")
    _copy_privately(path, kept)
    logger.warning(
        "%s is upgraded to this smsarchive's schema (%s); the archive as it was is kept at %s, "
        "the way back to the smsarchive that made it, which cannot open the upgraded one; "
        "delete the copy once you are sure",
        path,
        ", ".join(migration.name for migration in pending),
        kept,
    )
    return kept


def _copy_privately(source: Path, target: Path) -> None:
    """Copy `source` to `target` (mode 600 from its first byte, synced) through a temp name:
    a copy cut short (a full disk) never stands under the name of a way back."""
    temp = target.with_name(f".{target.name}.tmp")
    temp.unlink(missing_ok=True)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(temp, flags, 0o600), "wb") as sink, source.open("rb") as data:
            shutil.copyfileobj(data, sink, 1 << 20)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _connect(
    path: Path,
    *,
    read_only: bool,
    wait: float,
    config: dict[str, str | bool | int | float | list[str]],
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + max(wait, 0.0)
    next_note = 0.0
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            busy = busy_error_from(exc, path)
            if busy is None:
                raise _unreadable(exc, path) from exc
            now = time.monotonic()
            if now >= deadline:
                if wait > 0:
                    raise WarehouseBusyError(
                        f"{busy} (waited {wait:g} s)", pid=busy.pid, since=busy.since
                    ) from exc
                if not read_only:  # say how not to be turned away next time, as the lock does
                    busy.args = (f"{busy} (or give the command --wait SECONDS to wait for it)",)
                raise busy from exc
            if now >= next_note:
                logger.warning(
                    "waiting (up to %.0f s more) for the archive: %s", deadline - now, busy
                )
                next_note = now + _NOTE_EVERY_SECONDS
            time.sleep(min(_POLL_SECONDS, max(deadline - now, 0.0)))
        except duckdb.Error as exc:
            if "replaying WAL" not in str(exc):
                raise
            raise _damaged_log(exc, path) from exc


def _unreadable(exc: duckdb.Error, path: Path) -> UnreadableArchiveError:
    """What to say when DuckDB cannot open the archive, for a reason other than a lock."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Permission denied" in reason:
        advice = "check who may read and write it"
    else:
        advice = (
            "if it is damaged, keep a copy, then restore it from a backup, or move it aside "
            "and make it again from landing/ with `smsarchive replay`"
        )
    return UnreadableArchiveError(f"the archive {path} cannot be opened ({reason}); {advice}")


def _damaged_log(exc: duckdb.Error, path: Path) -> UnreadableArchiveError:
    """What to say when the archive's write-ahead log, which a killed run leaves beside it
    with what that run wrote, cannot be replayed into it."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return UnreadableArchiveError(
        f"the archive's log {path}.wal, left by a run that was stopped before it finished, "
        f"is damaged ({reason}); move it aside (keep a copy): the archive is then as it was "
        "before that run, and the next backfill or sync fetches that run's days again"
    )


def _set_aside_unfinished(path: Path) -> None:
    """Move aside an archive file a first run was killed while creating, so a new one is made.

    DuckDB creates a file by writing three 4 KB header blocks; a process killed before the
    third leaves a file DuckDB refuses to open. Shorter than that, with no WAL beside it, the
    file cannot hold any data. A short file that does not start as DuckDB's do is left where
    it is, for the caller's refusal. (Callers that write hold the writer lock.)
    """
    if not path.exists() or not _unfinished(path):
        return
    aside = path.with_name(f"{path.name}.unfinished-{int(time.time())}")
    path.rename(aside)
    logger.warning("%s was never finished (a first run was killed): moved to %s", path, aside)


def _unfinished(path: Path) -> bool:
    """Whether the archive file at `path` is one a first run was killed while creating."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size >= _NEW_FILE_BYTES or Path(f"{path}.wal").exists():
        return False
    with path.open("rb") as file:
        start = file.read(_NEW_FILE_BYTES)
    # DuckDB's own start (a checksum, then its magic) or nothing yet: anything else was never
    # DuckDB's (a file written over, a wrong path), and is refused as any damage is
    if start.strip(b"\0") and start[_MAGIC_AT : _MAGIC_AT + len(_MAGIC)] != _MAGIC:
        return False
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.IOException:
        return True
    return False


def starts_new_archive(path: Path) -> bool:
    """Whether opening `path` to write makes a new, empty archive: there is no file, or only
    one a first run was killed while creating (set aside then)."""
    return not path.exists() or _unfinished(path)


def busy_error_from(exc: duckdb.Error, path: Path) -> WarehouseBusyError | None:
    """DuckDB's "Could not set lock on file" as a `WarehouseBusyError`; None for other errors."""
    text = str(exc)
    if "Could not set lock" not in text:
        return None
    match = _HOLDER_PID.search(text)
    pid = int(match.group(1)) if match else None
    holder = f"process {pid}" if pid is not None else "another process"
    return WarehouseBusyError(
        f"the archive {path} is open in {holder}: close the program that has it open "
        "(a notebook or Python session, the duckdb CLI, `smsarchive serve`, or another "
        "smsarchive run) and try again",
        pid=pid,
    )
