"""The report's unmapped statuses: texts no rule knows, not every message read 'unknown'."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.report_run import make_report
from flows.settings import Settings
from tests.report.archive_rows import TZ, A, Row, X, build_archive, utc


def test_no_news_and_an_explicit_unknown_are_not_unmapped(tmp_path: Path) -> None:
    rows = [
        # "Information not available" is what VoIP.ms says of most outbound messages
        *(
            Row("sms", str(n), "outbound", A, X, utc(2024, 1, 2, n), "unknown", text)
            for n, text in enumerate(
                ["Information not available"] * 3 + ["", "UNKNOWN", "ERR_UNKNOWN 0x1F"], start=1
            )
        ),
        Row("sms", "9", "outbound", A, X, utc(2024, 1, 3), "delivered", "Delivered"),
    ]
    build_archive(tmp_path / "archive.duckdb", rows)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, smsarchive_data_dir=tmp_path, voipms_account_timezone=TZ
    )
    run = make_report(settings, out=tmp_path / "report")
    assert run.result["summary"]["unmapped"] == "1 message"
    listed = pl.read_csv(tmp_path / "report" / "unmapped_statuses.csv")
    assert listed.select("carrier_status", "messages").rows() == [("ERR_UNKNOWN 0x1F", 1)]
