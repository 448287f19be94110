"""Date windows of at most 92 days, and fetching a window whole despite the API's row limit."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, Protocol

logger = logging.getLogger(__name__)

Row = dict[str, Any]

API_MAX_DAYS = 92
DEFAULT_MAX_LIMIT = 1_000_000
TAIL_PAGES = 1.5
"""A cut answer's remaining days expected to hold at most this many pages are asked in one call."""
# getSMS/getMMS `type`: 1 received, 0 sent. Newest-first answers are concatenated in this order.
MESSAGE_TYPES: tuple[int, ...] = (1, 0)


@dataclass(frozen=True, order=True)
class Window:
    """Local days `start`..`end`, both inclusive, as the API's `from`/`to` read them."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"a window cannot start ({self.start}) after it ends ({self.end})")

    @property
    def days(self) -> int:
        """How many local days the window spans, both ends counted."""
        return (self.end - self.start).days + 1

    def halves(self) -> tuple[Window, Window]:
        """The window cut into two consecutive windows (the earlier one is the shorter)."""
        if self.days < 2:
            raise ValueError(f"a one-day window ({self.start}) cannot be halved")
        first_days = self.days // 2
        first_end = self.start + timedelta(days=first_days - 1)
        return Window(self.start, first_end), Window(first_end + timedelta(days=1), self.end)


def split_range(start: date, end: date, max_days: int = API_MAX_DAYS) -> list[Window]:
    """Cut local days `start`..`end` (inclusive) into consecutive windows of ≤ `max_days` days.

    The windows are in order, with no gap and no overlap, and as few as possible
    (ceil(days / max_days)); only the last may be shorter.

    The API refuses ranges "over 92 days" (`invalid_daterange`) without saying whether it
    counts `to - from` or the days inclusive. We read `max_days` as the inclusive count: a
    92-day window has `end - start == 91` days, which passes under either reading.
    """
    if max_days < 1:
        raise ValueError(f"max_days must be at least 1, not {max_days}")
    if start > end:
        raise ValueError(f"the range cannot start ({start}) after it ends ({end})")
    windows: list[Window] = []
    cursor = start
    step = timedelta(days=max_days - 1)
    while cursor <= end:
        window_end = min(cursor + step, end)
        windows.append(Window(cursor, window_end))
        cursor = window_end + timedelta(days=1)
    return windows


def uncovered_spans(
    start: date, end: date, covered: Iterable[tuple[date, date]]
) -> list[tuple[date, date]]:
    """The runs of days of `start`..`end` in no `covered` range (all ends inclusive), in
    order, each as (first, last)."""
    if start > end:
        raise ValueError(f"the range cannot start ({start}) after it ends ({end})")
    one_day = timedelta(days=1)
    spans: list[tuple[date, date]] = []
    cursor = start
    for first, last in sorted(covered):
        if last < cursor:
            continue
        if first > end:
            break
        if first > cursor:
            spans.append((cursor, first - one_day))
        cursor = last + one_day
        if cursor > end:
            return spans
    return [*spans, (cursor, end)]


def uncovered_windows(
    start: date,
    end: date,
    covered: Iterable[tuple[date, date]],
    max_days: int = API_MAX_DAYS,
) -> list[Window]:
    """The days of `start`..`end` in no `covered` range (both ends inclusive), cut into windows.

    Each run of uncovered days is cut on its own by `split_range`, so days an earlier run
    archived are never asked again, whatever the windows it cut them into.
    """
    return [
        window
        for first, last in uncovered_spans(start, end, covered)
        for window in split_range(first, last, max_days)
    ]


@dataclass(frozen=True)
class Query:
    """One getSMS/getMMS question: days `date_from`..`date_to`, optional filters, a row limit."""

    date_from: date
    date_to: date
    limit: int
    type: int | None = None
    did: str | None = None


Fetch = Callable[[Query], list[Row]]


@dataclass
class WindowFetch:
    """All rows of one window, with how many calls and splits it took to get them whole."""

    window: Window
    rows: list[Row] = field(default_factory=list)
    row_count: int = 0
    calls: int = 0
    date_splits: int = 0
    type_splits: int = 0
    did_splits: int = 0
    limit_raises: int = 0

    @property
    def splits(self) -> int:
        """Every time an answer was full and the question was asked again in parts or larger."""
        return self.date_splits + self.type_splits + self.did_splits + self.limit_raises


class IncompleteWindowError(RuntimeError):
    """A single day, type and DID still filled the answer at the largest limit allowed."""

    def __init__(self, query: Query) -> None:
        self.query = query
        super().__init__(
            f"{query.limit} or more messages on {query.date_from} "
            f"(type {query.type}, DID {query.did}) even at the largest limit allowed; "
            "rows would be lost, so nothing is kept: raise max_limit"
        )


def _did_key(value: object) -> str:
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    # NANP DIDs come back as 10 digits or, in E.164 dial mode, as +1 and 10 digits.
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _unique_dids(dids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique: list[str] = []
    for did in dids:
        key = _did_key(did)
        if key and key not in seen:
            seen.add(key)
            unique.append(did)
    return unique


def _row_day(row: Row) -> date | None:
    try:
        return date.fromisoformat(str(row.get("date", ""))[:10])
    except ValueError:
        return None


def _days_if_newest_first(rows: list[Row]) -> list[date] | None:
    """Each row's day when every row has a date and their days never grow along the answer.

    Days, not whole stamps: in the autumn hour that repeats, rows newest first by instant have
    local stamps that go back up (01:05, then 01:55 of the first pass), yet stay on one day.
    """
    days = [_row_day(row) for row in rows]
    known = [day for day in days if day is not None]
    if len(known) != len(rows):
        return None
    if any(later < earlier for later, earlier in pairwise(known)):
        return None
    return known


def _span(query: Query) -> tuple[date, date]:
    return query.date_from, query.date_to


def fetch_window_complete(
    fetch: Fetch,
    window: Window,
    *,
    limit: int,
    dids: Sequence[str] = (),
    max_limit: int = DEFAULT_MAX_LIMIT,
    sink: Callable[[list[Row]], None] | None = None,
    method: str = "",
) -> WindowFetch:
    """Every row of `window`, each once, asking `fetch` (of the API's `method`, named in the
    log) as often as needed.

    An answer holding as many rows as its limit may be cut short, and rows come newest first,
    so a full answer lacks the oldest rows: it is never kept whole. A full answer over several
    days keeps the days after its oldest row's day (those are whole) and asks again for the
    rest (with twice the limit when the rest is expected to hold at most `TAIL_PAGES` pages);
    without dates in order, the question is asked again in parts: a range of days in two
    halves (recursively); a single day by `type`
    (received, sent), then by DID; a single day, type and DID with twice the limit, up to
    `max_limit`, past which `IncompleteWindowError` is raised rather than rows lost.

    A type or DID split is only used when every row of the full answer falls into one of
    its parts; otherwise the limit is raised instead. `dids` should hold every DID that can
    carry messages in the window: after a split by DID, one more call (the day and type, one
    row more than the DIDs gave) finds a DID missing from it, which is then asked too. Rows
    come back newest window part first; partitions of one
    day are concatenated, not re-sorted.

    With `sink`, rows are handed to it as soon as they are final, a part at a time and in the
    same order, and `rows` of the result stays empty (`row_count` counts them): a window's
    answers then never need to be held whole.
    """
    if limit < 1 or max_limit < limit:
        raise ValueError(f"need 1 <= limit <= max_limit, got limit={limit}, max={max_limit}")
    result = WindowFetch(window=window)

    def rest_of(query: Query, oldest: date, kept_rows: int) -> Query:
        # Days `date_from`..`oldest` are left. Expected to hold at most TAIL_PAGES pages (at the
        # density of the days just kept), they are asked once with twice the page limit: a
        # window's last few days then cost one call, not a full one and a small one. A wrong
        # guess costs nothing but a call: a full answer is cut again like any other.
        rest = replace(query, date_to=oldest)
        kept_days = (query.date_to - oldest).days
        rest_days = (oldest - query.date_from).days + 1
        expected = kept_rows / kept_days * rest_days
        if expected <= TAIL_PAGES * limit:
            return replace(rest, limit=min(max_limit, max(query.limit, 2 * limit)))
        return rest

    @functools.cache
    def known_dids() -> tuple[list[str], frozenset[str]]:
        # read only for a split by DID (rare): `dids` may still be on its way (AccountDids)
        did_list = _unique_dids(dids)
        return did_list, frozenset(_did_key(did) for did in did_list)

    def emit(rows: list[Row]) -> None:
        result.row_count += len(rows)
        if sink is None:
            result.rows.extend(rows)
        elif rows:
            sink(rows)

    def ask(query: Query) -> None:
        rows = fetch(query)
        result.calls += 1
        if len(rows) < query.limit:
            emit(rows)
            return
        if query.date_from < query.date_to:
            days = _days_if_newest_first(rows)
            oldest = days[-1] if days else None
            if days and oldest is not None and query.date_from <= oldest < query.date_to:
                # Newest first and cut at the limit: every day after the oldest row's day
                # is whole. Keep those rows and ask again only up to that day.
                result.date_splits += 1
                kept = [row for row, day in zip(rows, days, strict=True) if day > oldest]
                logger.debug("full answer for %s..%s: kept days after %s", *_span(query), oldest)
                kept_rows = len(kept)
                emit(kept)
                del rows, days, kept  # not held while the rest is asked
                ask(rest_of(query, oldest, kept_rows))
                return
            if oldest == query.date_to:
                # The whole answer is the last day: that day alone, then the days before it.
                result.date_splits += 1
                ask(replace(query, date_from=oldest))
                ask(replace(query, date_to=oldest - timedelta(days=1)))
                return
            result.date_splits += 1
            earlier, later = Window(query.date_from, query.date_to).halves()
            logger.debug("full answer for %s..%s: halving", query.date_from, query.date_to)
            ask(replace(query, date_from=later.start, date_to=later.end))
            ask(replace(query, date_from=earlier.start, date_to=earlier.end))
            return
        if query.type is None and all(
            str(row.get("type", "")).strip() in {str(t) for t in MESSAGE_TYPES} for row in rows
        ):
            result.type_splits += 1
            logger.debug("full answer for %s: splitting by type", query.date_from)
            for t in MESSAGE_TYPES:
                ask(replace(query, type=t))
            return
        did_list, did_keys = known_dids() if query.did is None else ([], frozenset())
        if len(did_list) > 1 and all(_did_key(row.get("did", "")) in did_keys for row in rows):
            result.did_splits += 1
            logger.debug("full answer for %s: splitting by DID", query.date_from)
            del rows
            split_by_did(query, did_list)
            return
        if query.limit < max_limit:
            result.limit_raises += 1
            larger = min(query.limit * 2, max_limit)
            logger.debug("full answer for %s: asking for %d rows", query.date_from, larger)
            ask(replace(query, limit=larger))
            return
        raise IncompleteWindowError(query)

    def split_by_did(query: Query, did_list: list[str]) -> None:
        # Asked DID by DID, then once more without a DID for one row more than they gave: a
        # DID getDIDsInfo did not list (ported away, a sub-account's) whose rows all fell past
        # the first answer's cut shows in that answer (it holds a row no asked DID has), and
        # is asked too, until the check answer is not full.
        before = result.row_count
        asked = {_did_key(did) for did in did_list}
        for did in did_list:
            ask(replace(query, did=did))
        while True:
            got = result.row_count - before
            if got + 1 > max_limit:
                return  # more rows than one answer may hold: the DIDs given are trusted
            check = fetch(replace(query, limit=got + 1))
            result.calls += 1
            if len(check) <= got:
                return
            unasked = _unique_dids(
                key for row in check if (key := _did_key(row.get("did", ""))) not in asked
            )
            if not unasked:
                # rows of the asked DIDs alone, which each gave whole: sent since they answered
                # (a window holding today), fetched by the next sync
                return
            logger.info("day %s: DIDs getDIDsInfo did not list: %s", query.date_from, unasked)
            for did in unasked:
                asked.add(did)  # a key already
                ask(replace(query, did=did))

    ask(Query(date_from=window.start, date_to=window.end, limit=limit))
    if result.splits:
        logger.info(
            "%swindow %s..%s: %d rows in %d calls (%d date, %d type, %d DID splits, %d raises)",
            f"{method} " if method else "",
            window.start,
            window.end,
            result.row_count,
            result.calls,
            result.date_splits,
            result.type_splits,
            result.did_splits,
            result.limit_raises,
        )
    return result


class MessageSource(Protocol):
    """Anything with getSMS/getMMS-shaped methods, such as `VoipMsClient`."""

    def get_sms(
        self,
        date_from: date,
        date_to: date,
        *,
        all_messages: bool = ...,
        type: int | None = ...,
        did: str | None = ...,
        contact: str | None = ...,
        limit: int | None = ...,
    ) -> list[Row]: ...

    def get_mms(
        self,
        date_from: date,
        date_to: date,
        *,
        all_messages: bool = ...,
        type: int | None = ...,
        did: str | None = ...,
        contact: str | None = ...,
        limit: int | None = ...,
    ) -> list[Row]: ...


class _Getter(Protocol):
    def __call__(
        self,
        date_from: date,
        date_to: date,
        *,
        all_messages: bool = ...,
        type: int | None = ...,
        did: str | None = ...,
        limit: int | None = ...,
    ) -> list[Row]: ...


def _query_fetch(get: _Getter, all_messages: bool) -> Fetch:
    def fetch(query: Query) -> list[Row]:
        return get(
            query.date_from,
            query.date_to,
            all_messages=all_messages,
            type=query.type,
            did=query.did,
            limit=query.limit,
        )

    return fetch


def sms_fetch(source: MessageSource, *, all_messages: bool = False) -> Fetch:
    """A `Fetch` that answers a `Query` with `source.get_sms`."""
    return _query_fetch(source.get_sms, all_messages)


def mms_fetch(source: MessageSource, *, all_messages: bool = False) -> Fetch:
    """A `Fetch` that answers a `Query` with `source.get_mms`."""
    return _query_fetch(source.get_mms, all_messages)
