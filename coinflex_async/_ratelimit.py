"""Client-side rate limits: named buckets of windows, each window an exact sliding log.

The exchange publishes its limits as "N requests per P seconds" and several apply to one call at
once (REST 100/s *and* 2,500 per 5 minutes; delivery requests 2 per 10 s on top). It counts
requests in any window of P seconds, and lets a client use a window's whole budget at once. So
each window is a log of the times its last N requests were let through: a request may leave
when every window it needs holds fewer than N entries newer than P seconds, and otherwise waits
exactly until the oldest entry that blocks it has aged out. That is the whole burst the exchange
allows (100 requests at once, until 2,500 are used in any 5 minutes) and never a window over
its maximum.

Requests leave after they take their tokens, and their travel times differ (connections being
opened, the network, the scheduling of a busy host), so departures that respect a window can
arrive bunched into one. A request therefore counts in its windows from when it takes its
tokens until it ended (its answer came or it failed), and for a whole window after that: the
exchange saw it somewhere in between, so the guarantee holds whatever the travel times. The
cost is one round trip per window. (Logging departure times with every window counted 50 ms
longer, tried first, let a fleet of processes on a loaded machine draw 429s.)

A leaky bucket (aiolimiter, which this module used before) cannot express "bursts of 100/s but
2,500 per 5 minutes" without pacing every request at the long window's average rate, which is
why the sliding log replaced it.

``coinflex_async._limitstore`` keeps the same logs in Redis, shared by many processes.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ._errors import TransportError

if TYPE_CHECKING:
    from ._metrics import Metrics

__all__ = [
    "ACCOUNT_BUCKETS",
    "DEFAULT_RATE_LIMITS",
    "DELIVERY",
    "JITTER",
    "MINT_REDEEM",
    "REST",
    "Limiter",
    "RateLimiter",
    "RateLimits",
    "WS_ORDERS",
    "Window",
    "wait_or_close",
]

REST = "rest"
DELIVERY = "delivery"
MINT_REDEEM = "mint_redeem"
WS_ORDERS = "ws_orders"
# Buckets the exchange counts per account rather than per IP address (the WebSocket order
# limit); a shared store keys them by account.
ACCOUNT_BUCKETS = frozenset({WS_ORDERS})

# A request whose end is not reported (RateLimiter.acquire) counts as ended this long after it
# took its tokens: how much arrivals at the exchange may bunch up compared with departures.
JITTER = 0.05


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``max_requests`` in any ``seconds``-long window."""

    max_requests: int
    seconds: float

    def __post_init__(self) -> None:
        if self.max_requests < 1 or self.seconds <= 0:
            raise ValueError("a rate-limit window needs max_requests >= 1 and seconds > 0")


def _rest() -> tuple[Window, ...]:
    return (Window(100, 1.0), Window(2500, 300.0))


def _delivery() -> tuple[Window, ...]:
    return (Window(2, 10.0),)


def _mint_redeem() -> tuple[Window, ...]:
    return (Window(1, 1.0), Window(2, 10.0))


def _ws_orders() -> tuple[Window, ...]:
    return (Window(50, 1.0),)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The buckets of one client. Defaults are the exchange's published limits (per IP).

    Every request takes from ``rest``; POST /v2.1/delivery/orders also from ``delivery``;
    POST /v2/mint and /v2/redeem also from ``mint_redeem``; each order of a command sent over
    the WebSocket (``client.stream()``) from ``ws_orders`` (50 per second per account). Pass
    ``rate_limits=None`` to ``cf.Client`` to turn limiting off (e.g. against a local simulator).
    """

    rest: tuple[Window, ...] = field(default_factory=_rest)
    delivery: tuple[Window, ...] = field(default_factory=_delivery)
    mint_redeem: tuple[Window, ...] = field(default_factory=_mint_redeem)
    ws_orders: tuple[Window, ...] = field(default_factory=_ws_orders)

    def buckets(self) -> Mapping[str, tuple[Window, ...]]:
        return {
            REST: self.rest,
            DELIVERY: self.delivery,
            MINT_REDEEM: self.mint_redeem,
            WS_ORDERS: self.ws_orders,
        }


DEFAULT_RATE_LIMITS = RateLimits()


class Limiter(Protocol):
    """What the transport needs of a limiter: in-process (:class:`RateLimiter`) or shared
    (``coinflex_async._limitstore.RedisLimiter``)."""

    async def hold(
        self, buckets: tuple[str, ...], closed: Callable[[], asyncio.Future[None]] | None
    ) -> object: ...

    def release(self, token: object) -> None: ...

    async def acquire(
        self,
        buckets: tuple[str, ...] = ...,
        closed: Callable[[], asyncio.Future[None]] | None = ...,
    ) -> None: ...

    async def close(self) -> None: ...


class _Log:
    """One window's sliding log: the requests in flight, and the times (monotonic seconds) at
    which the newest ones ended (their answer came, or they failed)."""

    __slots__ = ("in_flight", "max", "span", "times")

    def __init__(self, window: Window) -> None:
        self.max = window.max_requests
        self.span = window.seconds
        self.in_flight = 0
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """0 when a request may be let through at ``now``, else the seconds until it may
        (``inf``: not before a request in flight ends)."""
        times = self.times
        cutoff = now - self.span
        while times and times[0] <= cutoff:
            times.popleft()
        count = len(times) + self.in_flight
        if count < self.max:
            return 0.0
        # The entry whose ageing-out leaves max - 1 in the window (requests in flight end
        # after every entry already in the log).
        oldest = count - self.max
        if oldest >= len(times):
            return _UNTIL_RELEASED
        return times[oldest] + self.span - now


_UNTIL_RELEASED = float("inf")


class _Group:
    """The windows of one bucket combination, and the queue of its waiting requests."""

    __slots__ = ("logs", "names", "queue")

    def __init__(self, logs: tuple[_Log, ...], names: tuple[str, ...]) -> None:
        self.logs = logs
        self.names = names  # the bucket of each log, for metrics
        self.queue = asyncio.Lock()

    def take(self, now: float) -> tuple[float, int]:
        """Count a request in flight in every window and return (0, -1); or count none and
        return the wait and the index of the log that sets it."""
        for log in self.logs:  # _Log.wait() inlined: this runs for every request
            times = log.times
            cutoff = now - log.span
            while times and times[0] <= cutoff:
                times.popleft()
            if len(times) + log.in_flight >= log.max:
                return self._blocked(now)
        for log in self.logs:
            log.in_flight += 1
        return 0.0, -1

    def _blocked(self, now: float) -> tuple[float, int]:
        wait = 0.0
        blocking = 0
        for index, log in enumerate(self.logs):
            needed = log.wait(now)
            if needed > wait:
                wait, blocking = needed, index
        return wait, blocking

    def end(self, at: float) -> None:
        """A request of this group ended at ``at``: it ages out of each window from then."""
        for log in self.logs:
            log.in_flight -= 1
            log.times.append(at)


class RateLimiter:
    """Takes one token from every window of the named buckets before a request leaves.

    A request's tokens are taken together, at the moment it may leave: a token taken from one
    bucket while the request still waits for another would be spent at the wrong time and let the
    first bucket's window overflow. Waiters queue per bucket combination (first come, first
    served); only the head of a queue waits for capacity, so a request held by a slow bucket
    (delivery: 2 per 10 s) does not hold up plain REST calls. Taking tokens never suspends, so
    the check and the take happen at one instant.

    A request counts in its windows from when it takes its tokens (:meth:`hold`) until
    :meth:`release`, called when it ended, and then for a window's length. The exchange saw it
    between those two instants, so no window of the exchange, wherever it starts, can hold more
    than the maximum, however much the requests' travel times differ. :meth:`acquire` is for
    requests whose end is not reported: they count as if they ended ``JITTER`` seconds after
    leaving.
    """

    __slots__ = ("_groups", "_logs", "_metrics", "_monotonic", "_released")

    def __init__(
        self,
        limits: RateLimits,
        *,
        metrics: Metrics | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logs = {
            name: tuple(_Log(window) for window in windows)
            for name, windows in limits.buckets().items()
        }
        self._groups: dict[tuple[str, ...], _Group] = {}
        self._metrics = metrics
        self._monotonic = monotonic
        # Set when a request ends, for a queue head that waits on requests in flight.
        self._released: asyncio.Event | None = None

    def _group(self, buckets: tuple[str, ...]) -> _Group:
        try:
            logs = tuple(log for name in buckets for log in self._logs[name])
        except KeyError as exc:
            raise ValueError(f"no rate-limit bucket named {exc.args[0]!r}") from None
        names = tuple(name for name in buckets for _ in self._logs[name])
        group = self._groups[buckets] = _Group(logs, names)
        return group

    async def hold(
        self,
        buckets: tuple[str, ...] = (REST,),
        closed: Callable[[], asyncio.Future[None]] | None = None,
    ) -> _Group:
        """Take the request's tokens, waiting for them if need be; pass the result to
        :meth:`release` when the request has ended.

        ``closed`` gives a future that resolves when the client closes: a request still waiting
        then ends with TransportError instead of waiting out a window.
        """
        group = self._groups.get(buckets) or self._group(buckets)
        queue = group.queue
        if not queue.locked() and group.take(self._monotonic())[1] < 0:
            return group
        started = self._monotonic()
        bucket = group.names[0]
        async with queue:
            while True:
                wait, blocking = group.take(self._monotonic())
                if blocking < 0:
                    break
                bucket = group.names[blocking]
                if wait == _UNTIL_RELEASED:
                    if self._released is None:
                        self._released = asyncio.Event()
                    await wait_or_close(None, closed, self._released)
                else:
                    await wait_or_close(wait, closed)
        if self._metrics is not None:
            self._metrics.rate_limit_waited(bucket, self._monotonic() - started)
        return group

    def release(self, token: object) -> None:
        """The request that took ``token`` (from :meth:`hold`) has ended."""
        token.end(self._monotonic())  # type: ignore[attr-defined]
        released = self._released
        if released is not None:
            self._released = None
            released.set()

    async def acquire(
        self,
        buckets: tuple[str, ...] = (REST,),
        closed: Callable[[], asyncio.Future[None]] | None = None,
    ) -> None:
        """Take the tokens of a request whose end will not be reported: it counts as ended
        ``JITTER`` seconds from now."""
        group = await self.hold(buckets, closed)
        group.end(self._monotonic() + JITTER)
        released = self._released
        if released is not None:
            self._released = None
            released.set()

    async def close(self) -> None:
        """Nothing to release: the logs live in this process."""


async def wait_or_close(
    delay: float | None,
    closed: Callable[[], asyncio.Future[None]] | None,
    event: asyncio.Event | None = None,
) -> None:
    """Sleep ``delay`` seconds (None: until ``event`` is set), or raise TransportError as soon
    as the client closes."""
    if closed is None and event is None:
        await asyncio.sleep(delay or 0.0)
        return
    waits: list[asyncio.Future[Any]] = []
    closing = closed() if closed is not None else None
    if closing is not None:
        waits.append(closing)
    setter = asyncio.ensure_future(event.wait()) if event is not None else None
    if setter is not None:
        waits.append(setter)
    try:
        await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if setter is not None:
            setter.cancel()
    if closing is not None and closing.done():
        raise TransportError(
            "the client was closed while the request waited for its turn", request_sent=False
        )
