"""Time-zone rules of the locked tzdata package (DuckDB's release), for polars and Python alike."""

from __future__ import annotations

import functools
import posixpath
import threading
import zoneinfo
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Final

import polars as pl
import tzdata

TZDATA_RELEASE: Final = str(tzdata.IANA_VERSION)
"""The IANA release every zone is read in: the locked `tzdata` package's. DuckDB's own copy
(ICU's) is of the same release; the system's (`/usr/share/zoneinfo`, Python's first choice)
and polars' (compiled in) may be older, and a zone changed since reads an hour off in them
(America/Vancouver from November 2026)."""

PROBE_SECONDS: Final = 86_400
"""How far apart a zone's offset is looked at to find where it changes (then to the second):
no zone's offset changes twice within a day (every zone of the package, 1970-2040, reads the
same probed hourly)."""
_NAMES: Final = ("earliest", "latest")
_MICROS: Final = 1_000_000
_BEFORE_ALL: Final = -(2**63)
_AFTER_ALL: Final = 2**63 - 1
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_FILLING: Final = threading.RLock()
"""Held while a zone's rules or a year's changes are read: threads reading windows of one
zone at once read them once, and share one ZoneInfo of each zone."""


def zone_info(name: str) -> zoneinfo.ZoneInfo:
    """The rules of the IANA zone `name` from the tzdata package; the system's copy only for
    a zone the package does not hold. Raises zoneinfo.ZoneInfoNotFoundError for no zone, and
    ValueError for a name that is not a zone's (a path, `..`), as zoneinfo.ZoneInfo does."""
    with _FILLING:
        return _zone_info(name)


@functools.cache
def _zone_info(name: str) -> zoneinfo.ZoneInfo:
    if not name or posixpath.isabs(name) or posixpath.normpath(name) != name:
        raise ValueError(f"not a time zone's name: {name!r}")
    path = resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
    try:
        with path.open("rb") as rules:
            return zoneinfo.ZoneInfo.from_file(rules, key=name)
    except (OSError, ValueError):  # not in the package (or not a zone file): ask the system
        return zoneinfo.ZoneInfo(name)


def package_rules_everywhere(environ: MutableMapping[str, str]) -> None:
    """Make `zoneinfo.ZoneInfo` read the tzdata package in this process and the processes it
    starts (`environ` is what they inherit), as `zone_info` does: Prefect's scheduler among
    them, which dates `serve`'s cron in the account's zone. A PYTHONTZPATH already set is
    the user's choice and is kept."""
    environ.setdefault("PYTHONTZPATH", "")  # empty: no system folder, the package alone
    if not environ["PYTHONTZPATH"]:
        zoneinfo.reset_tzpath(to=[])


def _second(year: int) -> int:
    return int((datetime(year, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())


def _offset(rules: zoneinfo.ZoneInfo, second: int) -> int:
    """The zone's UTC offset, in seconds, at an instant (epoch seconds; before 1970 too)."""
    offset = (_EPOCH + timedelta(seconds=second)).astimezone(rules).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _offset_changes(name: str, year: int) -> tuple[tuple[int, int], ...]:
    """Each change of the zone's UTC offset within a UTC year: (epoch second it takes effect,
    the offset from then in seconds), in time order."""
    with _FILLING:
        return _year_changes(name, year)


@functools.cache
def _year_changes(name: str, year: int) -> tuple[tuple[int, int], ...]:
    rules = zone_info(name)
    end = _second(year + 1)
    offset = _offset(rules, _second(year))
    changes = []
    for probe in range(_second(year), end, PROBE_SECONDS):
        later = min(probe + PROBE_SECONDS, end)
        if _offset(rules, later) == offset:
            continue
        low, high = probe, later  # the offset is `offset` at low, another at high
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if _offset(rules, middle) == offset else (low, middle)
        offset = _offset(rules, high)
        changes.append((high, offset))
    return tuple(changes)


def _spans(name: str, years: tuple[int, ...]) -> pl.DataFrame:
    """The zone's spans of one UTC offset around the local `years`, in time order: each span's
    first and past-last local time (`start`, `end`, naive microseconds) and its `offset`
    (microseconds). A year's times are read from the spans of it and the years beside it;
    each run of years read starts a span, so years not read between two runs change nothing."""
    near = sorted({year + step for year in years for step in (-1, 0, 1)})
    rules = zone_info(name)
    changes = [
        change
        for year in near
        # the offset where a run of years read starts (not read before it: none of them)
        for change in (
            *([] if year - 1 in near else [(_second(year), _offset(rules, _second(year)))]),
            *_offset_changes(name, year),
        )
    ]
    offsets = [offset for _, offset in changes]
    spans = pl.DataFrame(
        {
            "start": [_BEFORE_ALL, *((at + offset) * _MICROS for at, offset in changes[1:])],
            # a span ends where the next starts, read in its own offset
            "end": [
                *((at + offsets[index]) * _MICROS for index, (at, _) in enumerate(changes[1:])),
                _AFTER_ALL,
            ],
            "offset": [offset * _MICROS for offset in offsets],
        },
        schema={"start": pl.Int64, "end": pl.Int64, "offset": pl.Int64},
    )
    if not spans["start"].is_sorted():  # a fall back longer than the span before it
        raise ValueError(f"{name}'s offset changes too often around {years} to be read")
    return spans


def utc_readings(local: pl.Series, timezone: str, years: tuple[int, int]) -> pl.DataFrame:
    """The UTC instants a naive local time (Datetime) names in `timezone`: `earliest` and
    `latest`, Datetime('us', 'UTC'), one row per time.

    The two differ only in an hour lived twice (autumn's repeated hour); both are null for a
    time the zone skipped (the spring gap), a null time, and one outside `years` (its rules
    are not read: a placeholder date of the year 9999 costs nothing).
    """
    year = local.dt.year()
    within = year.is_between(*years).fill_null(False)
    frame = pl.DataFrame({"local": local.cast(pl.Datetime("us")).cast(pl.Int64), "within": within})
    present = year.filter(within).unique()
    if present.is_empty():
        unread = pl.repeat(None, frame.height, dtype=pl.Datetime("us", "UTC"))
        return pl.select(unread.alias(name) for name in _NAMES)
    spans = _spans(timezone, tuple(present.sort().to_list()))
    end, offset = pl.lit(spans["end"]), pl.lit(spans["offset"])
    # the last span starting at or before the time; the one before it where that still runs
    span = (
        pl.lit(spans["start"]).search_sorted(pl.col("local"), side="right").cast(pl.Int64) - 1
    ).clip(0)
    found = frame.with_columns(_span=span).with_columns(
        _before=(pl.col("_span") - 1).clip(0),
        latest=pl.when(pl.col("within") & (pl.col("local") < end.gather(pl.col("_span")))).then(
            pl.col("local") - offset.gather(pl.col("_span"))
        ),
    )
    earlier = (pl.col("_span") >= 1) & (pl.col("local") < end.gather(pl.col("_before")))
    return found.select(
        pl.when(pl.col("within") & earlier)
        .then(pl.col("local") - offset.gather(pl.col("_before")))
        .otherwise(pl.col("latest"))
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .alias("earliest"),
        pl.col("latest").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
    )
