"""Results as a polars frame: key spread over columns, types as the warehouse expects."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from extract.media import MediaResult
from extract.media.result_frame import MEDIA_KEY_SCHEMA, RESULT_SCHEMA, results_frame

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _result(key: tuple[str, str, str, int], state: str = "stored") -> MediaResult[object]:
    return MediaResult(
        key=key,
        url="https://voip.ms/media/x/media.png",
        state="stored" if state == "stored" else "failed",
        sha256="a" * 64 if state == "stored" else None,
        size_bytes=10 if state == "stored" else None,
        content_type="image/png" if state == "stored" else None,
        fetched_at=AT,
        attempts=1,
        error=None if state == "stored" else "http_403",
    )


def test_frame_columns_and_types() -> None:
    frame = results_frame(
        [_result(("voipms", "acct", "17", 1)), _result(("voipms", "acct", "17", 2), "failed")]
    )
    assert frame.schema == pl.Schema({**MEDIA_KEY_SCHEMA, **RESULT_SCHEMA})
    assert frame["position"].to_list() == [1, 2]
    assert frame["state"].to_list() == ["stored", "failed"]
    assert frame["fetched_at"].to_list() == [AT, AT]


def test_empty_frame_keeps_the_schema() -> None:
    assert results_frame([]).schema == pl.Schema({**MEDIA_KEY_SCHEMA, **RESULT_SCHEMA})


def test_key_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="key has 2 parts"):
        results_frame([_result(("a", "b"))])  # type: ignore[arg-type]
