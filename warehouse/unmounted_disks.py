"""A folder on a disk /etc/fstab names but nothing mounts: no archive starts on the disk below."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

FSTAB: Final = Path("/etc/fstab")
MOUNTINFO: Final = Path("/proc/self/mountinfo")

_ESCAPE: Final = re.compile(r"\\([0-7]{3})")
"""fstab and mountinfo write a space in a path as `\\040` (a tab `\\011`, a backslash `\\134`)."""


def _unescaped(field: str) -> str:
    return _ESCAPE.sub(lambda code: chr(int(code[1], 8)), field)


def fstab_mount_points(text: str) -> list[Path]:
    """The absolute mount points an fstab's lines name (swap and pseudo entries left out)."""
    points = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0].startswith("#") or not fields[1].startswith("/"):
            continue  # blank, a comment, or swap's "none"/"swap"
        if len(fields) > 2 and fields[2] == "swap":
            continue
        points.append(Path(_unescaped(fields[1])))
    return points


def mounted_points(text: str) -> set[Path]:
    """Where something is mounted, by a mountinfo's lines (its fifth field): bind mounts
    included, which `os.path.ismount` cannot tell from a folder of the disk they are on."""
    return {
        Path(_unescaped(fields[4])) for line in text.splitlines() if len(fields := line.split()) > 4
    }


def unmounted_disk(folder: Path, fstab: Path = FSTAB, mountinfo: Path = MOUNTINFO) -> Path | None:
    """The mount point holding `folder` that `fstab` names and nothing is mounted on; None
    when the deepest such point holding it is mounted (or fstab names none, or is unreadable).

    A disk not mounted leaves its mount point an empty folder of the disk below: an archive
    made there would start afresh on the wrong disk, and be hidden when the disk comes back.
    Only the points that hold the folder's path are looked at.
    """
    try:
        text = fstab.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    absolute = Path(os.path.abspath(folder))
    where = Path(os.path.realpath(folder))
    holding: dict[Path, Path] = {}  # each point holding the folder, and where it leads
    for point in fstab_mount_points(text):
        if point == Path("/") or not (
            absolute.is_relative_to(point) or where.is_relative_to(point)
        ):
            continue  # not resolved: a dead network mount elsewhere is never touched
        real = Path(os.path.realpath(point))
        if where.is_relative_to(real):
            holding[point] = real
    if not holding:
        return None
    deepest = max(holding, key=lambda point: len(holding[point].parts))
    try:
        mounted = mounted_points(mountinfo.read_text(encoding="utf-8", errors="replace"))
    except OSError:  # no /proc: the folder's device against its parent's
        return None if os.path.ismount(holding[deepest]) else deepest
    return None if holding[deepest] in mounted else deepest
