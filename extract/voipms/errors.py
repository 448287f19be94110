"""Typed VoIP.ms API failures: permanent ones say what to fix, transient ones are retried."""

from __future__ import annotations

PORTAL_PAGE = "Main Menu → SOAP & REST/JSON API"

# What a person must do about each permanent status, in the VoIP.ms customer portal or the
# settings. None of these texts may ever hold a credential.
_HINTS: dict[str, str] = {
    "invalid_credentials": (
        "the API user name or API password is wrong; the API password is the one set under "
        f"{PORTAL_PAGE} (not the portal login password) and the user name is the account e-mail"
    ),
    "ip_not_enabled": (
        f"add this machine's IP address under {PORTAL_PAGE} → Enable IP Addresses "
        "(getIP, which needs no whitelisting, tells which address the API sees)"
    ),
    "api_not_enabled": f"turn the API on: {PORTAL_PAGE} → Enable/Disable API",
    "missing_credentials": "the API user name or password was empty: set both in the settings",
    "missing_method": (
        "the API did not see a method; check that the URL is https://voip.ms/api/v1/rest.php "
        "(not www.voip.ms, which redirects and drops the form)"
    ),
    "invalid_method": "the API does not know this method name",
    "invalid_date": "a date was not YYYY-MM-DD",
    "invalid_daterange": "the date range is over the API's 92-day limit: use shorter windows",
    "invalid_did": "the DID does not belong to this account",
    "invalid_contact": "the contact number is not valid",
    "invalid_sms": "no SMS has this id",
    "invalid_mms": "no MMS has this id",
}

_TRANSIENT_NOTES: dict[str, str] = {
    "api_limit_exceeded": "the API's per-minute request cap was reached",
    "method_maintenance": "the API method is temporarily under maintenance",
    "timeout": "the API did not answer in time",
    "connection_error": "the connection to the API failed",
    "invalid_json": "the API's answer was not JSON",
    "truncated_body": "the API's answer was cut short",
}


class VoipMsError(Exception):
    """A failed VoIP.ms API call: `code` is the API status or our own, `method` the API method.

    It never holds the password, the request body or the response body.
    """

    def __init__(self, code: str, method: str, detail: str = "") -> None:
        self.code = code
        self.method = method
        self.detail = detail
        self.attempts = 1
        super().__init__(code, method)

    def __str__(self) -> str:
        text = f"VoIP.ms {self.method}: {self.code}"
        if self.detail:
            text += f": {self.detail}"
        if self.attempts > 1:
            text += f" (gave up after {self.attempts} attempts)"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, method={self.method!r})"

    def __reduce__(self) -> tuple[type[VoipMsError], tuple[str, str, str]]:
        return (type(self), (self.code, self.method, self.detail))


class PermanentError(VoipMsError):
    """A failure that another try will not fix: a person must change something first."""


class AccessError(PermanentError):
    """The account refuses this caller: credentials, IP whitelist or API switched off."""


class RequestRejectedError(PermanentError):
    """The API refused the request itself: a bad method, parameter or date range."""


class UnexpectedAnswerError(PermanentError):
    """The API answered with something this client does not understand (HTTP 4xx, 3xx, shape)."""


class TransientError(VoipMsError):
    """A failure that may pass: the client retries these with backoff."""

    def __init__(
        self, code: str, method: str, detail: str = "", *, retry_after: float | None = None
    ) -> None:
        super().__init__(code, method, detail)
        self.retry_after = retry_after
        """Seconds the server asked us to wait (HTTP Retry-After), when it said."""


class RateLimitedError(TransientError):
    """The API said `api_limit_exceeded`, or HTTP 429."""


class MaintenanceError(TransientError):
    """The API said `method_maintenance`."""


class ServerError(TransientError):
    """HTTP 5xx, including Cloudflare's 52x pages."""


class CallTimeoutError(TransientError):
    """No answer within the client's timeout."""


class ConnectionFailedError(TransientError):
    """The TCP/TLS connection failed or was reset."""


class InvalidAnswerError(TransientError):
    """The answer was not JSON (`invalid_json`), or was cut short (`truncated_body`)."""


ACCESS_STATUSES = frozenset(
    {"invalid_credentials", "ip_not_enabled", "api_not_enabled", "missing_credentials"}
)
EMPTY_STATUSES = frozenset({"no_sms", "no_mms"})


def hint_for(code: str) -> str:
    """What a person can do about a permanent status, or a generic line for unknown ones."""
    if code in _HINTS:
        return _HINTS[code]
    if code.startswith(("invalid_", "missing_")):
        return PARAMETER_HINT
    return STATUS_HINT


def error_for_status(code: str, method: str) -> VoipMsError:
    """The typed error for a non-success `status` value from the API."""
    if code == "api_limit_exceeded":
        return RateLimitedError(code, method, _TRANSIENT_NOTES[code])
    if code == "method_maintenance":
        return MaintenanceError(code, method, _TRANSIENT_NOTES[code])
    if code in ACCESS_STATUSES:
        return AccessError(code, method, hint_for(code))
    return RequestRejectedError(code, method, hint_for(code))


def error_for_http_status(
    status: int, method: str, *, html: bool, retry_after: float | None = None
) -> VoipMsError:
    """The typed error for an HTTP answer other than 200 (`retry_after`: its Retry-After)."""
    code = f"http_{status}"
    if status == 429:
        return RateLimitedError(code, method, "HTTP 429 Too Many Requests", retry_after=retry_after)
    if status >= 500:
        page = " (an HTML error page, e.g. Cloudflare's)" if html else ""
        return ServerError(
            code, method, f"the server answered HTTP {status}{page}", retry_after=retry_after
        )
    if 300 <= status < 400:
        return UnexpectedAnswerError(
            code,
            method,
            f"HTTP {status} redirect: use the URL https://voip.ms/api/v1/rest.php "
            "(www.voip.ms redirects and the call fails)",
        )
    if status == 408:
        return CallTimeoutError(code, method, "HTTP 408 Request Timeout")
    return UnexpectedAnswerError(
        code,
        method,
        f"HTTP {status}: check the API URL; a 403 may mean the request was blocked upstream",
    )


PARAMETER_HINT = "the API rejected a parameter of this call"
STATUS_HINT = "the API answered with a status this client does not handle"

OWN_TEXTS: tuple[str, ...] = (
    *_HINTS.values(),
    *_TRANSIENT_NOTES.values(),
    PARAMETER_HINT,
    STATUS_HINT,
)
"""Every text of ours an error may carry: a password that happens to be a word in them
("API") is not blanked out of them, which would garble them and show where it was."""


def transient_note(code: str) -> str:
    """A short human text for one of our own transient codes."""
    return _TRANSIENT_NOTES.get(code, code)
