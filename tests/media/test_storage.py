"""The store: named by sha256, written through .tmp and a rename, verified by size or hash."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from extract.media.storage import (
    TooLargeError,
    clean_stale_temp,
    commit,
    flush_to_disk,
    is_stored,
    receive,
    stored_path,
    temp_dir,
)

DATA = b"hello media" * 100
SHA = hashlib.sha256(DATA).hexdigest()


def test_stored_path_is_sharded_by_sha(tmp_path: Path) -> None:
    assert stored_path(tmp_path, SHA) == tmp_path / SHA[:2] / SHA


@pytest.mark.parametrize("bad", ["", "../" * 20 + "x" * 4, SHA.upper(), SHA[:-1], SHA + "0"])
def test_stored_path_refuses_anything_but_a_sha256(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        stored_path(tmp_path, bad)


@pytest.mark.parametrize("durable", [True, False], ids=["fsync-each", "batched"])
def test_receive_and_commit(tmp_path: Path, durable: bool) -> None:
    """Batched durability (`durable=False`, then flush_to_disk) stores the same file."""
    received = receive(iter([DATA[:7], DATA[7:]]), tmp_path, max_bytes=len(DATA), durable=durable)
    assert (received.sha256, received.size_bytes) == (SHA, len(DATA))
    assert received.head == DATA[:4096]
    assert received.temp_path.parent == temp_dir(tmp_path)
    assert not stored_path(tmp_path, SHA).exists()  # nothing under the final name yet
    final = commit(received, tmp_path, durable=durable)
    flush_to_disk()
    assert final.read_bytes() == DATA
    assert list(temp_dir(tmp_path).iterdir()) == []
    assert is_stored(tmp_path, SHA, len(DATA))
    assert is_stored(tmp_path, SHA, len(DATA), rehash=True)
    assert not is_stored(tmp_path, SHA, len(DATA) + 1)


def test_identical_content_is_kept_once(tmp_path: Path) -> None:
    first = commit(receive(iter([DATA]), tmp_path, max_bytes=10**6), tmp_path)
    inode = first.stat().st_ino
    second = commit(receive(iter([DATA]), tmp_path, max_bytes=10**6), tmp_path)
    assert first == second
    assert second.stat().st_ino == inode  # not replaced
    assert list(temp_dir(tmp_path).iterdir()) == []


def test_a_damaged_copy_is_replaced(tmp_path: Path) -> None:
    path = stored_path(tmp_path, SHA)
    path.parent.mkdir(parents=True)
    path.write_bytes(DATA[:10])
    commit(receive(iter([DATA]), tmp_path, max_bytes=10**6), tmp_path)
    assert path.read_bytes() == DATA


def test_is_stored_rehash_catches_same_size_corruption(tmp_path: Path) -> None:
    path = commit(receive(iter([DATA]), tmp_path, max_bytes=10**6), tmp_path)
    path.write_bytes(b"X" * len(DATA))
    assert is_stored(tmp_path, SHA, len(DATA))
    assert not is_stored(tmp_path, SHA, len(DATA), rehash=True)
    assert not is_stored(tmp_path, "0" * 64, 1)


def test_a_body_of_many_megabytes_is_written_whole(tmp_path: Path) -> None:
    chunks = [bytes([n]) * 300_000 for n in range(10)]  # past the one-megabyte write buffer
    received = receive(iter(chunks), tmp_path, max_bytes=10**7)
    assert received.temp_path.read_bytes() == b"".join(chunks)
    assert received.size_bytes == 3_000_000


def test_too_large_leaves_no_temp_file(tmp_path: Path) -> None:
    with pytest.raises(TooLargeError):
        receive(iter([b"x" * 10] * 5), tmp_path, max_bytes=45)
    assert list(temp_dir(tmp_path).iterdir()) == []


def test_a_failing_stream_leaves_no_temp_file(tmp_path: Path) -> None:
    def chunks() -> object:
        yield b"partial"
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError):
        receive(chunks(), tmp_path, max_bytes=100)  # type: ignore[arg-type]
    assert list(temp_dir(tmp_path).iterdir()) == []


def test_clean_stale_temp_keeps_fresh_files(tmp_path: Path) -> None:
    directory = temp_dir(tmp_path)
    directory.mkdir()
    old, fresh = directory / "partial-old", directory / "partial-fresh"
    old.write_bytes(b"half")
    fresh.write_bytes(b"in flight")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert clean_stale_temp(tmp_path, older_than=600) == 1
    assert sorted(p.name for p in directory.iterdir()) == ["partial-fresh"]
    assert clean_stale_temp(tmp_path / "nowhere") == 0


@contextlib.contextmanager
def _undeletable(path: Path) -> Iterator[None]:
    """`path` cannot be removed meanwhile: immutable (chattr +i), or its folder read-only
    where that stops this user."""
    if os.geteuid() != 0:
        path.parent.chmod(0o500)
        try:
            yield
        finally:
            path.parent.chmod(0o700)
        return
    if subprocess.run(["chattr", "+i", str(path)], check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_leftovers_that_cannot_be_removed_are_said_and_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # a leftover the file system will not let go of (a read-only disk says so too)
    directory = temp_dir(tmp_path)
    directory.mkdir()
    leftover = directory / "partial-999-1-0"
    leftover.write_bytes(b"half")
    with _undeletable(leftover):
        assert clean_stale_temp(tmp_path, older_than=0) == 0  # a tidy-up: no run's end
        assert leftover.exists()
    assert "leftover temp files not removed (" in caplog.text

    def unreadable(path: Path) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    # root may read any folder: the listing is made to fail as a refused one would
    monkeypatch.setattr(Path, "iterdir", unreadable)
    assert clean_stale_temp(tmp_path, older_than=0) == 0
    assert "leftover temp files not removed (Permission denied)" in caplog.text


def test_a_temp_folder_that_is_a_link_is_removed_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_bytes(b"not ours")
    media = tmp_path / "media"
    media.mkdir()
    temp_dir(media).symlink_to(outside)
    assert clean_stale_temp(media, older_than=0) == 0
    assert (outside / "keep.txt").read_bytes() == b"not ours"
    assert not temp_dir(media).is_symlink()
    # the downloads after it write into a folder of the data dir's own
    received = receive([b"body"], media, max_bytes=100)
    assert received.temp_path.parent == temp_dir(media)
    assert not temp_dir(media).is_symlink()
    assert list(outside.iterdir()) == [outside / "keep.txt"]
