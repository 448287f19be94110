"""Charts are plain Vega-Lite specs that draw, whatever the length of their tables."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl
import pytest
import vl_convert

from tests.report.archive_rows import TZ
from warehouse.report import ReportScope, report_tables, scope_line
from warehouse.report.charts import (
    CHARTS,
    PERIOD_CHARTS,
    SPLIT_COLOURS,
    STATUS_COLOURS,
    channel,
    chart_specs,
    values,
)
from warehouse.report.report_files import png_spec, png_specs


def test_a_table_of_sixteen_years_of_days_charts_whole(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ, grain="day")
    tables = report_tables(conversations, scope)
    sample = tables["volume_by_period"]
    assert sample.height > 0
    days = 6_000  # sixteen years of days: every one reaches the chart
    first = sample.row(0, named=True)
    long = pl.DataFrame(
        [{**first, "period": date(2010, 1, 1) + timedelta(days=i)} for i in range(days)],
        schema=sample.schema,
    )
    tables["volume_by_period"] = long
    specs = chart_specs(tables, scope)
    values = [
        spec["datasets"][name]
        for spec in specs.values()
        if "datasets" in spec
        for name in spec["datasets"]
    ]
    assert max(len(v) for v in values) >= days


def test_channel_reads_field_aggregate_and_type() -> None:
    assert channel("sum(messages):Q", title="messages") == {
        "aggregate": "sum",
        "field": "messages",
        "type": "quantitative",
        "title": "messages",
    }
    assert channel("local_day:T") == {"field": "local_day", "type": "temporal"}
    with pytest.raises(ValueError, match="shorthand"):
        channel("messages")


def test_values_are_json_vega_reads_days_as_midnight_and_nan_as_null() -> None:
    frame = pl.DataFrame(
        {"day": [date(2024, 3, 1), None], "rate": [float("nan"), 0.5], "n": [1, 2]}
    )
    rows = values(frame)
    assert rows == [
        {"day": "2024-03-01T00:00:00", "rate": None, "n": 1},
        {"day": None, "rate": 0.5, "n": 2},
    ]
    json.dumps(rows, allow_nan=False)


def test_every_chart_draws_and_its_data_is_strict_json(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    specs = chart_specs(tables, scope)
    assert list(specs) == list(CHARTS)  # every chart, in the page's order
    for name, spec in specs.items():
        json.dumps(spec, allow_nan=False)
        svg = vl_convert.vegalite_to_svg(spec)
        assert "<svg" in svg, name
        for layer in spec.get("layer", [spec]):
            assert layer["data"]["name"] in spec["datasets"], name


def test_weeks_without_messages_keep_their_place_on_the_axis(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    # messages in the weeks of Jan 1, Jan 8 and Jan 29: Jan 15 and Jan 22 are quiet
    scope = ReportScope(TZ)
    specs = chart_specs(report_tables(conversations, scope), scope)
    weeks = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29"]
    for name in ("volume_by_direction", "volume_by_kind", "status_by_period"):
        x = specs[name]["encoding"]["x"]
        assert x["scale"]["domain"][: len(weeks)] == weeks, name
        svg = vl_convert.vegalite_to_svg(specs[name])
        assert ">2024-01-15<" in svg, name  # an axis label of its own


def test_quiet_periods_at_the_scopes_ends_are_on_the_axis_too(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    # the scope's days run from a Wednesday before the first message to well after the last
    scope = ReportScope(TZ, start=date(2023, 12, 27), end=date(2024, 2, 21))
    specs = chart_specs(report_tables(conversations, scope), scope)
    for name in ("volume_by_direction", "volume_by_kind", "status_by_period"):
        domain = specs[name]["encoding"]["x"]["scale"]["domain"]
        assert domain[0] == "2023-12-25", name  # the week holding the scope's first day
        assert domain[-1] == "2024-02-19", name  # and its last
        assert len(domain) == 9, name


def _drawn(node: object, field: str, **match: str) -> list[str]:
    """`field` of every item of the scenegraph nodes (vl-convert's) whose keys match `match`:
    role="legend-label" for the legend's texts, marktype="rect" for a heatmap's cells."""
    found: list[str] = []
    if isinstance(node, dict):
        if all(node.get(key) == value for key, value in match.items()):
            found += [item[field] for item in node.get("items", [])]
        for value in node.values():
            found += _drawn(value, field, **match)
    elif isinstance(node, list):
        for value in node:
            found += _drawn(value, field, **match)
    return found


def _items(node: object, **match: str) -> list[dict[str, Any]]:
    """Every item of the scenegraph nodes whose keys match `match` (see `_drawn`)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if all(node.get(key) == value for key, value in match.items()):
            found += node.get("items", [])
        for value in node.values():
            found += _items(value, **match)
    elif isinstance(node, list):
        for value in node:
            found += _items(value, **match)
    return found


def _legend_labels(graph: object) -> list[str]:
    return _drawn(graph, "text", role="legend-label")


def _axis_labels(graph: object) -> list[str]:
    return _drawn(graph, "text", role="axis-label")


def _cell_fills(graph: object) -> list[str]:
    return _drawn(graph, "fill", marktype="rect", role="mark")


@pytest.mark.parametrize(
    ("accounts", "labels"),
    [
        (["a@example.com"], ["+15145550001", "all DIDs"]),
        (
            ["a@example.com", "b@example.com"],
            ["+15145550001", "all DIDs of a@example.com", "all DIDs of b@example.com"],
        ),
    ],
)
def test_each_accounts_all_dids_days_are_a_series_of_their_own(
    conversations: duckdb.DuckDBPyConnection, accounts: list[str], labels: list[str]
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    day = date(2024, 1, 3)
    rows = [("a@example.com", "+15145550001", 85)] + [(a, "*", 90) for a in accounts]
    tables["near_send_limit"] = pl.DataFrame(
        {
            "account": [account for account, _, _ in rows],
            "did": [did for _, did, _ in rows],
            "local_day": [day] * len(rows),
            "outbound_sms": [sms for _, _, sms in rows],
            "headroom": [100 - sms for _, _, sms in rows],
        }
    )
    spec = chart_specs(tables, scope)["near_send_limit"]
    graph = vl_convert.vegalite_to_scenegraph(spec)
    assert sorted(_legend_labels(graph)) == labels


def test_an_hour_without_messages_is_the_palest_cell_even_when_no_hour_has_any(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    busy = tables["hour_by_weekday"]
    assert busy["messages"].min() == 0
    assert busy["messages"].max() > 0
    fills = _cell_fills(
        vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)["hour_by_weekday"])
    )
    quiet_fill = fills[busy["messages"].to_list().index(0)]
    tables["hour_by_weekday"] = busy.with_columns(messages=pl.lit(0, busy["messages"].dtype))
    empty = _cell_fills(
        vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)["hour_by_weekday"])
    )
    assert set(empty) == {quiet_fill}


def test_the_latency_axis_is_labelled_in_minutes_hours_and_days(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    tables["reply_stats"] = pl.DataFrame(
        {
            "did": ["+15145550001", "*"],
            "turns": [10, 10],
            "replied": [9, 9],
            "reply_rate": [0.9, 0.9],
            "within_day_rate": [0.8, 0.8],
            "median_minutes": [11.0, 11.0],
            "p90_minutes": [8537.81, 8537.81],  # 5.9 days
        }
    )
    graph = vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)["reply_latency"])
    labels = _axis_labels(graph)
    for label in ("1 min", "10 min", "1 h", "6 h", "1 d", "7 d"):
        assert label in labels, labels
    assert "30 d" not in labels  # past the longest bar's tick
    assert sorted(set(_legend_labels(graph))) == ["median", "p90"]  # not the CSV's columns


def test_an_hour_without_messages_is_white(conversations: duckdb.DuckDBPyConnection) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    tables["hour_by_weekday"] = tables["hour_by_weekday"].with_columns(
        messages=pl.lit(0, tables["hour_by_weekday"]["messages"].dtype)
    )
    graph = vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)["hour_by_weekday"])
    assert set(_cell_fills(graph)) == {"rgb(255, 255, 255)"}


def _bar_fills(spec: dict[str, object]) -> list[str]:
    return _cell_fills(vl_convert.vegalite_to_scenegraph(spec))


def test_sms_are_drawn_in_one_colour_whether_or_not_a_report_holds_mms(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    mixed = chart_specs(tables, scope)["volume_by_kind"]
    sms_only = dict(tables)
    sms_only["volume_by_period"] = tables["volume_by_period"].filter(pl.col("kind") == "sms")
    alone = chart_specs(sms_only, scope)["volume_by_kind"]
    assert set(_bar_fills(alone)) == {SPLIT_COLOURS["kind"]["sms"]}
    assert set(_bar_fills(mixed)) == set(SPLIT_COLOURS["kind"].values())


def test_each_dids_bar_is_one_per_direction_and_rates_run_to_a_hundred(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    specs = chart_specs(tables, scope)
    pairs = tables["volume_by_did"].select("did", "direction").unique().height
    assert tables["volume_by_did"].height > pairs  # a DID sends SMS and MMS both
    assert len(_bar_fills(specs["volume_by_did"])) == pairs  # not split by kind
    rates = _axis_labels(vl_convert.vegalite_to_scenegraph(specs["delivery_rate"]))
    assert "100%" in rates


def test_a_single_days_near_limit_chart_has_a_time_axis(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    day = date(2024, 1, 3)
    scope = ReportScope(TZ, start=day, end=day)
    tables = report_tables(conversations, scope)
    tables["totals"] = tables["totals"].with_columns(first_day=pl.lit(day), last_day=pl.lit(day))
    tables["near_send_limit"] = pl.DataFrame(
        {
            "account": ["a@example.com"],
            "did": ["+15145550001"],
            "local_day": [day],
            "outbound_sms": [114],
            "headroom": [-14],
        }
    )
    graph = vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)["near_send_limit"])
    assert any("Jan 03" in label or "2024-01-03" in label for label in _axis_labels(graph))


def test_a_png_says_what_it_covers_under_its_title(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ, did="+15550000001", grain="month")
    tables = report_tables(conversations, scope)
    spec = chart_specs(tables, scope)["volume_by_direction"]
    graph = vl_convert.vegalite_to_scenegraph(png_spec(spec, scope.describe()))
    texts = _drawn(graph, "text", role="title-subtitle")
    assert texts == [scope.describe()]
    assert _drawn(vl_convert.vegalite_to_scenegraph(spec), "text", role="title-subtitle") == []


def test_only_charts_drawn_by_period_name_the_period_under_their_title(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    drawn = png_specs(chart_specs(tables, scope), scope, tables)
    by_week = {
        name for name, spec in drawn.items() if spec["title"]["subtitle"].endswith("by week")
    }
    assert by_week == PERIOD_CHARTS == {"volume_by_direction", "volume_by_kind", "status_by_period"}
    assert drawn["top_contacts"]["title"]["subtitle"] == scope_line(scope, tables, grain=False)


def test_status_charts_count_outbound_messages_and_leave_received_out(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    assert "received" in tables["status_by_did"]["status"].to_list()
    for name in ("status_by_did", "status_by_period"):
        graph = vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)[name])
        assert "received" not in _legend_labels(graph), name
        assert STATUS_COLOURS["received"] not in _bar_fills(chart_specs(tables, scope)[name])


def test_every_did_together_is_labelled_in_words_and_a_long_latency_stays_on_the_axis(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    tables["reply_stats"] = tables["reply_stats"].with_columns(p90_minutes=pl.lit(2 * 525600.0))
    specs = chart_specs(tables, scope)
    for name in ("delivery_rate", "reply_latency"):
        labels = _axis_labels(vl_convert.vegalite_to_scenegraph(specs[name]))
        assert "all DIDs" in labels, name
        assert "*" not in labels, name
    domain = specs["reply_latency"]["layer"][0]["encoding"]["x"]["scale"]["domain"]
    assert domain == [0, 2 * 525600.0]


def test_months_are_labelled_as_months_and_the_axis_names_its_zone(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ, grain="month")
    tables = report_tables(conversations, scope)
    graph = vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)["volume_by_direction"])
    assert "2024-01" in _axis_labels(graph)
    assert "2024-01-01" not in _axis_labels(graph)
    assert f"month (local, {TZ})" in _drawn(graph, "text", role="axis-title")


def test_the_send_limit_lines_are_labelled_on_the_chart(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    graph = vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)["near_send_limit"])
    assert sorted(_drawn(graph, "text", marktype="text", role="mark")) == [
        "limit (100)",
        "near (80)",
    ]


def test_twenty_dids_near_the_limit_are_told_apart_and_its_labels_do_not_collide(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    dids = [f"+1514555{n:04d}" for n in range(20)]
    tables["near_send_limit"] = pl.DataFrame(
        {
            "account": ["a@example.com"] * 20,
            "did": dids,
            "local_day": [date(2024, 1, 1) + timedelta(days=n) for n in range(20)],
            "outbound_sms": [80 + 16 * n for n in range(20)],  # up to 384: a tall scale
            "headroom": [20 - 16 * n for n in range(20)],
        }
    )
    graph = vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)["near_send_limit"])
    assert len(set(_drawn(graph, "fill", marktype="symbol", role="mark"))) == 20

    def box(item: dict[str, Any]) -> tuple[float, float]:
        """The label's vertical extent: above its y for a bottom baseline, below for a top."""
        size = float(item.get("fontSize", 11))
        y = float(item["y"]) + float(item.get("dy", 0))
        return (y - size, y) if item.get("baseline") == "bottom" else (y, y + size)

    labels = {item["text"]: box(item) for item in _items(graph, marktype="text", role="mark")}
    (limit_top, limit_bottom), (near_top, _) = labels["limit (100)"], labels["near (80)"]
    assert limit_top < limit_bottom <= near_top


def test_with_one_did_its_rates_are_drawn_once_not_again_as_all_dids(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    did = "+15550000001"
    scope = ReportScope(TZ, did=did)
    tables = report_tables(conversations, scope)
    assert set(tables["delivery_rate"]["did"]) == {did, "*"}  # the table keeps both rows
    specs = chart_specs(tables, scope)
    for name in ("delivery_rate", "reply_latency"):
        labels = _axis_labels(vl_convert.vegalite_to_scenegraph(specs[name]))
        assert did in labels, name
        assert "all DIDs" not in labels, name


def test_a_did_whose_turns_went_unanswered_is_on_the_latency_chart_and_says_so(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    scope = ReportScope(TZ)
    tables = report_tables(conversations, scope)
    tables["reply_stats"] = pl.DataFrame(
        {
            "did": ["+15145550001", "+15145550009", "*"],
            "turns": [10, 2, 12],
            "replied": [9, 0, 9],
            "reply_rate": [0.9, 0.0, 0.75],
            "within_day_rate": [0.8, 0.0, 0.67],
            "median_minutes": [11.0, None, 11.0],
            "p90_minutes": [40.0, None, 40.0],
        }
    )
    graph = vl_convert.vegalite_to_scenegraph(chart_specs(tables, scope)["reply_latency"])
    assert "+15145550009" in _axis_labels(graph)
    assert _drawn(graph, "text", marktype="text", role="mark") == ["no turn answered"]


def test_an_open_ended_report_names_the_days_it_covers(
    conversations: duckdb.DuckDBPyConnection,
) -> None:
    from warehouse.report.summary import scope_line

    scope = ReportScope(TZ, end=date(2024, 1, 31))
    tables = report_tables(conversations, scope)
    first = tables["totals"]["first_day"][0]
    assert scope_line(scope, tables) == f"{first} to 2024-01-31 ({TZ}), all DIDs, by week"
    spec = chart_specs(tables, scope)["volume_by_direction"]
    graph = vl_convert.vegalite_to_scenegraph(png_spec(spec, scope_line(scope, tables)))
    assert _drawn(graph, "text", role="title-subtitle") == [scope_line(scope, tables)]
