"""The API methods: check parameters the way VoIP.ms does, query the account, build answers."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from extract.voipms.sandbox.access import AccessConfig
from extract.voipms.sandbox.account import MessageQuery, SandboxAccount, classify_number
from extract.voipms.sandbox.drift import ECHOED_PASSWORD, DriftConfig
from extract.voipms.sandbox.media_files import EXT_BY_MIME
from extract.voipms.sandbox.render import normalise_number
from extract.voipms.sandbox.spec import ACCOUNT_TIMEZONE

DEFAULT_LIMIT = 50
MAX_LIMIT = 2**62
"""A larger `limit` is read as this: every row the range holds (a row count fits)."""
MAX_RANGE_DAYS = 92
"""`to - from` may be at most 92 days (93 calendar days, both ends included)."""

SMS_MAX_CHARS = 160
MMS_MAX_CHARS = 2048

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NEW_YORK = ZoneInfo(ACCOUNT_TIMEZONE)
_MIME_BY_EXT = {ext: mime for mime, ext in EXT_BY_MIME.items()} | {
    "jpeg": "image/jpeg",
    "midi": "audio/midi",
}


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a method needs besides its parameters."""

    account: SandboxAccount
    username: str
    password: str
    client_ip: str
    media_base: str
    """`http://HOST:PORT`, prefixed to media URL paths."""
    access: AccessConfig = field(default_factory=AccessConfig)
    """The API switch and IP whitelist (the default lets everyone in)."""
    drift: DriftConfig = field(default_factory=DriftConfig)
    """How getSMS/getMMS answers stray from the reference (the default: they do not)."""


Answer = dict[str, object] | str
"""A JSON-able dict, or a JSON text already built (large row lists)."""


def php_json(value: Answer) -> bytes:
    """JSON as PHP's json_encode writes it: compact, ASCII, with `/` escaped as `\\/`."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if not text.isascii():  # rows rendered by polars keep UTF-8 as it is
        text = _NON_ASCII.sub(_json_escape, text)
    return text.replace("/", "\\/").encode()


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _json_escape(match: re.Match[str]) -> str:
    """A character as json_encode writes it: `\\u00e9`, a surrogate pair beyond U+FFFF."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _today(ctx: CallContext) -> date:
    return datetime.fromtimestamp(ctx.account.clock(), UTC).astimezone(_NEW_YORK).date()


def _day(value: str | None, default: date) -> date | None:
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    if not _DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _tz(value: str | None) -> float | None:
    if value is None or value.strip() == "":
        return None
    try:
        hours = float(value)
    except ValueError:
        return None
    return hours if -14.0 <= hours <= 14.0 else None


def _limit(value: str | None) -> int:
    text = (value or "").strip()
    digits = text.lstrip("0")
    if text.isdigit() and text.isascii() and digits:
        # more than any account holds: all rows (and no int() of thousands of digits)
        return MAX_LIMIT if len(digits) > 18 else min(int(digits), MAX_LIMIT)
    return DEFAULT_LIMIT


def _did(ctx: CallContext, value: str) -> str | None:
    digits = normalise_number(value)
    if digits is None or ctx.account.did_index(digits) is None:
        return None
    return digits


def get_messages(ctx: CallContext, params: Mapping[str, str], method: str) -> Answer:
    """getSMS / getMMS: filters, newest first, cut to `limit` (default 50)."""
    own = "sms" if method == "getSMS" else "mms"
    raw_id = params.get(own, "").strip()
    message_id: int | None = None
    if raw_id not in ("", "0"):
        if not (raw_id.isdigit() and raw_id.isascii()):
            return {"status": "invalid_sms"}
        message_id = int(raw_id)
    today = _today(ctx)
    first = _day(params.get("from"), today)
    last = _day(params.get("to"), today)
    if first is None or last is None:
        return {"status": "invalid_date"}
    # the strict reading of "92-day blocks": 92 days counting both ends (a client right
    # under it is right under the lenient one too)
    if message_id is None and (first > last or (last - first).days + 1 > MAX_RANGE_DAYS):
        return {"status": "invalid_daterange"}
    type_value = params.get("type", "").strip()
    mtype = int(type_value) if type_value in ("0", "1") else None
    did: str | None = None
    if params.get("did", "").strip():
        did = _did(ctx, params["did"])
        if did is None:
            return {"status": "invalid_did"}
    contact: str | None = None
    if params.get("contact", "").strip():
        contact = normalise_number(params["contact"])
        if contact is None:
            return {"status": "invalid_contact"}
    every = params.get("all_messages", "").strip() == "1" and message_id is None
    tz_hours = _tz(params.get("timezone"))
    query = MessageQuery(
        kinds=("sms", "mms") if every else (own,),
        first_day=first,
        last_day=last,
        limit=_limit(params.get("limit")),
        message_id=message_id,
        id_kind=own,
        type=mtype,
        did=did,
        contact=contact,
        tz_hours=tz_hours,
    )
    rows = ctx.account.select(query)
    if rows.height == 0:
        return {"status": "no_sms"}
    style = "getsms" if own == "sms" else "getmms"
    rendered = ctx.account.render_rows(rows, style, ctx.media_base, tz_hours)
    return '{"status":"success","sms":' + rendered + "}"


def _lookup_id(params: Mapping[str, str], method: str) -> str:
    raw = params.get("sms" if method == "getSMS" else "mms", "").strip()
    return "" if raw == "0" else raw


def drifted(ctx: CallContext, params: Mapping[str, str], method: str, answer: Answer) -> Answer:
    """A getSMS/getMMS answer as `ctx.drift` changes it: refused on its days, or rows rewritten.

    The days of a range call are its `from`..`to` as the method reads them; a single-id
    lookup's are the day of the row it found (none when it found nothing).
    """
    drift = ctx.drift
    decoded: dict[str, object] = json.loads(answer) if isinstance(answer, str) else dict(answer)
    rows = decoded.get("sms") if decoded.get("status") == "success" else None
    row_list = rows if isinstance(rows, list) else []
    if _lookup_id(params, method):
        found = [_day(str(row.get("date", ""))[:10], _today(ctx)) for row in row_list]
        day = found[0] if found else None
        refusal = drift.refusal(day, day)
    else:
        today = _today(ctx)
        refusal = drift.refusal(_day(params.get("from"), today), _day(params.get("to"), today))
    if refusal is not None:
        return {"status": refusal.replace(ECHOED_PASSWORD, params.get("api_password", ""))}
    if row_list:
        rows_out: list[object] = [drift.rewrite_row(row) for row in row_list]
        if len(rows_out) + len(drift.stray_rows) < _limit(params.get("limit")):
            rows_out.extend(drift.stray_rows)
        decoded["sms"] = rows_out
    return decoded


def get_media_mms(ctx: CallContext, params: Mapping[str, str]) -> Answer:
    """getMediaMMS: `media` as an object keyed "1".. or, with media_as_array=1, a list."""
    raw = params.get("id", "").strip()
    if raw == "":
        return {"status": "missing_sms"}
    if not (raw.isdigit() and raw.isascii()):
        return {"status": "invalid_sms"}
    found = ctx.account.mms_media(int(raw))
    if found is None:
        return {"status": "invalid_sms"}
    when, paths = found
    urls = [ctx.media_base + p for p in paths]
    urls += [""] * (3 - len(urls))
    media: object = urls
    if params.get("media_as_array", "").strip() != "1":
        media = {str(i): url for i, url in enumerate(urls, start=1)}
    return {"status": "success", "id": str(int(raw)), "date": when, "media": media}


def get_dids_info(ctx: CallContext, params: Mapping[str, str]) -> Answer:
    """getDIDsInfo: every DID (or the one asked for) with the reference's SMS fields."""
    records = ctx.account.did_records()
    if params.get("did", "").strip():
        did = _did(ctx, params["did"])
        if did is None:
            return {"status": "invalid_did"}
        records = [r for r in records if r.did == did]
    return {"status": "success", "dids": [r.info() for r in records]}


def get_ip(ctx: CallContext, params: Mapping[str, str]) -> Answer:
    """getIP: the caller's address; needs no credentials."""
    return {"status": "success", "ip": ctx.client_ip}


def _media_param(value: str) -> tuple[str, bytes | None] | None:
    """(mime, uploaded bytes or None for a URL) from a media1..3 value; None when unusable."""
    text = value.strip()
    if text.startswith(("http://", "https://")):
        ext = text.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
        return _MIME_BY_EXT.get(ext, "image/jpeg"), None
    mime = "image/jpeg"
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        mime = header[5:].split(";", 1)[0] or mime
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not data:
        return None
    if data.startswith(b"\x89PNG"):
        mime = "image/png"
    elif data.startswith(b"GIF8"):
        mime = "image/gif"
    return mime, data


def send(ctx: CallContext, params: Mapping[str, str], method: str) -> Answer:
    """sendSMS / sendMMS: an outbound message from one of the account's DIDs."""
    kind = "sms" if method == "sendSMS" else "mms"
    if not params.get("did", "").strip():
        return {"status": "missing_did"}
    did = _did(ctx, params["did"])
    if did is None:
        return {"status": "invalid_did"}
    dst = normalise_number(params.get("dst", ""))
    if dst is None or classify_number(dst) is None:
        return {"status": "invalid_dst"}
    message = params.get("message", "")
    media: list[tuple[str, bytes | None]] = []
    if kind == "mms":
        for name in ("media1", "media2", "media3"):
            if params.get(name, "").strip():
                item = _media_param(params[name])
                if item is None:
                    return {"status": "invalid_media"}
                media.append(item)
    if message == "" and not media:
        return {"status": "message_empty"}
    if len(message) > (SMS_MAX_CHARS if kind == "sms" else MMS_MAX_CHARS):
        return {"status": "sms_toolong"}
    result = ctx.account.send(kind, did, dst, message, media)
    if isinstance(result, str):
        return {"status": result}
    return {"status": "success", kind: str(result)}


def delete(ctx: CallContext, params: Mapping[str, str], method: str) -> Answer:
    """deleteSMS / deleteMMS by `id`."""
    raw = params.get("id", "").strip()
    if raw == "":
        return {"status": "missing_sms"}
    if not (raw.isdigit() and raw.isascii()):
        return {"status": "invalid_sms"}
    kind = "sms" if method == "deleteSMS" else "mms"
    if not ctx.account.delete(kind, int(raw)):
        return {"status": "invalid_sms"}
    return {"status": "success"}


def set_sms(ctx: CallContext, params: Mapping[str, str]) -> Answer:
    """setSMS: SMS settings of a DID; `enable` changes have a 60 s cooldown."""
    if not params.get("did", "").strip():
        return {"status": "missing_did"}
    did = _did(ctx, params["did"])
    if did is None:
        return {"status": "invalid_did"}
    fields = {k: v.strip() for k, v in params.items()}
    if "enable" in fields and fields["enable"] not in ("0", "1"):
        return {"status": "invalid_enable"}
    if "dialmode" in fields and fields["dialmode"] not in ("1", "2"):
        return {"status": "invalid_dialmode"}
    return {"status": ctx.account.set_sms(did, fields)}


_HANDLERS: dict[str, Callable[[CallContext, Mapping[str, str]], Answer]] = {
    "getSMS": lambda c, p: get_messages(c, p, "getSMS"),
    "getMMS": lambda c, p: get_messages(c, p, "getMMS"),
    "getMediaMMS": get_media_mms,
    "getDIDsInfo": get_dids_info,
    "getIP": get_ip,
    "sendSMS": lambda c, p: send(c, p, "sendSMS"),
    "sendMMS": lambda c, p: send(c, p, "sendMMS"),
    "deleteSMS": lambda c, p: delete(c, p, "deleteSMS"),
    "deleteMMS": lambda c, p: delete(c, p, "deleteMMS"),
    "setSMS": set_sms,
}

MESSAGE_METHODS = frozenset({"getSMS", "getMMS"})
"""The methods DriftConfig applies to."""


def call(ctx: CallContext, params: Mapping[str, str]) -> bytes:
    """Answer one API request (status and all) as the JSON bytes VoIP.ms would send.

    Order of checks: missing_method, invalid_method, then (except getIP)
    missing_credentials, invalid_credentials, api_not_enabled and ip_not_enabled,
    then the method's own checks; for getSMS/getMMS, then `ctx.drift` (see `drifted`).
    """
    method = params.get("method", "").strip()
    if method == "":
        return php_json({"status": "missing_method"})
    handler = _HANDLERS.get(method)
    if handler is None:
        return php_json({"status": "invalid_method"})
    if method != "getIP":
        user = params.get("api_username", "")
        password = params.get("api_password", "")
        if user == "" or password == "":
            return php_json({"status": "missing_credentials"})
        # constant time: the sandbox may hold the real API password (VOIPMS_API_PASSWORD)
        same_user = hmac.compare_digest(user.encode(), ctx.username.encode())
        if not (hmac.compare_digest(password.encode(), ctx.password.encode()) and same_user):
            return php_json({"status": "invalid_credentials"})
        refusal = ctx.access.refusal(ctx.client_ip)
        if refusal is not None:
            return php_json({"status": refusal})
    answer = handler(ctx, params)
    if method in MESSAGE_METHODS and ctx.drift.active:
        answer = drifted(ctx, params, method, answer)
    return php_json(answer)
