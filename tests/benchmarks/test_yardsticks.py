"""The benchmark's yardsticks still read what a run lands: its DuckDB baseline loads it all."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from benchmarks.machine_limits import duckdb_load
from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import PlainSteps, archive
from tests.conftest import serving
from tests.flows.conftest import sandbox_settings

SPAN = (date(2024, 1, 1), date(2024, 6, 30))


def test_duckdbs_own_load_reads_every_landed_answer(tmp_path: Path) -> None:
    account = SandboxAccount.generate(
        AccountSpec(seed=31, messages=400, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.2)
    )
    with serving(account) as server:
        settings = sandbox_settings(server, tmp_path / "data")
        archive(settings, "backfill", *SPAN, PlainSteps())
    with duckdb.connect(str(settings.archive_path), read_only=True) as con:
        archived = con.execute("SELECT count(*) FROM messages").fetchone()
    _, loaded = duckdb_load(settings.smsarchive_data_dir, tmp_path, settings.voipms_api_username)
    assert archived is not None
    assert loaded == archived[0] > 0
