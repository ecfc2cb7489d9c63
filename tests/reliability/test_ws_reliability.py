"""The WebSocket stream under the simulator's WebSocket faults: orders exist exactly once, a
trade subscription sees every trade exactly once across reconnects, memory stays flat at full
depth cadence.

Scale: reduced in the normal suite; ``COINFLEX_RELIABILITY=full`` (``nox -s reliability``):
1,000 orders, 20 reconnects, a 10-minute soak.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import tracemalloc
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.sim import Fault, Simulator

from .test_reliability import FULL, record

ORDERS = 1000 if FULL else 200
RECONNECTS = 20 if FULL else 6
SOAK_SECONDS = 600.0 if FULL else 6.0
SWAP = "BTC-USD-SWAP-LIN"
RETRY = cf.RetryPolicy(attempts=6, backoff=0.02, max_backoff=0.3, lookup_interval=0.1)


async def test_ws_orders_exist_exactly_once_under_drops_stalls_and_lost_replies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="coinflex_async")
    async with Simulator(rate_limits=None, seed=11) as sim:
        alice = sim.create_account(balances={"USD": "1000000000"})
        # Lost replies (applied, unanswered), resets while answering (applied, connection
        # gone), stalls longer than the client's wait for an answer, and resets while a
        # reconnect logs in again (orders waiting for it wait for the next connection).
        sim.inject(Fault.ws_reset(op="login", probability=0.5))
        sim.inject(Fault.ws_drop_reply(op="placeorder", probability=0.04))
        sim.inject(Fault.ws_drop_reply(op="placeorders", probability=0.04))
        sim.inject(Fault.ws_reset(op="placeorder", probability=0.01))
        sim.inject(Fault.ws_stall(seconds=1.5, op="placeorder", probability=0.005))
        async with cf.Client(
            alice.api_key,
            alice.api_secret,
            base_url=sim.url,
            retry=RETRY,
            timeout=1.0,
            recv_window=1500,
        ) as client:
            ids = [str(20_000_000 + i) for i in range(ORDERS)]
            orders = [
                {
                    "market_code": SWAP,
                    "side": "BUY",
                    "quantity": "0.001",
                    "order_type": "LIMIT",
                    "price": str(Decimal(45500) + Decimal("0.5") * i),
                    "client_order_id": coid,
                }
                for i, coid in enumerate(ids)
            ]
            outcome: dict[str, str] = {}
            async with client.stream(ping_interval=1.0) as ws:
                stop = asyncio.Event()

                async def drops() -> None:
                    # A dropped connection every few seconds, whatever it was sending.
                    while not stop.is_set():
                        await asyncio.sleep(2.0)
                        sim.inject(Fault.ws_reset())

                async def one(order: dict[str, Any]) -> None:
                    try:
                        result = await ws.place_order(**order)
                    except cf.OrderStatusUnknownError:
                        outcome[order["client_order_id"]] = "unknown"
                    except cf.CoinFlexError as exc:
                        outcome[order["client_order_id"]] = f"error:{type(exc).__name__}"
                    else:
                        assert result.client_order_id == order["client_order_id"]
                        outcome[order["client_order_id"]] = "placed"

                async def batch(chunk: list[dict[str, Any]]) -> None:
                    try:
                        results = await ws.place_orders(chunk)
                    except cf.CoinFlexError as exc:
                        kind = "unknown" if isinstance(exc, cf.OrderStatusUnknownError) else "error"
                        for order in chunk:
                            outcome[order["client_order_id"]] = f"{kind}:{type(exc).__name__}"
                        return
                    for order, result in zip(chunk, results, strict=True):
                        assert result.client_order_id == order["client_order_id"]
                        outcome[order["client_order_id"]] = (
                            "placed" if result.success else f"rejected:{result.code}"
                        )

                dropper = asyncio.ensure_future(drops())
                started = time.monotonic()
                half = ORDERS // 2
                jobs = [one(o) for o in orders[:half]]
                jobs += [batch(orders[i : i + 8]) for i in range(half, ORDERS, 8)]
                for i in range(0, len(jobs), 40):
                    await asyncio.gather(*jobs[i : i + 40])
                elapsed = time.monotonic() - started
                stop.set()
                dropper.cancel()
                reconnects = ws.reconnects

        counts = {coid: len(alice.orders_with_client_id(coid)) for coid in ids}
        duplicates = sum(1 for n in counts.values() if n > 1)
        silent = sum(1 for c in ids if outcome[c] == "placed" and counts[c] == 0)
        false_failures = sum(1 for c in ids if outcome[c].startswith("error") and counts[c])
        figures = {
            "orders": ORDERS,
            "reconnects": reconnects,
            "faults_injected": dict(sim.stats.faults_injected),
            "outcomes": dict(Counter(o.split(":")[0] for o in outcome.values())),
            "error_types": dict(Counter(o for o in outcome.values() if ":" in o)),
            "duplicates": duplicates,
            "silent_losses": silent,
            "errors_yet_placed": false_failures,
            "orders_on_exchange": sum(counts.values()),
            "rate_limited_by_exchange": sim.stats.websocket["rate_limited"],
            "restores_failed": sum(
                "restoring the connection failed" in r.getMessage() for r in caplog.records
            ),
            "seconds": round(elapsed, 2),
        }
        record("ws_orders_under_faults", figures)
        assert len(outcome) == ORDERS
        assert duplicates == 0
        assert silent == 0
        assert false_failures == 0
        assert reconnects >= 2
        assert figures["restores_failed"] > 0  # resets while logging in again happened
        assert figures["outcomes"].get("placed", 0) >= 0.995 * ORDERS


async def test_a_trade_subscription_sees_every_trade_once_across_reconnects() -> None:
    async with Simulator(rate_limits=None, seed=5) as sim:
        maker = sim.create_account(balances={"USD": "100000000", "BTC": "1000"})
        taker = sim.create_account(balances={"USD": "100000000", "BTC": "1000"})
        async with (
            cf.Client(maker.api_key, maker.api_secret, base_url=sim.url, retry=RETRY) as m,
            cf.Client(taker.api_key, taker.api_secret, base_url=sim.url, retry=RETRY) as t,
        ):
            await m.private.place_order(
                market_code=SWAP, side="SELL", quantity="500", order_type="LIMIT", price="50000"
            )
            seen: list[str] = []
            async with m.stream(ping_interval=1.0) as ws:
                feed = await ws.subscribe(f"trade:{SWAP}")

                async def read() -> None:
                    async for trade in feed:
                        seen.append(trade.trade_id)

                reader = asyncio.ensure_future(read())

                async def buy() -> None:
                    await t.private.place_order(
                        market_code=SWAP, side="BUY", quantity="0.01", order_type="MARKET"
                    )

                for round_ in range(RECONNECTS):
                    for _ in range(3):
                        await buy()
                    # The connection drops on the next trade push; trades go on meanwhile.
                    sim.inject(Fault.ws_reset(op="trade"))
                    for _ in range(3):
                        await buy()
                    deadline = time.monotonic() + 10
                    while ws.reconnects < round_ + 1 or not ws.connected:
                        assert time.monotonic() < deadline, "no reconnect"
                        await asyncio.sleep(0.02)
                for _ in range(3):
                    await buy()
                # Every trade of the run (at most 6 per reconnect + 3: one page holds them).
                history = {x.match_id for x in await t.public.trades(SWAP, limit=300)}
                deadline = time.monotonic() + 10
                while len(set(seen)) < len(history) and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.3)  # anything repeated would arrive by now
                reader.cancel()
                reconnects = ws.reconnects
        figures = {
            "reconnects": reconnects,
            "trades": len(history),
            "yielded": len(seen),
            "repeated": len(seen) - len(set(seen)),
            "missed": len(history - set(seen)),
        }
        record("ws_trades_across_reconnects", figures)
        assert reconnects >= RECONNECTS
        assert figures["repeated"] == 0
        assert figures["missed"] == 0
        assert set(seen) == history


async def test_memory_is_flat_at_full_depth_cadence() -> None:
    markets = ["BTC-USD-SWAP-LIN", "ETH-USD-SWAP-LIN", "BTC-USD", "ETH-USD"]
    async with Simulator(rate_limits=None) as sim:
        sim.add_liquidity(markets, levels=25)
        async with cf.Client(base_url=sim.url) as client, client.stream() as ws:
            feed = await ws.subscribe(*(f"depthL25:{m}" for m in markets))
            count = 0

            async def read(seconds: float) -> None:
                nonlocal count
                deadline = time.monotonic() + seconds
                async for book in feed:
                    count += 1
                    assert book.asks and book.bids
                    if time.monotonic() >= deadline:
                        return

            await read(2.0)  # warm up: routes, decoders, buffers
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            first = count
            await read(SOAK_SECONDS)
            gc.collect()
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
        ours = [tracemalloc.Filter(True, "*coinflex_async/[_rm]*")]  # client code, not sim/
        growth = sum(
            stat.size_diff
            for stat in after.filter_traces(ours).compare_to(before.filter_traces(ours), "filename")
        )
        figures = {
            "seconds": SOAK_SECONDS,
            "books": count - first,
            "books_per_second": round((count - first) / SOAK_SECONDS, 1),
            "client_memory_growth_bytes": growth,
        }
        record("ws_depth_soak", figures)
        # Four markets every 50 ms is 80 books a second; a loaded machine gets fewer.
        assert count - first >= 20 * SOAK_SECONDS
        assert growth < 64 * 1024
