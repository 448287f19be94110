"""What a report covers: local days, one DID or all, the time grain and the report's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal, get_args

from transform.zone_rules import zone_info

Grain = Literal["day", "week", "month"]
GRAINS: tuple[str, ...] = get_args(Grain)

REPLY_WINDOW: Final = timedelta(days=7)
"""How soon after a turn's first message an outbound must come to be its reply (the wait the
latency measures); a later one picks the conversation up again (over years, "however late"
would make nearly every turn replied)."""


@dataclass(frozen=True)
class ReportScope:
    """The messages a report counts: local days `start`..`end` (None: open), one `did` or all,
    of one `account` or all (counted together).

    `grain` is the period of the time series; `timezone` the IANA zone local days are in.
    """

    timezone: str
    start: date | None = None
    end: date | None = None
    did: str | None = None
    grain: Grain = "week"
    account: str | None = None

    def __post_init__(self) -> None:
        if self.grain not in GRAINS:
            raise ValueError(f"grain must be one of {', '.join(GRAINS)}, not {self.grain!r}")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        zone_info(self.timezone)

    @property
    def whole_archive(self) -> bool:
        """Every day and every DID: nothing to leave out."""
        return self.start is None and self.end is None and self.did is None and not self.account

    def parameters(self) -> dict[str, object]:
        """Every bound parameter a report query may use (`$start`, `$end`, `$did`, ...)."""
        return {
            "start": self.start,
            "end": self.end,
            "did": self.did,
            "grain": self.grain,
            "tz": self.timezone,
            "account": self.account,
            "reply_window_minutes": REPLY_WINDOW.total_seconds() / 60,
        }

    def describe(
        self, first_day: date | None = None, last_day: date | None = None, *, grain: bool = True
    ) -> str:
        """One line saying what is covered, for titles and summaries; an open end named by the
        day of the first or last message in scope, where given (a PNG sent on keeps it). With
        `grain` false, the period is left out (a chart not drawn by period)."""
        since = self.start or first_day or "the first day archived"
        days = f"{since} to {self.end or last_day or 'the last'}"
        who = self.did or "all DIDs"
        if self.account:
            who = f"{self.account}, {who}"
        line = f"{days} ({self.timezone}), {who}"
        return f"{line}, by {self.grain}" if grain else line
