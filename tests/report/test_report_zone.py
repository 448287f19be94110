"""A report's local days and hours: in the zone it is given, else the setting's."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.report_run import make_report
from flows.settings import Settings
from tests.report.archive_rows import TZ, A, Row, X, build_archive, utc


def test_a_report_counts_days_and_hours_in_the_zone_it_is_given(tmp_path: Path) -> None:
    # 02:30 UTC on Jan 3 is Jan 2 21:30 in New York and Jan 2 18:30 in Vancouver
    rows = [Row("sms", "1", "outbound", A, X, utc(2024, 1, 3, 2, 30), "delivered", "Delivered")]
    build_archive(tmp_path / "archive.duckdb", rows)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        smsarchive_data_dir=tmp_path,
        voipms_account_timezone=TZ,
        smsarchive_report_timezone="America/Vancouver",
    )
    hours = {}
    for zone, out in ((None, "setting"), ("Asia/Tokyo", "given")):
        make_report(settings, out=tmp_path / out, timezone=zone)
        grid = pl.read_csv(tmp_path / out / "hour_by_weekday.csv").filter(pl.col("messages") > 0)
        hours[out] = grid.select("weekday", "hour").rows()
        totals = pl.read_csv(tmp_path / out / "totals.csv", try_parse_dates=True)
        hours[f"{out} day"] = str(totals["first_day"][0])
    assert hours["setting"] == [(2, 18)]  # Tuesday
    assert hours["setting day"] == "2024-01-02"
    assert hours["given"] == [(3, 11)]  # Wednesday
    assert hours["given day"] == "2024-01-03"
