"""Media URLs are capabilities: logs show only their host and a short id, ours and httpx's alike."""

from __future__ import annotations

import hashlib
import logging
import re
import threading

import httpx

from extract.counted_set import CountedSet

# httpx logs every request line ("HTTP Request: GET <url> ...") at INFO; httpcore traces
# response headers, a redirect's Location among them, at DEBUG.
GUARDED_LOGGERS = ("httpx", "httpcore.http11", "httpcore.http2")
_LOCATION_HEADER = re.compile(
    r"""(\(b'location', )b(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""", re.IGNORECASE
)


def url_id(url: str | httpx.URL) -> str:
    """A short, stable id for a URL that does not reveal it (for logs and errors)."""
    return hashlib.sha256(str(url).encode()).hexdigest()[:10]


def describe_url(url: str | httpx.URL) -> str:
    """'host[:port] #id': all a log line may say about a media URL."""
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else url
        host = parsed.raw_host.decode("ascii", errors="replace") or "?"
        if parsed.port is not None:
            host = f"{host}:{parsed.port}"
    except (httpx.InvalidURL, TypeError, ValueError):
        host = "?"
    return f"{host} #{url_id(url)}"


class UrlMaskingFilter(logging.Filter):
    """Replaces registered URLs in a record's arguments by `describe_url`; drops nothing."""

    def __init__(self) -> None:
        super().__init__("smsarchive-media-url-masking")
        self._urls = CountedSet()

    def add(self, url: str) -> None:
        """Start masking `url` (counted: add twice, discard twice)."""
        self._urls.add(url)

    def discard(self, url: str) -> None:
        """Stop masking `url` once every `add` has been matched."""
        self._urls.discard(url)

    def filter(self, record: logging.LogRecord) -> bool:
        urls = set(self._urls.members())
        if not urls:
            return True
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                describe_url(arg) if isinstance(arg, str | httpx.URL) and str(arg) in urls else arg
                for arg in record.args
            )
        elif isinstance(record.msg, str) and "ocation" in record.msg:
            record.msg = _LOCATION_HEADER.sub(r"\1b'<masked>'", record.msg)
        return True


_FILTER = UrlMaskingFilter()
_ATTACH_LOCK = threading.Lock()


_ATTACHED = threading.Event()
"""Set once the filter is on every guarded logger (filters are never removed)."""


def _attach() -> None:
    with _ATTACH_LOCK:
        for name in GUARDED_LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
        _ATTACHED.set()


class UrlMasked:
    """Within the block, httpx's log lines show `url` as host and short id only, and
    httpcore's traces hide Location headers."""

    __slots__ = ("_text",)

    def __init__(self, url: httpx.URL) -> None:
        self._text = str(url)

    def __enter__(self) -> None:
        if not _ATTACHED.is_set():
            _attach()
        _FILTER.add(self._text)

    def __exit__(self, *exc: object) -> None:
        _FILTER.discard(self._text)
