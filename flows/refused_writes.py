"""Writes the file system refused (permissions, a read-only mount): the folder's to mend."""

from __future__ import annotations

import errno
from typing import Final

NOT_ALLOWED: Final = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
"""The errnos of a write refused by the file system, not failed by it."""
