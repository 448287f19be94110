"""One attempt at one media URL: follow allowed redirects, stream the body into the store."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from extract.call_deadline import call_deadline
from extract.media import records
from extract.media.log_masking import UrlMasked
from extract.media.media_token import announced_type
from extract.media.records import MediaState, http_status_reason, retryable_status
from extract.media.sniffing import EXPIRED_MAX_BYTES, is_expired_marker, sniff_content_type
from extract.media.storage import Received, TooLargeError, commit, receive
from extract.media.url_policy import UrlPolicy, url_host
from extract.retry_after import retry_after_seconds

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class Stopped(Exception):
    """The run is stopping (Ctrl-C, an error elsewhere): this file is left as it was, pending."""


class TransientError(Exception):
    """Trouble worth another attempt (5xx, 429, timeouts, connection errors, truncation)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Outcome:
    """The final word of an attempt (transient trouble is raised instead)."""

    state: MediaState
    sha256: str | None = None
    size_bytes: int | None = None
    content_type: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TransferLimits:
    """What one attempt may cost: body size, and wall time across redirects and body."""

    max_bytes: int
    attempt_seconds: float


def _failed(reason: str) -> Outcome:
    return Outcome(state="failed", error=reason)


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _until(
    deadline: float, chunks: Iterator[bytes], stop: threading.Event | None
) -> Iterator[bytes]:
    # httpx's timeouts bound each read; this bounds a server that trickles bytes forever,
    # and a download still coming in when the run stops.
    for chunk in chunks:
        if time.monotonic() > deadline:
            raise TransientError(records.TIMEOUT)
        if stop is not None and stop.is_set():
            raise Stopped
        yield chunk


BINARY_TYPES: Final = frozenset(
    {
        "image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/gif", "image/webp",
        "image/bmp", "image/heic", "image/heif", "audio/amr", "audio/amr-wb", "audio/mpeg",
        "audio/mp3", "audio/mp4", "audio/aac", "audio/wav", "audio/x-wav", "audio/ogg",
        "audio/midi", "audio/mid", "video/mp4", "video/3gpp", "video/3gpp2", "video/quicktime",
    }
)  # fmt: skip
"""Types whose files are never text (those VoIP.ms sends among them, API notes §4); text
formats that call themselves audio or image (iMelody, XBM, SVG) are not here."""


def _not_the_file(content_type: str, expected: str) -> bool:
    """Whether bytes sniffed as `content_type` cannot be the file announced as `expected`: a
    web page where anything but a web page was announced, or text where a file of a
    BINARY_TYPES type was (a captive portal, a CDN's error page, a JSON error)."""
    if content_type == "text/html":
        return not expected.startswith("text/html")
    text = content_type.startswith("text/") or content_type.endswith("+xml")
    return text and expected in BINARY_TYPES


def _keep(received: Received, media_dir: Path, expected: str, durable: bool) -> Outcome:
    if received.size_bytes == 0:
        received.discard()
        return _failed(records.EMPTY_BODY)
    if received.size_bytes <= EXPIRED_MAX_BYTES and is_expired_marker(received.head):
        received.discard()
        return Outcome(state="expired")
    content_type = sniff_content_type(received.head)
    if _not_the_file(content_type, expected):
        # not the attachment: fail it, so a later run tries again
        received.discard()
        return _failed(records.WRONG_CONTENT)
    commit(received, media_dir, durable=durable)
    return Outcome(
        state="stored",
        sha256=received.sha256,
        size_bytes=received.size_bytes,
        content_type=content_type,
    )


def _read_body(
    response: httpx.Response,
    media_dir: Path,
    limits: TransferLimits,
    deadline: float,
    durable: bool,
    stop: threading.Event | None,
    asked: httpx.URL,
) -> Outcome:
    """The answer's body kept, or why not; `asked` is the URL first asked (its token says
    what the file is, whatever redirects led here)."""
    status = response.status_code
    # Not an expiry: VoIP.ms says a file is gone with a 200 'Not found' page (API notes §4),
    # which is final. A 404 or 410 is some other server's word (a CDN sending the request to
    # the wrong place): a failure, tried again by the next runs, so that nothing is lost to it.
    if retryable_status(status):
        raise TransientError(http_status_reason(status), retry_after_seconds(response.headers))
    if not 200 <= status < 300:
        return _failed(http_status_reason(status))
    if response.headers.get("content-encoding", "identity").strip().lower() != "identity":
        return _failed(records.ENCODED_BODY)  # never inflated: a few KB can make gigabytes
    declared = _content_length(response)
    if declared is not None and declared > limits.max_bytes:
        return _failed(records.TOO_LARGE)
    try:
        received = receive(
            # the bytes as sent, never inflated (a few KB of gzip can inflate to gigabytes)
            _until(deadline, response.iter_raw(), stop),
            media_dir,
            max_bytes=limits.max_bytes,
            durable=durable,
        )
    except TooLargeError:
        return _failed(records.TOO_LARGE)
    except httpx.RemoteProtocolError as exc:  # peer closed before Content-Length was reached
        raise TransientError(records.TRUNCATED) from exc
    except OSError:
        return _failed(records.STORAGE_ERROR)
    if declared is not None and response.num_bytes_downloaded != declared:
        received.discard()
        raise TransientError(records.TRUNCATED)
    try:
        # what the file was announced as: by the URL's token (the provider's own word), else
        # by the answer's Content-Type
        header_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        expected = announced_type(str(asked)) or header_type
        return _keep(received, media_dir, expected, durable)
    except OSError:
        received.discard()
        return _failed(records.STORAGE_ERROR)


def fetch_once(
    client: httpx.Client,
    url: httpx.URL,
    *,
    policy: UrlPolicy,
    media_dir: Path,
    limits: TransferLimits,
    durable: bool = True,
    stop: threading.Event | None = None,
) -> Outcome:
    """GET `url` (already allowed by `policy`), following at most MAX_REDIRECTS redirects to
    allowed URLs only, and keep the body in the store unless it is the expired marker.

    `durable=False` skips the per-file fsyncs (see storage.flush_to_disk). Raises
    TransientError for trouble another attempt may not meet, and Stopped once `stop` is set
    while the body comes in (nothing of it kept)."""
    deadline = time.monotonic() + limits.attempt_seconds
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            # the deadline bounds each read too: headers sent a byte at a time included
            with (
                call_deadline(deadline),
                UrlMasked(current),
                client.stream("GET", current) as response,
            ):
                if response.status_code not in REDIRECT_STATUSES:
                    return _read_body(response, media_dir, limits, deadline, durable, stop, url)
                location = response.headers.get("location")
                if not location:
                    return _failed(http_status_reason(response.status_code))
                try:
                    target = current.join(location)
                except httpx.InvalidURL:
                    return _failed(records.REDIRECT_NOT_ALLOWED)
                refusal = policy.refusal(target)
                if refusal == records.HOST_NOT_ALLOWED:
                    # the host to name in VOIPMS_MEDIA_HOSTS, if it is to be trusted
                    return _failed(f"{records.REDIRECT_NOT_ALLOWED} ({url_host(str(target))})")
                if refusal is not None:
                    return _failed(records.REDIRECT_NOT_ALLOWED)
                current = target
        except httpx.TimeoutException as exc:
            raise TransientError(records.TIMEOUT) from exc
        except httpx.ConnectError as exc:
            raise TransientError(records.CONNECT_ERROR) from exc
        except httpx.DecodingError:
            return _failed(records.DECODING_ERROR)
        except httpx.RequestError as exc:
            raise TransientError(records.NETWORK_ERROR) from exc
    return _failed(records.TOO_MANY_REDIRECTS)
