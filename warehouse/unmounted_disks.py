"""A folder on a disk /etc/fstab names but nothing mounts: no archive starts on the disk below."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

FSTAB: Final = Path("/etc/fstab")

_ESCAPE: Final = re.compile(r"\\([0-7]{3})")
"""fstab writes a space in a path as `\\040` (a tab `\\011`, a backslash `\\134`)."""


def fstab_mount_points(text: str) -> list[Path]:
    """The absolute mount points an fstab's lines name (swap and pseudo entries left out)."""
    points = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or not fields[1].startswith("/"):
            continue  # blank, a comment, or swap's "none"/"swap"
        if len(fields) > 2 and fields[2] == "swap":
            continue
        points.append(Path(_ESCAPE.sub(lambda code: chr(int(code[1], 8)), fields[1])))
    return points


def unmounted_disk(folder: Path, fstab: Path = FSTAB) -> Path | None:
    """The mount point holding `folder` that `fstab` names and nothing is mounted on; None
    when the deepest such point holding it is mounted (or fstab names none, or is unreadable).

    A disk not mounted leaves its mount point an empty folder of the disk below: an archive
    made there would start afresh on the wrong disk, and be hidden when the disk comes back.
    """
    try:
        text = fstab.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    where = Path(os.path.realpath(folder))
    holding = [
        point
        for point in fstab_mount_points(text)
        if point != Path("/") and where.is_relative_to(Path(os.path.realpath(point)))
    ]
    if not holding:
        return None
    deepest = max(holding, key=lambda point: len(Path(os.path.realpath(point)).parts))
    return None if os.path.ismount(deepest) else deepest
