"""Media URLs of MMS rows: every entry of `media` (col_media1..3 as fallback), 1-based."""

from __future__ import annotations

from typing import Final

import polars as pl

COL_MEDIA: Final = ("col_media1", "col_media2", "col_media3")


def _present(entry: pl.Expr) -> pl.Expr:
    return entry.str.strip_chars().fill_null("") != ""


def media_entries(media: pl.Expr, col_media: tuple[pl.Expr, ...]) -> pl.Expr:
    """List(Utf8) of a row's media entries as given: `media`, or col_media1..3 if it has none."""
    from_columns = pl.concat_list([c.cast(pl.Utf8) for c in col_media])
    has_url = media.list.eval(_present(pl.element())).list.any().fill_null(False)
    return pl.when(has_url).then(media).otherwise(from_columns)


def media_count(entries: pl.Expr) -> pl.Expr:
    """Int32 number of non-empty URLs among a row's media entries."""
    return entries.list.eval(_present(pl.element())).list.sum().fill_null(0).cast(pl.Int32)


def media_rows(frame: pl.DataFrame, *, entries: str, keys: tuple[str, ...]) -> pl.DataFrame:
    """One row per non-empty URL: the `keys` columns, position (Int32, 1-based), url.

    - The `media` array holds every attachment (`col_media1..3` only the first three), so it is
      the source; `col_media1..3` are used when `media` is missing or holds no URL.
    - Empty (or whitespace-only, or null) entries are dropped; URLs are trimmed.
    - `position` is the entry's 1-based index in the array as the API gave it, so it stays
      aligned with getMediaMMS's list (which the client returns with its empty entries kept);
      with no empty entry in between, positions run 1..media_count.
    - `media_count` is the number of non-empty URLs.
    """
    return (
        frame.select(
            *keys,
            pl.col(entries).alias("url"),
            pl.int_ranges(1, pl.col(entries).list.len() + 1, dtype=pl.Int32).alias("position"),
        )
        .explode(["url", "position"])
        .filter(_present(pl.col("url")))
        .select(*keys, pl.col("position").cast(pl.Int32), pl.col("url").str.strip_chars())
    )
