"""The API's naive local `date` to a UTC instant: DST-correct, the repeated hour by token or id."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import polars as pl

from transform.repeated_hour import split_passes
from transform.zone_rules import utc_readings

DEFAULT_TIMEZONE: Final = "America/New_York"
DATE_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
DATE_PATTERN: Final = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
YEARS: Final = (1970, 2999)
"""The years a message's local date may be in: outside them it is a provider's placeholder
or damage (9999-12-31 is past what a UTC timestamp partitioned by year can hold), kept aside."""


def local_datetime(date: pl.Expr) -> pl.Expr:
    """Naive Datetime('us') of a raw `date`; null when it is not a real `YYYY-MM-DD HH:MM:SS`."""
    text = date.str.strip_chars()
    return (
        pl.when(text.str.contains(DATE_PATTERN))
        .then(text.str.strptime(pl.Datetime("us"), DATE_FORMAT, strict=False))
        .otherwise(pl.lit(None, dtype=pl.Datetime("us")))
    )


def in_years(local: pl.Expr) -> pl.Expr:
    """Whether a naive local time's year is within YEARS."""
    return local.dt.year().is_between(*YEARS)


def _in_zone(local: pl.Expr, timezone: str) -> pl.Expr:
    """The (earliest) UTC instant of a naive local time, null in the spring gap and outside
    YEARS, read in the tzdata package's rules (`transform.zone_rules`), not polars' own."""
    return local.map_batches(
        lambda times: utc_readings(times, timezone, YEARS)["earliest"],
        return_dtype=pl.Datetime("us", "UTC"),
        is_elementwise=True,
    )


def exists_locally(local: pl.Expr, timezone: str) -> pl.Expr:
    """False where a naive local time falls in the zone's spring-forward gap (null for a null
    time, and one outside YEARS: its zone's rules are not read)."""
    return (
        pl.when(local.is_null() | ~in_years(local))
        .then(None)
        .otherwise(_in_zone(local, timezone).is_not_null())
    )


Told = str | pl.Expr | None
"""A row's true instant where one is known (epoch seconds, Int64): a column's name, or an
expression over the frame's columns, read for the ambiguous rows alone."""

TOLD_WITHIN: Final = timedelta(minutes=15)
"""A told instant decides a row's pass only this close to one of its two readings: one
farther off (a zone set wrong) tells nothing about which."""


def sent_at_readings(
    frame: pl.DataFrame, *, timezone: str, local: str, order: str, group: str, told: Told = None
) -> pl.DataFrame:
    """Each row's `sent_at`, Datetime('us', 'UTC') of its naive `local` time (null in the
    spring gap), and `sent_at_other_reading`.

    `local` is the naive Datetime column (`local_datetime` reads the API's `date`,
    `YYYY-MM-DD HH:MM:SS` in the account's IANA zone), `order` the id column (digits,
    compared as numbers), `group` the column within which ids grow with time (the kind).

    - A local time inside the spring-forward gap (02:30 on the day New York skips from 02:00
      to 03:00) never happened: null, and the caller rejects the row with a reason.
    - The autumn hour that is lived twice (01:00-01:59:59 on the day New York falls back) is
      ambiguous. Where `told` gives a row's true instant (an MMS's media token, `api_zone`)
      within TOLD_WITHIN of a reading, the row takes that reading. Otherwise ids of one kind
      grow with time (SMS and MMS have separate counters), so within one kind and one local
      day the ambiguous rows are taken in id order and split once, the rows before the split
      in the first pass (daylight time) and the rest in the second (standard time): the
      split that leaves the fewest rows out of order in time (`transform.repeated_hour`).
      A row the clock steps back at starts the second pass, but one SMS delivered late (a
      larger id, an earlier clock time) amid later first-pass rows stays an outlier rather
      than moving them all an hour. A row no split tells apart takes the earliest instant
      for want of evidence (a second-pass SMS later on the clock than every first-pass one,
      or with none before it in the batch, is then an hour early).
    - `sent_at_other_reading` is null but for the ambiguous rows no token told: there it is
      the reading not taken, which a merge keeps when the archive holds it. The split is an
      inference from the rows the answer holds; an earlier answer held others (a first-pass
      message the provider has since forgotten) or fewer late ones (each late SMS weighs
      against the split), so a later answer's inference never moves an archived instant.
    """
    readings = utc_readings(frame[local], timezone, YEARS).select(
        sent_at="earliest", _latest="latest"
    )
    ambiguous = (readings["sent_at"] != readings["_latest"]).fill_null(False)
    if not ambiguous.any():  # most windows: no autumn night, nothing to sort
        return readings.select(
            "sent_at", pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("sent_at_other_reading")
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
    off_first = (pl.col("sent_at") - instant).abs()
    off_second = (pl.col("_latest") - instant).abs()
    digits = pl.col(order).str.strip_chars_start("0")
    ordered = rows.with_columns(
        # the reading nearer the told instant, if near at all; null where nothing is told
        _told=pl.when(pl.min_horizontal(off_first, off_second) <= TOLD_WITHIN).then(
            off_second < off_first
        ),
        _day=pl.col(local).dt.date(),
        _len=digits.str.len_chars(),
        _digits=digits,
    ).sort([group, "_day", "_len", "_digits", "_row"])
    flagged = pl.concat(
        [_passes(hour) for hour in ordered.partition_by([group, "_day"], maintain_order=True)]
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
            pl.when(pl.col("_second").is_not_null() & pl.col("_told").is_null())
            .then(pl.when(pl.col("_second")).then(pl.col("sent_at")).otherwise(pl.col("_latest")))
            .alias("sent_at_other_reading"),
        )
    )


def _passes(hour: pl.DataFrame) -> pl.DataFrame:
    """`_row`, `_second` and `_told` of one kind's rows in one repeated hour, in id order."""
    passes = split_passes(
        hour["sent_at"].dt.epoch("us").to_list(),
        hour["_latest"].dt.epoch("us").to_list(),
        hour["_told"].to_list(),
    )
    return pl.DataFrame(
        {"_row": hour["_row"], "_second": passes.second, "_told": hour["_told"]},
        schema={"_row": hour.schema["_row"], "_second": pl.Boolean, "_told": pl.Boolean},
    )
