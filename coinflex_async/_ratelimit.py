"""Client-side rate limits: named buckets of windows, each window an aiolimiter leaky bucket.

The exchange publishes its limits as "N requests per P seconds" and several apply to one call at
once (REST 100/s *and* 2,500 per 5 minutes; delivery requests 2 per 10 s on top). A plain leaky
bucket of capacity N lets through up to 2N in some window of P seconds (a full burst, then N more
leaking in), which an exchange counting windows would refuse. So each window becomes a bucket with
a small burst and a leak rate chosen so that no window of P seconds ever holds more than N
departures, even if arrivals at the exchange bunch up by up to ``JITTER`` seconds:

    burst = ceil(N / 100)                      (1% of N, at least 1)
    rate  = (N - burst + 1) / (P + JITTER)     requests per second

In any window of P + JITTER seconds at most ``burst + rate * (P + JITTER) - 1 = N`` requests
leave. The long-run rate is 95% of N/P for a 1 s window and over 99% for 10 s and longer ones.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter

from ._errors import TransportError

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "DELIVERY",
    "JITTER",
    "MINT_REDEEM",
    "REST",
    "RateLimiter",
    "RateLimits",
    "WS_ORDERS",
    "Window",
]

REST = "rest"
DELIVERY = "delivery"
MINT_REDEEM = "mint_redeem"
WS_ORDERS = "ws_orders"

# How much arrivals at the exchange may bunch up compared with departures (network and server
# scheduling); each window is paced as if it were this much longer.
JITTER = 0.05


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``max_requests`` in any ``seconds``-long window."""

    max_requests: int
    seconds: float

    def __post_init__(self) -> None:
        if self.max_requests < 1 or self.seconds <= 0:
            raise ValueError("a rate-limit window needs max_requests >= 1 and seconds > 0")

    def limiter(self) -> AsyncLimiter:
        burst = math.ceil(self.max_requests / 100)
        rate = (self.max_requests - burst + 1) / (self.seconds + JITTER)
        return AsyncLimiter(burst, burst / rate)


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


class RateLimiter:
    """Takes one token from every window of the named buckets before a request leaves.

    A request's tokens are taken together, at the moment it may leave: a token taken from one
    bucket while the request still waits for another would be spent at the wrong time and let the
    first bucket's window overflow. Waiters queue per bucket combination (first come, first
    served); only the head of a queue waits for capacity, so a request held by a slow bucket
    (delivery: 2 per 10 s) does not hold up plain REST calls.

    aiolimiter binds to the running loop, so the limiters are built on first use, inside it.
    """

    __slots__ = ("_groups", "_limits", "_queues")

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        self._groups: dict[tuple[str, ...], tuple[AsyncLimiter, ...]] | None = None
        self._queues: dict[tuple[str, ...], asyncio.Lock] = {}

    def _build(self) -> dict[tuple[str, ...], tuple[AsyncLimiter, ...]]:
        limiters = {
            name: tuple(window.limiter() for window in windows)
            for name, windows in self._limits.buckets().items()
        }
        # Precompute the bucket combinations endpoints use, so acquire() is one dict lookup.
        groups = {
            (REST,): limiters[REST],
            (REST, DELIVERY): limiters[REST] + limiters[DELIVERY],
            (REST, MINT_REDEEM): limiters[REST] + limiters[MINT_REDEEM],
            (WS_ORDERS,): limiters[WS_ORDERS],
        }
        self._queues = {key: asyncio.Lock() for key in groups}
        self._groups = groups
        return groups

    def has_capacity(self, buckets: tuple[str, ...] = (REST,)) -> bool:
        """Whether a request could take its tokens now, without queueing."""
        groups = self._groups or self._build()
        return not self._queues[buckets].locked() and all(
            limiter.has_capacity() for limiter in groups[buckets]
        )

    async def acquire(
        self,
        buckets: tuple[str, ...] = (REST,),
        closed: Callable[[], asyncio.Future[None]] | None = None,
    ) -> None:
        """Take the request's tokens, waiting for them if need be.

        ``closed`` gives a future that resolves when the client closes: a request still waiting
        then ends with TransportError instead of waiting out a window.
        """
        groups = self._groups or self._build()
        limiters = groups[buckets]
        queue = self._queues[buckets]
        if not queue.locked():
            for limiter in limiters:
                if not limiter.has_capacity():
                    break
            else:
                await _take(limiters)
                return
        async with queue:
            while True:
                blocked = [limiter for limiter in limiters if not limiter.has_capacity()]
                if not blocked:
                    await _take(limiters)
                    return
                # A bucket frees one token every time_period / max_rate seconds.
                delay = max(lim.time_period / lim.max_rate for lim in blocked)
                if closed is None:
                    await asyncio.sleep(delay)
                    continue
                closing = closed()
                await asyncio.wait((closing,), timeout=delay)
                if closing.done():
                    raise TransportError(
                        "the client was closed while the request waited for its turn"
                    )


async def _take(limiters: tuple[AsyncLimiter, ...]) -> None:
    # Every limiter was just seen with capacity, and aiolimiter's acquire() only suspends when
    # it has none, so no other task runs between these: the tokens are taken at one instant.
    for limiter in limiters:
        await limiter.acquire()
