"""A synthetic archive of N messages made directly in DuckDB, and `report`/`export` timed on it.

The archive has the real schema (migrations applied by `open_warehouse`): N messages over
about three years on 10 DIDs and 5,000 contacts, both directions in every conversation (so
replies are found), about 1% failed and 1% unmapped outbound statuses, 10% MMS with one stored
media row each, one carrier_status_history row per message, and the run that made them, as a
backfill would leave them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.process_tree import run_measured
from warehouse import open_warehouse

ACCOUNT = "bench@example.com"
SECONDS_PER_MESSAGE = 9  # 10M messages span about 2.9 years

MESSAGES_SQL = """
INSERT INTO messages (provider, account, kind, message_id, direction, did, contact,
    contact_kind, sent_at, sent_at_local, body, body_raw, body_source, carrier_status, status,
    segments, encoding, media_count, first_seen_at, last_seen_at)
SELECT 'voipms', $account, CASE WHEN i % 10 = 0 THEN 'mms' ELSE 'sms' END,
    CAST(i AS VARCHAR), direction,
    '+1514555' || lpad(CAST(hash(i + 1) % 10 AS VARCHAR), 4, '0'),
    '+1438' || lpad(CAST(hash(i) % 5000 AS VARCHAR), 7, '0'), 'nanp', t,
    strftime(timezone('America/New_York', t), '%Y-%m-%d %H:%M:%S'),
    'message number ' || i, 'message+number+' || i, 'getSMS',
    CASE WHEN direction = 'inbound' THEN ''
        WHEN i % 97 = 1 THEN 'Undelivered' WHEN i % 89 = 3 THEN 'Weird status'
        ELSE 'Delivered' END,
    CASE WHEN direction = 'inbound' THEN 'received'
        WHEN i % 97 = 1 THEN 'failed' WHEN i % 89 = 3 THEN 'unknown'
        ELSE 'delivered' END,
    CASE WHEN i % 7 = 0 THEN 2 ELSE 1 END, CASE WHEN i % 13 = 0 THEN 'ucs2' ELSE 'gsm7' END,
    CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, now(), now()
FROM (
    SELECT i, TIMESTAMPTZ '2023-01-01 00:00:00+00' + to_seconds(i * $step) AS t,
        CASE WHEN (i // 3) % 2 = 0 THEN 'inbound' ELSE 'outbound' END AS direction
    FROM range($n) r(i)
)
"""

MEDIA_SQL = """
INSERT INTO media (provider, account, message_id, position, url, sha256, size_bytes,
    content_type, state, fetched_at, attempts, first_seen_at)
SELECT 'voipms', $account, CAST(i AS VARCHAR), 1, 'http://127.0.0.1/media/' || i,
    sha256(CAST(i AS VARCHAR)), 1000 + i % 5000, 'image/jpeg', 'stored', now(), 1, now()
FROM range(0, $n, 10) r(i)
"""

HISTORY_SQL = """
INSERT INTO carrier_status_history
SELECT provider, account, kind, message_id, carrier_status, status, first_seen_at
FROM messages
"""


RUN_SQL = """
INSERT INTO sync_runs (kind, provider, account, started_at, finished_at, outcome,
    messages_inserted)
VALUES ('backfill', 'voipms', $account, now(), now(), 'ok', $n)
"""


def synthesise(data_dir: Path, messages: int) -> float:
    """Make the archive under `data_dir`; seconds it took."""
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = open_warehouse(data_dir / "archive.duckdb")
    try:
        params = {"account": ACCOUNT, "n": messages}
        con.execute(MESSAGES_SQL, {**params, "step": SECONDS_PER_MESSAGE})
        con.execute(MEDIA_SQL, params)
        con.execute(HISTORY_SQL)
        con.execute(RUN_SQL, params)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return time.perf_counter() - started


COMMANDS = ("report", "export")


def work(name: str, data_dir: Path) -> float:
    """Seconds `report` or `export` takes in this process, imports and Prefect left out.

    The same steps as the commands: the report of every day, all DIDs, by week (its tables,
    charts, page, PNGs and CSVs), or a whole parquet snapshot, into a folder beside the archive.
    """
    # imported here, so a `--work` child's clock starts after its imports
    from datetime import UTC, datetime

    from warehouse.export import export_archive
    from warehouse.report import ReportScope, chart_specs, report_tables, write_report

    archive = data_dir / "archive.duckdb"
    started = time.perf_counter()
    if name == "report":
        scope = ReportScope("America/New_York")
        con = open_warehouse(archive, read_only=True)
        try:
            tables = report_tables(con, scope)
        finally:
            con.close()
        made_at = datetime.now(UTC)
        folder = data_dir / "reports" / f"work-{made_at:%Y%m%dT%H%M%S%fZ}"
        write_report(folder, tables, chart_specs(tables, scope), scope, made_at)
    else:
        export_archive(archive, data_dir / "export-work")
    return time.perf_counter() - started


def time_work(data_dir: Path) -> dict[str, Any]:
    """`report` and `export` work, each in a child process: work seconds and peak RSS."""
    out: dict[str, Any] = {}
    for name in COMMANDS:
        cmd = [sys.executable, "-m", "benchmarks.warehouse_10m", "--work", name, str(data_dir)]
        measured = run_measured(cmd, dict(os.environ), cwd=str(Path(__file__).parent.parent))
        out[f"{name}_work_ok"] = measured.returncode == 0
        if measured.returncode != 0:
            out[f"{name}_work_error"] = measured.stderr[-2000:]
            continue
        out[f"{name}_work_s"] = float(measured.stdout.split()[-1])
        out[f"{name}_work_peak_rss_mb"] = measured.peak_rss_mb
    return out


def time_cli(data_dir: Path, repeat: int = 1) -> dict[str, Any]:
    """`smsarchive report` and `smsarchive export` as children, each `repeat` times in turn:
    median wall (and every wall), highest peak tree RSS, whether every run succeeded."""
    out: dict[str, Any] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOIPMS_", "SMSARCHIVE_"))}
    env["SMSARCHIVE_DATA_DIR"] = str(data_dir)
    smsarchive = str(Path(sys.executable).parent / "smsarchive")
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(max(1, repeat)):
        for name in COMMANDS:
            measured = run_measured([smsarchive, name], env, cwd=str(data_dir.parent))
            walls[name].append(measured.wall_s)
            peak = max(out.get(f"{name}_peak_rss_mb", 0.0), measured.peak_rss_mb)
            out[f"{name}_peak_rss_mb"] = peak
            out[f"{name}_ok"] = out.get(f"{name}_ok", True) and measured.returncode == 0
            if measured.returncode != 0:
                out[f"{name}_error"] = measured.stderr[-2000:]
    for name, seconds in walls.items():
        out[f"{name}_wall_s"] = statistics.median(seconds)
        out[f"{name}_walls_s"] = seconds
    return out


def time_commands(data_dir: Path, messages: int, repeat: int = 1) -> dict[str, Any]:
    """Synthesise, time the work in-process, then the commands as the CLI runs them."""
    out: dict[str, Any] = {"messages": messages, "synthesise_s": synthesise(data_dir, messages)}
    out.update(time_work(data_dir))
    out.update(time_cli(data_dir, repeat))
    return out


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.warehouse_10m [--messages N] [--no-cli] DIR`.

    Synthesises the archive in DIR (unless one is there), then times report and export on it:
    their work in-process, and the commands. `--work NAME DIR` is one measured child.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warehouse_10m")
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--work", choices=COMMANDS, help="time one command's work here; print s")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI runs")
    parser.add_argument("--repeat", type=int, default=3, help="CLI runs of each; medians")
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args(argv)
    if args.work:
        print(f"{work(args.work, args.data_dir):.3f}")
        return
    out: dict[str, Any] = {}
    if not (args.data_dir / "archive.duckdb").exists():
        out["messages"] = args.messages
        out["synthesise_s"] = synthesise(args.data_dir, args.messages)
    out.update(time_work(args.data_dir))
    if not args.no_cli:
        out.update(time_cli(args.data_dir, args.repeat))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
