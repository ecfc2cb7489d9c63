"""``client.stream()`` against a loopback WebSocket endpoint written from the docs
(tests/ws_loopback.py): subscriptions, typing, sharing, login, order commands, recovery of lost
replies, reconnects with resync and trade backfill, stalls, backpressure, closing."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.stream import ws_url
from tests.ws_loopback import WsExchange, docs_login_signature

KEY = "ws-key"
SECRET = "ws-secret"
SWAP = "BTC-USD-SWAP-LIN"
FAST = cf.RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, lookup_interval=0.05)
LIMIT = {"market_code": SWAP, "side": "BUY", "quantity": "0.5", "order_type": "LIMIT"}


@pytest.fixture
async def exchange(aiohttp_server: Any) -> AsyncIterator[WsExchange]:
    ex = WsExchange(KEY, SECRET)
    server = await aiohttp_server(ex.app)
    ex.url = f"http://127.0.0.1:{server.port}"  # type: ignore[attr-defined]
    yield ex


def client_for(ex: WsExchange, **options: Any) -> cf.Client:
    options.setdefault("retry", FAST)
    options.setdefault("rate_limits", None)
    options.setdefault("timeout", 2.0)
    options.setdefault("recv_window", 300)
    return cf.Client(KEY, SECRET, base_url=ex.url, **options)  # type: ignore[attr-defined]


async def until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def book(seq: int, price: Any = 5556.82) -> dict[str, Any]:
    return {
        "instrumentId": SWAP,
        "seqNum": seq,
        "timestamp": "1609350022785",
        "checksum": 1139901235,
        "asks": [[price, 11, 0, 0]],
        "bids": [[5556.81, 1.92, 0, 0]],
    }


def test_ws_url_follows_the_base_url() -> None:
    assert ws_url("https://v2api.coinflex.com") == "wss://v2api.coinflex.com/v2/websocket"
    assert ws_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/v2/websocket"


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


async def test_consumers_of_one_channel_share_one_subscription(exchange: WsExchange) -> None:
    channel = f"depthL5:{SWAP}"
    async with client_for(exchange) as client, client.stream() as ws:
        first = await ws.subscribe(channel)
        second = await ws.subscribe(channel)
        assert len(exchange.ops("subscribe")) == 1
        await exchange.push(channel, "depthL5", [book(1)])
        assert (await asyncio.wait_for(first.__anext__(), 2)).seq_num == 1
        assert (await asyncio.wait_for(second.__anext__(), 2)).seq_num == 1
        await first.aclose()
        await asyncio.sleep(0.1)
        assert exchange.ops("unsubscribe") == []  # the second reader still reads it
        await second.aclose()
        await until(lambda: len(exchange.ops("unsubscribe")) == 1)
        assert exchange.ops("unsubscribe")[0]["args"] == [channel]


async def test_a_refused_channel_raises_the_docs_code(exchange: WsExchange) -> None:
    exchange.refused["depth:NOPE"] = "20015"
    async with client_for(exchange) as client, client.stream() as ws:
        with pytest.raises(cf.APIError) as caught:
            await ws.subscribe("depth:NOPE")
        assert caught.value.code == "20015"
        with pytest.raises(cf.ValidationError):
            await ws.subscribe("nonsense:X")


async def test_private_channels_log_in_once_with_the_docs_signature(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        await ws.subscribe("order:all")
        await ws.subscribe("balance:all", "position:all")
    (login,) = exchange.ops("login")
    data = login["data"]
    assert data["apiKey"] == KEY
    assert data["signature"] == docs_login_signature(SECRET, data["timestamp"])
    assert abs(int(data["timestamp"]) - time.time() * 1000) < 10_000


async def test_private_channels_without_credentials_fail_before_sending(
    exchange: WsExchange,
) -> None:
    async with cf.Client(base_url=exchange.url) as client, client.stream() as ws:  # type: ignore[attr-defined]
        with pytest.raises(cf.AuthenticationError):
            await ws.subscribe("order:all")
        with pytest.raises(cf.AuthenticationError):
            await ws.place_order(**LIMIT, price="1")
    assert exchange.ops("login") == [] and exchange.ops("subscribe") == []


async def test_order_commands_answer_as_futures(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        result = await ws.place_order(**LIMIT, price="54900")
        assert result.success and result.order_id is not None
        assert result.client_order_id is not None and result.client_order_id.isdigit()
        (sent,) = exchange.ops("placeorder")
        assert sent["data"]["price"] == "54900" and sent["data"]["recvWindow"] == 300
        cancelled = await ws.cancel_order(market_code=SWAP, order_id=result.order_id)
        assert cancelled.success
        with pytest.raises(cf.OrderRejectedError) as caught:
            await ws.cancel_order(market_code=SWAP, order_id="999999")
        assert caught.value.code == "100005"
        with pytest.raises(cf.OrderRejectedError) as rejected:
            await ws.place_order(**{**LIMIT, "market_code": "BAD-MARKET"}, price="1")
        assert rejected.value.code == "20015"
        with pytest.raises(cf.ValidationError):
            await ws.place_order(**LIMIT)  # a LIMIT order needs a price: nothing sent
    tags = [m["tag"] for m in exchange.received if "tag" in m]
    assert len(tags) == len(set(tags))


def burst(first: int, count: int) -> list[str]:
    """``count`` trade frames, compact as the exchange sends them, to push in one go."""
    frames = []
    for i in range(first, first + count):
        item = {"tradeId": str(i), "price": "100", "quantity": "1", "side": "buy",
                "marketCode": SWAP, "timestamp": str(1_600_000_000_000 + i)}  # fmt: skip
        frames.append(json.dumps({"table": "trade", "data": [item]}, separators=(",", ":")))
    return frames


async def push_burst(exchange: WsExchange, frames: list[str]) -> None:
    for text in frames:  # written without waiting for the reader: they arrive together
        await exchange.push_raw(f"trade:{SWAP}", text)


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


async def test_a_bad_response_type_is_refused_before_sending(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        with pytest.raises(cf.ValidationError, match="response_type"):
            await ws.place_order(**LIMIT, price="1", response_type="FULLY")  # type: ignore[arg-type]
        with pytest.raises(cf.ValidationError, match="response_type"):
            await ws.cancel_orders([{"market_code": SWAP, "order_id": "1"}], response_type="")  # type: ignore[arg-type]
        # Accepted as REST accepts it; the WebSocket answers in full either way.
        assert (await ws.place_order(**LIMIT, price="1", response_type="ACK")).success
    assert len(exchange.ops("placeorder")) == 1 and exchange.ops("cancelorders") == []


async def test_batches_are_answered_per_order_in_input_order(exchange: WsExchange) -> None:
    exchange.reverse_batches = True
    orders = [{**LIMIT, "price": str(100 + i), "client_order_id": 7000 + i} for i in range(5)]
    orders[2] = {**orders[2], "market_code": "BAD-MARKET"}
    async with client_for(exchange) as client, client.stream() as ws:
        results = await ws.place_orders(orders)
    assert [r.client_order_id for r in results] == [str(7000 + i) for i in range(5)]
    assert [r.success for r in results] == [True, True, False, True, True]
    assert results[2].code == "20015"
    assert len(exchange.ops("placeorders")) == 1


async def test_a_lost_reply_is_settled_by_rest_lookup_never_resent(exchange: WsExchange) -> None:
    exchange.lose_replies = 1
    exchange.drop_after_apply = True
    async with client_for(exchange) as client, client.stream() as ws:
        result = await ws.place_order(**LIMIT, price="54900", client_order_id=4242)
    assert result.success and result.client_order_id == "4242"
    assert result.order_id == exchange.orders["4242"]["orderId"]
    assert len(exchange.ops("placeorder")) == 1


async def test_a_lost_reply_of_an_order_never_applied_is_sent_again(exchange: WsExchange) -> None:
    # The reply times out and the lookup finds nothing once recvWindow has passed: proven
    # absent, so it may go again. Here the first command was applied but its order forgotten
    # by the test server, which stands for "never applied".
    exchange.lose_replies = 1
    async with client_for(exchange, timeout=0.3) as client, client.stream() as ws:
        task = asyncio.ensure_future(ws.place_order(**LIMIT, price="1", client_order_id=77))
        await until(lambda: len(exchange.ops("placeorder")) == 1)
        exchange.orders.clear()
        result = await task
    assert result.success
    assert len(exchange.ops("placeorder")) == 2


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


async def test_a_stalled_connection_is_reopened(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream(ping_interval=0.3) as ws:
        await ws.subscribe(f"trade:{SWAP}")
        exchange.silent = True
        started = time.monotonic()
        await until(lambda: not ws.connected or exchange.connections > 1, timeout=5)
        exchange.silent = False
        await until(lambda: exchange.connections == 2 and ws.connected, timeout=5)
        assert time.monotonic() - started < 4


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


def compact(table: str, items: list[Any]) -> str:
    """An update as the exchange writes it (no spaces): the stream's fast path."""
    return json.dumps({"table": table, "data": items}, separators=(",", ":"))


def deep_book(seq: int, levels: int) -> dict[str, Any]:
    return {**book(seq), "asks": [[5557 + i, 1, 0, 0] for i in range(levels)]}


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


async def test_ws_orders_keep_the_accounts_rate(exchange: WsExchange) -> None:
    limits = cf.RateLimits(ws_orders=(cf.Window(10, 0.5),))
    async with client_for(exchange, rate_limits=limits) as client, client.stream() as ws:
        await asyncio.gather(*(ws.place_order(**LIMIT, price=str(i + 1)) for i in range(25)))
    times = sorted(
        int(m["data"]["timestamp"]) for m in exchange.received if m.get("op") == "placeorder"
    )
    assert len(times) == 25
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 500) <= 10


async def test_a_cancelled_place_order_is_settled_in_the_background(
    exchange: WsExchange, caplog: pytest.LogCaptureFixture
) -> None:
    exchange.lose_replies = 1
    caplog.set_level(logging.WARNING, logger="coinflex_async")
    async with client_for(exchange) as client, client.stream() as ws:
        task = asyncio.ensure_future(ws.place_order(**LIMIT, price="3", client_order_id=999))
        await until(lambda: len(exchange.ops("placeorder")) == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as caught:
            await task
        assert any("999" in note for note in getattr(caught.value, "__notes__", []))
        await until(lambda: "applied at the exchange" in caplog.text, timeout=3)
    assert "client_order_id=999" in caplog.text
    assert len(exchange.ops("placeorder")) == 1
