"""The API's own clock in its media tokens: whether the configured zone reads its dates right."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import polars as pl

from extract.media.media_token import MEDIA_URL_FORMS

_ESCAPES: Final = {"%3D": "=", "%3d": "=", "%2B": "+", "%2b": "+", "%2F": "/", "%2f": "/"}

AGREES_WITHIN: Final = timedelta(minutes=15)
"""How far an MMS's sent_at may be from its token's instant and still be read as agreeing:
a wrong zone is off by whole hours or half hours."""

OFF_SHARE: Final = 0.05
"""The share of a window's dated MMS that must be off, by the same amount, for its zone to
be read as wrong: a zone wrong on some of a window's days only (EST for New York across the
autumn change) shows in those days' links alone, so a median over the window would miss it."""

OFF_AT_LEAST: Final = 2
"""And at least this many MMS: one odd link does not make a wrong zone."""


def token_seconds(url: pl.Expr) -> pl.Expr:
    """The epoch second a media URL's token carries (Int64), null where it carries none."""
    groups = url.str.extract_groups(MEDIA_URL_FORMS)  # its text begins with the epoch
    token = pl.coalesce(groups.struct.field("1"), groups.struct.field("2"))
    for escaped, char in _ESCAPES.items():
        token = token.str.replace_all(escaped, char, literal=True)
    token = token.str.replace_all("-", "+", literal=True).str.replace_all("_", "/", literal=True)
    text = token.str.decode("base64", strict=False).cast(pl.Utf8, strict=False)
    return text.str.extract(r"^(\d{10})", 1).cast(pl.Int64, strict=False)


def zone_disagreement(messages: pl.DataFrame, media: pl.DataFrame) -> timedelta | None:
    """How far the MMS's sent_at are from the instants their media tokens carry, to the
    quarter hour, when at least OFF_SHARE of them (and OFF_AT_LEAST) are off by AGREES_WITHIN
    or more: the amount most of those are off by. None when they agree or no token tells.

    sent_at is the API's naive local time read in VOIPMS_ACCOUNT_TIMEZONE: a difference
    means the API's dates are in another zone than the setting says (positive: sent_at late).
    """
    tokens = media.select(
        "message_id", pl.from_epoch(token_seconds(pl.col("url")), time_unit="s").alias("_at")
    ).drop_nulls("_at")
    if tokens.is_empty():
        return None
    mms = messages.filter(pl.col("kind") == "mms").select("message_id", "sent_at")
    gaps = (
        tokens.join(mms, on="message_id", how="inner")
        .unique("message_id")  # one reading a message, however many links it has
        .select((pl.col("sent_at") - pl.col("_at").dt.replace_time_zone("UTC")).alias("gap"))
        .filter(pl.col("gap").abs() <= pl.duration(days=1))
        .get_column("gap")
    )
    off = gaps.filter(gaps.abs() >= AGREES_WITHIN)
    if off.is_empty():
        return None
    quarters = (off.dt.total_seconds() / 900).round().cast(pl.Int64)
    counts = quarters.value_counts(name="n")
    top = counts.sort(["n", quarters.name], descending=[True, False]).row(0, named=True)
    if top["n"] < max(OFF_AT_LEAST, OFF_SHARE * gaps.len()):  # odd links, each its own way
        return None
    return timedelta(minutes=15 * int(top[quarters.name]))
