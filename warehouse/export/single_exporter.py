"""One export at a time per folder, by an advisory lock on `DIR/.export.lock`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.errors import WarehouseBusyError
from warehouse.writer_lock import lock_file_held, taken_at_once

LOCK_FILE = ".export.lock"


@contextmanager
def export_lock(out_dir: Path) -> Iterator[None]:
    """Hold the folder's export lock for the block; `WarehouseBusyError` when another has it.

    The kernel drops the lock when its holder dies, so a crashed export never blocks the next.
    """
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # message texts: owner only
    busy = f"another export into {out_dir} is running: wait for it to finish"
    with lock_file_held(out_dir / LOCK_FILE, taken_at_once(lambda: WarehouseBusyError(busy))):
        yield
