"""Raw frames: API rows as received, every scalar as text, media as a list, the row as JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Final

import orjson
import polars as pl
import pyarrow as pa

from extract.raw_rows import INVALID_TEXT_FIELD, NOT_AN_OBJECT_FIELD, media_key, row_repaired

SCALAR_FIELDS: Final = (
    "id",
    "date",
    "type",
    "did",
    "contact",
    "message",
    "carrier_status",
    "col_media1",
    "col_media2",
    "col_media3",
)
"""Fields of a getSMS/getMMS row kept as Utf8 columns (getSMS rows leave col_media* null)."""

KNOWN_FIELDS: Final = frozenset((*SCALAR_FIELDS, "media", INVALID_TEXT_FIELD, NOT_AN_OBJECT_FIELD))
"""Every field the transform reads; anything else is kept in `record` and reported."""

RAW_SCHEMA: Final = pl.Schema(
    {
        **dict.fromkeys(SCALAR_FIELDS, pl.Utf8()),
        "media": pl.List(pl.Utf8()),
        "record": pl.Utf8(),
        "source": pl.Utf8(),
    }
)
"""Columns of every raw frame, whatever the source and even when empty."""

_RECORD_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
"""The fallback for rows orjson refuses (non-text keys, integers beyond 64 bits)."""


def _record(row: object) -> str:
    """A row as compact JSON, non-ASCII kept as is (NaN and infinities become null)."""
    try:
        return orjson.dumps(row, default=str).decode()
    except TypeError:
        return _RECORD_ENCODER.encode(row)


def _quick_record(row: object) -> str | None:
    """The row's `record` when orjson takes it as it is (almost always), else None."""
    try:
        return orjson.dumps(row, default=str).decode()
    except TypeError:
        return None  # a lone surrogate, a non-text key or an integer beyond 64 bits


def _text(value: object) -> str | None:
    """A raw value as text: strings as is, numbers without a spurious '.0', nested as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) and value.is_integer() else repr(value)
    if isinstance(value, Mapping | list | tuple):
        return _record(value)
    return str(value)


def _media_list(value: object) -> list[str | None] | None:
    """`media` as a list of texts: a list as is, an object keyed "1".."n" in key order."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        keys = sorted((str(k) for k in value), key=media_key)
        by_text = {str(k): v for k, v in value.items()}
        return [_text(by_text[k]) for k in keys]
    if isinstance(value, list | tuple):
        return [_text(item) for item in value]
    text = _text(value)
    return [] if text == "" else [text]


def _column(rows: list[dict[str, object]], name: str) -> pl.Series:
    """One scalar field of every row as a Utf8 series, non-text values converted one by one."""
    values = [row.get(name) for row in rows]
    try:
        return pl.Series(name, values, dtype=pl.Utf8, strict=True)
    except TypeError:
        return pl.Series(name, [_text(value) for value in values], dtype=pl.Utf8)


def _scalars(rows: list[dict[str, object]]) -> pl.DataFrame:
    """The scalar fields of every row as Utf8 columns.

    polars reads text, integers, floats and booleans straight into Utf8 (1 and 1.0 both as
    "1", true as "true"); nested values or integers beyond 64 bits make it refuse, and then
    each column is converted in Python.
    """
    schema = dict.fromkeys(SCALAR_FIELDS, pl.Utf8())
    try:
        return pl.from_dicts(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    except (pl.exceptions.PolarsError, TypeError, ValueError, OverflowError):
        return pl.DataFrame([_column(rows, name) for name in SCALAR_FIELDS])


def _as_dict(row: object) -> dict[str, object]:
    """A row as a dict; one that is not an object (broken answers) reads as having no fields."""
    if type(row) is dict:
        return row
    return {str(key): value for key, value in row.items()} if isinstance(row, Mapping) else {}


def raw_frame(rows: Iterable[Mapping[str, object]], source: str) -> pl.DataFrame:
    """One Utf8 row per raw record, with `media` as List(Utf8), `record` (JSON) and `source`.

    Values may arrive as strings or numbers: integral numbers become their digits ("1" for
    1 or 1.0), other non-text scalars their JSON text. `media` accepts a list or an object
    keyed "1".."n" (ordered by key); a missing `media` stays null so the media frame can fall
    back to `col_media1..3`. `record` is the row exactly as received, as compact JSON, except
    that text which is not valid Unicode is shown as U+FFFD and named in INVALID_TEXT_FIELD.
    """
    given: list[object] = list(rows)
    records = [_quick_record(row) for row in given]
    if None in records:  # rare: repair what is not valid Unicode, then write what is left
        for index, text in enumerate(records):
            if text is None:
                given[index] = row_repaired(given[index])
                records[index] = _record(given[index])
    dicts = [_as_dict(row) for row in given]
    # through Arrow: polars builds a list column from Python lists ~30 times slower
    media_lists = pa.array(
        [_media_list(row.get("media")) for row in dicts], type=pa.large_list(pa.large_string())
    )
    media = pl.Series("media", media_lists, dtype=pl.List(pl.Utf8))
    record = pl.Series("record", records, dtype=pl.Utf8)
    frame = _scalars(dicts).with_columns(media, record)
    return frame.with_columns(source=pl.lit(source, dtype=pl.Utf8)).select(RAW_SCHEMA.names())
