"""The ``iter_*`` walks against a loopback exchange that answers history requests as the docs
say: the newest ``limit`` items with ``startTime <= time <= endTime``, newest first, and at
most 7 days between the two (else HTTP 400). Every edge of windows and pages is walked over
real sockets, with faults injected by the server, never by patching the client."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import random
import tracemalloc
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coinflex_async as cf
from tests.loopback import Recorded, RecordingServer, Reply

MARKET = "BTC-USD-SWAP-LIN"
PATH = f"/v2/publictrades/{MARKET}"
DAY = 86_400_000
WEEK = 7 * DAY
T0 = 1_640_995_200_000  # 2022-01-01T00:00:00Z


def trade(match_id: int, ts: int) -> dict[str, Any]:
    return {
        "matchId": str(match_id),
        "matchQuantity": "0.001",
        "matchPrice": "50000.0",
        "side": "BUY",
        "matchTimestamp": str(ts),
    }


class HistoryExchange:
    """``items`` (with a time under ``time_key``) served the docs' way; ``faults`` maps a
    request number (1-based) to the reply given instead."""

    def __init__(self, items: list[dict[str, Any]], time_key: str = "matchTimestamp") -> None:
        self.time_key = time_key
        self.items = sorted(items, key=lambda item: int(item[time_key]))
        self.faults: dict[int, Reply] = {}
        self.asked: list[tuple[int, int, int]] = []

    def __call__(self, request: Recorded) -> Reply:
        query = dict(parse_qsl(request.query))
        number = len(self.asked) + 1
        start, end = int(query["startTime"]), int(query["endTime"])
        limit = int(query["limit"])
        self.asked.append((start, end, limit))
        if number in self.faults:
            return self.faults[number]
        if end - start > WEEK or end < start:
            return (400, {"success": False, "code": "20001", "message": "over 7 days"}, {})
        chosen = [i for i in self.items if start <= int(i[self.time_key]) <= end]
        # Newest first; ties in reverse insertion order, as a descending sort would leave them.
        data = list(reversed(chosen))[:limit]
        return (200, {"event": "publicTrades", "data": data}, {})


def expected(items: list[dict[str, Any]], start: int, end: int) -> list[tuple[int, int]]:
    inside = [(int(i["matchTimestamp"]), int(i["matchId"])) for i in items]
    return sorted(x for x in inside if start <= x[0] <= end)


async def walk(url: str, start: int, end: int, **options: Any) -> list[tuple[int, int]]:
    async with cf.Client(base_url=url, rate_limits=None, **options.pop("client", {})) as client:
        return [
            (t.match_timestamp, int(t.match_id))
            async for t in client.public.iter_trades(
                MARKET, start_time=start, end_time=end, **options
            )
        ]


def serve(recorder: tuple[RecordingServer, str], exchange: Callable[[Recorded], Reply]) -> str:
    server, url = recorder
    server.reply("GET", PATH, exchange)
    return url


def assert_requests_within_the_rules(exchange: HistoryExchange, page_size: int) -> None:
    for start, end, limit in exchange.asked:
        assert 0 <= end - start <= WEEK
        assert 1 <= limit <= 300
        assert limit in (page_size, 300)


# -- windows and pages at every edge ---------------------------------------------------------


async def test_months_of_trades_come_once_each_oldest_first(
    recorder: tuple[RecordingServer, str],
) -> None:
    rng = random.Random(7)
    items = []
    for n in range(3000):
        ts = T0 + rng.randrange(0, 60 * DAY)
        items.append(trade(n, ts - ts % 1000))  # whole seconds: many ties
    items += [trade(10_000 + n, T0 + 10 * DAY) for n in range(40)]  # a burst in one ms
    exchange = HistoryExchange(items)
    url = serve(recorder, exchange)
    got = await walk(url, T0, T0 + 60 * DAY, page_size=25)
    assert got == expected(items, T0, T0 + 60 * DAY)
    assert_requests_within_the_rules(exchange, 25)


async def test_empty_windows_cost_one_request_each(recorder: tuple[RecordingServer, str]) -> None:
    exchange = HistoryExchange([])
    url = serve(recorder, exchange)
    assert await walk(url, T0, T0 + 30 * DAY) == []
    # 30 days in requests of at most 7 days + 1 ms: 5 requests, no gap, no overlap.
    assert len(exchange.asked) == 5
    assert exchange.asked[0][0] == T0 and exchange.asked[-1][1] == T0 + 30 * DAY
    for (_, end, _), (start, _, _) in zip(exchange.asked, exchange.asked[1:], strict=False):
        assert start == end + 1


async def test_a_window_of_exactly_limit_items(recorder: tuple[RecordingServer, str]) -> None:
    items = [trade(n, T0 + n * 1000) for n in range(10)]
    exchange = HistoryExchange(items)
    url = serve(recorder, exchange)
    assert await walk(url, T0, T0 + DAY, page_size=10) == expected(items, T0, T0 + DAY)


async def test_more_than_a_page_in_one_millisecond(recorder: tuple[RecordingServer, str]) -> None:
    # 250 trades share one ms: pages of 20 cannot split them, the largest limit (300) can.
    items = [trade(n, T0 + 5000) for n in range(250)]
    items += [trade(1000 + n, T0 + 5000 + n) for n in range(1, 30)]
    exchange = HistoryExchange(items)
    url = serve(recorder, exchange)
    assert await walk(url, T0, T0 + DAY, page_size=20) == expected(items, T0, T0 + DAY)
    assert (T0 + 5000, T0 + 5000, 300) in exchange.asked


async def test_more_than_the_largest_limit_in_one_millisecond_is_an_error(
    recorder: tuple[RecordingServer, str],
) -> None:
    items = [trade(n, T0 + 10) for n in range(301)] + [trade(999, T0 + 5)]
    url = serve(recorder, HistoryExchange(items))
    got: list[int] = []
    with pytest.raises(cf.IncompleteHistoryError, match="more than 300 items"):
        async with cf.Client(base_url=url, rate_limits=None) as client:
            async for t in client.public.iter_trades(MARKET, start_time=T0, end_time=T0 + DAY):
                got.append(t.match_timestamp)
    assert got == [T0 + 5]  # what came before it was handed out, nothing after it
    assert issubclass(cf.IncompleteHistoryError, cf.CoinFlexError)


async def test_a_span_shorter_than_a_window(recorder: tuple[RecordingServer, str]) -> None:
    items = [trade(n, T0 + n) for n in range(100)]
    exchange = HistoryExchange(items)
    url = serve(recorder, exchange)
    assert await walk(url, T0 + 10, T0 + 20) == expected(items, T0 + 10, T0 + 20)
    assert exchange.asked == [(T0 + 10, T0 + 20, 300)]


async def test_start_time_equal_to_end_time(recorder: tuple[RecordingServer, str]) -> None:
    items = [trade(1, T0), trade(2, T0), trade(3, T0 + 1)]
    exchange = HistoryExchange(items)
    url = serve(recorder, exchange)
    assert await walk(url, T0, T0) == [(T0, 1), (T0, 2)]
    assert exchange.asked == [(T0, T0, 300)]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    times=st.lists(st.integers(0, 3 * WEEK), max_size=120),
    page=st.integers(1, 12),
    span=st.tuples(st.integers(0, 3 * WEEK), st.integers(0, 3 * WEEK)),
    prefetch=st.booleans(),
)
async def test_any_data_any_span_any_page_size(
    recorder: tuple[RecordingServer, str],
    times: list[int],
    page: int,
    span: tuple[int, int],
    prefetch: bool,
) -> None:
    # Clustered times (a few distinct values) make ties at page edges common.
    items = [trade(n, T0 + (t // 50_000_000) * 50_000_000) for n, t in enumerate(times)]
    start, end = T0 + min(span), T0 + max(span)
    server, _ = recorder
    exchange = HistoryExchange(items)
    url = serve(recorder, exchange)
    server.requests.clear()
    assert await walk(url, start, end, page_size=page, prefetch=prefetch) == expected(
        items, start, end
    )
    assert_requests_within_the_rules(exchange, page)


# -- stopping, errors, prefetch ------------------------------------------------------------------


async def test_breaking_out_sends_nothing_more(recorder: tuple[RecordingServer, str]) -> None:
    items = [trade(n, T0 + n * DAY) for n in range(60)]
    exchange = HistoryExchange(items)
    url = serve(recorder, exchange)
    async with cf.Client(base_url=url, rate_limits=None) as client:
        walker = client.public.iter_trades(MARKET, start_time=T0, end_time=T0 + 59 * DAY)
        async with contextlib.aclosing(walker):  # type: ignore[type-var]
            async for t in walker:
                if t.match_timestamp >= T0 + 2 * DAY:
                    break
        asked = len(exchange.asked)
        await asyncio.sleep(0.05)
    assert asked == len(exchange.asked) == 1


async def test_breaking_out_cancels_the_prefetched_request(
    recorder: tuple[RecordingServer, str],
) -> None:
    items = [trade(n, T0 + n * DAY) for n in range(30)]
    exchange = HistoryExchange(items)
    release = asyncio.Event()

    async def slow(request: Recorded) -> Reply:
        if exchange.asked:  # every request after the first hangs until released
            await release.wait()
        return exchange(request)

    server, _ = recorder
    url = serve(recorder, slow)
    loop = asyncio.get_running_loop()
    async with cf.Client(base_url=url, rate_limits=None) as client:
        walker = client.public.iter_trades(
            MARKET, start_time=T0, end_time=T0 + 29 * DAY, prefetch=True
        )
        async with contextlib.aclosing(walker):  # type: ignore[type-var]
            async for _ in walker:
                for _ in range(200):  # the next window is asked for while this one is read
                    if len(server.requests) == 2:
                        break
                    await asyncio.sleep(0.01)
                assert len(server.requests) == 2
                stopped = loop.time()
                break
        # Closing did not wait for the hanging request: it was cancelled.
        assert loop.time() - stopped < 1.0
        release.set()
    assert len(server.requests) == 2


async def test_prefetch_keeps_the_order(recorder: tuple[RecordingServer, str]) -> None:
    rng = random.Random(3)
    items = [trade(n, T0 + rng.randrange(0, 40 * DAY)) for n in range(2000)]
    url = serve(recorder, HistoryExchange(items))
    got = await walk(url, T0, T0 + 40 * DAY, page_size=50, prefetch=True)
    assert got == expected(items, T0, T0 + 40 * DAY)


async def test_a_5xx_mid_walk_is_retried(recorder: tuple[RecordingServer, str]) -> None:
    items = [trade(n, T0 + n * DAY) for n in range(20)]
    exchange = HistoryExchange(items)
    exchange.faults[2] = (503, {"success": False, "message": "busy"}, {})
    url = serve(recorder, exchange)
    retry = cf.RetryPolicy(attempts=3, backoff=0.001, max_backoff=0.001)
    got = await walk(url, T0, T0 + 19 * DAY, client={"retry": retry})
    assert got == expected(items, T0, T0 + 19 * DAY)
    assert exchange.asked[1] == exchange.asked[2]  # the failed window asked again


async def test_a_4xx_mid_walk_is_raised_after_the_items_before_it(
    recorder: tuple[RecordingServer, str],
) -> None:
    items = [trade(n, T0 + n * DAY) for n in range(20)]
    exchange = HistoryExchange(items)
    exchange.faults[2] = (400, {"success": False, "code": "20001", "message": "no"}, {})
    url = serve(recorder, exchange)
    got = []
    with pytest.raises(cf.APIError, match="no"):
        async with cf.Client(base_url=url, rate_limits=None) as client:
            async for t in client.public.iter_trades(MARKET, start_time=T0, end_time=T0 + 19 * DAY):
                got.append(t.match_timestamp)
    assert got == [T0 + n * DAY for n in range(8)]  # the first window (7 days + 1 ms)
    assert len(exchange.asked) == 2  # a 4xx is not retried


async def test_requests_go_through_the_rate_limit(recorder: tuple[RecordingServer, str]) -> None:
    items = [trade(n, T0 + n * DAY) for n in range(6)]
    server, _ = recorder
    url = serve(recorder, HistoryExchange(items))
    limits = cf.RateLimits(rest=(cf.Window(4, 0.2),))
    async with cf.Client(base_url=url, rate_limits=limits) as client:
        got = [
            t
            async for t in client.public.iter_trades(
                MARKET, start_time=T0, end_time=T0 + 5 * DAY, page_size=1
            )
        ]
    assert len(got) == 6
    times = [r.at for r in server.requests]
    # 4 per 0.2 s: past the first 4, one request per 0.05 s at most (margin for a loaded box).
    assert len(times) > 8
    assert times[-1] - times[0] >= (len(times) - 4) * 0.05 * 0.8


# -- input is checked before anything is sent ----------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"start_time": T0 // 1000},  # seconds
        {"start_time": T0, "end_time": T0 - 1},
        {"start_time": T0, "page_size": 301},
        {"start_time": T0, "page_size": 0},
        {"start_time": "2022-01-01"},
        {"start_time": T0, "prefetch": "yes"},
    ],
)
async def test_bad_input_is_refused_when_the_walk_is_made(
    recorder: tuple[RecordingServer, str], options: dict[str, Any]
) -> None:
    server, url = recorder
    async with cf.Client(base_url=url, rate_limits=None) as client:
        with pytest.raises(cf.ValidationError):
            client.public.iter_trades(MARKET, **options)
        with pytest.raises(cf.ValidationError):
            client.public.iter_trades("BTC/../x", start_time=T0)
    assert server.requests == []


async def test_a_walk_over_orders_whose_items_do_not_show_their_time(
    recorder: tuple[RecordingServer, str],
) -> None:
    """/v2.1/orders filters by creation time, which its items do not carry: ranges are
    halved instead, and the exchange's newest-first order is reversed."""
    rng = random.Random(11)
    created = sorted(T0 + rng.randrange(0, 20 * DAY) for _ in range(700))
    orders = [
        {"status": "OrderClosed", "orderId": str(n), "marketCode": MARKET, "_created": t}
        for n, t in enumerate(created)
    ]
    exchange = HistoryExchange(orders, time_key="_created")
    server, url = recorder
    server.reply("GET", "/v2.1/orders", exchange)
    async with cf.Client("key", "secret", base_url=url, rate_limits=None) as client:
        got = [
            o.order_id
            async for o in client.private.iter_orders(
                market_code=MARKET, start_time=T0, end_time=T0 + 20 * DAY
            )
        ]
    assert got == [str(n) for n in range(700)]
    assert all(end - start <= WEEK and limit == 100 for start, end, limit in exchange.asked)
    assert "marketCode=BTC-USD-SWAP-LIN&limit=100&startTime=" in server.requests[0].query


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    created=st.lists(st.integers(0, 3 * WEEK), max_size=99),  # under 100 in any one ms
    page=st.integers(1, 10),
    span=st.tuples(st.integers(0, 3 * WEEK), st.integers(0, 3 * WEEK)),
)
async def test_orders_without_a_time_in_their_items_any_data_any_span(
    recorder: tuple[RecordingServer, str],
    created: list[int],
    page: int,
    span: tuple[int, int],
) -> None:
    # Few distinct creation times: many orders share a millisecond.
    times = sorted(T0 + (t // 40_000_000) * 40_000_000 for t in created)
    orders = [
        {"status": "OrderClosed", "orderId": str(n), "_created": t} for n, t in enumerate(times)
    ]
    start, end = T0 + min(span), T0 + max(span)
    server, url = recorder
    exchange = HistoryExchange(orders, time_key="_created")
    server.reply("GET", "/v2.1/orders", exchange)
    async with cf.Client("key", "secret", base_url=url, rate_limits=None) as client:
        got = [
            o.order_id
            async for o in client.private.iter_orders(
                start_time=start, end_time=end, page_size=page
            )
        ]
    assert got == [o["orderId"] for o in orders if start <= o["_created"] <= end]
    assert all(0 <= e - s <= WEEK and limit in (page, 100) for s, e, limit in exchange.asked)


# -- memory stays bounded by a few pages, whatever the span ----------------------------------------


def _peak_bytes_of_a_walk(count: int, page: int) -> int:
    """Walk ``count`` items spread over ~200 days through ``walk`` with an in-memory exchange
    (newest ``limit`` of a range, newest first) and return the walk's peak traced memory."""
    from coinflex_async._history import Walk, walk

    rng = random.Random(count)
    times = sorted(T0 + rng.randrange(0, 200 * DAY) for _ in range(count))

    async def fetch(lo: int, hi: int, limit: int) -> list[tuple[int, int]]:
        end = bisect.bisect_right(times, hi)
        start = max(bisect.bisect_left(times, lo), end - limit)
        # New objects per answer, as a decoder makes them (a time above 2**30 is a new int).
        return [(times[i] + 0, i) for i in range(end - 1, start - 1, -1)]

    async def run() -> int:
        spec = Walk(
            fetch=fetch,
            start=T0,
            end=T0 + 200 * DAY,
            limit=page,
            max_limit=page,
            time_of=lambda item: item[0],
            order=sorted,
            name="memory",
        )
        tracemalloc.start()
        seen = 0
        async for _ in walk(spec):
            seen += 1
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert seen == count
        return peak

    return asyncio.run(run())


def test_memory_does_not_grow_with_the_number_of_items() -> None:
    small = _peak_bytes_of_a_walk(10_000, page=500)
    large = _peak_bytes_of_a_walk(100_000, page=500)
    # A page of 500 new items is ~50 KiB; the walk holds at most MAX_HELD (2) pages besides the
    # one in hand. Holding one 7-day window of the large walk (~3,500 items) would need ~350 KiB,
    # holding everything ~10 MiB.
    assert small < 250 * 1024 and large < 250 * 1024, (small, large)
