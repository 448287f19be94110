"""The report as one self-contained HTML page: Vega, Vega-Lite and Vega-Embed inlined."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import polars as pl

from transform.zone_rules import zone_info
from warehouse.plain_numbers import size_text
from warehouse.report.bundle_cache import vega_bundle
from warehouse.report.charts import MOST_BARS, Spec, every_period
from warehouse.report.params import REPLY_WINDOW, ReportScope
from warehouse.report.partial_periods import charted_days, partial_periods_note
from warehouse.report.summary import accounts_together, latency_text, scope_line


@dataclass(frozen=True)
class Section:
    """A part of the page: a title, what it means, its charts and its tables."""

    title: str
    note: str
    charts: tuple[str, ...]
    tables: tuple[str, ...]
    by_period: bool = False
    """Its charts have a bar per period: a period the report's days cut short is named."""


SECTIONS: Final[tuple[Section, ...]] = (
    Section(
        "Volume",
        "Messages per period of local time, per DID, and the busiest contacts; SMS segments "
        "by encoding (GSM-7 or UCS-2).",
        ("volume_by_direction", "volume_by_kind", "volume_by_did", "top_contacts"),
        ("totals", "volume_by_period", "volume_by_did", "top_contacts", "segments_by_encoding"),
        by_period=True,
    ),
    Section(
        "When",
        "Messages per local hour of day and weekday, and the days a DID sent 80 or more SMS "
        "(the API allows 100 a day); the reference does not say whether per DID or per "
        "account, so days an account's DIDs sent that many together are listed too (DID '*'). "
        "Days are the report's local days: the provider's own day may start at another hour.",
        ("hour_by_weekday", "near_send_limit"),
        ("near_send_limit",),
    ),
    Section(
        "Carrier status",
        "Delivery rate = delivered / (delivered + failed) outbound messages; sent, pending and "
        "unknown are not final and are left out. Failures keep the carrier's raw text; "
        "unmapped statuses are raw texts no rule recognised (status 'unknown'; an outbound "
        "'Information not available' is no news, not unmapped).",
        ("status_by_period", "status_by_did", "delivery_rate"),
        ("delivery_rate", "status_by_did", "failures", "unmapped_statuses", "status_by_period"),
        by_period=True,
    ),
    Section(
        "Conversations",
        "A turn is a run of inbound messages from one contact on one DID with no outbound "
        "between them (a long text in parts, or several texts in a row, is one turn). A turn is "
        "replied when an outbound to that contact on that DID follows within "
        f"{REPLY_WINDOW.days} days of its first message (a later one picks the conversation "
        "up again, and the turn stays unanswered); latency "
        "runs from the turn's first message to that outbound (median and 90th percentile, "
        "minutes), and within_day_rate is the share of turns replied within 24 hours. Short "
        "codes and senders that are no phone number (automated senders, which cannot be "
        "answered) make no turns. '*' is every DID together.",
        ("reply_latency",),
        ("reply_stats",),
    ),
    Section(
        "Media",
        "Attachments of the MMS in scope: files, bytes, sniffed types, and the share that had "
        "expired at the provider before they could be fetched.",
        ("media_by_type",),
        ("media_states", "media_by_type"),
    ),
)

MAX_HTML_ROWS: Final = 60
_STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } .scope { color: #555; margin-top: 0; }
section { margin-top: 2.5rem; } .note { color: #444; max-width: 60rem; }
.chart { margin: 1rem 0; min-height: 120px; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f3f3f3; } td.text { text-align: left; } caption { text-align: left; }
.more { color: #777; font-size: 0.8rem; }
"""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # up to 4 decimals, never in exponent form (a p90 of 15,299.28 minutes, a rate 0.6667)
        return f"{value:,.4f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _percent(value: object) -> str:
    # a rate as the summary and the charts give it; the CSV keeps the fraction
    return f"{value:.2%}" if isinstance(value, float) and math.isfinite(value) else _cell(value)


def _latency(value: object) -> str:
    # minutes, as in the CSV, and past two hours as the summary says them (30.8 days)
    if not isinstance(value, float) or not math.isfinite(value) or value < 120:
        return _cell(value)
    return f"{_cell(value)} ({latency_text(value)})"


def _size(value: object) -> str:
    # bytes, as in the CSV, and as the summary says sizes (87.7 MB)
    if not isinstance(value, int) or value < 1000:
        return _cell(value)
    return f"{_cell(value)} ({size_text(value)})"


def _shown_as(column: str) -> Callable[[object], str]:
    if column.endswith("_rate") or column == "share":
        return _percent
    if column.endswith("_minutes"):
        return _latency
    if column == "bytes":
        return _size
    return _cell


def table_html(name: str, frame: pl.DataFrame) -> str:
    """A frame as an escaped HTML table (at most `MAX_HTML_ROWS` rows; the CSV has them all).

    Rates and shares (columns `…_rate`, `share`: fractions in the CSV) are shown as
    percentages, and latencies (`…_minutes`) of two hours or more in hours or days too.
    """
    newest = "period" in frame.columns
    if newest:
        # a time series: the page shows the newest periods (the CSV keeps time order)
        frame = frame.sort("period", descending=True, maintain_order=True)
    head = "".join(f"<th>{html.escape(column)}</th>" for column in frame.columns)
    text_columns = {c for c, t in frame.schema.items() if t == pl.Utf8}
    shown = {c: _shown_as(c) for c in frame.columns}
    rows = []
    for row in frame.head(MAX_HTML_ROWS).iter_rows(named=True):
        cells = "".join(
            f'<td class="text">{html.escape(shown[c](v))}</td>'
            if c in text_columns
            else f"<td>{html.escape(shown[c](v))}</td>"
            for c, v in row.items()
        )
        rows.append(f"<tr>{cells}</tr>")
    if frame.is_empty():
        rows.append(f'<tr><td class="text" colspan="{frame.width}">none</td></tr>')
    more = (
        f'<p class="more">{frame.height - MAX_HTML_ROWS:,} {"older" if newest else "more"} '
        f"rows in {name}.csv</p>"
        if frame.height > MAX_HTML_ROWS
        else ""
    )
    order = ", newest first" if newest else ""
    caption = f"<caption>{html.escape(name)} ({name}.csv{order})</caption>"
    body = "".join(rows)
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


_SCRIPT_END: Final = re.compile(r"</(script)", re.IGNORECASE)


def _script_safe(text: str) -> str:
    # nothing inside a <script> may end it early; `<\/` means `</` in JS strings
    return _SCRIPT_END.sub(r"<\\/\1", text).replace("<!--", "<\\!--")


def _crowded_note(scope: ReportScope, first_day: date | None, last_day: date | None) -> str | None:
    """A word when the period charts hold more bars than they have pixels for two each."""
    days = charted_days(scope, first_day, last_day)
    if days is None:
        return None
    bars = len(every_period([], scope.grain, *days))
    if bars <= MOST_BARS:
        return None
    coarser = {"day": "`--grain week` or `month`", "week": "`--grain month`"}.get(scope.grain)
    remedy = f": {coarser} draws them readably" if coarser else ""
    return (
        f"{bars:,} {scope.grain}s on one axis are too many bars to read{remedy} (the CSVs "
        f"have every {scope.grain})."
    )


def _totals(tables: dict[str, pl.DataFrame]) -> dict[str, Any]:
    return tables["totals"].row(0, named=True) if tables["totals"].height else {}


def _accounts_line(tables: dict[str, pl.DataFrame]) -> str:
    note = accounts_together(_totals(tables))
    return f"; {note}" if note else ""


def report_html(
    tables: dict[str, pl.DataFrame], specs: dict[str, Spec], scope: ReportScope, made_at: datetime
) -> str:
    """The whole report page; charts draw from inlined specs with the inlined libraries."""
    totals = _totals(tables)
    partial = partial_periods_note(scope, totals.get("first_day"), totals.get("last_day"))
    crowded = _crowded_note(scope, totals.get("first_day"), totals.get("last_day"))
    body: list[str] = []
    if not totals.get("messages"):
        # a year typed wrong looks like a quiet year: say so rather than leave it to the zeros
        body.append(
            '<p class="note empty">No message of the archive is in this scope: every chart '
            "and table below is empty (<code>smsarchive status</code> shows the days it "
            "holds).</p>"
        )
    for section in SECTIONS:
        body.append(f"<section><h2>{html.escape(section.title)}</h2>")
        body.append(f'<p class="note">{html.escape(section.note)}</p>')
        for note in (partial, crowded) if section.by_period else ():
            if note:
                body.append(f'<p class="note">{html.escape(note)}</p>')
        body.extend(
            f'<div class="chart" id="chart-{name}" data-chart="{name}"></div>'
            for name in section.charts
        )
        body.extend(table_html(name, tables[name]) for name in section.tables)
        body.append("</section>")
    embed = (
        "const specs = " + json.dumps(specs, default=str) + ";\n"
        "for (const [name, spec] of Object.entries(specs)) {\n"
        "  vegaEmbed('#chart-' + name, spec, {actions: false, renderer: 'svg'})\n"
        "    .catch((error) => { console.error('chart ' + name + ': ' + error); });\n"
        "}\n"
    )
    title = f"smsarchive report: {scope_line(scope, tables)}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_STYLE}</style>",
            f"<script>{_script_safe(vega_bundle())}</script>",
            "</head><body>",
            "<h1>smsarchive report</h1>",
            f'<p class="scope">{html.escape(scope_line(scope, tables) + _accounts_line(tables))}; '
            f"made {made_at.astimezone(zone_info(scope.timezone)):%Y-%m-%d %H:%M %Z}</p>",
            *body,
            f"<script>{_script_safe(embed)}</script>",
            "</body></html>",
        ]
    )
