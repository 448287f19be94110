"""The Vega scripts the report page inlines: bundled once per vl-convert version, kept on disk."""

from __future__ import annotations

import os
from functools import cache
from importlib.metadata import version
from pathlib import Path

import vl_convert


def bundle_path() -> Path | None:
    """`$XDG_CACHE_HOME/smsarchive/vega-bundle-<vl-convert version>.js` (default `~/.cache`).

    None when there is no home folder to put it in.
    """
    xdg = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(xdg) if xdg else Path.home() / ".cache"
    except RuntimeError:
        return None
    return base / "smsarchive" / f"vega-bundle-{version('vl-convert-python')}.js"


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script (vl-convert's copies; no CDN).

    vl-convert bundles them anew in every process (about 2 s of CPU), yet the result depends
    only on its version: it is kept in the user's cache folder and read back from there. A cache
    that cannot be read or written is skipped, never an error.
    """
    path = bundle_path()
    if path is not None:
        try:
            kept = path.read_text(encoding="utf-8")
        except OSError:
            kept = ""
        if "vegaEmbed" in kept:
            return kept
    # Without a snippet vl-convert bundles once per process and sets `window.vegaEmbed`;
    # its type stub wrongly marks the snippet as required.
    bundle: str = vl_convert.javascript_bundle()  # type: ignore[call-arg]
    if path is not None:
        _store(path, bundle)
    return bundle


def _store(path: Path, text: str) -> None:
    # written beside its place and renamed: a reader never sees half a bundle
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
