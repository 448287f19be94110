"""Numbers as a person reads them: counts with their noun, bytes in decimal units."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """`1 DID`, `2 DIDs`, `4,080 messages`."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def size_text(size: int | None) -> str:
    """`512 B`, `166.4 kB`, `3.2 GB` (1 MB = 1,000,000 bytes): the largest unit that leaves
    less than 1,000 of it."""
    value = float(size or 0)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000:
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} TB"
