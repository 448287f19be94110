"""download_media over real loopback HTTP: types, expiry, refusals, redirects, caps, retries."""

from __future__ import annotations

import base64
import gc
import gzip
import hashlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from extract.media import (
    MediaItem,
    MediaResult,
    download,
    download_each,
    download_media,
    is_stored,
    stored_path,
    transfer,
)
from tests.media import media_server as srv
from tests.media.media_server import MediaServer
from tests.media.samples import SAMPLES, png

UA = "smsarchive-tests/1"
Key = tuple[str, str, str, int]


def _items(*urls: str) -> list[MediaItem[Key]]:
    return [MediaItem(key=("voipms", "acct", "m1", n), url=url) for n, url in enumerate(urls, 1)]


def _download(
    server: MediaServer, media_dir: Path, urls: Sequence[str], **options: Any
) -> list[MediaResult[Key]]:
    settings: dict[str, Any] = {
        "media_dir": media_dir,
        "allowed_hosts": [server.host],
        "user_agent": UA,
        "timeout": 5.0,
        "max_attempts": 3,
        "backoff": 0.01,
        "backoff_max": 0.05,
    }
    settings.update(options)
    return download_media(_items(*urls), **settings)


def _files(media_dir: Path) -> dict[str, tuple[int, int]]:
    """Every stored file (not temp files): relative path -> (inode, mtime_ns)."""
    found = {}
    for path in media_dir.rglob("*"):
        if path.is_file() and ".tmp" not in path.parts:
            stat = path.stat()
            found[str(path.relative_to(media_dir))] = (stat.st_ino, stat.st_mtime_ns)
    return found


def _assert_store_is_sound(media_dir: Path) -> None:
    """No temp file left; every stored file sits at <sha[:2]>/<sha> of its own content."""
    tmp = media_dir / ".tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    for name in _files(media_dir):
        path = media_dir / name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert path == stored_path(media_dir, digest)


def test_every_type_is_stored_with_its_sha256_and_sniffed_type(
    server: MediaServer, tmp_path: Path
) -> None:
    urls = [server.add(srv.body(data), name) for name, (data, _) in SAMPLES.items()]
    results = _download(server, tmp_path, urls)
    for (name, (data, expected_type)), result in zip(SAMPLES.items(), results, strict=True):
        sha = hashlib.sha256(data).hexdigest()
        assert result.state == "stored", name
        assert (result.sha256, result.size_bytes) == (sha, len(data)), name
        assert result.content_type == expected_type, name
        assert (result.attempts, result.error) == (1, None), name
        assert result.fetched_at.utcoffset() is not None
        assert stored_path(tmp_path, sha).read_bytes() == data
        assert is_stored(tmp_path, sha, len(data), rehash=True)
    assert len(_files(tmp_path)) == len(SAMPLES)
    _assert_store_is_sound(tmp_path)


def test_results_keep_item_order_keys_and_report_each_once(
    server: MediaServer, tmp_path: Path
) -> None:
    urls = [server.add(srv.slow(0.05 * (5 - n), bytes([n]) * 10)) for n in range(5)]
    urls.append("ftp://127.0.0.1/x")
    seen: list[MediaResult[Key]] = []
    results = _download(server, tmp_path, urls, on_result=seen.append)
    assert [r.key for r in results] == [("voipms", "acct", "m1", n) for n in range(1, 7)]
    assert [r.url for r in results] == urls
    assert sorted(seen, key=lambda r: r.key) == results
    assert seen[0].error == "scheme_not_allowed"  # refused at once, before any download


def test_identical_files_are_stored_once(server: MediaServer, tmp_path: Path) -> None:
    data = png()
    urls = [server.add(srv.body(data)) for _ in range(4)]
    results = _download(server, tmp_path, urls)
    assert {r.sha256 for r in results} == {hashlib.sha256(data).hexdigest()}
    assert all(r.state == "stored" for r in results)
    assert len(_files(tmp_path)) == 1
    _assert_store_is_sound(tmp_path)


@pytest.mark.parametrize(
    "respond",
    [
        srv.body(b"Not found", content_type="text/html"),
        srv.body(b"  Not found\r\n", content_type="text/plain"),
        srv.body(b"<html><body><p>Not found</p></body></html>\n", content_type="text/html"),
    ],
    ids=["bare", "whitespace", "html"],
)
def test_expired_media_is_marked_and_nothing_is_written(
    server: MediaServer, tmp_path: Path, respond: srv.Respond
) -> None:
    url = server.add(respond)
    [result] = _download(server, tmp_path, [url])
    assert (result.state, result.sha256, result.size_bytes, result.error) == (
        "expired",
        None,
        None,
        None,
    )
    assert result.attempts == 1
    assert server.route(url).hits == 1  # not retried
    assert _files(tmp_path) == {}
    _assert_store_is_sound(tmp_path)


@pytest.mark.parametrize("status", [404, 410])
def test_a_404_or_410_is_a_failure_the_next_runs_retry_not_an_expiry(
    server: MediaServer, tmp_path: Path, status: int
) -> None:
    # VoIP.ms says a file is gone with a 200 'Not found' page; a 404 comes from elsewhere (a
    # CDN sending the request to the wrong place), and must not lose the file for good
    url = server.add(srv.body(b"gone", status=status))
    [result] = _download(server, tmp_path, [url])
    assert (result.state, result.error, result.attempts) == ("failed", f"http_{status}", 1)
    assert server.route(url).hits == 1  # the next run's to try again, not this one's
    assert _files(tmp_path) == {}


def test_a_text_part_is_stored_but_not_found_is_not(server: MediaServer, tmp_path: Path) -> None:
    text = b"Your parcel was not found at the depot; call us.\n"
    [result] = _download(server, tmp_path, [server.add(srv.body(text))])
    assert (result.state, result.content_type) == ("stored", "text/plain")


def test_refused_urls_make_no_request(server: MediaServer, tmp_path: Path) -> None:
    target = server.add(srv.body(png()), "target.png")
    path = target.removeprefix(f"http://{server.host}")
    with socket.socket() as spare:  # a port nobody listens on
        spare.bind(("127.0.0.1", 0))
        other_port = spare.getsockname()[1]
    cases = {
        "file:///etc/passwd": "scheme_not_allowed",
        f"ftp://{server.host}{path}": "scheme_not_allowed",
        "data:image/png;base64,iVBORw0KGgo=": "scheme_not_allowed",
        f"http://127.0.0.1:{other_port}{path}": "host_not_allowed",
        f"http://localhost:{server.port}{path}": "host_not_allowed",
        f"http://u:p@{server.host}{path}": "invalid_url",
    }
    before = server.total_requests
    results = _download(server, tmp_path, list(cases))
    assert [(r.state, r.error, r.attempts) for r in results] == [
        ("failed", reason, 0) for reason in cases.values()
    ]
    assert server.total_requests == before
    assert server.route(target).hits == 0
    assert _files(tmp_path) == {}


def test_a_loopback_entry_without_port_allows_port_80_only(
    server: MediaServer, tmp_path: Path
) -> None:
    url = server.add(srv.body(png()))
    [result] = _download(server, tmp_path, [url], allowed_hosts=["127.0.0.1"])
    assert (result.state, result.error, server.route(url).hits) == ("failed", "host_not_allowed", 0)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_an_allowed_url_is_followed(
    server: MediaServer, tmp_path: Path, status: int
) -> None:
    data = png()
    target = server.add(srv.body(data), "target.png")
    relative = target.removeprefix(f"http://{server.host}")
    start = server.add(srv.redirect(relative, status))
    [result] = _download(server, tmp_path, [start])
    assert (result.state, result.sha256) == ("stored", hashlib.sha256(data).hexdigest())
    assert (server.route(start).hits, server.route(target).hits) == (1, 1)
    assert result.url == start


@pytest.mark.parametrize(
    ("location", "error"),
    [
        # a host not allowed is named: the one to add to VOIPMS_MEDIA_HOSTS, if trusted
        ("http://localhost:{port}{path}", "redirect_not_allowed (localhost:{port})"),
        ("https://127.0.0.1:1{path}", "redirect_not_allowed (127.0.0.1:1)"),
        ("http://127.0.0.1:1{path}", "redirect_not_allowed (127.0.0.1:1)"),
        ("file:///etc/passwd", "redirect_not_allowed"),
        ("ftp://127.0.0.1:{port}{path}", "redirect_not_allowed"),
    ],
)
def test_a_redirect_elsewhere_is_refused(
    server: MediaServer, tmp_path: Path, location: str, error: str
) -> None:
    target = server.add(srv.body(png()), "target.png")
    path = target.removeprefix(f"http://{server.host}")
    start = server.add(srv.redirect(location.format(port=server.port, path=path)))
    [result] = _download(server, tmp_path, [start])
    said = error.format(port=server.port)
    assert (result.state, result.error, result.attempts) == ("failed", said, 1)
    assert server.route(target).hits == 0
    assert _files(tmp_path) == {}


def test_redirects_stop_after_three(server: MediaServer, tmp_path: Path) -> None:
    def chain(hops: int) -> tuple[str, str]:
        url = target = server.add(srv.body(png()), "end.png")
        for _ in range(hops):
            url = server.add(srv.redirect(url))
        return url, target

    three, _ = chain(3)
    four, four_target = chain(4)
    ok, refused = _download(server, tmp_path, [three, four])
    assert ok.state == "stored"
    assert (refused.state, refused.error) == ("failed", "too_many_redirects")
    assert server.route(four_target).hits == 0


def test_a_redirect_loop_ends(server: MediaServer, tmp_path: Path) -> None:
    url = server.add(srv.redirect("./file"))  # points at itself
    [result] = _download(server, tmp_path, [url])
    assert (result.error, server.route(url).hits) == ("too_many_redirects", 4)


def test_an_endless_body_stops_at_the_cap(server: MediaServer, tmp_path: Path) -> None:
    stream = srv.Stream()
    url = server.add(stream)
    cap = 1024 * 1024
    [result] = _download(server, tmp_path, [url], max_bytes=cap)
    assert (result.state, result.error, result.attempts) == ("failed", "too_large", 1)
    assert stream.stopped.wait(10), "the server kept sending after the client hung up"
    assert stream.sent < 64 * cap
    assert _files(tmp_path) == {}
    _assert_store_is_sound(tmp_path)


def test_an_announced_size_past_the_cap_is_refused_before_reading(
    server: MediaServer, tmp_path: Path
) -> None:
    stream = srv.Stream(content_length=50 * 1024 * 1024, pause=0.01)
    url = server.add(stream)
    started = time.monotonic()
    [result] = _download(server, tmp_path, [url], max_bytes=1024 * 1024)
    assert (result.state, result.error) == ("failed", "too_large")
    assert time.monotonic() - started < 5
    assert stream.stopped.wait(10)
    assert _files(tmp_path) == {}


def test_the_cap_is_inclusive(server: MediaServer, tmp_path: Path) -> None:
    fits = server.add(srv.body(b"a" * 1000))
    too_big = server.add(srv.body(b"b" * 1001))
    unannounced = server.add(srv.Stream(chunk=b"c" * 501, limit=1002))
    results = _download(server, tmp_path, [fits, too_big, unannounced], max_bytes=1000)
    assert [(r.state, r.error) for r in results] == [
        ("stored", None),
        ("failed", "too_large"),
        ("failed", "too_large"),
    ]


@pytest.mark.parametrize(
    ("status", "headers"),
    [(500, {}), (502, {}), (503, {"Retry-After": "0"}), (429, {"Retry-After": "0"})],
)
def test_transient_status_is_retried(
    server: MediaServer, tmp_path: Path, status: int, headers: dict[str, str]
) -> None:
    data = SAMPLES["gif"][0]
    url = server.add(srv.in_turn(srv.body(b"oops", status=status, headers=headers), srv.body(data)))
    [result] = _download(server, tmp_path, [url])
    assert (result.state, result.attempts, result.content_type) == ("stored", 2, "image/gif")
    assert server.route(url).hits == 2


def test_persistent_5xx_fails_after_max_attempts(server: MediaServer, tmp_path: Path) -> None:
    url = server.add(srv.body(b"down", status=503))
    [result] = _download(server, tmp_path, [url], max_attempts=4)
    assert (result.state, result.error, result.attempts) == ("failed", "http_503", 4)
    assert server.route(url).hits == 4


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_errors_are_not_retried(server: MediaServer, tmp_path: Path, status: int) -> None:
    url = server.add(srv.body(b"no", status=status))
    [result] = _download(server, tmp_path, [url])
    assert (result.state, result.error, result.attempts) == ("failed", f"http_{status}", 1)


def test_an_empty_body_fails(server: MediaServer, tmp_path: Path) -> None:
    [result] = _download(server, tmp_path, [server.add(srv.body(b""))])
    assert (result.state, result.error) == ("failed", "empty_body")
    _assert_store_is_sound(tmp_path)


def test_a_truncated_body_is_retried_then_failed(server: MediaServer, tmp_path: Path) -> None:
    data = png()
    url = server.add(srv.truncated(data[:20], declared=len(data)))
    [result] = _download(server, tmp_path, [url], max_attempts=3)
    assert (result.state, result.error, result.attempts) == ("failed", "truncated", 3)
    assert server.route(url).hits == 3
    assert _files(tmp_path) == {}
    _assert_store_is_sound(tmp_path)


def test_a_truncated_body_then_a_whole_one_is_stored(server: MediaServer, tmp_path: Path) -> None:
    data = png()
    url = server.add(srv.in_turn(srv.truncated(data[:20], declared=len(data)), srv.body(data)))
    [result] = _download(server, tmp_path, [url])
    assert (result.state, result.attempts, result.sha256) == (
        "stored",
        2,
        hashlib.sha256(data).hexdigest(),
    )
    _assert_store_is_sound(tmp_path)


def test_a_slow_answer_times_out(server: MediaServer, tmp_path: Path) -> None:
    url = server.add(srv.slow(1.0, png()))
    started = time.monotonic()
    [result] = _download(server, tmp_path, [url], timeout=0.2, max_attempts=2)
    assert (result.state, result.error, result.attempts) == ("failed", "timeout", 2)
    assert time.monotonic() - started < 1.5


def test_a_trickling_body_hits_the_attempt_timeout(server: MediaServer, tmp_path: Path) -> None:
    stream = srv.Stream(chunk=b"x" * 100, pause=0.05)
    url = server.add(stream)
    [result] = _download(server, tmp_path, [url], attempt_timeout=0.4, max_attempts=1)
    assert (result.state, result.error) == ("failed", "timeout")
    assert stream.stopped.wait(5)
    _assert_store_is_sound(tmp_path)


def test_a_closed_port_is_a_connect_error(server: MediaServer, tmp_path: Path) -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    [result] = _download(
        server,
        tmp_path,
        [f"http://127.0.0.1:{port}/x"],
        allowed_hosts=[f"127.0.0.1:{port}"],
        max_attempts=2,
    )
    assert (result.state, result.error, result.attempts) == ("failed", "connect_error", 2)


def test_concurrency_is_bounded_and_the_user_agent_sent(
    server: MediaServer, tmp_path: Path
) -> None:
    respond = srv.slow(0.15, png())
    url = server.add(respond)
    results = _download(server, tmp_path, [f"{url}?n={n}" for n in range(9)], concurrency=3)
    route = server.route(url)
    assert all(r.state == "stored" for r in results)
    assert route.hits == 9
    assert 2 <= route.max_in_flight <= 3
    assert set(route.user_agents) == {UA}


def test_a_rerun_writes_nothing_new(server: MediaServer, tmp_path: Path) -> None:
    urls = [server.add(srv.body(data)) for data, _ in SAMPLES.values()]
    first = _download(server, tmp_path, urls)
    before = _files(tmp_path)
    second = _download(server, tmp_path, urls)
    assert _files(tmp_path) == before  # same files, same inodes, untouched
    assert [r.sha256 for r in second] == [r.sha256 for r in first]
    _assert_store_is_sound(tmp_path)


def test_stale_temp_files_are_cleaned_at_the_start(server: MediaServer, tmp_path: Path) -> None:
    tmp = tmp_path / ".tmp"
    tmp.mkdir()
    stale, live = tmp / "partial-crashed", tmp / "partial-other-run"
    stale.write_bytes(b"half a picture")
    live.write_bytes(b"another run's download")
    long_ago = time.time() - 86400
    os.utime(stale, (long_ago, long_ago))
    _download(server, tmp_path, [server.add(srv.body(png()))])
    assert sorted(p.name for p in tmp.iterdir()) == ["partial-other-run"]


def test_logs_name_only_host_and_a_short_id(
    server: MediaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secretish = "media.php?map=MTcwMDAwMDAwMGFiY2R8MXxpbWFnZS9qcGVnfE1NUw"
    ok = server.add(srv.body(png()))
    failing = server.add(srv.body(b"no", status=403))
    moved = server.add(srv.redirect(f"{ok}?{secretish}"))
    caplog.set_level(logging.DEBUG)
    results = _download(
        server, tmp_path, [f"{ok}?{secretish}", f"{failing}?{secretish}", f"{moved}?{secretish}"]
    )
    assert [r.state for r in results] == ["stored", "failed", "stored"]
    assert "HTTP Request" in caplog.text  # httpx did log its request lines...
    assert "MTcwMDAwMDAwMGFiY2R8" not in caplog.text  # ...but not the URLs
    assert not re.search(r"/r\d+/", caplog.text)  # no path of ours either
    assert server.host in caplog.text


def test_an_error_in_on_result_stops_the_run(server: MediaServer, tmp_path: Path) -> None:
    urls = [server.add(srv.body(bytes([n]) * 8)) for n in range(20)]

    def explode(result: MediaResult[Key]) -> None:
        raise RuntimeError("progress bar broke")

    with pytest.raises(RuntimeError, match="progress bar broke"):
        _download(server, tmp_path, urls, concurrency=2, on_result=explode)
    _assert_store_is_sound(tmp_path)


def test_an_unexpected_error_in_a_worker_reaches_the_caller_and_stops_the_rest(
    server: MediaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = [server.add(srv.body(bytes([n]) * 8)) for n in range(40)]
    real = transfer.fetch_once
    calls = 0

    def fetch_once(*args: Any, **kwargs: Any) -> transfer.Outcome:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("a bug in a worker")
        return real(*args, **kwargs)

    monkeypatch.setattr(download, "fetch_once", fetch_once)
    with pytest.raises(RuntimeError, match="a bug in a worker"):
        _download(server, tmp_path, urls, concurrency=2)
    assert calls < len(urls)  # nothing more was started once the caller knew
    assert not [t for t in threading.enumerate() if t.name.startswith("media_")]
    _assert_store_is_sound(tmp_path)


def test_a_cookie_a_media_host_sets_is_not_sent_back(server: MediaServer, tmp_path: Path) -> None:
    """Each download stands alone: one worker's client keeps no cookie between files."""
    data = SAMPLES["gif"][0]
    setter = server.add(srv.body(data, headers={"Set-Cookie": "session=s3cr3t; Path=/"}))
    reader = server.add(srv.body(png()))
    results = _download(server, tmp_path, [setter, reader, setter], concurrency=1)
    assert [r.state for r in results] == ["stored", "stored", "stored"]
    assert server.route(setter).cookies == [None, None]
    assert server.route(reader).cookies == [None]


@pytest.mark.parametrize("attempt", [1, 2, 3, 6])
def test_backoff_is_full_jitter_below_its_exponential_cap(attempt: int) -> None:
    cap = min(0.5 * 2 ** (attempt - 1), 4.0)
    busy = transfer.TransientError("http_503")
    waits = [download.backoff_seconds(busy, attempt, 0.5, 4.0) for _ in range(400)]
    assert all(0.0 <= w <= cap for w in waits)
    assert max(waits) > cap * 0.8  # spread over the whole range
    assert min(waits) < cap * 0.2


def test_backoff_honours_retry_after_up_to_its_cap() -> None:
    later = transfer.TransientError("http_429", retry_after=3.0)
    assert all(download.backoff_seconds(later, 1, 0.5, 30.0) == 3.0 for _ in range(50))
    huge = transfer.TransientError("http_429", retry_after=99.0)
    assert download.backoff_seconds(huge, 1, 0.5, 30.0) == 30.0


def test_a_gzipped_body_is_not_inflated(server: MediaServer, tmp_path: Path) -> None:
    # 64 MB of zeros in 64 KB of gzip, sent though the client asked for identity
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    url = server.add(srv.body(bomb, content_type="image/png", headers={"Content-Encoding": "gzip"}))
    [result] = _download(server, tmp_path, [url], max_bytes=1024 * 1024)
    assert (result.state, result.error) == ("failed", "encoded_body")
    assert _files(tmp_path) == {}


def _token(mime: str) -> str:
    """A media URL token as VoIP.ms writes it: `<epoch><hex>|<n>|<mime>|MMS`, base64."""
    return base64.b64encode(f"1704085200f00d|1|{mime}|MMS".encode()).decode()


@pytest.mark.parametrize(
    ("announced", "respond", "state"),
    [
        # a CDN's error page where the token announced a picture, whatever it says it is
        (
            "image/jpeg",
            srv.body(b"<!DOCTYPE html><title>503</title>", content_type="text/html"),
            "failed",
        ),
        ("image/png", srv.body(b"Service Unavailable\n", content_type="image/png"), "failed"),
        ("audio/amr", srv.body(b'{"error": "busy"}', content_type="application/json"), "failed"),
        # text announced as text, and a picture as a picture, are the files
        ("text/plain", srv.body(b"See you at 5\n", content_type="text/plain"), "stored"),
        ("image/png", srv.body(png(), content_type="image/png"), "stored"),
    ],
    ids=["html-for-jpeg", "text-for-png", "json-for-amr", "text", "png"],
)
def test_bytes_that_cannot_be_the_file_the_token_announced_are_not_stored(
    server: MediaServer, tmp_path: Path, announced: str, respond: srv.Respond, state: str
) -> None:
    url = server.add(respond, f"media/{_token(announced)}/media.bin")
    [result] = _download(server, tmp_path, [url])
    assert result.state == state, result
    if state == "failed":
        assert result.error == "wrong_content"  # tried again by the next runs
        assert _files(tmp_path) == {}


def test_text_where_a_picture_was_declared_is_not_stored(
    server: MediaServer, tmp_path: Path
) -> None:
    page = b"<head><title>Gateway</title></head><body>Please log in</body>"
    url = server.add(srv.body(page, content_type="image/jpeg"), "picture.jpg")  # no token
    [result] = _download(server, tmp_path, [url])
    assert (result.state, result.error) == ("failed", "wrong_content")


class _Stop(Exception):
    """What a Ctrl-C is to download_media: an exception out of its caller's callback."""


def test_a_stop_ends_the_waits_for_another_try_and_starts_no_attempt(
    server: MediaServer, tmp_path: Path
) -> None:
    # four files whose host says to come back in 30 s, and one that comes at once
    busy = [
        server.add(srv.body(b"busy", status=503, headers={"Retry-After": "30"})) for _ in range(4)
    ]
    ready = server.add(srv.body(png(), content_type="image/png"))

    def stop_at_first(result: MediaResult[Key]) -> None:
        time.sleep(0.3)  # the busy ones are waiting for their second try by now
        raise _Stop

    started = time.monotonic()
    with pytest.raises(_Stop):
        _download(
            server,
            tmp_path,
            [*busy, ready],
            on_result=stop_at_first,
            concurrency=5,
            backoff=30.0,
            backoff_max=30.0,
        )
    assert time.monotonic() - started < 10  # not the 30 s the host asked for
    assert [server.route(url).hits for url in busy] == [1, 1, 1, 1]  # no second try
    _assert_store_is_sound(tmp_path)


def test_the_token_still_says_what_the_file_is_after_a_redirect(
    server: MediaServer, tmp_path: Path
) -> None:
    target = server.add(srv.body(b"Service Unavailable\n", content_type="text/plain"), "cdn/x")
    start = server.add(
        srv.redirect(target.removeprefix(f"http://{server.host}")),
        f"media/{_token('image/png')}/media.png",
    )
    [result] = _download(server, tmp_path, [start])
    assert (result.state, result.error) == ("failed", "wrong_content")
    assert _files(tmp_path) == {}


@pytest.mark.parametrize(
    ("announced", "data"),
    [
        ("audio/imelody", b"BEGIN:IMELODY\r\nVERSION:1.2\r\nMELODY:c2d2e2f2\r\nEND:IMELODY\r\n"),
        ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'),
        ("image/x-xbitmap", b"#define dot_width 1\n#define dot_height 1\n"),
    ],
    ids=["imelody", "svg", "xbm"],
)
def test_files_that_are_text_by_design_are_stored_whatever_type_they_bear(
    server: MediaServer, tmp_path: Path, announced: str, data: bytes
) -> None:
    url = server.add(srv.body(data, content_type=announced), f"media/{_token(announced)}/m.bin")
    [result] = _download(server, tmp_path, [url])
    assert result.state == "stored", result


@pytest.mark.parametrize("processes", [1, 2])
def test_download_each_holds_no_result_once_handed_over(
    server: MediaServer, tmp_path: Path, processes: int
) -> None:
    # a run's queue can be 500,000 files long: results held to the end were ~210 MB
    urls = [server.add(srv.body(png() + bytes([n]))) for n in range(60)]
    handed: list[str] = []
    alive_at_the_last: list[int] = []

    def count_alive(result: MediaResult[Key]) -> None:
        handed.append(result.state)
        if len(handed) == len(urls):  # none in flight, none waiting: this one alone is due
            gc.collect()
            alive_at_the_last.append(sum(isinstance(o, MediaResult) for o in gc.get_objects()))

    download_each(
        _items(*urls),
        on_result=count_alive,
        media_dir=tmp_path,
        allowed_hosts=[server.host],
        user_agent=UA,
        timeout=5.0,
        concurrency=4,
        processes=processes,
    )
    assert handed == ["stored"] * len(urls)
    assert alive_at_the_last == [1]
