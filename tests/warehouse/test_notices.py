"""Provider notices: each kind of surprise recorded once, first sighting kept, last moved on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from warehouse import archive_status, open_warehouse, record_notices

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 2, 1, tzinfo=UTC)


def test_a_notice_is_kept_once_with_its_first_and_last_sighting(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "archive.duckdb")
    field = ("unknown_field", "getSMS.billing_code", None)
    error = ("unknown_error", "getSMS: new_code", "window 2024-01-01..2024-04-01")
    first = record_notices(con, [field, error], provider="voipms", account="a", seen_at=T1)
    assert sorted(first) == sorted([field, error])
    assert record_notices(con, [field, field], provider="voipms", account="a", seen_at=T2) == []
    assert record_notices(con, [field], provider="voipms", account="b", seen_at=T1) == [field]
    assert record_notices(con, [], provider="voipms", account="a", seen_at=T2) == []
    rows = con.execute(
        "SELECT account, kind, subject, example, first_seen_at, last_seen_at "
        "FROM provider_notices ORDER BY account, kind"
    ).fetchall()
    assert rows == [
        ("a", "unknown_error", "getSMS: new_code", "window 2024-01-01..2024-04-01", T1, T1),
        ("a", "unknown_field", "getSMS.billing_code", None, T1, T2),
        ("b", "unknown_field", "getSMS.billing_code", None, T1, T1),
    ]
    assert archive_status(con).notices.height == 3
    con.close()
