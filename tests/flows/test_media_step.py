"""The media step: downloads recorded as they finish, and stopped when the host is down."""

from __future__ import annotations

from pathlib import Path

from flows.media_step import FAILURES_IN_A_ROW, describe_media, download_pending, pending_items
from tests.media import media_server as srv
from tests.media.media_server import MediaServer
from tests.warehouse.builders import (
    PROVIDER,
    SEEN,
    WINDOW,
    media_frame,
    media_item,
    messages_frame,
    rejected_frame,
)
from warehouse import merge_window, open_warehouse


def test_downloads_stop_when_the_media_host_fails_every_one(tmp_path: Path) -> None:
    files = 100
    with MediaServer() as server:
        refused = srv.body(b"forbidden", status=403, content_type="text/plain")
        urls = [server.add(refused) for _ in range(files)]
        con = open_warehouse(tmp_path / "archive.duckdb")
        try:
            merge_window(
                con,
                provider=PROVIDER,
                account="acct",
                window_start=WINDOW[0],
                window_end=WINDOW[1],
                messages=messages_frame(),
                media=media_frame(
                    *(media_item(str(n), 1, account="acct", url=u) for n, u in enumerate(urls))
                ),
                rejected=rejected_frame(),
                seen_at=SEEN,
                sms_rows=0,
                mms_rows=0,
            )
            outcome = download_pending(
                con,
                pending_items(con),
                media_dir=tmp_path / "media",
                allowed_hosts=[server.host],
                user_agent="smsarchive-tests/1",
            )
            states = dict(con.execute("SELECT state, count(*) FROM media GROUP BY ALL").fetchall())
        finally:
            con.close()
        asked = server.total_requests
    assert (outcome.failed, outcome.left) == (FAILURES_IN_A_ROW, files - FAILURES_IN_A_ROW)
    assert "the media host looks down" in outcome.stopped
    assert "http_403" in outcome.stopped
    # the rest are still pending, for the next run; downloads in flight were not recorded
    assert states == {"failed": FAILURES_IN_A_ROW, "pending": files - FAILURES_IN_A_ROW}
    assert asked < files
    line = describe_media(vars(outcome))
    assert f"{files - FAILURES_IN_A_ROW} left for the next run" in line
