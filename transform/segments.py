"""SMS encoding (GSM-7 or UCS-2) and segment count of a body, vectorised."""

from __future__ import annotations

from typing import Final

import polars as pl

GSM7_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet (without the escape code itself)."""

GSM7_EXTENSION: Final = "\f^{}\\[~]|€"
"""The extension table: each character is sent as escape + code, two septets."""

GSM7_SINGLE: Final = 160
GSM7_PART: Final = 153
UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67


def _char_class(chars: str) -> str:
    return "[" + "".join(f"\\x{{{ord(char):X}}}" for char in chars) + "]"


_GSM7_TEXT: Final = f"^{_char_class(GSM7_BASIC + GSM7_EXTENSION)}*$"
_EXTENSION_CHAR: Final = _char_class(GSM7_EXTENSION)
_BEYOND_BMP: Final = r"[\x{10000}-\x{10FFFF}]"


def encoding(body: pl.Expr) -> pl.Expr:
    """'gsm7' when the whole body is GSM 03.38 (basic or extension), else 'ucs2'."""
    return (
        pl.when(body.fill_null("").str.contains(_GSM7_TEXT))
        .then(pl.lit("gsm7"))
        .otherwise(pl.lit("ucs2"))
    )


def _parts(units: pl.Expr, single: int, part: int) -> pl.Expr:
    return (
        pl.when(units == 0)
        .then(0)
        .when(units <= single)
        .then(1)
        .otherwise((units + (part - 1)) // part)
    )


def segments(body: pl.Expr) -> pl.Expr:
    """Int32 number of SMS segments the body takes (0 for the empty body).

    - GSM-7 when every character is in the GSM 03.38 basic set or its extension table; an
      extension character (form feed, `^ { } \\ [ ~ ] |`, `€`) costs two septets (escape + code).
      One segment holds 160 septets; a longer text is split into 153-septet parts (the rest is
      the concatenation header): segments = ceil(septets / 153).
    - Otherwise UCS-2, counted in UTF-16 code units (a character beyond the BMP, e.g. most
      emoji, takes two): 70 units in one segment, else ceil(units / 67).
    - The empty body needs no segment: 0 (its encoding reads 'gsm7').
    - The count is the text's, whatever the message kind: for an MMS it says how many SMS
      segments the same text would take (MMS are not billed by segment).
    - Like most billing estimates this does not move an escape pair or a surrogate pair that
      would straddle a part boundary to the next part, so a long text can take one part more
      on the air than counted here.
    """
    text = body.fill_null("")
    chars = text.str.len_chars().cast(pl.Int64)
    septets = chars + text.str.count_matches(_EXTENSION_CHAR).cast(pl.Int64)
    utf16_units = chars + text.str.count_matches(_BEYOND_BMP).cast(pl.Int64)
    return (
        pl.when(encoding(body) == "gsm7")
        .then(_parts(septets, GSM7_SINGLE, GSM7_PART))
        .otherwise(_parts(utf16_units, UCS2_SINGLE, UCS2_PART))
        .cast(pl.Int32)
    )
