"""The report's headline numbers as terminal lines and as markdown (for a Prefect artifact)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from warehouse.plain_numbers import counted, size_text
from warehouse.report.params import ReportScope


def _all_row(frame: pl.DataFrame) -> dict[str, object]:
    rows = frame.filter(pl.col("did") == "*").to_dicts()
    return rows[0] if rows else {}


def _share(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, float) else "n/a"


def latency_text(value: object) -> str:
    """A latency in minutes as a reader takes it in: minutes, hours past two, days past two."""
    if not isinstance(value, float):
        return "n/a"
    if value >= 2 * 1440:
        return f"{value / 1440:,.1f} days"
    if value >= 120:
        return f"{value / 60:,.1f} h"
    return f"{value:,.1f} min"


def _near_limit(near: pl.DataFrame) -> str:
    account_days = near.filter(pl.col("did") == "*").height
    text = f"{counted(near.height - account_days, 'DID-day')} with 80+ SMS sent"
    together = f"{counted(account_days, 'account-day')} (DIDs together)"
    return f"{text}, {together}" if account_days else text


def accounts_together(totals: dict[str, object]) -> str | None:
    """What a report of several accounts says beside its figures: that it counts them together."""
    accounts = totals.get("accounts")
    if not isinstance(accounts, int) or accounts < 2:
        return None
    return f"{accounts:,} accounts counted together (report one with --account)"


def summary_lines(tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    """Headline figures by label: volume, delivery, replies, media, limits, unmapped statuses."""
    totals = tables["totals"].row(0, named=True)
    delivery = _all_row(tables["delivery_rate"])
    replies = _all_row(tables["reply_stats"])
    media = {row["state"]: row for row in tables["media_states"].iter_rows(named=True)}
    files = sum(int(row["files"]) for row in media.values())
    stored_bytes = int(media.get("stored", {}).get("bytes", 0) or 0)
    return {
        "messages": (
            f"{totals['messages']:,} ({totals['inbound']:,} in, {totals['outbound']:,} out; "
            f"{totals['sms']:,} SMS, {totals['mms']:,} MMS; {totals['segments']:,} SMS segments)"
        ),
        "span": f"{totals['first_day'] or '-'} to {totals['last_day'] or '-'}",
        "contacts": "; ".join(
            part
            for part in (
                f"{counted(totals['contacts'], 'contact')} on {counted(totals['dids'], 'DID')}",
                accounts_together(totals),
            )
            if part
        ),
        "delivery rate": (
            f"{_share(delivery.get('delivery_rate'))} "
            f"({delivery.get('delivered', 0):,} delivered, {delivery.get('failed', 0):,} failed, "
            f"{delivery.get('not_final', 0):,} not final)"
        ),
        "reply rate": (
            f"{_share(replies.get('reply_rate'))} of {replies.get('turns', 0):,} inbound turns, "
            f"{_share(replies.get('within_day_rate'))} within a day; "
            f"median {latency_text(replies.get('median_minutes'))}, "
            f"p90 {latency_text(replies.get('p90_minutes'))}"
        ),
        "media": (
            # attachments, not files: an expired one has none
            f"{counted(files, 'attachment')}, {size_text(stored_bytes)} stored, "
            f"{_share(media.get('expired', {}).get('share'))} expired"
        ),
        "near send limit": _near_limit(tables["near_send_limit"]),
        "unmapped": counted(int(tables["unmapped_statuses"]["messages"].sum()), "message"),
    }


def scope_line(scope: ReportScope, tables: dict[str, pl.DataFrame], *, grain: bool = True) -> str:
    """The scope in words, its open ends named by the first and last day with messages (and
    its period unless `grain` is false)."""
    totals = tables["totals"]
    if totals.is_empty():
        return scope.describe(grain=grain)
    row = totals.row(0, named=True)
    return scope.describe(row["first_day"], row["last_day"], grain=grain)


def summary_markdown(tables: dict[str, pl.DataFrame], scope: ReportScope, report_dir: Path) -> str:
    """The summary as a markdown table, with where the report's files are."""
    lines = [
        "# smsarchive report",
        "",
        f"{scope_line(scope, tables)}",
        "",
        "| | |",
        "|---|---|",
        *(f"| {label} | {value} |" for label, value in summary_lines(tables).items()),
        "",
        f"Files: `{report_dir / 'report.html'}` (charts also as PNG, every table as CSV).",
    ]
    return "\n".join(lines)
