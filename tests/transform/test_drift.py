"""Provider drift: unknown fields, changed JSON types and unmapped statuses become notices."""

from __future__ import annotations

import polars as pl

from transform.drift import Notice, answer_drift, status_drift


def test_unknown_fields_are_noticed_with_their_method() -> None:
    rows: list[object] = [
        {"id": "1", "date": "x", "media": [], "col_media1": ""},
        {"id": "2", "read": "1", "sms_type": "x"},
        "not a row",
    ]
    assert answer_drift(rows, "getSMS") == {
        Notice("unknown_field", "getSMS.read"),
        Notice("unknown_field", "getSMS.sms_type"),
    }
    assert answer_drift([], "getSMS") == set()


def test_a_field_of_another_json_type_is_noticed_once() -> None:
    rows: list[object] = [{"id": i, "type": "1", "media": "x", "message": None} for i in range(500)]
    assert answer_drift(rows, "getMMS") == {
        Notice("changed_type", "getMMS.id", "number, not string"),
        Notice("changed_type", "getMMS.media", "string, not array"),
    }


def test_the_type_check_samples_big_answers_but_sees_systematic_drift() -> None:
    rows: list[object] = [{"id": str(i), "did": 5145550100} for i in range(100_000)]
    assert answer_drift(rows, "getSMS") == {
        Notice("changed_type", "getSMS.did", "number, not string")
    }


def test_unmapped_statuses_are_noticed_and_known_ones_are_not() -> None:
    messages = pl.DataFrame(
        {
            "carrier_status": ["Delivered", "Quantum entangled", None, "", "Quantum entangled"],
            "direction": ["outbound"] * 5,
        }
    )
    assert status_drift(messages) == {Notice("unmapped_status", "Quantum entangled")}


def test_a_notice_reads_as_one_line() -> None:
    notice = Notice("unknown_error", "getSMS: new_code", "window 2024-01-01..2024-04-01")
    assert notice.describe() == (
        "an error code this version does not know: 'getSMS: new_code' "
        "(window 2024-01-01..2024-04-01)"
    )
    assert notice.as_row() == ("unknown_error", "getSMS: new_code", "window 2024-01-01..2024-04-01")
