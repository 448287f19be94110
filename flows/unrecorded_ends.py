"""Flow runs whose end Prefect could not record: noted in the data dir, recorded by the next run."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from warehouse.new_file import write_new_file
from warehouse.plain_numbers import counted
from warehouse.writer_lock import lock_file_held

logger = logging.getLogger("smsarchive")

FILE = "prefect-unrecorded-ends.json"
"""In the data dir: the flow runs whose work was done, or that were stopped by their user,
while their Prefect server was away."""

LOCK = ".prefect-unrecorded-ends.lock"
"""In the data dir: held while a process reads and rewrites FILE."""

DONE = (
    "its work was done, but the Prefect server stopped answering before it recorded the run's "
    "end (recorded by the next run)"
)


def note_unrecorded_end(
    data_dir: Path, flow_run_id: str, api_url: str, *, cancelled: str | None = None
) -> None:
    """Keep, for the next run that reaches the Prefect server at `api_url`, that the flow run
    `flow_run_id` completed (or, `cancelled`, was stopped by its user, saying why) though
    Prefect still shows it running. Never raises: a note that cannot be kept is a warning,
    not a failure of the run whose work is done (or was stopped)."""
    note = {"flow_run_id": flow_run_id, "api_url": api_url, "at": datetime.now(UTC).isoformat()}
    if cancelled is not None:
        note["cancelled"] = cancelled
    try:
        with _held(data_dir):
            noted = _read(data_dir)
            noted.append(note)
            _write(data_dir, noted)
    except OSError as exc:
        logger.warning(
            "Prefect flow run %s will show as running: its end could not be noted for the next "
            "run (%s)",
            flow_run_id,
            exc.strerror or exc,
        )


def record_unrecorded_ends(data_dir: Path, api_url: str) -> int:
    """Mark Completed (Cancelled, if it was stopped) each noted flow run of the Prefect server
    at `api_url` that Prefect still shows unfinished, and forget it; how many were marked. A
    server that does not answer keeps the notes for a later run; one that does not know a run
    drops its note. Never raises for the notes' file: Prefect's record of an old run must not
    fail this one."""
    try:
        return _record(data_dir, api_url)
    except OSError as exc:
        logger.warning(
            "the Prefect flow runs noted in %s as ended unrecorded could not be recorded: %s",
            data_dir / FILE,
            exc.strerror or exc,
        )
        return 0


def _record(data_dir: Path, api_url: str) -> int:
    if not (data_dir / FILE).exists():  # nothing noted (nor a data dir, on a first run)
        return 0
    with _held(data_dir):  # not held while Prefect is asked: a note may be added meanwhile
        ours = [note for note in _read(data_dir) if note.get("api_url") == api_url]
    if not ours:
        return 0
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import State
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
    from prefect.states import Cancelled, Completed

    marked: Counter[str] = Counter()
    settled: list[dict[str, Any]] = []
    try:
        with get_client(sync_client=True) as client:
            for note in ours:
                try:
                    run = client.read_flow_run(UUID(str(note["flow_run_id"])))
                    if run.state is None or not run.state.is_final():
                        why = note.get("cancelled")
                        end: State[Any] = (
                            Completed(message=DONE) if why is None else Cancelled(message=str(why))
                        )
                        client.set_flow_run_state(run.id, end, force=True)
                        marked[str(end.name)] += 1
                except (ObjectNotFound, PrefectHTTPStatusError, ValueError, KeyError) as exc:
                    logger.warning(
                        "Prefect flow run %s, whose end was not recorded, could not be marked "
                        "%s: %s",
                        note.get("flow_run_id"),
                        "completed" if note.get("cancelled") is None else "cancelled",
                        exc,
                    )
                settled.append(note)
    except httpx.HTTPError:  # the server is away again: the notes wait for the next run
        pass
    finally:
        if settled:
            with _held(data_dir):
                _write(data_dir, [note for note in _read(data_dir) if note not in settled])
    for name, count in sorted(marked.items()):
        logger.info(
            "%s whose end the server had missed marked %s",
            counted(count, "Prefect flow run"),
            name,
        )
    return sum(marked.values())


@contextmanager
def _held(data_dir: Path) -> Iterator[None]:
    """The notes' file to this process alone while it reads and rewrites it: two commands
    losing their server at once (an export beside a sync) would otherwise each write back what
    they read, and one note would be lost. Waited for: it is held for a read and a write only."""
    with lock_file_held(data_dir / LOCK, lambda fd: fcntl.flock(fd, fcntl.LOCK_EX)):
        yield


def _read(data_dir: Path) -> list[dict[str, Any]]:
    try:
        text = (data_dir / FILE).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    try:
        noted = json.loads(text)
    except json.JSONDecodeError:
        return []  # a torn file: its notes are lost, Prefect shows those runs as running
    return [note for note in noted if isinstance(note, dict)] if isinstance(noted, list) else []


def _write(data_dir: Path, noted: list[dict[str, Any]]) -> None:
    path = data_dir / FILE
    if not noted:
        path.unlink(missing_ok=True)
        return
    partial = path.with_name(f".{FILE}.{os.getpid()}")
    # owner only, as everything in the data dir: flow run ids and the server's address
    write_new_file(partial, json.dumps(noted, indent=1).encode("utf-8"), mode=0o600)
    partial.replace(path)
