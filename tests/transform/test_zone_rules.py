"""Local times read in the tzdata package's rules: as Python's zoneinfo reads them, and DuckDB."""

from __future__ import annotations

import os
import subprocess
import sys
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from transform.local_time import YEARS, exists_locally, sent_at_readings
from transform.zone_rules import TZDATA_RELEASE, utc_readings, zone_info

ZONES = (
    "America/New_York",
    "America/Vancouver",  # on daylight time for good from November 2026 (tzdata 2026)
    "America/St_Johns",  # -03:30
    "America/Sao_Paulo",  # no more daylight time from 2019
    "Europe/London",
    "Australia/Lord_Howe",  # moves by 30 minutes
    "Asia/Kathmandu",  # +05:45
    "Africa/Casablanca",  # steps back an hour each Ramadan
    "Pacific/Apia",
)


def _zoneinfo_readings(local: datetime, name: str) -> tuple[datetime | None, datetime | None]:
    """What Python's zoneinfo (the package's rules) says: both folds, kept where they name
    this local time again."""
    rules = zone_info(name)
    readings = []
    for fold in (0, 1):
        instant = local.replace(tzinfo=rules, fold=fold).astimezone(UTC)
        if instant.astimezone(rules).replace(tzinfo=None) == local:
            readings.append(instant)
    return (min(readings), max(readings)) if readings else (None, None)


def _around_offset_changes(name: str, years: range) -> list[datetime]:
    """Local times every 15 minutes over the day before and after each day whose offset
    changes, and noon of every 10th day."""
    rules = zone_info(name)
    times: list[datetime] = []
    day = datetime(years.start, 1, 1)
    while day.year < years.stop:
        offsets = {
            (day + timedelta(hours=hour)).replace(tzinfo=rules).utcoffset() for hour in (0, 24)
        }
        if len(offsets) > 1:
            start = day - timedelta(hours=12)
            times += [start + timedelta(minutes=15 * step) for step in range(4 * 48)]
        if day.timetuple().tm_yday % 10 == 0:
            times.append(day + timedelta(hours=12))
        day += timedelta(days=1)
    return times


@pytest.mark.parametrize("name", ZONES)
def test_every_reading_is_zoneinfos(name: str) -> None:
    times = _around_offset_changes(name, range(2018, 2029))
    got = utc_readings(pl.Series(times, dtype=pl.Datetime("us")), name, YEARS)
    expected = [_zoneinfo_readings(local, name) for local in times]
    assert list(got.iter_rows()) == expected
    # the autumn hour (or Casablanca's) was among them, and a skipped one, but in Kathmandu
    if name not in ("Asia/Kathmandu",):
        assert any(early != late for early, late in expected)
        assert any(early is None for early, _ in expected)


@pytest.mark.parametrize("name", ["America/Vancouver", "America/New_York", "Europe/London"])
def test_readings_agree_with_duckdb(name: str) -> None:
    # every 7 hours across 2026 and 2027; a time read twice or not at all is left out (DuckDB
    # picks one reading of either)
    times = [datetime(2026, 1, 1) + timedelta(hours=7 * step) for step in range(2 * 1252)]
    got = utc_readings(pl.Series(times, dtype=pl.Datetime("us")), name, YEARS)
    kept = [
        (local, early)
        for local, early, late in zip(times, got["earliest"], got["latest"], strict=True)
        if early is not None and early == late
    ]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    duck = con.execute(
        "SELECT timezone($zone, local) FROM unnest($times::TIMESTAMP[]) AS t(local)",
        {"zone": name, "times": [local for local, _ in kept]},
    ).fetchall()
    assert [row[0] for row in duck] == [early for _, early in kept]
    assert len(kept) > 2400


def test_vancouver_keeps_daylight_time_from_november_2026() -> None:
    assert TZDATA_RELEASE >= "2026"
    times = [datetime(2026, 11, 1, 1, 30), datetime(2027, 1, 15, 12), datetime(2026, 1, 15, 12)]
    got = utc_readings(pl.Series(times), "America/Vancouver", YEARS)
    assert got.rows() == [
        (datetime(2026, 11, 1, 8, 30, tzinfo=UTC),) * 2,  # not lived twice any more
        (datetime(2027, 1, 15, 19, tzinfo=UTC),) * 2,  # UTC-7 in winter
        (datetime(2026, 1, 15, 20, tzinfo=UTC),) * 2,  # UTC-8 the winter before
    ]
    # Python's own reading of the zone too, not the system's copy
    assert zone_info("America/Vancouver").utcoffset(datetime(2027, 1, 15)) == timedelta(hours=-7)
    frame = pl.DataFrame(
        {"kind": ["sms"], "id": ["1"], "local": [datetime(2026, 12, 1, 12)]},
        schema={"kind": pl.Utf8, "id": pl.Utf8, "local": pl.Datetime("us")},
    )
    readings = sent_at_readings(
        frame, timezone="America/Vancouver", local="local", order="id", group="kind"
    )
    assert readings["sent_at"].to_list() == [datetime(2026, 12, 1, 19, tzinfo=UTC)]


def test_years_outside_are_not_read_and_nulls_stay_null() -> None:
    times = pl.Series(
        [datetime(9999, 12, 31, 23), None, datetime(1969, 6, 1), datetime(2024, 3, 10, 2, 30)],
        dtype=pl.Datetime("us"),
    )
    got = utc_readings(times, "America/New_York", YEARS)
    assert got.rows() == [(None, None)] * 4
    assert got.schema == {"earliest": pl.Datetime("us", "UTC"), "latest": pl.Datetime("us", "UTC")}
    exists = pl.select(exists_locally(pl.lit(times), "America/New_York")).to_series()
    # unknown outside the years (the row is refused for its year, not for the zone)
    assert exists.to_list() == [None, None, None, False]
    assert utc_readings(times.clear(), "America/New_York", YEARS).height == 0


@pytest.mark.parametrize(
    ("name", "local", "other"),
    [
        # UTC-7 for good from November 2020: a 2022 time read with a 2017 one in its batch
        ("America/Whitehorse", datetime(2022, 1, 15, 12), datetime(2017, 6, 1)),
        ("Europe/Volgograd", datetime(2023, 6, 1, 12), datetime(2017, 6, 1)),
    ],
)
def test_a_time_reads_the_same_whatever_years_share_its_batch(
    name: str, local: datetime, other: datetime
) -> None:
    alone = utc_readings(pl.Series([local]), name, YEARS)
    together = utc_readings(pl.Series([other, local]), name, YEARS)
    assert together.row(1) == alone.row(0) == (_zoneinfo_readings(local, name)[0],) * 2


def test_an_unknown_zone_or_a_path_is_an_error() -> None:
    with pytest.raises(zoneinfo.ZoneInfoNotFoundError):
        zone_info("Mars/Olympus_Mons")
    for path in ("America/../Europe/Paris", "/etc/localtime", "America/../../../../etc/passwd"):
        with pytest.raises(ValueError, match="not a time zone's name"):
            zone_info(path)


def test_the_cli_and_the_processes_it_starts_read_the_package(tmp_path: Path) -> None:
    # as smsarchive's main() does; Prefect's server, a child, dates serve's cron with ZoneInfo
    script = tmp_path / "zones.py"
    script.write_text(
        "import os, subprocess, sys, zoneinfo\n"
        "from datetime import datetime\n"
        "from transform.zone_rules import package_rules_everywhere\n"
        "package_rules_everywhere(os.environ)\n"
        "print(zoneinfo.ZoneInfo.no_cache('America/Vancouver').utcoffset(datetime(2027, 1, 1)))\n"
        'child = \'import zoneinfo, datetime; print(zoneinfo.ZoneInfo("America/Vancouver")'
        ".utcoffset(datetime.datetime(2027, 1, 1)))'\n"
        "sys.stdout.flush()\n"
        "subprocess.run([sys.executable, '-c', child], check=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONTZPATH"}
    env["PYTHONPATH"] = str(Path(__file__).parents[2])
    shown = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=True
    )
    assert shown.stdout.split("\n")[:2] == ["-1 day, 17:00:00"] * 2  # UTC-7, 2026f's
