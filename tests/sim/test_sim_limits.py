"""Rate limits: 429 with Retry-After, refused requests not applied, exact accounting."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from coinflex_async.sim import RateLimit, RateLimits, SimStats, Simulator

from ._helpers import Trader, order_item


async def test_burst_over_100_per_second_gets_429_with_retry_after(
    session: aiohttp.ClientSession,
) -> None:
    async with Simulator() as sim:

        async def ping() -> tuple[int, str | None, str]:
            async with session.get(sim.url + "/v2/ping") as response:
                return response.status, response.headers.get("Retry-After"), await response.text()

        replies = await asyncio.gather(*(ping() for _ in range(150)))
        statuses = [status for status, _, _ in replies]
        # All 150 arrive within about a tenth of a second here; a very slow machine could
        # spread them over more than a second, so the split is checked against the log.
        assert statuses.count(200) + statuses.count(429) == 150
        assert statuses.count(429) > 0
        for status, retry_after, text in replies:
            if status == 429:
                assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1
                assert text == '{"success":false,"code":"20007","message":"Too many requests"}'
        assert sim.stats.rate_limited == statuses.count(429)
        assert sim.stats.by_status[429] == statuses.count(429)
        assert sim.stats.max_in_window("rest_per_second", include_refused=False) == 100
        assert sim.stats.max_in_window("rest_per_second") > 100
        assert sim.stats.max_in_window("rest_per_5_minutes") == 150


async def test_refused_orders_are_not_applied(session: aiohttp.ClientSession) -> None:
    limits = RateLimits((RateLimit("tiny", 2, 60.0),))
    async with Simulator(rate_limits=limits) as sim:
        alice = Trader(session, sim, sim.create_account({"USD": "100000"}))
        replies = [
            await alice.post(
                "/v2/orders/place", {"responseType": "FULL", "orders": [order_item(price="49000")]}
            )
            for _ in range(3)
        ]
        assert [reply.status for reply in replies] == [200, 200, 429]
        assert int(replies[2].headers["Retry-After"]) == 60
        assert alice.me.order_count == 2


async def test_requests_pass_again_after_the_window(session: aiohttp.ClientSession) -> None:
    limits = RateLimits((RateLimit("one_per_half_second", 1, 0.5),))
    async with Simulator(rate_limits=limits) as sim:
        public = Trader(session, sim, None)
        assert (await public.get("/v2/ping")).status == 200
        refused = await public.get("/v2/ping")
        assert refused.status == 429
        assert refused.headers["Retry-After"] == "1"  # whole seconds, at least 1
        await asyncio.sleep(0.55)
        assert (await public.get("/v2/ping")).status == 200


async def test_mint_redeem_and_delivery_have_their_own_limits(
    session: aiohttp.ClientSession,
) -> None:
    async with Simulator() as sim:
        alice = Trader(session, sim, sim.create_account({"USD": "1000"}))
        mint = {"asset": "flexUSD", "quantity": "1"}
        assert (await alice.post("/v2/mint", mint)).status == 200
        assert (await alice.post("/v2/mint", mint)).status == 429
        redeem = {"asset": "flexUSD", "quantity": "1", "type": "Instant"}
        assert (await alice.post("/v2/redeem", redeem)).status == 200
        assert (await alice.post("/v2/redeem", redeem)).status == 429
        assert alice.me.balance("USD") == 1000  # one mint and one redeem landed
        delivery = {"instrumentId": "BTC-USD-SWAP-LIN", "qtyDeliver": "1"}
        statuses = [(await alice.post("/v2.1/delivery/orders", delivery)).status for _ in range(3)]
        assert statuses == [400, 400, 429]  # no position to deliver, then the 2 per 10 s limit
        # Other endpoints are unaffected.
        assert (await alice.get("/v2/balances")).status == 200


async def test_limits_can_be_turned_off(session: aiohttp.ClientSession) -> None:
    async with Simulator(rate_limits=None) as sim:
        public = Trader(session, sim, None)
        replies = await asyncio.gather(*(public.get("/v2/ping") for _ in range(250)))
        assert {reply.status for reply in replies} == {200}
        assert sim.stats.requests == 250
        assert sim.stats.rate_limited == 0


def test_max_in_window_counts_the_densest_window() -> None:
    stats = SimStats()
    stats.arrivals["a"] = [0.0, 0.5, 0.99, 1.0, 1.5, 3.0]
    stats.windows["a"] = 1.0
    # [0.5, 0.99, 1.0] is the fullest half-open 1 s window (1.5 - 0.5 is a full second).
    assert stats.max_in_window("a") == 3
    assert stats.max_in_window("a", window=1.01) == 4
    assert stats.max_in_window("a", window=0.1) == 2


def test_rate_limit_validation() -> None:
    with pytest.raises(ValueError):
        RateLimit("zero", 0, 1.0)
    with pytest.raises(ValueError):
        RateLimits((RateLimit("twice", 1, 1.0), RateLimit("twice", 2, 1.0)))
