"""Raw API rows written to disk as received, as compact JSON, atomically, before any transform."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Final

import orjson

from warehouse.errors import LandingChangedError

LANDING_DIR = "landing"
TEMP_PREFIX = ".landing-"
"""Temp files are `.landing-<method>-<random>` beside the answers they will become."""


@dataclass(frozen=True)
class LandedFile:
    """A landed answer: its path relative to the data dir, row count and content hash."""

    path: str
    rows: int
    sha256: str


def _slug(text: str) -> str:
    # no `..` or hidden name: an odd account name stays one folder under its provider's
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.") or "account"


FETCH_STAMP: Final = "%Y%m%dT%H%M%S%fZ"


def fetch_stamp(at: datetime) -> str:
    """A fetch's time as it names its landed answers (UTC, to the microsecond)."""
    return at.astimezone(UTC).strftime(FETCH_STAMP)


def fetch_time(stamp: str) -> datetime:
    """The fetch's time a `fetch_stamp` gives."""
    return datetime.strptime(stamp, FETCH_STAMP).replace(tzinfo=UTC)


def landing_path(
    *,
    provider: str,
    account: str,
    window_start: date,
    window_end: date,
    method: str,
    fetched_at: datetime,
) -> str:
    """Where one fetch of a window's answer to one method lands, relative to the data dir.

    Each fetch lands under a name of its own (its time): fetching a window again, with
    `--refetch`, never replaces an earlier answer, which may hold messages the provider
    has forgotten since.
    """
    window = f"{window_start.isoformat()}_{window_end.isoformat()}"
    name = f"{_slug(method)}.{fetch_stamp(fetched_at)}.json"
    return f"{account_landing(provider, account)}/{window}/{name}"


def account_landing(provider: str, account: str) -> str:
    """The folder an account's answers land under, relative to the data dir."""
    return f"{LANDING_DIR}/{_slug(provider)}/{_slug(account)}"


_WINDOW_FOLDER = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})")
_ANSWER_NAME = re.compile(r"(getSMS|getMMS)(?:\.(\d{8}T\d{12}Z))?\.json")


@dataclass(frozen=True)
class FoundAnswer:
    """A landed answer found on disk by its name (`landing_path`), not by the ledger."""

    path: str
    """Relative to the data dir."""
    method: str
    window_start: date
    window_end: date
    fetch: str
    """The fetch stamp of its name; "" for the one answer per method older versions landed."""
    landed_at: datetime
    """The fetch's time its name gives, else the file's modification time."""


def account_folders(data_dir: Path, provider: str, account: str) -> list[str]:
    """The folders an account's answers landed under, relative to the data dir: its own, and
    any of the same name in another case (the same e-mail, typed otherwise one day)."""
    root = PurePosixPath(account_landing(provider, account))
    try:
        names = sorted(entry.name for entry in (data_dir / root.parent).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [str(root.parent / name) for name in names if name.lower() == root.name.lower()]


def found_answers(data_dir: Path, provider: str, account: str) -> list[FoundAnswer]:
    """The answers landed under an account's folders, by their names, in path order."""
    found = []
    for root, window_folder in (
        (folders, folder)
        for folders in account_folders(data_dir, provider, account)
        for folder in sorted((data_dir / folders).glob("*_*"))
    ):
        days = _WINDOW_FOLDER.fullmatch(window_folder.name)
        if days is None or not window_folder.is_dir():
            continue
        for file in sorted(window_folder.iterdir()):
            name = _ANSWER_NAME.fullmatch(file.name)
            if name is None or not file.is_file():
                continue
            stamp = name.group(2) or ""
            landed_at = (
                fetch_time(stamp) if stamp else datetime.fromtimestamp(file.stat().st_mtime, UTC)
            )
            found.append(
                FoundAnswer(
                    path=f"{root}/{window_folder.name}/{file.name}",
                    method=name.group(1),
                    window_start=date.fromisoformat(days.group(1)),
                    window_end=date.fromisoformat(days.group(2)),
                    fetch=stamp,
                    landed_at=landed_at,
                )
            )
    return found


def landed_answer_count(data_dir: Path) -> int:
    """The answers landed under landing/, of every account (temp files left out)."""
    return sum(
        1
        for _, _, names in os.walk(data_dir / LANDING_DIR)
        for name in names
        if _ANSWER_NAME.fullmatch(name)
    )


def counted_answer(data_dir: Path, relative_path: str) -> LandedFile | None:
    """A found answer as the ledger records one (its rows, its sha256); None when it is not a
    JSON array of rows (cut short, or edited)."""
    content = (data_dir / relative_path).read_bytes()
    try:
        rows = orjson.loads(content)
    except orjson.JSONDecodeError:
        try:  # an integer past 64 bits, which orjson refuses (see `_json_bytes`)
            rows = json.loads(content)
        except ValueError:
            return None
    if not isinstance(rows, list):
        return None
    return LandedFile(
        path=relative_path, rows=len(rows), sha256=hashlib.sha256(content).hexdigest()
    )


def _json_bytes(rows: list[dict[str, Any]]) -> bytes:
    try:
        # compact UTF-8 in one C pass; refuses only integers beyond 64 bits (text is valid:
        # the client repaired it), which the standard library writes instead
        return orjson.dumps(rows)
    except TypeError:
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class LandingWriter:
    """One answer landed a part at a time; a reader never sees half a file.

    The parts go to a temp file beside the target as one JSON array, byte for byte the
    compact JSON of all the rows at once; `finish` syncs it and renames it into place. A
    temp file left by a run killed mid-write is removed when the window's answer to the same
    method is landed again: landing happens under the archive's writer lock, so no live
    writer can own it.
    """

    def __init__(self, data_dir: Path, relative: str) -> None:
        """Land at `relative` (a `landing_path`) under `data_dir`."""
        self.relative = relative
        self._target = data_dir / relative
        self._target.parent.mkdir(parents=True, exist_ok=True)
        method = self._target.name.partition(".")[0]  # landing_path's `<method>.<fetch>.json`
        prefix = f"{TEMP_PREFIX}{method}-"
        for leftover in self._target.parent.glob(f"{prefix}*"):
            leftover.unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=prefix, dir=self._target.parent)
        self._temp = Path(tmp_name)
        self._handle = os.fdopen(fd, "wb")
        self._sha = hashlib.sha256()
        self.rows = 0
        self._finished = False
        self._put(b"[")

    def _put(self, chunk: bytes) -> None:
        try:
            self._handle.write(chunk)
        except BaseException:
            self.abandon()
            raise
        self._sha.update(chunk)

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Append rows to the array."""
        if rows:
            inner = _json_bytes(rows)[1:-1]
            self._put(b"," + inner if self.rows else inner)
            self.rows += len(rows)

    def finish(self) -> LandedFile:
        """Close the array, sync it to disk and move it into place."""
        self._put(b"]")
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            os.replace(self._temp, self._target)
            self._finished = True  # in place: `abandon` now removes it, not the temp file
        except BaseException:
            self.abandon()
            raise
        return LandedFile(path=self.relative, rows=self.rows, sha256=self._sha.hexdigest())

    def abandon(self) -> None:
        """Drop what was written (the answer could not be had whole), even once `finish`ed:
        a window's two answers are landed together or not at all."""
        self._handle.close()
        self._temp.unlink(missing_ok=True)
        if self._finished:
            self._target.unlink(missing_ok=True)


def remove_partial_landings(data_dir: Path) -> int:
    """Remove the temp files of answers a stopped run was landing, anywhere in landing/;
    returns how many. Only under the archive's writer lock: no live run owns one then. (A
    window's folder is swept when it is landed again too, but a sync's windows move on
    every day, so its leftovers would stay.)"""
    removed = 0
    for folder, _, names in os.walk(data_dir / LANDING_DIR):
        for name in names:
            if name.startswith(TEMP_PREFIX):
                Path(folder, name).unlink(missing_ok=True)
                removed += 1
    return removed


def _landed_bytes(data_dir: Path, relative_path: str, sha256: str) -> bytes:
    """A landed file's bytes; LandingChangedError when it is missing or not what was landed."""
    try:
        content = (data_dir / relative_path).read_bytes()
    except FileNotFoundError:
        raise LandingChangedError(f"{relative_path} is missing") from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise LandingChangedError(
            f"{relative_path} is not the answer raw_landing lists (its sha256 differs: a run "
            "that re-landed it was stopped before its merge, or it was edited)"
        )
    return content


def landed_file_intact(data_dir: Path, relative_path: str, sha256: str) -> bool:
    """True when the landed file is there and is what the ledger says was landed."""
    try:
        _landed_bytes(data_dir, relative_path, sha256)
    except LandingChangedError:
        return False
    return True


def read_landed_answer(data_dir: Path, relative_path: str, sha256: str) -> list[dict[str, Any]]:
    """The rows of a landed answer, once its bytes are checked against the ledger's sha256.

    Raises LandingChangedError when the file is missing, is not what was landed, or does not
    hold a JSON array of rows.
    """
    content = _landed_bytes(data_dir, relative_path, sha256)
    rows = json.loads(content)
    if not isinstance(rows, list):
        raise LandingChangedError(f"{relative_path} does not hold a JSON array of rows")
    return rows
