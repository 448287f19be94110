"""What a VoIP.ms media URL's token says of its file: the type the provider announced."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final
from urllib.parse import unquote

_TOKEN: Final = re.compile(r"(?:[?&]map=([^&#]+)|/media/([^/?#]+)/)")
"""`media.php?map=<base64>` or `/media/<base64>/media.<ext>` (API notes §4)."""


def announced_type(url: str) -> str | None:
    """The media type a media URL's token names (`<epoch><hex>|<n>|<mime>|MMS`, lowercase),
    or None when the URL carries no such token."""
    found = _TOKEN.search(url)
    if found is None:
        return None
    token = unquote(found.group(1) or found.group(2)).replace("-", "+").replace("_", "/")
    try:
        text = base64.b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    parts = text.split("|")
    if len(parts) < 4 or parts[-1] != "MMS":
        return None
    mime = parts[2].strip().lower()
    return mime if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", mime) else None
