"""Vega-Lite charts of the report tables, one per question, written as plain specs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Final

import polars as pl

from warehouse.report.params import ReportScope
from warehouse.report.partial_periods import period_start

Spec = dict[str, Any]

SCHEMA: Final = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
CONFIG: Final[Spec] = {"view": {"continuousWidth": 300, "continuousHeight": 300}}
"""The view size every chart was drawn with when the specs were built with Altair (its default)."""
STATUS_COLOURS: Final = {
    "delivered": "#2ca02c",
    "sent": "#98df8a",
    "pending": "#ffbb78",
    "failed": "#d62728",
    "received": "#1f77b4",
    "unknown": "#7f7f7f",
}
SPLIT_COLOURS: Final[dict[str, dict[str, str]]] = {
    "direction": {"inbound": "#1f77b4", "outbound": "#ff7f0e"},
    "kind": {"sms": "#1f77b4", "mms": "#9467bd"},
    "state": {
        "stored": "#2ca02c",
        "expired": "#7f7f7f",
        "failed": "#d62728",
        "pending": "#ffbb78",
    },
}
"""One colour per value, whatever values a report holds: an archive of SMS alone would
otherwise draw them in the colour other reports give MMS."""
WIDTH: Final = 640
MOST_BARS: Final = WIDTH // 2
"""The most periods a period chart draws readably: two pixels a bar (more, and the page
says so; without --grain, months are drawn instead of weeks)."""
LABEL_SPACING: Final = 50
"""Pixels a slanted date label needs along the axis (Vega hides the overlapping ones)."""

_TYPES: Final = {"Q": "quantitative", "N": "nominal", "O": "ordinal", "T": "temporal"}
_SHORTHAND: Final = re.compile(r"(?:(?P<aggregate>\w+)\()?(?P<field>\w+)\)?:(?P<type>[QNOT])")


def channel(shorthand: str, **options: Any) -> Spec:
    """An encoding channel from `field:T` or `aggregate(field):T` (T one of Q, N, O, T)."""
    match = _SHORTHAND.fullmatch(shorthand)
    if match is None:
        raise ValueError(f"not a channel shorthand: {shorthand!r}")
    spec: Spec = {"field": match["field"], "type": _TYPES[match["type"]]}
    if match["aggregate"]:
        spec = {"aggregate": match["aggregate"], **spec}
    return {**spec, **options}


def tooltip(*shorthands: str) -> list[Spec]:
    """A tooltip channel listing `shorthands`."""
    return [channel(shorthand) for shorthand in shorthands]


def values(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """A frame as Vega data rows: days and instants as ISO text, NaN as null, control
    characters in text (a contact's, a carrier status's) as U+FFFD: vl-convert's renderer
    aborts the whole process on some of them."""
    return frame.with_columns(
        pl.col(pl.Utf8).str.replace_all(r"[\x00-\x1f\x7f-\x9f]", "\ufffd"),
        pl.col(pl.Date).cast(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        pl.col(pl.Float32, pl.Float64).fill_nan(None),
    ).to_dicts()


def whole_chart(title: str, datasets: dict[str, pl.DataFrame], **spec: Any) -> Spec:
    """A chart as the page draws it: schema, view size, title, `spec`, and its data by name."""
    return {
        "$schema": SCHEMA,
        "config": CONFIG,
        "title": title,
        **spec,
        "datasets": {name: values(frame) for name, frame in datasets.items()},
    }


def chart(name: str, frame: pl.DataFrame, title: str, **spec: Any) -> Spec:
    """A one-layer chart of `frame`: its data named after the chart, `spec` the rest."""
    return whole_chart(title, {name: frame}, data={"name": name}, **spec)


def _outbound_status_colour() -> Spec:
    """Statuses in their fixed colours, for charts of outbound messages: no 'received'."""
    outbound = {status: colour for status, colour in STATUS_COLOURS.items() if status != "received"}
    return channel(
        "status:N",
        title="status",
        scale={"domain": list(outbound), "range": list(outbound.values())},
    )


def split_colour(field: str, **options: Any) -> Spec:
    """A colour channel for `field` (direction, kind, state) with its fixed colours."""
    colours = SPLIT_COLOURS[field]
    return channel(
        f"{field}:N",
        scale={"domain": list(colours), "range": list(colours.values())},
        **options,
    )


def _with_text_period(frame: pl.DataFrame) -> pl.DataFrame:
    # a Date would reach Vega as a midnight timestamp string
    return frame.with_columns(pl.col("period").cast(pl.Utf8))


def labelled_periods(periods: list[str]) -> list[str]:
    """The periods an axis labels: every k-th, k the least power of two that leaves room.

    That is what Vega's own overlap removal (`labelOverlap`, halving) shows; but it measures
    every label's text first, which for years of days or weeks was most of a chart's drawing.
    """
    step = 1
    while len(periods) * LABEL_SPACING > WIDTH * step:
        step *= 2
    return periods[::step]


def every_period(
    periods: list[str], grain: str, start: date | None = None, end: date | None = None
) -> list[str]:
    """Every period (ISO days, as the report's SQL truncates them) from the one holding `start`,
    else the first of `periods`, to the one holding `end`, else the last: a quiet week is a
    gap on the axis, not two bars side by side, and quiet days at the scope's ends are days
    on it, not days left out."""
    interval = {"day": "1d", "week": "1w", "month": "1mo"}[grain]
    ends = [date.fromisoformat(p) for p in periods]
    first = period_start(start, grain) if start is not None else min(ends, default=None)
    last = period_start(end, grain) if end is not None else max(ends, default=None)
    if first is None or last is None or first > last:
        return sorted(set(periods))
    days = pl.date_range(first, last, interval, eager=True)
    return days.cast(pl.Utf8).to_list()


def _period_axis(scope: ReportScope, frame: pl.DataFrame) -> Spec:
    # ordinal, so a bar is as wide as its period whatever the grain; its domain lists every
    # period of the scope, so that periods without messages keep their place
    periods = every_period(frame["period"].to_list(), scope.grain, scope.start, scope.end)
    axis: Spec = {"labelOverlap": True, "labelAngle": -45, "values": labelled_periods(periods)}
    if scope.grain == "month":
        axis["labelExpr"] = "substring(datum.label, 0, 7)"  # 2024-01, not its first day
    return channel(
        "period:O",
        title=f"{scope.grain} (local, {scope.timezone})",
        scale={"domain": periods},
        axis=axis,
    )


def _volume(tables: dict[str, pl.DataFrame], scope: ReportScope, split: str) -> Spec:
    frame = _with_text_period(tables["volume_by_period"])
    return chart(
        f"volume_by_{split}",
        frame,
        f"Messages per {scope.grain}, by {split}",
        mark={"type": "bar"},
        encoding={
            "x": _period_axis(scope, frame),
            "y": channel("sum(messages):Q", title="messages"),
            "color": split_colour(split, title=split),
            "tooltip": tooltip("period:N", f"{split}:N", "sum(messages):Q", "sum(segments):Q"),
        },
        width=WIDTH,
        height=220,
    )


def volume_by_direction(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Messages per period, inbound and outbound stacked."""
    return _volume(tables, scope, "direction")


def volume_by_kind(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Messages per period, SMS and MMS stacked."""
    return _volume(tables, scope, "kind")


def volume_by_did(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Messages per DID, by direction."""
    return chart(
        "volume_by_did",
        tables["volume_by_did"],
        "Messages per DID",
        mark={"type": "bar"},
        encoding={
            "y": channel("did:N", title="DID"),
            "x": channel("sum(messages):Q", title="messages"),
            "color": split_colour("direction"),
            # aggregated as the bar is: a field left whole would split it into one per kind
            "tooltip": tooltip("did:N", "direction:N", "sum(messages):Q", "sum(segments):Q"),
        },
        width=WIDTH,
    )


def top_contacts(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """The contacts with the most messages, inbound and outbound stacked."""
    return chart(
        "top_contacts",
        tables["top_contacts"],
        "Top contacts",
        transform=[{"fold": ["inbound", "outbound"], "as": ["direction", "count"]}],
        mark={"type": "bar"},
        encoding={
            "y": channel("contact:N", sort={"field": "messages", "order": "descending"}),
            "x": channel("count:Q", title="messages"),
            "color": split_colour("direction"),
            "tooltip": tooltip("contact:N", "messages:Q", "inbound:Q", "outbound:Q", "dids:Q"),
        },
        width=WIDTH,
    )


def hour_by_weekday(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Messages per local hour and weekday, as a heatmap."""
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    # from 0: an hour without messages is the palest, even where no hour has any (Vega's
    # own domain, [0, 0] then, would paint the whole grid mid-blue, as if it were data)
    busiest = tables["hour_by_weekday"]["messages"].max()
    top = max(1, int(busiest)) if isinstance(busiest, int | float) else 1
    return chart(
        "hour_by_weekday",
        tables["hour_by_weekday"],
        f"Messages by local hour ({scope.timezone})",
        mark={"type": "rect"},
        encoding={
            "x": channel("hour:O", title="hour of day"),
            "y": channel("weekday_name:O", title=None, sort=days),
            # white for none, not a pale blue that would read as a few messages
            "color": channel(
                "messages:Q",
                # in RGB: Vega's HCL would tint white blue
                scale={"range": ["#ffffff", "#08306b"], "interpolate": "rgb", "domain": [0, top]},
            ),
            "tooltip": tooltip("weekday_name:N", "hour:O", "messages:Q"),
        },
        width=WIDTH,
        height=200,
    )


def busiest_day_per_week(frame: pl.DataFrame) -> pl.DataFrame:
    """Per DID (of an account) and local week (from Monday), the row of its busiest day
    (earliest on a tie)."""
    week = pl.col("local_day").dt.truncate("1w").alias("week")
    return (
        frame.sort(["outbound_sms", "local_day"], descending=[True, False])
        .group_by("account", "did", week, maintain_order=True)
        .first()
        .drop("week")
        .sort("local_day", "account", "did")
    )


def near_send_limit(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Days a DID (or an account's DIDs together, '*') sent 80+ SMS, against the limit of 100.

    With more such days than the chart is pixels wide (their circles would overlap anyway),
    each DID's busiest day of each week stands for its week; the table keeps every day.
    """
    limits = pl.DataFrame({"limit": [80, 100], "label": ["near (80)", "limit (100)"]})
    totals = tables["totals"].row(0, named=True)
    # an empty table still gets a time axis (and Vega no infinite extent); the domain is
    # written as `values` writes the days: a bare date would be read as UTC midnight, the
    # days as local midnight, and away from UTC the points would slide off the plot
    days: Spec = {}
    if totals["first_day"] is not None:
        first, last = totals["first_day"], totals["last_day"]
        if first == last:  # one day: a domain of no width has no axis to label
            first, last = first - timedelta(days=1), last + timedelta(days=1)
        ends = pl.DataFrame({"day": [first, last]})
        days = {"scale": {"domain": [row["day"] for row in values(ends)]}}
    near = tables["near_send_limit"]
    title = "Days near the 100-SMS daily send limit"
    if near.height > WIDTH:
        near = busiest_day_per_week(near)
        title += " (busiest day of each week per DID)"
    # the DIDs' days are what the limit is read against: the scale is theirs. An account's
    # DIDs together ('*', when more than one sent) are drawn apart, dark squares named in a
    # legend of their own, and where they pass the DIDs' scale, at its top (the count in
    # their tooltip and in the table): thousands would flatten every DID's day
    per_did = near.filter(pl.col("did") != "*")
    busiest = per_did["outbound_sms"].max()
    # room for every point: the API's limit is 100 a day, the archive may hold more
    top = max(110, int(busiest) + 10) if isinstance(busiest, int) else 110
    accounts = near["account"].n_unique()
    together = near.filter(pl.col("did") == "*").with_columns(
        series=pl.format("all DIDs of {}", pl.col("account"))
        if accounts > 1
        else pl.lit("all DIDs"),
        drawn_sms=pl.min_horizontal("outbound_sms", pl.lit(top)),
    )
    if (together["outbound_sms"] > top).any():
        title += "; the DIDs together, when higher, at the top"
    points: Spec = {
        "data": {"name": "near_send_limit"},
        "mark": {"type": "circle", "size": 80},
        "encoding": {
            "x": channel("local_day:T", title="local day", timeUnit="yearmonthdate", **days),
            "y": channel("outbound_sms:Q", title="outbound SMS", scale={"domain": [0, top]}),
            # twenty colours, not ten: a business's DIDs near the limit told apart
            "color": channel(
                "did:N", title="DID", scale={"scheme": "tableau20"}, legend={"symbolLimit": 0}
            ),
            "tooltip": [
                channel("account:N"),
                channel("did:N"),
                channel("local_day:T", timeUnit="yearmonthdate"),
                channel("outbound_sms:Q"),
            ],
        },
    }
    together_points: Spec = {
        "data": {"name": "near_send_limit_together"},
        "mark": {"type": "point", "filled": True, "size": 70, "color": "#222222"},
        "encoding": {
            "x": channel("local_day:T", timeUnit="yearmonthdate", **days),
            "y": channel("drawn_sms:Q"),
            "shape": channel(
                "series:N",
                title="together",
                scale={"range": ["square"]},
                legend={"symbolFillColor": "#222222", "symbolStrokeColor": "#222222"},
            ),
            "tooltip": [
                channel("account:N"),
                channel("series:N", title="DIDs"),
                channel("local_day:T", timeUnit="yearmonthdate"),
                channel("outbound_sms:Q"),
            ],
        },
    }
    rules: Spec = {
        "data": {"name": "send_limits"},
        "mark": {"type": "rule", "color": "#d62728", "strokeDash": [4, 4]},
        "encoding": {"y": channel("limit:Q"), "tooltip": tooltip("label:N")},
    }
    # each line says what it is, at the chart's right end: the limit just above its line, the
    # near line just below its own (on a tall scale the two lines are a few pixels apart)
    labels = [
        {
            "data": {"name": "send_limits"},
            "transform": [{"filter": f"datum.limit === {limit}"}],
            "mark": {
                "type": "text",
                "color": "#d62728",
                "align": "right",
                "baseline": baseline,
                "dy": dy,
                "x": "width",
            },
            "encoding": {"y": channel("limit:Q"), "text": channel("label:N")},
        }
        for limit, baseline, dy in ((100, "bottom", -2), (80, "top", 2))
    ]
    return whole_chart(
        title,
        {"send_limits": limits, "near_send_limit": per_did, "near_send_limit_together": together},
        # the limits drawn over the days, not hidden under them
        layer=[points, together_points, rules, *labels],
        width=WIDTH,
        height=200,
    )


def status_by_period(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Outbound messages per period by canonical status."""
    frame = _with_text_period(tables["status_by_period"])
    return chart(
        "status_by_period",
        frame,
        f"Outbound status per {scope.grain}",
        transform=[{"filter": "(datum.direction === 'outbound')"}],
        mark={"type": "bar"},
        encoding={
            "x": _period_axis(scope, frame.filter(pl.col("direction") == "outbound")),
            "y": channel("sum(messages):Q", title="outbound messages"),
            "color": _outbound_status_colour(),
            "tooltip": tooltip("period:N", "status:N", "sum(messages):Q"),
        },
        width=WIDTH,
        height=220,
    )


def status_by_did(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Outbound messages per DID by canonical status (inbound ones are all 'received')."""
    return chart(
        "status_by_did",
        tables["status_by_did"],
        "Outbound status per DID",
        transform=[{"filter": "(datum.direction === 'outbound')"}],
        mark={"type": "bar"},
        encoding={
            "y": channel("did:N", title="DID"),
            "x": channel("sum(messages):Q", title="outbound messages"),
            "color": _outbound_status_colour(),
            "tooltip": tooltip("did:N", "status:N", "sum(messages):Q"),
        },
        width=WIDTH,
    )


def _per_did(frame: pl.DataFrame) -> pl.DataFrame:
    """A per-DID table as a chart draws it: without the '*' row (every DID together) when it
    holds one DID, where that row would repeat the DID's."""
    dids = frame.filter(pl.col("did") != "*")
    return dids if dids["did"].n_unique() == 1 else frame


def delivery_rate(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Delivered / (delivered + failed) outbound, per DID and for all ('*')."""
    return chart(
        "delivery_rate",
        _per_did(tables["delivery_rate"]),
        "Delivery rate (delivered / final outbound)",
        transform=[DID_LABEL],
        mark={"type": "bar", "color": "#2ca02c"},
        encoding={
            "y": channel("did_label:N", title="DID", sort=None),
            # 0 to 100% whatever the rates: an axis ending at the highest one makes 85% look full
            "x": channel(
                "delivery_rate:Q",
                title="delivery rate",
                axis={"format": "%"},
                scale={"domain": [0, 1]},
            ),
            "tooltip": tooltip("did:N", "outbound:Q", "delivered:Q", "failed:Q", "not_final:Q"),
        },
        width=WIDTH,
    )


DID_LABEL: Final = {"calculate": "datum.did === '*' ? 'all DIDs' : datum.did", "as": "did_label"}
"""The DID as a chart labels it: the tables' '*' (every DID together) in words."""

LATENCY_TICKS: Final = (0, 1, 10, 60, 360, 1440, 10080, 43200, 525600)
"""Where the latency axis is labelled, in minutes: a minute, ten, an hour, six, a day, a
week, thirty days, a year. On a symlog scale Vega's own ticks leave the minutes unlabelled."""

LATENCY_LABEL: Final = (
    "datum.value < 60 ? datum.value + ' min' : datum.value < 1440 ? datum.value / 60 + ' h' "
    ": datum.value / 1440 + ' d'"
)


def reply_latency(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Median and p90 reply latency per DID and for all ('*')."""
    longest = tables["reply_stats"]["p90_minutes"].max()
    top = float(longest) if isinstance(longest, int | float) else 0.0
    # the ticks up to the first at or past the longest bar, which sets the axis's end
    ticks = [t for t in LATENCY_TICKS if t <= top] + [t for t in LATENCY_TICKS if t > top][:1]
    x = channel(
        "minutes:Q",
        title="latency (symlog scale)",
        # past the last tick (a year), the axis ends at the longest bar
        scale={"type": "symlog", "domain": [0, max(ticks[-1], top)]},
        axis={"values": ticks, "labelExpr": LATENCY_LABEL},
    )
    y = channel("did_label:N", title="DID", sort=None)
    bars: Spec = {
        "data": {"name": "reply_latency"},
        "transform": [
            DID_LABEL,
            {"fold": ["median_minutes", "p90_minutes"], "as": ["column", "minutes"]},
            # the legend says what a bar is, not the CSV's column name
            {"calculate": "datum.column == 'median_minutes' ? 'median' : 'p90'", "as": "measure"},
        ],
        "mark": {"type": "bar"},
        "encoding": {
            "y": y,
            "yOffset": channel("measure:N"),
            "x": x,
            "color": channel("measure:N"),
            "tooltip": tooltip(
                "did:N", "turns:Q", "replied:Q", "reply_rate:Q", "within_day_rate:Q", "minutes:Q"
            ),
        },
    }
    # a DID none of whose turns was answered has no latency: said, not left off the chart
    unanswered: Spec = {
        "data": {"name": "reply_latency"},
        "transform": [DID_LABEL, {"filter": "datum.replied == 0"}],
        "mark": {"type": "text", "align": "left", "dx": 4, "color": "#555555"},
        "encoding": {
            "y": y,
            "x": {"datum": 0, "type": "quantitative"},
            "text": {"value": "no turn answered"},
            "tooltip": tooltip("did:N", "turns:Q", "replied:Q"),
        },
    }
    return whole_chart(
        "Reply latency",
        {"reply_latency": _per_did(tables["reply_stats"])},
        layer=[bars, unanswered],
        width=WIDTH,
    )


def media_by_type(tables: dict[str, pl.DataFrame], scope: ReportScope) -> Spec:
    """Attachments per content type, by state."""
    return chart(
        "media_by_type",
        tables["media_by_type"],
        "Attachments by type",
        mark={"type": "bar"},
        encoding={
            "y": channel("content_type:N", title=None, sort="-x"),
            "x": channel("sum(files):Q", title="files"),
            "color": split_colour("state"),
            "tooltip": tooltip("content_type:N", "state:N", "files:Q", "bytes:Q"),
        },
        width=WIDTH,
    )


ChartBuilder = Callable[[dict[str, pl.DataFrame], ReportScope], Spec]

PERIOD_CHARTS: Final = frozenset({"volume_by_direction", "volume_by_kind", "status_by_period"})
"""The charts drawn by the report's grain (a bar a period); the others are not."""

CHARTS: Final[dict[str, ChartBuilder]] = {
    "volume_by_direction": volume_by_direction,
    "volume_by_kind": volume_by_kind,
    "volume_by_did": volume_by_did,
    "top_contacts": top_contacts,
    "hour_by_weekday": hour_by_weekday,
    "near_send_limit": near_send_limit,
    "status_by_period": status_by_period,
    "status_by_did": status_by_did,
    "delivery_rate": delivery_rate,
    "reply_latency": reply_latency,
    "media_by_type": media_by_type,
}
"""Every chart by name; each reads the report tables it is named after."""


def chart_specs(tables: dict[str, pl.DataFrame], scope: ReportScope) -> dict[str, Spec]:
    """Every chart as a Vega-Lite spec, its data inlined whatever its length, by name.

    The page draws with no network, so the data travels in the spec (`datasets`).
    """
    return {name: build(tables, scope) for name, build in CHARTS.items()}
