"""stream.resync: after a reconnect, private channels yield a snapshot and trade channels
their backfill, each trade once."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import coinflex_async as cf
from tests.stream.support import (
    SWAP,
    client_for,
    until,
)
from tests.ws_loopback import WsExchange


async def test_reconnect_restores_login_subscriptions_and_resyncs(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream(ping_interval=1.0) as ws:
        orders = await ws.subscribe("order:all")
        await exchange.drop()
        await until(lambda: exchange.connections == 2 and len(exchange.ops("subscribe")) == 2)
        await until(lambda: any("order:all" in c.channels for c in exchange.conns))
        assert len(exchange.ops("login")) == 2
        update = {"notice": "OrderOpened", "orderId": "1", "marketCode": SWAP, "price": "5"}
        await exchange.push("order:all", "order", [update])
        first = await asyncio.wait_for(orders.__anext__(), 3)
        assert isinstance(first, cf.Resynced)
        assert first.channel == "order:all"
        assert first.snapshot.balances[0].total == Decimal("100")
        assert first.snapshot.taken_at <= time.time() * 1000
        second = await asyncio.wait_for(orders.__anext__(), 3)
        assert isinstance(second, cf.OrderEvent) and second.price == Decimal("5")
        assert ws.reconnects == 1


async def test_trades_are_seen_exactly_once_across_reconnects(exchange: WsExchange) -> None:
    seen: list[str] = []
    async with client_for(exchange) as client, client.stream(ping_interval=1.0) as ws:
        feed = await ws.subscribe(f"trade:{SWAP}")
        made = [(await exchange.trade(SWAP))["tradeId"]]
        for _ in range(5):
            await exchange.drop()
            # Trades while the connection is down reach only the REST history.
            made.append((await exchange.trade(SWAP))["tradeId"])
            await until(lambda: any(f"trade:{SWAP}" in c.channels for c in exchange.conns))
            made.append((await exchange.trade(SWAP))["tradeId"])
        while len(seen) < len(made):
            seen.append((await asyncio.wait_for(feed.__anext__(), 3)).trade_id)
        await asyncio.sleep(0.2)
        assert feed.backlog == 0  # nothing more, no repeats
    assert sorted(seen) == sorted(made) and len(set(seen)) == len(seen)
