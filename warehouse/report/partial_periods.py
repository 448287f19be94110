"""Which periods at a report's ends hold only part of their days, said in words for the page."""

from __future__ import annotations

from datetime import date, timedelta

from warehouse.report.params import ReportScope


def period_start(day: date, grain: str) -> date:
    """The first day of `day`'s period: itself, its week's Monday (as DuckDB's date_trunc), or
    the first of its month."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _next_period_start(day: date, grain: str) -> date:
    first = period_start(day, grain)
    if grain == "week":
        return first + timedelta(days=7)
    if grain == "month":
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first + timedelta(days=1)


def charted_days(
    scope: ReportScope, first_day: date | None, last_day: date | None
) -> tuple[date, date] | None:
    """The days the period charts span: the scope's, else those holding messages (`first_day`
    and `last_day` of the totals); None when there are none."""
    start, end = scope.start or first_day, scope.end or last_day
    if start is None or end is None or start > end:
        return None
    return start, end


def partial_periods_note(
    scope: ReportScope, first_day: date | None, last_day: date | None
) -> str | None:
    """A sentence naming the first and last periods when the scope (its days, else the days
    holding messages) starts or ends inside them: their bars count fewer days than the others.
    None when both are whole, or the grain is a day."""
    days = charted_days(scope, first_day, last_day)
    if scope.grain == "day" or days is None:
        return None
    start, end = days
    grain = scope.grain
    first, last = period_start(start, grain), period_start(end, grain)
    cut_start = start != first
    cut_end = end + timedelta(days=1) != _next_period_start(end, grain)
    if first == last:
        if not (cut_start or cut_end):
            return None
        return f"A partial period: the only {grain} ({first}) counts {start} to {end} alone."
    if cut_start and cut_end:
        return (
            f"Partial periods: the first {grain} ({first}) counts from {start} and the last "
            f"({last}) to {end}; their bars hold fewer days."
        )
    if cut_start:
        return (
            f"A partial period: the first {grain} ({first}) counts from {start}; its bar "
            "holds fewer days."
        )
    if cut_end:
        return (
            f"A partial period: the last {grain} ({last}) counts to {end}; its bar holds "
            "fewer days."
        )
    return None
