"""Run as a script by `png_drawing`: draws the charts read from stdin into their PNG files."""

# Run by path, not as `warehouse.report.png_worker`: a worker imports vl_convert alone, not the
# warehouse package (DuckDB, polars), and so starts in a few hundredths of a second.

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import vl_convert


def main() -> int:
    """Read {"scale": s, "charts": [{"path": p, "spec": {...}}, ...]}; write each PNG to its path.

    Exit 0 when every chart was drawn; otherwise name the chart that failed on stderr, exit 1.
    """
    order = json.load(sys.stdin)
    for chart in order["charts"]:
        path = Path(chart["path"])
        try:
            png = vl_convert.vegalite_to_png(chart["spec"], scale=order["scale"])
        except Exception as error:  # vl-convert raises ValueError; say which chart, then stop
            said = " ".join(str(error).splitlines()[:2])  # what failed, not the JavaScript stack
            print(f"could not draw {path.name}: {said}", file=sys.stderr)
            return 1
        write_new_file(path, png)
    return 0


def write_new_file(path: Path, data: bytes) -> None:
    """`warehouse.new_file.write_new_file`, repeated here: this script imports vl_convert alone."""
    path.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags, 0o666), "wb") as handle:
        handle.write(data)


if __name__ == "__main__":
    sys.exit(main())
