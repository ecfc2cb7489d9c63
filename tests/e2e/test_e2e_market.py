"""The client against a market that moves (``Simulator(market=RandomMarket(...))``): the
stream's typed trades and depth follow the flow, a bot's resting order ahead in the queue is
filled first, a stop fires as the price moves, and the docs' example runs as it is."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.sim import RandomMarket, Simulator

SWAP = "BTC-USD-SWAP-LIN"
REPO_ROOT = Path(__file__).resolve().parents[2]
# The client stamps requests with the real time; the manual clock of these tests runs ahead.
AHEAD = {"timestamp_tolerance": 3600}


async def next_of(feed: cf.Subscription, kind: type, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        event = await asyncio.wait_for(feed.__anext__(), max(0.0, deadline - time.monotonic()))
        if isinstance(event, kind):
            return event


@pytest.mark.sim_options(market=RandomMarket(seed=3, trades_per_second=20, markets=[SWAP]))
async def test_the_stream_follows_the_flow(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    client = connect()
    async with client.stream() as ws:
        trades = await ws.subscribe(f"trade:{SWAP}")
        books = await ws.subscribe(f"depthL5:{SWAP}")
        seen = [await next_of(trades, cf.TradeEvent) for _ in range(10)]
        first = await next_of(books, cf.DepthEvent)
        while (book := await next_of(books, cf.DepthEvent)).bids == first.bids:
            pass
    assert book.seq_num > first.seq_num
    history = {t.match_id: t for t in await client.public.trades(SWAP, limit=300)}
    for trade in seen:
        assert isinstance(trade.price, Decimal) and trade.market_code == SWAP
        recorded = history[trade.trade_id]
        assert (recorded.match_price, recorded.match_quantity) == (trade.price, trade.quantity)
        assert recorded.side.lower() == trade.side


@pytest.mark.sim_options(
    market=RandomMarket(seed=2, volatility=0.0, trades_per_second=5.0, markets=[SWAP]),
    manual_clock=True,
    **AHEAD,
)
async def test_a_bot_ahead_in_the_queue_is_filled_first(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    bot = connect(sim.create_account({"USD": "1000000"}), recv_window=3_600_000)
    book = await bot.public.depth(SWAP, level=5)
    best, ahead = book.bids[0].price, book.bids[0].quantity
    before = {t.match_id for t in await bot.public.trades(SWAP, limit=300)}
    order = await bot.private.place_order(
        market_code=SWAP, side="BUY", quantity="0.005", order_type="LIMIT", price=best
    )
    for _ in range(300):
        await sim.advance(1)
        if not any(o.order_id == order.order_id for o in await bot.private.open_orders()):
            break
    fills = await bot.private.trades(SWAP)
    at_best = sorted(
        (t for t in await bot.public.trades(SWAP, limit=300) if t.match_id not in before),
        key=lambda t: int(t.match_id),
    )
    at_best = [t for t in at_best if t.match_price == best]
    first_fill = min(int(fill.match_id) for fill in fills)
    # The house's quote that was there first is filled, all of it, before the bot's order.
    assert sum(t.match_quantity for t in at_best if int(t.match_id) < first_fill) == ahead
    assert sum(fill.match_quantity for fill in fills) == Decimal("0.005")
    assert {fill.order_id for fill in fills} == {order.order_id}


@pytest.mark.sim_options(
    market=RandomMarket(seed=4, volatility=30.0, trades_per_second=5.0, markets=[SWAP]),
    manual_clock=True,
    **AHEAD,
)
async def test_a_stop_fires_as_the_price_moves(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    bot = connect(sim.create_account({"USD": "1000000"}), recv_window=3_600_000)
    await sim.advance(1)
    last = (await bot.public.trades(SWAP, limit=1))[0]
    stop = last.match_price + 50
    async with bot.stream() as ws:
        orders = await ws.subscribe(f"order:{SWAP}")
        placed = await bot.private.place_order(
            market_code=SWAP, side="BUY", quantity="0.01", order_type="STOP",
            stop_price=stop, limit_price=stop + 500,
        )  # fmt: skip
        fired = None
        for _ in range(600):
            await sim.advance(1)
            try:
                while fired is None:
                    event = await asyncio.wait_for(orders.__anext__(), 0.05)
                    if isinstance(event, cf.OrderEvent) and event.is_triggered:
                        fired = event
            except asyncio.TimeoutError:  # TimeoutError from 3.11 on; 3.10 has its own
                continue
            break
    assert fired is not None and fired.order_id == placed.order_id
    trades = sorted(
        await bot.public.trades(SWAP, limit=300, start_time=last.match_timestamp),
        key=lambda t: int(t.match_id),
    )
    crossing = next(
        t for t in trades if int(t.match_id) > int(last.match_id) and t.match_price >= stop
    )
    assert crossing.match_timestamp == fired.timestamp
    (fill, *_) = await bot.private.trades(SWAP)
    assert fill.order_id == placed.order_id and fill.match_price <= stop + 500


def test_the_moving_market_example_runs_as_it_is() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "moving_market.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("BTC")
    assert " fills; position " in done.stdout


async def test_the_quick_starts_first_program_runs_against_a_default_simulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Issue 17: pasted into a simulator, the README's usage example (now the quick start's first
    # program) failed with IndexError on book.bids[0]: Simulator() started with empty books.
    # It starts as coinflex-sim does now.
    guide = (REPO_ROOT / "docs" / "guide" / "quickstart.md").read_text()
    usage = guide[guide.index("## A first program") :]
    start = usage.index("```python\n") + len("```python\n")
    code = usage[start : usage.index("\n```", start)]
    assert "book.bids[0]" in code and "asyncio.run(main())" in code
    code = code.replace("asyncio.run(main())", "").replace("cf.TEST_URL", "BASE_URL")
    async with Simulator() as sim:
        account = sim.create_account({"USD": "100000"})
        namespace: dict[str, Any] = {
            "API_KEY": account.api_key,
            "API_SECRET": account.api_secret,
            "BASE_URL": sim.url,
        }
        exec(compile(code, "quickstart.md", "exec"), namespace)
        await namespace["main"]()
    printed = capsys.readouterr().out.splitlines()
    assert Decimal(printed[0]) < Decimal(50000)  # the best bid of the resting liquidity
    order_id, client_order_id = printed[1].split()
    assert order_id.isdigit() and client_order_id.isdigit()
