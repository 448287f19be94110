"""The ledger of raw API answers landed on disk, for replays without the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath

import duckdb
import polars as pl

from warehouse.connection import starts_new_archive
from warehouse.errors import LostArchiveError
from warehouse.landing_files import (
    LANDING_DIR,
    FoundAnswer,
    LandedFile,
    counted_answer,
    found_answers,
    landed_answer_count,
    landed_file_intact,
)
from warehouse.queries import query_frame, read_query
from warehouse.transactions import transaction


def record_landing(
    con: duckdb.DuckDBPyConnection,
    *,
    provider: str,
    account: str,
    window_start: date,
    window_end: date,
    method: str,
    path: str,
    rows: int,
    sha256: str,
    landed_at: datetime | None = None,
) -> None:
    """Record one landed answer; `path` is relative to the data dir (re-landing replaces it)."""
    if landed_at is not None and landed_at.tzinfo is None:
        raise ValueError("landed_at must be timezone-aware")
    con.execute(
        read_query("upsert_raw_landing"),
        {
            "provider": provider,
            "account": account,
            "window_start": window_start,
            "window_end": window_end,
            "method": method,
            "path": path,
            "rows": rows,
            "sha256": sha256,
            "landed_at": landed_at or datetime.now(UTC),
        },
    )


ANSWER_METHODS = ("getSMS", "getMMS")
"""The answers a fetch of a window lands: replayable only with both."""


def fetch_of(path: str) -> str:
    """Which fetch of its window a landed answer is from: the fetch stamp its name holds
    (`getSMS.<stamp>.json`, `landing_path`), the same for both answers of one fetch; "" for
    a name without one (`getSMS.json`, as versions before 2026-12-06 landed a window's one
    answer per method, recorded at times a few microseconds apart)."""
    parts = PurePosixPath(path).name.split(".")
    return parts[1] if len(parts) == 3 else ""


def forget_unreadable_landings(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    *,
    provider: str,
    account: str,
    window_start: date,
    window_end: date,
) -> list[str]:
    """Drop from the ledger the window's fetches one of whose answers is missing, changed or
    not listed.

    For a window being landed again (called before the new fetch is recorded, so only
    earlier ones are read back; `--refetch` is the remedy a failed replay names): such a
    fetch could never be replayed (getSMS without its getMMS would take MMS for SMS), and
    the one just landed stands for it. Intact earlier fetches are kept: they may hold
    messages the provider has forgotten since. Files are left on disk. Returns the paths
    dropped from the ledger.
    """
    window = {
        "provider": provider,
        "account": account,
        "window_start": window_start,
        "window_end": window_end,
    }
    answers = [
        (fetch_of(path), method, path, sha256)
        for method, path, sha256 in query_frame(con, "select_window_landings", window).rows()
    ]
    methods: dict[str, set[str]] = {}
    for fetch, method, _, _ in answers:
        methods.setdefault(fetch, set()).add(method)
    broken = {fetch for fetch, listed in methods.items() if len(listed) < len(ANSWER_METHODS)}
    broken |= {
        fetch
        for fetch, _, path, sha256 in answers
        if not landed_file_intact(data_dir, path, sha256)
    }
    dropped = [path for fetch, _, path, _ in answers if fetch in broken]
    for path in dropped:
        con.execute(read_query("delete_raw_landing"), {"path": path})
    return dropped


def landed_files(
    con: duckdb.DuckDBPyConnection,
    provider: str | None = None,
    account: str | None = None,
) -> pl.DataFrame:
    """The landing ledger (optionally of one provider/account), in window order."""
    return query_frame(con, "select_landed_files", {"provider": provider, "account": account})


@dataclass(frozen=True)
class LandedAnswer:
    """One landed answer of a window, as the ledger lists it."""

    method: str
    path: str
    rows: int
    sha256: str
    landed_at: datetime


@dataclass(frozen=True)
class LandedWindow:
    """One fetch of a window: its landed answers (getSMS and getMMS), by method.

    A window fetched twice (`--refetch`) has two: each fetch's answers are landed under
    names of their own and recorded with the time of their merge.
    """

    provider: str
    account: str
    window_start: date
    window_end: date
    answers: dict[str, LandedAnswer] = field(default_factory=dict)

    @property
    def landed_at(self) -> datetime:
        """When the newer of its answers was landed."""
        return max(answer.landed_at for answer in self.answers.values())


def landed_windows(
    con: duckdb.DuckDBPyConnection,
    provider: str | None = None,
    account: str | None = None,
) -> list[LandedWindow]:
    """Every fetch of a window with its answers, the earliest landed first.

    The order a replay merges them in: a message in several windows (a backfill's and a
    later sync's), or in two fetches of one window, then ends with the newest reading the
    API gave of it.
    """
    windows: dict[tuple[str, str, date, date, str], LandedWindow] = {}
    for row in landed_files(con, provider, account).iter_rows(named=True):
        window_key = (row["provider"], row["account"], row["window_start"], row["window_end"])
        fetch = fetch_of(row["path"])
        window = windows.setdefault((*window_key, fetch), LandedWindow(*window_key))
        window.answers[row["method"]] = LandedAnswer(
            method=row["method"],
            path=row["path"],
            rows=row["rows"],
            sha256=row["sha256"],
            landed_at=row["landed_at"],
        )
    return sorted(windows.values(), key=lambda w: (w.landed_at, w.window_start, w.window_end))


@dataclass(frozen=True)
class Adoption:
    """What `adopt_landed_answers` found on disk: fetches recorded, and answers left out."""

    fetches: int = 0
    left_out: tuple[str, ...] = ()
    """Answers not recorded, each with why: its fetch's other answer missing, or unreadable."""
    left_out_days: tuple[tuple[date, date], ...] = ()
    """The first and last day of the window of each fetch left out, once each."""


def unlisted_answers(
    con: duckdb.DuckDBPyConnection, data_dir: Path, *, provider: str, account: str
) -> list[FoundAnswer]:
    """The answers under the account's folders the ledger does not list and that landed
    after the newest it lists (all of them when it lists none): those of an archive put
    back from an older backup, or lost, or of a run stopped before it merged them. Older
    unlisted ones were left by runs whose windows were fetched again since (or dropped by
    `forget_unreadable_landings`), and stay out."""
    return newer_unlisted(
        landed_files(con, provider, account), found_answers(data_dir, provider, account)
    )


def newer_unlisted(listed: pl.DataFrame, found: Sequence[FoundAnswer]) -> list[FoundAnswer]:
    """Of the answers `found` on disk, those the ledger rows `listed` (one account's) do not
    name and that landed after the newest they name (all, when they name none)."""
    times: list[datetime] = listed["landed_at"].to_list()
    newest = max(times, default=None)
    known = set(listed["path"].to_list())
    return [
        answer
        for answer in found
        if answer.path not in known and (newest is None or answer.landed_at > newest)
    ]


def adopt_landed_answers(
    con: duckdb.DuckDBPyConnection, data_dir: Path, *, provider: str, account: str
) -> Adoption:
    """Record in the ledger the fetches of `unlisted_answers` (landing/ holds every answer
    ever landed; the ledger, in the archive, only those landed while it was there).

    For an archive lost and made again, or one made again for another account of the data
    dir, or one put back from a backup older than the last runs: the answers are still on
    disk, named by window and fetch (`landing_path`), and a replay archives them again. A
    fetch is recorded with both its answers (getSMS without its getMMS would take MMS for
    SMS); one with an answer missing or not a JSON array of rows is left out. All are
    recorded in one transaction: a replay stopped while reading them leaves none, and the
    next adopts them all.
    """
    fetches: dict[tuple[date, date, str], list[FoundAnswer]] = {}
    for answer in unlisted_answers(con, data_dir, provider=provider, account=account):
        key = (answer.window_start, answer.window_end, answer.fetch)
        fetches.setdefault(key, []).append(answer)
    recorded: list[tuple[FoundAnswer, LandedFile]] = []
    left_out: list[str] = []
    left_out_days: dict[tuple[date, date], None] = {}
    for (start, end, _), answers in fetches.items():
        methods = {answer.method for answer in answers}
        why = ""
        if methods != set(ANSWER_METHODS) or len(answers) != len(ANSWER_METHODS):
            why = "(the other answer of its fetch is missing)"
        else:
            counted = [(answer, counted_answer(data_dir, answer.path)) for answer in answers]
            readable = [(answer, file) for answer, file in counted if file is not None]
            if len(readable) != len(counted):
                why = "(an answer of its fetch is no JSON array of rows)"
        if why:
            left_out += [f"{answer.path} {why}" for answer in answers]
            left_out_days[(start, end)] = None
            continue
        recorded += readable
    with transaction(con):
        for answer, file in recorded:
            record_landing(
                con,
                provider=provider,
                account=account,
                window_start=answer.window_start,
                window_end=answer.window_end,
                method=answer.method,
                path=answer.path,
                rows=file.rows,
                sha256=file.sha256,
                landed_at=answer.landed_at,
            )
    return Adoption(
        fetches=len(recorded) // len(ANSWER_METHODS),
        left_out=tuple(left_out),
        left_out_days=tuple(sorted(left_out_days)),
    )


def refuse_a_new_archive_over_landings(archive_path: Path, data_dir: Path) -> None:
    """Raise LostArchiveError when writing would start a new archive while landing/ holds the
    answers of earlier runs: the archive was lost or moved, and a new one would hold only
    what the provider still keeps (a sync: a few days), its exports soon replacing the old."""
    if not starts_new_archive(archive_path):
        return
    landed = landed_answer_count(data_dir)
    if landed == 0:
        return
    raise LostArchiveError(
        f"there is no archive at {archive_path} (or only one a first run was killed while "
        f"making), but {data_dir / LANDING_DIR} holds {landed:,} answers earlier runs landed: "
        "the archive was lost or moved, and a new one would start from nothing. Put it back "
        "(from a backup), or rebuild it from landing/ with `smsarchive replay` and then "
        "`smsarchive backfill --start <its first day>` for what landing/ lacks; to start a new "
        "archive here anyway, move landing/ aside first"
    )


def refuse_unlisted_landings(
    con: duckdb.DuckDBPyConnection, data_dir: Path, *, provider: str, account: str
) -> None:
    """Raise LostArchiveError when the archive has no run of `account` and lists none of its
    answers, but landing/ holds some: its messages were in an archive that was lost, and
    this one (made again for another account of the data dir) does not hold them yet; a
    replay archives them. (A run stopped before its first merge leaves answers the ledger
    does not list, and its own record: the next run goes on.)"""
    if not landed_files(con, provider, account).is_empty():
        return
    runs = query_frame(con, "count_account_runs", {"provider": provider, "account": account})
    if runs["runs"][0]:
        return
    found = found_answers(data_dir, provider, account)
    if not found:
        return
    raise LostArchiveError(
        f"the archive holds nothing {account} landed, but {data_dir / LANDING_DIR} holds "
        f"{len(found):,} of its answers: they were in an archive that was lost. Make them "
        f"archived again with `smsarchive replay` (with VOIPMS_API_USERNAME={account}) first"
    )
