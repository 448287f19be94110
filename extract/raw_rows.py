"""What a raw row may carry: damaged text repaired and named, a non-object wrapped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

INVALID_TEXT_FIELD: Final = "smsarchive_invalid_text"
"""Added to a row whose text could not be read as sent (bytes that are not UTF-8, a lone
surrogate, a broken escape): the names of its damaged fields, comma-joined. Such text is shown
with U+FFFD, and the transform quarantines the row in rejected_records
(transform/rejection.py)."""

NOT_AN_OBJECT_FIELD: Final = "smsarchive_not_an_object"
"""A getSMS/getMMS row that is not a JSON object (null, a string, a list...) is kept as the
object {NOT_AN_OBJECT_FIELD: value}: landed with the rest, then quarantined by the transform
instead of failing the whole window."""

_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def text_repaired(value: object) -> tuple[object, bool]:
    """`value` with every lone surrogate (a bad byte, a lone or broken escape) as U+FFFD, and
    whether there was one; lists and objects are repaired all through."""
    if isinstance(value, str):
        fixed, count = _SURROGATE.subn("\ufffd", value)
        return fixed, count > 0
    if isinstance(value, list | tuple):
        items = [text_repaired(item) for item in value]
        return [item for item, _ in items], any(bad for _, bad in items)
    if isinstance(value, Mapping):
        pairs = [(text_repaired(k), text_repaired(v)) for k, v in value.items()]
        return {k: v for (k, _), (v, _) in pairs}, any(bk or bv for (_, bk), (_, bv) in pairs)
    return value, False


def row_repaired(row: object) -> object:
    """The row with text that is not valid Unicode repaired and named, else the row as given.

    A str holding a lone surrogate (from a lone \\uD800 escape, or bytes decoded with
    `surrogateescape`) can be neither stored nor written as UTF-8: it becomes U+FFFD and an
    object row names the field in INVALID_TEXT_FIELD.
    """
    if not isinstance(row, Mapping):
        text, bad = text_repaired(row)
        return text if bad else row
    fixed: dict[str, object] = {}
    damaged: list[str] = []
    for key, value in row.items():
        name, bad_name = text_repaired(key)
        text, bad_value = text_repaired(value)
        fixed[str(name)] = text
        if bad_name or bad_value:
            damaged.append(str(name))
    if not damaged:
        return row
    fixed[INVALID_TEXT_FIELD] = ",".join(damaged)
    return fixed


def media_key(key: str) -> tuple[int, int, str]:
    """Order `media` object keys "1".."n" numerically, anything else after them as text."""
    return (0, int(key), key) if key.isdigit() else (1, 0, key)
