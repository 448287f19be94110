"""What this machine can do without smsarchive: the yardsticks our stages are quoted against.

- the sandbox's own time to serve every window (a bare httpx client, one getSMS
  all_messages=1 and one getMMS per window with a limit above the row count, bodies read
  and dropped), at the pipeline's API concurrency;
- DuckDB's own `read_json` of the landed raw answers into a fresh copy of the archive's
  tables (messages and media, same schema and keys);
- a bare httpx client fetching the same media URLs at the media concurrency, bodies dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import httpx

from extract.voipms.windows import Window, split_range
from warehouse import open_warehouse

BIG_LIMIT = 100_000_000


def serve_all_windows(
    url: str, username: str, password: str, start: date, end: date, *, concurrency: int
) -> tuple[float, int]:
    """Seconds for the sandbox to answer every window's two questions whole, and rows."""
    windows = split_range(start, end)
    questions = [
        (w, method, every) for w in windows for method, every in (("getSMS", "1"), ("getMMS", "0"))
    ]

    def ask(client: httpx.Client, question: tuple[Window, str, str]) -> int:
        window, method, every = question
        params = {
            "api_username": username,
            "api_password": password,
            "method": method,
            "from": window.start.isoformat(),
            "to": window.end.isoformat(),
            "limit": str(BIG_LIMIT),
            "all_messages": every,
            "content_type": "json",
        }
        answer = client.get(url, params=params)
        answer.raise_for_status()
        return answer.content.count(b'"id":')

    started = time.perf_counter()
    with (
        httpx.Client(timeout=600) as client,
        ThreadPoolExecutor(max_workers=concurrency) as pool,
    ):
        rows = sum(pool.map(lambda q: ask(client, q), questions))
    return time.perf_counter() - started, rows


MESSAGES_SQL = """
INSERT INTO messages
SELECT 'voipms', ?, CASE WHEN m.id IS NULL THEN 'sms' ELSE 'mms' END, s.id,
       CASE s.type WHEN '1' THEN 'inbound' ELSE 'outbound' END, s.did, s.contact, 'other',
       timezone('America/New_York', strptime(s.date, '%Y-%m-%d %H:%M:%S')), s.date,
       url_decode(replace(s.message, '+', ' ')), s.message, 'getSMS', s.carrier_status,
       'unknown', 1, 'gsm7', coalesce(len(list_filter(m.media, lambda x: x <> '')), 0),
       now(), now()
FROM read_json(?, format = 'array', columns = {
        id: 'VARCHAR', date: 'VARCHAR', type: 'VARCHAR', did: 'VARCHAR',
        contact: 'VARCHAR', message: 'VARCHAR', carrier_status: 'VARCHAR'}) s
LEFT JOIN read_json(?, format = 'array', columns = {
        id: 'VARCHAR', date: 'VARCHAR', type: 'VARCHAR', did: 'VARCHAR',
        contact: 'VARCHAR', media: 'VARCHAR[]'}) m
  USING (id, date, type, did, contact)
ON CONFLICT DO NOTHING
"""

MEDIA_SQL = """
INSERT INTO media (provider, account, message_id, position, url, first_seen_at)
SELECT 'voipms', ?, id, pos, url, now()
FROM (
    SELECT id, unnest(media) AS url, generate_subscripts(media, 1) AS pos
    FROM read_json(?, format = 'array', columns = {id: 'VARCHAR', media: 'VARCHAR[]'})
)
WHERE url <> ''
ON CONFLICT DO NOTHING
"""


def duckdb_load(data_dir: Path, scratch: Path, account: str) -> tuple[float, int]:
    """Seconds for DuckDB to load every landed answer into fresh archive tables, and rows."""
    landing = data_dir / "landing"
    sms_files = sorted(str(p) for p in landing.rglob("getSMS.*.json"))
    mms_files = sorted(str(p) for p in landing.rglob("getMMS.*.json"))
    target = scratch / "duckdb_baseline.duckdb"
    target.unlink(missing_ok=True)
    con = open_warehouse(target)  # the archive's own schema, migrations applied
    try:
        started = time.perf_counter()
        con.execute("BEGIN")
        con.execute(MESSAGES_SQL, [account, sms_files, mms_files])
        con.execute(MEDIA_SQL, [account, mms_files])
        con.execute("COMMIT")
        seconds = time.perf_counter() - started
        row = con.execute("SELECT count(*) FROM messages").fetchone()
    finally:
        con.close()
    target.unlink(missing_ok=True)
    return seconds, int(row[0]) if row else 0


def fetch_media(urls: Sequence[str], *, concurrency: int) -> float:
    """Seconds for a bare client to fetch `urls`, `concurrency` at a time, bodies dropped.

    Each thread has its own one-connection client, as the pipeline's downloads do: one pool
    shared by the threads costs its lock, and httpcore's pool can close a connection it has
    just handed to another thread (encode/httpcore#1110), which once failed a whole
    benchmark run with EBADF.
    """
    local = threading.local()
    clients: list[httpx.Client] = []
    made = threading.Lock()

    def get(url: str) -> int:
        client: httpx.Client | None = getattr(local, "client", None)
        if client is None:
            client = httpx.Client(
                timeout=120, limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)
            )
            local.client = client
            with made:
                clients.append(client)
        with client.stream("GET", url) as answer:
            return sum(len(chunk) for chunk in answer.iter_bytes())

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for _ in pool.map(get, urls):
                pass
        return time.perf_counter() - started
    finally:
        for client in clients:
            client.close()


def media_urls(archive: Path) -> list[str]:
    """Every media URL an archive holds."""
    con = duckdb.connect(str(archive), read_only=True)
    try:
        return [str(r[0]) for r in con.execute("SELECT url FROM media ORDER BY url").fetchall()]
    finally:
        con.close()
