"""Chart PNGs drawn by worker processes are the PNGs vl-convert draws, split by cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.report.archive_rows import TZ
from warehouse.report import ReportScope, chart_specs, report_tables
from warehouse.report.charts import Spec, top_contacts
from warehouse.report.png_drawing import (
    ChartDrawingError,
    built_in_font_suffices,
    draw_pngs,
    drawing_environment,
    shares,
)

DRAW = """
import json, sys, vl_convert
order = json.load(sys.stdin)
pngs = [vl_convert.vegalite_to_png(spec, scale=order["scale"]) for spec in order["specs"]]
print(json.dumps([png.hex() for png in pngs]))
"""


def vl_convert_pngs(specs: list[Spec], scale: float, env: Mapping[str, str]) -> list[bytes]:
    """Each spec as vl-convert draws it, in a process of its own with `env` (vl-convert reads
    its fonts once a process)."""
    drawn = subprocess.run(
        [sys.executable, "-c", DRAW],
        input=json.dumps({"scale": scale, "specs": specs}),
        capture_output=True,
        text=True,
        check=True,
        env=dict(env),
    )
    return [bytes.fromhex(png) for png in json.loads(drawn.stdout)]


def titled(title: str) -> Spec:
    return {
        "title": title,
        "mark": "bar",
        "data": {"values": [{"a": 1}]},
        "encoding": {"x": {"field": "a", "type": "quantitative"}},
    }


def test_worker_pngs_are_the_pngs_vl_convert_draws(
    conversations: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    scope = ReportScope(TZ)
    specs = chart_specs(report_tables(conversations, scope), scope)
    paths = {name: tmp_path / f"{name}.png" for name in specs}
    draw_pngs({paths[name]: spec for name, spec in specs.items()}, scale=1.5)
    with drawing_environment(specs.values()) as env:
        expected = vl_convert_pngs(list(specs.values()), 1.5, env)
    for name, png in zip(specs, expected, strict=True):
        assert paths[name].read_bytes() == png, name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())


def test_latin_text_is_drawn_by_the_built_in_font_not_the_systems(tmp_path: Path) -> None:
    # vl-convert reopens a system font's file for each piece of text; its own font is in memory
    specs = [titled("Messages de l'été: Zürich, Łódź, Ærø ſ"), titled("")]
    with drawing_environment(specs) as env:
        config = Path(env["FONTCONFIG_FILE"])
        said = config.read_text()
        folders = [Path(line.split("<dir>")[1].split("</dir>")[0]) for line in said.splitlines()]
        assert len(folders) == 1
        assert folders[0].is_dir()
        assert list(folders[0].iterdir()) == []
        with_title, without = vl_convert_pngs(specs, 1, env)
    assert with_title != without  # the title is drawn: the built-in font has its glyphs
    assert not config.exists()
    assert not folders[0].exists()


@pytest.mark.parametrize("text", ["ƀ", "Ψ", "短信", "🙂"])
def test_text_past_latin_is_drawn_with_the_systems_fonts(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FONTCONFIG_FILE", "/etc/fonts/fonts.conf")
    assert built_in_font_suffices([titled("ſ")])
    assert not built_in_font_suffices([titled(f"messages {text}")])
    with drawing_environment([titled("ok"), titled(text)]) as env:
        assert env == dict(os.environ)


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
