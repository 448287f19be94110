"""The report's charts drawn as PNG files by worker processes, side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

from warehouse.errors import WarehouseError
from warehouse.report.charts import Spec

WORKER: Final = Path(__file__).with_name("png_worker.py")
MAX_WORKERS: Final = 4
CHART_COST: Final = 300_000
"""What drawing any chart costs beyond its spec's size, in characters of JSON. Measured on the
report of 10M messages: about 0.18 s a chart plus 0.5 µs per character (a 20-bar chart whose
spec is 4,000 characters long takes 0.18 s, a 1,500-line one of 150,000 characters 0.27 s)."""


BUILT_IN_FONT_REACH: Final = "\u0180"
"""Text whose every character sorts below this (Latin-1 and Latin Extended-A: English,
French, Spanish, German, Polish, Czech, ...) is drawn by the Liberation Sans built into
vl-convert as by Debian's (every such character drawn with both: the same widths, pixels
apart only in anti-aliasing). Past it (Latin Extended-B, Greek, CJK, emoji) the system's
fonts may hold glyphs the built-in one lacks."""


class ChartDrawingError(WarehouseError):
    """A chart could not be drawn."""


def usable_cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def shares(costs: Mapping[Path, int], workers: int) -> list[list[Path]]:
    """The charts split among `workers` (none left empty), each next to the least loaded, the
    costliest first; at least one share."""
    loads = [0] * max(1, workers)
    split: list[list[Path]] = [[] for _ in loads]
    for path in sorted(costs, key=lambda p: (-costs[p], str(p))):
        least = loads.index(min(loads))
        loads[least] += costs[path]
        split[least].append(path)
    return [share for share in split if share]


def draw_pngs(charts: Mapping[Path, Spec], *, scale: float) -> None:
    """Write each chart's PNG to its path, drawn by up to one worker process per core.

    vl-convert draws one chart at a time in a process (its JavaScript engine is single
    threaded), while a report is drawn on a machine with idle cores; workers run a script that
    imports vl-convert alone. Raises ChartDrawingError naming the chart that failed.
    """
    if not charts:
        return
    costs = {path: len(json.dumps(spec)) + CHART_COST for path, spec in charts.items()}
    workers = min(MAX_WORKERS, usable_cores(), len(charts))
    orders = [
        json.dumps({"scale": scale, "charts": [{"path": str(p), "spec": charts[p]} for p in share]})
        for share in shares(costs, workers)
    ]
    with (
        drawing_environment(charts.values()) as env,
        ThreadPoolExecutor(max_workers=len(orders)) as pool,
    ):
        failures = [error for error in pool.map(lambda order: _draw(order, env), orders) if error]
    if failures:
        raise ChartDrawingError("; ".join(failures))


def built_in_font_suffices(specs: Iterable[Spec]) -> bool:
    """Whether every character of the charts' text is one vl-convert's built-in font draws."""
    text = json.dumps(list(specs), ensure_ascii=False)
    return max(text, default=" ") < BUILT_IN_FONT_REACH


@contextmanager
def drawing_environment(specs: Iterable[Spec]) -> Iterator[dict[str, str]]:
    """The workers' environment: where the built-in font suffices, one whose fontconfig names
    a folder of no fonts (its own, removed after), so vl-convert loads no system font.

    vl-convert 1.9 opens and maps a system font's file again for every piece of text it
    measures or draws (about 40,000 times for the report of 10M messages, 0.8 s of system
    time); its built-in Liberation Sans is read from memory. The charts look the same: same
    metrics, glyphs drawn by a newer version of the same font.
    """
    if not built_in_font_suffices(specs):
        yield dict(os.environ)
        return
    with tempfile.TemporaryDirectory(prefix="smsarchive-fonts-") as folder:
        no_fonts = Path(folder) / "none"
        no_fonts.mkdir()
        config = Path(folder) / "fonts.conf"
        # a config naming no folder would have vl-convert fall back to the usual ones
        config.write_text(f"<fontconfig><dir>{escape(str(no_fonts))}</dir></fontconfig>\n")
        yield {**os.environ, "FONTCONFIG_FILE": str(config)}


def _draw(order: str, env: Mapping[str, str]) -> str | None:
    """One worker's share drawn; None, or what went wrong."""
    worker = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-P", str(WORKER)],  # -P: not its folder on sys.path
        input=order.encode(),
        capture_output=True,
        check=False,
        env=env,
    )
    if worker.returncode == 0:
        return None
    said = worker.stderr.decode(errors="replace").strip().splitlines()
    return said[-1] if said else f"the chart drawing process ended with {worker.returncode}"
