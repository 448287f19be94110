"""Replay as plain steps: the archive re-derived from its landed answers, without the API."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from flows.progress import Tracker
from flows.run_progress import run_progress
from flows.runtime import current_reporter
from flows.settings import Settings
from flows.unfinished_replay import replay_underway
from flows.window_steps import PROVIDER, ZoneWarning, replay_window
from transform.drift import Notice
from warehouse import (
    LandedWindow,
    LandingChangedError,
    adopt_landed_answers,
    corrected_since_snapshot,
    drop_resolved_rejections,
    landed_windows,
    open_warehouse,
    snapshot_derived_columns,
    starts_new_archive,
    writer_lock,
)
from warehouse.accounts import archived_accounts, archived_spelling
from warehouse.landing_files import found_answers
from warehouse.plain_numbers import counted

logger = logging.getLogger("smsarchive")


@dataclass
class ReplaySummary:
    """What one replay did, for the terminal."""

    start: date | None
    end: date | None
    windows: int = 0
    replayed: int = 0
    inserted: int = 0
    corrected: int = 0
    rejected: int = 0
    notices: list[str] = field(default_factory=list)
    failed_windows: list[str] = field(default_factory=list)
    failed_days: list[tuple[date, date]] = field(default_factory=list)
    """The first and last day of each window in `failed_windows`."""
    failed_accounts: list[str] = field(default_factory=list)
    """The account of each window in `failed_windows`."""
    remedies: list[str] = field(default_factory=list)
    """What fetches and lands `failed_windows` again: a command per account, over its days."""
    adopted: int = 0
    """Fetches found under landing/ the archive's ledger did not list (a lost archive's)."""
    left_out: list[str] = field(default_factory=list)
    """Answers found under landing/ not recorded, each with why."""
    left_out_days: list[tuple[date, date]] = field(default_factory=list)
    """The first and last day of the window of each fetch in `left_out`, once each."""
    left_out_account: str = ""
    """The account whose answers `left_out` are."""

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for printing."""
        values = asdict(self)
        values["failed_days"] = [(a.isoformat(), b.isoformat()) for a, b in self.failed_days]
        values["left_out_days"] = [(a.isoformat(), b.isoformat()) for a, b in self.left_out_days]
        values["start"] = self.start.isoformat() if self.start else None
        values["end"] = self.end.isoformat() if self.end else None
        return values


class ReplayFailedError(RuntimeError):
    """Some landed windows could not be replayed; the others were."""


class NothingToRebuildError(ValueError):
    """No archive, and none of the account's answers under landing/ can be replayed."""


def _overlaps(window: LandedWindow, start: date | None, end: date | None) -> bool:
    return (start is None or window.window_end >= start) and (
        end is None or window.window_start <= end
    )


def windows_to_replay(
    landed: Sequence[LandedWindow], start: date | None, end: date | None
) -> list[LandedWindow]:
    """The landed windows touching `start`..`end`, and every one sharing a day with those.

    A message of the range may have been read again by a later landing that does not touch
    the range (a sync's window over a backfill's): replayed with the rest, in landing order,
    it leaves the message with that newest reading. In the order given (earliest landed
    first).
    """
    touching = [window for window in landed if _overlaps(window, start, end)]
    return [
        window
        for window in landed
        if any(
            window.provider == other.provider
            and window.account == other.account
            and _overlaps(window, other.window_start, other.window_end)
            for other in touching
        )
    ]


def replay_archive(
    settings: Settings, start: date | None = None, end: date | None = None
) -> ReplaySummary:
    """Transform the landed windows of `start`..`end` again and merge them as a replay.

    The windows are those of `windows_to_replay`: the ones touching the range and those
    sharing a day with them. Under the writer lock, one window at a time, the earliest
    landed first (so each message ends with the newest reading the API gave; an older
    answer never sets back a newer carrier status, see `merge_windows`). Derived columns
    are corrected, rows a newer transform can read are inserted, carrier status history
    and window checkpoints are left as the runs that fetched the answers made them. A
    window whose landed answers are missing or changed is left as it is and reported; the
    run then raises ReplayFailedError after replaying the others.
    """
    if start is not None and end is not None and start > end:
        raise ValueError(f"start {start} is after end {end}")
    data_dir = settings.smsarchive_data_dir
    login = settings.voipms_api_username
    rebuilding = starts_new_archive(settings.archive_path)
    if rebuilding:
        _refuse_nothing_to_rebuild(settings)
    summary = ReplaySummary(start=start, end=end)
    wait = settings.smsarchive_busy_wait_seconds
    days = f"{start or 'the first'}..{end or 'the last'}"
    with (
        writer_lock(data_dir, wait=wait),
        run_progress(data_dir, f"replay {days}") as progress,
        replay_underway(data_dir, start, end, done_anyway=(NothingToRebuildError,)),
    ):
        con = open_warehouse(
            settings.archive_path, wait=wait, memory_limit=settings.smsarchive_duckdb_memory_limit
        )
        try:
            if login:  # a lost archive's answers, still on disk, are archived again
                account = archived_spelling(archived_accounts(con), login)
                adoption = adopt_landed_answers(con, data_dir, provider=PROVIDER, account=account)
                summary.adopted, summary.left_out = adoption.fetches, list(adoption.left_out)
                summary.left_out_days = list(adoption.left_out_days)
                summary.left_out_account = account
                if adoption.fetches:
                    logger.info(
                        "%d fetches of %s found under landing/ that the archive did not list: "
                        "replayed with the others",
                        adoption.fetches,
                        account,
                    )
                if rebuilding and not adoption.fetches:
                    first = adoption.left_out[0] if adoption.left_out else "none found"
                    raise NothingToRebuildError(
                        f"nothing to replay: there is no archive at {settings.archive_path}, "
                        f"and none of the {len(adoption.left_out)} answers of {account} under "
                        f"landing/ can be replayed (the first: {first})"
                    )
            todo = windows_to_replay(landed_windows(con, PROVIDER), start, end)
            summary.windows = len(todo)
            tracker = progress.stage(
                "windows", len(todo), current_reporter().stage("windows", len(todo))
            )
            notices: set[Notice] = set()
            zone = ZoneWarning(settings.voipms_account_timezone)
            snapshot_derived_columns(con)
            for window in todo:
                notices |= _replay_one(con, window, settings, summary, tracker, zone)
            # a window's rows no fetch of it rejects any more, once all its fetches are in
            drop_resolved_rejections(con, _wholly_replayed(todo, summary.failed_days))
            # net: a message two windows read differently is changed, then changed back
            summary.corrected = corrected_since_snapshot(con)
            summary.notices = [notice.describe() for notice in sorted(notices)]
        except NothingToRebuildError:
            con.close()
            # made by this replay, empty: a sync would start over on it, unrefused
            for made in (settings.archive_path, Path(f"{settings.archive_path}.wal")):
                made.unlink(missing_ok=True)
            raise
        finally:
            con.close()
    if summary.failed_windows or summary.left_out:
        _raise_failed(summary)
    return summary


def _raise_failed(summary: ReplaySummary) -> None:
    """Raise ReplayFailedError naming the windows not replayed and the answers left out of a
    rebuild (found under landing/ but unreadable: their days hold only what other fetches
    of them held), with the refetches that land them again."""
    said: list[str] = []
    if summary.failed_windows:
        failed = len(summary.failed_windows)
        said.append(
            f"{failed} of {summary.windows} landed windows could not be replayed "
            f"({'; '.join(summary.failed_windows)}), the rest were"
            if failed < summary.windows
            else f"none of the {failed} landed windows could be replayed "
            f"({'; '.join(summary.failed_windows)})"
        )
    if summary.left_out:
        said.append(
            f"{counted(len(summary.left_out), 'answer')} under landing/ could not be read "
            f"and {'was' if len(summary.left_out) == 1 else 'were'} left out, the first: "
            f"{summary.left_out[0]}; their windows' days hold only what other fetches of them "
            "held"
        )
    left_out_accounts = [summary.left_out_account] * len(summary.left_out_days)
    summary.remedies = _refetches(
        [*summary.failed_accounts, *left_out_accounts],
        [*summary.failed_days, *summary.left_out_days],
    )
    raise ReplayFailedError(
        "; ".join(said) + ". To fetch and land them again: " + "; ".join(summary.remedies)
    )


def _refetches(accounts: Sequence[str], days: Sequence[tuple[date, date]]) -> list[str]:
    """One refetch per account, over the days from its first failed window's to its last's
    (windows between that replayed are fetched again too: no harm, a few calls)."""
    spans: dict[str, tuple[date, date]] = {}
    for account, (first, last) in zip(accounts, days, strict=True):
        known = spans.get(account, (first, last))
        spans[account] = (min(known[0], first), max(known[1], last))
    return [_refetch(span, account) for account, span in spans.items()]


def _refuse_nothing_to_rebuild(settings: Settings) -> None:
    """With no archive, a replay makes one from the answers landed under landing/ of the
    configured account; ValueError when there are none, or no account to look for."""
    missing = f"nothing to replay: there is no archive at {settings.archive_path}"
    login = settings.voipms_api_username
    if not login:
        raise ValueError(
            f"{missing}; to make it again from the answers landed under landing/, set "
            "VOIPMS_API_USERNAME to the account they are of"
        )
    if not found_answers(settings.smsarchive_data_dir, PROVIDER, login):
        raise ValueError(f"{missing}, and landing/ holds no answer of {login}")


def _wholly_replayed(
    todo: Sequence[LandedWindow], failed: Sequence[tuple[date, date]]
) -> list[tuple[str, str, date, date]]:
    """The windows (provider, account, days) none of whose fetches failed to replay."""
    return sorted(
        {
            (window.provider, window.account, window.window_start, window.window_end)
            for window in todo
            if (window.window_start, window.window_end) not in failed
        }
    )


def _refetch(days: tuple[date, date], account: str) -> str:
    """The command that fetches and lands a window's answers again, and as which account (an
    archive may hold several: the backfill fetches the one its settings log in as)."""
    return (
        f"`smsarchive backfill --start {days[0]} --end {days[1]} --refetch` "
        f"with VOIPMS_API_USERNAME={account}"
    )


def _replay_one(
    con: duckdb.DuckDBPyConnection,
    window: LandedWindow,
    settings: Settings,
    summary: ReplaySummary,
    tracker: Tracker,
    zone: ZoneWarning,
) -> set[Notice]:
    """Replay one window into `summary`; the notices new to the archive."""
    days = f"{window.window_start}..{window.window_end}"
    try:
        merged, rejected, new_notices, zone_off_by = replay_window(
            con,
            window,
            data_dir=settings.smsarchive_data_dir,
            timezone=settings.voipms_account_timezone,
        )
    except LandingChangedError as exc:
        summary.failed_windows.append(f"{days}: {exc}")
        summary.failed_days.append((window.window_start, window.window_end))
        summary.failed_accounts.append(window.account)
        remedy = _refetch((window.window_start, window.window_end), window.account)
        logger.error("window %s not replayed: %s; %s fetches and lands it again", days, exc, remedy)
        tracker.advance(f"{days} failed")
        return set()
    zone.check(zone_off_by)
    summary.replayed += 1
    summary.inserted += merged.inserted
    summary.rejected += rejected
    tracker.advance(days)
    return new_notices
