"""The synthetic account: deterministic, and rich in every case a client must survive."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.render import getmms_text
from extract.voipms.sandbox.spec import AccountSpec
from tests.conftest import SANDBOX_SPEC


def test_same_spec_same_account(truth: pl.DataFrame) -> None:
    again = SandboxAccount.generate(SANDBOX_SPEC)
    assert_frame_equal(again.truth(), truth)
    other = SandboxAccount.generate(AccountSpec(**{**_spec_fields(), "seed": 8}))
    assert other.truth()["id"].to_list() != truth["id"].to_list()


def _spec_fields() -> dict[str, object]:
    spec = SANDBOX_SPEC
    return {
        "seed": spec.seed,
        "messages": spec.messages,
        "start": spec.start,
        "end": spec.end,
        "dids": spec.dids,
        "mms_share": spec.mms_share,
    }


def test_default_spec_is_a_fixed_year() -> None:
    spec = AccountSpec()
    assert (spec.start, spec.end) == (date(2024, 1, 1), date(2024, 12, 31))
    with pytest.raises(ValueError, match="end"):
        AccountSpec(start=date(2024, 2, 1), end=date(2024, 1, 1))


def test_size_kinds_and_range(truth: pl.DataFrame) -> None:
    assert truth.height == SANDBOX_SPEC.messages
    share = (truth["kind"] == "mms").mean()
    assert isinstance(share, float)
    assert 0.15 < share < 0.25
    lo = datetime(2023, 11, 1, 4, tzinfo=UTC)  # local midnight, EDT
    hi = datetime(2025, 1, 1, 5, tzinfo=UTC)  # local midnight, EST
    assert truth["sent_at"].min() == lo  # a message exactly at the first local midnight
    assert truth["sent_at"].max() == datetime(2025, 1, 1, 4, 59, 59, tzinfo=UTC)
    assert (truth["sent_at"] < hi).all()
    assert set(truth["direction"]) == {"inbound", "outbound"}
    assert (
        truth.select((pl.col("type") == 1) == (pl.col("direction") == "inbound")).to_series().all()
    )


def test_ids_are_separate_counters_that_collide(truth: pl.DataFrame) -> None:
    for kind in ("sms", "mms"):
        ids = truth.filter(pl.col("kind") == kind).sort("sent_at")["id"]
        assert ids.is_unique().all()
        assert ids.is_sorted()  # a counter: later messages get larger ids
    sms = set(truth.filter(pl.col("kind") == "sms")["id"])
    mms = set(truth.filter(pl.col("kind") == "mms")["id"])
    assert len(sms & mms) >= 3


def test_collisions_even_on_a_tiny_account() -> None:
    truth = SandboxAccount.generate(AccountSpec(seed=5, messages=60, mms_share=0.2)).truth()
    sms = set(truth.filter(pl.col("kind") == "sms")["id"])
    mms = set(truth.filter(pl.col("kind") == "mms")["id"])
    assert len(sms & mms) >= 3


def test_dids_one_in_e164_mode(sandbox_account: SandboxAccount, truth: pl.DataFrame) -> None:
    dids = sandbox_account.dids
    assert len(dids) == 3
    assert all(re.fullmatch(r"[2-9]\d{9}", d) for d in dids)
    assert sandbox_account.e164_dids == [dids[1]]
    e164 = truth.filter(pl.col("did") == dids[1])
    assert (e164["did_rendered"] == "+1" + dids[1]).all()
    nanp = e164.filter(pl.col("contact_kind") == "nanp")
    assert nanp["contact"].str.contains(r"^\+1\d{10}$").all()
    other = truth.filter((pl.col("did") != dids[1]) & (pl.col("contact_kind") == "nanp"))
    assert other["contact"].str.contains(r"^\d{10}$").all()
    assert (other["did_rendered"] == other["did"]).all()


def test_contacts_mostly_nanp_some_short_codes_and_abroad(truth: pl.DataFrame) -> None:
    counts = dict(truth["contact_kind"].value_counts().iter_rows())
    assert counts["nanp"] > 0.8 * truth.height
    assert counts["short"] > 0
    assert counts["intl"] > 0
    short = truth.filter(pl.col("contact_kind") == "short")
    assert short["contact"].str.contains(r"^\d{5,6}$").all()
    assert short["contact_e164"].equals(short["contact"])
    intl = truth.filter(pl.col("contact_kind") == "intl")
    assert intl["contact_e164"].str.contains(r"^\+[2-9]\d{7,14}$").all()
    nanp = truth.filter(pl.col("contact_kind") == "nanp")
    assert nanp["contact_e164"].str.contains(r"^\+1[2-9]\d{9}$").all()


def test_conversations_go_back_and_forth(truth: pl.DataFrame) -> None:
    pairs = truth.sort("sent_at").group_by("did", "contact_e164").agg(pl.col("type").n_unique())
    assert (pairs["type"] == 2).sum() > 0.5 * pairs.height


def test_daily_and_weekly_rhythm(truth: pl.DataFrame) -> None:
    local = truth["date_local"].str.to_datetime("%Y-%m-%d %H:%M:%S")
    hours = local.dt.hour()
    night = ((hours >= 1) & (hours < 6)).sum()
    evening = ((hours >= 17) & (hours < 22)).sum()
    assert night * 4 < evening
    weekday = local.dt.weekday()  # 1 = Monday
    assert (weekday >= 6).sum() / 2 < (weekday <= 5).sum() / 5


def test_edge_timestamps(truth: pl.DataFrame) -> None:
    specials = truth.filter(pl.col("special").is_not_null())
    labels = set(specials["special"])
    assert {
        "dst_autumn_repeat_first",
        "dst_autumn_repeat_second",
        "dst_spring_before_gap",
        "dst_spring_after_gap",
        "window_92_start",
        "window_92_end",
        "midnight_start",
        "midnight_end",
    } <= labels
    # the repeated autumn hour: same local text, an hour apart in UTC
    autumn = specials.filter(pl.col("local_date") == date(2024, 11, 3))
    first = autumn.filter(pl.col("special") == "dst_autumn_repeat_first")
    second = autumn.filter(pl.col("special") == "dst_autumn_repeat_second")
    assert set(first["date_local"]) == set(second["date_local"])
    assert first["sent_at"].max() < second["sent_at"].min()
    assert autumn.filter(pl.col("local_ambiguous"))["special"].str.contains("repeat").all()
    assert set(truth.filter(pl.col("local_ambiguous"))["special"]) == {
        "dst_autumn_repeat_first",
        "dst_autumn_repeat_second",
    }
    # nothing in the spring gap
    spring = truth.filter(pl.col("local_date") == date(2024, 3, 10))
    assert not spring["date_local"].str.contains(" 02:").any()
    assert "2024-03-10 01:59:59" in set(spring["date_local"])
    assert "2024-03-10 03:00:00" in set(spring["date_local"])
    # 92-day window boundaries counted from start
    boundary = date(2024, 2, 1)  # 2023-11-01 + 92 days
    assert f"{boundary} 00:00:00" in set(truth["date_local"])
    assert "2024-01-31 23:59:59" in set(truth["date_local"])


def test_bodies_cover_scripts_emoji_and_awkward_characters(truth: pl.DataFrame) -> None:
    bodies = truth["body"]
    for pattern in (
        "[\u0400-\u04ff]",  # Cyrillic
        "[\u0370-\u03ff]",  # Greek
        "[\u0600-\u06ff]",  # Arabic
        "[\u0590-\u05ff]",  # Hebrew
        "[\u4e00-\u9fff]",  # CJK
        "[\u0900-\u097f]",  # Devanagari
        "[\u0e00-\u0e7f]",  # Thai
        "[éèàçñü]",
        "\u200d",  # ZWJ sequences
        "[\U0001f1e6-\U0001f1ff]{2}",  # flags
        "\n",
        r"\+",
        "%",
        "&",
        '"',
        "'",
        r"\\",
        "<",
    ):
        assert bodies.str.contains(pattern).any(), pattern
    lengths = bodies.str.len_chars()
    sms_lengths = lengths.filter(truth["kind"] == "sms")
    assert sms_lengths.max() <= 1600
    assert (sms_lengths > 1000).any()
    assert lengths.max() <= 2048


def test_empty_rows_and_media_shapes(truth: pl.DataFrame) -> None:
    empty_sms = truth.filter((pl.col("kind") == "sms") & (pl.col("body") == ""))
    empty_mms = truth.filter(
        (pl.col("kind") == "mms") & (pl.col("body") == "") & (pl.col("media_count") == 0)
    )
    text_only = truth.filter(
        (pl.col("kind") == "mms") & (pl.col("body") != "") & (pl.col("media_count") == 0)
    )
    assert empty_sms.height >= 2
    assert empty_mms.height >= 2
    assert text_only.height >= 2
    assert truth["media_count"].max() == 6
    assert (truth["media_count"] > 3).sum() >= 2
    assert (truth.filter(pl.col("kind") == "sms")["media_count"] == 0).all()


def test_segmented_texts(truth: pl.DataFrame) -> None:
    parts = truth.filter(pl.col("segment_group").is_not_null()).sort("id")
    assert parts.height >= 4
    for _, group in parts.group_by("segment_group"):
        assert group.height == group["segment_count"][0] >= 2
        assert group["segment_index"].sort().to_list() == list(range(1, group.height + 1))
        assert group["id"].n_unique() == group.height  # each part its own id
        assert (group["direction"] == "inbound").all()
        assert (group["kind"] == "sms").all()
        assert group["contact"].n_unique() == 1


def test_carrier_statuses_are_free_text(truth: pl.DataFrame) -> None:
    outbound = set(truth.filter(pl.col("direction") == "outbound")["carrier_status"])
    assert {
        "Delivered",
        "DELIVRD",
        "Message sent",
        "Failed",
        "Information not available",
    } <= outbound
    inbound = truth.filter(pl.col("direction") == "inbound")["carrier_status"]
    assert inbound.is_in(["", "Information not available"]).mean() > 0.9  # type: ignore[operator]


def test_truth_renderings_match_the_rules(truth: pl.DataFrame) -> None:
    from urllib.parse import quote_plus

    sample = truth.sample(300, seed=1)
    for body, sms, mms in sample.select("body", "message_getsms", "message_getmms").iter_rows():
        assert sms == quote_plus(body)
        assert mms == quote_plus(getmms_text(body))


def test_getmms_text_rule() -> None:
    text = 'Café ☕ naïve — 😀 Привет 你好 "q" it\'s a\\b 1+1 <b> &amp; ÿ\x85'
    assert getmms_text(text) == (
        'Caf&eacute;  na&iuml;ve     \\"q\\" it\\\'s a\\\\b 1+1 <b> &amp; &yuml;&#133;'
    )


def test_truth_media(sandbox_account: SandboxAccount, truth: pl.DataFrame) -> None:
    media = sandbox_account.truth_media()
    counts = truth.filter(pl.col("media_count") > 0).select("id", "media_count")
    per_message = media.group_by("message_id").agg(pl.len().alias("n"), pl.col("position").max())
    joined = counts.join(per_message, left_on="id", right_on="message_id")
    assert joined.height == counts.height
    assert (joined["media_count"] == joined["n"]).all()
    assert (joined["n"] == joined["position"]).all()
    assert set(media["content_type"]) == {
        "image/jpeg",
        "image/png",
        "image/gif",
        "video/mp4",
        "video/3gpp",
        "audio/mpeg",
        "audio/wav",
        "audio/amr",
        "audio/midi",
    }
    assert set(media["url_form"]) == {"map", "path"}
    expired = media.filter(pl.col("expired"))
    assert 0 < expired.height < 0.1 * media.height
    assert expired["sha256"].is_null().all()
    alive = media.filter(~pl.col("expired"))
    assert alive["sha256"].is_not_null().all()
    dup_keys = alive.filter(pl.col("content_key").is_duplicated())
    assert dup_keys.height >= 2  # deliberate duplicates share their bytes
    assert dup_keys.group_by("content_key").agg(pl.col("sha256").n_unique())["sha256"].max() == 1
    assert alive.unique("content_key")["sha256"].is_unique().all()


@pytest.fixture(scope="module")
def sandbox_account(sandbox: object) -> SandboxAccount:
    from extract.voipms.sandbox.server import SandboxServer

    assert isinstance(sandbox, SandboxServer)
    return sandbox.account
