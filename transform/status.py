"""Free-text `carrier_status` mapped to a canonical status by a table of patterns."""

from __future__ import annotations

from typing import Final

import polars as pl

CANONICAL_STATUSES: Final = ("delivered", "sent", "pending", "failed", "received", "unknown")

NO_INFORMATION: Final = ("", "information not available", "not available", "n/a", "none")
"""Normalised texts that say nothing about delivery."""

STATUS_RULES: Final[tuple[tuple[str, str], ...]] = (
    (
        r"^(?:fail|undeliv|reject|error\b|expir|deleted\b|blocked\b|not delivered\b"
        r"|delivery (?:failed|failure)\b)",
        "failed",
    ),
    (r"^(?:deliv(?:ered|rd)\b|delivery (?:confirmed|successful|succeeded)\b)", "delivered"),
    (
        r"^(?:(?:message )?sent\b|submitted\b|enroute\b|en route\b)",
        "sent",
    ),
    (r"^(?:queued|accepted|acceptd|pending|scheduled|sending|buffered|in progress)\b", "pending"),
    (r"^(?:unknown|unkn)$", "unknown"),
)
"""(regex on the normalised text, canonical status), tried in order."""


def _normalised(carrier_status: pl.Expr) -> pl.Expr:
    return (
        carrier_status.fill_null("")
        .str.to_lowercase()
        .str.replace_all(r"[\s_]+", " ")
        .str.strip_chars()
        .str.strip_chars_end(".!")
        .str.strip_chars()
    )


def _mapped(normalised: pl.Expr) -> pl.Expr:
    """The table's status for a normalised text, or null when no rule matches."""
    rule_chain: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    for pattern, status in reversed(STATUS_RULES):
        rule_chain = (
            pl.when(normalised.str.contains(pattern)).then(pl.lit(status)).otherwise(rule_chain)
        )
    return rule_chain


def _no_information(normalised: pl.Expr) -> pl.Expr:
    return normalised.is_in(list(NO_INFORMATION))


def canonical_status(carrier_status: pl.Expr, direction: pl.Expr) -> pl.Expr:
    """Canonical status from the raw carrier text and 'inbound'/'outbound' (rules above).

    The raw text is always kept; the canonical status is one of 'delivered', 'sent', 'pending',
    'failed', 'received', 'unknown'. Matching is on the normalised text (lower case, runs of
    whitespace/underscores as one space, trailing `.`/`!` dropped), first rule wins:

    - No information: '' (or a missing field), 'Information not available' (the only value
      seen in public), 'not available', 'n/a', 'none'. Inbound rows then read 'received';
      outbound rows 'unknown' (the message left, whether it arrived nobody said).
    - `STATUS_RULES`, each matching the start of the text at a word boundary so that
      details after it are allowed ("Rejected: 30007 carrier violation", "Queued (retry 2/5)",
      "Delivered to handset"): failed (failed, undeliverable/undelivered, rejected, error,
      expired, deleted, blocked, not delivered; tried first so "delivery failed" is a failure),
      delivered (incl. SMPP DELIVRD), sent ("Message sent", "Sent to carrier", submitted, SMPP
      ENROUTE: handed to the carrier, no receipt), pending (queued/accepted/scheduled: not yet
      handed on), unknown (SMPP UNKNOWN, said explicitly, so not reported as unmapped).
      Codes such as "ERR_UNKNOWN 0x1F" match nothing on purpose: they read 'unknown' and are
      reported, since "err" alone does not say whether the message left.
    - Inbound rows that the table calls delivered/sent/pending read 'received' (they reached
      the account); failed stays failed.
    - Anything else reads 'unknown' and is listed by `unmapped_statuses`, so a new carrier
      wording shows up instead of vanishing into 'unknown'.
    """
    normalised = _normalised(carrier_status)
    mapped = _mapped(normalised)
    inbound = direction == "inbound"
    return (
        pl.when(_no_information(normalised))
        .then(pl.when(inbound).then(pl.lit("received")).otherwise(pl.lit("unknown")))
        .when(inbound & mapped.is_in(["delivered", "sent", "pending"]))
        .then(pl.lit("received"))
        .otherwise(mapped.fill_null("unknown"))
    )


def statuses_of(messages: pl.DataFrame) -> pl.Series:
    """`canonical_status` of each row's carrier_status and direction, worked out once per pair.

    Carrier texts repeat a lot, so the patterns run on the distinct pairs only.
    """
    pairs = messages.select("carrier_status", "direction")
    distinct = pairs.unique().with_columns(
        status=canonical_status(pl.col("carrier_status"), pl.col("direction"))
    )
    joined = pairs.join(
        distinct,
        on=["carrier_status", "direction"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    return joined.get_column("status")


def status_is_mapped(carrier_status: pl.Expr) -> pl.Expr:
    """True where the raw carrier text is known (no information, or a rule matches)."""
    normalised = _normalised(carrier_status)
    return _no_information(normalised) | _mapped(normalised).is_not_null()


def unmapped_only(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of `frame` whose `carrier_status` text no rule knows.

    A message reads 'unknown' for want of news (an outbound "Information not available", the
    usual text on VoIP.ms), because the carrier said so ("UNKNOWN"), or because no rule knows
    its text: only the last is unmapped.
    """
    return frame.filter(~status_is_mapped(pl.col("carrier_status")))


def unmapped_statuses(messages: pl.DataFrame) -> pl.DataFrame:
    """carrier_status texts no rule knows, with how many messages carry each (most first)."""
    return (
        messages.filter(~status_is_mapped(pl.col("carrier_status")))
        .group_by("carrier_status")
        .agg(messages=pl.len().cast(pl.Int64))
        .sort(["messages", "carrier_status"], descending=[True, False])
    )
