"""Issue 6's targets as checks over one benchmark result, and the table that shows them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Row:
    """One line of the table: a measurement, what it is compared with, and the verdict."""

    name: str
    value: str
    yardstick: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the JSON file."""
        return asdict(self)


def verdict(met: bool | None) -> str:
    """'met', 'MISSED' or blank."""
    if met is None:
        return ""
    return "met" if met else "MISSED"


def render_text(rows: list[Row]) -> str:
    """A fixed-width table for the terminal."""
    headers = ("measure", "value", "yardstick", "ratio", "target", "verdict")
    cells = [(r.name, r.value, r.yardstick, r.ratio, r.target, verdict(r.met)) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def render_markdown(rows: list[Row]) -> str:
    """The same table in Markdown, for benchmarks/README.md."""
    lines = [
        "| measure | value | yardstick | ratio | target | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = (r.name, r.value, r.yardstick, r.ratio, r.target, verdict(r.met))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
