"""stream.facade: closing the stream or its client ends readers and commands at once."""

from __future__ import annotations

import asyncio
import time

import pytest

import coinflex_async as cf
from tests.stream.support import (
    LIMIT,
    SWAP,
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
