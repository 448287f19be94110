"""Vega-Lite charts (built with Altair) of the report tables, one per question."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import altair as alt
import polars as pl

from warehouse.report.params import ReportScope

Spec = dict[str, Any]

STATUS_COLOURS: Final = {
    "delivered": "#2ca02c",
    "sent": "#98df8a",
    "pending": "#ffbb78",
    "failed": "#d62728",
    "received": "#1f77b4",
    "unknown": "#7f7f7f",
}
WIDTH: Final = 640
LABEL_SPACING: Final = 50
"""Pixels a slanted date label needs along the axis (Vega hides the overlapping ones)."""


def _status_colour(title: str = "status") -> alt.Color:
    return alt.Color(
        "status:N",
        title=title,
        scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())),
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


def _period_axis(scope: ReportScope, frame: pl.DataFrame) -> alt.X:
    # ordinal, so a bar is as wide as its period whatever the grain
    periods = sorted(set(frame["period"].to_list()))
    return alt.X(
        "period:O",
        title=f"{scope.grain} (local)",
        axis=alt.Axis(labelOverlap=True, labelAngle=-45, values=labelled_periods(periods)),
    )


def _volume(tables: dict[str, pl.DataFrame], scope: ReportScope, split: str) -> alt.Chart:
    frame = _with_text_period(tables["volume_by_period"])
    chart: alt.Chart = (
        alt.Chart(frame, title=f"Messages per {scope.grain}, by {split}")
        .mark_bar()
        .encode(
            x=_period_axis(scope, frame),
            y=alt.Y("sum(messages):Q", title="messages"),
            color=alt.Color(f"{split}:N", title=split),
            tooltip=["period:N", f"{split}:N", "sum(messages):Q", "sum(segments):Q"],
        )
        .properties(width=WIDTH, height=220)
    )
    return chart


def volume_by_direction(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """Messages per period, inbound and outbound stacked."""
    return _volume(tables, scope, "direction")


def volume_by_kind(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """Messages per period, SMS and MMS stacked."""
    return _volume(tables, scope, "kind")


def volume_by_did(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """Messages per DID, by direction."""
    chart: alt.Chart = (
        alt.Chart(tables["volume_by_did"], title="Messages per DID")
        .mark_bar()
        .encode(
            y=alt.Y("did:N", title="DID"),
            x=alt.X("sum(messages):Q", title="messages"),
            color=alt.Color("direction:N"),
            tooltip=["did:N", "direction:N", "kind:N", "messages:Q", "segments:Q"],
        )
        .properties(width=WIDTH)
    )
    return chart


def top_contacts(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """The contacts with the most messages, inbound and outbound stacked."""
    chart: alt.Chart = (
        alt.Chart(tables["top_contacts"], title="Top contacts")
        .transform_fold(["inbound", "outbound"], as_=["direction", "count"])
        .mark_bar()
        .encode(
            y=alt.Y("contact:N", sort=alt.EncodingSortField("messages", order="descending")),
            x=alt.X("count:Q", title="messages"),
            color=alt.Color("direction:N"),
            tooltip=["contact:N", "messages:Q", "inbound:Q", "outbound:Q", "dids:Q"],
        )
        .properties(width=WIDTH)
    )
    return chart


def hour_by_weekday(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """Messages per local hour and weekday, as a heatmap."""
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    chart: alt.Chart = (
        alt.Chart(tables["hour_by_weekday"], title=f"Messages by local hour ({scope.timezone})")
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title="hour of day"),
            y=alt.Y("weekday_name:O", title=None, sort=days),
            color=alt.Color("messages:Q", scale=alt.Scale(scheme="blues")),
            tooltip=["weekday_name:N", "hour:O", "messages:Q"],
        )
        .properties(width=WIDTH, height=200)
    )
    return chart


def busiest_day_per_week(frame: pl.DataFrame) -> pl.DataFrame:
    """Per DID and local week (from Monday), the row of its busiest day (earliest on a tie)."""
    week = pl.col("local_day").dt.truncate("1w").alias("week")
    return (
        frame.sort(["outbound_sms", "local_day"], descending=[True, False])
        .group_by("did", week, maintain_order=True)
        .first()
        .drop("week")
        .sort("local_day", "did")
    )


def near_send_limit(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.LayerChart:
    """Days a DID sent 80+ SMS, against the API's limit of 100 a day.

    With more such days than the chart is pixels wide (their circles would overlap anyway),
    each DID's busiest day of each week stands for its week; the table keeps every day.
    """
    limits = pl.DataFrame({"limit": [80, 100], "label": ["near (80)", "limit (100)"]})
    totals = tables["totals"].row(0, named=True)
    span = [str(totals["first_day"]), str(totals["last_day"])]
    # an empty table still gets a time axis (and Vega no infinite extent)
    days = alt.Scale(domain=span) if totals["first_day"] is not None else alt.Scale()
    near = tables["near_send_limit"]
    title = "Days near the 100-SMS daily send limit"
    if near.height > WIDTH:
        near = busiest_day_per_week(near)
        title += " (busiest day of each week per DID)"
    busiest = near["outbound_sms"].max()
    # room for every point: the API's limit is 100 a day, the archive may hold more
    top = max(110, int(busiest) + 10) if isinstance(busiest, int) else 110
    points = (
        alt.Chart(near)
        .mark_circle(size=80)
        .encode(
            x=alt.X("local_day:T", title="local day", scale=days),
            y=alt.Y("outbound_sms:Q", title="outbound SMS", scale=alt.Scale(domain=[0, top])),
            color=alt.Color("did:N", title="DID"),
            tooltip=["did:N", "local_day:T", "outbound_sms:Q"],
        )
    )
    rules = (
        alt.Chart(limits)
        .mark_rule(strokeDash=[4, 4], color="#d62728")
        .encode(y="limit:Q", tooltip=["label:N"])
    )
    return alt.LayerChart(layer=[rules, points], title=title, width=WIDTH, height=200)


def status_by_period(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """Outbound messages per period by canonical status."""
    frame = _with_text_period(tables["status_by_period"])
    chart: alt.Chart = (
        alt.Chart(frame, title=f"Outbound status per {scope.grain}")
        .transform_filter(alt.datum.direction == "outbound")
        .mark_bar()
        .encode(
            x=_period_axis(scope, frame.filter(pl.col("direction") == "outbound")),
            y=alt.Y("sum(messages):Q", title="outbound messages"),
            color=_status_colour(),
            tooltip=["period:N", "status:N", "sum(messages):Q"],
        )
        .properties(width=WIDTH, height=220)
    )
    return chart


def status_by_did(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """Messages per DID by canonical status."""
    chart: alt.Chart = (
        alt.Chart(tables["status_by_did"], title="Status per DID")
        .mark_bar()
        .encode(
            y=alt.Y("did:N", title="DID"),
            x=alt.X("sum(messages):Q", title="messages"),
            color=_status_colour(),
            tooltip=["did:N", "direction:N", "status:N", "messages:Q"],
        )
        .properties(width=WIDTH)
    )
    return chart


def delivery_rate(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """Delivered / (delivered + failed) outbound, per DID and for all ('*')."""
    chart: alt.Chart = (
        alt.Chart(tables["delivery_rate"], title="Delivery rate (delivered / final outbound)")
        .mark_bar(color="#2ca02c")
        .encode(
            y=alt.Y("did:N", title="DID", sort=None),
            x=alt.X("delivery_rate:Q", title="delivery rate", axis=alt.Axis(format="%")),
            tooltip=["did:N", "outbound:Q", "delivered:Q", "failed:Q", "not_final:Q"],
        )
        .properties(width=WIDTH)
    )
    return chart


def reply_latency(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """Median and p90 reply latency per DID and for all ('*')."""
    chart: alt.Chart = (
        alt.Chart(tables["reply_stats"], title="Reply latency (minutes)")
        .transform_fold(["median_minutes", "p90_minutes"], as_=["measure", "minutes"])
        .mark_bar()
        .encode(
            y=alt.Y("did:N", title="DID", sort=None),
            yOffset=alt.YOffset("measure:N"),
            x=alt.X("minutes:Q", title="minutes (symlog scale)", scale=alt.Scale(type="symlog")),
            color=alt.Color("measure:N"),
            tooltip=["did:N", "inbound:Q", "replied:Q", "reply_rate:Q", "minutes:Q"],
        )
        .properties(width=WIDTH)
    )
    return chart


def media_by_type(tables: dict[str, pl.DataFrame], scope: ReportScope) -> alt.Chart:
    """Attachments per content type, by state."""
    chart: alt.Chart = (
        alt.Chart(tables["media_by_type"], title="Attachments by type")
        .mark_bar()
        .encode(
            y=alt.Y("content_type:N", title=None, sort="-x"),
            x=alt.X("sum(files):Q", title="files"),
            color=alt.Color("state:N"),
            tooltip=["content_type:N", "state:N", "files:Q", "bytes:Q"],
        )
        .properties(width=WIDTH)
    )
    return chart


ChartBuilder = Callable[[dict[str, pl.DataFrame], ReportScope], alt.Chart | alt.LayerChart]

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
    """Every chart as a Vega-Lite spec (data inlined), by name."""
    specs: dict[str, Spec] = {}
    # Altair refuses more than 5,000 rows by default; years of daily rows per DID pass that,
    # and the page inlines the data on purpose (it must draw with no network).
    with alt.data_transformers.enable("default", max_rows=None):
        for name, build in CHARTS.items():
            spec: Spec = build(tables, scope).to_dict()
            specs[name] = spec
    return specs
