"""AccountSpec: the few numbers that determine a synthetic sandbox account."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

ACCOUNT_TIMEZONE = "America/New_York"
"""The zone the VoIP.ms API renders `date` in when no `timezone` parameter is sent."""


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """What to generate; the same spec always yields the same account.

    Field names match the options of `smsarchive sandbox`. The default span is a fixed
    calendar year (never "the last year from today"), so a default account is reproducible.
    """

    seed: int = 0
    messages: int = 2000
    start: date = date(2024, 1, 1)
    end: date = date(2024, 12, 31)
    dids: int = 3
    mms_share: float = 0.15
    expired_share: float = 0.03
    contacts_per_did: int | None = None
    """Distinct correspondents per DID; None scales with the message count."""

    def __post_init__(self) -> None:
        if self.messages < 1:
            raise ValueError("messages must be at least 1")
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if not 1 <= self.dids <= 99:
            raise ValueError("dids must be between 1 and 99")
        for name in ("mms_share", "expired_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1")
        if self.contacts_per_did is not None and self.contacts_per_did < 1:
            raise ValueError("contacts_per_did must be at least 1")

    @property
    def days(self) -> int:
        """Number of local calendar days covered, both ends included."""
        return (self.end - self.start).days + 1

    def resolved_contacts_per_did(self) -> int:
        """Correspondents per DID: given, or about 2 * sqrt(messages per DID), at least 8."""
        if self.contacts_per_did is not None:
            return self.contacts_per_did
        per_did = self.messages / self.dids
        return max(8, min(5000, round(2 * math.sqrt(per_did))))
