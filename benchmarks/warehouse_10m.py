"""A synthetic archive of N messages made directly in DuckDB, and `report`/`export` timed on it.

The archive has the real schema (migrations applied by `open_warehouse`): N messages over
about three years on 10 DIDs, 10% MMS with one stored media row each, and one
carrier_status_history row per message, as a backfill would leave them.
"""

from __future__ import annotations

import os
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
    CAST(i AS VARCHAR), CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
    '+1514555' || lpad(CAST(i % 10 AS VARCHAR), 4, '0'),
    '+1438' || lpad(CAST(hash(i) % 5000 AS VARCHAR), 7, '0'), 'nanp', t,
    strftime(timezone('America/New_York', t), '%Y-%m-%d %H:%M:%S'),
    'message number ' || i, 'message+number+' || i, 'getSMS',
    CASE WHEN i % 2 = 0 THEN '' ELSE 'Delivered' END,
    CASE WHEN i % 2 = 0 THEN 'received' ELSE 'delivered' END, 1, 'gsm7',
    CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, now(), now()
FROM (
    SELECT i, TIMESTAMPTZ '2023-01-01 00:00:00+00' + to_seconds(i * $step) AS t
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
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return time.perf_counter() - started


def time_commands(data_dir: Path, messages: int) -> dict[str, Any]:
    """Synthesise, then `smsarchive report` and `smsarchive export` as children."""
    out: dict[str, Any] = {"messages": messages, "synthesise_s": synthesise(data_dir, messages)}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOIPMS_", "SMSARCHIVE_"))}
    env["SMSARCHIVE_DATA_DIR"] = str(data_dir)
    smsarchive = str(Path(sys.executable).parent / "smsarchive")
    for name in ("report", "export"):
        measured = run_measured([smsarchive, name], env, cwd=str(data_dir.parent))
        out[f"{name}_wall_s"] = measured.wall_s
        out[f"{name}_peak_rss_mb"] = measured.peak_rss_mb
        out[f"{name}_ok"] = measured.returncode == 0
        if measured.returncode != 0:
            out[f"{name}_error"] = measured.stderr[-2000:]
    return out
