"""The near-limit chart's days sit on its axis whatever time zone draws it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse.report.charts import WIDTH

ROOT = Path(__file__).resolve().parents[2]

# Run in a child: the JavaScript engine vl-convert draws with reads TZ when it starts.
DRAW = """
import json
from datetime import date
import polars as pl
import vl_convert
from warehouse.report.charts import near_send_limit

first, last = date(2024, 11, 1), date(2024, 11, 3)
tables = {
    "totals": pl.DataFrame({"first_day": [first], "last_day": [last]}),
    "near_send_limit": pl.DataFrame(
        {"account": ["me@example.com"] * 2, "did": ["+15145550001"] * 2,
         "local_day": [first, last], "outbound_sms": [88, 90], "headroom": [12, 10]}
    ),
}
graph = vl_convert.vegalite_to_scenegraph(near_send_limit(tables, None))

def points(node):
    if isinstance(node, dict):
        if node.get("marktype") == "symbol" and node.get("role") == "mark":
            yield from (item["x"] for item in node["items"])
        for value in node.values():
            yield from points(value)
    elif isinstance(node, list):
        for value in node:
            yield from points(value)

print(json.dumps(sorted(points(graph))))
"""


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_the_first_and_last_day_are_the_axis_ends_in_any_zone(zone: str) -> None:
    env = {**os.environ, "TZ": zone, "PYTHONPATH": str(ROOT)}
    drawn = subprocess.run(
        [sys.executable, "-c", DRAW], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(drawn.stdout) == [0, WIDTH]
