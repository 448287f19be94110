"""Hostile getSMS/getMMS rows (hypothesis strategies), as bytes, and a server that sends them."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import quote_plus

import httpx
from hypothesis import strategies as st

from tests.extract.loopback_api import QuietHandler

MISSING: Any = object()
"""A field left out of the row."""

SURROGATES = ("\ud800", "\udbff", "\ud83d", "\udc00", "\udfff", "\ude00")
"""Lone surrogates: sent as JSON escapes (`\\ud800`), as a half emoji cut by a split would be."""

BAD_BYTES = ("\udc80", "\udcc3", "\udce9", "\udced", "\udcf0", "\udcff")
"""Bytes that are not UTF-8 on their own (surrogateescape): sent raw, e.g. Latin-1 é (0xE9)."""

BROKEN_ESCAPES = {"\U000f0000": "\\x", "\U000f0001": "\\u12"}
"""Private-use characters that `answer_bytes` sends as escapes JSON does not have."""

_ESCAPED = re.compile("[\ud800-\udc7f\udd00-\udfff\U000f0000\U000f0001]")
"""Lone surrogates that stand for no byte, and stand-ins for broken escapes."""


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    return BROKEN_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def answer_bytes(answer: object) -> bytes:
    """`answer` as an API would send it, damage included: UTF-8 JSON, lone surrogates as
    `\\uXXXX` escapes, BAD_BYTES as the raw bytes they stand for, and BROKEN_ESCAPES."""
    text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    return _ESCAPED.sub(_escape, text).encode("utf-8", errors="surrogateescape")


def damaged(text: str) -> bool:
    """Whether a value sent through `answer_bytes` arrives as text that cannot be read as sent."""
    return any("\ud800" <= ch <= "\udfff" or ch in BROKEN_ESCAPES for ch in text)


def damaged_fields(row: dict[str, Any]) -> set[str]:
    """The fields of a generated row whose name or text (nested too) is not valid UTF-8, each
    named as it arrives: with U+FFFD in place of what was not UTF-8."""
    return {
        "".join("\ufffd" if damaged(ch) else ch for ch in key)
        for key, value in row.items()
        if damaged(key) or damaged(json.dumps(value, ensure_ascii=False))
    }


# ---------------------------------------------------------------------------- strategies

_plain = st.text(st.characters(codec="utf-8"), max_size=12)


@st.composite
def broken_text(draw: st.DrawFn) -> str:
    """Text with lone surrogates, bad bytes or broken escapes, each followed by 'x' so none
    pairs up or completes another."""
    kinds = SURROGATES + BAD_BYTES + tuple(BROKEN_ESCAPES)
    bad = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3))
    return draw(_plain) + "".join(ch + "x" for ch in bad) + draw(_plain)


hostile_text = st.one_of(
    _plain,
    _plain.map(quote_plus),
    broken_text(),
    broken_text().map(lambda t: quote_plus(t, errors="surrogatepass")),
    st.sampled_from(["%E2%8", "%FF%FE", "%%", "%ud800", "\\u00e9", '\\"', "&#xD800;", "&bogus;"]),
    st.sampled_from(["\t\n\r", "\x01\x1f\x7f", "\u2028\u2029", "\ufeff", "\ufffd"]),
    st.integers(10_000, 60_000).map(lambda n: "w%C3%A9+" * n),  # a huge encoded body
)
"""Message-like text: plain, URL-encoded, broken, controls, or huge."""

hostile_value = st.one_of(
    hostile_text,
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.one_of(_plain, st.integers()), max_size=3),
    st.dictionaries(_plain, _plain, max_size=2),
)
"""Any JSON value, of any type, text often broken."""

absurd_dates = st.one_of(
    st.sampled_from(
        [
            "0000-00-00 00:00:00",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "2024-02-30 12:00:00",
            "2024-13-01 00:00:00",
            "2024-03-10 02:30:00",  # inside the spring-forward gap
            "2024-11-03 01:30:00",  # the repeated autumn hour
            "2024-01-15T10:24:16Z",
            "2024-01-15 10:24:16.123456",
            " 2024-01-15 10:24:16 ",
            "-2024-01-15 10:24:16",
            "２０２４-01-15 10:24:16",
            "1e10",
        ]
    ),
    st.integers(-(2**63), 2**63),
    broken_text(),
)

_good = {
    "id": st.integers(1, 60).map(str),
    "date": st.sampled_from(
        ["2024-01-15 10:24:16", "2024-11-03 01:15:00", "2024-07-01 00:00:00", "2024-12-31 23:59:59"]
    ),
    "type": st.sampled_from(["0", "1"]),
    "did": st.sampled_from(["5145550100", "+15145550100"]),
    "contact": st.sampled_from(["4165550199", "+14165550199", "262966", "447911123456"]),
    "message": _plain.map(quote_plus),
    "carrier_status": st.sampled_from(["", "Delivered", "DELIVRD", "zzz"]),
}
_bad = {
    "id": st.one_of(hostile_value, st.sampled_from(["", " 7 ", "x1", "-3", "1.5", "00012"])),
    "date": st.one_of(absurd_dates, hostile_value),
    "type": st.one_of(hostile_value, st.sampled_from(["2", "-1", " 1", "01"])),
    "did": hostile_value,
    "contact": hostile_value,
    "message": hostile_value,
    "carrier_status": hostile_value,
}
_media_entry = st.one_of(
    st.sampled_from(["", "https://voip.ms/m/a.jpg", "file:///etc/passwd", "http://10.0.0.1/x"]),
    hostile_text,
)


@st.composite
def hostile_rows(draw: st.DrawFn, *, mms: bool) -> dict[str, Any]:
    """A getSMS (or getMMS) row: each field good, hostile or missing; often only one is bad."""
    bad_fields = draw(
        st.one_of(
            st.sets(st.sampled_from(sorted(_good)), max_size=1),
            st.sets(st.sampled_from(sorted(_good))),
        )
    )
    row: dict[str, Any] = {}
    for name, good in _good.items():
        value = draw(st.one_of(_bad[name], st.just(MISSING)) if name in bad_fields else good)
        if value is not MISSING:
            row[name] = value
    if mms:
        row["media"] = draw(
            st.one_of(
                st.lists(_media_entry, max_size=4),
                st.dictionaries(st.sampled_from(["1", "2", "3", "x"]), _media_entry, max_size=3),
                hostile_value,
            )
        )
        row["col_media1"] = draw(_media_entry)
    if draw(st.integers(0, 9)) == 0:
        row[draw(st.sampled_from(["reseller", "\ud800x", "id "]))] = draw(hostile_value)
    return row


@st.composite
def hostile_batches(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """getSMS and getMMS rows of one window, with repeats and MMS twins of getSMS rows."""
    sms = draw(st.lists(hostile_rows(mms=False), max_size=12))
    mms = draw(st.lists(hostile_rows(mms=True), max_size=6))
    if sms:
        for row in draw(st.lists(st.sampled_from(sms), max_size=3)):
            mms.append({**row, "media": draw(st.lists(_media_entry, max_size=3))})
        sms.extend(dict(row) for row in draw(st.lists(st.sampled_from(sms), max_size=3)))
    return sms, mms


# ---------------------------------------------------------------------------- the server

_METHOD = re.compile(rb'name="method"\r\n\r\n([A-Za-z]+)\r\n')


@dataclass
class AnswerServer:
    """A loopback HTTP server in the API's place: for each POST it answers `answers[method]`
    when set, else forwards the request to `upstream` (a sandbox) and passes its answer
    through `rewrite(method, body)` first. Calls are counted per method."""

    upstream: str | None = None
    rewrite: Callable[[str, bytes], bytes] = field(default=lambda method, body: body)
    answers: dict[str, bytes] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner = self
        forward = httpx.Client(timeout=30.0)

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                request = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                found = _METHOD.search(request)
                method = found.group(1).decode() if found else ""
                owner.calls[method] = owner.calls.get(method, 0) + 1
                body = owner.answers.get(method)
                if body is None:
                    assert owner.upstream is not None, f"no answer for {method!r}"
                    answer = forward.post(
                        owner.upstream,
                        content=request,
                        headers={
                            "Content-Type": self.headers["Content-Type"],
                            "User-Agent": self.headers.get("User-Agent", ""),
                        },
                    )
                    body = owner.rewrite(method, answer.content)
                self.send_body(body)

        self._forward = forward
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where to point the client (VOIPMS_API_URL)."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/api/v1/rest.php"

    def __enter__(self) -> AnswerServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._forward.close()
