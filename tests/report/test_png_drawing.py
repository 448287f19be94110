"""Chart PNGs drawn by worker processes are the PNGs vl-convert draws, split by cost."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
import vl_convert

from tests.report.archive_rows import TZ
from warehouse.report import ReportScope, chart_specs, report_tables
from warehouse.report.charts import top_contacts
from warehouse.report.png_drawing import ChartDrawingError, draw_pngs, shares


def test_worker_pngs_are_the_pngs_vl_convert_draws(
    conversations: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    scope = ReportScope(TZ)
    specs = chart_specs(report_tables(conversations, scope), scope)
    paths = {name: tmp_path / f"{name}.png" for name in specs}
    draw_pngs({paths[name]: spec for name, spec in specs.items()}, scale=1.5)
    for name, spec in specs.items():
        assert paths[name].read_bytes() == vl_convert.vegalite_to_png(spec, scale=1.5), name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())


def test_a_chart_that_cannot_be_drawn_is_named(tmp_path: Path) -> None:
    good = {"mark": "bar", "data": {"values": [{"a": 1}]}, "encoding": {"x": {"field": "a"}}}
    bad = {**good, "mark": "no-such-mark"}
    with pytest.raises(ChartDrawingError, match=r"could not draw broken\.png: Vega-Lite .*\S"):
        draw_pngs({tmp_path / "fine.png": good, tmp_path / "broken.png": bad}, scale=1)


def test_shares_balance_the_costliest_first_and_leave_none_empty() -> None:
    costs = {Path(name): cost for name, cost in (("a", 9), ("b", 5), ("c", 4), ("d", 3), ("e", 1))}
    split = shares(costs, 2)
    assert split == [[Path("a"), Path("d")], [Path("b"), Path("c"), Path("e")]]  # 12 and 10
    assert shares(costs, 9) == [[Path(name)] for name in "abcde"]
    assert shares({Path("x"): 1}, 0) == [[Path("x")]]
    assert shares({}, 3) == []


def test_control_characters_in_a_contact_do_not_stop_the_drawing(tmp_path: Path) -> None:
    # vl-convert's renderer aborts its whole process on some control characters in a label
    tables = {
        "top_contacts": pl.DataFrame(
            {
                "contact": ["a\x1bb", "c\x07d", "+15145550199"],
                "messages": [3, 2, 1],
                "inbound": [2, 1, 1],
                "outbound": [1, 1, 0],
                "dids": [1, 1, 1],
            }
        )
    }
    spec = top_contacts(tables, ReportScope(TZ))
    draw_pngs({tmp_path / "top_contacts.png": spec}, scale=1)
    assert (tmp_path / "top_contacts.png").read_bytes().startswith(b"\x89PNG")
