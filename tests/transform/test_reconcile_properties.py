"""Properties of reconcile over random, often broken, raw rows: nothing lost, nothing invented."""

from __future__ import annotations

from urllib.parse import quote_plus

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from transform.raw import raw_frame
from transform.reconcile import reconcile
from transform.schemas import MEDIA_SCHEMA, MESSAGES_SCHEMA, REJECTED_SCHEMA

_MISSING = object()

ids = st.one_of(
    st.integers(1, 40).map(str),
    st.integers(1, 40),
    st.sampled_from(["", " 7 ", "x1", "-3", "1.5", "00012"]),
    st.none(),
    st.just(_MISSING),
)
dates = st.one_of(
    st.sampled_from(
        [
            "2024-01-15 10:24:16",
            "2024-03-10 02:30:00",  # spring gap
            "2024-03-10 03:00:00",
            "2024-11-03 01:15:00",  # repeated hour
            "2024-11-03 01:45:00",
            "2024-12-31 23:59:59",
            "2024-02-30 00:00:00",
            "0000-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "yesterday",
            "",
        ]
    ),
    st.builds("2024-11-03 01:{:02d}:{:02d}".format, st.integers(0, 59), st.integers(0, 59)),
    st.integers(),
    st.none(),
    st.just(_MISSING),
)
types = st.sampled_from(["0", "1", 0, 1, "2", "", None, True, _MISSING])
numbers = st.sampled_from(
    ["5145550100", "+15145550100", "4165550199", "262966", "447911123456", "", None, _MISSING]
)
messages = st.one_of(
    st.text(max_size=30),
    st.text(max_size=30).map(quote_plus),
    st.sampled_from(["%E2%8", "%FF", "%%", '\\"', "&eacute;", "+", "%2B"]),
    st.none(),
    st.integers(),
)
media = st.one_of(
    st.lists(st.sampled_from(["", "https://h/a.jpg", "https://h/b.png", None]), max_size=6),
    st.dictionaries(st.sampled_from(["1", "2", "3", "x"]), st.sampled_from(["", "u"])),
    st.sampled_from(["", "u", None, 5]),
    st.just(_MISSING),
)


contacts = st.sampled_from(["4165550199", "+14165550199", "262966", "447911123456"])
good_dates = st.sampled_from(
    ["2024-01-15 10:24:16", "2024-11-03 01:15:00", "2024-11-03 01:45:00", "2024-07-01 00:00:00"]
)


@st.composite
def rows(draw: st.DrawFn, *, with_media: bool) -> dict[str, object]:
    readable = draw(st.booleans())
    fields: dict[str, object] = {
        "id": draw(st.integers(1, 30).map(str) if readable else ids),
        "date": draw(good_dates if readable else dates),
        "type": draw(st.sampled_from(["0", "1"]) if readable else types),
        "did": draw(st.sampled_from(["5145550100", "+15145550100"]) if readable else numbers),
        "contact": draw(contacts if readable else numbers),
        "message": draw(messages),
        "carrier_status": draw(st.sampled_from(["", "Delivered", "zzz", None, _MISSING])),
    }
    if with_media:
        fields["media"] = draw(media)
        fields["col_media1"] = draw(st.sampled_from(["", "https://h/c.gif", None, _MISSING]))
    if draw(st.booleans()):
        fields["extra"] = draw(st.sampled_from([[1], {"a": "b"}, "x"]))
    return {key: value for key, value in fields.items() if value is not _MISSING}


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    sms = draw(st.lists(rows(with_media=False), max_size=25))
    mms = draw(st.lists(rows(with_media=True), max_size=15))
    # the MMS of some getSMS rows, and repeats of some rows (overlapping windows)
    for row in draw(st.lists(st.sampled_from(sms), max_size=8)) if sms else []:
        partner = {**row, "media": draw(media), "message": draw(messages)}
        mms.append({key: value for key, value in partner.items() if value is not _MISSING})
    for row in draw(st.lists(st.sampled_from(sms), max_size=5)) if sms else []:
        sms.append(dict(row))
    return sms, mms


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batches())
def test_every_row_is_accounted_for(batch: tuple[list[dict[str, object]], ...]) -> None:
    sms, mms = batch
    half = len(sms) // 2  # frames of several chunks, as concatenated windows give
    result = reconcile(
        pl.concat([raw_frame(sms[:half], "getSMS"), raw_frame(sms[half:], "getSMS")]),
        raw_frame(mms, "getMMS"),
        provider="voipms",
        account="a",
        timezone="America/New_York",
    )
    messages = result.messages
    assert result.rows_accounted == len(sms) + len(mms)
    event(f"matched>0: {result.matched > 0}")
    event(f"duplicates>0: {result.duplicates > 0}")
    event(f"rejected>0: {result.rejected.height > 0}")
    event(f"media>0: {result.media.height > 0}")
    assert min(result.duplicates, result.matched) >= 0
    assert messages.schema == MESSAGES_SCHEMA
    assert result.media.schema == MEDIA_SCHEMA
    assert result.rejected.schema == REJECTED_SCHEMA
    assert messages.select("kind", "message_id").is_unique().all()
    # nullable: body_raw, and the other instant of a repeated hour where the pass is a guess
    assert (
        messages.drop("body_raw", "sent_at_other_reading").null_count().sum_horizontal().item() == 0
    )
    assert result.rejected.null_count().sum_horizontal().item() == 0
    mms_ids = set(messages.filter(pl.col("kind") == "mms")["message_id"].to_list())
    assert set(result.media["message_id"].to_list()) <= mms_ids
    assert int(messages["media_count"].sum()) == result.media.height
    assert result.media.select("message_id", "position").is_unique().all()
