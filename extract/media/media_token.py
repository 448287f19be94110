"""What a VoIP.ms media URL's token says of its file: the type the provider announced."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final
from urllib.parse import unquote

MEDIA_URL_FORMS: Final = r"(?:[?&]map=([^&#]+)|/media/([^/?#]+)/)"
"""A media URL's token, in group 1 or 2: `media.php?map=<base64>` or
`/media/<base64>/media.<ext>` (API notes §4); it decodes to `<epoch><hex>|<n>|<mime>|MMS`."""

_TOKEN: Final = re.compile(MEDIA_URL_FORMS)


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
