"""Media download: fetch MMS media files from allowed hosts into a store named by sha256."""

# results_frame (extract.media.result_frame) is not re-exported here: it imports polars, which
# every media download child process would then load for nothing.

from extract.media.download import download_each, download_media
from extract.media.records import MediaItem, MediaResult, MediaState
from extract.media.sniffing import is_expired_marker, sniff_content_type
from extract.media.storage import (
    absent_files,
    clean_stale_temp,
    flush_to_disk,
    is_stored,
    stored_path,
)
from extract.media.url_policy import UrlPolicy

__all__ = [
    "MediaItem",
    "MediaResult",
    "MediaState",
    "UrlPolicy",
    "absent_files",
    "clean_stale_temp",
    "download_each",
    "download_media",
    "flush_to_disk",
    "is_expired_marker",
    "is_stored",
    "sniff_content_type",
    "stored_path",
]
