"""RequestPacer spaces request starts evenly, across threads, to stay under N a minute."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from extract.voipms.pacing import RequestPacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_starts_are_reserved_one_interval_apart() -> None:
    fake = FakeTime()
    pacer = RequestPacer(120, clock=fake.clock, sleep=fake.sleep)
    delays = [pacer.wait() for _ in range(4)]
    assert delays == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert fake.slept == pytest.approx([0.5, 1.0, 1.5])
    fake.now += 10  # idle time is not banked as a burst
    assert pacer.wait() == 0.0
    assert pacer.wait() == pytest.approx(0.5)


def test_threads_share_the_pace() -> None:
    pacer = RequestPacer(1200)  # one start every 50 ms
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            pacer.wait()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(starts) == 12
    # each start is read a little after the pacer lets it go, later on a busy machine: no
    # two starts together, and the twelve spread over eleven paces
    assert min(gaps) >= 0.025
    assert starts[-1] - starts[0] >= 11 * 0.05 - 0.01


def test_a_zero_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="requests_per_minute"):
        RequestPacer(0)
