"""``client.stream()`` end to end against the simulator's WebSocket (sim.ws_url): every method
and behaviour of the API's WebSocket section (client.stream()), and ``private.snapshot()``.

The simulator's WebSocket faults (ws_reset, ws_close, ws_stall, ws_drop_reply) stand for the
network's; the client under test knows nothing about them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.sim import Fault, Simulator, WebSocketSettings
from coinflex_async.stream import ws_url

from ._coverage import covers
from ._support import check_types

SWAP = "BTC-USD-SWAP-LIN"
FAST = cf.RetryPolicy(attempts=4, backoff=0.02, max_backoff=0.2, lookup_interval=0.1)


async def next_of(feed: cf.Subscription, kind: type, timeout: float = 5.0) -> Any:
    """The next event of ``kind`` (skipping others, e.g. periodic balances)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {kind.__name__} within {timeout} s")
        event = await asyncio.wait_for(feed.__anext__(), left)
        if isinstance(event, kind):
            check_types(event, kind.__name__)
            return event


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def limit(side: str, quantity: str, price: str, **extra: Any) -> dict[str, Any]:
    return {
        "market_code": SWAP,
        "side": side,
        "quantity": quantity,
        "order_type": "LIMIT",
        "price": price,
        **extra,
    }


def trader(sim: Simulator, connect: Callable[..., cf.Client], **options: Any) -> cf.Client:
    account = sim.create_account(balances={"USD": "1000000", "BTC": "10"})
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 2.0)
    return connect(account, **options)  # type: ignore[no-any-return]


@covers("stream.open", "stream.subscribe", "stream.close")
async def test_depth_is_typed_exact_and_matches_rest(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    sim.add_liquidity([SWAP])
    client = connect()
    stream = client.stream()
    assert stream.url == sim.ws_url == ws_url(sim.url)
    async with stream as ws:
        feed = await ws.subscribe(f"depthL10:{SWAP}")
        book = await next_of(feed, cf.DepthEvent)
        rest = await client.public.depth(SWAP, level=10)
        assert book.instrument_id == SWAP
        assert [(lvl.price, lvl.quantity) for lvl in book.bids] == [
            (lvl.price, lvl.quantity) for lvl in rest.bids
        ]
        assert all(isinstance(lvl.price, Decimal) for lvl in book.asks + book.bids)
        later = await next_of(feed, cf.DepthEvent)
        assert later.seq_num > book.seq_num
    with pytest.raises(StopAsyncIteration):
        await feed.__anext__()
    with pytest.raises(cf.StreamClosedError):
        await ws.subscribe(f"trade:{SWAP}")


@covers("stream.subscribe")
async def test_public_channels_are_typed_and_shared(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    sim.add_liquidity([SWAP])
    async with connect().stream() as ws:
        # One message before login (the exchange takes one a second then).
        feed = await ws.subscribe(f"ticker:{SWAP}", "market:all", f"candles60s:{SWAP}")
        ticker = await next_of(feed, cf.TickerEvent)
        assert ticker.market_code == SWAP
        market = await next_of(feed, cf.MarketEvent)
        assert market.market_code
        again = await ws.subscribe(f"ticker:{SWAP}")  # shares the wire subscription
        assert (await next_of(again, cf.TickerEvent)).market_code == SWAP
        await again.aclose()
        assert (await next_of(feed, cf.TickerEvent)).market_code == SWAP


@covers("stream.subscribe")
async def test_a_refused_channel_raises_the_exchange_code(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    async with connect().stream() as ws:
        with pytest.raises(cf.APIError) as caught:
            await ws.subscribe("depth:NO-SUCH-MARKET")
        assert caught.value.code == "20015"


@covers("stream.subscribe", "stream.place_order", "stream.cancel_order", "stream.modify_order")
async def test_orders_over_the_websocket_with_their_order_channel(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    client = trader(sim, connect)
    async with client.stream() as ws:
        updates = await ws.subscribe("order:all")  # logs in first
        placed = await ws.place_order(**limit("BUY", "0.5", "46000"))
        assert placed.success and placed.order_id
        opened = await next_of(updates, cf.OrderEvent)
        assert (opened.notice, opened.order_id) == ("OrderOpened", placed.order_id)
        assert opened.price == Decimal("46000")
        modified = await ws.modify_order(
            order_id=placed.order_id, market_code=SWAP, price="46100", quantity="0.5"
        )
        assert modified.success and modified.price == Decimal("46100")
        cancelled = await ws.cancel_order(market_code=SWAP, order_id=modified.order_id)
        assert cancelled.success
        closed = await next_of(updates, cf.OrderEvent)
        while closed.notice != "OrderClosed" or closed.order_id != modified.order_id:
            closed = await next_of(updates, cf.OrderEvent)
        # Cancelling it again: accepted on the wire (the docs), refused on the order channel.
        again = await ws.cancel_order(market_code=SWAP, order_id=modified.order_id)
        assert again.success
        failure = await next_of(updates, cf.OrderFailureEvent)
        assert (failure.event, failure.order_id) == ("CANCEL", modified.order_id)
        assert failure.status == "REJECT_CANCEL_ORDER_ID_NOT_FOUND" and failure.code == "100004"
        # Outside the sanity bounds: the exchange answers submitted false.
        with pytest.raises(cf.OrderRejectedError) as caught:
            await ws.place_order(**limit("BUY", "0.5", "100"))
        assert caught.value.code == "710002"
    assert await client.private.open_orders() == []


@covers("stream.place_orders", "stream.modify_orders", "stream.cancel_orders")
async def test_batches_are_answered_per_order_in_input_order(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    client = trader(sim, connect)
    orders = [limit("BUY", "0.1", str(46000 + 10 * i)) for i in range(10)]
    orders[3] = limit("BUY", "0.1", "-5")  # refused: price must be above zero
    orders[3]["price"] = "46030"
    orders[3]["market_code"] = "NO-SUCH-MARKET"
    async with client.stream() as ws:
        placed = await ws.place_orders(orders)
        assert [r.success for r in placed] == [i != 3 for i in range(10)]
        assert [r.price for r in placed if r.success] == [
            Decimal(46000 + 10 * i) for i in range(10) if i != 3
        ]
        live = [r for r in placed if r.success]
        modified = await ws.modify_orders(
            [{"order_id": r.order_id, "market_code": SWAP, "price": "45500"} for r in live]
        )
        assert all(r.success for r in modified)
        cancelled = await ws.cancel_orders(
            [{"order_id": r.order_id, "market_code": SWAP} for r in modified]
        )
        assert [r.success for r in cancelled] == [True] * len(live)
    assert await client.private.open_orders() == []


async def test_trades_balances_and_positions_stream_while_accounts_trade(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    maker, taker = trader(sim, connect), trader(sim, connect)
    async with maker.stream() as ws, taker.stream() as theirs:
        trades = await ws.subscribe(f"trade:{SWAP}")
        mine = await ws.subscribe("balance:all", "position:all")
        resting = await ws.place_order(**limit("SELL", "0.2", "50000"))
        await theirs.place_order(**limit("BUY", "0.2", "50000"))
        trade = await next_of(trades, cf.TradeEvent)
        assert (trade.price, trade.quantity) == (Decimal("50000"), Decimal("0.2"))
        position = await next_of(mine, cf.Position)
        assert position.instrument_id == SWAP and position.quantity == Decimal("-0.2")
        balance = await next_of(mine, cf.Balance)
        assert isinstance(balance.total, Decimal)
        history = await maker.public.trades(SWAP)
        assert trade.trade_id in {t.match_id for t in history}
        assert resting.success


@covers("private.snapshot")
async def test_snapshot_is_fetched_concurrently_and_timed(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    client = trader(sim, connect)
    await client.private.place_order(**limit("BUY", "0.1", "46000"))
    before = time.time_ns() // 1_000_000
    snapshot = await client.private.snapshot()
    assert before <= snapshot.taken_at <= time.time_ns() // 1_000_000
    assert {b.instrument_id for b in snapshot.balances} >= {"USD", "BTC"}
    assert [o.price for o in snapshot.open_orders] == [Decimal("46000")]
    assert snapshot.positions == []


async def test_a_dropped_connection_resyncs_private_and_backfills_trades(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    maker, taker = trader(sim, connect), trader(sim, connect)
    async with maker.stream(ping_interval=1.0) as ws:
        orders = await ws.subscribe("order:all")
        trades = await ws.subscribe(f"trade:{SWAP}")
        made = []
        await maker.private.place_order(**limit("SELL", "1", "50000"))
        await taker.private.place_order(**limit("BUY", "0.1", "50000"))
        made.append((await next_of(trades, cf.TradeEvent)).trade_id)
        sim.inject(Fault.ws_reset(op="trade"))
        # The reset fires on the next trade push; the trades meanwhile reach only REST.
        for _ in range(3):
            await taker.private.place_order(**limit("BUY", "0.1", "50000"))
        await until(lambda: ws.reconnects >= 1)
        await taker.private.place_order(**limit("BUY", "0.1", "50000"))
        history = {t.match_id for t in await maker.public.trades(SWAP)}
        seen = list(made)
        while len(seen) < len(history):
            seen.append((await next_of(trades, cf.TradeEvent)).trade_id)
        assert sorted(seen) == sorted(history) and len(set(seen)) == len(seen)
        resynced = await next_of(orders, cf.Resynced, timeout=5)
        assert resynced.channel == "order:all"
        # Taken once the connection is back: after the four trades made before, and the fifth
        # too if it came first.
        remaining = resynced.snapshot.open_orders[0].remaining_quantity
        assert remaining in (Decimal("0.6"), Decimal("0.5"))


async def test_a_lost_order_reply_is_settled_by_lookup_never_sent_twice(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    client = trader(sim, connect, timeout=0.5, recv_window=1000)
    sim.inject(Fault.ws_drop_reply(op="placeorder"))
    async with client.stream() as ws:
        result = await ws.place_order(**limit("BUY", "0.3", "46500", client_order_id=31337))
    assert result.success and result.client_order_id == "31337"
    orders = await client.private.orders(client_order_id=31337)
    assert len({o.order_id for o in orders}) == 1


async def test_a_stalled_connection_is_reopened_and_keeps_serving(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    sim.add_liquidity([SWAP])
    async with connect().stream(ping_interval=0.4) as ws:
        feed = await ws.subscribe(f"depthL5:{SWAP}")
        await next_of(feed, cf.DepthEvent)
        sim.inject(Fault.ws_stall(seconds=3.0, op="depth"))
        await until(lambda: ws.reconnects >= 1, timeout=4)
        await next_of(feed, cf.DepthEvent)


async def test_websocket_orders_stay_within_the_accounts_50_per_second(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    client = trader(sim, connect, rate_limits=cf.RateLimits(), timeout=5.0)
    async with client.stream() as ws:
        results = await asyncio.gather(
            *(ws.place_order(**limit("BUY", "0.01", str(45100 + i))) for i in range(80))
        )
    assert all(r.success for r in results)  # no 20007 from the exchange
    assert sim.stats.websocket["rate_limited"] == 0


async def test_closing_the_stream_ends_readers_and_commands(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    account = sim.create_account(balances={"USD": "1000000"})
    client = connect(account, retry=FAST, timeout=5.0)
    ws = await client.stream().__aenter__()
    feed = await ws.subscribe(f"trade:{SWAP}")
    reading = asyncio.ensure_future(feed.__anext__())
    sim.inject(Fault.ws_drop_reply(op="placeorder"))
    command = asyncio.ensure_future(ws.place_order(**limit("BUY", "0.1", "46000")))
    await until(lambda: account.order_count == 1)  # applied; its reply is lost
    started = time.monotonic()
    await ws.close()
    with pytest.raises(StopAsyncIteration):
        await reading
    with pytest.raises(cf.OrderStatusUnknownError):
        await command
    assert time.monotonic() - started < 1.0
    with pytest.raises(cf.StreamClosedError):
        await ws.place_order(**limit("BUY", "0.1", "46000"))


@pytest.mark.sim_options(websocket=WebSocketSettings(idle_timeout=1.0))
async def test_keep_alive_pings_hold_an_idle_connection_open(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    # The simulator closes a connection without subscriptions that says nothing for 1 s.
    async with connect().stream(ping_interval=0.3) as ws:
        await asyncio.sleep(2.5)
        assert ws.connected and ws.reconnects == 0
        assert sim.stats.websocket["closed_idle"] == 0


async def test_a_slow_reader_gets_the_newest_book_or_an_overflow(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    sim.add_liquidity([SWAP])
    maker, taker = trader(sim, connect), trader(sim, connect)
    await maker.private.place_order(**limit("SELL", "5", "50000"))
    async with maker.stream() as ws:
        books = await ws.subscribe(f"depthL5:{SWAP}", max_queue=2)
        trades = await ws.subscribe(f"trade:{SWAP}", max_queue=2)
        await asyncio.sleep(0.6)  # about 12 books arrive, the reader takes none
        for _ in range(4):
            await taker.private.place_order(
                market_code=SWAP, side="BUY", quantity="0.01", order_type="MARKET"
            )
        await asyncio.sleep(0.2)
        queued = books.backlog
        assert 1 <= queued <= 2  # conflated: bounded, newest kept
        got = [await next_of(books, cf.DepthEvent) for _ in range(queued)]
        assert got[0].seq_num >= got[-1].seq_num - 1
        with pytest.raises(cf.StreamOverflowError) as caught:
            await asyncio.wait_for(trades.__anext__(), 2)
        assert caught.value.dropped >= 2


@covers(
    "stream.subscribe_depth",
    "stream.subscribe_trades",
    "stream.subscribe_ticker",
    "stream.subscribe_candles",
    "stream.subscribe_market",
    "stream.subscribe_liquidations",
    "stream.subscribe_orders",
    "stream.subscribe_balances",
    "stream.subscribe_positions",
)
async def test_typed_subscriptions_yield_their_events(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    maker, taker = trader(sim, connect), trader(sim, connect)
    await maker.private.place_order(**limit("BUY", "0.1", "46000"))  # a bid in the books
    async with maker.stream() as ws, taker.stream() as theirs:
        # Made together: one subscribe message, though the stream has not logged in yet.
        books, trades, ticker, candles, markets, liquidations = await asyncio.gather(
            ws.subscribe_depth(SWAP, level=5),
            ws.subscribe_trades(SWAP),
            ws.subscribe_ticker(SWAP),
            ws.subscribe_candles(SWAP, 60),
            ws.subscribe_market(),
            ws.subscribe_liquidations(),
        )
        # The whole book on the other connection: the exchange names every depth table
        # "depth", so on one connection books of one market go by their size.
        whole = await theirs.subscribe_depth(SWAP)
        orders = await ws.subscribe_orders(SWAP)  # private: logs in first
        balances = await ws.subscribe_balances("USD")
        positions = await ws.subscribe_positions()
        assert liquidations.channels == ("liquidationRFQ",)
        book = await next_of(books, cf.DepthEvent)
        assert book.instrument_id == SWAP and 0 < len(book.bids) <= 5
        assert (await next_of(whole, cf.DepthEvent)).instrument_id == SWAP
        assert (await next_of(ticker, cf.TickerEvent)).market_code == SWAP
        assert (await next_of(markets, cf.MarketEvent)).market_code
        resting = await ws.place_order(**limit("SELL", "0.2", "50000"))
        await theirs.place_order(**limit("BUY", "0.2", "50000"))
        opened = await next_of(orders, cf.OrderEvent)
        assert (opened.notice, opened.side, opened.order_type) == ("OrderOpened", "SELL", "LIMIT")
        assert opened.order_id == resting.order_id
        trade = await next_of(trades, cf.TradeEvent)
        assert (trade.price, trade.quantity) == (Decimal("50000"), Decimal("0.2"))
        position = await next_of(positions, cf.Position)
        assert position.instrument_id == SWAP and position.quantity == Decimal("-0.2")
        assert (await next_of(balances, cf.Balance)).instrument_id == "USD"
        # A candle is pushed once its period has a trade.
        candle = await next_of(candles, cf.CandleEvent)
        assert candle.market_code == SWAP and candle.candle.close == Decimal("50000")
