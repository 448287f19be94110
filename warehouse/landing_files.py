"""Raw API answers written to disk exactly as received, atomically, before any transform."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson

LANDING_DIR = "landing"
TEMP_PREFIX = ".landing-"
"""Temp files are `.landing-<method>-<random>` beside the answer they will become."""


@dataclass(frozen=True)
class LandedFile:
    """A landed answer: its path relative to the data dir, row count and content hash."""

    path: str
    rows: int
    sha256: str


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "account"


def landing_path(
    *, provider: str, account: str, window_start: date, window_end: date, method: str
) -> str:
    """Where one window's answer to one method lands, relative to the data dir."""
    window = f"{window_start.isoformat()}_{window_end.isoformat()}"
    return f"{LANDING_DIR}/{_slug(provider)}/{_slug(account)}/{window}/{_slug(method)}.json"


def _json_bytes(rows: list[dict[str, Any]]) -> bytes:
    try:
        # compact UTF-8 in one C pass; refuses only integers beyond 64 bits (text is valid:
        # the client repaired it), which the standard library writes instead
        return orjson.dumps(rows)
    except TypeError:
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def land_rows(
    data_dir: Path,
    rows: list[dict[str, Any]],
    *,
    provider: str,
    account: str,
    window_start: date,
    window_end: date,
    method: str,
) -> LandedFile:
    """Write `rows` as a JSON array under the data dir; a reader never sees half a file.

    The bytes go to a temp file beside the target, then replace it. A temp file left by a
    run killed mid-write is removed when the same answer is landed again: landing happens
    under the archive's writer lock, so no live writer can own it.
    """
    relative = landing_path(
        provider=provider,
        account=account,
        window_start=window_start,
        window_end=window_end,
        method=method,
    )
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = _json_bytes(rows)
    prefix = f"{TEMP_PREFIX}{target.stem}-"
    for leftover in target.parent.glob(f"{prefix}*"):
        leftover.unlink(missing_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return LandedFile(path=relative, rows=len(rows), sha256=hashlib.sha256(payload).hexdigest())


def read_landed_rows(data_dir: Path, relative_path: str) -> list[dict[str, Any]]:
    """The rows of a landed answer, for a replay without the API."""
    rows: list[dict[str, Any]] = json.loads((data_dir / relative_path).read_text("utf-8"))
    return rows
