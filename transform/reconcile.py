"""getSMS (all messages) and getMMS (MMS only) raw frames to messages, media and rejected rows."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transform.api_zone import token_seconds
from transform.body import body_from_raw
from transform.direction import direction_from_type
from transform.local_time import DEFAULT_TIMEZONE, local_datetime, sent_at_readings
from transform.media import COL_MEDIA, media_count, media_entries, media_rows
from transform.phone_numbers import looked_up, numbers_read
from transform.raw import RAW_SCHEMA
from transform.rejection import readable, rejection_reason
from transform.schemas import MEDIA_SCHEMA, MESSAGES_SCHEMA, REJECTED_SCHEMA
from transform.segments import encoding, segments
from transform.status import statuses_of

GETSMS = "getSMS"
GETMMS = "getMMS"
_KEY = ("message_id", "_local", "direction", "did", "contact")
_MESSAGE_KEY = ("kind", "message_id")
_CANDIDATE = (
    *_KEY,
    "kind",
    "body_source",
    "_entries",
    "source",
    "record",
    "contact_kind",
    "body",
    "body_raw",
    "sent_at_local",
    "carrier_status",
)


@dataclass(frozen=True, slots=True)
class Reconciled:
    """The frames of one batch, and the counts that account for every input row."""

    messages: pl.DataFrame
    media: pl.DataFrame
    rejected: pl.DataFrame
    duplicates: int
    """Input rows dropped as repeats of a row of the same source."""
    matched: int
    """getSMS rows merged into the getMMS row of the same message."""

    @property
    def rows_accounted(self) -> int:
        """Input rows explained: messages + rejected + duplicates + matched."""
        return self.messages.height + self.rejected.height + self.duplicates + self.matched


def _conformed(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """The raw frame with every raw column (missing ones null) and `source` set to its role."""
    columns = [
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in RAW_SCHEMA.items()
        if name != "source"
    ]
    # One chunk: polars 2.1 can panic formatting a filtered multi-chunk string column.
    return frame.select(*columns, pl.lit(source, dtype=pl.Utf8).alias("source")).rechunk()


def _read(frame: pl.DataFrame, source: str, timezone: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(readable rows with their read values, unreadable rows with `_reason`)."""
    raw = _conformed(frame, source).with_row_index("_row")
    parsed = raw.with_columns(
        _local=local_datetime(pl.col("date")), direction=direction_from_type(pl.col("type"))
    )
    ok = parsed.select(readable(pl.col("_local"), pl.col("direction"), timezone)).to_series()
    unreadable = parsed.filter(~ok).with_columns(_reason=rejection_reason(timezone))
    rows = parsed.filter(ok)
    numbers = numbers_read(rows.get_column("did"), rows.get_column("contact"))
    rows = rows.with_columns(
        message_id=pl.col("id").str.strip_chars(),
        did=looked_up(pl.col("did"), numbers, "e164"),
        contact=looked_up(pl.col("contact"), numbers, "e164"),
        contact_kind=looked_up(pl.col("contact"), numbers, "kind"),
        body=body_from_raw(rows.get_column("message"), source=source),
        sent_at_local=pl.col("date"),
        body_raw=pl.col("message"),
        carrier_status=pl.col("carrier_status").fill_null(""),
    )
    return rows, unreadable


def _deduplicated(rows: pl.DataFrame) -> pl.DataFrame:
    """Readable rows once per read key, the last copy kept, in input order."""
    return rows.filter(pl.struct(_KEY).is_last_distinct())


def _rejected_rows(rows: pl.DataFrame, provider: str, account: str) -> pl.DataFrame:
    return rows.select(
        pl.lit(provider, dtype=pl.Utf8).alias("provider"),
        pl.lit(account, dtype=pl.Utf8).alias("account"),
        pl.col("source"),
        pl.col("record"),
        pl.col("_reason").alias("reason"),
    )


def reconcile(
    sms_all: pl.DataFrame,
    mms_only: pl.DataFrame,
    *,
    provider: str,
    account: str,
    timezone: str = DEFAULT_TIMEZONE,
) -> Reconciled:
    """Messages, media and rejected rows of one batch of raw getSMS and getMMS frames.

    The kind rule (docs/contracts.md): SMS and MMS ids come from separate counters, so a getSMS
    row is an MMS exactly when a getMMS row has the same (id, date, type, did, contact); it
    keeps getSMS's intact text and takes getMMS's media. A getSMS row that matches nothing is
    an SMS; a getMMS row that matches nothing is still an MMS, with getMMS's (stripped) text
    and body_source='getMMS'. The match compares the read values: id and date as trimmed text
    / local time, direction, and did/contact in E.164, so spacing or dial-mode differences do
    not split a pair.

    Nothing is dropped silently. Per call, with `in` = rows of both frames:
    `in == len(messages) + len(rejected) + duplicates + matched`, where
    - `rejected`: rows that cannot be read (see `transform.rejection`), and rows whose
      (kind, id) another message of this batch already holds with a different date, type, did
      or contact (the first, in input order, is kept);
    - `duplicates`: repeats within one source of an already seen message (same read key;
      overlapping windows) or of an already rejected record (same JSON); the last copy of a
      message is kept, as the later fetch carries the newer carrier_status;
    - `matched`: getSMS rows merged into their getMMS row (a pair is one message).
    """
    sms_readable, sms_unreadable = _read(sms_all, GETSMS, timezone)
    mms_readable, mms_unreadable = _read(mms_only, GETMMS, timezone)
    unreadable_in = pl.concat([sms_unreadable, mms_unreadable], rechunk=True)
    unreadable = unreadable_in.filter(pl.struct("source", "record").is_first_distinct())
    sms_ok = _deduplicated(sms_readable)
    mms_ok = _deduplicated(mms_readable)
    duplicates = (
        unreadable_in.height
        - unreadable.height
        + sms_readable.height
        - sms_ok.height
        + mms_readable.height
        - mms_ok.height
    )

    mms_side = mms_ok.select(
        *_KEY,
        _entries=media_entries(pl.col("media"), tuple(pl.col(c) for c in COL_MEDIA)),
        _mms_status=pl.col("carrier_status"),
        _matched=pl.lit(True),
    )
    from_sms = sms_ok.join(mms_side, on=list(_KEY), how="left", maintain_order="left")
    from_sms = from_sms.with_columns(
        kind=pl.when(pl.col("_matched").is_not_null()).then(pl.lit("mms")).otherwise(pl.lit("sms")),
        body_source=pl.lit(GETSMS),
        carrier_status=pl.when(pl.col("carrier_status").str.strip_chars() == "")
        .then(pl.col("_mms_status").fill_null(""))
        .otherwise(pl.col("carrier_status")),
    )
    matched = int(from_sms.get_column("_matched").is_not_null().sum())
    mms_alone = mms_ok.join(
        sms_ok.select(_KEY), on=list(_KEY), how="anti", maintain_order="left"
    ).with_columns(
        kind=pl.lit("mms"),
        body_source=pl.lit(GETMMS),
        _entries=media_entries(pl.col("media"), tuple(pl.col(c) for c in COL_MEDIA)),
    )
    candidates = pl.concat(
        [from_sms.select(_CANDIDATE), mms_alone.select(_CANDIDATE)], rechunk=True
    )
    candidates = candidates.with_row_index("_order").with_columns(
        _first=pl.col("_order").min().over(_MESSAGE_KEY) == pl.col("_order")
    )
    clashes = candidates.filter(~pl.col("_first")).with_columns(
        _reason=pl.format(
            "another {} of this batch has id {} with a different date, type, did or contact",
            pl.col("kind").str.to_uppercase(),
            pl.col("message_id"),
        )
    )
    kept = candidates.filter(pl.col("_first"))
    # an MMS's true instant, from its media token: which pass of a repeated hour it is in
    token = pl.col("_entries").list.eval(token_seconds(pl.element())).list.drop_nulls()
    readings = sent_at_readings(
        kept,
        timezone=timezone,
        local="_local",
        order="message_id",
        group="kind",
        told=pl.when(pl.col("kind") == "mms").then(token.list.first()),
    )
    # lazy, so polars computes a subexpression the columns share once (segments and encoding
    # both classify the body); an eager with_columns computes it for each: 4x slower
    messages = (
        kept.lazy()
        .with_columns(
            provider=pl.lit(provider, dtype=pl.Utf8),
            account=pl.lit(account, dtype=pl.Utf8),
            sent_at=readings.get_column("sent_at"),
            sent_at_other_reading=readings.get_column("sent_at_other_reading"),
            status=statuses_of(kept),
            segments=segments(pl.col("body")),
            encoding=encoding(pl.col("body")),
            media_count=media_count(pl.col("_entries")).fill_null(0),
        )
        .collect()
    )
    media = media_rows(
        messages.filter(pl.col("kind") == "mms").drop_nulls("_entries"),
        entries="_entries",
        keys=("provider", "account", "message_id"),
    )
    rejected = pl.concat(
        [_rejected_rows(unreadable, provider, account), _rejected_rows(clashes, provider, account)],
        rechunk=True,
    )
    return Reconciled(
        messages=messages.select(MESSAGES_SCHEMA.names()).cast(MESSAGES_SCHEMA),
        media=media.select(MEDIA_SCHEMA.names()).cast(MEDIA_SCHEMA),
        rejected=rejected.select(REJECTED_SCHEMA.names()).cast(REJECTED_SCHEMA),
        duplicates=duplicates,
        matched=matched,
    )
