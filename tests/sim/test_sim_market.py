"""A market that moves (``Simulator(market=RandomMarket(...))``), seen from a plain aiohttp
client: trades on the trade channel and the history endpoints, depth that changes, price-time
priority between the house and a user, stops fired by the flow, and exact determinism under a
ManualClock. Also the default liquidity of ``Simulator()`` and ``coinflex-sim --market``."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from coinflex_async.sim import (
    DEFAULT_MARKETS,
    ManualClock,
    MarketSpec,
    MarketType,
    RandomMarket,
    Simulator,
)

from ._helpers import Trader
from ._ws import WsClient
from .test_sim_cli import standalone

SWAP = "BTC-USD-SWAP-LIN"
START = 1_700_000_000.0


def only_swap(**options: Any) -> RandomMarket:
    return RandomMarket(markets=[SWAP], **options)


async def public_trades(trader: Trader, market: str = SWAP) -> list[dict[str, Any]]:
    """Every public trade of the last 24 h, oldest first, in pages of 300 (the endpoint answers
    the newest first; a page ends inside a millisecond, so the next one starts at it)."""
    trades: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"limit": 300}
    while True:
        page = (await trader.get(f"/v2/publictrades/{market}", **params)).data
        trades.update((trade["matchId"], trade) for trade in page)
        if len(page) < 300:
            return sorted(trades.values(), key=lambda trade: int(trade["matchId"]))
        params["endTime"] = int(page[-1]["matchTimestamp"])


async def depth(trader: Trader, market: str = SWAP, level: int = 25) -> dict[str, Any]:
    return (await trader.get(f"/v2/depth/{market}/{level}")).data[0]  # type: ignore[no-any-return]


# -- the default liquidity ---------------------------------------------------------------------


async def test_simulator_starts_with_resting_liquidity_unless_told_not_to(
    session: aiohttp.ClientSession,
) -> None:
    async with Simulator() as sim:
        book = await depth(Trader(session, sim, None), level=5)
        # The README's example reads book.bids[0]: five levels a side around the mark price.
        assert len(book["bids"]) == len(book["asks"]) == 5
        assert book["bids"][0][0] < 50000 < book["asks"][0][0]
    async with Simulator(liquidity=False) as sim:
        book = await depth(Trader(session, sim, None), level=5)
        assert book["bids"] == book["asks"] == []
    # A market of the caller's own: the house holds its coin too, so both sides rest.
    doge = MarketSpec(
        "DOGE-USD", MarketType.SPOT, "DOGE", "USD", Decimal("0.0001"), Decimal(10), Decimal("0.1")
    )
    async with Simulator(markets=[doge]) as sim:
        book = await depth(Trader(session, sim, None), "DOGE-USD", level=5)
        assert [level[0] for level in book["asks"]] == [0.1001, 0.1002, 0.1003, 0.1004, 0.1005]
        assert [level[0] for level in book["bids"]] == [0.0999, 0.0998, 0.0997, 0.0996, 0.0995]


# -- the real clock ----------------------------------------------------------------------------


async def test_trades_arrive_on_the_trade_channel_and_in_the_history(
    session: aiohttp.ClientSession,
) -> None:
    market = only_swap(seed=3, trades_per_second=20.0, volatility=5.0)
    async with Simulator(market=market, rate_limits=None) as sim:
        ws = await WsClient.connect(session, sim)
        try:
            await ws.subscribe(f"trade:{SWAP}", f"depthL5:{SWAP}")
            pushed: list[dict[str, Any]] = []
            # Ten trades, and until takers of both sides came (each side half the time).
            while len(pushed) < 10 or len({trade["side"] for trade in pushed}) < 2:
                message = await ws.table("trade", timeout=5.0)
                pushed.extend(message["data"])
            first = await ws.table("depth")
            changed = await ws.next(
                lambda m: (
                    m.get("table") == "depth" and m["data"][0]["bids"] != first["data"][0]["bids"]
                )
            )
        finally:
            await ws.close()
        history = {t["matchId"]: t for t in await public_trades(Trader(session, sim, None))}
    assert changed["data"][0]["seqNum"] > first["data"][0]["seqNum"]
    for trade in pushed:
        recorded = history[trade["tradeId"]]
        assert trade["marketCode"] == SWAP
        assert (Decimal(trade["price"]), Decimal(trade["quantity"])) == (
            Decimal(recorded["matchPrice"]),
            Decimal(recorded["matchQuantity"]),
        )
        assert trade["side"] == recorded["side"].lower()
        assert Decimal(trade["price"]) % Decimal("0.5") == 0
    assert {trade["side"] for trade in pushed} == {"buy", "sell"}


async def test_cli_market_random_trades_by_itself(session: aiohttp.ClientSession) -> None:
    async with standalone("--market", "random", "--seed", "3", "--no-rate-limits") as (
        _process,
        printed,
    ):
        assert printed["market"] == "random (seed 3)"
        url = printed["url"]
        for _ in range(100):
            async with session.get(f"{url}/v2/publictrades/ETH-USD-REPO-LIN") as response:
                trades = (await response.json())["data"]
            if trades:
                break
            await asyncio.sleep(0.1)
        assert trades, "no trade in 10 s at 2 trades/s"
        async with session.get(f"{url}/v2/depth/BTC-USD/25") as response:
            book = (await response.json())["data"][0]
        assert len(book["bids"]) == len(book["asks"]) == 25


# -- a ManualClock: exact -----------------------------------------------------------------------


async def test_under_a_manual_clock_the_market_moves_only_when_advanced(
    session: aiohttp.ClientSession,
) -> None:
    clock = ManualClock(START)
    async with Simulator(market=only_swap(seed=1), clock=clock, rate_limits=None) as sim:
        public = Trader(session, sim, None)
        before = await depth(public)
        assert len(before["bids"]) == len(before["asks"]) == 25
        await asyncio.sleep(0.3)
        assert await public_trades(public) == []
        assert (await depth(public))["bids"] == before["bids"]

        ws = await WsClient.connect(session, sim)
        try:
            await ws.subscribe(f"trade:{SWAP}")
            await sim.advance(30)
            trades = await public_trades(public)
            assert clock() == START + 30
            pushed: list[dict[str, Any]] = []
            while len(pushed) < len(trades):
                pushed.extend((await ws.table("trade"))["data"])
        finally:
            await ws.close()
    # ~2 takers a second, each printing a trade per level it takes.
    assert 30 <= len(trades) <= 150
    assert [t["tradeId"] for t in pushed] == [t["matchId"] for t in trades]
    times = [int(t["matchTimestamp"]) for t in trades]
    assert times == sorted(times)
    assert times[0] > START * 1000 and times[-1] <= (START + 30) * 1000
    # Ticker, mark price and candles follow the last trade.
    async with Simulator(market=only_swap(seed=1), clock=ManualClock(START)) as again:
        await again.advance(30)
        public = Trader(session, again, None)
        last = (await public_trades(public))[-1]
        (ticker,) = [t for t in (await public.get("/v2/ticker")).json if t["marketCode"] == SWAP]
        markets = (await public.get("/v2/all/markets")).data
        candles = (await public.get(f"/v2/candles/{SWAP}", timeframe="60s")).data
    assert last == trades[-1]
    assert Decimal(ticker["last"]) == Decimal(last["matchPrice"])
    assert Decimal(ticker["markPrice"]) == Decimal(last["matchPrice"])
    (swap,) = [m for m in markets if m["marketCode"] == SWAP]
    assert Decimal(swap["marketPrice"]) == Decimal(last["matchPrice"])
    assert Decimal(candles[0]["close"]) == Decimal(last["matchPrice"])


async def run_session(session: aiohttp.ClientSession, seed: int) -> dict[str, Any]:
    """A user's short session against a seeded market: what everyone can see afterwards."""
    market = RandomMarket(seed=seed, markets=[SWAP, "ETH-USD", "BTC-USD-REPO-LIN"])
    async with Simulator(market=market, clock=ManualClock(START), rate_limits=None) as sim:
        user = Trader(session, sim, sim.create_account({"USD": "1000000", "BTC": "10"}))
        await sim.advance(5)
        best_bid = (await depth(user))["bids"][0][0]
        await user.place_one(price=str(best_bid), quantity="0.3", client_order_id="1")
        await user.place_one(
            market="ETH-USD", side="BUY", quantity="1", order_type="MARKET", client_order_id="2"
        )
        await sim.advance(20)
        return {
            "trades": [await public_trades(user, code) for code in market.market_codes or []],
            "books": [await depth(user, code) for code in market.market_codes or []],
            "fills": (await user.get(f"/v2/trades/{SWAP}")).data,
            "eth fills": (await user.get("/v2/trades/ETH-USD")).data,
        }


async def test_the_same_seed_and_actions_give_the_same_market(
    session: aiohttp.ClientSession,
) -> None:
    first = await run_session(session, seed=5)
    second = await run_session(session, seed=5)
    other = await run_session(session, seed=6)
    assert all(first["trades"]) and first["fills"] and first["eth fills"]
    assert first == second
    assert other["trades"] != first["trades"]
    assert other["books"] != first["books"]


async def test_a_user_ahead_in_the_queue_is_filled_first(session: aiohttp.ClientSession) -> None:
    # A still mid (volatility 0): the best bid stays at one price, sellers keep hitting it.
    market = only_swap(seed=2, volatility=0.0, trades_per_second=5.0)
    async with Simulator(market=market, clock=ManualClock(START), rate_limits=None) as sim:
        user = Trader(session, sim, sim.create_account({"USD": "1000000"}))
        price, ahead, *_ = (await depth(user))["bids"][0]
        placed_at = int(sim.clock() * 1000)
        order = await user.place_one(price=str(price), quantity="0.005")
        assert order["status"] == "OPEN"
        for _ in range(300):
            await sim.advance(1)
            if (await user.history(orderId=order["orderId"]))[0]["status"] == "OrderMatched":
                break
        else:
            pytest.fail("the bid was never filled")
        fills = (await user.get(f"/v2/trades/{SWAP}")).data
        trades = await public_trades(user)
    at_price = [
        t
        for t in trades
        if int(t["matchTimestamp"]) >= placed_at and Decimal(t["matchPrice"]) == Decimal(str(price))
    ]
    user_ids = [fill["matchId"] for fill in reversed(fills)]
    first_fill = [t["matchId"] for t in at_price].index(user_ids[0])
    # The house order resting there before the user was filled first, all of it and no more.
    assert sum(Decimal(t["matchQuantity"]) for t in at_price[:first_fill]) == Decimal(str(ahead))
    # Then the user, before the quote the house put back behind it.
    assert [t["matchId"] for t in at_price[first_fill : first_fill + len(user_ids)]] == user_ids
    assert sum(Decimal(fill["matchQuantity"]) for fill in fills) == Decimal("0.005")


async def test_stops_fire_as_the_price_moves(session: aiohttp.ClientSession) -> None:
    market = only_swap(seed=4, volatility=30.0, trades_per_second=5.0)
    clock = ManualClock()
    async with Simulator(market=market, clock=clock, rate_limits=None) as sim:
        account = sim.create_account({"USD": "1000000", "BTC": "10"})
        user = Trader(session, sim, account)
        ws = await WsClient.connect(session, sim)
        try:
            await ws.login(account)
            await ws.subscribe("order:all")
            await sim.advance(1)
            newest = (await public_trades(user))[-1]
            last = Decimal(newest["matchPrice"])
            stops = {
                "SELL": last - 50,  # fires when a trade prints at or below it
                "BUY": last + 50,  # at or above
            }
            for side, stop in stops.items():
                limit = stop - 500 if side == "SELL" else stop + 500
                placed = await user.place_one(
                    side=side,
                    order_type="STOP",
                    price=None,
                    stopPrice=str(stop),
                    limitPrice=str(limit),
                )
                assert placed["status"] == "OPEN"
            triggered: dict[str, dict[str, Any]] = {}
            for _ in range(600):
                await sim.advance(1)
                while len(triggered) < 2:
                    try:
                        notice = await ws.next(
                            lambda m: (
                                m.get("table") == "order"
                                and m["data"][0]["notice"] == "OrderOpened"
                                and m["data"][0]["isTriggered"] == "True"
                            ),
                            timeout=0.05,
                        )
                    except AssertionError:
                        break
                    triggered[notice["data"][0]["side"]] = notice["data"][0]
                if len(triggered) == 2:
                    break
            trades = await public_trades(user)
        finally:
            await ws.close()
    assert set(triggered) == {"BUY", "SELL"}, "both stops should fire within 10 minutes"
    for side, stop in stops.items():
        fired_at = int(triggered[side]["timestamp"])
        since = [t for t in trades if int(t["matchId"]) > int(newest["matchId"])]
        sign = 1 if side == "SELL" else -1  # a sell stop fires at or below, a buy at or above
        first_cross = next(t for t in since if sign * (Decimal(t["matchPrice"]) - stop) <= 0)
        # It fired on the first trade after it was placed that reached its stop price.
        assert int(first_cross["matchTimestamp"]) == fired_at


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown markets"):
        Simulator(market=RandomMarket(markets=["NOPE-USD"]))
    with pytest.raises(ValueError, match="volatility"):
        RandomMarket(volatility=-1)
    with pytest.raises(ValueError, match="levels"):
        RandomMarket(levels=0)
    with pytest.raises(ValueError, match="keep_trades"):
        RandomMarket(keep_trades=0)


async def test_advance_needs_a_manual_clock() -> None:
    async with Simulator(market=RandomMarket()) as sim:
        with pytest.raises(RuntimeError, match="ManualClock"):
            await sim.advance(1)


async def test_a_market_held_up_carries_on_instead_of_catching_up_in_a_burst(
    session: aiohttp.ClientSession,
) -> None:
    # As when the event loop was blocked on the real clock: here a ManualClock moved by hand.
    clock = ManualClock(START)
    market = only_swap(seed=1, trades_per_second=10.0)
    async with Simulator(market=market, clock=clock, rate_limits=None) as sim:
        public = Trader(session, sim, None)
        clock.advance(60)  # a minute passes without the market getting to act
        await sim.advance(2)
        trades = await public_trades(public)
    # Two seconds of ~10 takers (a few prints each), not the skipped minute's ~600.
    assert 5 <= len(trades) <= 100
    assert min(int(t["matchTimestamp"]) for t in trades) >= (START + 60) * 1000


async def test_a_long_run_keeps_quoting_and_trading(session: aiohttp.ClientSession) -> None:
    # Ten minutes: thousands of house orders, so the house forgets its closed ones on the way.
    async with Simulator(market=only_swap(seed=9), clock=ManualClock(START)) as sim:
        public = Trader(session, sim, None)
        await sim.advance(600)
        book = await depth(public)
        deep = await depth(public, level=100)
        recent = (
            await public.get(f"/v2/publictrades/{SWAP}", startTime=int((START + 540) * 1000))
        ).data
    assert len(book["bids"]) == len(book["asks"]) == 25
    assert book["bids"][0][0] < book["asks"][0][0]
    assert len(recent) >= 60  # the last minute still trades (~2 takers a second)
    # Beyond the 25 nearest lines, quotes the mid moved away from stay up to 50 lines out.
    assert all(25 <= len(side) <= 50 for side in (deep["bids"], deep["asks"]))
    bids = [level[0] for level in deep["bids"]]
    steps = {round(lower - higher, 6) for higher, lower in itertools.pairwise(bids)}
    assert len(deep["bids"]) > 25 or len(deep["asks"]) > 25, "the mid moved in ten minutes"
    assert steps == {-5.0}  # one grid line (1 bp of 50,000) apart, no holes


async def test_repo_rates_wander_around_the_swaps_funding_rate(
    session: aiohttp.ClientSession,
) -> None:
    swap = next(spec for spec in DEFAULT_MARKETS if spec.market_code == SWAP)
    repo = next(spec for spec in DEFAULT_MARKETS if spec.market_code == "BTC-USD-REPO-LIN")
    markets = [dataclasses.replace(swap, funding_rate=Decimal("0.0003")), repo]
    market = RandomMarket(seed=11, markets=["BTC-USD-REPO-LIN"], trades_per_second=5.0)
    async with Simulator(markets=markets, market=market, clock=ManualClock(START)) as sim:
        await sim.advance(120)
        rates = [
            Decimal(t["matchPrice"])
            for t in await public_trades(Trader(session, sim, None), "BTC-USD-REPO-LIN")
        ]
    assert len(rates) >= 300 and len(set(rates)) >= 3  # it moves
    # Around the swap's 0.0003 (not the REPO's own 0.00001): ~0.00005 either way.
    assert all(abs(rate - Decimal("0.0003")) < Decimal("0.0003") for rate in rates)
    assert abs(sum(rates) / len(rates) - Decimal("0.0003")) < Decimal("0.0001")


async def test_keep_trades_bounds_each_markets_history_to_the_newest(
    session: aiohttp.ClientSession,
) -> None:
    market = RandomMarket(seed=3, markets=[SWAP, "ETH-USD"], trades_per_second=20, keep_trades=40)
    async with Simulator(market=market, clock=ManualClock(START), rate_limits=None) as sim:
        await sim.advance(30)  # ~600 takers a market
        public = Trader(session, sim, None)
        for code in (SWAP, "ETH-USD"):
            kept = sim.engine.market(code).trades
            assert 40 <= len(kept) <= 50  # dropped a quarter at a time
            served = await public_trades(public, code)
            assert [t["matchId"] for t in served] == [t.match_id for t in kept]
            # The newest ones: the last trade is still the one the ticker shows.
            assert int(served[-1]["matchTimestamp"]) > (START + 29) * 1000
