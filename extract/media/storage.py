"""The media store: files named by sha256 under media_dir, written via a temp file and rename."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from extract.media.sniffing import HEAD_BYTES

logger = logging.getLogger(__name__)

TEMP_DIR_NAME = ".tmp"
TEMP_PREFIX = "partial-"
# A live download writes to its temp file at least once per read timeout, so a temp file
# untouched for this long belongs to a crashed run (another process may share media_dir).
DEFAULT_STALE_AFTER = 600.0
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_TEMP_NUMBERS = itertools.count()
"""Temp names are unique per process and thread by pid and thread id, then by this count."""


class TooLargeError(Exception):
    """The body grew past the size cap; the temp file is already gone."""


def stored_path(media_dir: Path, sha256: str) -> Path:
    """Where the file with this sha256 lives: media_dir/<sha[:2]>/<sha> (no extension; the
    content type is kept in the database)."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError("sha256 must be 64 lower-case hex digits")
    return media_dir / sha256[:2] / sha256


def is_stored(media_dir: Path, sha256: str, size_bytes: int, *, rehash: bool = False) -> bool:
    """True when the file for `sha256` exists with `size_bytes` bytes (and, with `rehash`,
    its content really hashes to `sha256`)."""
    path = stored_path(media_dir, sha256)
    try:
        if path.stat().st_size != size_bytes:
            return False
        return not rehash or _content_sha256(path) == sha256
    except FileNotFoundError:
        return False


def _content_sha256(path: Path) -> str:
    """The sha256 of a stored file's content, read a chunk at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def absent_files(media_dir: Path, sha256s: pl.Series) -> pl.Series:
    """Those of `sha256s` (sorted) whose file is not in the store: each folder is listed once
    (far cheaper than a stat of each file) and only one folder's names are held at a time."""
    frame = sha256s.rename("sha256").to_frame()
    absent = []
    for (prefix,), part in frame.group_by(pl.col("sha256").str.head(2), maintain_order=True):
        try:
            names = os.listdir(media_dir / str(prefix))
        except (FileNotFoundError, NotADirectoryError):
            names = []
        absent.append(part.filter(~pl.col("sha256").is_in(names)))
    if not absent:
        return frame.get_column("sha256").clear()
    return pl.concat(absent).get_column("sha256")


DAMAGED_DIR_NAME = ".damaged"
"""Where files found not to be what their name says are moved, under the media folder."""


def damaged_files(media_dir: Path, sha256s: Sequence[str]) -> list[str]:
    """Those of `sha256s` whose file is in the store but does not hash to its name (each file
    is read whole: as slow as reading the store)."""
    damaged = []
    for sha256 in sha256s:
        try:
            if _content_sha256(stored_path(media_dir, sha256)) != sha256:
                damaged.append(sha256)
        except FileNotFoundError:
            continue  # missing, not damaged: `absent_files` finds those
    return damaged


def set_aside_damaged(media_dir: Path, sha256: str) -> Path:
    """Move a damaged file out of the store into `media/.damaged/` (its name and the time),
    so that a download puts the right bytes under its name; where it went."""
    aside = media_dir / DAMAGED_DIR_NAME / f"{sha256}.{time.time_ns()}"
    aside.parent.mkdir(mode=0o700, exist_ok=True)
    os.replace(stored_path(media_dir, sha256), aside)
    return aside


def temp_dir(media_dir: Path) -> Path:
    """media_dir/.tmp: same file system as the final names, so the rename is atomic."""
    return media_dir / TEMP_DIR_NAME


def clean_stale_temp(media_dir: Path, *, older_than: float = DEFAULT_STALE_AFTER) -> int:
    """Delete temp files a crashed run left behind (untouched for `older_than` seconds);
    returns how many went.

    media_dir/.tmp is smsarchive's own: one that is a symbolic link (planted, or left by
    someone's tidying) is removed as a link, never followed, so that neither this clean-up
    nor the downloads after it touch files outside the data dir."""
    directory = temp_dir(media_dir)
    if directory.is_symlink():
        logger.warning(
            "%s is a symbolic link, not smsarchive's temp folder: the link is removed (what it "
            "points to is left alone) and the folder made anew",
            directory,
        )
        directory.unlink()
        return 0
    if not directory.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    kept: OSError | None = None  # a tidy-up: never a run's end (writing there is told apart)
    try:
        entries = list(directory.iterdir())
    except OSError as exc:
        entries, kept = [], exc
    for path in entries:
        try:
            if path.is_file() and path.stat().st_mtime <= cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another run got there first
            continue
        except OSError as exc:
            kept = exc
    if kept is not None:
        logger.warning("%s: leftover temp files not removed (%s)", directory, kept.strerror)
    return removed


@dataclass(frozen=True, slots=True)
class Received:
    """A body written in full to a temp file: its path, sha256, size and first bytes."""

    temp_path: Path
    sha256: str
    size_bytes: int
    head: bytes

    def discard(self) -> None:
        """Drop the temp file (the body is not to be kept)."""
        with contextlib.suppress(FileNotFoundError):
            self.temp_path.unlink()


def _open_temp(directory: Path) -> tuple[int, Path]:
    """A new temp file in `directory` (made if missing), open for writing only by us."""
    name = f"{TEMP_PREFIX}{os.getpid()}-{threading.get_ident()}-{next(_TEMP_NUMBERS)}"
    path = directory / name
    try:
        return os.open(path, _TEMP_FLAGS, 0o600), path
    except FileNotFoundError:
        directory.mkdir(parents=True, exist_ok=True)
        return os.open(path, _TEMP_FLAGS, 0o600), path


def _write_all(fd: int, chunk: bytes | bytearray) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]


def receive(
    chunks: Iterable[bytes], media_dir: Path, *, max_bytes: int, durable: bool = True
) -> Received:
    """Stream `chunks` into a new temp file, hashing as it goes, and fsync it (if `durable`).

    Raises TooLargeError past `max_bytes`; on any exception the temp file is removed.
    With `durable=False` the caller must call `flush_to_disk()` before it records the file.

    The file is written with bare `os` calls: each call lets another download thread take
    the GIL, and a buffered file object makes three more of them (fstat, isatty, lseek).
    """
    fd, path = _open_temp(temp_dir(media_dir))
    digest = hashlib.sha256()
    head = bytearray()
    pending = bytearray()  # written a megabyte at a time: a typical attachment in one call
    size = 0
    try:
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLargeError
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                pending += chunk
                if len(pending) >= _CHUNK:
                    _write_all(fd, pending)
                    pending.clear()
            _write_all(fd, pending)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise
    return Received(temp_path=path, sha256=digest.hexdigest(), size_bytes=size, head=bytes(head))


def _fsync_dir(directory: Path) -> None:
    # So the rename itself survives a power cut before the database row is written.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(received: Received, media_dir: Path, *, durable: bool = True) -> Path:
    """Move the temp file to its final name by sha256; if a copy of the same size is there,
    drop the temp file instead (identical files are stored once, and a stored file is never
    touched again: backups see no change). `durable`: fsync the folder now; otherwise
    `flush_to_disk()` must run before the file is recorded."""
    final = stored_path(media_dir, received.sha256)
    if is_stored(media_dir, received.sha256, received.size_bytes):
        received.discard()
        return final
    try:
        try:
            os.replace(received.temp_path, final)
        except FileNotFoundError:  # the first file of its folder
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(received.temp_path, final)
    except BaseException:
        received.discard()
        raise
    if durable:
        _fsync_dir(final.parent)
    return final


def flush_to_disk() -> None:
    """Everything written so far onto the disk: one sync for a batch of non-durable files.

    Two fsyncs per file (the file, then its folder) were half of a download worker's time;
    a caller that records files in batches calls this once before each batch's rows."""
    os.sync()
