"""Byte counts as a person reads them, in decimal units (1 MB = 1,000,000 bytes)."""

from __future__ import annotations


def size_text(size: int | None) -> str:
    """`512 B`, `166.4 kB`, `3.2 GB`: the largest unit that leaves less than 1,000 of it."""
    value = float(size or 0)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000:
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} TB"
