"""How the VoIP.ms API renders stored values: message encoding, numbers, local dates."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.entities import codepoint2name
from urllib.parse import quote_plus

import polars as pl

NANPA = 1
E164 = 2
"""`dialmode` values of setSMS: 1 renders numbers as 10 digits, 2 as +1XXXXXXXXXX."""

EASTERN_STANDARD_OFFSET_S = -5 * 3600
"""America/New_York's standard offset; DST adds one hour to it."""

_NON_LATIN1 = re.compile("[^\x00-\xff]")


def _mms_table() -> dict[int, str]:
    # addslashes() for the quotes and the backslash, htmlentities() for Latin-1 beyond ASCII
    table: dict[int, str] = {ord("\\"): "\\\\", ord('"'): '\\"', ord("'"): "\\'"}
    for code in range(0x80, 0x100):
        name = codepoint2name.get(code)
        table[code] = f"&{name};" if name else f"&#{code};"
    return table


_MMS_TABLE = _mms_table()


def getmms_text(body: str) -> str:
    """The text getMMS shows before URL-encoding: non-Latin-1 gone, Latin-1 as entities.

    Everything above U+00FF (emoji, CJK, Cyrillic, Arabic, ZWJ, variation selectors) is
    dropped; U+0080..U+00FF becomes `&eacute;`-style entities (numeric where HTML has no
    name); `\\`, `"` and `'` are backslash-escaped. ASCII `& < >` stay as they are.
    """
    return _NON_LATIN1.sub("", body).translate(_MMS_TABLE)


def encode_message(text: str) -> str:
    """URL-encode a body the way the API's `message` field is: UTF-8, `+` for space."""
    return quote_plus(text)


def encode_bodies(bodies: Iterable[str]) -> pl.DataFrame:
    """Frame of body, getsms (encoded intact text) and getmms (stripped, escaped, encoded)."""
    raw = list(bodies)
    return pl.DataFrame(
        {
            "body": raw,
            "getsms": [quote_plus(b) for b in raw],
            "getmms": [quote_plus(getmms_text(b)) for b in raw],
        },
        schema={"body": pl.Utf8, "getsms": pl.Utf8, "getmms": pl.Utf8},
    )


def local_epoch(ts: pl.Expr, dst: pl.Expr, tz_hours: float | None) -> pl.Expr:
    """Naive local time as epoch seconds, the API's way.

    No `timezone`: America/New_York (-5 h, -4 h on DST). `timezone=N`: UTC+N plus one hour
    while New York is on DST — the real API's quirk, so `timezone=-5` equals New York time.
    """
    base = EASTERN_STANDARD_OFFSET_S if tz_hours is None else round(tz_hours * 3600)
    return ts + base + dst.cast(pl.Int64) * 3600


def format_local(local_s: pl.Expr) -> pl.Expr:
    """`YYYY-MM-DD HH:MM:SS` from naive local epoch seconds."""
    return pl.from_epoch(local_s, time_unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")


def dst_flags(ts: pl.Expr) -> pl.Expr:
    """True where New York is on daylight time at the UTC instant `ts` (epoch seconds)."""
    local = (
        pl.from_epoch(ts, time_unit="s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone("America/New_York")
        .dt.replace_time_zone(None)
        .dt.epoch("s")
    )
    return (local - ts) == EASTERN_STANDARD_OFFSET_S + 3600


def render_number(digits: str, kind: str, dialmode: int) -> str:
    """One number as the API shows it for a DID in `dialmode`.

    NANP numbers are stored as 10 digits, international ones as digits without `+`,
    short codes as given. E.164 mode adds `+1` / `+`; short codes never change.
    """
    if dialmode != E164 or kind == "short":
        return digits
    return "+1" + digits if kind == "nanp" else "+" + digits


def render_contact_expr(contact: pl.Expr, kind: pl.Expr, e164: pl.Expr) -> pl.Expr:
    """Vectorised `render_number` for contacts; `e164` is the row's DID mode as a boolean."""
    return (
        pl.when(e164 & (kind == "nanp"))
        .then(pl.lit("+1") + contact)
        .when(e164 & (kind == "intl"))
        .then(pl.lit("+") + contact)
        .otherwise(contact)
    )


def e164_expr(contact: pl.Expr, kind: pl.Expr) -> pl.Expr:
    """E.164 for NANP and international contacts; short codes as given."""
    return (
        pl.when(kind == "nanp")
        .then(pl.lit("+1") + contact)
        .when(kind == "intl")
        .then(pl.lit("+") + contact)
        .otherwise(contact)
    )


def normalise_number(value: str) -> str | None:
    """Digits of a number as a caller may send it (10 digits, 1+10, +1..., +44...), or None.

    NANP forms collapse to 10 digits so they compare equal to the stored value.
    """
    text = value.strip()
    if text.startswith("+"):
        text = text[1:]
    if not text.isdigit() or not text.isascii():
        return None
    if len(text) == 11 and text.startswith("1"):
        return text[1:]
    return text


def rows_frame(
    rows: pl.DataFrame,
    bodies: pl.DataFrame,
    did_numbers: list[str],
    did_e164: list[bool],
    method: str,
    media_base: str,
    tz_hours: float | None,
) -> pl.DataFrame:
    """The answer rows of getSMS (`method="getsms"`) or getMMS (`"getmms"`), values as strings.

    getSMS rows: id, date, type, did, contact, message, carrier_status (bodies intact).
    getMMS rows add col_media1..3 (first three, "" when absent) and `media`: every URL,
    padded with "" to three. An SMS row (all_messages=1) has no URL, so it reads exactly as
    a text-only MMS does: no field says "this is an SMS" (docs/voipms-api-notes.md).
    """
    e164 = pl.Series(did_e164, dtype=pl.Boolean).gather(rows["did_idx"])
    numbers = pl.Series(did_numbers, dtype=pl.Utf8).gather(rows["did_idx"])
    did = pl.when(e164).then(pl.lit("+1") + numbers).otherwise(numbers)
    frame = rows.select(
        id=pl.col("id").cast(pl.Utf8),
        date=format_local(local_epoch(pl.col("ts"), pl.col("dst"), tz_hours)),
        type=pl.col("type").cast(pl.Utf8),
        did=did,
        contact=render_contact_expr(pl.col("contact"), pl.col("contact_kind"), pl.lit(e164)),
        message=bodies[method].gather(rows["body_id"]),
        carrier_status=pl.col("carrier_status"),
    )
    if method == "getsms":
        return frame
    urls = rows["media"]
    urls = urls.fill_null(pl.Series([[]], dtype=pl.List(pl.Utf8)))
    media = pl.concat_list(
        pl.lit(urls).list.eval(pl.lit(media_base) + pl.element()),
        pl.lit(pl.Series([["", "", ""]])),
    ).list.head(pl.max_horizontal(pl.lit(urls).list.len(), 3))
    frame = frame.with_columns(media=media)
    return frame.with_columns(
        [
            pl.col("media").list.get(i, null_on_oob=True).fill_null("").alias(f"col_media{i + 1}")
            for i in range(3)
        ]
    ).select(*frame.columns[:-1], "col_media1", "col_media2", "col_media3", "media")
