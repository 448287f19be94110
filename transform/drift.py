"""Provider drift: fields, JSON types and carrier statuses in an answer that we do not know."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, cast

import polars as pl

from transform.raw import KNOWN_FIELDS, SCALAR_FIELDS
from transform.status import unmapped_statuses

NoticeKind = Literal["unknown_field", "changed_type", "unmapped_status", "unknown_error"]

_KINDS: Final = frozenset(("unknown_field", "changed_type", "unmapped_status", "unknown_error"))

_SAMPLE_ROWS: Final = 200
"""Rows of each answer whose JSON types are checked: drift is systematic, so a sample sees it."""


@dataclass(frozen=True, order=True)
class Notice:
    """One surprise: its kind, what it is about (field, status, method and code), an example."""

    kind: NoticeKind
    subject: str
    example: str | None = None

    def describe(self) -> str:
        """One human line, e.g. `a field this version does not read: 'billing_code'`."""
        what = {
            "unknown_field": "a field this version does not read",
            "changed_type": "a field of an unexpected JSON type",
            "unmapped_status": "a carrier status that maps to no known status",
            "unknown_error": "an error code this version does not know",
        }[self.kind]
        example = f" ({self.example})" if self.example else ""
        return f"{what}: {self.subject!r}{example}"

    @classmethod
    def from_row(cls, row: tuple[str, str, str | None]) -> Notice:
        """A notice from (kind, subject, example) as the warehouse records it."""
        kind, subject, example = row
        if kind not in _KINDS:
            raise ValueError(f"not a notice kind: {kind!r}")
        return cls(cast("NoticeKind", kind), subject, example)

    def as_row(self) -> tuple[str, str, str | None]:
        """(kind, subject, example), as the warehouse records it."""
        return (self.kind, self.subject, self.example)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _sample(rows: Sequence[object]) -> Sequence[object]:
    if len(rows) <= _SAMPLE_ROWS:
        return rows
    step = len(rows) // _SAMPLE_ROWS
    return rows[::step]


def answer_drift(rows: Sequence[object], method: str) -> set[Notice]:
    """Unknown field names (every row) and known fields of another JSON type (a sample).

    The API writes every scalar as a string and `media` as an array; a number where a
    string was (an id sent as 123) still reads, but the user should hear of it.
    """
    notices: set[Notice] = set()
    # Rows of one answer share a handful of key orders: collect those at C speed.
    shapes = {tuple(row) for row in rows if type(row) is dict}
    shapes.update(tuple(row) for row in rows if type(row) is not dict and isinstance(row, Mapping))
    keys = {str(key) for shape in shapes for key in shape}
    for name in sorted(keys - KNOWN_FIELDS):
        notices.add(Notice("unknown_field", f"{method}.{name}"))
    for row in _sample(rows):
        if not isinstance(row, Mapping):
            continue
        for name in SCALAR_FIELDS:
            kind = _json_type(row.get(name))
            if kind not in ("string", "null"):
                notices.add(Notice("changed_type", f"{method}.{name}", f"{kind}, not string"))
        media = row.get("media")
        if media is not None and not isinstance(media, list | Mapping):
            kind = _json_type(media)
            notices.add(Notice("changed_type", f"{method}.media", f"{kind}, not array"))
    return notices


def status_drift(messages: pl.DataFrame) -> set[Notice]:
    """Carrier statuses of the window's messages that map to no canonical status."""
    unmapped = unmapped_statuses(messages.select("carrier_status").unique())
    return {
        Notice("unmapped_status", str(status))
        for status in unmapped.get_column("carrier_status").to_list()
        if status is not None
    }
