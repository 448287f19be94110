"""FaultConfig and the seeded injector: rate cap, latency and transport failures on demand."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from enum import Enum


class Fault(Enum):
    """What happens to one API call."""

    NONE = "none"
    MAINTENANCE = "maintenance"
    HTTP_500 = "http_500"
    HTTP_522 = "http_522"
    CONNECTION_RESET = "connection_reset"
    TRUNCATED_BODY = "truncated_body"
    TIMEOUT = "timeout"
    API_LIMIT = "api_limit"


# The order of the draw's intervals: a new kind is appended at the end, so an existing seed
# still picks the same calls for the kinds it already had.
_ORDER = (
    Fault.MAINTENANCE,
    Fault.HTTP_500,
    Fault.HTTP_522,
    Fault.CONNECTION_RESET,
    Fault.TRUNCATED_BODY,
    Fault.TIMEOUT,
    Fault.API_LIMIT,
)
FAULT_KINDS: tuple[str, ...] = tuple(fault.value for fault in _ORDER)
"""Every kind of fault, named as its FaultConfig rate field, in draw order."""


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """How badly the sandbox behaves. The default behaves perfectly.

    Rates are probabilities per API call (media fetches and /_sandbox/ are never faulted)
    and must add up to at most 1; one seeded draw per call picks at most one fault.
    `rate_per_minute` caps accepted calls in any sliding 60 s; over it the answer is
    HTTP 200 `{"status":"api_limit_exceeded"}`. `latency_s` delays every API call.
    `timeout` stalls the call `stall_s` seconds (cut short when the server stops), then
    drops the connection without an answer. `api_limit` answers HTTP 200
    `{"status":"api_limit_exceeded"}` at random, as the rate cap does when it is reached.
    """

    seed: int = 0
    rate_per_minute: int | None = None
    latency_s: float = 0.0
    http_500: float = 0.0
    http_522: float = 0.0
    connection_reset: float = 0.0
    truncated_body: float = 0.0
    maintenance: float = 0.0
    timeout: float = 0.0
    api_limit: float = 0.0
    stall_s: float = 30.0

    def __post_init__(self) -> None:
        rates = [getattr(self, f.value) for f in _ORDER]
        if any(not 0.0 <= r <= 1.0 for r in rates):
            raise ValueError("fault rates must be within 0..1")
        if sum(rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must add up to at most 1")
        if self.latency_s < 0 or self.stall_s < 0:
            raise ValueError("latency_s and stall_s must not be negative")
        if self.rate_per_minute is not None and self.rate_per_minute < 1:
            raise ValueError("rate_per_minute must be at least 1 (or None for no cap)")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> FaultConfig:
        """Build from JSON-like data (the /_sandbox/faults body); unknown keys are an error."""
        known = {f.name: f for f in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        values: dict[str, object] = {}
        for name, value in data.items():
            if name == "rate_per_minute":
                values[name] = None if value is None else int(str(value))
            elif name == "seed":
                values[name] = int(str(value))
            else:
                values[name] = float(str(value))
        return cls(**values)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """Plain fields, JSON-ready."""
        return asdict(self)


class FaultInjector:
    """Draws a fault per API call from a seeded RNG and keeps the sliding rate window."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._accepted: deque[float] = deque()

    def draw(self) -> Fault:
        """The fault for the next call (calls are drawn in arrival order)."""
        with self._lock:
            u = self._rng.random()
        edge = 0.0
        for fault in _ORDER:
            edge += getattr(self.config, fault.value)
            if u < edge:
                return fault
        return Fault.NONE

    def admit(self) -> bool:
        """True when the call fits under the per-minute cap (and is then counted)."""
        cap = self.config.rate_per_minute
        if cap is None:
            return True
        now = time.monotonic()
        with self._lock:
            while self._accepted and now - self._accepted[0] >= 60.0:
                self._accepted.popleft()
            if len(self._accepted) >= cap:
                return False
            self._accepted.append(now)
            return True
