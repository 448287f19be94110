"""DriftConfig: deterministic ways the sandbox's getSMS/getMMS answers stray from the reference."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _day(value: object) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a day must be a YYYY-MM-DD string, not {value!r}")
    return date.fromisoformat(value.strip())


def _extra_fields(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, Mapping):
        pairs: list[Any] = list(value.items())
    elif isinstance(value, list | tuple):
        pairs = list(value)
    else:
        raise ValueError("extra_fields must be an object {name: value} or a list of pairs")
    out: list[tuple[str, str]] = []
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"an extra field must be a (name, value) pair, not {pair!r}")
        name, text = pair
        if not isinstance(name, str) or not isinstance(text, str):
            raise ValueError(f"an extra field's name and value must be strings: {pair!r}")
        out.append((name, text))
    return tuple(out)


def _numeric_fields(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if not isinstance(value, list | tuple):
        raise ValueError("numeric_fields must be a list of field names")
    if not all(isinstance(name, str) for name in value):
        raise ValueError("numeric_fields must hold field names (strings)")
    return tuple(value)


def _stray_rows(value: object) -> tuple[object, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError("stray_rows must be a list of JSON values that are not objects")
    if any(isinstance(row, Mapping) for row in value):
        raise ValueError("stray_rows are rows that are not objects: no {...} among them")
    return tuple(value)


def _error_days(value: object) -> tuple[date, date] | None:
    if value is None:
        return None
    if isinstance(value, str):
        day = _day(value)
        return day, day
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError("error_days must be [first, last] (YYYY-MM-DD), one day, or null")
    return _day(value[0]), _day(value[1])


ECHOED_PASSWORD = "{api_password}"  # noqa: S105 (a placeholder, not a password)
"""Written in `DriftConfig.error_code`, it stands for the password of the call refused."""


@dataclass(frozen=True, slots=True)
class DriftConfig:
    """How the sandbox's answers differ from the reference (the API changed under us).

    Deterministic (no randomness) and only for getSMS/getMMS, single-id lookups included;
    applied to calls that passed the access checks and drew no fault. The default is the
    reference itself.
    """

    extra_fields: tuple[tuple[str, str], ...] = ()
    """(name, value) added to every getSMS/getMMS row (a field of that name is replaced)."""
    numeric_fields: tuple[str, ...] = ()
    """Row fields rendered as JSON numbers when their value is all ASCII digits ("id", "type")."""
    error_code: str | None = None
    """The status answered (HTTP 200) instead, by calls whose days touch `error_days`.
    `ECHOED_PASSWORD` in it is replaced by the password the call sent: a provider that
    repeats its request in an error (what the client must never pass on)."""
    error_days: tuple[date, date] | None = None
    """Inclusive local days; None with `error_code` set means every getSMS/getMMS call."""
    stray_rows: tuple[object, ...] = ()
    """JSON values that are not objects (null, "x", [1]) appended to the rows of every answer
    with rows that they leave short of its limit (so a full answer is never made fuller)."""

    def __post_init__(self) -> None:
        names = [name for name, _ in self.extra_fields]
        if not all(_is_text(n) for n in names) or not all(
            isinstance(v, str) for _, v in self.extra_fields
        ):
            raise ValueError("extra fields need a non-empty name and a string value")
        if len(set(names)) != len(names):
            raise ValueError(f"an extra field is named twice: {names}")
        if not all(_is_text(n) for n in self.numeric_fields):
            raise ValueError("numeric_fields must be non-empty field names")
        if self.error_code is not None and not _is_text(self.error_code):
            raise ValueError("error_code must be a non-empty status string (or None)")
        _stray_rows(self.stray_rows)
        if self.error_days is not None:
            if self.error_code is None:
                raise ValueError("error_days needs an error_code")
            first, last = self.error_days
            if first > last:
                raise ValueError(f"error_days start ({first}) is after their end ({last})")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> DriftConfig:
        """Build from JSON-like data (the /_sandbox/drift body); unknown keys are an error.

        `extra_fields`: an object {name: value} or a list of [name, value] pairs;
        `numeric_fields`: a list of names (or one comma-separated string); `error_code`: a
        string or null; `error_days`: [first, last] as YYYY-MM-DD, a single day, or null;
        `stray_rows`: a list of JSON values that are not objects.
        Omitted keys take their defaults, so `{}` is the reference again.
        """
        known = {"extra_fields", "numeric_fields", "error_code", "error_days", "stray_rows"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown drift fields: {sorted(unknown)}")
        code = data.get("error_code")
        if code is not None and not isinstance(code, str):
            raise ValueError(f"error_code must be a string or null, not {code!r}")
        return cls(
            extra_fields=_extra_fields(data.get("extra_fields", ())),
            numeric_fields=_numeric_fields(data.get("numeric_fields", ())),
            error_code=code,
            error_days=_error_days(data.get("error_days")),
            stray_rows=_stray_rows(data.get("stray_rows", ())),
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields; `from_mapping(to_dict())` gives the same config back."""
        return {
            "extra_fields": dict(self.extra_fields),
            "numeric_fields": list(self.numeric_fields),
            "error_code": self.error_code,
            "error_days": (
                None if self.error_days is None else [d.isoformat() for d in self.error_days]
            ),
            "stray_rows": list(self.stray_rows),
        }

    @property
    def active(self) -> bool:
        """True when any answer differs from the reference."""
        return bool(
            self.extra_fields
            or self.numeric_fields
            or self.stray_rows
            or self.error_code is not None
        )

    def refusal(self, first: date | None, last: date | None) -> str | None:
        """The status a call about local days `first..last` answers instead, or None.

        With `error_days` unset every call is refused; with them set, only a valid range
        (`first <= last`, both known) that shares at least one day with them.
        """
        if self.error_code is None:
            return None
        if self.error_days is None:
            return self.error_code
        if first is None or last is None or first > last:
            return None
        low, high = self.error_days
        return self.error_code if first <= high and low <= last else None

    def rewrite_row(self, row: Mapping[str, object]) -> dict[str, object]:
        """One getSMS/getMMS row as the drifted API shows it (a new dict)."""
        out = dict(row)
        out.update(self.extra_fields)
        for name in self.numeric_fields:
            value = out.get(name)
            if isinstance(value, str) and value.isascii() and value.isdigit():
                out[name] = int(value)
        return out
