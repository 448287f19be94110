"""Paths DuckDB would read as another file than the one they name, refused up front."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.errors import UnusablePathError


def refuse_a_path_duckdb_misreads(path: Path, what: str) -> None:
    """Raise UnusablePathError when DuckDB, given `path` (`what` it is, for the message),
    would open another file, or none.

    DuckDB reads a `?` in a database's path as the start of its options (it then names the
    write-ahead log at the `?`), and takes every path as UTF-8: where the file system's
    encoding is another (a Latin-1 locale) or the path holds bytes no UTF-8 reading gives,
    it looks elsewhere than Python wrote.
    """
    text = str(path)
    if "?" in text:
        reason = "it holds a `?`, which DuckDB reads as the start of options"
    elif not _utf8_on_disk(text):
        reason = (
            "its name is not UTF-8 on disk (a non-UTF-8 locale, or bytes of another encoding), "
            "and DuckDB reads every path as UTF-8"
        )
    else:
        return
    raise UnusablePathError(
        f"cannot use {what} {text!r}: {reason}; use a folder whose path has no `?` and is "
        "plain ASCII or UTF-8 (set LANG to a UTF-8 locale)"
    )


def _utf8_on_disk(text: str) -> bool:
    """Whether the bytes the file system gets for `text` are its UTF-8."""
    try:
        return os.fsencode(text) == text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, carried as lone surrogates
        return False
