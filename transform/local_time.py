"""The API's naive local `date` to a UTC instant, DST-correct, the repeated hour by id order."""

from __future__ import annotations

from typing import Final, Literal

import polars as pl

DEFAULT_TIMEZONE: Final = "America/New_York"
DATE_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
DATE_PATTERN: Final = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"


def local_datetime(date: pl.Expr) -> pl.Expr:
    """Naive Datetime('us') of a raw `date`; null when it is not a real `YYYY-MM-DD HH:MM:SS`."""
    text = date.str.strip_chars()
    return (
        pl.when(text.str.contains(DATE_PATTERN))
        .then(text.str.strptime(pl.Datetime("us"), DATE_FORMAT, strict=False))
        .otherwise(pl.lit(None, dtype=pl.Datetime("us")))
    )


def _in_zone(local: pl.Expr, timezone: str, ambiguous: Literal["earliest", "latest"]) -> pl.Expr:
    return local.dt.replace_time_zone(
        timezone, ambiguous=ambiguous, non_existent="null"
    ).dt.convert_time_zone("UTC")


def exists_locally(local: pl.Expr, timezone: str) -> pl.Expr:
    """False where a naive local time falls in the zone's spring-forward gap (null stays null)."""
    return (
        pl.when(local.is_null())
        .then(None)
        .otherwise(_in_zone(local, timezone, "earliest").is_not_null())
    )


Told = str | pl.Expr | None
"""A row's true instant where one is known (epoch seconds, Int64): a column's name, or an
expression over the frame's columns, read for the ambiguous rows alone."""


def sent_at_readings(
    frame: pl.DataFrame, *, timezone: str, local: str, order: str, group: str, told: Told = None
) -> pl.DataFrame:
    """`sent_at` (see `sent_at_utc`) and `sent_at_second_pass` of each row of `frame`.

    `local` is the naive Datetime column, `order` the id column (digits, compared as
    numbers), `group` the column within which ids grow with time (the message kind).
    `sent_at_second_pass` is null but where the row's local time is ambiguous and nothing in
    the batch tells its pass, so that `sent_at` is the earliest reading for want of evidence:
    there it is the later reading, which a merge keeps when the archive holds it (an earlier
    answer had the evidence: a first-pass message the provider has since forgotten, say).
    """
    readings = frame.select(
        _in_zone(pl.col(local), timezone, "earliest").alias("sent_at"),
        _in_zone(pl.col(local), timezone, "latest").alias("_latest"),
    )
    ambiguous = (readings["sent_at"] != readings["_latest"]).fill_null(False)
    if not ambiguous.any():  # most windows: no autumn night, nothing to sort
        return readings.select(
            "sent_at", pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("sent_at_second_pass")
        )
    told_expr = pl.col(told) if isinstance(told, str) else told
    needed = {local, order, group, *(told_expr.meta.root_names() if told_expr is not None else [])}
    rows = (
        frame.select(sorted(needed))
        .with_columns(readings.get_columns())
        .with_row_index("_row")
        .filter(ambiguous)
    )
    instant = pl.from_epoch(
        told_expr if told_expr is not None else pl.lit(None, dtype=pl.Int64), time_unit="s"
    ).dt.replace_time_zone("UTC")
    digits = pl.col(order).str.strip_chars_start("0")
    by_day = [group, "_day"]
    flagged = (
        rows.with_columns(
            # the reading nearer the told instant; null where nothing is told
            _told=(pl.col("_latest") - instant).abs() < (pl.col("sent_at") - instant).abs(),
            _day=pl.col(local).dt.date(),
            _len=digits.str.len_chars(),
            _digits=digits,
        )
        .sort([group, "_day", "_len", "_digits", "_row"])
        .with_columns(
            _stepped=(
                (pl.col(local) < pl.col(local).cum_max().shift(1).over(by_day)) | pl.col("_told")
            ).fill_null(False),
            # a later id earlier on the clock: that one is in the second pass, so this one is not
            _before_a_step=(
                pl.col(local) > pl.col(local).cum_min(reverse=True).shift(-1).over(by_day)
            ).fill_null(False),
        )
        .with_columns(
            _second=pl.coalesce(pl.col("_told"), pl.col("_stepped").cum_max().over(by_day))
        )
        .select(
            "_row",
            "_second",
            _guessed=~pl.col("_second") & pl.col("_told").is_null() & ~pl.col("_before_a_step"),
        )
    )
    return (
        readings.with_row_index("_row")
        .join(flagged, on="_row", how="left")
        .sort("_row")
        .select(
            pl.when(pl.col("_second"))
            .then(pl.col("_latest"))
            .otherwise(pl.col("sent_at"))
            .alias("sent_at"),
            pl.when(pl.col("_guessed")).then(pl.col("_latest")).alias("sent_at_second_pass"),
        )
    )


def second_pass(
    frame: pl.DataFrame, *, timezone: str, local: str, order: str, group: str, told: Told = None
) -> pl.Series:
    """True for rows in the repeated hour recognised as its second pass (see `sent_at_utc`)."""
    got = sent_at_readings(
        frame, timezone=timezone, local=local, order=order, group=group, told=told
    )
    latest = frame.select(_in_zone(pl.col(local), timezone, "latest")).to_series()
    earliest = frame.select(_in_zone(pl.col(local), timezone, "earliest")).to_series()
    return (
        ((got["sent_at"] == latest) & (latest != earliest)).fill_null(False).rename("second_pass")
    )


def sent_at_if_second_pass(
    frame: pl.DataFrame, *, timezone: str, local: str, order: str, group: str, told: Told = None
) -> pl.Series:
    """`sent_at_second_pass` of `sent_at_readings`."""
    got = sent_at_readings(
        frame, timezone=timezone, local=local, order=order, group=group, told=told
    )
    return got.get_column("sent_at_second_pass")


def sent_at_utc(
    frame: pl.DataFrame, *, timezone: str, local: str, order: str, group: str, told: Told = None
) -> pl.Series:
    """Datetime('us', 'UTC') of each row's naive `local` time (null in the spring gap).

    The API's `date` is `YYYY-MM-DD HH:MM:SS` in the account's IANA zone (America/New_York
    unless told); `local_datetime` reads it.

    - Anything else (other shapes, impossible calendar dates such as 02-30 or 24:00:00) is
      unreadable, and a local time inside the spring-forward gap (02:30 on the day New York
      skips from 02:00 to 03:00) never happened: both are rejected by the caller with a reason.
    - The autumn hour that is lived twice (01:00-01:59:59 on the day New York falls back) is
      ambiguous. Ids of one kind grow with time (SMS and MMS have separate counters), so within
      one kind and one local day, the ambiguous rows are taken in id order: the first local time
      that steps back below the latest one seen before it starts the second pass, and it and
      every later id take the later offset (standard time). Rows before the step, and every
      ambiguous row when nothing steps back, take the earliest instant (daylight time). So a
      row is recognised as in the second pass only when its local time is earlier than that
      of a row of its kind with a smaller id in the batch (or its id is later than such a
      row's); a second-pass row later on the clock than every first-pass row of its kind, or
      with none before it in the batch, takes the earliest instant: an hour early.
    - Where `told` gives a row's true instant (an MMS's media token, `api_zone`), the row
      takes the reading nearer that instant, whatever the ids say; a row it tells is in the
      second pass starts the second pass for the later ids of its kind and day.
    """
    got = sent_at_readings(
        frame, timezone=timezone, local=local, order=order, group=group, told=told
    )
    return got.get_column("sent_at")
