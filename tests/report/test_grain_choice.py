"""Without --grain, a report draws weeks, or months where its days hold too many weeks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.report_run import make_report
from flows.settings import Settings
from tests.report.archive_rows import TZ, A, B, Row, X, build_archive, utc
from warehouse.report import ReportScope, fitting_grain
from warehouse.report.charts import MOST_BARS

# A's messages span eight years; B's one month of them
EIGHT_YEARS = (
    Row("sms", "1", "inbound", A, X, utc(2017, 1, 2, 15, 0), "received", ""),
    Row("sms", "2", "inbound", B, X, utc(2020, 3, 2, 15, 0), "received", ""),
    Row("sms", "3", "inbound", B, X, utc(2020, 3, 30, 15, 0), "received", ""),
    Row("sms", "4", "outbound", A, X, utc(2024, 12, 30, 15, 0), "delivered", "Delivered"),
)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return build_archive(tmp_path / "data" / "archive.duckdb", EIGHT_YEARS)


def test_weeks_unless_the_days_hold_more_than_a_chart_draws(archive: Path) -> None:
    con = duckdb.connect(str(archive), read_only=True)
    try:
        assert MOST_BARS == 320
        assert fitting_grain(con, ReportScope(TZ)) == "month"  # 418 weeks
        assert fitting_grain(con, ReportScope(TZ, did=B)) == "week"  # B's month
        assert fitting_grain(con, ReportScope(TZ, start=date(2019, 1, 1))) == "week"  # 6 years
        assert fitting_grain(con, ReportScope(TZ, end=date(2023, 2, 19))) == "week"  # 320
        assert fitting_grain(con, ReportScope(TZ, end=date(2023, 2, 20))) == "month"  # 321
        # the scope's own days count, not its messages'
        wide = ReportScope(TZ, start=date(2010, 1, 1), end=date(2010, 12, 31))
        assert fitting_grain(con, wide) == "week"
        assert fitting_grain(con, ReportScope(TZ, did="+15559999999")) == "week"  # none
    finally:
        con.close()


def test_a_report_without_a_grain_says_which_it_drew(archive: Path, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, smsarchive_data_dir=archive.parent)  # type: ignore[call-arg]
    run = make_report(settings, out=tmp_path / "auto", timezone=TZ)
    assert run.description.endswith("by month")
    assert "month (local" in (tmp_path / "auto" / "report.html").read_text()
    asked = make_report(settings, grain="week", out=tmp_path / "weeks", timezone=TZ)
    assert asked.description.endswith("by week")
