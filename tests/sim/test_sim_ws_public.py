"""Public WebSocket channels: depth (whole-book snapshots with an increasing seqNum), trade,
ticker, candles, market, each shaped as the docs' examples."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import aiohttp
import pytest
import pytest_asyncio

from coinflex_async.sim import MarketSpec, MarketType, Simulator, WebSocketSettings

from ._helpers import Trader, order_item
from ._ws import WsClient, assert_docs_shape

FAST = WebSocketSettings(
    depth_interval=0.02,
    ticker_interval=0.05,
    candles_interval=0.05,
    market_interval=0.05,
    unauthenticated_messages_per_second=None,
)


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(rate_limits=None, websocket=FAST, liquidity=False) as simulator:
        yield simulator


@pytest_asyncio.fixture
async def client(sim: Simulator, session: aiohttp.ClientSession) -> AsyncIterator[WsClient]:
    connection = await WsClient.connect(session, sim)
    yield connection
    await connection.close()


async def _depth_frames(client: WsClient, count: int) -> list[dict[str, object]]:
    """The next ``count`` depth messages, numbers read as Decimal (as JSON numbers)."""
    found = []
    while len(found) < count:
        frame = await client.raw()
        message = json.loads(frame.data, parse_float=Decimal, parse_int=Decimal)
        if message.get("table") == "depth":
            found.append(message)
    return found


@pytest.mark.parametrize(
    ("channel", "levels"), [("depth", 12), ("depthL5", 5), ("depthL10", 10), ("depthL25", 12)]
)
async def test_depth_snapshots(sim: Simulator, client: WsClient, channel: str, levels: int) -> None:
    sim.add_liquidity(["BTC-USD"], levels=12)
    await client.subscribe(f"{channel}:BTC-USD")
    messages = await _depth_frames(client, 3)
    assert_docs_shape(
        json.loads(json.dumps(messages[0], default=float)), "Orderbook depth channel format"
    )
    (book,) = messages[0]["data"]  # type: ignore[misc]
    assert book["instrumentId"] == "BTC-USD"
    assert len(book["asks"]) == levels and len(book["bids"]) == levels
    # Levels are JSON numbers [price, quantity, 0, 0], best first.
    best_ask, best_bid = book["asks"][0], book["bids"][0]
    assert best_ask == [Decimal("50025"), Decimal("1"), 0, 0]
    assert best_bid == [Decimal("49975"), Decimal("1"), 0, 0]
    assert [level[0] for level in book["asks"]] == sorted(level[0] for level in book["asks"])
    seq_nums = [m["data"][0]["seqNum"] for m in messages]  # type: ignore[index]
    assert seq_nums == sorted(seq_nums) and len(set(seq_nums)) == 3


async def test_depth_follows_the_book(
    sim: Simulator, client: WsClient, trader: Callable[..., Trader]
) -> None:
    sim.add_liquidity(["BTC-USD"], levels=2)
    await client.subscribe("depthL5:BTC-USD")
    bob = trader()
    await bob.place_one(market="BTC-USD", quantity="0.25", price="50001", time_in_force="GTC")
    message = await client.table("depth")
    while message["data"][0]["bids"][0][0] != 50001:
        message = await client.table("depth")
    assert message["data"][0]["bids"][0] == [50001, 0.25, 0, 0]


async def test_depth_at_the_default_50ms_cadence(session: aiohttp.ClientSession) -> None:
    async with Simulator(rate_limits=None) as sim:
        client = await WsClient.connect(session, sim)
        await client.subscribe("depth:ETH-USD")
        first = await client.table("depth")
        started = time.monotonic()
        last = first
        for _ in range(20):
            last = await client.table("depth")
        elapsed = time.monotonic() - started
        # 20 rounds of 50 ms: 1 s, with room for a loaded 2-core machine.
        assert 0.8 <= elapsed <= 2.0, elapsed
        assert last["data"][0]["seqNum"] - first["data"][0]["seqNum"] >= 20
        await client.close()


async def test_trade_on_every_fill(
    sim: Simulator, client: WsClient, trader: Callable[..., Trader]
) -> None:
    sim.add_liquidity(["BTC-USD-SWAP-LIN"], levels=3)
    await client.subscribe("trade:BTC-USD-SWAP-LIN")
    bob = trader()
    # One taker order through two levels: two fills, two trade messages.
    await bob.place_one(quantity="1.5", price="50050", time_in_force="IOC")
    first = await client.table("trade")
    second = await client.table("trade")
    assert_docs_shape(first, "Trade channel format")
    assert [(m["data"][0]["price"], m["data"][0]["quantity"]) for m in (first, second)] == [
        ("50025.0", "1.000"),
        ("50050.0", "0.500"),
    ]
    assert first["data"][0]["side"] == "buy"
    assert first["data"][0]["tradeId"] != second["data"][0]["tradeId"]


async def test_ticker_single_and_all(
    sim: Simulator, client: WsClient, trader: Callable[..., Trader]
) -> None:
    sim.add_liquidity(["ETH-USD"], levels=1)
    await trader().place_one(market="ETH-USD", quantity="2", price="3002", time_in_force="IOC")
    await client.subscribe("ticker:ETH-USD", "ticker:all")
    single = await client.next(lambda m: m.get("table") == "ticker" and len(m["data"]) == 1)
    everything = await client.next(lambda m: m.get("table") == "ticker" and len(m["data"]) > 1)
    assert_docs_shape(single, "Channel update format", section="### Ticker")
    item = single["data"][0]
    assert (item["marketCode"], item["last"], item["lastQty"]) == ("ETH-USD", "3001.50", "2.00")
    assert item["volume24h"] == "6003" and item["currencyVolume24h"] == "2"
    assert {i["marketCode"] for i in everything["data"]} == set(sim.engine.markets)


@pytest.mark.parametrize("timeframe", ["60s", "180s", "86400s"])
async def test_candles(
    sim: Simulator, client: WsClient, trader: Callable[..., Trader], timeframe: str
) -> None:
    sim.add_liquidity(["BTC-USD"], levels=2)
    bob = trader()
    await bob.place_one(market="BTC-USD", quantity="1", price="50025", time_in_force="IOC")
    await bob.place_one(market="BTC-USD", quantity="1", price="50050", time_in_force="IOC")
    await client.subscribe(f"candles{timeframe}:BTC-USD")
    message = await client.table(f"candles{timeframe}")
    assert_docs_shape(message, "Channel update format", section="### Candles")
    candle = message["data"][0]["candle"]
    seconds = int(timeframe[:-1])
    assert int(candle[0]) % (seconds * 1000) == 0
    assert candle[1:] == ["50025.0", "50050.0", "50025.0", "50050.0", "100075", "2"]


async def test_market_single_and_all(sim: Simulator, client: WsClient) -> None:
    await client.subscribe("market:FLEX-USD", "market:all")
    single = await client.next(lambda m: m.get("table") == "market" and len(m["data"]) == 1)
    everything = await client.next(lambda m: m.get("table") == "market" and len(m["data"]) > 1)
    assert_docs_shape(single, "Channel update format", section="### Market")
    item = single["data"][0]
    assert (item["marketCode"], item["type"], item["base"]) == ("FLEX-USD", "SPOT", "FLEX")
    assert len(everything["data"]) == len(sim.engine.markets)


async def test_liquidation_rfq_subscribes_and_stays_quiet(client: WsClient) -> None:
    (reply,) = await client.subscribe("liquidationRFQ")
    assert reply["channel"] == "liquidationRFQ"
    assert await client.silent(lambda m: m.get("table") == "liquidationRFQ", 0.2)


async def test_rest_orders_show_on_public_channels(
    sim: Simulator, client: WsClient, trader: Callable[..., Trader]
) -> None:
    await client.subscribe("trade:FLEX-USD-SWAP-LIN", "depthL5:FLEX-USD-SWAP-LIN")
    maker, taker = trader(), trader()
    await maker.place(
        order_item(market="FLEX-USD-SWAP-LIN", side="SELL", quantity="10", price="5.020")
    )
    await asyncio.sleep(0.05)
    await taker.place_one(market="FLEX-USD-SWAP-LIN", quantity="4", price="5.020")
    trade = await client.table("trade")
    assert (trade["data"][0]["price"], trade["data"][0]["quantity"]) == ("5.020", "4.0")
    depth = await client.next(
        lambda m: m.get("table") == "depth" and m["data"][0]["asks"][:1] == [[5.02, 6, 0, 0]]
    )
    assert depth["data"][0]["bids"] == []


async def test_messages_over_64_kib_arrive_whole(session: aiohttp.ClientSession) -> None:
    # 300 markets: one market:all message of ~150 kB (the 8-byte length form of a frame).
    specs = [
        MarketSpec(
            f"C{index:03d}-USD-SWAP-LIN",
            MarketType.FUTURE,
            f"C{index:03d}",
            "USD",
            Decimal("0.01"),
            Decimal("0.1"),
            Decimal(100),
        )
        for index in range(300)
    ]
    async with Simulator(rate_limits=None, markets=specs, websocket=FAST, liquidity=False) as sim:
        client = await WsClient.connect(session, sim)
        await client.subscribe("market:all", "market:C007-USD-SWAP-LIN")
        frame = await client.next(lambda m: m.get("table") == "market" and len(m["data"]) > 1)
        assert len(json.dumps(frame)) > 65536
        assert [item["marketCode"] for item in frame["data"]] == [s.market_code for s in specs]
        single = await client.next(lambda m: m.get("table") == "market" and len(m["data"]) == 1)
        assert single["data"][0]["marketCode"] == "C007-USD-SWAP-LIN"
        await client.close()
