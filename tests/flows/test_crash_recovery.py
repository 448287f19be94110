"""A backfill killed with SIGKILL mid-run, then rerun, leaves the same archive as one clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal
from prefect.settings import PREFECT_API_URL

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_flows import run_backfill
from flows.runtime import use_settings
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.archive_checks import media_problems, stable_snapshot, table
from tests.flows.conftest import SPAN, sandbox_env, sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_server")

SMSARCHIVE = str(Path(sys.executable).parent / "smsarchive")


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    account = SandboxAccount.generate(
        AccountSpec(seed=23, messages=1500, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.25)
    )
    srv = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def reference(server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive of one uninterrupted backfill."""
    settings = sandbox_settings(server, tmp_path_factory.mktemp("reference"))
    with use_settings(settings):
        run_backfill(*SPAN)
    return settings.archive_path


def _backfill_process(server: SandboxServer, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **sandbox_env(server, data_dir),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "VOIPMS_MAX_CONCURRENCY": "2",
        "SMSARCHIVE_MEDIA_CONCURRENCY": "2",
    }
    with log.open("wb") as sink:
        return subprocess.Popen(
            [SMSARCHIVE, "backfill", "--start", SPAN[0].isoformat(), "--end", SPAN[1].isoformat()],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )


def _wait_for(
    predicate_path: Path, proc: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate_path.exists():
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "the backfill never got going"
        time.sleep(0.05)


@pytest.mark.parametrize("moment", ["fetching", "downloading media"])
def test_sigkill_then_rerun_equals_an_uninterrupted_run(
    server: SandboxServer, reference: Path, tmp_path: Path, moment: str
) -> None:
    data_dir = tmp_path / "killed"
    # Slow calls and media so that the kill lands inside the run, not after it.
    server.set_faults(FaultConfig(latency_s=0.4))
    try:
        log = tmp_path / "killed.log"
        proc = _backfill_process(server, data_dir, log)
        marker = data_dir / ("landing" if moment == "fetching" else "media")
        _wait_for(marker, proc, log, timeout=120)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        server.set_faults(FaultConfig())

    rerun = subprocess.run(
        [SMSARCHIVE, "backfill", "--start", SPAN[0].isoformat(), "--end", SPAN[1].isoformat()],
        env={
            **os.environ,
            **sandbox_env(server, data_dir),
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]

    expected = stable_snapshot(reference)
    got = stable_snapshot(data_dir / "archive.duckdb")
    for name, frame in expected.items():
        assert_frame_equal(got[name], frame, check_row_order=True)
    assert media_problems(data_dir / "archive.duckdb", data_dir / "media", server.account) == []
    leftovers = [p for p in (data_dir / "media").rglob("*") if p.is_file() and ".tmp" in p.parts]
    assert leftovers == []
    runs = table(data_dir / "archive.duckdb", "SELECT outcome FROM sync_runs ORDER BY run_id")
    assert runs["outcome"].to_list()[-1] == "ok"
