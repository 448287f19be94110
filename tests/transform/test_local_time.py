"""Naive local `date` to UTC: parsing, the spring gap, the repeated autumn hour by id order."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from tests.transform.api_rows import utc
from transform.local_time import exists_locally, local_datetime, sent_at_readings

NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-15 10:24:16", datetime(2024, 1, 15, 10, 24, 16)),
        (" 2024-01-15 10:24:16 ", datetime(2024, 1, 15, 10, 24, 16)),
        ("2024-02-29 00:00:00", datetime(2024, 2, 29)),
        ("2023-02-29 00:00:00", None),
        ("2024-02-30 00:00:00", None),
        ("2024-01-01 24:00:00", None),
        ("2024-1-1 0:0:0", None),
        ("2024-01-01T00:00:00", None),
        ("2024-01-01", None),
        ("1706000000", None),
        ("", None),
        (None, None),
    ],
)
def test_local_datetime(raw: str | None, expected: datetime | None) -> None:
    frame = pl.DataFrame({"date": [raw]}, schema={"date": pl.Utf8})
    assert frame.select(local_datetime(pl.col("date"))).item() == expected


def test_spring_gap_does_not_exist() -> None:
    frame = pl.DataFrame(
        {"local": [datetime(2024, 3, 10, 1, 59, 59), datetime(2024, 3, 10, 2, 30), None]},
        schema={"local": pl.Datetime("us")},
    ).with_columns(datetime_3am=pl.lit(datetime(2024, 3, 10, 3)))
    got = frame.select(
        exists_locally(pl.col("local"), NEW_YORK),
        exists_locally(pl.col("datetime_3am"), NEW_YORK).alias("three"),
    )
    assert got.rows() == [(True, True), (False, True), (None, True)]


def _sent_at(rows: list[tuple[str, str, str]], timezone: str = NEW_YORK) -> list[datetime]:
    frame = pl.DataFrame(rows, schema=["kind", "id", "date"], orient="row").with_columns(
        local=local_datetime(pl.col("date"))
    )
    got = sent_at_readings(frame, timezone=timezone, local="local", order="id", group="kind")[
        "sent_at"
    ]
    assert got.dtype == pl.Datetime("us", "UTC")
    return got.to_list()


def test_ordinary_times_summer_winter_and_midnight() -> None:
    assert _sent_at(
        [
            ("sms", "1", "2024-01-01 00:00:00"),
            ("sms", "2", "2024-07-01 00:00:00"),
            ("sms", "3", "2024-12-31 23:59:59"),
            ("sms", "4", "2024-03-10 03:00:00"),  # first instant after the gap
            ("sms", "5", "2024-11-03 02:00:00"),  # first instant after the repeat
        ]
    ) == [
        utc(2024, 1, 1, 5),
        utc(2024, 7, 1, 4),
        utc(2025, 1, 1, 4, 59, 59),
        utc(2024, 3, 10, 7),
        utc(2024, 11, 3, 7),
    ]


def test_repeated_hour_second_pass_found_by_id_order() -> None:
    # ids grow with time: 01:10, 01:50 (daylight), then 01:05, 01:55 again (standard)
    assert _sent_at(
        [
            ("sms", "101", "2024-11-03 01:10:00"),
            ("sms", "102", "2024-11-03 01:50:00"),
            ("sms", "103", "2024-11-03 01:05:00"),
            ("sms", "104", "2024-11-03 01:55:00"),
            ("sms", "105", "2024-11-03 02:10:00"),
        ]
    ) == [
        utc(2024, 11, 3, 5, 10),
        utc(2024, 11, 3, 5, 50),
        utc(2024, 11, 3, 6, 5),
        utc(2024, 11, 3, 6, 55),
        utc(2024, 11, 3, 7, 10),
    ]


def test_one_sms_delivered_late_in_the_first_pass_moves_no_other_row() -> None:
    # 103 was delivered after 102 but written earlier on the clock; 104 and 105 go on in the
    # first pass, and only 106 steps back into the second
    assert _sent_at(
        [
            ("sms", "101", "2024-11-03 01:10:00"),
            ("sms", "102", "2024-11-03 01:20:00"),
            ("sms", "103", "2024-11-03 01:05:00"),
            ("sms", "104", "2024-11-03 01:30:00"),
            ("sms", "105", "2024-11-03 01:40:00"),
            ("sms", "106", "2024-11-03 01:02:00"),
            ("sms", "107", "2024-11-03 01:15:00"),
        ]
    ) == [
        utc(2024, 11, 3, 5, 10),
        utc(2024, 11, 3, 5, 20),
        utc(2024, 11, 3, 5, 5),
        utc(2024, 11, 3, 5, 30),
        utc(2024, 11, 3, 5, 40),
        utc(2024, 11, 3, 6, 2),
        utc(2024, 11, 3, 6, 15),
    ]


def test_id_order_is_numeric_and_input_order_does_not_matter() -> None:
    # "99" < "100" as numbers; rows arrive newest first, as the API sends them
    assert _sent_at(
        [
            ("sms", "100", "2024-11-03 01:20:00"),
            ("sms", "99", "2024-11-03 01:40:00"),
        ]
    ) == [utc(2024, 11, 3, 6, 20), utc(2024, 11, 3, 5, 40)]


def test_repeated_hour_without_a_step_back_takes_the_earliest() -> None:
    assert _sent_at(
        [
            ("sms", "7", "2024-11-03 01:30:00"),
            ("sms", "8", "2024-11-03 01:45:00"),
            ("sms", "9", "2024-11-03 01:45:00"),  # same second is not a step back
        ]
    ) == [utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 5, 45), utc(2024, 11, 3, 5, 45)]


def test_kinds_have_separate_counters() -> None:
    # the MMS counter is unrelated: MMS 5 is not "after" SMS 900 in time
    assert _sent_at(
        [
            ("sms", "900", "2024-11-03 01:50:00"),
            ("sms", "901", "2024-11-03 01:10:00"),
            ("mms", "5", "2024-11-03 01:20:00"),
        ]
    ) == [utc(2024, 11, 3, 5, 50), utc(2024, 11, 3, 6, 10), utc(2024, 11, 3, 5, 20)]


def test_each_autumn_is_resolved_on_its_own() -> None:
    assert _sent_at(
        [
            ("sms", "1", "2023-11-05 01:50:00"),
            ("sms", "2", "2023-11-05 01:10:00"),
            ("sms", "3", "2024-11-03 01:30:00"),
        ]
    ) == [utc(2023, 11, 5, 5, 50), utc(2023, 11, 5, 6, 10), utc(2024, 11, 3, 5, 30)]


def test_other_zones() -> None:
    assert _sent_at([("sms", "1", "2024-07-01 12:00:00")], "Europe/Paris") == [utc(2024, 7, 1, 10)]
    assert _sent_at([("sms", "1", "2024-07-01 12:00:00")], "UTC") == [utc(2024, 7, 1, 12)]
    assert _sent_at(
        [("sms", "1", "2024-10-27 02:40:00"), ("sms", "2", "2024-10-27 02:10:00")],
        "Europe/Paris",
    ) == [utc(2024, 10, 27, 0, 40), utc(2024, 10, 27, 1, 10)]


def test_a_null_local_time_stays_null_and_an_empty_frame_is_empty() -> None:
    frame = pl.DataFrame(
        {
            "kind": ["sms"] * 3,
            "id": ["1", "2", "3"],
            "local": [datetime(2024, 11, 3, 1, 50), datetime(2024, 11, 3, 1, 10), None],
        }
    )
    got = sent_at_readings(frame, timezone=NEW_YORK, local="local", order="id", group="kind")
    assert got["sent_at"].to_list() == [utc(2024, 11, 3, 5, 50), utc(2024, 11, 3, 6, 10), None]
    # each ambiguous row names the reading it did not take
    assert got["sent_at_other_reading"].to_list() == [
        utc(2024, 11, 3, 6, 50),
        utc(2024, 11, 3, 5, 10),
        None,
    ]
    empty = sent_at_readings(
        frame.clear(), timezone=NEW_YORK, local="local", order="id", group="kind"
    )
    assert empty.height == 0
    assert empty.columns == ["sent_at", "sent_at_other_reading"]


def _told_readings(rows: list[tuple[str, str, datetime | None]]) -> pl.DataFrame:
    """sent_at_readings of MMS rows (id, local date, the instant their token tells or None)."""
    frame = pl.DataFrame(
        [(id_, date, None if at is None else int(at.timestamp())) for id_, date, at in rows],
        schema={"id": pl.Utf8, "date": pl.Utf8, "told": pl.Int64},
        orient="row",
    ).with_columns(kind=pl.lit("mms"), local=local_datetime(pl.col("date")))
    return sent_at_readings(
        frame, timezone=NEW_YORK, local="local", order="id", group="kind", told="told"
    )


def _told_sent_at(rows: list[tuple[str, str, datetime | None]]) -> list[datetime]:
    """sent_at of MMS rows (id, local date, the instant their token tells or None)."""
    return _told_readings(rows)["sent_at"].to_list()


def test_a_told_instant_decides_the_pass_where_the_ids_cannot() -> None:
    # 200 in the first pass, 201 in the second but later on the clock: no step back to see
    assert _told_sent_at(
        [
            ("200", "2024-11-03 01:10:00", utc(2024, 11, 3, 5, 10)),
            ("201", "2024-11-03 01:40:00", utc(2024, 11, 3, 6, 40)),
        ]
    ) == [utc(2024, 11, 3, 5, 10), utc(2024, 11, 3, 6, 40)]
    # one second on the clock, once in each pass
    assert _told_sent_at(
        [
            ("300", "2024-11-03 01:30:00", utc(2024, 11, 3, 5, 30)),
            ("301", "2024-11-03 01:30:00", utc(2024, 11, 3, 6, 30)),
        ]
    ) == [utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 6, 30)]


def test_a_told_second_pass_carries_to_later_ids_and_a_told_first_pass_stays() -> None:
    assert _told_sent_at(
        [
            ("400", "2024-11-03 01:50:00", utc(2024, 11, 3, 5, 50)),  # told: first pass
            ("401", "2024-11-03 01:10:00", utc(2024, 11, 3, 6, 10)),  # told: second pass
            ("402", "2024-11-03 01:45:00", None),  # after a second-pass id: second pass
        ]
    ) == [utc(2024, 11, 3, 5, 50), utc(2024, 11, 3, 6, 10), utc(2024, 11, 3, 6, 45)]
    # told the first pass, it is taken so though an earlier id is later on the clock
    # (the ids are the weaker evidence)
    assert _told_sent_at(
        [
            ("500", "2024-11-03 01:50:00", None),
            ("501", "2024-11-03 01:20:00", utc(2024, 11, 3, 5, 20)),
        ]
    ) == [utc(2024, 11, 3, 5, 50), utc(2024, 11, 3, 5, 20)]


def _other_readings(rows: list[tuple[str, str, datetime | None]]) -> list[datetime | None]:
    """sent_at_other_reading of MMS rows (id, local date, the instant a token tells or None)."""
    return _told_readings(rows)["sent_at_other_reading"].to_list()


def test_the_other_reading_is_named_where_no_token_told_the_pass() -> None:
    # 103 steps back: it is in the second pass, 101 and 102 before it in the first; each
    # names the reading it did not take, which an archived one of theirs keeps
    assert _other_readings(
        [
            ("101", "2024-11-03 01:10:00", None),
            ("102", "2024-11-03 01:50:00", None),
            ("103", "2024-11-03 01:05:00", None),
            ("104", "2024-11-03 02:10:00", None),  # not ambiguous
        ]
    ) == [utc(2024, 11, 3, 6, 10), utc(2024, 11, 3, 6, 50), utc(2024, 11, 3, 5, 5), None]
    # a token tells 201's instant: it names none, and may move an archived one
    assert _other_readings(
        [
            ("200", "2024-11-03 01:10:00", None),
            ("201", "2024-11-03 01:40:00", utc(2024, 11, 3, 6, 40)),
        ]
    ) == [utc(2024, 11, 3, 6, 10), None]


def test_a_told_second_pass_starts_it_for_later_ids_the_clock_alone_would_not() -> None:
    # 401 is later on the clock than 400: only 400's token puts 401 after the fall back
    assert _told_sent_at(
        [
            ("400", "2024-11-03 01:10:00", utc(2024, 11, 3, 6, 10)),
            ("401", "2024-11-03 01:40:00", None),
        ]
    ) == [utc(2024, 11, 3, 6, 10), utc(2024, 11, 3, 6, 40)]


def test_a_token_far_from_both_readings_tells_nothing() -> None:
    # a day off (a zone set wrong): the ids decide, as with no token
    assert _told_sent_at(
        [
            ("600", "2024-11-03 01:50:00", None),
            ("601", "2024-11-03 01:10:00", utc(2024, 11, 4, 6, 10)),
            ("602", "2024-11-03 01:20:00", utc(2024, 11, 2, 5, 20)),
        ]
    ) == [utc(2024, 11, 3, 5, 50), utc(2024, 11, 3, 6, 10), utc(2024, 11, 3, 6, 20)]
