"""The frames the warehouse accepts: their contract columns, checks, dedupe and Arrow form."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

import duckdb
import polars as pl

UTC_MICROS = pl.Datetime("us", "UTC")

MESSAGE_COLUMNS: dict[str, pl.DataType] = {
    "provider": pl.String(),
    "account": pl.String(),
    "kind": pl.String(),
    "message_id": pl.String(),
    "direction": pl.String(),
    "did": pl.String(),
    "contact": pl.String(),
    "contact_kind": pl.String(),
    "sent_at": UTC_MICROS,
    "sent_at_local": pl.String(),
    "body": pl.String(),
    "body_raw": pl.String(),
    "body_source": pl.String(),
    "carrier_status": pl.String(),
    "status": pl.String(),
    "segments": pl.Int32(),
    "encoding": pl.String(),
    "media_count": pl.Int32(),
    "sent_at_other_reading": UTC_MICROS,
    "sent_at_in_doubt": pl.Boolean(),
}
MESSAGE_DEFAULTS: dict[str, object] = {"sent_at_other_reading": None, "sent_at_in_doubt": False}
"""What a messages frame may leave out: no sent_at of it is a guess, and none is in doubt
(see merge_windows)."""
MESSAGE_KEY = ["provider", "account", "kind", "message_id"]

MEDIA_COLUMNS: dict[str, pl.DataType] = {
    "provider": pl.String(),
    "account": pl.String(),
    "message_id": pl.String(),
    "position": pl.Int32(),
    "url": pl.String(),
}
MEDIA_KEY = ["provider", "account", "message_id", "position"]

REJECTED_COLUMNS: dict[str, pl.DataType] = {
    "provider": pl.String(),
    "account": pl.String(),
    "source": pl.String(),
    "record": pl.String(),
    "reason": pl.String(),
}

MEDIA_RESULT_COLUMNS: dict[str, pl.DataType] = {
    "provider": pl.String(),
    "account": pl.String(),
    "message_id": pl.String(),
    "position": pl.Int32(),
    "state": pl.String(),
    "sha256": pl.String(),
    "size_bytes": pl.Int64(),
    "content_type": pl.String(),
    "fetched_at": UTC_MICROS,
    "attempts": pl.Int32(),
    "last_error": pl.String(),
}
"""Download results for `record_media_results`; `attempts` (made this round) defaults to 1."""


def conform(
    frame: pl.DataFrame,
    columns: Mapping[str, pl.DataType],
    what: str,
    *,
    defaults: Mapping[str, object] | None = None,
) -> pl.DataFrame:
    """`frame` reduced to `columns`, in that order and cast to those types.

    An empty frame may lack columns (it gets them); otherwise a missing column without a
    default is an error naming it. Extra columns are dropped.
    """
    defaults = defaults or {}
    missing = [name for name in columns if name not in frame.columns and name not in defaults]
    if missing and frame.height > 0:
        raise ValueError(f"{what} frame lacks column(s) {', '.join(missing)}")
    if frame.width == 0:
        return pl.DataFrame(schema=dict(columns))
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(defaults.get(name)).alias(name)).cast(
            dtype, strict=True
        )
        for name, dtype in columns.items()
    )


def require_account(frame: pl.DataFrame, what: str, provider: str, account: str) -> None:
    """Refuse rows of another provider/account than the window being merged."""
    stray = frame.filter((pl.col("provider") != provider) | (pl.col("account") != account))
    if stray.height:
        first = stray.row(0, named=True)
        raise ValueError(
            f"{what} frame has {stray.height} row(s) of another provider/account "
            f"(e.g. {first['provider']}/{first['account']}) than {provider}/{account}"
        )


def dedupe(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """One row per key; the last one wins, as a later row is the newer reading.

    A frame already unique on its key (the usual case) is returned as it is, not copied.
    """
    if not frame.select(pl.struct(key).is_duplicated().any()).item():
        return frame
    return frame.unique(subset=key, keep="last", maintain_order=True)


@contextlib.contextmanager
def registered(
    con: duckdb.DuckDBPyConnection, frames: Mapping[str, pl.DataFrame]
) -> Iterator[None]:
    """Expose frames to SQL as views named by the keys, for the `with` block (via Arrow).

    Text goes as Arrow string views, which share polars' buffers: the default Arrow form
    (large_string) would copy every text of the batch first.
    """
    try:
        for name, frame in frames.items():
            con.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        yield
    finally:
        for name in frames:
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)
