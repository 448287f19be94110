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


def _passes(
    frame: pl.DataFrame, *, timezone: str, local: str, order: str, group: str, told: str | None
) -> pl.DataFrame:
    """Per row: `second_pass` (see `sent_at_utc`), and `guessed`, true where the row's local
    time is ambiguous and nothing in the batch tells its pass: the earliest reading is taken
    for want of evidence, not because of it."""
    earliest = _in_zone(pl.col(local), timezone, "earliest")
    latest = _in_zone(pl.col(local), timezone, "latest")
    ambiguous = (earliest != latest).fill_null(False)
    digits = pl.col(order).str.strip_chars_start("0")
    told_later = pl.lit(None, dtype=pl.Boolean)  # the reading nearer the told instant
    if told is not None:
        instant = pl.from_epoch(pl.col(told), time_unit="s").dt.replace_time_zone("UTC")
        told_later = (latest - instant).abs() < (earliest - instant).abs()
    by_day = [group, "_day"]
    flagged = (
        frame.select(pl.col(local), pl.col(order), pl.col(group), told_later.alias("_told"))
        .with_row_index("_row")
        .filter(ambiguous)
        .with_columns(_day=pl.col(local).dt.date(), _len=digits.str.len_chars(), _digits=digits)
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
            second_pass=pl.coalesce(pl.col("_told"), pl.col("_stepped").cum_max().over(by_day))
        )
        .with_columns(
            guessed=~pl.col("second_pass") & pl.col("_told").is_null() & ~pl.col("_before_a_step")
        )
        .select("_row", "second_pass", "guessed")
    )
    return (
        frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"))
        .join(flagged, on="_row", how="left")
        .sort("_row")
        .select(pl.col("second_pass", "guessed").fill_null(False))
    )


def second_pass(
    frame: pl.DataFrame,
    *,
    timezone: str,
    local: str,
    order: str,
    group: str,
    told: str | None = None,
) -> pl.Series:
    """True for rows in the repeated hour recognised as its second pass (see `sent_at_utc`).

    `local` is the naive Datetime column, `order` the id column (digits, compared as
    numbers), `group` the column within which ids grow with time (the message kind), `told`
    an optional column of the true instant where one is known (epoch seconds, Int64).
    """
    passes = _passes(frame, timezone=timezone, local=local, order=order, group=group, told=told)
    return passes.get_column("second_pass")


def sent_at_if_second_pass(
    frame: pl.DataFrame,
    *,
    timezone: str,
    local: str,
    order: str,
    group: str,
    told: str | None = None,
) -> pl.Series:
    """Datetime('us', 'UTC'): where `sent_at_utc` took the earliest reading of an ambiguous
    local time for want of evidence, the later one it may as well be; null elsewhere.

    A merge keeps an archived sent_at equal to it: an earlier answer held the evidence (a
    first-pass message the provider has since forgotten, say) that this one lacks.
    """
    passes = _passes(frame, timezone=timezone, local=local, order=order, group=group, told=told)
    return (
        frame.select(pl.col(local), passes.get_column("guessed").alias("_guessed"))
        .select(
            pl.when(pl.col("_guessed"))
            .then(_in_zone(pl.col(local), timezone, "latest"))
            .alias("sent_at_second_pass")
        )
        .get_column("sent_at_second_pass")
    )


def sent_at_utc(
    frame: pl.DataFrame,
    *,
    timezone: str,
    local: str,
    order: str,
    group: str,
    told: str | None = None,
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
    later = second_pass(frame, timezone=timezone, local=local, order=order, group=group, told=told)
    return (
        frame.select(pl.col(local), later.alias("_later"))
        .select(
            pl.when(pl.col("_later"))
            .then(_in_zone(pl.col(local), timezone, "latest"))
            .otherwise(_in_zone(pl.col(local), timezone, "earliest"))
            .alias("sent_at")
        )
        .get_column("sent_at")
    )
