"""The media tokens' instants tell whether VOIPMS_ACCOUNT_TIMEZONE reads the API's dates right."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from extract.voipms.sandbox.account import MessageQuery, SandboxAccount
from extract.voipms.sandbox.spec import AccountSpec
from tests.transform.api_rows import mms_row, run, sms_row
from transform.api_zone import token_seconds, zone_disagreement
from transform.raw import raw_frame
from transform.reconcile import reconcile

SPEC = AccountSpec(seed=19, messages=600, start=date(2024, 1, 1), end=date(2024, 12, 31))


@pytest.fixture(scope="module")
def answers() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The sandbox's getSMS (all messages) and getMMS answers for 2024, as raw frames."""
    account = SandboxAccount.generate(SPEC)

    def rows(kinds: tuple[str, ...], method: str) -> list[dict[str, object]]:
        query = MessageQuery(kinds=kinds, first_day=SPEC.start, last_day=SPEC.end, limit=10**9)
        rendered = account.render_rows(account.select(query), method, "http://sandbox", None)
        answer: list[dict[str, object]] = json.loads(rendered)
        return answer

    return (
        raw_frame(rows(("sms", "mms"), "getsms"), "getSMS"),
        raw_frame(rows(("mms",), "getmms"), "getMMS"),
    )


@pytest.mark.parametrize(
    ("zone", "off_by"),
    [
        ("America/New_York", None),  # the zone the API writes its dates in
        ("America/Chicago", timedelta(hours=1)),  # read an hour west: every sent_at an hour late
        ("Europe/Paris", timedelta(hours=-6)),  # summer and winter both: New York and Paris
        # change on different weeks, the median is the usual 6 hours
    ],
)
def test_a_zone_other_than_the_apis_is_told_by_how_far_off(
    answers: tuple[pl.DataFrame, pl.DataFrame], zone: str, off_by: timedelta | None
) -> None:
    sms, mms = answers
    frames = reconcile(sms, mms, provider="voipms", account="a", timezone=zone)
    assert frames.media.height > 50  # enough tokens to tell
    assert zone_disagreement(frames.messages, frames.media) == off_by


def test_token_seconds_reads_both_url_forms_and_nothing_else() -> None:
    token = base64.b64encode(b"1704085200f00d|1|image/png|MMS").decode()
    urls = pl.DataFrame(
        {
            "url": [
                f"https://voip.ms/media.php?map={token.replace('=', '%3D')}",
                f"https://voip.ms/media/{token}/media.png",
                "https://voip.ms/media.php?map=not-base64!",
                "https://example.com/picture.png",
                None,
            ]
        }
    )
    seconds = urls.select(token_seconds(pl.col("url"))).to_series().to_list()
    assert seconds == [1704085200, 1704085200, None, None, None]
    assert datetime.fromtimestamp(1704085200, UTC) == datetime(2024, 1, 1, 5, tzinfo=UTC)


def test_no_tokens_tell_nothing() -> None:
    messages = pl.DataFrame(
        {"kind": ["mms"], "message_id": ["1"], "sent_at": [datetime(2024, 1, 1, tzinfo=UTC)]}
    )
    media = pl.DataFrame({"message_id": ["1"], "url": ["https://example.com/a.png"]})
    assert zone_disagreement(messages, media) is None


def test_an_mms_in_the_repeated_hour_is_dated_by_its_token_and_agrees_with_it() -> None:
    # the night New York falls back: an SMS at 01:50 daylight time (05:50Z), then an MMS at
    # 01:10 standard time (06:10Z). The counters are unrelated, so ids cannot order them; the
    # MMS's token can, and the zone is then not taken for wrong.
    at = datetime(2024, 11, 3, 6, 10, tzinfo=UTC)
    token = base64.b64encode(f"{int(at.timestamp())}f00d|1|image/png|MMS".encode()).decode()
    url = f"https://voip.ms/media/{token}/media.png"
    sms = [sms_row("900", "2024-11-03 01:50:00"), sms_row("5", "2024-11-03 01:10:00")]
    mms = [mms_row("5", "2024-11-03 01:10:00", media=[url])]
    frames = run(sms, mms)  # getSMS lists the MMS too, as the API does
    sent = dict(frames.messages.select("message_id", "sent_at").iter_rows())
    assert sent == {"900": datetime(2024, 11, 3, 5, 50, tzinfo=UTC), "5": at}
    assert zone_disagreement(frames.messages, frames.media) is None


def test_odd_links_each_off_its_own_way_do_not_make_a_wrong_zone() -> None:
    at = datetime(2024, 3, 5, 15, tzinfo=UTC)
    offsets = [timedelta(0)] * 18 + [timedelta(minutes=40), timedelta(hours=3)]
    ids = [str(n) for n in range(len(offsets))]
    messages = pl.DataFrame(
        {
            "kind": ["mms"] * len(ids),
            "message_id": ids,
            "sent_at": [at + off for off in offsets],
        }
    )
    token = base64.b64encode(f"{int(at.timestamp())}f00d|1|image/png|MMS".encode()).decode()
    media = pl.DataFrame(
        {"message_id": ids, "url": [f"https://voip.ms/media/{token}/media.png"] * len(ids)}
    )
    assert zone_disagreement(messages, media) is None
    # two off by the same hour, out of twenty: that is a zone
    messages = messages.with_columns(
        sent_at=pl.Series([at] * 18 + [at + timedelta(hours=1)] * 2).dt.convert_time_zone("UTC")
    )
    assert zone_disagreement(messages, media) == timedelta(hours=1)
