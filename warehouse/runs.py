"""The log of backfill and sync runs, for `smsarchive status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

import duckdb

from warehouse.queries import query_row, read_query
from warehouse.transactions import transaction

RunKind = Literal["backfill", "sync"]
RunOutcome = Literal["ok", "failed", "interrupted"]


@dataclass(frozen=True)
class StartedRun:
    """A run just logged as 'running', and the Prefect flow runs of the dead runs it found."""

    run_id: int
    dead_runs: tuple[int, ...] = ()
    """Runs still 'running' when this one started: their process died. They stay 'running'
    until `interrupt_dead_runs`, so a run killed before it told Prefect of them leaves them
    for the next run to find again."""
    dead_flow_runs: tuple[str, ...] = ()
    """The Prefect flow runs of `dead_runs`: Prefect still shows them running, as their
    process was killed before it could say otherwise."""


def start_run(
    con: duckdb.DuckDBPyConnection,
    kind: RunKind,
    *,
    provider: str | None = None,
    account: str | None = None,
    window_start: date | None = None,
    window_end: date | None = None,
    started_at: datetime | None = None,
    flow_run_id: str | None = None,
) -> StartedRun:
    """Log a run as 'running' (as Prefect flow run `flow_run_id`, if it is one).

    Call it under `writer_lock`: any run still 'running' then belongs to a process that
    died. Those are returned, still 'running': tell Prefect of their flow runs, then
    `interrupt_dead_runs`. Marked at once, a kill between the two would leave their flow
    runs running in Prefect for ever, with no run left to find them.
    """
    _require_aware(started_at, "started_at")
    with transaction(con):
        dead = con.execute(read_query("select_running_runs")).fetchall()
        row = query_row(
            con,
            "insert_sync_run",
            {
                "kind": kind,
                "provider": provider,
                "account": account,
                "window_start": window_start,
                "window_end": window_end,
                "started_at": started_at or datetime.now(UTC),
                "flow_run_id": flow_run_id,
            },
        )
    assert row is not None
    flow_runs = tuple(sorted({str(flow_run) for _, flow_run in dead if flow_run is not None}))
    return StartedRun(
        run_id=int(row[0]),
        dead_runs=tuple(int(run_id) for run_id, _ in dead),
        dead_flow_runs=flow_runs,
    )


def interrupt_dead_runs(con: duckdb.DuckDBPyConnection, started: StartedRun) -> None:
    """Mark 'interrupted' the dead runs `started` found, once Prefect has been told of them."""
    if started.dead_runs:
        con.execute(read_query("interrupt_running_runs"), {"run_ids": list(started.dead_runs)})


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    *,
    outcome: RunOutcome,
    finished_at: datetime | None = None,
    windows_merged: int | None = None,
    messages_inserted: int | None = None,
    messages_updated: int | None = None,
    detail: str | None = None,
) -> None:
    """Close a run with its outcome, totals and (for a failure) a one-line detail."""
    _require_aware(finished_at, "finished_at")
    row = query_row(
        con,
        "finish_sync_run",
        {
            "run_id": run_id,
            "outcome": outcome,
            "finished_at": finished_at or datetime.now(UTC),
            "windows_merged": windows_merged,
            "messages_inserted": messages_inserted,
            "messages_updated": messages_updated,
            "detail": detail,
        },
    )
    if row is None:
        raise KeyError(f"no run {run_id} in sync_runs")


def unfinished_sync_start(
    con: duckdb.DuckDBPyConnection, *, provider: str, account: str
) -> date | None:
    """The first day of the account's syncs since its last one that ended ok (None: there
    are none): a stopped or failed sync may have merged its later windows and not its earlier
    ones, so the next one starts there again."""
    row = query_row(con, "find_unfinished_sync_start", {"provider": provider, "account": account})
    return row[0] if row is not None else None


def _require_aware(moment: datetime | None, name: str) -> None:
    if moment is not None and moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
