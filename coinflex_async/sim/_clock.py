"""The simulator's wall clock: real time by default, or a manual clock that tests move."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "ManualClock", "system_clock"]

Clock = Callable[[], float]
"""Seconds since the Unix epoch (UTC), like ``time.time``."""


def system_clock() -> float:
    """The real time, ``time.time()``."""
    return time.time()


class ManualClock:
    """A clock that only moves when told to.

    >>> clock = ManualClock(1_600_000_000.0)
    >>> clock.advance(1.5)
    >>> clock()
    1600000001.5
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds

    def set(self, now: float) -> None:
        """Set the clock to ``now`` (seconds since the epoch)."""
        self.now = now
