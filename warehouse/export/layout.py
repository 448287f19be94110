"""Where an export's pieces live: snapshots, the `current` pointer, temp folders, the manifest."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from warehouse.errors import LinklessExportFolderError
from warehouse.folder_pruning import prune_named_folders
from warehouse.new_file import write_new_file

SNAPSHOTS = "snapshots"
CURRENT = "current"
MANIFEST = "_manifest.json"
TEMP_PREFIX = ".export-"
TEMP_SUFFIX = "-tmp"
KEEP_SNAPSHOTS = 2
"""The current snapshot and the one before it, for readers that opened it just before a swap."""


SNAPSHOT_ID: Final = re.compile(r"\d{8}T\d{12}Z")
"""What `snapshot_id` makes: only folders named so are snapshots an export may prune."""

_OWN_TEMP: Final = re.compile(
    rf"(?:{re.escape(TEMP_PREFIX)}|\.{CURRENT}-){SNAPSHOT_ID.pattern}{TEMP_SUFFIX}"
    rf"|\.{re.escape(MANIFEST)}{TEMP_SUFFIX}"
)
"""The temp entries an export makes (see temp_dir, point_current_at, write_file_atomically)."""


def snapshot_id(when: datetime) -> str:
    """A sortable name for a snapshot taken at `when` (UTC), e.g. `20240105T101500123456Z`."""
    return when.strftime("%Y%m%dT%H%M%S%fZ")


def next_snapshot_id(out_dir: Path, when: datetime) -> str:
    """`snapshot_id(when)`, or just after the newest snapshot there when the clock went back:
    ids only grow, which is what telling the newest snapshots from older ones relies on."""
    wanted = snapshot_id(when)
    root = out_dir / SNAPSHOTS
    names = (
        [p.name for p in root.iterdir() if SNAPSHOT_ID.fullmatch(p.name)] if root.is_dir() else []
    )
    newest = max(names, default="")
    if wanted > newest:
        return wanted
    after = datetime.strptime(newest, "%Y%m%dT%H%M%S%fZ") + timedelta(microseconds=1)
    return snapshot_id(after)


def temp_dir(out_dir: Path, snapshot: str) -> Path:
    """The folder a snapshot is written into, beside its final place: `DIR/.export-<id>-tmp`."""
    return out_dir / f"{TEMP_PREFIX}{snapshot}{TEMP_SUFFIX}"


def snapshot_dir(out_dir: Path, snapshot: str) -> Path:
    """The folder of a complete snapshot: `DIR/snapshots/<id>`."""
    return out_dir / SNAPSHOTS / snapshot


def stale_temp_entries(out_dir: Path) -> list[Path]:
    """Temp folders, links and files left by exports that crashed (hold the lock to call this)."""
    if not out_dir.is_dir():
        return []
    return sorted(path for path in out_dir.iterdir() if _OWN_TEMP.fullmatch(path.name))


def foreign_entries(out_dir: Path, own: set[str]) -> list[str]:
    """Names in `out_dir` an export did not make (`own`: other names it may hold, e.g. its
    lock file), so that exporting there would replace or prune what it does not own: a
    `current` that is not a link, a `_manifest.json` or `snapshots/` entry not of an export."""
    if not out_dir.is_dir():
        return []
    foreign = []
    for path in out_dir.iterdir():
        name = path.name
        if name in own or _OWN_TEMP.fullmatch(name):
            continue
        if name == CURRENT and path.is_symlink():
            continue
        if name == MANIFEST and path.is_file() and '"snapshot_path"' in _head(path):
            continue
        if name == SNAPSHOTS and path.is_dir() and not path.is_symlink():
            foreign += [
                f"{SNAPSHOTS}/{entry.name}"
                for entry in path.iterdir()
                if not (SNAPSHOT_ID.fullmatch(entry.name) and entry.is_dir())
            ]
            continue
        foreign.append(name)
    return sorted(foreign)


def _head(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return handle.read(4096)


def remove_tree(path: Path) -> None:
    """Delete a folder or a (possibly dangling) link; nothing when it is not there."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path)


def point_current_at(out_dir: Path, snapshot: str) -> None:
    """Make `DIR/current` name `snapshots/<id>` in one atomic rename of a fresh symlink."""
    link = out_dir / f".{CURRENT}-{snapshot}{TEMP_SUFFIX}"
    link.unlink(missing_ok=True)
    link.symlink_to(Path(SNAPSHOTS) / snapshot, target_is_directory=True)
    os.replace(link, out_dir / CURRENT)


_NO_LINKS: Final = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})
"""What `symlink` fails with where the file system has no symbolic links."""


def refuse_a_folder_without_links(out_dir: Path, snapshot: str) -> None:
    """Raise LinklessExportFolderError when `out_dir`'s file system cannot hold the symbolic
    link `current` (FAT and exFAT disks, some network shares): said before a snapshot is
    written for nothing. The trial link has the name `point_current_at` gives its own."""
    link = out_dir / f".{CURRENT}-{snapshot}{TEMP_SUFFIX}"
    link.unlink(missing_ok=True)
    try:
        link.symlink_to(Path(SNAPSHOTS) / snapshot, target_is_directory=True)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:  # a full disk, a read-only one: said as such
            raise
        raise LinklessExportFolderError(
            f"cannot export into {out_dir}: its file system cannot hold symbolic links "
            f"({exc.strerror or exc}; FAT and exFAT disks and some network shares cannot), "
            "and an export is made current by one (readers never see half an export); "
            "export onto another disk with --out"
        ) from exc
    link.unlink()


def current_snapshot(out_dir: Path) -> str | None:
    """The id of the snapshot `DIR/current` names, or None before the first export."""
    link = out_dir / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def snapshot_manifest(out_dir: Path, snapshot: str) -> dict[str, Any]:
    """A snapshot's own manifest; empty when it cannot be read."""
    try:
        said = json.loads((snapshot_dir(out_dir, snapshot) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return said if isinstance(said, dict) else {}


def write_file_atomically(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path`, flush it to disk, then rename it over `path`."""
    temp = path.with_name(f".{path.name}{TEMP_SUFFIX}")
    write_new_file(temp, text.encode("utf-8"), sync=True)  # never through a planted link
    os.replace(temp, path)


def fsync_path(path: Path) -> None:
    """Flush a file's bytes, or a folder's entries (new names, renames), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under `root` (and `root` itself) to disk."""
    for folder, _dirs, names in os.walk(root):
        for name in names:
            fsync_path(Path(folder) / name)
        fsync_path(Path(folder))


def never_current_snapshots(out_dir: Path) -> list[Path]:
    """Complete snapshots newer than `current`: an export killed between moving its snapshot
    into place and pointing `current` at it. No reader ever saw them (hold the lock to call
    this); left, they would count among the snapshots kept and push out the one before."""
    current = current_snapshot(out_dir)
    root = out_dir / SNAPSHOTS
    if current is None or not root.is_dir():
        return []
    return sorted(
        path
        for path in root.iterdir()
        if SNAPSHOT_ID.fullmatch(path.name) and path.name > current and not path.is_symlink()
    )


def prune_snapshots(out_dir: Path, keep: int = KEEP_SNAPSHOTS) -> list[str]:
    """Delete all but the newest `keep` snapshots (never the current one); their ids."""
    root = out_dir / SNAPSHOTS
    return prune_named_folders(root, SNAPSHOT_ID, keep=keep, spare=current_snapshot(out_dir))
