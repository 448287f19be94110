"""A fifth of API calls failing every way the sandbox can: the truth archived, no secret leaked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterStartTime,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun, Log
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL

from extract.voipms.sandbox.faults import FAULT_KINDS, FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from tests.flows.archive_checks import (
    archived_messages,
    assert_matches_truth,
    media_problems,
    table,
    truth_messages,
)
from tests.flows.conftest import sandbox_env
from tests.reliability.faulty_run import (
    CLIENT_TIMEOUT_S,
    FAULT_RATE,
    PAGE_LIMIT,
    PASSWORD,
    SPAN,
    TOKEN,
    USERNAME,
    Child,
    Command,
    duckdb_rows_holding,
    faulty_sandbox,
    files_holding,
    found_in,
    parquet_rows_holding,
    run_smsarchive,
    secret_forms,
    sqlite_cells_holding,
)

pytestmark = pytest.mark.usefixtures("prefect_server")

FORMS = secret_forms(PASSWORD)
# What the client calls each sandbox fault when it retries (its log line names the code).
CLIENT_CODES = {
    "http_500": "http_500",
    "http_522": "http_522",
    "connection_reset": "connection_error",
    "truncated_body": "truncated_body",
    "timeout": "timeout",
    "maintenance": "method_maintenance",
    "api_limit": "api_limit_exceeded",
}


FAILING = "backfill that gives up"


@dataclass(frozen=True)
class FaultyRun:
    """What the module's runs left behind: the faulty one, its report and export, a failed one."""

    server: SandboxServer
    root: Path
    """Holds `data` (the faulty run's data dir) and `failing` (the failed run's)."""
    commands: dict[str, Command]
    fault_counts: dict[str, int]
    call_counts: dict[str, int]
    started_at: datetime

    @property
    def data_dir(self) -> Path:
        """The faulty run's data dir."""
        return self.root / "data"

    @property
    def archive(self) -> Path:
        """The run's DuckDB file."""
        return self.data_dir / "archive.duckdb"


def _prefect_database() -> Path:
    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value())
    prefix = "sqlite+aiosqlite:///"
    assert url.startswith(prefix), "the Prefect test harness is expected to use SQLite"
    return Path(url[len(prefix) :])


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultyRun]:
    """Each a child `smsarchive -v`: backfill, report and export on a faulty sandbox, then a
    backfill into another data dir on a sandbox that resets every call, which gives up."""
    server = faulty_sandbox()
    try:
        root = tmp_path_factory.mktemp("faulty")
        env = {
            **sandbox_env(server, root / "data"),
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "VOIPMS_PAGE_LIMIT": str(PAGE_LIMIT),
            "VOIPMS_MAX_ATTEMPTS": "12",
            "VOIPMS_TIMEOUT_SECONDS": str(CLIENT_TIMEOUT_S),
            "VOIPMS_BACKOFF_SECONDS": "0.05",
            # Everything that logs, at DEBUG, on the child's stderr (httpx, httpcore, Prefect)…
            "PREFECT_LOGGING_ROOT_LEVEL": "DEBUG",
            "PREFECT_LOGGING_LEVEL": "DEBUG",
            # …and our own loggers' records sent to the Prefect API too, so into its database.
            "PREFECT_LOGGING_EXTRA_LOGGERS": "extract,smsarchive",
        }
        assert env["VOIPMS_API_PASSWORD"] == PASSWORD
        logs = tmp_path_factory.mktemp("faulty-output")
        backfill = ["-v", "backfill", "--start", SPAN[0].isoformat(), "--end", SPAN[1].isoformat()]
        started_at = datetime.now(UTC)
        commands = {"backfill": run_smsarchive(backfill, env, logs / "backfill.log")}
        faults, calls = server.fault_counts(), server.call_counts()
        # The failing backfill has a data dir of its own: it runs while report and export do.
        server.set_faults(FaultConfig(connection_reset=1.0))
        failing_env = {**env, "SMSARCHIVE_DATA_DIR": str(root / "failing")}
        failing = Child(backfill, {**failing_env, "VOIPMS_MAX_ATTEMPTS": "2"}, logs / "fail.log")
        commands["report"] = run_smsarchive(["-v", "report"], env, logs / "report.log")
        export = ["-v", "export", "--out", str(root / "data/export")]
        commands["export"] = run_smsarchive(export, env, logs / "export.log")
        commands[FAILING] = failing.finish()
        yield FaultyRun(server, root, commands, faults, calls, started_at)
    finally:
        server.stop()


def test_the_commands_end_as_they_should(faulty_run: FaultyRun) -> None:
    for name, command in faulty_run.commands.items():
        if name != FAILING:
            assert command.returncode == 0, f"{name}: {command.tail()}"
    failed = faulty_run.commands[FAILING]
    assert failed.returncode == 1, failed.tail()
    # the error the person sees, and the exception Prefect recorded (its text and traceback)
    assert b"error: VoIP.ms getDIDsInfo: connection_error" in failed.output, failed.tail()
    # it names where it tried, and that a rerun loses nothing
    (line,) = [ln for ln in failed.output.splitlines() if ln.startswith(b"error: ")]
    assert f"failed at {faulty_run.server.url} (".encode() in line
    assert line.endswith(b"; nothing is lost, rerun to continue")
    assert b"Traceback" in failed.output
    assert b"Failed(" in failed.output


def test_every_kind_of_fault_happened_and_was_retried(faulty_run: FaultyRun) -> None:
    faults = faulty_run.fault_counts
    assert set(faults) == set(FAULT_KINDS), faults
    api_calls = sum(n for method, n in faulty_run.call_counts.items() if method != "media")
    assert 0.5 * FAULT_RATE <= sum(faults.values()) / api_calls <= 2 * FAULT_RATE
    output = faulty_run.commands["backfill"].output.decode("utf-8", "replace")
    retried = {
        kind
        for kind, code in CLIENT_CODES.items()
        if f"failed ({code}); retrying" in output  # the client's own retry line
    }
    assert retried == set(FAULT_KINDS)


def test_the_archive_equals_the_sandboxs_truth(faulty_run: FaultyRun) -> None:
    account = faulty_run.server.account
    assert_matches_truth(archived_messages(faulty_run.archive), truth_messages(account))
    assert media_problems(faulty_run.archive, faulty_run.data_dir / "media", account) == []
    assert table(faulty_run.archive, "SELECT * FROM rejected_records").is_empty()
    windows = table(faulty_run.archive, "SELECT window_start FROM window_checkpoints")
    assert windows.height == 4
    runs = table(faulty_run.archive, "SELECT kind, outcome FROM sync_runs")
    assert runs.rows() == [("backfill", "ok")]


def test_the_password_is_in_no_output(faulty_run: FaultyRun) -> None:
    backfill = faulty_run.commands["backfill"].output
    # The output is the verbose one: our retries, httpx's requests, httpcore's and Prefect's
    # debug lines all made it, so a leak through any of them would be seen here.
    for expected in (b"retrying in", b"HTTP Request: POST", b"httpcore", b"prefect"):
        assert expected in backfill, expected
    for name, command in faulty_run.commands.items():
        assert found_in(command.output, FORMS) == [], name


def test_the_password_is_in_no_file_of_the_data_dirs(faulty_run: FaultyRun) -> None:
    data_dir = faulty_run.data_dir
    files = {p.relative_to(data_dir).parts[0] for p in data_dir.rglob("*") if p.is_file()}
    assert {"archive.duckdb", "landing", "media", "reports", "export"} <= files
    assert (faulty_run.root / "failing" / "archive.duckdb").is_file()
    assert files_holding(faulty_run.root, FORMS) == {}
    # DuckDB and parquet compress their strings: search what the tables hold as well.
    for archive in (faulty_run.archive, faulty_run.root / "failing" / "archive.duckdb"):
        assert duckdb_rows_holding(archive, TOKEN) == {}
        assert duckdb_rows_holding(archive, USERNAME)  # the search finds what is there
    assert parquet_rows_holding(data_dir / "export", TOKEN) == {}
    assert parquet_rows_holding(data_dir / "export", USERNAME)


def _prefect_records(since: datetime) -> tuple[list[FlowRun], list[Log]]:
    """The flow runs started since `since`, and every log line they sent (waiting for ours)."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since))
        )
        ids = [run.id for run in runs]
        deadline = time.monotonic() + 15
        while True:
            logs: list[Log] = []
            while True:
                page = client.read_logs(
                    log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)),
                    limit=200,
                    offset=len(logs),
                )
                logs += page
                if len(page) < 200:
                    break
            # The API handler ships records in batches: wait until the client's retries and
            # the failed run's exception are in.
            texts = [log.message for log in logs]
            if any("retrying in" in t for t in texts) and any("Traceback" in t for t in texts):
                return runs, logs
            assert time.monotonic() < deadline, f"the run's logs never reached Prefect: {len(logs)}"
            time.sleep(0.25)


def test_the_password_is_not_in_prefects_database(faulty_run: FaultyRun) -> None:
    runs, logs = _prefect_records(faulty_run.started_at)
    assert {run.flow_id for run in runs}
    names = sorted(run.name for run in runs)
    assert len(runs) >= 4, names  # backfill, report, export, the failed backfill
    assert any(run.state is not None and run.state.is_failed() for run in runs), names
    for run in runs:
        text = f"{run.parameters} {run.state} {run.name}".encode()
        assert found_in(text, FORMS) == [], run.name
    for log in logs:
        assert found_in(log.message.encode(), FORMS) == [], log.message
    # The database itself, every table and column, and every file beside it.
    database = _prefect_database()
    assert sqlite_cells_holding(database, "retrying in")  # the search finds what is there
    assert sqlite_cells_holding(database, TOKEN) == {}
    assert files_holding(database.parent, FORMS) == {}
