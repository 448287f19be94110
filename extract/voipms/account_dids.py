"""The account's DIDs from getDIDsInfo, asked on a helper thread while the first windows run."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, overload


def did_numbers(answer: list[dict[str, Any]]) -> list[str]:
    """The DID of every row of a getDIDsInfo answer that has one."""
    return [str(row.get("did", "")) for row in answer if row.get("did")]


class AccountDids(Sequence[str]):
    """The DIDs of a getDIDsInfo call still in flight; reading them waits for its answer.

    Windows need the DIDs only to split a day too full for one answer, so they start before
    getDIDsInfo has answered: on the real API, a run's first call no longer holds up the
    others. `wait()` raises the call's error, if it failed.
    """

    def __init__(self, answer: Future[list[dict[str, Any]]]) -> None:
        self._answer = answer
        self._numbers: tuple[str, ...] | None = None

    def wait(self) -> tuple[str, ...]:
        """The DIDs, once getDIDsInfo has answered (read from its answer once: a split by DID
        goes through them one by one)."""
        if self._numbers is None:
            # two threads may both read it: they get equal tuples, and either may be kept
            self._numbers = tuple(did_numbers(self._answer.result()))
        return self._numbers

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self.wait()[index]

    def __len__(self) -> int:
        return len(self.wait())
