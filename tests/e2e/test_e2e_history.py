"""Whole histories against the simulator: every ``iter_*`` twin walks a seeded account's
months of history across many 7-day windows and pages, and returns exactly what the
simulator holds, oldest first, each item once."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.sim import SimAccount, Simulator

from ._coverage import covers

DAY = 86_400_000
SWAP = "BTC-USD-SWAP-LIN"
START = 1_640_995_200_000  # 2022-01-01T00:00:00Z
END = START + 45 * DAY - 1


@pytest.fixture
def seeded(sim: Simulator) -> tuple[SimAccount, Any]:
    alice = sim.create_account({"USD": "1000"})
    counts = sim.seed_history(
        alice, start=START, end=END, trades_per_day=80, seed=5, events_per_day=3
    )
    return alice, counts


def assert_walk(items: list[Any], time_of: Callable[[Any], int], count: int) -> None:
    assert len(items) == count
    times = [time_of(item) for item in items]
    assert times == sorted(times)
    assert times[0] >= START and times[-1] <= END


@covers("private.iter_trades", "public.iter_trades", "private.iter_orders")
async def test_fills_public_trades_and_orders_of_45_days(
    seeded: tuple[SimAccount, Any], connect: Callable[..., cf.Client]
) -> None:
    alice, counts = seeded
    client = connect(alice)
    fills = [
        t
        async for t in client.private.iter_trades(
            SWAP, start_time=START, end_time=END, page_size=500
        )
    ]
    assert_walk(fills, lambda t: t.match_timestamp, counts.trades)
    assert len({t.match_id for t in fills}) == counts.trades
    # Ties in id order: matchIds of one millisecond ascend.
    for before, after in itertools.pairwise(fills):
        if before.match_timestamp == after.match_timestamp:
            assert int(before.match_id) < int(after.match_id)

    public = [t async for t in client.public.iter_trades(SWAP, start_time=START, end_time=END)]
    assert [t.match_id for t in public] == [t.match_id for t in fills]

    orders = [
        o
        async for o in client.private.iter_orders(
            market_code=SWAP, start_time=START, end_time=END, prefetch=True
        )
    ]
    assert [o.order_id for o in orders] == [t.order_id for t in fills]
    assert {o.status for o in orders} == {"OrderMatched"}


@covers("public.iter_candles", "public.iter_funding_rates", "private.iter_funding_payments")
async def test_candles_funding_rates_and_payments(
    seeded: tuple[SimAccount, Any], connect: Callable[..., cf.Client]
) -> None:
    alice, counts = seeded
    client = connect(alice)
    candles = [
        c
        async for c in client.public.iter_candles(
            SWAP, timeframe="60s", start_time=START, end_time=END, page_size=1000
        )
    ]
    fills = [t async for t in client.private.iter_trades(SWAP, start_time=START, end_time=END)]
    minutes = {t.match_timestamp - t.match_timestamp % 60_000 for t in fills}
    assert_walk(candles, lambda c: c.timestamp, len(minutes))  # one per minute with a fill
    assert [c.timestamp for c in candles] == sorted(minutes)
    assert sum(c.currency_volume24h for c in candles) == sum(t.match_quantity for t in fills)

    rates = [
        r async for r in client.public.iter_funding_rates(SWAP, start_time=START, end_time=END)
    ]
    assert_walk(rates, lambda r: r.timestamp, counts.funding_rates)
    payments = [
        p
        async for p in client.private.iter_funding_payments(
            SWAP, start_time=START, end_time=END, page_size=100
        )
    ]
    assert_walk(payments, lambda p: p.timestamp, counts.funding_payments)
    assert [p.timestamp for p in payments] == [r.timestamp for r in rates]


@covers(
    "private.iter_mint_history",
    "private.iter_redeem_history",
    "private.iter_borrow_history",
    "private.iter_repay_history",
)
async def test_mint_redeem_borrow_repay_histories(
    seeded: tuple[SimAccount, Any], connect: Callable[..., cf.Client]
) -> None:
    alice, counts = seeded
    private = connect(alice).private
    span = {"start_time": START, "end_time": END, "page_size": 7}
    mints = [m async for m in private.iter_mint_history("flexUSD", **span)]
    assert_walk(mints, lambda m: m.minted_at, counts.mints)
    redeemed = [r async for r in private.iter_redeem_history("flexUSD", **span)]
    assert_walk(redeemed, lambda r: r.requested_at, counts.redemptions)
    borrows = [b async for b in private.iter_borrow_history("BTC", **span)]
    assert_walk(borrows, lambda b: b.borrowed_at, counts.borrows)
    repays = [r async for r in private.iter_repay_history("BTC", **span)]
    assert_walk(repays, lambda r: r.repaid_at, counts.repays)
    assert [m async for m in private.iter_mint_history("flexBTC", **span)] == []


@covers("flex_protocol.iter_trades", "flex_protocol.iter_delivery_orders")
async def test_flex_protocol_histories(sim: Simulator, connect: Callable[..., cf.Client]) -> None:
    protocol = sim.flex_protocol_account("flexUSD")
    counts = sim.seed_history(protocol, start=START, end=END, trades_per_day=20, seed=8)
    flex = connect().flex_protocol
    trades = [
        t
        async for t in flex.iter_trades(
            "flexUSD", SWAP, start_time=START, end_time=END, page_size=100
        )
    ]
    assert_walk(trades, lambda t: t.match_timestamp, counts.trades)
    # No deliveries in 45 days: one request per 7-day window, nothing yielded.
    deliveries = flex.iter_delivery_orders("flexUSD", start_time=START, end_time=END)
    assert [d async for d in deliveries] == []


@pytest.mark.sim_options(manual_clock=True)
async def test_end_time_defaults_to_now(sim: Simulator, connect: Callable[..., cf.Client]) -> None:
    alice = sim.create_account()
    now = int(time.time() * 1000)
    counts = sim.seed_history(alice, start=now - 20 * DAY, end=now - DAY, trades_per_day=30)
    walk = connect(alice).private.iter_trades(SWAP, start_time=now - 30 * DAY)
    assert len([t async for t in walk]) == counts.trades
