"""End to end against the sandbox's ground truth: its rendered rows reconcile to its messages."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import polars as pl
import pytest

from extract.voipms.sandbox.account import MessageQuery, SandboxAccount
from extract.voipms.sandbox.spec import AccountSpec
from transform.body import body_from_raw
from transform.raw import raw_frame
from transform.reconcile import Reconciled, reconcile

SPEC = AccountSpec(
    seed=11, messages=2500, start=date(2023, 10, 1), end=date(2024, 12, 31), mms_share=0.2
)
KIND_NAMES = {"nanp": "nanp", "short": "short_code", "intl": "international"}


@pytest.fixture(scope="module")
def account() -> SandboxAccount:
    return SandboxAccount.generate(SPEC)


def _rows(account: SandboxAccount, kinds: tuple[str, ...], method: str) -> list[dict[str, object]]:
    query = MessageQuery(kinds=kinds, first_day=SPEC.start, last_day=SPEC.end, limit=10**9)
    rows: list[dict[str, object]] = json.loads(
        account.render_rows(account.select(query), method, "http://sandbox", None)
    )
    return rows


@pytest.fixture(scope="module")
def result(account: SandboxAccount) -> Reconciled:
    sms = raw_frame(_rows(account, ("sms", "mms"), "getsms"), "getSMS")
    mms = raw_frame(_rows(account, ("mms",), "getmms"), "getMMS")
    return reconcile(sms, mms, provider="voipms", account="a", timezone="America/New_York")


@pytest.fixture(scope="module")
def compared(account: SandboxAccount, result: Reconciled) -> pl.DataFrame:
    truth = account.truth().select(
        "kind",
        "special",
        message_id=pl.col("id").cast(pl.Utf8),
        true_sent_at="sent_at",
        true_body="body",
        true_direction="direction",
        true_contact="contact_e164",
        true_contact_kind=pl.col("contact_kind").replace_strict(KIND_NAMES),
        true_media_count=pl.col("media_count").cast(pl.Int32),
        true_carrier_status="carrier_status",
    )
    assert truth.height == result.messages.height
    return truth.join(result.messages, on=["kind", "message_id"], how="inner", validate="1:1")


def test_every_message_comes_back_once_and_nothing_is_rejected(
    result: Reconciled, compared: pl.DataFrame
) -> None:
    assert compared.height == result.messages.height
    assert result.rejected.height == 0
    assert result.duplicates == 0
    assert result.matched == compared.filter(pl.col("kind") == "mms").height


@pytest.mark.parametrize(
    ("column", "truth"),
    [
        ("body", "true_body"),
        ("direction", "true_direction"),
        ("contact", "true_contact"),
        ("contact_kind", "true_contact_kind"),
        ("media_count", "true_media_count"),
        ("carrier_status", "true_carrier_status"),
    ],
)
def test_columns_match_the_truth(compared: pl.DataFrame, column: str, truth: str) -> None:
    wrong = compared.filter(pl.col(column) != pl.col(truth))
    assert wrong.select("kind", "message_id", column, truth).rows() == []


def test_instants_match_except_the_documented_repeated_hour_fallback(
    compared: pl.DataFrame,
) -> None:
    wrong = compared.filter(pl.col("sent_at") != pl.col("true_sent_at"))
    # only a second-pass row whose kind saw no first-pass row before it that night
    assert (
        wrong.filter(
            (pl.col("special") != "dst_autumn_repeat_second")
            | (pl.col("true_sent_at") - pl.col("sent_at") != timedelta(hours=1))
        ).rows()
        == []
    )
    assert compared.filter(pl.col("special") == "dst_autumn_repeat_second").height > wrong.height


def test_media_rows_match_the_truth(account: SandboxAccount, result: Reconciled) -> None:
    truth = account.truth_media().select(
        message_id=pl.col("message_id").cast(pl.Utf8),
        position=pl.col("position").cast(pl.Int32),
        url=pl.lit("http://sandbox") + pl.col("url_path"),
    )
    assert (
        result.media.select("message_id", "position", "url").sort("message_id", "position").rows()
        == truth.sort("message_id", "position").rows()
    )


def test_getmms_text_decodes_to_the_latin1_part_of_the_body(account: SandboxAccount) -> None:
    truth = account.truth().filter(~pl.col("body").str.contains("&", literal=True))
    decoded = body_from_raw(truth["message_getmms"], source="getMMS")
    expected = [re.sub("[^\x00-\xff]", "", body) for body in truth["body"].to_list()]
    assert decoded.to_list() == expected
