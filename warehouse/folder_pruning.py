"""Deletes all but the newest of the folders a name pattern marks as ours (exports, reports)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

logger = logging.getLogger("smsarchive")


def prune_named_folders(
    root: Path, names: re.Pattern[str], *, keep: int, spare: str | None = None
) -> list[str]:
    """Delete all but the newest `keep` folders of `root` whose whole name `names` matches
    (names that sort by time), never `spare` nor anything else there; the names deleted.

    A folder that cannot be deleted (someone else's files, a read-only mount) is left with a
    warning: pruning runs after what it makes room for was written, which stands."""
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
    deleted = []
    for name in (name for name in named[keep:] if name != spare):
        try:
            shutil.rmtree(root / name)
        except OSError as exc:
            # what was just written stands: an old folder left over is no reason to fail it
            logger.warning("could not delete the old %s: %s; delete it by hand", root / name, exc)
            continue
        deleted.append(name)
    return deleted
