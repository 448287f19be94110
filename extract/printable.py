"""Text from outside (a provider's answer, the archive) fit for a terminal: controls escaped."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with each character that is not printable as a `\\xNN` escape: none then moves
    the cursor, clears the screen or retitles the window."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
