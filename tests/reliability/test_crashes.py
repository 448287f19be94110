"""SIGKILL a backfill at many moments, rerun, and the archive equals the truth: nothing lost."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_URL

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.faults import FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from extract.voipms.windows import split_range
from tests.conftest import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.flows.archive_checks import (
    archived_messages,
    assert_matches_truth,
    media_problems,
    stable_snapshot,
    table,
    truth_messages,
)
from tests.flows.conftest import SPAN, sandbox_env
from tests.reliability.crash_watch import Drive, Launcher, Sight, drive

pytestmark = pytest.mark.usefixtures("prefect_server")

BACKFILL = ["backfill", "--start", SPAN[0].isoformat(), "--end", SPAN[1].isoformat()]
WINDOWS = split_range(*SPAN)
RANDOM_KILLS = 6
SEED = 20240229
_SHA256_NAME = re.compile(r"[0-9a-f]{64}")
_WINDOW_DIR = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})")


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """A year of 4,000 messages on 2 DIDs, 22% MMS (~1,350 media), every API call slowed."""
    account = SandboxAccount.generate(
        AccountSpec(seed=41, messages=4000, start=SPAN[0], end=SPAN[1], dids=2, mms_share=0.22)
    )
    srv = SandboxServer(
        account,
        username=SANDBOX_USERNAME,
        password=SANDBOX_PASSWORD,
        faults=FaultConfig(latency_s=0.05),
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def launcher(
    prefect_server: None, server: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Launcher]:
    """Forks each `smsarchive` run from a process that has imported it already."""
    env = {
        **os.environ,
        **sandbox_env(server, tmp_path_factory.mktemp("unused")),
        # The session's Prefect test server: no temporary server per run.
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "VOIPMS_MAX_CONCURRENCY": "2",
        "SMSARCHIVE_MEDIA_CONCURRENCY": "2",
        # downloads in child processes, as a big backfill's are: a kill must stop them too
        "SMSARCHIVE_MEDIA_PROCESSES": "2",
    }
    with Launcher(env, tmp_path_factory.mktemp("launcher") / "launcher.log") as started:
        yield started


@dataclass(frozen=True)
class Reference:
    """One uninterrupted backfill: its archive, and how long its stages took."""

    snapshot: dict[str, pl.DataFrame]
    drive: Drive

    @property
    def active(self) -> float:
        """Seconds from taking the writer lock to the end."""
        return self.drive.milestones["end"]


@pytest.fixture(scope="module")
def reference(
    launcher: Launcher, server: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    """The archive and timeline of one clean run (also the yardstick for random kills)."""
    data_dir = tmp_path_factory.mktemp("reference")
    clean = drive(
        launcher, server, data_dir, data_dir / "run.log", label="clean", argv=BACKFILL, trigger=None
    )
    assert clean.returncode == 0, clean.output()
    return Reference(snapshot=stable_snapshot(data_dir / "archive.duckdb"), drive=clean)


# ---------------------------------------------------------------- what a kill left behind


@dataclass(frozen=True)
class Tables:
    """What the archive's tables said about one run (all empty before the schema exists)."""

    merged_since: frozenset[str] = frozenset()
    """Windows (start_end) whose merge committed since the run started."""
    run: tuple[int, str] | None = None
    """The run's row in sync_runs (run_id, outcome), if it had written one."""
    stored: frozenset[str] = frozenset()
    """sha256 of every media row in state 'stored'."""
    merged: int = 0
    """Windows checkpointed, in all."""
    media_done: int = 0
    """Media rows stored or expired, in all."""
    unopenable: str | None = None
    """Why DuckDB refuses the file, when it does (the next run has to cope)."""


@dataclass(frozen=True)
class Aftermath:
    """What one SIGKILL left in the data dir, read once the process was dead."""

    drive: Drive
    stage: str
    tables: Tables
    landed_not_merged: tuple[str, ...]
    """Windows the killed run landed whose merge never committed: killed between the two."""
    files_without_row: int
    """Media files on disk whose row does not say 'stored' yet: killed between file and row."""
    partials: int
    """Half-downloaded media files left in media/.tmp."""
    landing_temps: int
    """Half-written landing files left beside the landed answers."""

    def describe(self) -> str:
        """One line for the report of the run."""
        sight = self.drive.last
        if sight.locked_for is None:
            at = "before the lock"
        else:
            at = f"lock@{sight.elapsed - sight.locked_for:4.2f}s +{sight.locked_for:4.2f}s"
        run = self.tables.run
        return (
            f"{self.drive.label:<18} {at:>20} {self.stage:<14} "
            f"api={sight.fetch_calls:>2} media={sight.calls.get('media', 0):>4} "
            f"merged={len(self.tables.merged_since)} "
            f"landed-not-merged={','.join(self.landed_not_merged) or '-'} "
            f"files-without-row={self.files_without_row} partials={self.partials} "
            f"landing-temps={self.landing_temps} run={run[1] if run else '-'}"
            + (" archive-unopenable" if self.tables.unopenable else "")
        )


def _stage(sight: Sight, landed_not_merged: tuple[str, ...]) -> str:
    """The furthest stage the run had reached when it died."""
    if sight.locked_for is None:
        return "starting"
    if sight.calls.get("media", 0) > 0:
        return "media"
    if landed_not_merged:
        return "transform/load"
    if sight.fetch_calls > 0:
        # answers are landed part by part as they arrive: a temp file may be half written
        return "fetch"
    if sight.landing_temps > 0:
        return "landing write"
    return "setup"


class Checker:
    """The promises that must hold after any kill, and the evidence of where it landed."""

    def __init__(self, account: SandboxAccount) -> None:
        truth = account.truth()
        self.truth = truth.select(
            "kind", pl.col("id").cast(pl.Utf8).alias("message_id"), "local_date"
        )
        self.truth_media = account.truth_media().select(
            pl.col("message_id").cast(pl.Utf8), pl.col("position").cast(pl.Int32)
        )
        self._hashes: dict[tuple[str, int, int], str] = {}

    def _sha256(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in self._hashes:
            self._hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._hashes[key]

    def media_files(self, data_dir: Path) -> dict[str, int]:
        """Every stored media file (sha256 name → size); .tmp is not the store."""
        media = data_dir / "media"
        if not media.is_dir():
            return {}
        return {
            path.name: path.stat().st_size
            for path in media.glob("*/*")
            if path.is_file() and path.parent.name != ".tmp"
        }

    def examine(self, data_dir: Path, since: datetime | None = None) -> tuple[list[str], Tables]:
        """Every broken promise in `data_dir` (none when it is sound), and what its tables say
        about the run started at `since`. Opens the archive once, read-only."""
        found: list[str] = []
        files = self.media_files(data_dir)
        for name in files:
            path = data_dir / "media" / name[:2] / name
            if not _SHA256_NAME.fullmatch(name) or path.parent.name != name[:2]:
                found.append(f"media file {path} is not named by a sha256")
            elif self._sha256(path) != name:
                found.append(f"media file {path} does not hash to its name (half written?)")
        archive = data_dir / "archive.duckdb"
        if not archive.exists():
            return found, Tables()
        try:
            con = duckdb.connect(str(archive), read_only=True)
        except duckdb.IOException as exc:
            # Killed while DuckDB wrote the new file's first blocks: whether the rerun copes
            # is what the next run shows.
            return found, Tables(unopenable=str(exc))
        with con:
            con.execute("SET TimeZone = 'UTC'")
            [(migrated,)] = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sync_runs'"
            ).fetchall()
            if not migrated:  # killed while creating it (migrations commit whole)
                return found, Tables()
            found += self._media_rows(con, files)
            found += self._messages(con)
            found += self._landing(con, data_dir)
            return found, self._tables(con, since)

    def _media_rows(self, con: duckdb.DuckDBPyConnection, files: dict[str, int]) -> list[str]:
        found: list[str] = []
        stored = con.sql(
            "SELECT message_id, position, sha256, size_bytes FROM media WHERE state = 'stored'"
        ).pl()
        for row in stored.iter_rows(named=True):
            where = f"media row {row['message_id']}#{row['position']}"
            if row["sha256"] not in files:
                found.append(f"{where} is 'stored' but its file {row['sha256']} is missing")
            elif files[row["sha256"]] != row["size_bytes"]:
                found.append(f"{where}: file size {files[row['sha256']]} != {row['size_bytes']}")
        rows = con.sql("SELECT message_id, position FROM media").pl()
        foreign = rows.join(self.truth_media, on=["message_id", "position"], how="anti")
        if foreign.height:
            found.append(f"media rows not in the truth: {foreign.head(5).rows()}")
        if rows.height != rows.unique().height:
            found.append("duplicate media rows")
        return found

    def _messages(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        found: list[str] = []
        messages = con.sql("SELECT kind, message_id FROM messages").pl()
        if messages.height != messages.unique().height:
            found.append("duplicate messages")
        foreign = messages.join(self.truth, on=["kind", "message_id"], how="anti")
        if foreign.height:
            found.append(f"messages not in the truth: {foreign.head(5).rows()}")
        windows = con.sql("SELECT window_start, window_end FROM window_checkpoints").fetchall()
        for start, end in windows:
            due = self.truth.filter(pl.col("local_date").is_between(start, end))
            lost = due.join(messages, on=["kind", "message_id"], how="anti")
            if lost.height:
                found.append(
                    f"window {start}..{end} is checkpointed but lacks {lost.height} messages, "
                    f"e.g. {lost.head(3).rows()}"
                )
        return found

    def _landing(self, con: duckdb.DuckDBPyConnection, data_dir: Path) -> list[str]:
        found: list[str] = []
        for path, rows, sha256 in con.sql("SELECT path, rows, sha256 FROM raw_landing").fetchall():
            file = data_dir / path
            if not file.is_file():
                found.append(f"landing file {path} is in raw_landing but missing")
                continue
            body = file.read_bytes()
            if hashlib.sha256(body).hexdigest() != sha256 or len(json.loads(body)) != rows:
                found.append(f"landing file {path} is not what raw_landing recorded")
        return found

    def _tables(self, con: duckdb.DuckDBPyConnection, since: datetime | None) -> Tables:
        since_params = {"since": since}
        merged_since = con.execute(
            "SELECT window_start, window_end FROM window_checkpoints WHERE completed_at >= $since",
            since_params,
        ).fetchall()
        runs = con.execute(
            "SELECT run_id, outcome FROM sync_runs WHERE started_at >= $since", since_params
        ).fetchall()
        assert len(runs) <= 1, runs
        stored = con.sql("SELECT DISTINCT sha256 FROM media WHERE state = 'stored'").fetchall()
        [(merged, media_done)] = con.sql(
            "SELECT (SELECT count(*) FROM window_checkpoints), "
            "(SELECT count(*) FROM media WHERE state IN ('stored', 'expired'))"
        ).fetchall()
        return Tables(
            merged_since=frozenset(f"{start}_{end}" for start, end in merged_since),
            run=(int(runs[0][0]), str(runs[0][1])) if runs else None,
            stored=frozenset(sha for (sha,) in stored),
            merged=int(merged),
            media_done=int(media_done),
        )

    def aftermath(self, killed: Drive) -> Aftermath:
        """Check every promise after a kill, and say where the kill landed."""
        data_dir = killed.data_dir
        problems, tables = self.examine(data_dir, killed.started_at)
        assert problems == [], f"{killed.label}:\n" + "\n".join(problems)
        since = killed.started_at.timestamp()
        landed: set[str] = set()
        landing = data_dir / "landing"
        for path in landing.rglob("*.json") if landing.is_dir() else ():
            match = _WINDOW_DIR.fullmatch(path.parent.name)
            if match and path.stat().st_mtime >= since:
                landed.add(match.group(0))
        not_merged = tuple(sorted(landed - tables.merged_since))
        tmp = data_dir / "media" / ".tmp"
        return Aftermath(
            drive=killed,
            stage=_stage(killed.last, not_merged),
            tables=tables,
            landed_not_merged=not_merged,
            files_without_row=len(set(self.media_files(data_dir)) - tables.stored),
            partials=sum(1 for _ in tmp.iterdir()) if tmp.is_dir() else 0,
            landing_temps=sum(1 for _ in landing.rglob(".landing-*")) if landing.is_dir() else 0,
        )


@pytest.fixture(scope="module")
def checker(server: SandboxServer) -> Checker:
    """Promises checked against the sandbox's ground truth."""
    return Checker(server.account)


# ---------------------------------------------------------------- kill, check, rerun


def kill_and_check(
    launcher: Launcher,
    server: SandboxServer,
    checker: Checker,
    data_dir: Path,
    label: str,
    trigger: Callable[[Sight], bool],
    *,
    poll: float = 0.005,
) -> Aftermath | None:
    """One run on `data_dir` SIGKILLed when `trigger` fires; None when it ended first."""
    run = drive(
        launcher,
        server,
        data_dir,
        data_dir.parent / f"{label}.log",
        label=label,
        argv=BACKFILL,
        trigger=trigger,
        poll=poll,
    )
    if not run.killed:
        assert run.returncode == 0, run.output()
        return None
    assert run.returncode == -signal.SIGKILL
    return checker.aftermath(run)


def finish_and_check(
    launcher: Launcher,
    server: SandboxServer,
    checker: Checker,
    reference: Reference,
    data_dir: Path,
    kills: list[Aftermath],
) -> None:
    """Rerun to the end; the archive must then be exactly the clean run's, and whole."""
    final = drive(
        launcher,
        server,
        data_dir,
        data_dir.parent / "final.log",
        label="final",
        argv=BACKFILL,
        trigger=None,
        poll=0.02,
    )
    report = "\n".join(kill.describe() for kill in kills)
    print(f"\n{report}")  # shown with -s: where each kill landed
    assert final.returncode == 0, final.output()
    archive = data_dir / "archive.duckdb"

    problems, tables = checker.examine(data_dir)
    assert problems == [], report
    assert tables.unopenable is None, report
    assert_matches_truth(archived_messages(archive), truth_messages(server.account))
    assert media_problems(archive, data_dir / "media", server.account) == []
    got = stable_snapshot(archive)
    for name, frame in reference.snapshot.items():
        assert_frame_equal(got[name], frame, check_row_order=True)

    # nothing half written is left anywhere, and every file is some row's
    assert list((data_dir / "media" / ".tmp").glob("*")) == []
    assert list((data_dir / "landing").rglob(".landing-*")) == []
    stored = table(archive, "SELECT DISTINCT sha256 FROM media WHERE state = 'stored'")
    assert set(checker.media_files(data_dir)) == set(stored["sha256"].to_list())

    # a run killed while 'running' is marked interrupted by the next start; none is left
    # 'running', and the final run is 'ok'
    runs = dict(table(archive, "SELECT run_id, outcome FROM sync_runs").iter_rows())
    assert list(runs.values()).count("running") == 0, runs
    assert runs[max(runs)] == "ok", runs
    for kill in kills:
        if kill.tables.run is not None:
            run_id, outcome = kill.tables.run
            assert runs[run_id] == ("interrupted" if outcome == "running" else outcome), report
    # ... and Prefect no longer shows those runs running: the next run marked them Crashed
    dead = table(archive, "SELECT flow_run_id FROM sync_runs WHERE outcome = 'interrupted'")
    dead_ids = dead["flow_run_id"].to_list()
    assert dead_ids, report
    assert None not in dead_ids, report
    with get_client(sync_client=True) as client:
        states = [client.read_flow_run(UUID(flow_run_id)).state for flow_run_id in dead_ids]
    assert {state.type if state else None for state in states} == {StateType.CRASHED}, report


# ---------------------------------------------------------------- the tests


def test_a_kill_in_every_stage_then_a_rerun_equals_a_clean_run(
    launcher: Launcher,
    server: SandboxServer,
    checker: Checker,
    reference: Reference,
    tmp_path: Path,
) -> None:
    """Kills chosen by watching the process, so each stage is certainly hit; they stack."""
    moments: list[tuple[str, Callable[[Sight], bool], float]] = [
        # the archive file is being created and migrated
        ("archive created", lambda s: s.archive, 0.0005),
        # the API has been asked, answers are being landed as they come, none moved in place
        ("fetch", lambda s: s.fetch_calls >= 2 and s.landed == 0, 0.002),
        # a window's answers just moved into place: transform and merge follow
        ("first landing", lambda s: s.landed > 0, 0.0005),
        # a later window's first answer: by then an earlier window has been merged
        ("third landing", lambda s: s.landed >= 3, 0.0005),
        # a media file half downloaded (or, failing to catch one, downloads under way)
        ("media download", lambda s: s.media_partials > 0 or s.calls.get("media", 0) >= 150, 0.001),
        # past the first batch of media rows: some files are on disk without their row
        ("media rows", lambda s: s.calls.get("media", 0) >= 300, 0.002),
    ]
    data_dir = tmp_path / "archive"
    kills: list[Aftermath] = []
    for label, trigger, poll in moments:
        kill = kill_and_check(launcher, server, checker, data_dir, label, trigger, poll=poll)
        assert kill is not None, f"the run ended before the '{label}' moment"
        kills.append(kill)
    finish_and_check(launcher, server, checker, reference, data_dir, kills)

    report = [kill.describe() for kill in kills]
    stages = [kill.stage for kill in kills]
    assert stages[:2] == ["setup", "fetch"], report
    assert kills[0].drive.last.fetch_calls == 0, report
    # killed after a window's answers were landed and before its merge committed
    assert any(kill.landed_not_merged for kill in kills[2:4]), report
    assert stages[4:] == ["media", "media"], report
    assert kills[5].files_without_row > 0, report
    # each run killed after logging itself was left 'running' (the next start marks it
    # interrupted, checked above)
    outcomes = [kill.tables.run[1] if kill.tables.run else None for kill in kills]
    assert outcomes[1:] == ["running"] * (len(kills) - 1), report


def _left_to_do(reference: Reference, last: Aftermath | None, media_total: int) -> float:
    """Seconds a run still needs from taking the lock to its end, estimated from the clean
    run's stage times and what the archive held after the `last` kill."""
    steps = reference.drive.milestones
    setup, windows = steps["fetch"], steps["media"] - steps["fetch"]
    media = steps["end"] - steps["media"]
    merged = last.tables.merged if last else 0
    done = last.tables.media_done if last else 0
    return setup + windows * (1 - merged / len(WINDOWS)) + media * (1 - done / media_total)


def test_kills_at_random_moments_stack_then_a_rerun_equals_a_clean_run(
    launcher: Launcher,
    server: SandboxServer,
    checker: Checker,
    reference: Reference,
    tmp_path: Path,
) -> None:
    """Seeded random moments, one in each slice of a clean run's time, each run on the last.

    Moment T (seconds into a clean run) is hit in a run that resumes a killed archive by
    killing it when what it has left equals what the clean run had left at T.
    """
    rng = random.Random(SEED)
    span = 0.95 * reference.active  # the very end is Prefect closing the flow run
    moments = [span * (i + rng.random()) / RANDOM_KILLS for i in range(RANDOM_KILLS)]
    media_total = checker.truth_media.height
    data_dir = tmp_path / "archive"
    kills: list[Aftermath] = []
    for index, moment in enumerate(moments, 1):
        left = _left_to_do(reference, kills[-1] if kills else None, media_total)
        delay = max(left - (reference.active - moment), 0.02)

        def after(sight: Sight, delay: float = delay) -> bool:
            return sight.locked_for is not None and sight.locked_for >= delay

        label = f"random {index} T={moment:.2f}s"
        kill = kill_and_check(launcher, server, checker, data_dir, label, after)
        if kill is not None:
            kills.append(kill)
    finish_and_check(launcher, server, checker, reference, data_dir, kills)
    report = [kill.describe() for kill in kills]
    stages = {kill.stage for kill in kills}
    assert len(kills) >= RANDOM_KILLS - 1, report
    assert stages & {"fetch", "landing write", "transform/load"}, report
    assert "media" in stages, report


@pytest.mark.parametrize("size", [0, 4096])
def test_a_first_run_killed_while_duckdb_creates_the_archive_can_be_rerun(
    launcher: Launcher, server: SandboxServer, checker: Checker, tmp_path: Path, size: int
) -> None:
    """A first run killed while DuckDB writes a new file's header blocks (the 'archive created'
    kill above lands there now and then) leaves the file empty or 4 KB long; a rerun must
    still start and archive whole, without anyone deleting files by hand."""
    fresh = tmp_path / "fresh.duckdb"
    duckdb.connect(str(fresh)).close()  # a new DuckDB file, 3 header blocks of 4 KB
    data_dir = tmp_path / "archive"
    data_dir.mkdir()
    (data_dir / "archive.duckdb").write_bytes(fresh.read_bytes()[:size])

    week = (date(2024, 3, 1), date(2024, 3, 7))
    argv = ["backfill", "--start", week[0].isoformat(), "--end", week[1].isoformat()]
    rerun = drive(
        launcher, server, data_dir, tmp_path / "rerun.log", label="rerun", argv=argv, trigger=None
    )
    assert rerun.returncode == 0, rerun.output()
    problems, tables = checker.examine(data_dir)
    assert problems == []
    assert tables.unopenable is None
    archived = table(data_dir / "archive.duckdb", "SELECT kind, message_id FROM messages")
    due = checker.truth.filter(pl.col("local_date").is_between(*week))
    assert_frame_equal(
        archived.sort("kind", "message_id"),
        due.select("kind", "message_id").sort("kind", "message_id"),
    )
