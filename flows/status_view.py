"""Renders the archive's status for a person at a terminal: short tables, plain words."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from extract.printable import printable
from extract.voipms.windows import uncovered_spans
from flows.window_steps import warned_zone
from transform.status import unmapped_only
from transform.zone_rules import zone_info
from warehouse import ArchiveStatus
from warehouse.plain_numbers import counted, size_text

FORGOTTEN_AFTER = timedelta(days=7)
"""An account that holds nothing and has not run for this long before the archive's newest
run (a login typed wrong once, say) is left out of the last runs."""


def _newest_run_of_each_account(runs: pl.DataFrame) -> dict[str | None, datetime]:
    """When each account's newest run started (the last runs hold one per kind)."""
    latest: dict[str | None, datetime] = {}
    for row in runs.iter_rows(named=True):
        account, started = row["account"], row["started_at"]
        if account not in latest or started > latest[account]:
            latest[account] = started
    return latest


def _runs_worth_showing(status: ArchiveStatus) -> tuple[pl.DataFrame, list[str]]:
    """The last runs, without those of accounts that hold no message and ran no later than
    FORGOTTEN_AFTER before the archive's newest run (a login typed wrong would otherwise stay
    listed for ever; an account whose runs keep failing stays, being recent); and the
    accounts so left out."""
    runs = status.last_runs
    if runs.is_empty():
        return runs, []
    newest: datetime = runs["started_at"].max()  # type: ignore[assignment]
    holding = set(status.span["account"].to_list())
    latest = _newest_run_of_each_account(runs)
    stale = {
        account
        for account, started in latest.items()
        if account is not None and account not in holding and started < newest - FORGOTTEN_AFTER
    }
    if not stale:
        return runs, []
    kept = [row["account"] not in stale for row in runs.iter_rows(named=True)]
    return runs.filter(pl.Series(kept)), sorted(str(account) for account in stale)


def _archived_days(runs: pl.DataFrame, timezone: str, *, messages: int = 0) -> str:
    """The days archived (a last day not over at its last commit: until when), and the days
    between them that never were. With `messages` but no day, the archive was made again by a
    replay (which records no window): a backfill records them."""
    if runs.is_empty() and messages:
        return (
            "days archived: none recorded (the messages were replayed from landing/ into an "
            "archive made again; `smsarchive backfill --start <the first day>` records them)"
        )
    if runs.is_empty():
        return "days archived: none yet"
    spans = [(first, last) for first, last in runs.select("first_day", "last_day").rows()]
    days = sum((last - first).days + 1 for first, last in spans)
    shown = []
    for (first, last), until in zip(spans, runs["last_until"].to_list(), strict=True):
        cut = "" if until is None else f" {until.astimezone(zone_info(timezone)):%H:%M}"
        shown.append(f"{first} .. {last}{cut}")
    text = f"days archived: {', '.join(shown)} ({counted(days, 'day')})"
    gaps = [
        f"{end + timedelta(days=1)} .. {start - timedelta(days=1)}"
        for (_, end), (start, _) in itertools.pairwise(spans)
    ]
    if gaps:
        text += f"; never archived: {', '.join(gaps)} (backfill them)"
    return text


def _left_to_backfill(run: dict[str, Any], archived: pl.DataFrame, today: date) -> str | None:
    """What a backfill that did not end ok left, and the command that fetches it; None for
    another run, or one that left nothing. Days after `today` are not over: not counted."""
    first, last = run["window_start"], run["window_end"]
    if run["kind"] != "backfill" or first is None or last is None:
        return None
    last = min(last, today)  # an older version's run may have asked for days not over
    if first > last:
        return None
    left = uncovered_spans(first, last, archived.select("first_day", "last_day").rows())
    if not left:
        return None
    days = sum((end - start).days + 1 for start, end in left)
    spans = ", ".join(f"{start} .. {end}" for start, end in left)
    return (
        f"{counted(days, 'day')} never archived: {spans}; "
        f"`smsarchive backfill --start {first} --end {last}` fetches them (the windows "
        "already archived are skipped)"
    )


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _days(first: date | None, last: date | None) -> str:
    """A run's days, `2024-01-01..12-31` when both are in one year; across years
    `2018-12-07 .. 2026-12-06`, which a narrow terminal may wrap after the dots."""
    if first is None or last is None:
        return "—"
    if first.year == last.year:
        return f"{first}..{last:%m-%d}"
    return f"{first} .. {last}"


def _took(started: datetime | None, finished: datetime | None) -> str:
    """How long a run took, in whole seconds, minutes or hours and minutes."""
    if started is None or finished is None:
        return "—"
    seconds = max(0, round((finished - started).total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02} min"


def _local(value: datetime | None, timezone: str) -> str:
    if value is None:
        return "—"
    return value.astimezone(zone_info(timezone)).strftime("%Y-%m-%d %H:%M")


def _plain(value: object) -> str:
    """Text from the archive (the provider's, in the end) as the terminal is to show it:
    control characters escaped, so none moves the cursor or retitles the window, and Rich
    markup escaped, so `[/]` is text, not a tag."""
    return escape(printable(str(value)))


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> Group:
    """A bold title on a line of its own, then the table: no rules between columns, so that
    a run's row keeps to one line of an 80-column terminal (the title is never wrapped to
    the table's width)."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for index, header in enumerate(headers):
        # a cell too long for the terminal (or a pipe's 80 columns) folds: nothing cut off
        table.add_column(header, justify="left" if index == 0 else "right", overflow="fold")
    for row in rows:
        table.add_row(*(_cell(value) for value in row))
    return Group(Text(title, style="bold"), table)


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"  # as the headlines count: 4,080
    return _plain(value)


def _accounts(status: ArchiveStatus) -> list[tuple[str, str]]:
    """Accounts with messages or with windows done (a quiet account may have none)."""
    keys = ("provider", "account")
    frame = (
        pl.concat([status.span.select(keys), status.windows.select(keys)])
        .unique()
        .sort("provider", "account")
    )
    return [(str(p), str(a)) for p, a in frame.iter_rows()]


def _of(frame: pl.DataFrame, provider: str | None, account: str | None) -> pl.DataFrame:
    # a run that failed before it knew its account has none (null): its rows are matched too
    return frame.filter(
        pl.col("provider").eq_missing(provider) & pl.col("account").eq_missing(account)
    )


def _outcome(outcome: str, writer_alive: bool) -> str:
    if outcome == "running" and not writer_alive:
        return "interrupted"
    return outcome


def _zone_set_since(detail: str, timezone: str) -> str:
    """When `detail` warned of another zone than the one set now: that it was changed since."""
    said = warned_zone(detail)
    if said is None or said == timezone:
        return ""
    return (
        f" (VOIPMS_ACCOUNT_TIMEZONE is {timezone} now: once `smsarchive replay` has run in it, "
        "the next sync says whether the media links agree)"
    )


def _landing_line(landing: dict[str, Any], account: str) -> str:
    """The answers an account's runs landed, those gone from landing/ if any, and those
    landed after the newest listed if any."""
    answers = f"landed answers: {landing['answers']:,}"
    if not landing["missing"]:
        said = f"{answers}, all in landing/"
    else:
        said = (
            f"{answers}, {landing['missing']:,} of them gone from landing/ (windows from "
            f"{landing['first_day']} to {landing['last_day']}): a replay cannot read those "
            f"windows again; `smsarchive backfill --start {landing['first_day']} --end "
            f"{landing['last_day']} --refetch` with VOIPMS_API_USERNAME={_plain(account)} lands "
            "them again (what the provider has forgotten since is not had again)"
        )
    if landing["unlisted"]:
        said += (
            f"; {landing['unlisted']:,} more under landing/ landed after the newest the archive "
            "lists (a run stopped before it merged them, or an archive put back from an older "
            f"backup): `smsarchive replay` with VOIPMS_API_USERNAME={_plain(account)} archives "
            "them"
        )
    return said


def render_status(
    status: ArchiveStatus,
    console: Console,
    *,
    writer_alive: bool = True,
    timezone: str = "UTC",
    missing_media: str | None = None,
) -> None:
    """Print every part of the status, saying plainly when a part is empty.

    The messages' span is in `timezone` (the account's: the days backfill and report take);
    runs are in UTC. `writer_alive` False means no process holds the writer lock: a run still
    logged as 'running' was killed, and is shown as such (the next run marks it interrupted).
    `missing_media` says that files the media table counts as stored are not on disk: under
    the media table of an archive of one account, else once after every account's (the files
    are shared by all).
    """
    accounts = _accounts(status)
    if not accounts:
        console.print("The archive is empty: run `smsarchive backfill --start YYYY-MM-DD`.")
    for provider, account in accounts:
        spans = _of(status.span, provider, account)
        if spans.is_empty():
            console.print(
                f"[bold]{_plain(provider)} · {_plain(account)}[/bold]: no messages in the days "
                "archived"
            )
        else:
            span = spans.row(0, named=True)
            console.print(
                f"[bold]{_plain(provider)} · {_plain(account)}[/bold]: {span['messages']:,} "
                "messages from "
                f"{_local(span['first_sent_at'], timezone)} to "
                f"{_local(span['last_sent_at'], timezone)} ({timezone})"
            )
        counts = _of(status.messages, provider, account)
        rows = [
            (
                kind,
                *(
                    int(
                        counts.filter((pl.col("kind") == kind) & (pl.col("direction") == d))[
                            "messages"
                        ].sum()
                    )
                    for d in ("inbound", "outbound")
                ),
            )
            for kind in ("sms", "mms")
        ]
        console.print(_table("messages", ["kind", "inbound", "outbound"], rows))
        for window in _of(status.windows, provider, account).iter_rows(named=True):
            console.print(
                f"windows done: {window['windows']}, the last at "
                f"{_when(window['last_completed_at'])}"
            )
        console.print(
            _archived_days(
                _of(status.archived_days, provider, account),
                timezone,
                messages=int(_of(status.messages, provider, account)["messages"].sum()),
            )
        )
        media = _of(status.media, provider, account)
        console.print(
            _table(
                "media",
                ["state", "attachments", "size", "why"],
                [
                    (r["state"], r["files"], size_text(r["bytes"]), r["why"] or "")
                    for r in media.iter_rows(named=True)
                ],
            )
        )
        if missing_media is not None and len(accounts) == 1:  # under the one media table
            console.print(missing_media)
        for landing in _of(status.landing, provider, account).iter_rows(named=True):
            console.print(_landing_line(landing, account))
        rejected = _of(status.rejected, provider, account)
        if rejected.is_empty():
            console.print("rejected rows: none")
        else:
            console.print(
                _table(
                    "rejected rows (kept in rejected_records)",
                    ["source", "reason", "rows"],
                    rejected.select("source", "reason", "records").rows(),
                )
            )
        unmapped = unmapped_only(_of(status.unknown_statuses, provider, account))
        if unmapped.is_empty():
            console.print("carrier statuses that did not map: none")
        else:
            console.print(
                _table(
                    "carrier statuses no rule knows (status 'unknown')",
                    ["carrier_status", "messages"],
                    [(repr(s), n) for s, n in unmapped.select("carrier_status", "messages").rows()],
                )
            )
        notices = _of(status.notices, provider, account)
        if not notices.is_empty():
            # only a changed type has an example (an unknown field's value is not kept)
            examples = notices["example"].drop_nulls().len() > 0
            console.print(
                _table(
                    "what the API sent that this version did not expect (provider_notices)",
                    ["kind", "what", *(["example"] if examples else []), "last seen"],
                    [
                        (
                            r["kind"],
                            r["subject"],
                            *([r["example"] or ""] if examples else []),
                            _when(r["last_seen_at"]),
                        )
                        for r in notices.iter_rows(named=True)
                    ],
                )
            )
    if missing_media is not None and len(accounts) != 1:  # the files of every account
        console.print(missing_media)
    last_runs, stale = _runs_worth_showing(status)
    if not last_runs.is_empty():
        # an archive of several accounts: each one's runs, named
        several = last_runs["account"].n_unique() > 1
        console.print(
            _table(
                "last runs",
                [
                    "run",
                    *(["account"] if several else []),
                    "outcome",
                    "days",
                    "started (UTC)",
                    "took",
                    "new",
                    "changed",
                ],
                [
                    (
                        r["kind"],
                        *([r["account"]] if several else []),
                        _outcome(r["outcome"], writer_alive),
                        _days(r["window_start"], r["window_end"]),
                        _local(r["started_at"], "UTC"),  # the zone said by the header
                        _took(r["started_at"], r["finished_at"]),
                        r["messages_inserted"],
                        r["messages_updated"],
                    )
                    for r in last_runs.iter_rows(named=True)
                ],
            )
        )
        newest = _newest_run_of_each_account(last_runs)  # its warning stands
        today = datetime.now(zone_info(timezone)).date()
        for r in last_runs.iter_rows(named=True):
            whose = f" of {_plain(r['account'])}" if several else ""
            run = f"{_plain(r['kind'])}{whose} of {_when(r['started_at'])}"
            still_said = r["outcome"] == "ok" and r["started_at"] == newest[r["account"]]
            if (r["outcome"] == "failed" or still_said) and r["detail"]:
                ended = "failed" if r["outcome"] == "failed" else "went through, but"
                since = _zone_set_since(r["detail"], timezone)
                console.print(f"{run} {ended}: {_plain(r['detail'])}{since}")
            killed = r["outcome"] == "running" and not writer_alive
            if r["outcome"] in ("failed", "interrupted") or killed:
                archived = _of(status.archived_days, r["provider"], r["account"])
                left = _left_to_backfill(r, archived, today)
                if killed:
                    if r["kind"] == "sync":
                        again = "the next sync resumes it"
                    elif left is not None:
                        again = f"it left {left}"
                    else:
                        again = "a backfill of the same days fetches only what it left"
                    console.print(
                        f"{run} was interrupted: its process ended before the run did; {again}"
                    )
                elif left is not None:
                    ended = "failed" if r["outcome"] == "failed" else "was interrupted"
                    console.print(f"{run} {ended} and left {left}")
    if stale:
        console.print(
            f"(left out: the runs of {', '.join(stale)}, which "
            f"{'holds' if len(stale) == 1 else 'hold'} nothing and ran last over a week before "
            "the newest run: a login typed wrong, say; sync_runs keeps them)"
        )
    console.print(f"archive schema {status.schema_version}")
