"""One export at a time per folder, by an advisory lock on `DIR/.export.lock`."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.errors import WarehouseBusyError

LOCK_FILE = ".export.lock"


@contextmanager
def export_lock(out_dir: Path) -> Iterator[None]:
    """Hold the folder's export lock for the block; `WarehouseBusyError` when another has it.

    The kernel drops the lock when its holder dies, so a crashed export never blocks the next.
    """
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # message texts: owner only
    # never through a link planted in its place; the kernel's lock, not the file's content
    fd = os.open(out_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusyError(
                f"another export into {out_dir} is running: wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
