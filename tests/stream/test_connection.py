"""stream.connection: a stalled connection is reopened; a reader lent the socket gives it back."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

import coinflex_async as cf
from coinflex_async.stream import ws_url
from coinflex_async.stream.connection import WS_OPTIONS, received_frames
from tests.stream.support import (
    LIMIT,
    SWAP,
    burst,
    client_for,
    push_burst,
    until,
)
from tests.ws_loopback import WsExchange


async def test_a_reader_awaiting_a_command_in_its_loop_does_not_hold_up_the_reply(
    exchange: WsExchange,
) -> None:
    """A reader reading a burst in its own task (see Stream._lend) that awaits an order in its
    loop body gives the socket back at once: the reply, behind the burst, is read."""
    got: list[str] = []
    held: list[bool] = []
    async with client_for(exchange) as client, client.stream() as ws:
        feed = await ws.subscribe(f"trade:{SWAP}")

        async def consume() -> cf.OrderResult:
            result = None
            async for trade in feed:
                got.append(trade.trade_id)
                if len(got) == 2:
                    held.append(feed.reading_socket)
                    result = await ws.place_order(**LIMIT, price="54900")
                if len(got) == 400:
                    assert result is not None
                    return result
            raise AssertionError("the stream ended")

        consumer = asyncio.ensure_future(consume())
        await asyncio.sleep(0.05)  # the consumer waits for the first trade
        await push_burst(exchange, burst(0, 400))
        result = await asyncio.wait_for(consumer, 5)
    assert held == [True]  # the case under test: the reader was reading the burst itself
    assert result.success
    assert got == [str(i) for i in range(400)]


async def test_a_reader_cancelled_while_reading_a_burst_leaves_the_socket_read(
    exchange: WsExchange,
) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        feed = await ws.subscribe(f"trade:{SWAP}")
        held: list[bool] = []

        async def consume_one_then_hang() -> None:
            async for _ in feed:
                held.append(feed.reading_socket)
                await asyncio.sleep(60)

        consumer = asyncio.ensure_future(consume_one_then_hang())
        await asyncio.sleep(0.05)
        await push_burst(exchange, burst(0, 300))
        await until(lambda: bool(held))
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        # Nobody iterates now: commands are still answered and the burst is still queued.
        result = await asyncio.wait_for(ws.place_order(**LIMIT, price="54900"), 3)
        assert result.success
        rest = [(await asyncio.wait_for(feed.__anext__(), 2)).trade_id for _ in range(299)]
    assert held == [True]
    assert rest == [str(i) for i in range(1, 300)]


async def test_a_stalled_connection_is_reopened(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream(ping_interval=0.3) as ws:
        await ws.subscribe(f"trade:{SWAP}")
        exchange.silent = True
        started = time.monotonic()
        await until(lambda: not ws.connected or exchange.connections > 1, timeout=5)
        exchange.silent = False
        await until(lambda: exchange.connections == 2 and ws.connected, timeout=5)
        assert time.monotonic() - started < 4


async def test_aiohttp_still_shows_the_frames_it_received_but_nobody_read(
    exchange: WsExchange,
) -> None:
    """The lending of the socket to a reader peeks at aiohttp's private frame buffer
    (connection.received_frames): this fails when an aiohttp release stops keeping it."""
    channel = f"trade:{SWAP}"
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(ws_url(exchange.url), **WS_OPTIONS)  # type: ignore[attr-defined]
        await ws.send_str(json.dumps({"op": "subscribe", "tag": "1", "args": [channel]}))
        await ws.receive()  # the acknowledgement
        buffer = received_frames(ws)
        assert not isinstance(buffer, tuple) and len(buffer) == 0
        await push_burst(exchange, burst(0, 3))
        await until(lambda: len(buffer) == 3)
        for _ in range(3):
            await ws.receive()
        assert len(buffer) == 0
        await ws.close()


def test_without_aiohttps_frame_buffer_readers_never_read_the_socket_themselves() -> None:
    """The fallback: an empty tuple stands for a buffer aiohttp no longer has, so a reader is
    never lent the socket and the socket's task reads every frame."""

    class NoReader:
        pass

    class ReaderWithoutBuffer:
        _reader = object()

    assert received_frames(NoReader()) == ()  # type: ignore[arg-type]
    assert received_frames(ReaderWithoutBuffer()) == ()  # type: ignore[arg-type]
