"""Media: getMediaMMS, both URL forms, real files with distinct bytes, expired and unknown media."""

from __future__ import annotations

import base64
import hashlib

import httpx
import polars as pl
import pytest

from extract.voipms.sandbox.media_files import MEDIA_TYPES, media_bytes
from extract.voipms.sandbox.server import SandboxServer
from tests.sandbox.conftest import api

MAGIC = {
    "image/jpeg": (0, b"\xff\xd8\xff"),
    "image/png": (0, b"\x89PNG\r\n\x1a\n"),
    "image/gif": (0, b"GIF89a"),
    "video/mp4": (4, b"ftyp"),
    "video/3gpp": (4, b"ftyp3gp"),
    "audio/mpeg": (0, b"ID3"),
    "audio/wav": (8, b"WAVE"),
    "audio/amr": (0, b"#!AMR\n"),
    "audio/midi": (0, b"MThd"),
}


@pytest.fixture(scope="module")
def media(sandbox: SandboxServer) -> pl.DataFrame:
    return sandbox.account.truth_media()


@pytest.mark.parametrize("media_type", MEDIA_TYPES, ids=lambda t: t.ext)
def test_files_are_real_small_and_distinct(media_type: object) -> None:
    from extract.voipms.sandbox.media_files import MediaType

    assert isinstance(media_type, MediaType)
    one = media_bytes(media_type.mime, "item-1")
    two = media_bytes(media_type.mime, "item-2")
    offset, magic = MAGIC[media_type.mime]
    assert one[offset : offset + len(magic)] == magic
    assert one != two
    assert one == media_bytes(media_type.mime, "item-1")
    assert 100 < len(one) < 8000


def test_get_media_mms_as_object_and_array(
    sandbox: SandboxServer, media: pl.DataFrame, truth: pl.DataFrame
) -> None:
    message_id = int(media.filter(pl.col("position") == 2)["message_id"][0])
    paths = media.filter(pl.col("message_id") == message_id).sort("position")["url_path"].to_list()
    urls = [sandbox.media_base + p for p in paths]
    urls += [""] * (3 - len(urls))
    as_object = api(sandbox, "getMediaMMS", id=message_id)
    date_local = truth.filter((pl.col("kind") == "mms") & (pl.col("id") == message_id))[
        "date_local"
    ][0]
    assert as_object == {
        "status": "success",
        "id": str(message_id),
        "date": date_local,
        "media": {str(i): u for i, u in enumerate(urls, start=1)},
    }
    as_array = api(sandbox, "getMediaMMS", id=message_id, media_as_array=1)
    assert as_array["media"] == urls


def test_get_media_mms_errors(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    assert api(sandbox, "getMediaMMS") == {"status": "missing_sms"}
    assert api(sandbox, "getMediaMMS", id="abc") == {"status": "invalid_sms"}
    only_sms = set(truth.filter(pl.col("kind") == "sms")["id"]) - set(
        truth.filter(pl.col("kind") == "mms")["id"]
    )
    assert api(sandbox, "getMediaMMS", id=min(only_sms)) == {"status": "invalid_sms"}


def test_more_than_three_media(
    sandbox: SandboxServer, truth: pl.DataFrame, media: pl.DataFrame
) -> None:
    row = truth.filter(pl.col("media_count") >= 4).row(0, named=True)
    got = api(sandbox, "getMMS", mms=row["id"])["sms"][0]
    paths = media.filter(pl.col("message_id") == row["id"]).sort("position")["url_path"].to_list()
    assert got["media"] == [sandbox.media_base + p for p in paths]
    assert len(got["media"]) == row["media_count"] > 3
    assert [got["col_media1"], got["col_media2"], got["col_media3"]] == got["media"][:3]
    assert (
        len(api(sandbox, "getMediaMMS", id=row["id"], media_as_array=1)["media"])
        == row["media_count"]
    )


def test_short_media_lists_are_padded(sandbox: SandboxServer, truth: pl.DataFrame) -> None:
    row = truth.filter((pl.col("kind") == "mms") & (pl.col("media_count") == 1)).row(0, named=True)
    got = api(sandbox, "getMMS", mms=row["id"])["sms"][0]
    assert got["media"][1:] == ["", ""]
    assert got["media"][0] == got["col_media1"] != ""
    assert got["col_media2"] == got["col_media3"] == ""


def test_urls_served_with_their_bytes(sandbox: SandboxServer, media: pl.DataFrame) -> None:
    alive = media.filter(~pl.col("expired"))
    sample = pl.concat([alive.filter(pl.col("url_form") == f).head(15) for f in ("map", "path")])
    sample = pl.concat([sample, alive.unique("content_type", keep="first")])
    with httpx.Client() as client:
        for row in sample.iter_rows(named=True):
            response = client.get(sandbox.media_base + row["url_path"])
            assert response.status_code == 200
            assert response.headers["content-type"] == row["content_type"]
            assert hashlib.sha256(response.content).hexdigest() == row["sha256"]
            assert len(response.content) == row["size_bytes"]


def test_url_forms_and_token(media: pl.DataFrame, truth: pl.DataFrame) -> None:
    for row in media.head(50).iter_rows(named=True):
        if row["url_form"] == "map":
            assert row["url_path"] == f"/media.php?map={row['token']}"
        else:
            assert row["url_path"] == f"/media/{row['token']}/media.{row['ext']}"
        epoch_hex, n, mime, tail = base64.b64decode(row["token"]).decode().split("|")
        assert (int(n), mime, tail) == (row["position"], row["content_type"], "MMS")
        sent = truth.filter((pl.col("kind") == "mms") & (pl.col("id") == row["message_id"]))[
            "sent_at"
        ][0]
        assert epoch_hex.startswith(str(int(sent.timestamp())))


def test_expired_media_is_200_not_found(sandbox: SandboxServer, media: pl.DataFrame) -> None:
    expired = media.filter(pl.col("expired"))
    assert expired.height >= 3
    for path in expired["url_path"].head(3):
        response = httpx.get(sandbox.media_base + path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.content == b"Not found"


def test_unknown_media_is_404(sandbox: SandboxServer) -> None:
    token = base64.b64encode(b"1700000000deadbeef|1|image/jpeg|MMS").decode()
    assert httpx.get(f"{sandbox.media_base}/media.php?map={token}").status_code == 404
    assert httpx.get(f"{sandbox.media_base}/media/{token}/media.jpg").status_code == 404


def test_duplicates_share_bytes(sandbox: SandboxServer, media: pl.DataFrame) -> None:
    alive = media.filter(~pl.col("expired"))
    key = alive.filter(pl.col("content_key").is_duplicated())["content_key"][0]
    pair = alive.filter(pl.col("content_key") == key)
    bodies = {httpx.get(sandbox.media_base + p).content for p in pair["url_path"]}
    assert len(bodies) == 1
    assert pair["url_path"].n_unique() == pair.height


def test_media_fetches_are_counted(private_server: SandboxServer) -> None:
    path = private_server.account.truth_media()["url_path"][0]
    httpx.get(private_server.media_base + path)
    httpx.get(private_server.media_base + path)
    assert private_server.call_counts() == {"media": 2}
