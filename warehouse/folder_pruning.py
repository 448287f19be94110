"""Deletes all but the newest of the folders a name pattern marks as ours (exports, reports)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path


def prune_named_folders(
    root: Path, names: re.Pattern[str], *, keep: int, spare: str | None = None
) -> list[str]:
    """Delete all but the newest `keep` folders of `root` whose whole name `names` matches
    (names that sort by time), never `spare` nor anything else there; the names deleted."""
    if not root.is_dir():
        return []
    named = sorted(
        (
            path.name
            for path in root.iterdir()
            if path.is_dir() and not path.is_symlink() and names.fullmatch(path.name)
        ),
        reverse=True,
    )
    doomed = [name for name in named[keep:] if name != spare]
    for name in doomed:
        shutil.rmtree(root / name)
    return doomed
