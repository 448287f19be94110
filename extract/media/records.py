"""The typed records media download takes and returns: one item in, one result out."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)

MediaState = Literal["stored", "expired", "failed"]

# Short failure reasons (MediaResult.error); never a URL, never server text.
HOST_NOT_ALLOWED = "host_not_allowed"
SCHEME_NOT_ALLOWED = "scheme_not_allowed"
INVALID_URL = "invalid_url"
REDIRECT_NOT_ALLOWED = "redirect_not_allowed"
TOO_MANY_REDIRECTS = "too_many_redirects"
TOO_LARGE = "too_large"
TRUNCATED = "truncated"
TIMEOUT = "timeout"
CONNECT_ERROR = "connect_error"
NETWORK_ERROR = "network_error"
EMPTY_BODY = "empty_body"
DECODING_ERROR = "decoding_error"
ENCODED_BODY = "encoded_body"  # sent with a Content-Encoding though identity was asked for
STORAGE_ERROR = "storage_error"
WRONG_CONTENT = "wrong_content"


def http_status_reason(status: int) -> str:
    """The failure reason for an HTTP status we do not accept, e.g. 'http_403'."""
    return f"http_{status}"


def retryable_status(status: int) -> bool:
    """HTTP statuses worth another attempt: 429 and every 5xx."""
    return status == 429 or status >= 500


def host_trouble(reason: str | None) -> bool:
    """Whether a failure says the host could not serve (timeouts, connections, truncated
    bodies, `retryable_status`: the transient kinds, retried until the attempts ran out),
    rather than that this one file cannot be had (403, too large, not allowed...)."""
    if reason in (TIMEOUT, CONNECT_ERROR, NETWORK_ERROR, TRUNCATED):
        return True
    code = reason.removeprefix("http_") if reason and reason.startswith("http_") else ""
    return code.isdigit() and retryable_status(int(code))


@dataclass(frozen=True, slots=True)
class MediaItem(Generic[K]):
    """One media file to fetch: the caller's key (e.g. provider, account, message_id, position)
    and its URL."""

    key: K
    url: str


@dataclass(frozen=True, slots=True)
class MediaResult(Generic[K]):
    """What became of one item: 'stored' (sha256, size and sniffed type set), 'expired'
    (the provider no longer has it; nothing stored) or 'failed' (error says why)."""

    key: K
    url: str
    state: MediaState
    sha256: str | None
    size_bytes: int | None
    content_type: str | None
    fetched_at: datetime
    attempts: int
    error: str | None
