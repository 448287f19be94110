"""Where an export's pieces live: snapshots, the `current` pointer, temp folders, the manifest."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

SNAPSHOTS = "snapshots"
CURRENT = "current"
MANIFEST = "_manifest.json"
TEMP_PREFIX = ".export-"
TEMP_SUFFIX = "-tmp"
KEEP_SNAPSHOTS = 2
"""The current snapshot and the one before it, for readers that opened it just before a swap."""


def snapshot_id(when: datetime) -> str:
    """A sortable name for a snapshot taken at `when` (UTC), e.g. `20240105T101500123456Z`."""
    return when.strftime("%Y%m%dT%H%M%S%fZ")


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
    return sorted(
        path
        for path in out_dir.iterdir()
        if path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX)
    )


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


def current_snapshot(out_dir: Path) -> str | None:
    """The id of the snapshot `DIR/current` names, or None before the first export."""
    link = out_dir / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def write_file_atomically(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path`, flush it to disk, then rename it over `path`."""
    temp = path.with_name(f".{path.name}{TEMP_SUFFIX}")
    with temp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
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


def prune_snapshots(out_dir: Path, keep: int = KEEP_SNAPSHOTS) -> list[str]:
    """Delete all but the newest `keep` snapshots (never the current one); their ids."""
    root = out_dir / SNAPSHOTS
    if not root.is_dir():
        return []
    current = current_snapshot(out_dir)
    ids = sorted((p.name for p in root.iterdir() if p.is_dir()), reverse=True)
    doomed = [name for name in ids[keep:] if name != current]
    for name in doomed:
        shutil.rmtree(root / name)
    return doomed
