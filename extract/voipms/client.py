"""The VoIP.ms REST/JSON API client: multipart POSTs, bounded, paced, retried, secret-safe."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Any, Final, Self

import httpx
import orjson
from pydantic import SecretStr
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from extract.call_deadline import bounded, call_deadline
from extract.loopback_direct import LOOPBACK_DIRECT
from extract.printable import printable
from extract.raw_rows import NOT_AN_OBJECT_FIELD, media_key, row_repaired, text_repaired
from extract.retry_after import honoured, retry_after_seconds
from extract.voipms.errors import (
    EMPTY_STATUSES,
    CallTimeoutError,
    ConnectionFailedError,
    InvalidAnswerError,
    TransientError,
    UnexpectedAnswerError,
    VoipMsError,
    error_for_http_status,
    error_for_status,
    transient_note,
)
from extract.voipms.pacing import RequestPacer
from extract.voipms.redaction import protect_secret, redact, release_secret

STATUS_SHOWN: Final = 80
"""At most this many characters of a status are shown: the API's codes (`success`,
`invalid_credentials`, `no_sms`) are shorter, and kept whole."""
ERROR_SHOWN: Final = 200
"""Characters of an HTTP library's error text kept in ours."""
MIN_BODY_RATE: Final = 16 * 1024
"""Bytes a second an answer's body must average past its first `timeout` seconds."""
ROW_BYTES: Final = 16 * 1024
"""Bytes an answer may take per row asked (`limit`): a row is a few hundred; an MMS with a
long text and many links a few thousand."""
STOPPED: Final = "this VoipMsClient was stopped: its run is ending (see why above)"
"""What a call asked of a stopped client raises: a window in flight when another failed."""


class ClientStopped(RuntimeError):
    """A call asked of a stopped client (`VoipMsClient.stop`): its run is ending, for a stop
    or another window's failure; nothing of this call's own went wrong."""

    def __init__(self) -> None:
        super().__init__(STOPPED)


ANSWER_BYTES: Final = 64 * 1024 * 1024
"""Bytes an answer may take beyond its rows' (all of it for a call without `limit`)."""
ANSWER_MAX_BYTES: Final = 1024 * 1024 * 1024
"""Bytes no answer may pass, whatever its limit: a full answer makes the window's paging ask
again with a larger one (up to 1,000,000 rows), which at ROW_BYTES a row would be 15 GiB;
a real million rows is a few hundred MB."""


def answer_cap(form: dict[str, str]) -> int:
    """The most bytes a sane answer to a call with `form` holds: past it, the rest is not read
    (an answer that never ends would otherwise fill the memory)."""
    limit = form.get("limit", "")
    rows = int(limit) * ROW_BYTES if limit.isdigit() else 0
    return min(ANSWER_BYTES + rows, ANSWER_MAX_BYTES)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read whole: status, headers, body (decoded as its encoding says)."""

    status_code: int
    headers: httpx.Headers
    content: bytes


logger = logging.getLogger(__name__)

Row = dict[str, Any]
ParamValue = str | int | date | None


def _default_user_agent() -> str:
    try:
        version = importlib.metadata.version("smsarchive")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return f"smsarchive/{version} httpx/{httpx.__version__}"


DEFAULT_USER_AGENT: Final = _default_user_agent()


@dataclass(frozen=True)
class ClientStats:
    """A snapshot of what a client has done so far.

    `calls`: HTTP requests sent, per API method; every attempt counts, retries included.
    `retries`: attempts that failed transiently and were tried again, per API method.
    `failures`: errors finally raised to the caller, per error code.
    `max_in_flight`: the most requests this client ever had open at once.
    `paced_seconds`: total time callers waited on the client's own rate limit.
    """

    calls: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    max_in_flight: int = 0
    paced_seconds: float = 0.0

    @property
    def total_calls(self) -> int:
        """All HTTP requests sent."""
        return sum(self.calls.values())

    @property
    def total_retries(self) -> int:
        """All retried attempts."""
        return sum(self.retries.values())


def _param_text(value: str | int | date) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


_DIGITS_AS_ZERO: Final = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_ZEROS: Final = b"0" * 19

_MAX_BROKEN_ESCAPES: Final = 64
"""Broken escapes read as damaged text before an answer is refused as not JSON."""


def _loads(text: str) -> object:
    """`json.loads`, reading a broken escape in a string (`\\x`, `\\u12`) as a lone surrogate
    followed by the rest of the escape as text, instead of refusing the whole answer."""
    for _ in range(_MAX_BROKEN_ESCAPES):
        try:
            return json.loads(text, strict=False)
        except json.JSONDecodeError as error:
            at = error.pos - 1 if error.msg == "Invalid \\uXXXX escape" else error.pos
            if not error.msg.startswith("Invalid \\") or text[at : at + 1] != "\\":
                raise
            # Never followed by a low surrogate escape (the next character broke the escape).
            text = f"{text[:at]}\\ud800{text[at + 1 :]}"
    return json.loads(text, strict=False)


def _may_hold_a_huge_integer(content: bytes) -> bool:
    """Whether 19 digits stand in a row (in C: digits mapped to "0", then a substring search).

    orjson reads an integer beyond 64 bits as a float; the standard library keeps it exact.
    """
    return _NINETEEN_ZEROS in content.translate(_DIGITS_AS_ZERO)


def _json_answer(content: bytes) -> object:
    """The JSON of an answer; None when it is not JSON. Text is always valid Unicode.

    Bytes that are not UTF-8, lone surrogate escapes and broken escapes cannot be stored or
    landed as sent, and one of them must not spoil a whole answer: they become U+FFFD, and the
    row that held them says so in INVALID_TEXT_FIELD. Control characters in strings are read.
    """
    if not _may_hold_a_huge_integer(content):
        try:
            # the usual answer: strict UTF-8 JSON, read fast; orjson refuses bad bytes, lone
            # surrogates and control characters in strings, which the reading below repairs
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    try:
        text = content.decode(json.detect_encoding(content), errors="surrogateescape")
        answer: object = _loads(text)
        try:
            orjson.dumps(answer)  # fails on any lone surrogate (or an integer beyond 64 bits)
        except TypeError:
            answer = _answer_repaired(answer)
    except (ValueError, RecursionError):  # not JSON, or nested beyond reason
        return None
    return answer


def _answer_repaired(answer: object) -> object:
    """The answer with valid text; the rows of its lists (e.g. "sms") name what was damaged."""
    if not isinstance(answer, dict):
        return text_repaired(answer)[0]
    repaired: dict[str, Any] = {}
    for key, value in answer.items():
        if isinstance(value, list):
            value = [row_repaired(row) for row in value]
        else:
            value = text_repaired(value)[0]
        repaired[str(text_repaired(key)[0])] = value
    return repaired


class VoipMsClient:
    """One VoIP.ms API account over one `httpx.Client`; safe to share between threads.

    Every call is a multipart/form-data POST (a urlencoded POST gets HTTP 500 from the real
    API, and a GET would put the password in the URL) carrying api_username, api_password,
    method, content_type=json and the call's parameters. At most `max_concurrency` requests
    are open at once; request starts are spaced to stay under `requests_per_minute` (None: no
    client-side cap). Transient failures (api_limit_exceeded, method_maintenance, HTTP 5xx and
    429, timeouts, connection failures, answers that are not JSON) are retried up to
    `max_attempts` tries in all, waiting `backoff_base * 2**n` seconds (capped at
    `backoff_max`) plus up to `backoff_base` of random jitter, or as long as a Retry-After
    header asks (up to `backoff_max`) when it asks longer, without holding a concurrency slot
    while waiting. Permanent failures raise at once. `no_sms` is an empty list.

    The password lives in a `SecretStr`; it is blanked from the log records of this package,
    httpx and httpcore while the client is open, and no error text or repr holds it.
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: SecretStr,
        *,
        page_limit: int = 10_000,
        max_concurrency: int = 4,
        requests_per_minute: int | None = 60,
        timeout: float = 60.0,
        max_attempts: int = 6,
        backoff_base: float = 2.0,
        backoff_max: float = 60.0,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise ValueError(f"the API URL must be http(s)://host/…, not {parsed.host!r}")
        for name, number in (
            ("page_limit", page_limit),
            ("max_concurrency", max_concurrency),
            ("max_attempts", max_attempts),
        ):
            if number < 1:
                raise ValueError(f"{name} must be at least 1, not {number}")
        if timeout <= 0 or backoff_base < 0 or backoff_max < 0:
            raise ValueError("timeout must be positive and backoff values not negative")
        if not isinstance(password, SecretStr):
            raise TypeError("password must be a pydantic SecretStr")

        self.url = str(parsed.copy_with(username=None, password=None))
        self.username = username
        self._password = password
        self.page_limit = page_limit
        self.max_concurrency = max_concurrency
        self.requests_per_minute = requests_per_minute
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.user_agent = user_agent

        self._slots = threading.BoundedSemaphore(max_concurrency)
        # set by `stop` (and `close`): no more calls; it also wakes the calls waiting for
        # their turn or to try again
        self._stopping = threading.Event()
        self._pacer = (
            RequestPacer(requests_per_minute, sleep=self._stopping.wait)
            if requests_per_minute
            else None
        )
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._retries: Counter[str] = Counter()
        self._failures: Counter[str] = Counter()
        self._in_flight = 0
        self._max_in_flight = 0
        self._released = False  # the password no longer blanked from logs (`close`)

        protect_secret(password)
        self._http = bounded(
            httpx.Client(
                timeout=httpx.Timeout(timeout),
                headers={"User-Agent": user_agent, "Accept": "application/json"},
                follow_redirects=False,
                limits=httpx.Limits(
                    max_connections=max_concurrency, max_keepalive_connections=max_concurrency
                ),
                mounts=LOOPBACK_DIRECT,
            )
        )

    # -- lifetime -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def stop(self) -> None:
        """Take no more calls (nor retries): a run that stops (Ctrl-C, an error) does not wait
        for its windows in flight to fetch on. A call already sent is let finish (at most
        `timeout`): closing its connection under it would not wake a thread blocked reading
        it. The password stays blanked from logs until `close`."""
        self._stopping.set()

    def close(self) -> None:
        """`stop`, close the HTTP connections and stop blanking this password from logs."""
        with self._lock:
            if self._released:
                return
            self._released = True
        self.stop()
        self._http.close()
        release_secret(self._password)

    def __repr__(self) -> str:
        return (
            f"VoipMsClient(url={self.url!r}, username={self.username!r}, "
            f"page_limit={self.page_limit}, max_concurrency={self.max_concurrency}, "
            f"requests_per_minute={self.requests_per_minute})"
        )

    # -- counters -------------------------------------------------------------------------

    def stats(self) -> ClientStats:
        """What this client has done so far (a copy; safe to read from any thread)."""
        with self._lock:
            return ClientStats(
                calls=dict(self._calls),
                retries=dict(self._retries),
                failures=dict(self._failures),
                max_in_flight=self._max_in_flight,
                paced_seconds=self._pacer.waited_seconds if self._pacer else 0.0,
            )

    # -- the one generic call -------------------------------------------------------------

    def call(self, method: str, **params: ParamValue) -> dict[str, Any]:
        """Call `method` with `params` (None values are left out); return the decoded answer.

        Returns the answer when its status is `success` or an empty-result status (`no_sms`),
        raises a `PermanentError` at once for a refusal and a `TransientError` once
        `max_attempts` tries have all failed transiently.
        """
        if self._stopping.is_set():
            raise ClientStopped
        form = {name: _param_text(value) for name, value in params.items() if value is not None}
        attempts = 0

        def attempt() -> dict[str, Any]:
            nonlocal attempts
            attempts += 1
            return self._attempt(method, form)

        backoff = wait_exponential_jitter(
            multiplier=self.backoff_base, max=self.backoff_max, jitter=self.backoff_base
        )

        def wait(state: RetryCallState) -> float:
            # a Retry-After (HTTP 429, 503) is honoured, up to backoff_max
            error = state.outcome.exception() if state.outcome is not None else None
            asked = error.retry_after if isinstance(error, TransientError) else None
            return honoured(backoff(state), asked, self.backoff_max)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            # a call still in flight when its run ended (and closed the client) stops here,
            # instead of retrying, and logging that it does, against a closed client
            retry=retry_if_exception(self._worth_retrying),
            before_sleep=lambda state: self._on_retry(method, state),
            sleep=self._pause,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except VoipMsError as error:
            error.attempts = attempts
            with self._lock:
                self._failures[error.code] += 1
            logger.debug("%s", error)
            raise

    def _pause(self, seconds: float) -> None:
        """Wait `seconds` before trying again, or less when `stop` is called meanwhile (the
        next try is then refused by `_attempt`)."""
        self._stopping.wait(seconds)

    def _worth_retrying(self, error: BaseException) -> bool:
        return isinstance(error, TransientError) and not self._stopping.is_set()

    def _on_retry(self, method: str, state: RetryCallState) -> None:
        with self._lock:
            self._retries[method] += 1
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        code = error.code if isinstance(error, VoipMsError) else type(error).__name__
        pause = state.next_action.sleep if state.next_action else 0.0
        logger.info(
            "VoIP.ms %s attempt %d failed (%s); retrying in %.2fs",
            method,
            state.attempt_number,
            code,
            pause,
        )

    def _attempt(self, method: str, form: dict[str, str]) -> dict[str, Any]:
        if self._stopping.is_set():  # closed while this call waited to try again
            raise ClientStopped
        with self._slots:
            if self._pacer is not None:
                self._pacer.wait()
            with self._lock:
                if self._stopping.is_set():  # stopped while this waited for its slot or turn
                    raise ClientStopped
                self._calls[method] += 1
                self._in_flight += 1
                self._max_in_flight = max(self._max_in_flight, self._in_flight)
            started = time.monotonic()
            try:
                outcome = self._post(method, form)
            finally:
                with self._lock:
                    self._in_flight -= 1
        # Raised here, outside any `except`, so no httpx exception (whose request holds the
        # password in its body) is chained to ours as __cause__ or __context__.
        if isinstance(outcome, VoipMsError):
            raise outcome
        answer = self._decode(method, outcome)
        logger.debug(
            "VoIP.ms %s: %s in %.3fs",
            method,
            answer.get("status"),
            time.monotonic() - started,
        )
        return answer

    def _multipart(self, method: str, form: dict[str, str]) -> list[tuple[str, tuple[None, str]]]:
        # (None, value) is a plain form field: no filename, no content type. Passing the
        # fields as `files` is what makes httpx send multipart/form-data.
        fields = {
            "api_username": self.username,
            "api_password": self._password.get_secret_value(),
            "method": method,
            "content_type": "json",
            **form,
        }
        return [(name, (None, value)) for name, value in fields.items()]

    def _shown(self, text: str, limit: int) -> str:
        """`text` with this client's password blanked, printable, cut to `limit` characters."""
        shown = printable(redact(text, [self._password.get_secret_value()]))
        return shown[:limit] + ("…" if len(shown) > limit else "")

    def _describe(self, error: Exception) -> str:
        # an HTTP library's error may quote what the server sent back, the request's too
        text = self._shown(str(error), ERROR_SHOWN)
        return f"{type(error).__name__}: {text}" if text else type(error).__name__

    def _post(self, method: str, form: dict[str, str]) -> Answer | VoipMsError:
        cap = answer_cap(form)
        try:
            request = self._http.build_request(
                "POST", self.url, files=self._multipart(method, form)
            )
            # `timeout` bounds the call up to the answer's headers, not each read: headers
            # trickling in a byte at a time cannot hold a call, nor a stopping run, for long
            with call_deadline(time.monotonic() + self.timeout):
                response = self._http.send(request, stream=True)
            try:
                body = bytearray()
                chunks = response.iter_bytes()
                began = time.monotonic()
                while True:
                    # the body: `timeout` more, and a second for each MIN_BODY_RATE bytes had,
                    # so a large answer on a slow link arrives, and a trickle does not go on
                    with call_deadline(began + self.timeout + len(body) / MIN_BODY_RATE):
                        chunk = next(chunks, None)
                    if chunk is None:
                        break
                    body += chunk
                    if len(body) > cap:  # a stream without end must not take the memory
                        return UnexpectedAnswerError(
                            "answer_too_large",
                            method,
                            f"the answer passed {cap:,} bytes for the rows asked; not read further",
                        )
            finally:
                response.close()
            return Answer(response.status_code, response.headers, bytes(body))
        except httpx.TimeoutException as exc:
            return CallTimeoutError(
                "timeout", method, f"{transient_note('timeout')} ({self._describe(exc)})"
            )
        except httpx.DecodingError as exc:
            return InvalidAnswerError(
                "invalid_json", method, f"{transient_note('invalid_json')} ({self._describe(exc)})"
            )
        except httpx.RemoteProtocolError as exc:
            # h11's words for a body cut short of its Content-Length: a truncated answer.
            if "message body" in str(exc):
                return InvalidAnswerError(
                    "truncated_body",
                    method,
                    f"{transient_note('truncated_body')} ({self._describe(exc)})",
                )
            return ConnectionFailedError(
                "connection_error",
                method,
                f"{transient_note('connection_error')} ({self._describe(exc)})",
            )
        except httpx.UnsupportedProtocol as exc:
            return UnexpectedAnswerError("invalid_url", method, self._describe(exc))
        except httpx.TransportError as exc:
            # named: a wrong VOIPMS_API_URL, or a sandbox no longer running, is told apart
            # from voip.ms being down
            return ConnectionFailedError(
                "connection_error",
                method,
                f"{transient_note('connection_error')} at {self.url} ({self._describe(exc)})",
            )

    def _decode(self, method: str, response: Answer) -> dict[str, Any]:
        if response.status_code != 200:
            html = "html" in response.headers.get("content-type", "").lower()
            raise error_for_http_status(
                response.status_code,
                method,
                html=html,
                retry_after=retry_after_seconds(response.headers),
            )
        # The error is raised below, outside any except, so nothing is chained to it.
        answer = _json_answer(response.content)
        if answer is None:
            raise InvalidAnswerError(
                "invalid_json",
                method,
                f"{transient_note('invalid_json')} ({len(response.content)} bytes)",
            )
        if not isinstance(answer, dict):
            raise UnexpectedAnswerError(
                "unexpected_answer", method, f"a JSON {type(answer).__name__}, not an object"
            )
        status = answer.get("status")
        if not isinstance(status, str) or not status:
            raise UnexpectedAnswerError("unexpected_answer", method, "the answer has no status")
        if status == "success" or status in EMPTY_STATUSES:
            return answer
        raise error_for_status(self._status_shown(status), method)

    def _status_shown(self, status: str) -> str:
        """A status fit to name in an error, a log, a notice: a code as the API's (`no_did`)
        is kept; other text is kept short, printable, with this client's password blanked
        (an answer may echo what it was sent)."""
        return self._shown(status, STATUS_SHOWN)  # a code is printable and short: kept as is

    # -- typed methods --------------------------------------------------------------------

    def get_sms(
        self,
        date_from: date,
        date_to: date,
        *,
        all_messages: bool = False,
        type: int | None = None,
        did: str | None = None,
        contact: str | None = None,
        limit: int | None = None,
    ) -> list[Row]:
        """getSMS rows (raw dicts, newest first) for local days date_from..date_to inclusive."""
        return self._messages("getSMS", date_from, date_to, all_messages, type, did, contact, limit)

    def get_mms(
        self,
        date_from: date,
        date_to: date,
        *,
        all_messages: bool = False,
        type: int | None = None,
        did: str | None = None,
        contact: str | None = None,
        limit: int | None = None,
    ) -> list[Row]:
        """getMMS rows (raw dicts; the API files them under "sms") for date_from..date_to."""
        return self._messages("getMMS", date_from, date_to, all_messages, type, did, contact, limit)

    def _messages(
        self,
        method: str,
        date_from: date,
        date_to: date,
        all_messages: bool,
        type_: int | None,
        did: str | None,
        contact: str | None,
        limit: int | None,
    ) -> list[Row]:
        if date_from > date_to:
            raise ValueError(f"date_from {date_from} is after date_to {date_to}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        params: dict[str, ParamValue] = {
            "from": date_from,
            "to": date_to,
            "type": type_,
            "did": did,
            "contact": contact,
            "limit": limit if limit is not None else self.page_limit,
            "all_messages": 1 if all_messages else None,
        }
        answer = self.call(method, **params)
        if answer["status"] in EMPTY_STATUSES:
            return []
        rows = answer.get("sms", answer.get("mms"))
        if not isinstance(rows, list):
            raise UnexpectedAnswerError(
                "unexpected_answer", method, 'the answer has no list of rows under "sms"'
            )
        return [row if isinstance(row, dict) else {NOT_AN_OBJECT_FIELD: row} for row in rows]

    def get_media_mms(self, mms_id: str | int, as_array: bool = True) -> list[str]:
        """getMediaMMS: the media URLs of one MMS, in order, as the API lists them.

        The API answers `media` as a list or as an object keyed "1".."n"; both come back as
        a list (empty strings kept, so positions stay as the API gave them).
        """
        answer = self.call("getMediaMMS", id=mms_id, media_as_array=1 if as_array else 0)
        if answer["status"] in EMPTY_STATUSES:
            return []
        media = answer.get("media")
        if media is None or media == "":
            return []
        if isinstance(media, dict):
            items = [media[key] for key in sorted(media, key=lambda k: media_key(str(k)))]
        elif isinstance(media, list):
            items = media
        else:
            raise UnexpectedAnswerError(
                "unexpected_answer", "getMediaMMS", "media is neither a list nor an object"
            )
        return ["" if item is None else str(item) for item in items]

    def get_dids_info(self, did: str | None = None) -> list[Row]:
        """getDIDsInfo: the account's DIDs as raw dicts (one DID if `did` is given)."""
        answer = self.call("getDIDsInfo", did=did)
        dids = answer.get("dids", [])
        if not isinstance(dids, list) or not all(isinstance(row, dict) for row in dids):
            raise UnexpectedAnswerError("unexpected_answer", "getDIDsInfo", "dids is not a list")
        return dids

    def get_ip(self) -> str:
        """getIP: the address the API sees this machine calling from."""
        answer = self.call("getIP")
        ip = answer.get("ip")
        if not isinstance(ip, str):
            raise UnexpectedAnswerError("unexpected_answer", "getIP", "the answer has no ip")
        return ip
