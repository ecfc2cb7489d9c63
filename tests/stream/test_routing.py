"""stream.routing through a live stream: each update reaches the channels and readers it is
for, typed; each trade once."""

from __future__ import annotations

import asyncio
import json
import logging
from decimal import Decimal
from typing import Any

import pytest

import coinflex_async as cf
from tests.stream.support import (
    SWAP,
    book,
    client_for,
    compact,
    deep_book,
)
from tests.ws_loopback import WsExchange


async def test_depth_events_are_typed_and_exact_from_json_numbers(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        feed = await ws.subscribe(f"depthL10:{SWAP}")
        # A JSON number with more digits than a float holds: exact only if never a float.
        await exchange.push_raw(
            f"depthL10:{SWAP}",
            '{"table":"depthL10","data":[{"instrumentId":"BTC-USD-SWAP-LIN","seqNum":'
            '1608898592006137237,"timestamp":"1609350022785","checksum":1,"asks":'
            "[[0.1000000000000000055511151231257827,1e-8,0,0]],"
            '"bids":[[5556.81,1.92,0,0]]}]}',
        )
        event = await asyncio.wait_for(feed.__anext__(), 2)
        assert isinstance(event, cf.DepthEvent)
        assert event.seq_num == 1608898592006137237
        assert event.timestamp == 1609350022785
        assert event.asks[0].price == Decimal("0.1000000000000000055511151231257827")
        assert event.asks[0].quantity == Decimal("1E-8")
        assert event.bids[0].price == Decimal("5556.81")
    # The login was never sent: depth is public.
    assert exchange.ops("login") == []


async def test_books_of_two_markets_in_one_message_each_reach_their_channel(
    exchange: WsExchange,
) -> None:
    other = "ETH-USD-SWAP-LIN"
    async with client_for(exchange) as client, client.stream() as ws:
        mine = await ws.subscribe(f"depthL5:{SWAP}")
        theirs = await ws.subscribe(f"depthL5:{other}")
        second = {**book(2), "instrumentId": other}
        # Compact, as the exchange sends it (the socket's task searches the text).
        text = json.dumps({"table": "depthL5", "data": [book(1), second]}, separators=(",", ":"))
        await exchange.push_raw(f"depthL5:{SWAP}", text)
        assert (await asyncio.wait_for(mine.__anext__(), 2)).seq_num == 1
        got = await asyncio.wait_for(theirs.__anext__(), 2)
        assert (got.instrument_id, got.seq_num) == (other, 2)


async def test_a_book_whose_market_is_escaped_reaches_its_channel(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        feed = await ws.subscribe(f"depthL5:{SWAP}")
        text = json.dumps({"table": "depthL5", "data": [book(7)]}, separators=(",", ":"))
        await exchange.push_raw(f"depthL5:{SWAP}", text.replace("BTC-USD", "BTC\\u002dUSD"))
        got = await asyncio.wait_for(feed.__anext__(), 2)
        assert (got.instrument_id, got.seq_num) == (SWAP, 7)


async def test_each_data_item_is_one_event_in_arrival_order(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        feed = await ws.subscribe(f"trade:{SWAP}")
        first = await exchange.trade(SWAP, price="1.5")
        second = await exchange.trade(SWAP, price="2.25")
        got = [await asyncio.wait_for(feed.__anext__(), 2) for _ in range(2)]
        assert [t.trade_id for t in got] == [first["tradeId"], second["tradeId"]]
        assert all(isinstance(t, cf.TradeEvent) for t in got)
        assert got[1].price == Decimal("2.25")
        assert isinstance(got[0].timestamp, int)


async def test_a_trade_id_is_remembered_for_at_least_10000_later_trades(
    exchange: WsExchange,
) -> None:
    """A repeat of a trade 10,000 trades later is still dropped (the bound is documented)."""

    def trade(trade_id: int) -> dict[str, Any]:
        return {"tradeId": str(trade_id), "price": "100", "quantity": "1", "side": "buy",
                "marketCode": SWAP, "timestamp": str(1_600_000_000_000 + trade_id)}  # fmt: skip

    channel = f"trade:{SWAP}"
    async with client_for(exchange) as client, client.stream() as ws:
        feed = await ws.subscribe(channel, max_queue=20_000)
        await exchange.push(channel, "trade", [trade(0)])
        for start in range(1, 10_001, 500):
            await exchange.push(channel, "trade", [trade(i) for i in range(start, start + 500)])
        await exchange.push(channel, "trade", [trade(0), trade(10_001), trade(1)])
        ids = [(await asyncio.wait_for(feed.__anext__(), 3)).trade_id for _ in range(10_002)]
        await asyncio.sleep(0.1)
        assert feed.backlog == 0  # the repeats of 0 and 1 never came
    assert ids == [str(i) for i in range(10_002)]


async def test_a_book_not_in_the_documented_shape_is_skipped_and_logged(
    exchange: WsExchange, caplog: pytest.LogCaptureFixture
) -> None:
    channel = f"depthL5:{SWAP}"
    async with client_for(exchange) as client, client.stream() as ws:
        first, second = await ws.subscribe(channel), await ws.subscribe(channel)
        await exchange.push_raw(channel, compact("depthL5", [{**book(1), "seqNum": "one"}]))
        await exchange.push_raw(channel, compact("depthL5", [book(2)]))
        with caplog.at_level(logging.WARNING, logger="coinflex_async"):
            for feed in (first, second):
                assert (await asyncio.wait_for(feed.__anext__(), 2)).seq_num == 2
        warnings = [r for r in caplog.records if "not the documented shape" in r.getMessage()]
        assert len(warnings) == 1  # decoded once for both readers


async def test_several_depth_channels_of_a_market_get_books_by_size(exchange: WsExchange) -> None:
    small, large = f"depthL5:{SWAP}", f"depthL25:{SWAP}"
    async with client_for(exchange) as client, client.stream() as ws:
        fives, twentyfives = await ws.subscribe(small), await ws.subscribe(large)
        # The exchange names every depth table "depth": the level count tells them apart.
        await exchange.push_raw(small, compact("depth", [deep_book(1, 5)]))
        await exchange.push_raw(large, compact("depth", [deep_book(2, 25)]))
        got_small = await asyncio.wait_for(fives.__anext__(), 2)
        got_large = await asyncio.wait_for(twentyfives.__anext__(), 2)
        assert (got_small.seq_num, len(got_small.asks)) == (1, 5)
        assert (got_large.seq_num, len(got_large.asks)) == (2, 25)
        assert got_large.asks[24].price == Decimal(5557 + 24)
        assert fives.backlog == 0 and twentyfives.backlog == 0


async def test_a_reader_joining_or_leaving_a_busy_channel_changes_who_gets_updates(
    exchange: WsExchange,
) -> None:
    channel = f"depthL5:{SWAP}"
    async with client_for(exchange) as client, client.stream() as ws:
        first = await ws.subscribe(channel)
        await exchange.push_raw(channel, compact("depthL5", [book(1)]))
        assert (await asyncio.wait_for(first.__anext__(), 2)).seq_num == 1
        second = await ws.subscribe(channel)  # joins while updates flow to the first alone
        await exchange.push_raw(channel, compact("depthL5", [book(2)]))
        assert (await asyncio.wait_for(first.__anext__(), 2)).seq_num == 2
        assert (await asyncio.wait_for(second.__anext__(), 2)).seq_num == 2
        await first.aclose()
        await exchange.push_raw(channel, compact("depthL5", [book(3)]))
        assert (await asyncio.wait_for(second.__anext__(), 2)).seq_num == 3
        assert first.backlog == 0


async def test_interleaved_tables_markets_and_readers_each_get_their_own_updates(
    exchange: WsExchange,
) -> None:
    """The stream keeps the last update's sink at hand (updates come in runs of one table and
    market): a change of market, of table or of a channel's readers must not reuse it."""
    eth = "ETH-USD-SWAP-LIN"

    def item(table: str, market: str, n: int) -> dict[str, Any]:
        if table == "trade":
            return {"tradeId": str(n), "price": "100", "quantity": "1", "side": "buy",
                    "marketCode": market, "timestamp": str(1_600_000_000_000 + n)}  # fmt: skip
        return {"notice": "OrderOpened", "orderId": str(n), "marketCode": market, "price": "5"}

    def ids(events: list[Any]) -> list[str]:
        return [e.trade_id if isinstance(e, cf.TradeEvent) else e.order_id for e in events]

    async def push(*updates: tuple[str, str, int]) -> None:
        for table, market, n in updates:
            await exchange.push_raw(f"{table}:{market}", compact(table, [item(table, market, n)]))

    async def take(feed: cf.Subscription, count: int) -> list[Any]:
        return [await asyncio.wait_for(feed.__anext__(), 2) for _ in range(count)]

    async with client_for(exchange) as client, client.stream() as ws:
        btc = await ws.subscribe(f"trade:{SWAP}")
        ether = await ws.subscribe(f"trade:{eth}")
        orders = await ws.subscribe(f"order:{SWAP}")
        await push(("trade", SWAP, 1), ("trade", SWAP, 2), ("trade", eth, 3), ("order", SWAP, 4),
                   ("trade", SWAP, 5), ("order", SWAP, 6), ("trade", eth, 7),
                   ("order", SWAP, 8))  # fmt: skip
        assert ids(await take(btc, 3)) == ["1", "2", "5"]
        assert ids(await take(ether, 2)) == ["3", "7"]
        assert ids(await take(orders, 3)) == ["4", "6", "8"]
        late = await ws.subscribe(f"order:{SWAP}")  # joins the channel the last update went to
        await push(("order", SWAP, 9))
        assert ids(await take(orders, 1)) == ids(await take(late, 1)) == ["9"]
        await orders.aclose()
        await push(("order", SWAP, 10), ("trade", SWAP, 11))
        assert ids(await take(late, 1)) == ["10"]
        assert ids(await take(btc, 1)) == ["11"]
        assert orders.backlog == ether.backlog == 0


def trade_item(trade_id: int, market: str = SWAP) -> dict[str, Any]:
    return {"tradeId": str(trade_id), "price": "100", "quantity": "1", "side": "buy",
            "marketCode": market, "timestamp": str(1_600_000_000_000 + trade_id)}  # fmt: skip


async def test_a_repeated_single_trade_message_is_handed_out_once(exchange: WsExchange) -> None:
    """The hot path (one trade per message, as the exchange sends most trades) applies the
    de-duplication rule too, for one reader and for two."""
    channel = f"trade:{SWAP}"
    async with client_for(exchange) as client, client.stream() as ws:
        first = await ws.subscribe(channel)
        for trade_id in (1, 1, 2, 1, 2, 3):
            await exchange.push_raw(channel, compact("trade", [trade_item(trade_id)]))
        got = [(await asyncio.wait_for(first.__anext__(), 2)).trade_id for _ in range(3)]
        second = await ws.subscribe(channel)  # two readers: the channel's sink, not a reader's
        for trade_id in (3, 4, 4):
            await exchange.push_raw(channel, compact("trade", [trade_item(trade_id)]))
        later = [(await asyncio.wait_for(second.__anext__(), 2)).trade_id]
        await asyncio.sleep(0.1)
        assert (await asyncio.wait_for(first.__anext__(), 2)).trade_id == "4"
        assert first.backlog == second.backlog == 0
    assert got == ["1", "2", "3"]
    assert later == ["4"]


async def test_a_trade_repeated_within_and_across_batches_is_handed_out_once(
    exchange: WsExchange,
) -> None:
    channel = f"trade:{SWAP}"
    async with client_for(exchange) as client, client.stream() as ws:
        feed = await ws.subscribe(channel)
        await exchange.push(channel, "trade", [trade_item(i) for i in (1, 2, 1)])
        await exchange.push(channel, "trade", [trade_item(i) for i in (2, 3)])
        # Not compact (spaces after the separators): the general frame path.
        await exchange.push_raw(channel, json.dumps({"table": "trade", "data": [trade_item(3)]}))
        got = [(await asyncio.wait_for(feed.__anext__(), 2)).trade_id for _ in range(3)]
        await asyncio.sleep(0.1)
        assert feed.backlog == 0
    assert got == ["1", "2", "3"]


@pytest.mark.parametrize("table", ["candle60s", "candles60s"])
async def test_a_candle_reaches_the_channel_of_its_period(exchange: WsExchange, table: str) -> None:
    """The docs' example names the table ``candle60s``, their table ``candles<granularity>``;
    either way its candles are for ``candles60s:M``, not for another period's channel."""
    minute = f"candles60s:{SWAP}"
    values = ["1596168420000", "100", "101", "99", "100.5", "2", "200.5"]
    async with client_for(exchange) as client, client.stream() as ws:
        minutes = await ws.subscribe_candles(SWAP, 60)
        hours = await ws.subscribe_candles(SWAP, 3600)
        item = {"marketCode": SWAP, "candle": values}
        await exchange.push(minute, table, [item])
        await exchange.push_raw(minute, json.dumps({"table": table, "data": [item]}))
        got = [await asyncio.wait_for(minutes.__anext__(), 2) for _ in range(2)]
        await asyncio.sleep(0.1)
        assert hours.backlog == 0
    assert all(isinstance(c, cf.CandleEvent) and c.candle.close == Decimal("100.5") for c in got)
