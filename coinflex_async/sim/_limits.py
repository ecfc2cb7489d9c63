"""The exchange's published rate limits, enforced with exact sliding windows, and the
request statistics tests read back."""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "MAX_RECORDED_ARRIVALS",
    "RateLimit",
    "RateLimiter",
    "RateLimits",
    "SimStats",
]

# Arrival times kept per limit: plenty for any test, bounded for a long-running server.
MAX_RECORDED_ARRIVALS = 1_000_000


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` requests in any ``window`` seconds, per client IP.

    ``method`` and ``path`` (exact, the URL path without the query) narrow which requests
    count; None counts every request.
    """

    name: str
    limit: int
    window: float
    method: str | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")

    def applies_to(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path == path
        )


DEFAULT_RATE_LIMITS: tuple[RateLimit, ...] = (
    RateLimit("rest_per_second", 100, 1.0),
    RateLimit("rest_per_5_minutes", 2500, 300.0),
    RateLimit("delivery_per_10_seconds", 2, 10.0, "POST", "/v2.1/delivery/orders"),
    RateLimit("mint_per_second", 1, 1.0, "POST", "/v2/mint"),
    RateLimit("mint_per_10_seconds", 2, 10.0, "POST", "/v2/mint"),
    RateLimit("redeem_per_second", 1, 1.0, "POST", "/v2/redeem"),
    RateLimit("redeem_per_10_seconds", 2, 10.0, "POST", "/v2/redeem"),
)


@dataclass(frozen=True)
class RateLimits:
    """The set of limits a Simulator enforces (default: the exchange's published ones)."""

    limits: tuple[RateLimit, ...] = DEFAULT_RATE_LIMITS

    def __post_init__(self) -> None:
        names = [limit.name for limit in self.limits]
        if len(set(names)) != len(names):
            raise ValueError("rate limit names must be unique")


@dataclass
class SimStats:
    """What the simulator saw. Times are ``time.monotonic()`` seconds at arrival; each limit
    keeps its last ``MAX_RECORDED_ARRIVALS`` or more."""

    requests: int = 0
    rate_limited: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    # Per rate limit: the arrival time of every request it applies to, refused ones included,
    # and of the ones it let through.
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    accepted: dict[str, list[float]] = field(default_factory=dict)
    windows: dict[str, float] = field(default_factory=dict)
    # WebSocket counts: "connections" (opened), "refused" (handshakes turned away),
    # "received", "sent" (messages), "rate_limited", "closed_idle", "closed_slow".
    websocket: Counter[str] = field(default_factory=Counter)
    # How late each depth push round started (seconds after its 50 ms slot), the newest
    # 100,000; and how many slots were skipped because a round ran past the next one.
    depth_lateness: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))
    depth_slots_missed: int = 0

    def max_in_window(
        self, limit_name: str, window: float | None = None, *, include_refused: bool = True
    ) -> int:
        """The most requests a window of ``window`` seconds (default: the limit's own) ever
        held. With ``include_refused`` it measures what clients sent, else what got in."""
        times = (self.arrivals if include_refused else self.accepted).get(limit_name, [])
        span = self.windows[limit_name] if window is None else window
        most = 0
        start = 0
        for end, arrived in enumerate(times):
            while arrived - times[start] >= span:
                start += 1
            most = max(most, end - start + 1)
        return most

    @property
    def faults_injected_total(self) -> int:
        return sum(self.faults_injected.values())

    def reset(self) -> None:
        self.requests = 0
        self.rate_limited = 0
        self.by_status.clear()
        self.by_route.clear()
        self.faults_injected.clear()
        self.websocket.clear()
        self.depth_lateness.clear()
        self.depth_slots_missed = 0
        for times in (*self.arrivals.values(), *self.accepted.values()):
            times.clear()


class RateLimiter:
    def __init__(
        self,
        limits: RateLimits | None,
        stats: SimStats,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits.limits if limits is not None else ()
        self._stats = stats
        self._monotonic = monotonic
        self._windows: dict[tuple[str, str], deque[float]] = {}
        for limit in self.limits:
            stats.arrivals.setdefault(limit.name, [])
            stats.accepted.setdefault(limit.name, [])
            stats.windows[limit.name] = limit.window

    def admit(self, method: str, path: str, client: str) -> int | None:
        """Count the request; None if it may proceed, else the whole seconds to wait."""
        if not self.limits:
            return None
        now = self._monotonic()
        matching = [limit for limit in self.limits if limit.applies_to(method, path)]
        wait = 0.0
        logs = []
        for limit in matching:
            _record(self._stats.arrivals[limit.name], now)
            log = self._windows.get((limit.name, client))
            if log is None:
                log = self._windows[(limit.name, client)] = deque()
            while log and now - log[0] >= limit.window:
                log.popleft()
            if len(log) >= limit.limit:
                wait = max(wait, log[0] + limit.window - now)
            logs.append((limit, log))
        if wait > 0:
            return max(1, math.ceil(wait))
        for limit, log in logs:
            log.append(now)
            _record(self._stats.accepted[limit.name], now)
        return None


def _record(times: list[float], now: float) -> None:
    times.append(now)
    if len(times) > 2 * MAX_RECORDED_ARRIVALS:
        del times[:MAX_RECORDED_ARRIVALS]
