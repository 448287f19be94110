"""Files created new at their name, never written through a file or a link already there."""

from __future__ import annotations

import os
from pathlib import Path


def write_new_file(path: Path, data: bytes, *, sync: bool = False, mode: int = 0o666) -> None:
    """Write `data` to `path` as a new file: one already there, or a symlink, is removed
    first (never written through), and the file is created only if nothing took its place
    meanwhile. A folder others may write to can then not redirect what is written. With
    `sync`, the bytes are on disk when this returns. The mode is `mode` less the umask."""
    path.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags, mode), "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
