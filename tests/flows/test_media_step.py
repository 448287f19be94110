"""The media step: downloads recorded as they finish, and stopped when the host is down."""

from __future__ import annotations

import gc
import re
import socket
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from extract.media import MediaItem, MediaResult
from extract.voipms.sandbox.server import SandboxServer
from flows import media_step
from flows.archive_run import PlainSteps, archive
from flows.cli import app
from flows.media_step import (
    FAILURES_IN_A_ROW,
    STORAGE_FAILURES_IN_A_ROW,
    MediaKey,
    MediaOutcome,
    check_stored_files,
    describe_media,
    download_pending,
    pending_items,
    redownload_missing,
)
from flows.runtime import use_settings
from tests.flows.conftest import sandbox_settings
from tests.media import media_server as srv
from tests.media.media_server import MediaServer
from tests.media.samples import png
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


def _archive_media(con: duckdb.DuckDBPyConnection, urls: list[str]) -> None:
    """Archive one media row per URL (one MMS each), every one pending."""
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


def _download(
    tmp_path: Path,
    urls: list[str],
    *hosts: str,
    concurrency: int = 8,
    on_result: Callable[[MediaResult[MediaKey]], None] | None = None,
) -> tuple[MediaOutcome, dict[str, int]]:
    """Archive one media row per URL, download them all; the outcome and rows by state."""
    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        _archive_media(con, urls)
        outcome = download_pending(
            con,
            pending_items(con),
            media_dir=tmp_path / "media",
            allowed_hosts=list(hosts),
            user_agent="smsarchive-tests/1",
            concurrency=concurrency,
            on_result=on_result,
        )
        return outcome, _states(con)
    finally:
        con.close()


def _download_again(
    con: duckdb.DuckDBPyConnection, media_dir: Path, host: str, concurrency: int = 8
) -> MediaOutcome:
    """Download what the archive `_download` made still lacks."""
    return download_pending(
        con,
        pending_items(con),
        media_dir=media_dir,
        allowed_hosts=[host],
        user_agent="smsarchive-tests/1",
        concurrency=concurrency,
    )


def _states(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT state, count(*) FROM media GROUP BY ALL").fetchall())


def test_downloads_stop_when_the_media_host_is_down(tmp_path: Path) -> None:
    with socket.socket() as gone:  # a port nothing listens on: every connection is refused
        gone.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{gone.getsockname()[1]}"
    files = 100
    urls = [f"http://{host}/media/{n}.jpg" for n in range(files)]
    outcome, states = _download(tmp_path, urls, host)
    assert (outcome.failed, outcome.left) == (FAILURES_IN_A_ROW, files - FAILURES_IN_A_ROW)
    assert "the media host looks down" in outcome.stopped
    assert "connect_error" in outcome.stopped
    # the rest are still pending, for the next run; downloads in flight were not recorded
    assert states == {"failed": FAILURES_IN_A_ROW, "pending": files - FAILURES_IN_A_ROW}
    line = describe_media(vars(outcome))
    assert f"{files - FAILURES_IN_A_ROW} left for the next run" in line


def test_host_failures_between_good_downloads_do_not_stop_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a host that fails every other download is not down: only failures in a row stop them
    # (the rule with 2 for 32: each failure takes its retries, one download at a time)
    monkeypatch.setattr(media_step, "FAILURES_IN_A_ROW", 2)
    with socket.socket() as gone:
        gone.bind(("127.0.0.1", 0))
        down = f"127.0.0.1:{gone.getsockname()[1]}"
    with MediaServer() as server:
        urls = [
            f"http://{down}/media/{n}.jpg" if n % 2 else server.add(srv.body(png() + bytes([n])))
            for n in range(6)
        ]
        outcome, states = _download(tmp_path, urls, down, server.host, concurrency=1)
    assert (outcome.failed, outcome.left, outcome.stopped) == (3, 0, "")
    assert states == {"failed": 3, "stored": 3}


def test_files_refused_one_by_one_do_not_stop_the_downloads(tmp_path: Path) -> None:
    files = FAILURES_IN_A_ROW + 8
    with MediaServer() as server:
        refused = srv.body(b"forbidden", status=403, content_type="text/plain")
        urls = [server.add(refused) for _ in range(files)]
        outcome, states = _download(tmp_path, urls, server.host)
    # the host answers: each file is its own failure, and every one was tried
    assert (outcome.failed, outcome.left, outcome.stopped) == (files, 0, "")
    assert states == {"failed": files}


def test_the_stop_rules_are_the_ones_the_readme_gives() -> None:
    """README: when N downloads in a row fail for the host's sake, or M files in a row cannot
    be written, the run stops downloading."""
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    host = re.search(r"When (\d+) downloads in a row fail for want of a host", readme)
    disk = re.search(r"so it does when (\d+) files in a row cannot be written", readme)
    assert host is not None
    assert disk is not None
    assert (int(host[1]), int(disk[1])) == (FAILURES_IN_A_ROW, STORAGE_FAILURES_IN_A_ROW)


def test_files_of_a_host_the_settings_do_not_allow_are_named_with_the_setting(
    tmp_path: Path,
) -> None:
    with MediaServer() as server:
        urls = [server.add(srv.body(b"GIF89a", content_type="image/gif")) for _ in range(3)]
        outcome, states = _download(tmp_path, urls, "voip.ms")
    assert states == {"failed": 3}
    assert outcome.refused == {server.host: 3}
    line = describe_media(vars(outcome))
    assert f"VOIPMS_MEDIA_HOSTS does not allow {server.host} (3)" in line


def test_stored_files_gone_from_the_store_are_downloaded_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with MediaServer() as server:
        urls = [
            server.add(srv.body(b"GIF89a" + bytes([n]), content_type="image/gif")) for n in range(3)
        ]
        _, states = _download(tmp_path, urls, server.host)
        assert states == {"stored": 3}
        media_dir = tmp_path / "media"
        con = open_warehouse(tmp_path / "archive.duckdb")
        try:
            assert check_stored_files(con, media_dir) is None  # all there: nothing to do
            assert _states(con) == {"stored": 3}
            gone = next(p for p in media_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts)
            gone.unlink()  # deleted by hand
            assert check_stored_files(con, media_dir) is None
            assert f"1 of the 3 files recorded as stored are not in {media_dir}" in caplog.text
            assert _states(con) == {"stored": 2, "pending": 1}
            again = _download_again(con, media_dir, server.host)
            assert again.stored == 1
            assert gone.is_file()
            assert _states(con) == {"stored": 3}
        finally:
            con.close()


def _status(data_dir: Path) -> str:
    shown = CliRunner().invoke(
        app, ["status"], env={"SMSARCHIVE_DATA_DIR": str(data_dir)}, terminal_width=200
    )
    assert shown.exit_code == 0, shown.output
    return shown.output


def test_status_says_which_stored_files_are_gone_and_changes_nothing(tmp_path: Path) -> None:
    with MediaServer() as server:
        urls = [
            server.add(srv.body(b"GIF89a" + bytes([n]), content_type="image/gif")) for n in range(3)
        ]
        _download(tmp_path, urls, server.host)
    media_dir = tmp_path / "media"
    assert "recorded as stored" not in _status(tmp_path)  # all there: nothing said
    next(p for p in media_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts).unlink()
    assert (
        f"media: 1 of the 3 files recorded as stored are not in {media_dir}; the next backfill "
        "or sync downloads them again"
    ) in _status(tmp_path)
    media_dir.rename(tmp_path / "elsewhere")  # a disk that did not mount
    shown = _status(tmp_path)
    assert f"media: 3 of the 3 files recorded as stored are not in {media_dir}" in shown
    assert "is the disk that holds it mounted?" in shown
    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        assert _states(con) == {"stored": 3}  # status only said so: nothing requeued
    finally:
        con.close()


def test_a_file_lost_and_brought_back_by_one_attachment_is_its_twins_file_too(
    tmp_path: Path,
) -> None:
    picture = b"GIF89a shared"
    with MediaServer() as server:
        twin_urls = [
            # the older link, asked first: expired at the provider by the time the file is lost
            server.add(
                srv.in_turn(srv.body(picture, content_type="image/gif"), srv.body(b"Not found"))
            ),
            server.add(srv.body(picture, content_type="image/gif")),
        ]
        others = [server.add(srv.body(png() + bytes([n]))) for n in range(3)]
        _, states = _download(tmp_path, [*twin_urls, *others], server.host)
        assert states == {"stored": 5}
        media_dir = tmp_path / "media"
        con = open_warehouse(tmp_path / "archive.duckdb")
        try:
            lost = next(
                p for p in media_dir.rglob("*") if p.is_file() and p.read_bytes() == picture
            )
            lost.unlink()
            check_stored_files(con, media_dir)
            assert _states(con) == {"stored": 3, "pending": 2}
            again = _download_again(con, media_dir, server.host, concurrency=1)
            assert (again.stored, again.expired) == (1, 1)
            assert lost.read_bytes() == picture
            rows = con.execute(
                "SELECT state, sha256 FROM media WHERE message_id IN ('0', '1') ORDER BY message_id"
            ).fetchall()
            assert rows == [("stored", lost.name)] * 2
        finally:
            con.close()


def test_downloads_stop_when_the_media_folder_cannot_be_written(tmp_path: Path) -> None:
    media_dir = tmp_path / "media"
    media_dir.mkdir()
    (media_dir / ".tmp").write_text("")  # where downloads are written first: not a folder
    files = STORAGE_FAILURES_IN_A_ROW + 12
    with MediaServer() as server:
        urls = [
            server.add(srv.body(b"GIF89a" + bytes([n]), content_type="image/gif"))
            for n in range(files)
        ]
        outcome, states = _download(tmp_path, urls, server.host)
    assert outcome.failed == STORAGE_FAILURES_IN_A_ROW
    assert outcome.left == files - STORAGE_FAILURES_IN_A_ROW
    assert f"could not be written into {media_dir}" in outcome.stopped
    assert states == {"failed": STORAGE_FAILURES_IN_A_ROW, "pending": outcome.left}


def test_a_media_folder_not_there_changes_nothing_and_downloads_nothing(tmp_path: Path) -> None:
    with MediaServer() as server:
        urls = [
            server.add(srv.body(b"GIF89a" + bytes([n]), content_type="image/gif")) for n in range(3)
        ]
        _download(tmp_path, urls, server.host)
    (tmp_path / "media").rename(tmp_path / "elsewhere")  # a disk that did not mount
    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        refused = check_stored_files(con, tmp_path / "media")
        assert refused is not None
        assert refused.startswith(
            f"3 of the 3 files recorded as stored are not in {tmp_path / 'media'}"
        )
        assert "is the disk that holds it mounted?" in refused
        assert "smsarchive sync --redownload-missing-media" in refused
        assert _states(con) == {"stored": 3}  # nothing requeued: the files are elsewhere
        # the user says they are lost for good: every one is downloaded again
        assert redownload_missing(con, tmp_path / "media") == 3
        assert _states(con) == {"pending": 3}
        assert redownload_missing(con, tmp_path / "media") == 0
    finally:
        con.close()


def test_damaged_files_are_set_aside_and_downloaded_again_when_asked(tmp_path: Path) -> None:
    bodies = [b"GIF89a" + bytes([n]) * 40 for n in range(4)]
    with MediaServer() as server:
        urls = [server.add(srv.body(body, content_type="image/gif")) for body in bodies]
        _download(tmp_path, urls, server.host)
        media_dir = tmp_path / "media"
        files = {p.read_bytes(): p for p in media_dir.rglob("*") if p.is_file()}
        flipped, cut = files[bodies[0]], files[bodies[1]]
        flipped.write_bytes(bodies[0][:-1] + b"\xff")  # a byte changed, the size kept
        cut.write_bytes(bodies[1][:7])  # cut short
        files[bodies[2]].unlink()  # missing
        con = open_warehouse(tmp_path / "archive.duckdb")
        try:
            check_stored_files(con, media_dir)  # a run lists the names: damage goes unseen
            assert _states(con) == {"stored": 3, "pending": 1}
            assert redownload_missing(con, media_dir) == 2
            assert _states(con) == {"stored": 1, "pending": 3}
            aside = sorted(p.read_bytes() for p in (media_dir / ".damaged").iterdir())
            assert aside == sorted([bodies[0][:-1] + b"\xff", bodies[1][:7]])
            again = _download_again(con, media_dir, server.host)
            assert again.stored == 3
            assert _states(con) == {"stored": 4}
            assert {p.read_bytes() for p in media_dir.glob("??/*")} == set(bodies)
            assert redownload_missing(con, media_dir) == 0
        finally:
            con.close()


def test_downloads_stopped_before_any_is_tried_are_still_said() -> None:
    media = {"stored": 1200, "expired": 0, "failed": 0, "left": 0, "stopped": "disk gone"}
    assert describe_media(media) == "media: 1,200 stored, 0 expired, 0 failed; disk gone"
    media["left"] = 1500
    assert describe_media(media).endswith("; 1,500 left for the next run: disk gone")


def test_without_media_hosts_attachments_wait_and_the_summary_says_why(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(sandbox, tmp_path / "data", voipms_media_hosts=[])
    day = date(2024, 3, 5)
    with use_settings(settings):
        summary = archive(settings, "backfill", day, day + timedelta(days=6), PlainSteps())
    con = open_warehouse(settings.archive_path, read_only=True)
    try:
        waiting = _states(con)
        details = con.execute("SELECT detail FROM sync_runs").fetchall()
    finally:
        con.close()
    assert set(waiting) == {"pending"}  # none failed: the user chose no host
    assert details == [(None,)]  # nor does status warn of it after every run
    assert summary.media.left == waiting["pending"] > 0
    assert describe_media(vars(summary.media)).endswith(
        f"{summary.media.left:,} left for the next run: VOIPMS_MEDIA_HOSTS is empty, so no "
        "media are downloaded (name a host to download them)"
    )


def test_a_long_queue_is_downloaded_a_page_at_a_time_and_a_host_down_stops_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media_step, "PAGE", 7)
    items_alive: list[int] = []

    def count_items(_: object) -> None:  # download items made and not yet let go
        gc.collect()
        items_alive.append(sum(isinstance(o, MediaItem) for o in gc.get_objects()))

    with MediaServer() as server:
        good = [server.add(srv.body(png() + bytes([n]))) for n in range(20)]
        outcome, states = _download(
            tmp_path / "up", good, server.host, concurrency=3, on_result=count_items
        )
    assert (outcome.stored, outcome.left, outcome.stopped) == (20, 0, "")
    assert states == {"stored": 20}
    assert len(items_alive) == 20
    assert max(items_alive) <= 7  # a page's, never the queue's 20
    with socket.socket() as gone:
        gone.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{gone.getsockname()[1]}"
    monkeypatch.setattr(media_step, "PAGE", 10)  # the host is found down on the fourth page
    urls = [f"http://{host}/media/{n}.jpg" for n in range(60)]
    outcome, states = _download(tmp_path / "down", urls, host)
    assert (outcome.failed, outcome.left) == (FAILURES_IN_A_ROW, 60 - FAILURES_IN_A_ROW)
    assert states == {"failed": FAILURES_IN_A_ROW, "pending": 60 - FAILURES_IN_A_ROW}


def test_pending_items_are_made_as_asked_for_and_read_as_a_list_is(tmp_path: Path) -> None:
    urls = [f"http://voip.ms/media/{n}.jpg" for n in range(5)]
    con = open_warehouse(tmp_path / "archive.duckdb")
    try:
        _archive_media(con, urls)
        items = pending_items(con)
    finally:
        con.close()
    whole = list(items)
    assert len(items) == len(whole) == 5
    assert sorted(item.url for item in whole) == urls
    assert items[1:4] == whole[1:4]
    assert items[-1] == whole[-1]
    assert whole[0].key == (PROVIDER, "acct", whole[0].key[2], 1)
    with pytest.raises(IndexError):
        items[5]
