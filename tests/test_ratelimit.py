"""Client-side rate limits through real sockets, judged by server-side arrival times."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

import coinflex_async as cf
from coinflex_async.sim import RateLimit, RateLimits, Simulator
from tests.loopback import Recorded, RecordingServer
from tests.models import docs_examples as docs

KEY = "ratelimit-test-key"
SECRET = "ratelimit-test-secret"
LOOSE = (cf.Window(1000, 1.0),)


def client_for(url: str, rate_limits: cf.RateLimits | None) -> cf.Client:
    return cf.Client(KEY, SECRET, base_url=url, rate_limits=rate_limits, retry=None)


def busiest_window(requests: list[Recorded], seconds: float) -> int:
    """The most arrivals in any half-open window [t, t + seconds) at the server."""
    times = sorted(r.at for r in requests)
    return max(sum(1 for u in times if t <= u < t + seconds) for t in times)


def span(requests: list[Recorded]) -> float:
    times = [r.at for r in requests]
    return max(times) - min(times)


async def warm_up(client: cf.Client, server: RecordingServer) -> None:
    """Open a kept-alive connection first, and leave its request out of the measurement.

    On a busy machine, setting up connections during the burst delays the first arrivals more
    than the later ones, which squeezes the measured windows; the client's limiter cannot know.
    """
    await client.public.ticker()
    await asyncio.sleep(0.2)  # the window's burst token leaks back meanwhile
    server.requests.clear()


async def wait_for_arrival(server: RecordingServer, method: str) -> None:
    for _ in range(300):
        if any(r.method == method for r in server.requests):
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"no {method} arrived")


async def test_a_burst_is_spread_so_no_window_holds_more_than_its_limit(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", (200, docs.TICKER, {}))
    limits = cf.RateLimits(rest=(cf.Window(10, 1.0),))
    async with client_for(url, limits) as client:
        await warm_up(client, server)
        await asyncio.gather(*(client.public.ticker() for _ in range(30)))
    assert len(server.requests) == 30
    assert busiest_window(server.requests, 1.0) <= 10
    # 30 requests at 10 per second cannot all arrive in less than two seconds.
    assert span(server.requests) >= 1.9


async def test_without_rate_limits_a_burst_goes_out_at_once(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", (200, docs.TICKER, {}))
    async with client_for(url, None) as client:
        await asyncio.gather(*(client.public.ticker() for _ in range(30)))
    assert len(server.requests) == 30
    assert span(server.requests) < 0.5
    assert busiest_window(server.requests, 1.0) == 30


async def test_every_window_of_a_bucket_applies(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", (200, docs.TICKER, {}))
    limits = cf.RateLimits(rest=(cf.Window(1000, 1.0), cf.Window(3, 0.3)))
    async with client_for(url, limits) as client:
        await warm_up(client, server)
        await asyncio.gather(*(client.public.ticker() for _ in range(9)))
    assert busiest_window(server.requests, 0.3) <= 3
    assert span(server.requests) >= 0.55


Call = Callable[[cf.Client], Awaitable[object]]


def _request_delivery(client: cf.Client) -> Awaitable[object]:
    return client.private.request_delivery("BTC-USD-SWAP-LIN", "1")


def _mint(client: cf.Client) -> Awaitable[object]:
    return client.private.mint("flexUSD", "10")


@pytest.mark.parametrize(
    ("limits", "limited_path", "limited_call"),
    [
        (
            cf.RateLimits(rest=LOOSE, delivery=(cf.Window(1, 0.5),), mint_redeem=LOOSE),
            "/v2.1/delivery/orders",
            _request_delivery,
        ),
        (
            cf.RateLimits(rest=LOOSE, delivery=LOOSE, mint_redeem=(cf.Window(1, 0.5),)),
            "/v2/mint",
            _mint,
        ),
    ],
    ids=["delivery", "mint_redeem"],
)
async def test_an_endpoint_bucket_slows_only_its_own_endpoint(
    recorder: tuple[RecordingServer, str],
    limits: cf.RateLimits,
    limited_path: str,
    limited_call: Call,
) -> None:
    server, url = recorder
    server.reply("POST", "/v2.1/delivery/orders", (200, docs.REQUEST_DELIVERY, {}))
    server.reply("POST", "/v2/mint", (200, docs.MINT, {}))
    server.reply("GET", "/v2.1/delivery/orders", (200, docs.DELIVERY_ORDERS, {}))
    server.reply("GET", "/v2/mint/flexUSD", (200, docs.MINT_HISTORY, {}))
    server.reply(
        "DELETE", "/v2.1/delivery/orders/586985384617312258", (200, docs.CANCEL_DELIVERY_OK, {})
    )
    server.reply("GET", "/v2/ticker", (200, docs.TICKER, {}))
    async with client_for(url, limits) as client:
        await warm_up(client, server)
        limited = [asyncio.ensure_future(limited_call(client)) for _ in range(2)]
        await wait_for_arrival(server, "POST")
        # The second limited call now waits for its bucket; everything else must not.
        others_started = time.monotonic()
        await asyncio.gather(
            *(client.private.delivery_orders() for _ in range(5)),
            *(client.private.mint_history("flexUSD") for _ in range(5)),
            *(client.private.cancel_delivery("586985384617312258") for _ in range(3)),
            *(client.public.ticker() for _ in range(5)),
        )
        others_took = time.monotonic() - others_started
        await asyncio.gather(*limited)

    posts = [r for r in server.requests if r.method == "POST"]
    rest = [r for r in server.requests if r.method != "POST"]
    assert [r.path for r in posts] == [limited_path, limited_path]
    assert posts[1].at - posts[0].at >= 0.45
    assert len(rest) == 18
    assert all(r.at < posts[1].at for r in rest)
    assert others_took < 0.4


def test_the_default_limits_are_the_exchange_published_ones() -> None:
    limits = cf.RateLimits()
    assert limits.rest == (cf.Window(100, 1.0), cf.Window(2500, 300.0))
    assert limits.delivery == (cf.Window(2, 10.0),)
    assert limits.mint_redeem == (cf.Window(1, 1.0), cf.Window(2, 10.0))


@pytest.mark.parametrize(("max_requests", "seconds"), [(0, 1.0), (-1, 1.0), (1, 0.0), (1, -1.0)])
def test_a_window_refuses_nonsense(max_requests: int, seconds: float) -> None:
    with pytest.raises(ValueError):
        cf.Window(max_requests, seconds)


async def test_a_request_waiting_for_its_endpoint_bucket_still_respects_the_rest_window(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("POST", "/v2.1/delivery/orders", (200, docs.REQUEST_DELIVERY, {}))
    server.reply("GET", "/v2/ticker", (200, docs.TICKER, {}))
    limits = cf.RateLimits(rest=(cf.Window(5, 0.5),), delivery=(cf.Window(1, 0.5),))
    async with client_for(url, limits) as client:
        await warm_up(client, server)
        await asyncio.gather(
            _request_delivery(client),
            _request_delivery(client),
            *(client.public.ticker() for _ in range(8)),
        )
    assert len(server.requests) == 10
    assert busiest_window(server.requests, 0.5) <= 5


# -- the exchange's whole burst, against the simulator's exact windows ------------------------


async def test_default_limits_let_100_concurrent_calls_go_at_once() -> None:
    """The exchange allows 100 per second at once: with the default limits on both sides, 100
    concurrent calls all go in the first window (no pacing), and none is refused."""
    async with Simulator() as sim, cf.Client(base_url=sim.url, retry=None) as client:
        started = time.monotonic()
        await asyncio.gather(*(client.public.ping() for _ in range(100)))
        elapsed = time.monotonic() - started
    assert sim.stats.rate_limited == 0
    assert elapsed <= 1.1


async def test_the_long_window_is_used_in_bursts_then_waits_for_its_oldest_entry() -> None:
    """The 2,500-per-5-minutes case scaled down (20 per 0.25 s and 100 per 2.5 s): the first 100
    calls go in bursts of 20 without pacing, the 101st not before the first one's long window
    has passed, and no window at the simulator holds more than its maximum."""
    short, long = (20, 0.25), (100, 2.5)
    sim_limits = RateLimits((RateLimit("short", *short), RateLimit("long", *long)))
    limits = cf.RateLimits(rest=(cf.Window(*short), cf.Window(*long)))
    async with Simulator(rate_limits=sim_limits) as sim:
        async with cf.Client(base_url=sim.url, rate_limits=limits, retry=None) as client:
            started = time.monotonic()
            await asyncio.gather(*(client.public.ping() for _ in range(100)))
            burst_took = time.monotonic() - started
            await client.public.ping()
        arrivals = sim.stats.arrivals["long"]
    assert sim.stats.rate_limited == 0
    assert sim.stats.max_in_window("short") <= short[0]
    assert sim.stats.max_in_window("long") <= long[0]
    # Five bursts, each one short window (+ the 50 ms margin) after the last: about 1.2 s; a
    # limiter pacing at the long window's rate would need 2.5 s.
    assert burst_took < 2.0
    assert arrivals[100] - arrivals[0] >= long[1]
