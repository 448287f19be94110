"""SandboxAccount: the thread-safe message store, its queries, mutations and ground truth."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import polars as pl

from extract.voipms.sandbox.dids import DidRecord
from extract.voipms.sandbox.generate import (
    INBOUND_STATUS,
    MEDIA_COUNT_WEIGHT,
    MEDIA_SCHEMA,
    MESSAGE_SCHEMA,
    OUTBOUND_STATUS,
    GeneratedAccount,
    generate_account,
    media_path,
    media_token,
)
from extract.voipms.sandbox.media_files import EXPIRED_BODY, EXT_BY_MIME, MEDIA_TYPES, media_bytes
from extract.voipms.sandbox.render import (
    E164,
    NANPA,
    dst_flags,
    e164_expr,
    encode_bodies,
    format_local,
    local_epoch,
    render_contact_expr,
    rows_frame,
)
from extract.voipms.sandbox.spec import ACCOUNT_TIMEZONE, AccountSpec

SEND_LIMIT_PER_DAY = 100
"""sendSMS + sendMMS per DID per New York day before `limit_reached`."""

ENABLE_COOLDOWN_S = 60.0
"""setSMS may not change `enable` again within this many seconds (`sms_wait_message`)."""

_EPOCH_DAY = date(1970, 1, 1)
_NEW_YORK = ZoneInfo(ACCOUNT_TIMEZONE)


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """A validated getSMS/getMMS filter. `message_id` set means "that one", dates ignored."""

    kinds: tuple[str, ...]
    first_day: date
    last_day: date
    limit: int
    message_id: int | None = None
    id_kind: str = "sms"
    type: int | None = None
    did: str | None = None
    contact: str | None = None
    tz_hours: float | None = None


@dataclass(frozen=True, slots=True)
class MediaFile:
    """What a media URL serves: bytes and type, or the expired page."""

    content_type: str
    body: bytes
    expired: bool


@dataclass(frozen=True, slots=True)
class _State:
    messages: pl.DataFrame
    bodies: pl.DataFrame
    dids: tuple[DidRecord, ...]


@dataclass(frozen=True, slots=True)
class _MediaEntry:
    mime: str
    content_key: int
    expired: bool


def _day_seconds(day: date) -> int:
    return (day - _EPOCH_DAY).days * 86400


def _weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([s for s, _ in table], [w for _, w in table])[0]


def classify_number(digits: str) -> str | None:
    """'nanp' for 10 digits, 'short' for 5-6, 'intl' for 8..15 not starting with 1, else None."""
    if len(digits) == 10 and digits[0] in "23456789":
        return "nanp"
    if len(digits) in (5, 6):
        return "short"
    if 8 <= len(digits) <= 15 and digits[0] not in "01":
        return "intl"
    return None


class SandboxAccount:
    """One synthetic VoIP.ms account.

    Reads take an immutable snapshot and never block; every mutation builds a new snapshot
    under a lock. `truth()` is what the API knows now, in the store's words.
    """

    def __init__(
        self, spec: AccountSpec, generated: GeneratedAccount, clock: Callable[[], float] = time.time
    ) -> None:
        self._spec = spec
        self.clock = clock
        self._lock = threading.RLock()
        self._state = _State(
            messages=generated.messages,
            bodies=encode_bodies(generated.bodies),
            dids=tuple(generated.dids),
        )
        self._media = generated.media
        self._media_index: dict[str, _MediaEntry] | None = None
        self._uploads: dict[int, bytes] = {}
        self._next_id = {"sms": generated.next_sms_id, "mms": generated.next_mms_id}
        self._next_content_key = 10**12
        self._rng = random.Random(f"smsarchive-sandbox/{spec.seed}/mutations")
        self._sends: dict[tuple[str, str], int] = {}
        self._sha_cache: dict[int, tuple[str, int]] = {}
        self._contacts = (
            generated.messages.select("did_idx", "contact", "contact_kind")
            .unique(maintain_order=True)
            .rows()
        )

    @classmethod
    def generate(cls, spec: AccountSpec | None = None) -> SandboxAccount:
        """A new account built deterministically from `spec` (the default spec when None)."""
        spec = spec or AccountSpec()
        return cls(spec, generate_account(spec))

    # ----------------------------------------------------------------- reading
    @property
    def spec(self) -> AccountSpec:
        """The spec this account was generated from."""
        return self._spec

    @property
    def dids(self) -> list[str]:
        """The account's DIDs, 10 digits each."""
        return [d.did for d in self._state.dids]

    @property
    def e164_dids(self) -> list[str]:
        """The DIDs currently in E.164 dial mode (rendered +1XXXXXXXXXX)."""
        return [d.did for d in self._state.dids if d.e164]

    def did_records(self) -> list[DidRecord]:
        """Every DID with its settings, as getDIDsInfo sees them."""
        return list(self._state.dids)

    def did_index(self, did: str) -> int | None:
        """Position of a 10-digit DID in `dids`, or None when it is not the account's."""
        for index, record in enumerate(self._state.dids):
            if record.did == did:
                return index
        return None

    def message_count(self) -> int:
        """Messages currently in the account."""
        return self._state.messages.height

    def select(self, query: MessageQuery) -> pl.DataFrame:
        """Store rows matching `query`, newest first, at most `query.limit` of them."""
        state = self._state
        msgs = state.messages
        if query.message_id is not None:
            rows = msgs.filter(
                (pl.col("kind") == query.id_kind) & (pl.col("id") == query.message_id)
            )
            return rows.reverse().head(query.limit)
        base = -5 * 3600 if query.tz_hours is None else round(query.tz_hours * 3600)
        lo = _day_seconds(query.first_day)
        hi = _day_seconds(query.last_day) + 86400
        ts = msgs["ts"]
        start = int(ts.search_sorted(lo - base - 3600, side="left"))
        stop = int(ts.search_sorted(hi - base, side="left"))
        rows = msgs.slice(start, max(stop - start, 0))
        local = local_epoch(pl.col("ts"), pl.col("dst"), query.tz_hours)
        conditions = [local >= lo, local < hi]
        if len(query.kinds) == 1:
            conditions.append(pl.col("kind") == query.kinds[0])
        if query.type is not None:
            conditions.append(pl.col("type") == query.type)
        if query.did is not None:
            index = self.did_index(query.did)
            conditions.append(pl.col("did_idx") == (index if index is not None else -1))
        if query.contact is not None:
            conditions.append(pl.col("contact") == query.contact)
        return rows.filter(*conditions).reverse().head(query.limit)

    def render_rows(
        self, rows: pl.DataFrame, method: str, media_base: str, tz_hours: float | None
    ) -> str:
        """JSON array of `rows` as getSMS (`method="getsms"`) or getMMS (`"getmms"`) shows them."""
        state = self._state
        frame = rows_frame(
            rows,
            state.bodies,
            [d.did for d in state.dids],
            [d.e164 for d in state.dids],
            method,
            media_base,
            tz_hours,
        )
        return frame.write_json()

    def mms_media(self, mms_id: int) -> tuple[str, list[str]] | None:
        """(New York `date`, media URL paths) of an MMS, or None when there is no such MMS."""
        msgs = self._state.messages
        row = msgs.filter((pl.col("kind") == "mms") & (pl.col("id") == mms_id))
        if row.height == 0:
            return None
        rendered = row.select(
            format_local(local_epoch(pl.col("ts"), pl.col("dst"), None)), "media"
        ).row(0)
        return str(rendered[0]), list(rendered[1] or [])

    def media_file(self, token: str) -> MediaFile | None:
        """The file behind a media token, or None when no such media ever existed."""
        entry = self._media_lookup().get(token)
        if entry is None:
            return None
        if entry.expired:
            return MediaFile("text/html; charset=UTF-8", EXPIRED_BODY, expired=True)
        return MediaFile(entry.mime, self._file_bytes(entry.mime, entry.content_key), expired=False)

    def _file_bytes(self, mime: str, content_key: int) -> bytes:
        upload = self._uploads.get(content_key)
        if upload is not None:
            return upload
        return media_bytes(mime, f"smsarchive-sandbox seed={self._spec.seed} media={content_key}")

    def _media_lookup(self) -> dict[str, _MediaEntry]:
        index = self._media_index
        if index is None:
            with self._lock:
                if self._media_index is None:
                    media = self._media
                    self._media_index = {
                        token: _MediaEntry(mime, key, expired)
                        for token, mime, key, expired in zip(
                            media["token"].to_list(),
                            media["content_type"].to_list(),
                            media["content_key"].to_list(),
                            media["expired"].to_list(),
                            strict=True,
                        )
                    }
                index = self._media_index
        return index

    # ----------------------------------------------------------------- truth
    def truth(self) -> pl.DataFrame:
        """Ground truth: one row per message now in the account, oldest first.

        Columns: kind, id, sent_at (UTC), date_local (getSMS `date` without `timezone`),
        local_date, local_ambiguous (date_local falls in the repeated autumn hour, so the
        text alone cannot tell which instant it was; ids still order them), direction,
        type, did, did_rendered, contact (as rendered), contact_e164 (E.164 for NANP and
        international numbers, short codes as given), contact_kind, body (true text),
        message_getsms / message_getmms (the encoded `message` values), carrier_status,
        media_count, segment_group (id of a split text's first row), segment_index,
        segment_count, special (why an edge-case timestamp was placed).
        """
        state = self._state
        msgs = state.messages
        e164 = pl.Series([d.e164 for d in state.dids], dtype=pl.Boolean).gather(msgs["did_idx"])
        numbers = pl.Series([d.did for d in state.dids], dtype=pl.Utf8).gather(msgs["did_idx"])
        local = local_epoch(pl.col("ts"), pl.col("dst"), None)
        return msgs.select(
            kind=pl.col("kind").cast(pl.Utf8),
            id=pl.col("id"),
            sent_at=pl.from_epoch("ts", time_unit="s")
            .dt.cast_time_unit("us")
            .dt.replace_time_zone("UTC"),
            date_local=format_local(local),
            local_date=pl.from_epoch(local, time_unit="s").dt.date(),
            local_ambiguous=pl.from_epoch(local, time_unit="s")
            .dt.replace_time_zone(ACCOUNT_TIMEZONE, ambiguous="null", non_existent="null")
            .is_null(),
            direction=pl.when(pl.col("type") == 1)
            .then(pl.lit("inbound"))
            .otherwise(pl.lit("outbound")),
            type=pl.col("type"),
            did=pl.lit(numbers),
            did_rendered=pl.when(pl.lit(e164))
            .then(pl.lit("+1") + pl.lit(numbers))
            .otherwise(pl.lit(numbers)),
            contact=render_contact_expr(pl.col("contact"), pl.col("contact_kind"), pl.lit(e164)),
            contact_e164=e164_expr(pl.col("contact"), pl.col("contact_kind")),
            contact_kind=pl.col("contact_kind").cast(pl.Utf8),
            body=state.bodies["body"].gather(msgs["body_id"]),
            message_getsms=state.bodies["getsms"].gather(msgs["body_id"]),
            message_getmms=state.bodies["getmms"].gather(msgs["body_id"]),
            carrier_status=pl.col("carrier_status"),
            media_count=pl.col("media_count"),
            segment_group=pl.col("segment_group"),
            segment_index=pl.col("segment_index"),
            segment_count=pl.col("segment_count"),
            special=pl.col("special"),
        )

    def truth_media(self) -> pl.DataFrame:
        """One row per media item of an MMS now in the account.

        Columns: kind ('mms'), message_id, position (1-based), url_path (append to
        `http://HOST:PORT`), url_form ('map' | 'path'), token, content_type, ext, expired,
        sha256 and size_bytes of the served file (null when expired), content_key (equal for
        deliberate duplicates).
        """
        with self._lock:
            media = self._media
        alive = self._state.messages.filter(pl.col("kind") == "mms").select(message_id="id")
        media = media.join(alive, on="message_id", how="semi")
        keys = media.select("content_type", "content_key", "expired").to_dicts()
        sha: list[str | None] = []
        size: list[int | None] = []
        for row in keys:
            if row["expired"]:
                sha.append(None)
                size.append(None)
                continue
            key = int(row["content_key"])
            cached = self._sha_cache.get(key)
            if cached is None:
                body = self._file_bytes(str(row["content_type"]), key)
                cached = (hashlib.sha256(body).hexdigest(), len(body))
                self._sha_cache[key] = cached
            sha.append(cached[0])
            size.append(cached[1])
        return media.select(
            kind=pl.lit("mms"),
            message_id="message_id",
            position="position",
            url_path="url_path",
            url_form="url_form",
            token=pl.col("token"),
            content_type="content_type",
            ext="ext",
            expired="expired",
            sha256=pl.Series(sha, dtype=pl.Utf8),
            size_bytes=pl.Series(size, dtype=pl.Int64),
            content_key="content_key",
        )

    # ----------------------------------------------------------------- mutations
    def _new_id(self, kind: str) -> int:
        gap = self._rng.randint(1, 7) if kind == "sms" else self._rng.randint(1, 9)
        value = self._next_id[kind] + gap - 1
        self._next_id[kind] = value + 1
        return value

    def _media_rows(
        self, message_id: int, ts: int, items: list[tuple[str, bytes | None]]
    ) -> pl.DataFrame:
        rows: list[dict[str, object]] = []
        for position, (mime, upload) in enumerate(items, start=1):
            key = self._next_content_key
            self._next_content_key += 1
            if upload is not None:
                self._uploads[key] = upload
            ext = EXT_BY_MIME.get(mime, "bin")
            token = media_token(ts, f"{self._rng.getrandbits(48):012x}", position, mime)
            rows.append(
                {
                    "message_id": message_id,
                    "position": position,
                    "token": token,
                    "url_form": "path",
                    "url_path": media_path(token, "path", ext),
                    "content_type": mime,
                    "ext": ext,
                    "expired": False,
                    "content_key": key,
                }
            )
        return pl.DataFrame(rows, schema=MEDIA_SCHEMA)

    def _append(
        self, rows: list[dict[str, object]], bodies: list[str], media: list[pl.DataFrame]
    ) -> None:
        """Add message rows (body_id relative to `bodies`) and media; call with the lock held."""
        state = self._state
        offset = state.bodies.height
        for row in rows:
            row["body_id"] = int(row["body_id"]) + offset  # type: ignore[call-overload]
        frame = pl.DataFrame(rows, schema={k: v for k, v in MESSAGE_SCHEMA.items() if k != "dst"})
        frame = frame.with_columns(dst=dst_flags(pl.col("ts"))).select(list(MESSAGE_SCHEMA))
        messages = pl.concat([state.messages, frame], how="vertical").sort(["ts", "id", "kind"])
        new_bodies = (
            pl.concat([state.bodies, encode_bodies(bodies)], how="vertical")
            if bodies
            else state.bodies
        )
        if media:
            added = pl.concat(media, how="vertical")
            self._media = pl.concat([self._media, added], how="vertical")
            if self._media_index is not None:
                index = dict(self._media_index)
                for token, mime, key in added.select("token", "content_type", "content_key").rows():
                    index[token] = _MediaEntry(mime, key, False)
                self._media_index = index
        self._state = replace(state, messages=messages, bodies=new_bodies)

    def add_messages(self, n: int, start: datetime, end: datetime) -> list[tuple[str, int]]:
        """Add `n` new messages at instants spread over [start, end]; returns (kind, id) in order.

        Naive datetimes are taken as UTC. New ids come after every existing id, as a late
        arrival would get. Kinds, directions, contacts and bodies follow the account's mix.
        """
        lo = int((start if start.tzinfo else start.replace(tzinfo=UTC)).timestamp())
        hi = int((end if end.tzinfo else end.replace(tzinfo=UTC)).timestamp())
        if hi < lo or n < 0:
            raise ValueError("need n >= 0 and start <= end")
        with self._lock:
            rng = self._rng
            instants = sorted(rng.randint(lo, hi) for _ in range(n))
            texts = self._state.bodies["body"].head(40_000).to_list()
            usable = [i for i in range(1, len(texts)) if texts[i]]
            rows: list[dict[str, object]] = []
            bodies: list[str] = []
            media: list[pl.DataFrame] = []
            out: list[tuple[str, int]] = []
            for ts in instants:
                did_idx, contact, contact_kind = rng.choice(self._contacts)
                mms = rng.random() < self._spec.mms_share
                kind = "mms" if mms else "sms"
                message_id = self._new_id(kind)
                inbound = rng.random() < 0.55
                count = (
                    rng.choices(range(len(MEDIA_COUNT_WEIGHT)), MEDIA_COUNT_WEIGHT)[0] if mms else 0
                )
                bodies.append(texts[rng.choice(usable)] if usable else "hello")
                paths: list[str] | None = None
                if mms:
                    types = rng.choices(MEDIA_TYPES, [t.weight for t in MEDIA_TYPES], k=count)
                    frame = self._media_rows(message_id, ts, [(t.mime, None) for t in types])
                    media.append(frame)
                    paths = frame["url_path"].to_list()
                rows.append(
                    {
                        "kind": kind,
                        "id": message_id,
                        "ts": ts,
                        "type": int(inbound),
                        "did_idx": did_idx,
                        "contact": contact,
                        "contact_kind": contact_kind,
                        "body_id": len(bodies) - 1,
                        "carrier_status": _weighted(
                            rng, INBOUND_STATUS if inbound else OUTBOUND_STATUS
                        ),
                        "media_count": count,
                        "media": paths,
                        "segment_group": None,
                        "segment_index": None,
                        "segment_count": None,
                        "special": None,
                    }
                )
                out.append((kind, message_id))
            self._append(rows, bodies, media)
        return out

    def set_carrier_status(self, kind: str, message_id: int, status: str) -> None:
        """Change one message's carrier_status; KeyError when there is no such message."""
        with self._lock:
            state = self._state
            hit = (pl.col("kind") == kind) & (pl.col("id") == message_id)
            if state.messages.filter(hit).height == 0:
                raise KeyError((kind, message_id))
            messages = state.messages.with_columns(
                carrier_status=pl.when(hit).then(pl.lit(status)).otherwise(pl.col("carrier_status"))
            )
            self._state = replace(state, messages=messages)

    def delete(self, kind: str, message_id: int) -> bool:
        """Remove a message (its media stay reachable); False when there is no such message."""
        with self._lock:
            state = self._state
            hit = (pl.col("kind") == kind) & (pl.col("id") == message_id)
            if state.messages.filter(hit).height == 0:
                return False
            self._state = replace(state, messages=state.messages.filter(~hit))
            return True

    def send(
        self,
        kind: str,
        did: str,
        contact: str,
        text: str,
        media: list[tuple[str, bytes | None]] | None = None,
    ) -> int | str:
        """Record an outbound message now; returns its id, or `limit_reached`.

        `contact` is normalised digits; `media` holds (mime, uploaded bytes or None).
        """
        with self._lock:
            index = self.did_index(did)
            if index is None:
                return "invalid_did"
            now = self.clock()
            ts = int(now)
            day = datetime.fromtimestamp(now, UTC).astimezone(_NEW_YORK).date().isoformat()
            sent = self._sends.get((did, day), 0)
            if sent >= SEND_LIMIT_PER_DAY:
                return "limit_reached"
            self._sends[(did, day)] = sent + 1
            message_id = self._new_id(kind)
            items = media or []
            frames = [self._media_rows(message_id, ts, items)] if kind == "mms" and items else []
            self._append(
                [
                    {
                        "kind": kind,
                        "id": message_id,
                        "ts": ts,
                        "type": 0,
                        "did_idx": index,
                        "contact": contact,
                        "contact_kind": classify_number(contact) or "intl",
                        "body_id": 0,
                        "carrier_status": "Message sent",
                        "media_count": len(items) if kind == "mms" else 0,
                        "media": (frames[0]["url_path"].to_list() if frames else [])
                        if kind == "mms"
                        else None,
                        "segment_group": None,
                        "segment_index": None,
                        "segment_count": None,
                        "special": None,
                    }
                ],
                [text],
                frames,
            )
            return message_id

    def set_sms(self, did: str, fields: dict[str, str]) -> str:
        """Apply setSMS settings to a DID; returns `success` or an error status."""
        mapping = {
            "email_enabled": "sms_email_enabled",
            "email_address": "sms_email",
            "sms_forward_enable": "sms_forward_enabled",
            "sms_forward": "sms_forward",
            "url_callback_enable": "sms_url_callback_enabled",
            "url_callback": "sms_url_callback",
            "url_callback_retry": "sms_url_callback_retry",
            "smpp_enabled": "smpp_enabled",
            "smpp_url": "smpp_url",
            "smpp_user": "smpp_user",
            "smpp_pass": "smpp_pass",
        }
        with self._lock:
            index = self.did_index(did)
            if index is None:
                return "invalid_did"
            record = self._state.dids[index]
            settings = dict(record.settings)
            changed_at = record.enable_changed_at
            now = self.clock()
            enable = fields.get("enable")
            if enable is not None and enable != settings["sms_enabled"]:
                if changed_at is not None and now - changed_at < ENABLE_COOLDOWN_S:
                    return "sms_wait_message"
                settings["sms_enabled"] = enable
                changed_at = now
            for name, target in mapping.items():
                if name in fields:
                    settings[target] = fields[name]
            dialmode = record.dialmode
            if "dialmode" in fields:
                dialmode = E164 if fields["dialmode"] == "2" else NANPA
            updated = replace(
                record, settings=settings, dialmode=dialmode, enable_changed_at=changed_at
            )
            dids = list(self._state.dids)
            dids[index] = updated
            self._state = replace(self._state, dids=tuple(dids))
            return "success"
