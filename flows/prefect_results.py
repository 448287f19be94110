"""Where Prefect keeps what it records of a run (a failed run's exception): in the data dir."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Final

FOLDER: Final = "prefect-results"
"""The folder of the data dir Prefect's local result storage is pointed at."""

KEPT_FOR: Final = timedelta(days=30)
"""Files older than this are removed as a run starts: Prefect's UI then says a failed run's
exception is no longer at hand, which its log still tells."""


def results_folder(data_dir: Path) -> Path:
    """`<data dir>/prefect-results`, made owner-only, with files past KEPT_FOR removed.

    Prefect writes every failed flow run's exception there (pickled), whatever a flow's
    `persist_result`; by default it would be `~/.prefect/storage`, outside the data dir,
    readable by others and never pruned. Those texts may name DIDs, contacts and paths.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private messages: owner only
    folder = data_dir / FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    cutoff = time.time() - KEPT_FOR.total_seconds()
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
            Path(entry.path).unlink(missing_ok=True)
    return folder


@contextmanager
def prefect_results_in(data_dir: Path) -> Iterator[Path]:
    """Prefect's local result storage is `results_folder(data_dir)` for the block (unless
    the user gave Prefect a storage block of their own, which it then uses)."""
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    folder = results_folder(data_dir)
    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: folder}):
        yield folder
