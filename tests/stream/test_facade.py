"""stream.facade: closing the stream or its client ends readers and commands at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import coinflex_async as cf
from tests.stream.support import (
    LIMIT,
    SWAP,
    book,
    client_for,
    until,
)
from tests.ws_loopback import WsExchange


async def test_closing_ends_readers_and_commands_at_once(exchange: WsExchange) -> None:
    async with client_for(exchange, timeout=5.0) as client:
        ws = await client.stream().__aenter__()
        feed = await ws.subscribe(f"trade:{SWAP}")
        reader = asyncio.ensure_future(feed.__anext__())
        exchange.lose_replies = 1
        command = asyncio.ensure_future(ws.place_order(**LIMIT, price="1"))
        await until(lambda: len(exchange.ops("placeorder")) == 1)
        started = time.monotonic()
        await ws.close()
        with pytest.raises(StopAsyncIteration):
            await reader
        with pytest.raises(cf.OrderStatusUnknownError) as caught:
            await command
        assert caught.value.client_order_id is not None
        assert time.monotonic() - started < 1.0
        with pytest.raises(cf.StreamClosedError):
            await ws.place_order(**LIMIT, price="1")
        with pytest.raises(cf.ClientClosedError):
            await ws.subscribe(f"trade:{SWAP}")


async def test_closing_the_client_closes_its_streams(exchange: WsExchange) -> None:
    client = client_for(exchange)
    async with client:
        ws = await client.stream().__aenter__()
        feed = await ws.subscribe(f"trade:{SWAP}")
    assert ws.closed
    with pytest.raises(StopAsyncIteration):
        await feed.__anext__()


async def test_typed_subscriptions_ask_for_the_docs_channels(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        await ws.subscribe_depth(SWAP)
        await ws.subscribe_depth(SWAP, level=25)
        await ws.subscribe_trades(SWAP)
        await ws.subscribe_ticker()
        await ws.subscribe_candles(SWAP, 900)
        await ws.subscribe_market(SWAP)
        await ws.subscribe_liquidations()
        await ws.subscribe_orders()
        await ws.subscribe_balances("USD")
        await ws.subscribe_positions(SWAP)
    asked = [arg for message in exchange.ops("subscribe") for arg in message["args"]]
    assert asked == [
        f"depth:{SWAP}",
        f"depthL25:{SWAP}",
        f"trade:{SWAP}",
        "ticker:all",
        f"candles900s:{SWAP}",
        f"market:{SWAP}",
        "liquidationRFQ",
        "order:all",
        "balance:USD",
        f"position:{SWAP}",
    ]


async def test_typed_subscriptions_yield_their_events(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        books = await ws.subscribe_depth(SWAP, level=5)
        orders = await ws.subscribe_orders(SWAP)
        await exchange.push(f"depthL5:{SWAP}", "depthL5", [book(3)])
        update = {"notice": "OrderOpened", "orderId": "1", "marketCode": SWAP, "side": "BUY",
                  "status": "OPEN", "orderType": "LIMIT", "timeInForce": "GTC"}  # fmt: skip
        await exchange.push(f"order:{SWAP}", "order", [update])
        got_book = await asyncio.wait_for(books.__anext__(), 2)
        got_order = await asyncio.wait_for(orders.__anext__(), 2)
    assert isinstance(got_book, cf.DepthEvent) and got_book.seq_num == 3
    assert isinstance(got_order, cf.OrderEvent)
    assert (got_order.notice, got_order.side, got_order.status) == ("OrderOpened", "BUY", "OPEN")


@pytest.mark.parametrize(
    "call",
    [
        lambda ws: ws.subscribe_depth(SWAP, level=20),
        lambda ws: ws.subscribe_depth(SWAP, level=True),
        lambda ws: ws.subscribe_depth("", level=5),
        lambda ws: ws.subscribe_candles(SWAP, 120),
        lambda ws: ws.subscribe_trades("BTC-USD:X"),
        lambda ws: ws.subscribe_ticker(" all"),
        lambda ws: ws.subscribe_balances(None),
    ],
)
async def test_a_typed_subscription_of_no_documented_channel_sends_nothing(
    exchange: WsExchange, call: Any
) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        with pytest.raises(cf.ValidationError):
            await call(ws)
    assert exchange.ops("subscribe") == []
