"""A whole smsarchive run against a sandbox that fails often, and searches for a leaked secret."""

from __future__ import annotations

import base64
import gzip
import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.faults import FAULT_KINDS, FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec

SMSARCHIVE = str(Path(sys.executable).parent / "smsarchive")

TOKEN = "Zq7Kx9"
"""In the password and nowhere else: whatever way a text encodes the password, it keeps this."""
PASSWORD = f'{TOKEN} p@ss+w\\rd/&"é%41;'
"""Characters that change under URL, JSON, HTML and shell quoting, and a non-ASCII one."""
USERNAME = "faulty.Yw3Rt8@example.com"
"""Unique too: stored in the archive, so it shows that each search can find what is there."""

SPAN = (date(2024, 1, 1), date(2024, 12, 31))
SPEC = AccountSpec(seed=31, messages=1800, start=SPAN[0], end=SPAN[1], dids=3, mms_share=0.15)
PAGE_LIMIT = 50
"""Small pages: about 54 getSMS/getMMS/getDIDsInfo calls without faults, split and re-asked."""

FAULT_RATE = 0.20
FAULTS = FaultConfig(
    # Every kind is among this seed's first 31 draws, far fewer than a run's calls, so every
    # kind surely happens; 12 of its first 70 draws fail, near the 20% asked (faults cost
    # the run its client's backoff, 2-4 s each, which the settings cannot shorten yet).
    seed=152,
    stall_s=2.0,
    **{kind: FAULT_RATE / len(FAULT_KINDS) for kind in FAULT_KINDS},  # type: ignore[arg-type]
)
CLIENT_TIMEOUT_S = 1.0
"""Shorter than `stall_s`: a stalled call ends in the client's timeout, not the server's drop."""


def faulty_sandbox() -> SandboxServer:
    """A started sandbox that fails FAULT_RATE of API calls, in every way it knows."""
    return SandboxServer(
        SandboxAccount.generate(SPEC), username=USERNAME, password=PASSWORD, faults=FAULTS
    ).start()


@dataclass(frozen=True)
class Command:
    """One finished `smsarchive` child process, its stdout and stderr merged."""

    args: list[str]
    returncode: int
    output: bytes
    seconds: float

    def tail(self) -> str:
        """The end of the output, for an assertion message."""
        return self.output.decode("utf-8", "replace")[-4000:]


class Child:
    """`smsarchive ARGS` running in a child process, stdout and stderr merged into `log`."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.log = log
        self._started = time.monotonic()
        with log.open("wb") as sink:  # a file, not a pipe: nothing blocks on a full buffer
            self._process = subprocess.Popen(
                [SMSARCHIVE, *args],
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def finish(self, timeout: float = 240) -> Command:
        """Wait for the child to end (killing it after `timeout` seconds)."""
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        seconds = time.monotonic() - self._started
        return Command(self.args, self._process.returncode, self.log.read_bytes(), seconds)


def run_smsarchive(args: list[str], env: dict[str, str], log: Path) -> Command:
    """Run `smsarchive ARGS` to its end with `env` added to this process's environment."""
    return Child(args, env, log).finish()


def secret_forms(secret: str) -> list[bytes]:
    """Byte strings any leak of `secret` would contain, however the text around it was encoded.

    The first is the secret's unique token, which plain, URL-encoded, JSON- and HTML-escaped
    and repr() forms all keep; the rest are those forms whole, and base64 of the secret.
    """
    texts = {
        TOKEN,
        secret,
        quote_plus(secret),
        quote(secret, safe=""),
        quote(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret).replace("/", "\\/")[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        escape(secret),
        repr(secret)[1:-1],
    }
    raw = secret.encode()
    forms = {text.encode() for text in texts} | {TOKEN.encode("utf-16-le")}
    forms |= {base64.b64encode(raw), base64.urlsafe_b64encode(raw)}
    return sorted(forms, key=len)


def found_in(data: bytes, forms: list[bytes]) -> list[bytes]:
    """The forms present in `data` (gzip data is searched unpacked too)."""
    hits = [form for form in forms if form in data]
    if data[:2] == b"\x1f\x8b":
        hits += found_in(gzip.decompress(data), forms)
    return hits


def files_holding(root: Path, forms: list[bytes]) -> dict[str, list[bytes]]:
    """Every file under `root` whose raw bytes hold one of `forms`, with what it holds."""
    leaks: dict[str, list[bytes]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            hits = found_in(path.read_bytes(), forms)
            if hits:
                leaks[str(path.relative_to(root))] = hits
    return leaks


def duckdb_rows_holding(archive: Path, needle: str) -> dict[str, int]:
    """Per table of the DuckDB archive, how many rows (every column, as text) hold `needle`.

    Needed beside the byte search: DuckDB compresses strings on disk, so bytes alone prove
    nothing about what a table holds.
    """
    hits: dict[str, int] = {}
    with duckdb.connect(str(archive), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
        for (name,) in tables:
            row = con.execute(
                "SELECT count(*) FROM query_table($t) AS r WHERE contains(CAST(r AS VARCHAR), $n)",
                {"t": name, "n": needle},
            ).fetchone()
            if row and row[0]:
                hits[name] = int(row[0])
    return hits


def parquet_rows_holding(root: Path, needle: str) -> dict[str, int]:
    """Per parquet file under `root`, how many rows (every column, as text) hold `needle`."""
    hits: dict[str, int] = {}
    with duckdb.connect() as con:
        for path in sorted(root.rglob("*.parquet")):
            row = con.execute(
                "SELECT count(*) FROM read_parquet($p) AS r WHERE contains(CAST(r AS VARCHAR), $n)",
                {"p": str(path), "n": needle},
            ).fetchone()
            if row and row[0]:
                hits[str(path.relative_to(root))] = int(row[0])
    return hits


def sqlite_cells_holding(database: Path, needle: str) -> dict[str, int]:
    """Per `table.column` of a SQLite database, how many values (as text) hold `needle`."""
    hits: dict[str, int] = {}
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as con:
        tables = [
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        ]
        for table in tables:
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")').fetchall()]
            for column in columns:
                # Names from the database's own catalogue; SQLite cannot bind identifiers.
                query = f'SELECT count(*) FROM "{table}" WHERE instr(CAST("{column}" AS TEXT), ?)'  # noqa: S608
                (count,) = con.execute(query, (needle,)).fetchone()
                if count:
                    hits[f"{table}.{column}"] = int(count)
    return hits
