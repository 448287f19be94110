"""A logging filter that blanks registered secrets out of our, httpx's and httpcore's logs."""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

from pydantic import SecretStr

from extract.counted_set import CountedSet
from extract.voipms.errors import OWN_TEXTS

MASK = "**********"

# Filters on a logger see only records logged through that very logger, not its children's,
# so every logger that handles request data is named here.
GUARDED_LOGGERS: tuple[str, ...] = (
    "smsarchive",
    "extract.voipms",
    "extract.voipms.client",
    "extract.voipms.windows",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def _lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda found: found.group().lower(), text)


def secret_variants(secret: str) -> list[str]:
    """The secret as it may appear in text, longest first: plain; URL-encoded (either case of
    hex digit); JSON-, HTML- and Python-escaped (a str's or its UTF-8 bytes' repr, as an
    HTTP library's error quotes what a server sent back)."""
    variants = {
        secret,
        quote_plus(secret),
        quote(secret, safe=""),
        _lower_escapes(quote_plus(secret)),
        _lower_escapes(quote(secret, safe="")),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        repr(secret.encode())[2:-1],
    }
    return sorted((v for v in variants if v), key=len, reverse=True)


def redact(text: str, secrets: list[str], keep: Iterable[str] = ()) -> str:
    """`text` with every variant of every secret replaced by a mask, except where it lies
    wholly inside one of the texts of `keep` (our own, which hold no secret)."""
    kept = [
        (found.start(), found.end())
        for phrase in set(keep)
        if phrase
        for found in re.finditer(re.escape(phrase), text)
    ]
    masked: list[tuple[int, int]] = []
    for secret in secrets:
        for variant in secret_variants(secret):
            start = text.find(variant)
            while start != -1:
                end = start + len(variant)
                if not any(low <= start and end <= high for low, high in kept):
                    masked.append((start, end))
                start = text.find(variant, start + 1)
    out, at = [], 0
    for start, end in sorted(masked):
        if start >= at:  # else it overlaps the span masked last, which it then extends
            out += [text[at:start], MASK]
        at = max(at, end)
    out.append(text[at:])
    return "".join(out)


class SecretRedactingFilter(logging.Filter):
    """Rewrites a record whose message or traceback holds a registered secret; drops nothing."""

    def __init__(self) -> None:
        super().__init__("smsarchive-secret-redaction")
        self._secrets = CountedSet()

    def add(self, secret: str) -> None:
        """Start blanking `secret` (counted: add twice, discard twice)."""
        if secret:
            self._secrets.add(secret)

    def discard(self, secret: str) -> None:
        """Stop blanking `secret` once every `add` has been matched."""
        self._secrets.discard(secret)

    def secrets(self) -> list[str]:
        """The secrets now blanked."""
        return self._secrets.members()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.secrets()
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: show it unformatted rather than fail
            message = f"{record.msg!s} {record.args!r}"
        cleaned = redact(message, secrets, keep=OWN_TEXTS)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = record.exc_text or "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = redact(text, secrets)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True


_FILTER = SecretRedactingFilter()
_ATTACH_LOCK = threading.Lock()


def _attach() -> None:
    with _ATTACH_LOCK:
        for name in GUARDED_LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)


def protect_secret(secret: SecretStr) -> None:
    """Blank `secret` out of every record of the guarded loggers until `release_secret`."""
    _attach()
    _FILTER.add(secret.get_secret_value())


def release_secret(secret: SecretStr) -> None:
    """Undo one `protect_secret` call (the filter stays attached; it is idle without secrets)."""
    _FILTER.discard(secret.get_secret_value())


@contextmanager
def secret_protected(secret: SecretStr) -> Iterator[None]:
    """`protect_secret` for the length of a `with` block."""
    protect_secret(secret)
    try:
        yield
    finally:
        release_secret(secret)


def redact_registered(text: str) -> str:
    """`text` with every secret now registered blanked out, as the log filter blanks them
    (our own texts kept whole)."""
    return redact(text, _FILTER.secrets(), keep=OWN_TEXTS)
