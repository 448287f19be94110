"""Deterministic synthetic account: conversations, edge-case timestamps, ids and media."""

from __future__ import annotations

import base64
import bisect
import itertools
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from extract.voipms.sandbox.bodies import BodyPool, build_pool, segment_text
from extract.voipms.sandbox.dids import DidRecord, make_dids
from extract.voipms.sandbox.media_files import MEDIA_TYPES
from extract.voipms.sandbox.render import dst_flags
from extract.voipms.sandbox.spec import ACCOUNT_TIMEZONE, AccountSpec

NEW_YORK = ZoneInfo(ACCOUNT_TIMEZONE)

KIND = pl.Enum(["sms", "mms"])
CONTACT_KIND = pl.Enum(["nanp", "short", "intl"])

MESSAGE_SCHEMA: dict[str, pl.DataType] = {
    "kind": KIND,
    "id": pl.Int64(),
    "ts": pl.Int64(),
    "dst": pl.Boolean(),
    "type": pl.Int8(),
    "did_idx": pl.UInt16(),
    "contact": pl.Utf8(),
    "contact_kind": CONTACT_KIND,
    "body_id": pl.UInt32(),
    "carrier_status": pl.Utf8(),
    "media_count": pl.Int16(),
    "media": pl.List(pl.Utf8()),
    "segment_group": pl.Int64(),
    "segment_index": pl.Int16(),
    "segment_count": pl.Int16(),
    "special": pl.Utf8(),
}
"""The message store: one row per message, sorted by (ts, id, kind). `ts` is UTC epoch
seconds; `type` 1 = received; `media` holds URL paths (null for SMS)."""

MEDIA_SCHEMA: dict[str, pl.DataType] = {
    "message_id": pl.Int64(),
    "position": pl.Int16(),
    "token": pl.Utf8(),
    "url_form": pl.Utf8(),
    "url_path": pl.Utf8(),
    "content_type": pl.Utf8(),
    "ext": pl.Utf8(),
    "expired": pl.Boolean(),
    "content_key": pl.Int64(),
}
"""One row per media item of an MMS; `content_key` names the file's bytes (shared by
deliberate duplicates)."""

WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 1.05, 0.6, 0.5)
HOUR_WEIGHT = (
    0.15, 0.08, 0.05, 0.04, 0.04, 0.08, 0.3, 0.7, 1.1, 1.2, 1.2, 1.25,
    1.35, 1.25, 1.2, 1.2, 1.3, 1.45, 1.5, 1.45, 1.35, 1.15, 0.8, 0.4,
)  # fmt: skip
MEDIA_COUNT_WEIGHT = (0.10, 0.56, 0.15, 0.08, 0.05, 0.04, 0.02)
OUTBOUND_STATUS: tuple[tuple[str, float], ...] = (
    ("Delivered", 30.0),
    ("DELIVRD", 10.0),
    ("Message sent", 20.0),
    ("Sent to carrier", 10.0),
    ("Information not available", 15.0),
    ("", 5.0),
    ("Failed", 3.0),
    ("Undeliverable", 2.0),
    ("Rejected: 30007 carrier violation", 1.0),
    ("Queued (retry 2/5)", 0.2),
    ("ERR_UNKNOWN 0x1F", 0.2),
    ("delivered ", 0.2),
)
INBOUND_STATUS: tuple[tuple[str, float], ...] = (
    ("", 60.0),
    ("Information not available", 38.0),
    ("Delivered", 2.0),
)
INTERNATIONAL = (
    ("44", "7", 9),
    ("33", "6", 8),
    ("49", "15", 9),
    ("52", "1", 10),
    ("91", "9", 9),
    ("61", "4", 8),
)
NANP_AREAS = (
    "201", "202", "212", "213", "226", "236", "250", "289", "305", "312", "343", "365",
    "403", "404", "415", "416", "418", "438", "450", "469", "506", "514", "519", "581",
    "587", "604", "613", "617", "647", "702", "705", "709", "713", "780", "819", "905",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class GeneratedAccount:
    """Everything `SandboxAccount` starts from."""

    dids: list[DidRecord]
    bodies: list[str]
    messages: pl.DataFrame
    media: pl.DataFrame
    next_sms_id: int
    next_mms_id: int


@dataclass(frozen=True, slots=True)
class Contact:
    """A correspondent, stored the way the store keeps numbers."""

    digits: str
    kind: str


def _cumulative(weights: list[float] | tuple[float, ...]) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


def _uniforms(rng: random.Random, n: int) -> pl.Series:
    rnd = rng.random
    return pl.Series([rnd() for _ in range(n)], dtype=pl.Float64)


def _pick_expr(u: pl.Expr, weights: tuple[float, ...]) -> pl.Expr:
    """Vectorised weighted choice of an index from uniforms `u`."""
    total = sum(weights)
    expr: pl.Expr = pl.lit(len(weights) - 1)
    acc = list(itertools.accumulate(w / total for w in weights))
    for index in reversed(range(len(weights) - 1)):
        expr = pl.when(u < acc[index]).then(pl.lit(index)).otherwise(expr)
    return expr


def _status_expr(u: pl.Expr, table: tuple[tuple[str, float], ...]) -> pl.Expr:
    index = _pick_expr(u, tuple(w for _, w in table))
    return pl.lit(pl.Series([s for s, _ in table])).gather(index)


def make_contacts(rng: random.Random, spec: AccountSpec) -> list[list[Contact]]:
    """Correspondents per DID, most popular first: mostly NANP, some short codes, a few abroad.

    A global pool is shared so that some people text more than one DID.
    """
    per_did = spec.resolved_contacts_per_did()
    pool_size = max(per_did, int(per_did * spec.dids * 0.8))
    seen: set[str] = set()
    pool: list[Contact] = []
    while len(pool) < pool_size:
        pick = rng.random()
        if pick < 0.86:
            digits = f"{rng.choice(NANP_AREAS)}{rng.randrange(200, 1000)}{rng.randrange(10000):04d}"
            contact = Contact(digits, "nanp")
        elif pick < 0.95:
            width = rng.choice((5, 5, 6))
            contact = Contact(str(rng.randrange(10 ** (width - 1) + 1, 10**width)), "short")
        else:
            country, lead, rest = rng.choice(INTERNATIONAL)
            contact = Contact(
                country + lead + "".join(rng.choice("0123456789") for _ in range(rest)), "intl"
            )
        if contact.digits not in seen:
            seen.add(contact.digits)
            pool.append(contact)
    return [rng.sample(pool, per_did) for _ in range(spec.dids)]


def _local_instant(day: date, at: time, fold: int) -> int:
    """UTC epoch seconds of a naive New York wall time; a time in the spring gap moves on 1 h."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=NEW_YORK, fold=fold)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(NEW_YORK).replace(tzinfo=None)
    if back != naive:  # nonexistent wall time
        aware = (naive + timedelta(hours=1)).replace(tzinfo=NEW_YORK, fold=fold)
    return int(aware.timestamp())


def _dst_days(year: int) -> tuple[date, date]:
    """Second Sunday of March and first Sunday of November (US rules since 2007)."""
    march = date(year, 3, 1)
    spring = march + timedelta(days=(6 - march.weekday()) % 7 + 7)
    november = date(year, 11, 1)
    autumn = november + timedelta(days=(6 - november.weekday()) % 7)
    return spring, autumn


def special_times(spec: AccountSpec) -> list[tuple[int, str]]:
    """Deliberate edge instants (UTC epoch, label), most important first.

    DST days (inside the repeated autumn hour on both sides, around the spring gap),
    local midnights, and 92-day window boundaries counted from `start` for window
    widths 90..93 days.
    """
    out: list[tuple[int, str]] = []
    last = time(23, 59, 59)
    for year in range(spec.start.year, spec.end.year + 1):
        spring, autumn = _dst_days(year)
        spring_marks = (
            (time(0, 0), 0, "dst_spring_midnight"),
            (time(1, 0), 0, "dst_spring_before_gap"),
            (time(1, 59, 59), 0, "dst_spring_before_gap"),
            (time(3, 0), 0, "dst_spring_after_gap"),
            (time(3, 0, 1), 0, "dst_spring_after_gap"),
            (time(3, 30), 0, "dst_spring_after_gap"),
            (last, 0, "dst_spring_day_end"),
        )
        autumn_marks = (
            (time(0, 59, 59), 0, "dst_autumn_before_repeat"),
            (time(1, 0), 0, "dst_autumn_repeat_first"),
            (time(1, 30), 0, "dst_autumn_repeat_first"),
            (time(1, 59, 59), 0, "dst_autumn_repeat_first"),
            (time(1, 0), 1, "dst_autumn_repeat_second"),
            (time(1, 30), 1, "dst_autumn_repeat_second"),
            (time(1, 59, 59), 1, "dst_autumn_repeat_second"),
            (time(2, 0), 0, "dst_autumn_after_repeat"),
            (last, 0, "dst_autumn_day_end"),
        )
        for day, marks in ((spring, spring_marks), (autumn, autumn_marks)):
            if spec.start <= day <= spec.end:
                out.extend((_local_instant(day, at, fold), label) for at, fold, label in marks)
    boundaries: list[tuple[int, str]] = []
    for width in (92, 91, 93, 90):
        k = 1
        while (day := spec.start + timedelta(days=width * k)) <= spec.end:
            boundaries.append((_local_instant(day, time(0, 0), 0), f"window_{width}_start"))
            boundaries.append(
                (_local_instant(day - timedelta(days=1), last, 0), f"window_{width}_end")
            )
            k += 1
    midnights: list[tuple[int, str]] = [
        (_local_instant(spec.start, time(0, 0), 0), "midnight_start"),
        (_local_instant(spec.end, last, 0), "midnight_end"),
    ]
    day = spec.start + timedelta(days=17)
    while day < spec.end:
        midnights.append((_local_instant(day, time(0, 0), 0), "midnight_start"))
        midnights.append((_local_instant(day, last, 0), "midnight_end"))
        day += timedelta(days=37)
    lo = _local_instant(spec.start, time(0, 0), 0)
    hi = _local_instant(spec.end, last, 0)
    return [(ts, label) for ts, label in out + boundaries + midnights if lo <= ts <= hi]


def _conversations(
    rng: random.Random, spec: AccountSpec, contacts: list[list[Contact]], rows: int
) -> pl.DataFrame:
    """One row per conversation: DID, contact, length and a local start (day, second)."""
    did_cum = _cumulative([1.0 / (i + 1) ** 0.6 for i in range(spec.dids)])
    contact_cum = [_cumulative([1.0 / (r + 1) ** 1.05 for r in range(len(c))]) for c in contacts]
    day_cum = _cumulative(
        [WEEKDAY_WEIGHT[(spec.start + timedelta(days=d)).weekday()] for d in range(spec.days)]
    )
    hour_cum = _cumulative(HOUR_WEIGHT)
    did_col: list[int] = []
    contact_col: list[str] = []
    kind_col: list[str] = []
    length_col: list[int] = []
    day_col: list[int] = []
    second_col: list[int] = []
    inbound_col: list[bool] = []
    fold_col: list[str] = []
    total = 0
    rnd = rng.random
    while total < rows:
        did = _pick(rng, did_cum)
        contact = contacts[did][_pick(rng, contact_cum[did])]
        if contact.kind == "short":
            length = 1 if rnd() < 0.75 else 2
            inbound = True
        else:
            length = 1 + int(math.log(1.0 - rnd()) / math.log(0.83))
            inbound = rnd() < 0.55
        length = min(length, 80, rows - total)
        total += length
        did_col.append(did)
        contact_col.append(contact.digits)
        kind_col.append(contact.kind)
        length_col.append(length)
        day_col.append(_pick(rng, day_cum))
        second_col.append(_pick(rng, hour_cum) * 3600 + int(rnd() * 3600))
        inbound_col.append(inbound)
        fold_col.append("earliest" if rnd() < 0.5 else "latest")
    return pl.DataFrame(
        {
            "did_idx": did_col,
            "contact": contact_col,
            "contact_kind": kind_col,
            "length": length_col,
            "day": day_col,
            "second": second_col,
            "first_inbound": inbound_col,
            "fold": fold_col,
        },
        schema={
            "did_idx": pl.UInt16,
            "contact": pl.Utf8,
            "contact_kind": CONTACT_KIND,
            "length": pl.Int64,
            "day": pl.Int64,
            "second": pl.Int64,
            "first_inbound": pl.Boolean,
            "fold": pl.Utf8,
        },
    ).with_row_index("conv")


def _regular_messages(
    rng: random.Random, spec: AccountSpec, contacts: list[list[Contact]], pool: BodyPool, rows: int
) -> pl.DataFrame:
    """Conversation messages: back-and-forth with reply gaps of minutes to hours."""
    conv = _conversations(rng, spec, contacts, rows)
    lo = _local_instant(spec.start, time(0, 0), 0)
    hi = _local_instant(spec.end, time(23, 59, 59), 0)
    start_naive = pl.lit(datetime.combine(spec.start, time(0, 0))) + pl.duration(
        days=pl.col("day"), seconds=pl.col("second")
    )
    conv = conv.with_columns(
        start_ts=pl.coalesce(
            start_naive.dt.replace_time_zone(
                ACCOUNT_TIMEZONE, ambiguous=pl.col("fold"), non_existent="null"
            ),
            (start_naive + pl.duration(hours=1)).dt.replace_time_zone(
                ACCOUNT_TIMEZONE, ambiguous=pl.col("fold"), non_existent="null"
            ),
        ).dt.epoch("s")
    )
    msgs = conv.with_columns(pos=pl.int_ranges(0, pl.col("length"))).explode("pos")
    n = msgs.height
    msgs = msgs.with_columns(
        u_switch=_uniforms(rng, n),
        u_g1=1.0 - _uniforms(rng, n),
        u_g2=_uniforms(rng, n),
        u_kind=_uniforms(rng, n),
        u_media=_uniforms(rng, n),
        u_body=_uniforms(rng, n),
        u_empty=_uniforms(rng, n),
        u_status=_uniforms(rng, n),
    )
    p_switch = pl.when(pl.col("contact_kind") == "short").then(0.1).otherwise(0.65)
    switched = (pl.col("pos") > 0) & (pl.col("u_switch") < p_switch)
    z = (-2.0 * pl.col("u_g1").log()).sqrt() * (2.0 * math.pi * pl.col("u_g2")).cos()
    gap = (
        pl.when(pl.col("pos") == 0)
        .then(0.0)
        .when(pl.col("switched"))
        .then((math.log(420.0) + 1.5 * z).exp().clip(5.0, 172800.0))
        .otherwise((math.log(45.0) + 1.2 * z).exp().clip(1.0, 21600.0))
    )
    msgs = msgs.with_columns(switched=switched).with_columns(gap=gap.cast(pl.Int64))
    msgs = msgs.with_columns(
        offset=pl.col("gap").cum_sum().over("conv"),
        flips=pl.col("switched").cast(pl.Int64).cum_sum().over("conv"),
    )
    msgs = msgs.with_columns(duration=pl.col("offset").max().over("conv"))
    start_ts = pl.min_horizontal(pl.col("start_ts"), pl.lit(hi) - pl.col("duration"))
    start_ts = pl.max_horizontal(start_ts, pl.lit(lo))
    inbound = pl.col("first_inbound") ^ ((pl.col("flips") % 2) == 1)
    is_mms = pl.col("u_kind") < spec.mms_share
    media_count = (
        pl.when(is_mms).then(_pick_expr(pl.col("u_media"), MEDIA_COUNT_WEIGHT)).otherwise(0)
    )
    short_body = (1 + pl.col("u_body") * (pool.short_end - 1)).cast(pl.Int64)
    sms_body = (pool.short_end + pl.col("u_body") * (pool.sms_end - pool.short_end)).cast(pl.Int64)
    any_body = (pool.short_end + pl.col("u_body") * (len(pool.texts) - pool.short_end)).cast(
        pl.Int64
    )
    body = (
        pl.when(~is_mms & (pl.col("contact_kind") == "short") & inbound)
        .then(short_body)
        .when(~is_mms)
        .then(pl.when(pl.col("u_empty") < 0.004).then(0).otherwise(sms_body))
        .when(pl.col("media_count") > 0)
        .then(pl.when(pl.col("u_empty") < 0.45).then(0).otherwise(any_body))
        .otherwise(pl.when(pl.col("u_empty") < 0.06).then(0).otherwise(any_body))
    )
    msgs = msgs.with_columns(media_count=media_count, inbound=inbound, is_mms=is_mms)
    return msgs.select(
        kind=pl.when(pl.col("is_mms")).then(pl.lit("mms")).otherwise(pl.lit("sms")).cast(KIND),
        ts=pl.min_horizontal(start_ts + pl.col("offset"), pl.lit(hi)),
        type=pl.col("inbound").cast(pl.Int8),
        did_idx=pl.col("did_idx"),
        contact=pl.col("contact"),
        contact_kind=pl.col("contact_kind"),
        body_id=body.cast(pl.UInt32),
        carrier_status=pl.when(pl.col("inbound"))
        .then(_status_expr(pl.col("u_status"), INBOUND_STATUS))
        .otherwise(_status_expr(pl.col("u_status"), OUTBOUND_STATUS)),
        media_count=pl.col("media_count").cast(pl.Int16),
        special=pl.lit(None, dtype=pl.Utf8),
    )


def _special_messages(
    rng: random.Random,
    spec: AccountSpec,
    contacts: list[list[Contact]],
    pool: BodyPool,
    marks: list[tuple[int, str]],
) -> pl.DataFrame:
    rows: dict[str, list[object]] = {
        k: []
        for k in (
            "kind",
            "ts",
            "type",
            "did_idx",
            "contact",
            "contact_kind",
            "body_id",
            "carrier_status",
            "media_count",
            "special",
        )
    }
    media_cum = _cumulative(MEDIA_COUNT_WEIGHT)
    for ts, label in marks:
        did = rng.randrange(spec.dids)
        contact = rng.choice(contacts[did][: max(3, len(contacts[did]) // 3)])
        inbound = rng.random() < 0.5
        mms = rng.random() < max(spec.mms_share, 0.25) if spec.mms_share > 0 else False
        rows["kind"].append("mms" if mms else "sms")
        rows["ts"].append(ts)
        rows["type"].append(int(inbound))
        rows["did_idx"].append(did)
        rows["contact"].append(contact.digits)
        rows["contact_kind"].append(contact.kind)
        rows["body_id"].append(rng.randrange(pool.short_end, pool.sms_end))
        table = INBOUND_STATUS if inbound else OUTBOUND_STATUS
        rows["carrier_status"].append(rng.choices([s for s, _ in table], [w for _, w in table])[0])
        rows["media_count"].append(_pick(rng, media_cum) if mms else 0)
        rows["special"].append(label)
    return pl.DataFrame(
        rows,
        schema={
            "kind": KIND,
            "ts": pl.Int64,
            "type": pl.Int8,
            "did_idx": pl.UInt16,
            "contact": pl.Utf8,
            "contact_kind": CONTACT_KIND,
            "body_id": pl.UInt32,
            "carrier_status": pl.Utf8,
            "media_count": pl.Int16,
            "special": pl.Utf8,
        },
    )


def _apply_segments(rng: random.Random, msgs: pl.DataFrame, bodies: list[str]) -> pl.DataFrame:
    """Turn a few inbound SMS into multi-row segmented texts by taking over other rows.

    The row count stays the same: the extra segments replace randomly chosen other rows.
    """
    n = msgs.height
    kind = msgs["kind"].to_list()
    mtype = msgs["type"].to_list()
    ckind = msgs["contact_kind"].to_list()
    special = msgs["special"].to_list()
    candidates = [
        i
        for i in range(n)
        if kind[i] == "sms" and mtype[i] == 1 and ckind[i] == "nanp" and special[i] is None
    ]
    groups = round(len(candidates) * 0.006)
    if n >= 200:
        groups = max(groups, 2)
    groups = min(groups, len(candidates), n // 20)
    if groups == 0:
        return msgs.with_columns(
            segment_key=pl.lit(None, dtype=pl.Int64),
            segment_index=pl.lit(None, dtype=pl.Int16),
            segment_count=pl.lit(None, dtype=pl.Int16),
        )
    heads = sorted(rng.sample(candidates, groups))
    sizes = [rng.choices((2, 3, 4, 5), (50, 30, 15, 5))[0] for _ in heads]
    taken = set(heads)
    free = [i for i in range(n) if i not in taken and special[i] is None]
    donors = rng.sample(free, sum(sizes) - len(sizes))
    ts = msgs["ts"].to_list()
    did = msgs["did_idx"].to_list()
    contact = msgs["contact"].to_list()
    status = msgs["carrier_status"].to_list()
    idx: list[int] = []
    cols: dict[str, list[object]] = {
        k: []
        for k in (
            "kind",
            "ts",
            "type",
            "did_idx",
            "contact",
            "contact_kind",
            "body_id",
            "carrier_status",
            "media_count",
            "segment_key",
            "segment_index",
            "segment_count",
        )
    }
    donor_iter = iter(donors)
    for head, size in zip(heads, sizes, strict=True):
        parts = segment_text(rng, size)
        at = ts[head]
        for j, part in enumerate(parts):
            row = head if j == 0 else next(donor_iter)
            if j:
                at += rng.choice((0, 0, 1, 2))
            idx.append(row)
            bodies.append(part)
            cols["kind"].append("sms")
            cols["ts"].append(at)
            cols["type"].append(1)
            cols["did_idx"].append(did[head])
            cols["contact"].append(contact[head])
            cols["contact_kind"].append("nanp")
            cols["body_id"].append(len(bodies) - 1)
            cols["carrier_status"].append(status[head])
            cols["media_count"].append(0)
            cols["segment_key"].append(head)
            cols["segment_index"].append(j + 1)
            cols["segment_count"].append(len(parts))
    msgs = msgs.with_columns(
        segment_key=pl.lit(None, dtype=pl.Int64),
        segment_index=pl.lit(None, dtype=pl.Int16),
        segment_count=pl.lit(None, dtype=pl.Int16),
    )
    index = pl.Series(idx, dtype=pl.Int64)
    return msgs.with_columns(
        [
            msgs[name].scatter(index, pl.Series(values, dtype=msgs.schema[name]))
            for name, values in cols.items()
        ]
    )


def _force(rng: random.Random, msgs: pl.DataFrame, pool: BodyPool) -> pl.DataFrame:
    """Make sure even a small account shows each feature the tests and clients rely on."""
    kind = msgs["kind"].to_list()
    body = msgs["body_id"].to_list()
    media = msgs["media_count"].to_list()
    seg = msgs["segment_index"].to_list()
    special = msgs["special"].to_list()
    sms_rows = [
        i for i, k in enumerate(kind) if k == "sms" and seg[i] is None and special[i] is None
    ]
    mms_rows = [i for i, k in enumerate(kind) if k == "mms" and special[i] is None]
    rng.shuffle(sms_rows)
    rng.shuffle(mms_rows)

    def claim(rows: list[int], count: int) -> list[int]:
        out = rows[:count]
        del rows[:count]
        return out

    for i in claim(sms_rows, 2):
        body[i] = 0
    for showcase in pool.showcase:
        for i in claim(sms_rows, 1):
            body[i] = showcase
        for i in claim(mms_rows, 1):
            body[i] = showcase
    if len(mms_rows) >= 8:
        for i in claim(mms_rows, 2):  # empty rows: no text, no media
            body[i], media[i] = 0, 0
        for i in claim(mms_rows, 2):  # text-only MMS
            body[i], media[i] = pool.showcase[0], 0
        for i in claim(mms_rows, 2):  # more than three media
            media[i] = max(media[i], 5)
        for i in claim(mms_rows, 2):  # media with no text
            body[i], media[i] = 0, max(media[i], 1)
    return msgs.with_columns(
        body_id=pl.Series(body, dtype=pl.UInt32), media_count=pl.Series(media, dtype=pl.Int16)
    )


def _assign_ids(rng: random.Random, msgs: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """Separate SMS and MMS counters over overlapping ranges, so some ids collide."""
    n_sms = int((msgs["kind"] == "sms").sum())
    n_mms = msgs.height - n_sms
    base = 23_000_000 + rng.randrange(1_000_000)
    sms_gap = pl.Series([rng.randint(1, 7) for _ in range(n_sms)], dtype=pl.Int64)
    span = max(4 * n_sms, 4 * n_mms, 8)
    mean = max(1.0, span / max(n_mms, 1))
    top = max(1, int(2 * mean - 1))
    mms_gap = pl.Series([rng.randint(1, top) for _ in range(n_mms)], dtype=pl.Int64)
    sms = msgs.filter(pl.col("kind") == "sms")
    # later segments of one text follow their first part directly
    sms_gap = pl.Series(
        sms.select(
            pl.when(pl.col("segment_index").fill_null(1) > 1).then(1).otherwise(sms_gap)
        ).to_series(),
        dtype=pl.Int64,
    )
    sms_ids = base + sms_gap.cum_sum()
    mms_ids = base - rng.randrange(0, 5) + mms_gap.cum_sum()
    sms_set = set(sms_ids.to_list())
    mms_list = mms_ids.to_list()
    collisions = sum(1 for i in mms_list if i in sms_set)
    if collisions < 3 and n_mms >= 3:
        sms_sorted = sorted(sms_set)
        for k in range(len(mms_list)):
            lower = mms_list[k - 1] if k else base - 10
            upper = mms_list[k + 1] if k + 1 < len(mms_list) else lower + 10**9
            j = bisect.bisect_right(sms_sorted, lower)
            if j < len(sms_sorted) and sms_sorted[j] < upper and mms_list[k] not in sms_set:
                mms_list[k] = sms_sorted[j]
                collisions += 1
                if collisions >= 3:
                    break
    mms_ids = pl.Series(mms_list, dtype=pl.Int64)
    ids = pl.Series("id", [0] * msgs.height, dtype=pl.Int64)
    is_sms = msgs["kind"] == "sms"
    ids = ids.scatter(is_sms.arg_true(), sms_ids).scatter((~is_sms).arg_true(), mms_ids)
    next_sms = (int(sms_ids.max()) if n_sms else base) + 1  # type: ignore[arg-type]
    next_mms = (int(mms_ids.max()) if n_mms else base) + 1  # type: ignore[arg-type]
    return msgs.with_columns(id=ids), next_sms, next_mms


def media_token(epoch: int, hex_part: str, position: int, mime: str) -> str:
    """The base64 a VoIP.ms media URL carries: `<epoch><hex>|<n>|<mime>|MMS`."""
    raw = f"{epoch}{hex_part}|{position}|{mime}|MMS"
    return base64.b64encode(raw.encode()).decode()


def media_path(token: str, form: str, ext: str) -> str:
    """URL path and query of a media item in one of the two real URL forms."""
    if form == "map":
        return f"/media.php?map={token}"
    return f"/media/{token}/media.{ext}"


def _media(rng: random.Random, spec: AccountSpec, msgs: pl.DataFrame) -> pl.DataFrame:
    """Media rows for every MMS with attachments: type, URL form, expiry, duplicates."""
    lo = _local_instant(spec.start, time(0, 0), 0)
    hi = _local_instant(spec.end, time(23, 59, 59), 0)
    span = max(hi - lo, 1)
    items = (
        msgs.filter((pl.col("kind") == "mms") & (pl.col("media_count") > 0))
        .select("id", "ts", pl.int_ranges(1, pl.col("media_count") + 1).alias("position"))
        .explode("position")
    )
    type_cum = _cumulative([t.weight for t in MEDIA_TYPES])
    ids = items["id"].to_list()
    tss = items["ts"].to_list()
    positions = items["position"].to_list()
    n = len(ids)
    types = [MEDIA_TYPES[_pick(rng, type_cum)] for _ in range(n)]
    cut = lo + 0.55 * span
    forms = ["map" if (t < cut) != (rng.random() < 0.08) else "path" for t in tss]
    expired = [
        rng.random() < min(1.0, spec.expired_share * 2.0 * (1.0 - (t - lo) / span)) for t in tss
    ]
    if spec.expired_share > 0 and n >= 10 and not any(expired):
        expired[rng.randrange(n)] = True
    content_key = list(range(n))
    dups = max(2, round(n * 0.01)) if n >= 20 else 0
    for j in sorted(rng.sample(range(1, n), dups)) if dups else []:
        source = rng.randrange(j)
        content_key[j] = content_key[source]
        types[j] = types[source]
        expired[j] = expired[source] = False
    tokens = [
        media_token(t, f"{rng.getrandbits(48):012x}", p, mt.mime)
        for t, p, mt in zip(tss, positions, types, strict=True)
    ]
    return pl.DataFrame(
        {
            "message_id": ids,
            "position": positions,
            "token": tokens,
            "url_form": forms,
            "url_path": [
                media_path(tok, f, mt.ext) for tok, f, mt in zip(tokens, forms, types, strict=True)
            ],
            "content_type": [mt.mime for mt in types],
            "ext": [mt.ext for mt in types],
            "expired": expired,
            "content_key": content_key,
        },
        schema=MEDIA_SCHEMA,
    )


def generate_account(spec: AccountSpec) -> GeneratedAccount:
    """Build the whole account for `spec`; the same spec gives the same account."""
    rng = random.Random(f"smsarchive-sandbox/{spec.seed}")
    dids = make_dids(rng, spec.dids)
    contacts = make_contacts(rng, spec)
    pool = build_pool(rng, min(max(spec.messages, 200), 40_000))
    bodies = list(pool.texts)
    marks = special_times(spec)[: spec.messages // 4]
    regular = _regular_messages(rng, spec, contacts, pool, spec.messages - len(marks))
    msgs = pl.concat([regular, _special_messages(rng, spec, contacts, pool, marks)], how="vertical")
    msgs = _apply_segments(rng, msgs, bodies)
    msgs = _force(rng, msgs, pool)
    msgs = msgs.with_row_index("row").sort(["ts", "segment_index", "row"], nulls_last=False)
    msgs, next_sms, next_mms = _assign_ids(rng, msgs)
    heads = msgs.filter(pl.col("segment_index") == 1).select(
        "segment_key", segment_group=pl.col("id")
    )
    msgs = msgs.join(heads, on="segment_key", how="left")
    media = _media(rng, spec, msgs)
    paths = (
        media.sort("message_id", "position")
        .group_by("message_id", maintain_order=True)
        .agg(pl.col("url_path").alias("media"))
        .with_columns(kind=pl.lit("mms", dtype=KIND))
    )
    msgs = msgs.join(paths, left_on=["kind", "id"], right_on=["kind", "message_id"], how="left")
    msgs = msgs.with_columns(
        media=pl.when(pl.col("kind") == "mms")
        .then(pl.col("media").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))))
        .otherwise(pl.lit(None, dtype=pl.List(pl.Utf8))),
        dst=dst_flags(pl.col("ts")),
    )
    msgs = msgs.select(list(MESSAGE_SCHEMA)).cast(MESSAGE_SCHEMA).sort(["ts", "id", "kind"])  # type: ignore[arg-type]
    return GeneratedAccount(
        dids=dids,
        bodies=bodies,
        messages=msgs,
        media=media,
        next_sms_id=next_sms,
        next_mms_id=next_mms,
    )
