"""Media entries: the whole `media` array, col_media1..3 as fallback, positions as given."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from transform.media import COL_MEDIA, media_count, media_entries, media_rows


def _frame(
    media: list[list[str] | None], cols: list[tuple[str | None, str | None, str | None]]
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "message_id": [str(i) for i in range(len(media))],
            "media": media,
            **{name: [c[i] for c in cols] for i, name in enumerate(COL_MEDIA)},
        },
        schema={
            "message_id": pl.Utf8,
            "media": pl.List(pl.Utf8),
            **dict.fromkeys(COL_MEDIA, pl.Utf8),
        },
    )


def test_entries_counts_and_rows() -> None:
    frame = _frame(
        [
            ["a", "b", "c", "d", "e"],  # more than three: all of them
            None,  # no media array: col_media1..3
            ["", "", ""],  # array without a URL: col_media1..3 again
            ["", "b", " "],  # empty entries dropped, positions kept as given
            ["", "", ""],  # nothing anywhere
        ],
        [
            ("a", "b", "c"),
            ("x", "", "z"),
            ("q", None, ""),
            ("", "b", ""),
            ("", "", ""),
        ],
    ).with_columns(entries=media_entries(pl.col("media"), tuple(pl.col(c) for c in COL_MEDIA)))

    counts = frame.select(media_count(pl.col("entries"))).to_series().to_list()
    assert counts == [5, 2, 1, 1, 0]

    rows = media_rows(frame, entries="entries", keys=("message_id",))
    expected = pl.DataFrame(
        {
            "message_id": ["0", "0", "0", "0", "0", "1", "1", "2", "3"],
            "position": [1, 2, 3, 4, 5, 1, 3, 1, 2],
            "url": ["a", "b", "c", "d", "e", "x", "z", "q", "b"],
        },
        schema={"message_id": pl.Utf8, "position": pl.Int32, "url": pl.Utf8},
    )
    assert_frame_equal(rows, expected)
