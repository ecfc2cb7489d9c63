"""stream.readers: a slow reader gets the newest book (conflation) or an overflow, never a
silent gap."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.stream import Subscription
from tests.stream.support import (
    SWAP,
    book,
    client_for,
    compact,
    until,
)
from tests.ws_loopback import WsExchange


async def test_a_slow_reader_gets_the_newest_book_or_an_overflow(exchange: WsExchange) -> None:
    depth, trades = f"depthL5:{SWAP}", f"trade:{SWAP}"
    async with client_for(exchange) as client, client.stream(max_queue=5) as ws:
        books = await ws.subscribe(depth)
        trade_feed = await ws.subscribe(trades)
        fast = await ws.subscribe(trades, max_queue=100)
        fast_got: list[Any] = []

        async def read_fast() -> None:
            async for trade in fast:
                fast_got.append(trade)

        fast_reader = asyncio.ensure_future(read_fast())
        for seq in range(50):
            await exchange.push(depth, "depthL5", [book(seq)])
        for _ in range(20):
            await exchange.trade(SWAP)
        await until(lambda: len(fast_got) == 20)  # the socket kept flowing for other readers
        await asyncio.sleep(0.1)
        got = [await asyncio.wait_for(books.__anext__(), 2)]
        assert got[-1].seq_num == 49  # conflated: the newest book, nothing older waits
        assert books.backlog == 0
        with pytest.raises(cf.StreamOverflowError) as caught:
            await asyncio.wait_for(trade_feed.__anext__(), 2)
        assert caught.value.dropped >= 15
        await exchange.trade(SWAP)
        assert isinstance(await asyncio.wait_for(trade_feed.__anext__(), 2), cf.TradeEvent)
        await until(lambda: len(fast_got) == 21)
        fast_reader.cancel()


async def test_compact_books_conflate_per_market_for_a_slow_reader(exchange: WsExchange) -> None:
    other = "ETH-USD-SWAP-LIN"
    channels = [f"depthL5:{SWAP}", f"depthL5:{other}"]
    async with client_for(exchange) as client, client.stream(max_queue=3) as ws:
        books = await ws.subscribe(*channels)
        for seq in range(40):
            await exchange.push_raw(channels[0], compact("depthL5", [book(seq)]))
            if seq in (5, 30):
                await exchange.push_raw(
                    channels[1], compact("depthL5", [{**book(seq), "instrumentId": other}])
                )
        await asyncio.sleep(0.3)
        got = [await asyncio.wait_for(books.__anext__(), 2) for _ in range(2)]
        # The newest book of each market (in the place of the market's older one), nothing older.
        assert [(b.instrument_id, b.seq_num) for b in got] == [(SWAP, 39), (other, 30)]
        assert books.backlog == 0


def order_item(n: int) -> dict[str, Any]:
    return {"notice": "OrderOpened", "orderId": str(n), "marketCode": SWAP, "price": "5"}


def trade_item(n: int) -> dict[str, Any]:
    return {"tradeId": str(n), "price": "100", "quantity": "1", "side": "buy",
            "marketCode": SWAP, "timestamp": str(1_600_000_000_000 + n)}  # fmt: skip


async def overflowed(feed: cf.Subscription[Any]) -> int:
    with pytest.raises(cf.StreamOverflowError) as caught:
        await asyncio.wait_for(feed.__anext__(), 2)
    return caught.value.dropped


async def test_every_path_of_an_update_overflows_a_slow_reader(exchange: WsExchange) -> None:
    """Single updates for one reader (its own sink), for a channel's readers, and batches:
    each path raises StreamOverflowError at the next read, never drops silently."""
    trades, orders = f"trade:{SWAP}", f"order:{SWAP}"
    async with client_for(exchange) as client, client.stream(max_queue=5) as ws:
        one_reader = await ws.subscribe(orders)
        for n in range(12):  # one order update per message: the reader's own sink
            await exchange.push(orders, "order", [order_item(n)])
        first, second = await ws.subscribe(trades), await ws.subscribe(trades)
        for n in range(12):  # one trade per message, two readers: the channel's sink
            await exchange.push(trades, "trade", [trade_item(n)])
        batch = await ws.subscribe("order:all")
        await exchange.push("order:all", "order", [order_item(100 + n) for n in range(12)])
        await asyncio.sleep(0.2)
        for feed in (one_reader, first, second, batch):
            assert await overflowed(feed) >= 6
        # Caught up: reading goes on with what comes next.
        await exchange.push(orders, "order", [order_item(50)])
        assert (await asyncio.wait_for(one_reader.__anext__(), 2)).order_id == "50"


async def test_every_path_of_a_book_conflates_for_a_slow_reader(exchange: WsExchange) -> None:
    """Books for one reader (decoded in its task), for two readers, and in messages that are
    not compact (the general path), for one reader and for two: the reader takes the newest
    book, nothing older waits."""
    eth = "ETH-USD-SWAP-LIN"
    depth, ticker, market, eth_depth = (
        f"depthL5:{SWAP}", f"ticker:{SWAP}", f"market:{SWAP}", f"depthL5:{eth}"
    )  # fmt: skip

    def spaced(table: str, item: dict[str, Any]) -> str:
        return json.dumps({"table": table, "data": [item]})  # not compact

    async with client_for(exchange) as client, client.stream(max_queue=3) as ws:
        alone = await ws.subscribe(depth)
        tickers = [await ws.subscribe(ticker), await ws.subscribe(ticker)]
        markets = await ws.subscribe(market)
        eth_books = [await ws.subscribe(eth_depth), await ws.subscribe(eth_depth)]
        for n in range(20):
            await exchange.push(depth, "depthL5", [book(n)])
            await exchange.push(ticker, "ticker", [{"last": str(n), "marketCode": SWAP}])
            await exchange.push_raw(market, spaced("market", {"marketPrice": str(n),
                                                              "marketCode": SWAP}))  # fmt: skip
            await exchange.push_raw(eth_depth, spaced("depthL5", {**book(n), "instrumentId": eth}))
        await asyncio.sleep(0.2)
        got = await asyncio.wait_for(alone.__anext__(), 2)
        assert got.seq_num == 19 and alone.backlog == 0
        for feed in tickers:
            newest = await asyncio.wait_for(feed.__anext__(), 2)
            assert newest.last == Decimal(19) and feed.backlog == 0
        newest_market = await asyncio.wait_for(markets.__anext__(), 2)
        assert newest_market.market_price == Decimal(19) and markets.backlog == 0
        for feed in eth_books:
            eth_book = await asyncio.wait_for(feed.__anext__(), 2)
            assert eth_book.seq_num == 19 and feed.backlog == 0


class _NoSocket:
    """A lender that never lends (readers.Lender): the rules alone are under test."""

    def has_turn(self, reader: Any) -> bool:
        return False

    async def read_in_turn(self, reader: Any) -> bool:
        return False

    def park(self, reader: Any) -> None:
        pass

    def release(self, reader: Any) -> None:
        pass


async def _no_leave(reader: Any) -> None:
    pass


def reader(max_queue: int) -> Subscription[Any]:
    return Subscription(("x",), max_queue, _NoSocket(), _no_leave)


def depth(market: str, seq: int) -> cf.DepthEvent:
    return cf.DepthEvent(instrument_id=market, seq_num=seq, timestamp=0, asks=[], bids=[])


async def test_a_full_queue_keeps_the_newest_book_per_market_and_every_update() -> None:
    feed = reader(3)
    feed.put(depth("A", 1), True)
    feed.put("update", False)
    feed.put(depth("B", 1), True)
    for seq in range(2, 6):  # full: the queued book of the market is replaced in its place
        feed.put(depth("A", seq), True)
    feed.put(depth("B", 2), True)
    got = [await feed.__anext__() for _ in range(feed.backlog)]
    assert [(e.instrument_id, e.seq_num) if e != "update" else e for e in got] == [
        ("A", 5),
        "update",
        ("B", 2),
    ]


async def test_a_full_queue_of_updates_reports_what_it_dropped_then_goes_on() -> None:
    feed = reader(3)
    for n in range(3):
        feed.put_update(n)
    feed.put_update(3)  # the fourth: the queue and it are dropped, the reader told
    feed.put(4, False)
    with pytest.raises(cf.StreamOverflowError) as caught:
        await feed.__anext__()
    assert caught.value.dropped == 4
    assert await feed.__anext__() == 4
    assert feed.backlog == 0
