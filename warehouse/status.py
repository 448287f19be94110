"""What `smsarchive status` shows: counts, spans, windows, runs, media, rejects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from warehouse.landing import newer_unlisted
from warehouse.landing_files import found_answers
from warehouse.queries import query_frame, query_row

LANDING_SCHEMA = pl.Schema(
    {
        "provider": pl.String(),
        "account": pl.String(),
        "answers": pl.Int64(),
        "missing": pl.Int64(),
        "first_day": pl.Date(),
        "last_day": pl.Date(),
        "unlisted": pl.Int64(),
    }
)


@dataclass(frozen=True)
class ArchiveStatus:
    """The archive at a glance; every frame is per provider/account.

    - messages: provider, account, kind, direction, messages
    - span: provider, account, messages, first_sent_at, last_sent_at
    - windows: provider, account, windows, first_day, last_day, last_completed_at
    - archived_days: provider, account, first_day, last_day, last_until; one row per run of
      consecutive local days the windows cover (two rows for an account: days between never
      archived); last_until, when the last day was not over at its last commit, that commit
    - last_runs: the latest run of each kind of each account (kind, run_id, ..., started_at,
      finished_at, outcome, windows_merged, messages_inserted, messages_updated, detail)
    - media: provider, account, state, files, bytes (all four states, zero when none), why
      (for failed: each last_error with its count)
    - rejected: provider, account, source, reason, records
    - unknown_statuses: provider, account, carrier_status, messages (status = 'unknown': no
      news, an explicit unknown, or a text no rule knows; transform.status.unmapped_only
      keeps the last)
    - notices: provider, account, kind, subject, example, first_seen_at, last_seen_at (what
      the API sent that this version did not expect)
    - landing: provider, account, answers (listed in raw_landing), missing (of those, not in
      landing/), first_day and last_day (of the windows with one missing), unlisted (answers
      under landing/ landed after the newest listed: `warehouse.landing.newer_unlisted`);
      empty when the data dir was not given
    """

    schema_version: int | None
    messages: pl.DataFrame
    span: pl.DataFrame
    windows: pl.DataFrame
    archived_days: pl.DataFrame
    last_runs: pl.DataFrame
    media: pl.DataFrame
    rejected: pl.DataFrame
    unknown_statuses: pl.DataFrame
    notices: pl.DataFrame
    landing: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LANDING_SCHEMA))


def archive_status(
    con: duckdb.DuckDBPyConnection,
    *,
    timezone: str = "America/New_York",
    data_dir: Path | None = None,
) -> ArchiveStatus:
    """Read the archive's status (works on a read-only connection); `timezone` is the
    account's (VOIPMS_ACCOUNT_TIMEZONE), whose local days the windows cover; with `data_dir`,
    which of the answers the archive lists as landed are no longer under its landing/."""
    version_row = query_row(con, "find_schema_version")
    version = None if version_row is None or version_row[0] is None else int(version_row[0])
    return ArchiveStatus(
        schema_version=version,
        messages=query_frame(con, "count_messages_by_kind"),
        span=query_frame(con, "find_message_span"),
        windows=query_frame(con, "count_done_windows"),
        archived_days=query_frame(con, "find_archived_day_ranges", {"timezone": timezone}),
        last_runs=query_frame(con, "find_last_runs"),
        media=query_frame(con, "summarise_media_states"),
        rejected=query_frame(con, "count_rejected_by_reason"),
        unknown_statuses=query_frame(con, "count_unknown_statuses"),
        notices=query_frame(con, "select_provider_notices"),
        landing=(
            _landing(con, data_dir) if data_dir is not None else pl.DataFrame(schema=LANDING_SCHEMA)
        ),
    )


def _landing(con: duckdb.DuckDBPyConnection, data_dir: Path) -> pl.DataFrame:
    """Per account: the answers listed as landed, those of them gone from landing/ (a look
    for each file, not a read: changed ones show when a replay reads them), and those under
    landing/ landed after the newest listed (names only)."""
    listed = query_frame(con, "select_landed_files", {"provider": None, "account": None})
    gone = pl.Series([not (data_dir / path).is_file() for path in listed["path"]], dtype=pl.Boolean)
    counted = (
        listed.with_columns(gone.alias("gone"))
        .group_by("provider", "account", maintain_order=True)
        .agg(
            pl.len().cast(pl.Int64).alias("answers"),
            pl.col("gone").sum().cast(pl.Int64).alias("missing"),
            pl.col("window_start").filter(pl.col("gone")).min().alias("first_day"),
            pl.col("window_end").filter(pl.col("gone")).max().alias("last_day"),
        )
    )
    unlisted = [
        len(
            newer_unlisted(
                listed.filter((pl.col("provider") == provider) & (pl.col("account") == account)),
                found_answers(data_dir, provider, account),
            )
        )
        for provider, account in counted.select("provider", "account").iter_rows()
    ]
    return counted.with_columns(unlisted=pl.Series(unlisted, dtype=pl.Int64)).cast(LANDING_SCHEMA)
