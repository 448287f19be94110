"""A mark in the data dir while a replay runs, left by one stopped before it went through."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

logger = logging.getLogger("smsarchive")

MARK_NAME = ".replay-unfinished.json"


@contextlib.contextmanager
def replay_underway(
    data_dir: Path,
    start: date | None,
    end: date | None,
    *,
    done_anyway: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Mark the data dir for the block; the mark is removed once the block ends, or raises
    one of `done_anyway` (nothing was there to replay, say). A replay stopped
    or killed midway leaves it: until a replay goes through, the messages only landing/
    holds (those the provider has forgotten) may be missing, and `status`, `backfill` and
    `sync` say so."""
    mark = data_dir / MARK_NAME
    text = json.dumps(
        {
            "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        }
    )
    try:
        mark.write_text(text, encoding="utf-8")
    except OSError as exc:  # the replay itself is what matters
        logger.debug("replay mark %s not written: %s", mark, exc)
    try:
        yield
    except done_anyway:
        _remove(mark)
        raise
    _remove(mark)


def _remove(mark: Path) -> None:
    with contextlib.suppress(OSError):
        mark.unlink(missing_ok=True)


def unfinished_replay(data_dir: Path) -> str | None:
    """One line on a replay stopped before it went through, with the command that finishes
    it; None when there is none."""
    try:
        state = json.loads((data_dir / MARK_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        state = {}
    if not isinstance(state, dict):
        state = {}
    days = "".join(
        f" --{name} {state[name]}" for name in ("start", "end") if isinstance(state.get(name), str)
    )
    since = f" (started {state['started_at']})" if isinstance(state.get("started_at"), str) else ""
    return (
        f"a replay{since} was stopped before it went through every window: until "
        f"`smsarchive replay{days}` is run again, messages only landing/ holds (those the "
        "provider has forgotten) may be missing from the archive"
    )
