"""Run as a script by `png_drawing`: draws the charts read from stdin into their PNG files."""

# Run by path, not as `warehouse.report.png_worker`: a worker imports vl_convert alone, not the
# warehouse package (DuckDB, polars), and so starts in a few hundredths of a second.

from __future__ import annotations

import json
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
        path.write_bytes(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
