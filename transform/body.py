"""Message text from the raw `message` field: URL-decoding, then getMMS's escapes undone."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Final
from urllib.parse import unquote

import polars as pl

ENCODED_PATTERN: Final = r"^[\x21-\x7e]*$"
"""Printable ASCII without space: the alphabet of any URL encoder's output."""

_BACKSLASH_ESCAPE: Final = r"""\\(["'\\])"""
_C1_REFERENCE: Final = re.compile(r"&#(12[89]|1[3-5][0-9]);|&#[xX]0*([89][0-9A-Fa-f]);")


_C: Final = "%[89ABab][0-9A-Fa-f]"
_UTF8_ESCAPED: Final = "|".join(
    (
        "%[0-7][0-9A-Fa-f]",
        f"%(?:[Cc][2-9A-Fa-f]|[Dd][0-9A-Fa-f]){_C}",
        f"%[Ee]0%[ABab][0-9A-Fa-f]{_C}",
        f"%(?:[Ee][1-9A-Ca-cEeFf]){_C}{_C}",
        f"%[Ee][Dd]%[89][0-9A-Fa-f]{_C}",
        f"%[Ff]0%(?:9[0-9A-Fa-f]|[ABab][0-9A-Fa-f]){_C}{_C}",
        f"%[Ff][1-3]{_C}{_C}{_C}",
        f"%[Ff]4%8[0-9A-Fa-f]{_C}{_C}",
    )
)
"""One well-formed UTF-8 character (RFC 3629) written as %XX escapes."""

_ESCAPE: Final = "%[0-9A-Fa-f]{2}"


_SAMPLE: Final = 2_000
"""About how many texts of a batch are read for the escaped characters it uses."""


def _escaped_characters(texts: pl.Series) -> list[str]:
    """The distinct escaped UTF-8 characters in `texts`."""
    found = texts.str.extract_all(_UTF8_ESCAPED).explode().drop_nulls().unique()
    return found.to_list()


def _replaced(texts: pl.Series, patterns: list[str]) -> pl.Series:
    """Every escaped character of `patterns` decoded, in one multi-pattern pass."""
    if not patterns:
        return texts
    return texts.str.replace_many(patterns, [unquote(pattern) for pattern in patterns])


def _escapes_left(texts: pl.Series, decoded: pl.Series, patterns: list[str]) -> pl.Series:
    """Where `decoded` (`texts` with `patterns` decoded) still holds an escape not decoded.

    A decoded "%25" is a literal "%", and "%2541" reads "%41", which was no escape: texts
    that held "%25" are asked again with every pattern deleted instead (what is left of
    them is what the pass did not decode).
    """
    left = decoded.str.contains(_ESCAPE).fill_null(False)
    literal = left & texts.str.contains("%25", literal=True).fill_null(False)
    if not literal.any():
        return left
    rest = texts.filter(literal).str.replace_many(patterns, [""] * len(patterns))
    return _put_back(left, literal, rest.str.contains(_ESCAPE).fill_null(False))


def _percent_decoded(spaced: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Every escaped UTF-8 character of texts whose `+` are already spaces replaced, and
    where an escape was left (bytes that are not UTF-8).

    The distinct escaped characters (a few thousand at most) are decoded in Python, then
    substituted everywhere in one multi-pattern pass. The sequences are prefix-free (UTF-8
    is), so the pass is unambiguous, and it never re-reads its output. They are looked for
    in a sample of the texts first; the texts still holding an escape after that pass
    (a character the sample lacked) are decoded again from the start with what they hold.
    """
    sample = spaced.gather_every(max(1, spaced.len() // _SAMPLE))
    patterns = _escaped_characters(sample)
    decoded = _replaced(spaced, patterns)
    missed = _escapes_left(spaced, decoded, patterns)
    if not missed.any():
        return decoded, missed
    again = spaced.filter(missed)
    patterns += sorted(set(_escaped_characters(again)) - set(patterns))
    redone = _replaced(again, patterns)
    left = _escapes_left(again, redone, patterns)
    return _put_back(decoded, missed, redone), _put_back(missed, missed, left)


def _put_back(values: pl.Series, mask: pl.Series, subset: pl.Series) -> pl.Series:
    """`values` with the rows where `mask` holds replaced, in order, by `subset`."""
    if subset.is_empty():
        return values
    position = (mask.cast(pl.Int64).cum_sum() - 1).clip(lower_bound=0)
    return subset.gather(position).zip_with(mask, values)


def _mapped_distinct(
    values: pl.Series, needs: pl.Series, function: Callable[[str], str]
) -> pl.Series:
    """`function` applied once per distinct value of the rows where `needs` holds."""
    mask = needs.fill_null(False)
    subset = values.filter(mask)
    distinct = subset.unique()
    mapped = pl.Series([function(text) for text in distinct.to_list()], dtype=pl.Utf8)
    return _put_back(values, mask, subset.replace(distinct, mapped))


def _unquoted_replacing(text: str) -> str:
    return unquote(text, encoding="utf-8", errors="replace")


def url_decoded(raw: pl.Series) -> pl.Series:
    """URL-decode the bodies that are encoded (rule 1 of `body_from_raw`); null stays null."""
    encoded = raw.str.contains(ENCODED_PATTERN).fill_null(False)
    spaced = raw.zip_with(~encoded, raw.str.replace_all("+", " ", literal=True))
    with_percent = encoded & spaced.str.contains("%", literal=True).fill_null(False)
    decoded_part, left_part = _percent_decoded(spaced.filter(with_percent))
    decoded = _put_back(spaced, with_percent, decoded_part)
    # An escape left over is not UTF-8: such rows are decoded again by Python, which puts
    # U+FFFD in place of bad bytes.
    leftover = _put_back(with_percent, with_percent, left_part)
    slow = spaced.zip_with(leftover, decoded)
    return _mapped_distinct(slow, leftover, _unquoted_replacing).rename(raw.name)


def _c1_reference(match: re.Match[str]) -> str:
    return chr(int(match.group(1) or match.group(2), 16 if match.group(2) else 10))


def entities_unescaped(text: str) -> str:
    """`html.unescape`, except that `&#128;`..`&#159;` stay the C1 characters they name.

    (HTML5 reads those as Windows-1252, but getMMS writes them for the C1 characters, the
    only Latin-1 ones without a named entity.)
    """
    return html.unescape(_C1_REFERENCE.sub(_c1_reference, text))


def getmms_unescaped(text: pl.Series) -> pl.Series:
    """Undo getMMS's escapes on decoded text: backslash-escaped quotes, then HTML entities."""
    unslashed = text.str.replace_all(_BACKSLASH_ESCAPE, "$1")
    has_entity = unslashed.str.contains("&", literal=True).fill_null(False)
    return _mapped_distinct(unslashed, has_entity, entities_unescaped).rename(text.name)


def body_from_raw(raw: pl.Series, *, source: str) -> pl.Series:
    """The readable text of raw `message` values from `source` ('getSMS' or 'getMMS').

    A missing message (null) reads as the empty text.

    Decoding rules (the raw text is always kept in `body_raw`):

    1. URL-decoding. The API documents `message` as URL-encoded with `+` for space, and the
       sandbox encodes with `quote_plus`; some clients say the real API sends plain text. A body
       is taken as encoded only when it could be an encoder's output: it holds no whitespace
       (an encoded body never holds a literal space, tab or newline) and nothing beyond ASCII.
       Only those bodies are decoded: `+` becomes a space and `%XX` sequences are UTF-8 bytes.
       A `%` not followed by two hex digits stays a literal `%`; bytes that are not valid UTF-8
       become U+FFFD (the text is clearly encoded, so the rest of it is still worth reading).
       A plain body ("2+2 = 4", "100% sure") is left as it is. The one ambiguous case left is a
       plain single word holding `+` or `%XX` ("C++"): it is read as encoded.
    2. getMMS only: getMMS escapes its text before encoding it (PHP's addslashes and
       htmlentities: `\\`, `"` and `'` backslash-escaped, Latin-1 beyond ASCII as `&eacute;`
       or `&#233;`). After URL-decoding, `\\"`, `\\'` and `\\\\` are undone first, then HTML
       entities (`html.unescape`, but `&#128;`..`&#159;` as the C1 characters getMMS wrote them
       for). A user who typed an entity (`&amp;`) into an MMS gets it unescaped: getMMS leaves
       ASCII `&` alone, so the two cannot be told apart; getSMS's text wins whenever it
       exists. getSMS text is intact and gets neither step: a getSMS body that says `&amp;`
       or `\\"` means exactly that.

    URL-decoding is vectorised (each distinct escaped character of the batch decoded once,
    then substituted by polars); Python runs only on the distinct bodies that need it:
    entities, and encoded bodies whose bytes are not UTF-8.
    """
    decoded = url_decoded(raw)
    if source == "getMMS":
        decoded = getmms_unescaped(decoded)
    return decoded.fill_null("").rename("body")
