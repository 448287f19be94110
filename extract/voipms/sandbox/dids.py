"""The account's DIDs: numbers, descriptions and the SMS settings getDIDsInfo shows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from extract.voipms.sandbox.render import E164, NANPA

RATE_CENTRES: tuple[tuple[str, str], ...] = (
    ("514", "MONTREAL, QC"),
    ("305", "MIAMI, FL"),
    ("212", "NEW YORK, NY"),
    ("415", "SAN FRANCISCO, CA"),
    ("617", "BOSTON, MA"),
    ("312", "CHICAGO, IL"),
    ("416", "TORONTO, ON"),
    ("702", "LAS VEGAS, NV"),
    ("206", "SEATTLE, WA"),
    ("713", "HOUSTON, TX"),
    ("604", "VANCOUVER, BC"),
    ("404", "ATLANTA, GA"),
    ("303", "DENVER, CO"),
    ("613", "OTTAWA, ON"),
    ("215", "PHILADELPHIA, PA"),
    ("503", "PORTLAND, OR"),
)

SMS_FIELDS: tuple[str, ...] = (
    "sms_available",
    "sms_enabled",
    "sms_email",
    "sms_email_enabled",
    "sms_forward",
    "sms_forward_enabled",
    "sms_url_callback",
    "sms_url_callback_enabled",
    "sms_url_callback_retry",
    "smpp_enabled",
    "smpp_url",
    "smpp_user",
    "smpp_pass",
)


@dataclass(frozen=True, slots=True)
class DidRecord:
    """One DID as the sandbox keeps it; replaced, never mutated, when setSMS changes it."""

    did: str
    description: str
    routing: str
    dialmode: int
    settings: dict[str, str] = field(default_factory=dict)
    enable_changed_at: float | None = None

    @property
    def e164(self) -> bool:
        """True when the API renders this DID's numbers as +1XXXXXXXXXX."""
        return self.dialmode == E164

    def info(self) -> dict[str, str]:
        """The getDIDsInfo row: did, description, routing and the reference's SMS fields."""
        row = {"did": self.did, "description": self.description, "routing": self.routing}
        row.update({name: self.settings.get(name, "") for name in SMS_FIELDS})
        return row


def make_dids(rng: random.Random, count: int) -> list[DidRecord]:
    """`count` distinct DIDs; the second one (the only one when count is 1) is in E.164 mode."""
    numbers: set[str] = set()
    records: list[DidRecord] = []
    e164_index = min(1, count - 1)
    for index in range(count):
        area, description = RATE_CENTRES[index % len(RATE_CENTRES)]
        number = ""
        while not number or number in numbers:
            number = f"{area}{rng.randrange(200, 1000)}{rng.randrange(0, 10000):04d}"
        numbers.add(number)
        settings = {
            "sms_available": "1",
            "sms_enabled": "1",
            "sms_email": "owner@example.com" if index == 0 else "",
            "sms_email_enabled": "1" if index == 0 else "0",
            "sms_forward": "",
            "sms_forward_enabled": "0",
            "sms_url_callback": "",
            "sms_url_callback_enabled": "0",
            "sms_url_callback_retry": "0",
            "smpp_enabled": "0",
            "smpp_url": "",
            "smpp_user": "",
            "smpp_pass": "",
        }
        records.append(
            DidRecord(
                did=number,
                description=description,
                routing=f"account:100001_{index + 1:03d}",
                dialmode=E164 if index == e164_index else NANPA,
                settings=settings,
            )
        )
    return records
