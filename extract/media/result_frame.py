"""Download results as a polars frame, the caller's key spread over named columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from extract.media.records import K, MediaResult

# The media key as contracts.md names it: (provider, account, message_id, position).
MEDIA_KEY_SCHEMA: Mapping[str, pl.DataType] = {
    "provider": pl.Utf8(),
    "account": pl.Utf8(),
    "message_id": pl.Utf8(),
    "position": pl.Int32(),
}

RESULT_SCHEMA: Mapping[str, pl.DataType] = {
    "url": pl.Utf8(),
    "state": pl.Utf8(),
    "sha256": pl.Utf8(),
    "size_bytes": pl.Int64(),
    "content_type": pl.Utf8(),
    "fetched_at": pl.Datetime("us", "UTC"),
    "attempts": pl.Int32(),
    "error": pl.Utf8(),
}


def results_frame(
    results: Sequence[MediaResult[K]],
    key_schema: Mapping[str, pl.DataType] = MEDIA_KEY_SCHEMA,
) -> pl.DataFrame:
    """One row per result: the key's parts as `key_schema`'s columns (a tuple key gives one
    part per column; any other key is a single part), then RESULT_SCHEMA's columns."""
    names = list(key_schema)
    columns: dict[str, list[object]] = {name: [] for name in [*names, *RESULT_SCHEMA]}
    for result in results:
        parts = result.key if isinstance(result.key, tuple) else (result.key,)
        if len(parts) != len(names):
            raise ValueError(f"key has {len(parts)} parts but key_schema has {len(names)}")
        for name, value in zip(names, parts, strict=True):
            columns[name].append(value)
        for name in RESULT_SCHEMA:
            columns[name].append(getattr(result, name))
    schema = {**key_schema, **RESULT_SCHEMA}
    return pl.DataFrame(
        [pl.Series(name, values, dtype=schema[name]) for name, values in columns.items()]
    )
