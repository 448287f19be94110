"""The small ledgers: done windows, the landing, and the run log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from tests.warehouse.builders import (
    ACCOUNT,
    PROVIDER,
    SEEN,
    media_frame,
    messages_frame,
    rejected_frame,
)
from warehouse import (
    done_windows,
    finish_run,
    interrupt_dead_runs,
    landed_files,
    landing_path,
    merge_window,
    newest_archived_day,
    record_landing,
    start_run,
)


def checkpoint(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    account: str = ACCOUNT,
    seen_at: datetime = SEEN,
) -> None:
    merge_window(
        con,
        provider=PROVIDER,
        account=account,
        window_start=start,
        window_end=end,
        messages=messages_frame(),
        media=media_frame(),
        rejected=rejected_frame(),
        seen_at=seen_at,
        sms_rows=0,
        mms_rows=0,
    )


def test_done_windows_and_the_newest_archived_day(con: duckdb.DuckDBPyConnection) -> None:
    zone = "America/New_York"
    assert done_windows(con, PROVIDER, ACCOUNT) == set()
    assert newest_archived_day(con, PROVIDER, ACCOUNT, zone) is None

    later = datetime(2025, 6, 1, tzinfo=UTC)
    checkpoint(con, date(2024, 4, 1), date(2024, 6, 30), seen_at=later)
    checkpoint(con, date(2024, 1, 1), date(2024, 3, 31), seen_at=later)
    checkpoint(con, date(2025, 1, 1), date(2025, 1, 31), account="acct-2", seen_at=later)

    assert done_windows(con, PROVIDER, ACCOUNT) == {
        (date(2024, 1, 1), date(2024, 3, 31)),
        (date(2024, 4, 1), date(2024, 6, 30)),
    }
    assert newest_archived_day(con, PROVIDER, ACCOUNT, zone) == date(2024, 6, 30)
    assert newest_archived_day(con, PROVIDER, "acct-2", zone) == date(2025, 1, 31)
    assert newest_archived_day(con, "other", ACCOUNT, zone) is None

    # merged while its days were still to come (02:30 UTC is the evening before in New York):
    # archived up to the day of the merge only
    checkpoint(
        con, date(2025, 5, 1), date(2025, 7, 31), seen_at=datetime(2025, 6, 2, 2, 30, tzinfo=UTC)
    )
    assert newest_archived_day(con, PROVIDER, ACCOUNT, zone) == date(2025, 6, 1)
    assert newest_archived_day(con, PROVIDER, ACCOUNT, "UTC") == date(2025, 6, 2)


def test_window_start_after_end_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="after window_end"):
        checkpoint(con, date(2024, 2, 1), date(2024, 1, 1))


def test_landing_is_recorded_once_per_path(con: duckdb.DuckDBPyConnection) -> None:
    path = "landing/voipms/acct-1/2024-01-01_2024-03-31/getSMS.json.gz"
    for rows, sha256, landed_at in [(10, "aa" * 32, SEEN), (12, "bb" * 32, SEEN + timedelta(1))]:
        record_landing(
            con,
            provider=PROVIDER,
            account=ACCOUNT,
            window_start=date(2024, 1, 1),
            window_end=date(2024, 3, 31),
            method="getSMS",
            path=path,
            rows=rows,
            sha256=sha256,
            landed_at=landed_at,
        )
    record_landing(
        con,
        provider=PROVIDER,
        account="acct-2",
        window_start=date(2024, 1, 1),
        window_end=date(2024, 3, 31),
        method="getMMS",
        path="landing/voipms/acct-2/2024-01-01_2024-03-31/getMMS.json.gz",
        rows=0,
        sha256="cc" * 32,
    )

    everything = landed_files(con)
    assert everything.height == 2
    mine = landed_files(con, PROVIDER, ACCOUNT)
    assert mine.select("method", "rows", "sha256", "landed_at").rows() == [
        ("getSMS", 12, "bb" * 32, SEEN + timedelta(1))
    ]
    assert landed_files(con, account="acct-2")["method"].to_list() == ["getMMS"]


def runs(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT run_id, kind, outcome, windows_merged, detail FROM sync_runs ORDER BY run_id"
    ).fetchall()


def test_runs_are_logged_and_a_crashed_one_is_marked_interrupted(
    con: duckdb.DuckDBPyConnection,
) -> None:
    first = start_run(
        con,
        "backfill",
        provider=PROVIDER,
        account=ACCOUNT,
        window_start=date(2024, 1, 1),
        window_end=date(2024, 12, 31),
    ).run_id
    finish_run(con, first, outcome="ok", windows_merged=4, messages_inserted=100)
    crashed = start_run(con, "sync", started_at=datetime(2025, 1, 1, tzinfo=UTC)).run_id
    assert runs(con)[-1] == (crashed, "sync", "running", None, None)

    started = start_run(con, "sync")
    latest = started.run_id
    assert started.dead_runs == (crashed,)
    # still 'running' until Prefect is told (a kill before that leaves it to the next run)
    assert runs(con)[1] == (crashed, "sync", "running", None, None)

    interrupt_dead_runs(con, started)
    assert runs(con) == [
        (first, "backfill", "ok", 4, None),
        (crashed, "sync", "interrupted", None, "the process ended before the run finished"),
        (latest, "sync", "running", None, None),
    ]
    finish_run(con, latest, outcome="failed", detail="VoIP.ms said api_limit_exceeded")
    assert runs(con)[-1] == (latest, "sync", "failed", None, "VoIP.ms said api_limit_exceeded")


def test_a_dead_run_names_its_prefect_flow_run_once(con: duckdb.DuckDBPyConnection) -> None:
    plain = start_run(con, "backfill")
    assert plain.dead_flow_runs == ()
    # killed while running as a flow; the next run (a plain one) finds it
    flow = start_run(con, "sync", flow_run_id="0b7e-flow")
    assert flow.dead_flow_runs == ()  # the plain run before it had no flow run
    interrupt_dead_runs(con, flow)
    # killed again after it found the flow run and before it marked it: found once more
    assert start_run(con, "sync").dead_flow_runs == ("0b7e-flow",)
    found = start_run(con, "sync")
    assert found.dead_flow_runs == ("0b7e-flow",)
    assert len(found.dead_runs) == 2
    interrupt_dead_runs(con, found)
    stored = con.execute("SELECT flow_run_id, outcome FROM sync_runs ORDER BY run_id").fetchall()
    assert stored == [
        (None, "interrupted"),
        ("0b7e-flow", "interrupted"),
        (None, "interrupted"),
        (None, "running"),
    ]
    # an interrupted run is not found again
    finish_run(con, found.run_id, outcome="ok")
    assert start_run(con, "sync").dead_flow_runs == ()


def test_finishing_an_unknown_run_is_an_error(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(KeyError, match="no run 42"):
        finish_run(con, 42, outcome="ok")


@pytest.mark.parametrize("account", ["..", ".", "../../etc", "a/../../b", "", "me@example.com"])
def test_a_landing_path_stays_one_folder_under_its_provider(account: str) -> None:
    path = landing_path(
        provider="voipms",
        account=account,
        window_start=date(2024, 1, 1),
        window_end=date(2024, 3, 31),
        method="getSMS",
        fetched_at=datetime(2024, 4, 1, tzinfo=UTC),
    )
    landing, provider, folder, window, name = path.split("/")
    assert (landing, provider, window) == ("landing", "voipms", "2024-01-01_2024-03-31")
    assert folder not in {"", ".", ".."}
    assert not folder.startswith(".")
    assert name.startswith("getSMS.")
