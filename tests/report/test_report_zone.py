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


def test_messages_with_outlying_dates_keep_their_local_days_and_cost_no_hours(
    tmp_path: Path,
) -> None:
    from tests.report.archive_rows import B, Y
    from warehouse import open_warehouse
    from warehouse.report.params import ReportScope
    from warehouse.report.tables import clean_up, prepare, prepared_table

    # a provider's bad dates, far before and after the others: each is still read in the zone
    rows = [
        Row("sms", "1", "outbound", A, X, utc(1970, 1, 2, 0, 30), "delivered", "Delivered"),
        Row("sms", "2", "inbound", A, X, utc(2024, 3, 10, 6, 30), "delivered", ""),
        Row("sms", "5", "inbound", A, X, utc(1999, 11, 1, 12, 0), "delivered", ""),
        Row("sms", "3", "inbound", B, Y, utc(2024, 11, 3, 5, 30), "delivered", ""),
        Row("sms", "4", "outbound", B, Y, utc(2999, 6, 1, 3, 0), "delivered", "Delivered"),
    ]
    build_archive(tmp_path / "archive.duckdb", rows)
    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        scope = ReportScope(TZ, grain="day")
        prepare(con, scope)
        local = con.execute(
            "SELECT message_id, local_time::VARCHAR FROM temp.report_local_messages ORDER BY 1"
        ).fetchall()
        ((hours,),) = con.execute("SELECT len(offsets) FROM temp.report_scope").fetchall()
        volume = prepared_table(con, "volume_by_period", scope)
        clean_up(con)
    finally:
        con.close()
    assert local == [
        ("1", "1970-01-01 19:30:00"),  # EST
        ("2", "2024-03-10 01:30:00"),  # EST, an hour before the spring change
        ("3", "2024-11-03 01:30:00"),  # EDT, the first pass of the repeated hour
        ("4", "2999-05-31 23:00:00"),  # EDT, as the zone's rules run on
        ("5", "1999-11-01 07:00:00"),  # EST, just before the hours with offsets
    ]
    assert str(volume["period"].min()) == "1970-01-01"
    assert hours < 24 * 366 * 30  # from 2000 to now at most, not the 9 million from 1970 to 2999


def test_an_empty_archive_makes_no_hourly_offsets(tmp_path: Path) -> None:
    from warehouse import open_warehouse
    from warehouse.report.params import ReportScope
    from warehouse.report.tables import clean_up, prepare

    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        prepare(con, ReportScope(TZ))
        ((hours,),) = con.execute(
            "SELECT coalesce(len(offsets), 0) FROM temp.report_scope"
        ).fetchall()
        clean_up(con)
    finally:
        con.close()
    assert hours == 0
