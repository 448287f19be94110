"""Comparisons between an archive and the sandbox's ground truth, shared by flow tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import polars as pl

from extract.voipms.sandbox.account import SandboxAccount

MESSAGE_COLUMNS = ["kind", "message_id", "direction", "did", "contact", "body", "sent_at"]


def truth_messages(account: SandboxAccount) -> pl.DataFrame:
    """What the archive must hold for every message, in the archive's terms."""
    truth = account.truth()
    return truth.select(
        "kind",
        pl.col("id").cast(pl.Utf8).alias("message_id"),
        "direction",
        ("+1" + pl.col("did")).alias("did"),
        pl.coalesce("contact_e164", "contact").alias("contact"),
        "body",
        "sent_at",
        pl.col("local_ambiguous"),
        pl.col("media_count"),
    ).sort("kind", "message_id")


def assert_matches_truth(got: pl.DataFrame, truth: pl.DataFrame) -> None:
    """Every column exact; sent_at exact too, except the documented repeated-hour case.

    In the hour repeated when DST ends, the API's local time names two instants. An MMS with
    media is dated by its media token, exactly. Other rows are resolved by id order, which
    misses a second-pass row later on the clock than every first-pass row of its kind (or
    with none before it): that one falls back to the earlier instant, one hour early.
    """
    from polars.testing import assert_frame_equal

    columns = [c for c in MESSAGE_COLUMNS if c != "sent_at"]
    assert_frame_equal(got.select(columns), truth.select(columns), check_dtypes=False)
    diff = got.select("kind", "message_id", got_at="sent_at").with_columns(
        true_at=truth["sent_at"],
        ambiguous=truth["local_ambiguous"],
        token=(truth["kind"] == "mms") & (truth["media_count"] > 0),
    )
    wrong = diff.filter(pl.col("got_at") != pl.col("true_at"))
    unexplained = wrong.filter(
        ~pl.col("ambiguous")
        | pl.col("token")
        | (pl.col("true_at") - pl.col("got_at") != pl.duration(hours=1))
    )
    assert unexplained.is_empty(), unexplained
    assert wrong.height <= diff["ambiguous"].sum() // 2, wrong


def archived_messages(archive: Path) -> pl.DataFrame:
    """The archive's messages in the same shape."""
    with duckdb.connect(str(archive), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        frame = con.sql(
            "SELECT kind, message_id, direction, did, contact, body, sent_at FROM messages"
        ).pl()
    return frame.with_columns(pl.col("sent_at").dt.convert_time_zone("UTC")).sort(
        "kind", "message_id"
    )


def table(archive: Path, sql: str, params: dict[str, object] | None = None) -> pl.DataFrame:
    """Any query against the archive, read-only, with bound parameters."""
    with duckdb.connect(str(archive), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.sql(sql, params=params).pl()


def stable_snapshot(archive: Path) -> dict[str, pl.DataFrame]:
    """Every table that matters, without the columns that record when a run happened."""
    return {
        "messages": table(
            archive,
            "SELECT * EXCLUDE (first_seen_at, last_seen_at) FROM messages "
            "ORDER BY kind, message_id",
        ),
        "media": table(
            archive,
            "SELECT provider, account, message_id, position, url, sha256, size_bytes, "
            "content_type, state FROM media ORDER BY message_id, position",
        ),
        "history": table(
            archive,
            "SELECT kind, message_id, carrier_status, count(*) AS n "
            "FROM carrier_status_history GROUP BY ALL ORDER BY ALL",
        ),
        "rejected": table(
            archive, "SELECT source, record, reason FROM rejected_records ORDER BY ALL"
        ),
    }


def media_problems(archive: Path, media_dir: Path, account: SandboxAccount) -> list[str]:
    """Every way the archived media differ from the truth (empty when they agree)."""
    truth = account.truth_media().select(
        pl.col("message_id").cast(pl.Utf8),
        pl.col("position").cast(pl.Int32),
        "url_path",
        "expired",
        "sha256",
        "size_bytes",
    )
    stored = table(
        archive, "SELECT message_id, position, url, state, sha256, size_bytes FROM media"
    )
    joined = truth.join(stored, on=["message_id", "position"], how="full", suffix="_got")
    problems: list[str] = []
    for row in joined.iter_rows(named=True):
        where = f"media {row['message_id']}#{row['position']}"
        if row["url_path"] is None:
            problems.append(f"{where}: archived but not in the truth")
            continue
        if row["state"] is None:
            problems.append(f"{where}: missing from the archive")
            continue
        if not str(row["url"]).endswith(row["url_path"]):
            problems.append(f"{where}: url {row['url']} is not {row['url_path']}")
        if row["expired"]:
            if row["state"] != "expired":
                problems.append(f"{where}: expired in truth, {row['state']} in the archive")
            continue
        if row["state"] != "stored" or row["sha256_got"] != row["sha256"]:
            problems.append(f"{where}: {row['state']} {row['sha256_got']} != {row['sha256']}")
            continue
        path = media_dir / row["sha256"][:2] / row["sha256"]
        if not path.is_file():
            problems.append(f"{where}: file {path} missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != row["sha256"]:
            problems.append(f"{where}: file {path} does not hash to its name")
    return problems
