"""Public endpoints: the docs' shapes, and values that follow from trades made in the test."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import aiohttp
import pytest_asyncio

from coinflex_async.sim import ManualClock, Simulator

from ._helpers import Trader, assert_shape, order_item

# Key sets copied from the docs' example responses.
MARKET_KEYS = {
    "marketId", "marketCode", "name", "referencePair", "base", "counter", "type", "tickSize",
    "qtyIncrement", "listingDate", "endDate", "marginCurrency", "contractValCurrency",
    "upperPriceBound", "lowerPriceBound", "marketPrice", "marketPriceLastUpdated",
}  # fmt: skip
# Not in the docs: every market of the live answer carried them (hummingbot's CoinFLEX spot
# connector, test_coinflex_api_order_book_data_source.py test_fetch_trading_pairs, 2022-02-22).
LIVE_MARKET_KEYS = {"markPrice", "markPriceLastUpdated"}
ASSET_KEYS = {
    "instrumentId", "name", "base", "counter", "type", "marginCurrency", "contractValCurrency",
    "deliveryDate", "deliveryInstrument",
}  # fmt: skip
PUBLIC_TRADE_KEYS = {"matchId", "matchQuantity", "matchPrice", "side", "matchTimestamp"}
TICKER_KEYS = {
    "marketCode", "last", "markPrice", "open24h", "volume24h", "currencyVolume24h", "high24h",
    "low24h", "openInterest", "lastQty",
}  # fmt: skip
# Not in the docs' REST example: the live ticker items had them (hummingbot's CoinFLEX spot
# connector, test_coinflex_api_order_book_data_source.py test_get_last_trade_prices).
LIVE_TICKER_KEYS = {"timestamp", "lastMarkPrice"}
CANDLE_KEYS = {"timestamp", "open", "high", "low", "close", "volume24h", "currencyVolume24h"}
FUNDING_RATE_KEYS = {"fundingRate", "index", "markPrice", "marketCode", "timestamp"}
PUBLIC_FUNDING_KEYS = {"timestamp", "instrumentId", "fundingRate"}
FLEX_BALANCE_KEYS = {"instrumentId", "total", "available", "reserved", "quantityLastUpdated"}
FLEX_POSITION_KEYS = {
    "instrumentId", "quantity", "lastUpdated", "contractValCurrency", "entryPrice", "positionPnl",
}  # fmt: skip
FLEX_ORDER_KEYS = {
    "orderId", "marketCode", "clientOrderId", "side", "orderType", "quantity",
    "remainingQuantity", "price", "stopPrice", "limitPrice", "orderCreated", "lastModified",
    "lastTradeTimestamp", "timeInForce",
}  # fmt: skip
FLEX_TRADE_KEYS = {
    "matchQuantity", "total", "fees", "side", "orderMatchType", "matchTimestamp",
    "feeInstrumentId", "orderId", "clientOrderId", "marketCode", "matchPrice", "matchId",
}  # fmt: skip
REQUIRED_MARKETS = {
    "BTC-USD-SWAP-LIN", "ETH-USD-SWAP-LIN", "FLEX-USD-SWAP-LIN", "BTC-USD", "FLEX-USD",
    "BTC-USD-REPO-LIN",
}  # fmt: skip


async def trade(
    maker: Trader, taker: Trader, price: str, quantity: str, market: str = "BTC-USD-SWAP-LIN"
) -> None:
    """One match: ``maker`` sells, ``taker`` buys."""
    (rested,) = await maker.place(order_item(market, "SELL", quantity, price=price))
    assert rested["status"] == "OPEN"
    (took,) = await taker.place(order_item(market, "BUY", quantity, price=price))
    assert took["status"] == "FILLED"


async def test_ping(public: Trader) -> None:
    reply = await public.get("/v2/ping")
    assert reply.status == 200
    assert reply.json == {"success": "true"}


async def test_markets_lists_the_default_markets_with_the_docs_keys(public: Trader) -> None:
    body = (await public.get("/v2/all/markets")).json
    assert body["event"] == "markets"
    assert isinstance(body["timestamp"], str)
    markets = {item["marketCode"]: item for item in body["data"]}
    assert set(markets) >= REQUIRED_MARKETS
    strings = MARKET_KEYS - {"listingDate", "endDate"}
    for item in markets.values():
        assert_shape(item, MARKET_KEYS | LIVE_MARKET_KEYS, strings=strings)
        assert isinstance(item["listingDate"], int)
        assert item["endDate"] == 0
        # As the live answer: null and 0 (the mark price is in the ticker).
        assert (item["markPrice"], item["markPriceLastUpdated"]) == (None, 0)
        lower, mark, upper = (
            Decimal(item[k]) for k in ("lowerPriceBound", "marketPrice", "upperPriceBound")
        )
        assert lower <= mark <= upper
        # Bounds sit on the tick grid.
        assert lower % Decimal(item["tickSize"]) == 0
        assert upper % Decimal(item["tickSize"]) == 0
    btc = markets["BTC-USD-SWAP-LIN"]
    assert (btc["base"], btc["counter"], btc["type"]) == ("BTC", "USD", "FUTURE")
    assert markets["BTC-USD"]["type"] == "SPOT"
    assert markets["BTC-USD-REPO-LIN"]["type"] == "REPO"


async def test_assets_list_coins_and_contracts(public: Trader) -> None:
    body = (await public.get("/v2/all/assets")).json
    assert body["event"] == "assets"
    assets = {item["instrumentId"]: item for item in body["data"]}
    for item in assets.values():
        assert_shape(item, ASSET_KEYS, strings={"instrumentId", "name", "type"})
    assert assets["BTC"]["base"] is None
    assert assets["BTC-USD-SWAP-LIN"]["base"] == "BTC"
    assert "flexUSD" in assets


async def test_public_trades_are_newest_first_with_taker_side(
    public: Trader, trader: Callable[..., Trader]
) -> None:
    maker, taker = trader(), trader()
    await trade(maker, taker, "50000", "0.001")
    await trade(maker, taker, "50100", "0.002")
    body = (await public.get("/v2/publictrades/BTC-USD-SWAP-LIN")).json
    assert body["event"] == "publicTrades"
    assert body["marketCode"] == "BTC-USD-SWAP-LIN"
    for item in body["data"]:
        assert_shape(item, PUBLIC_TRADE_KEYS, strings=PUBLIC_TRADE_KEYS)
    prices = [Decimal(item["matchPrice"]) for item in body["data"]]
    assert prices == [Decimal(50100), Decimal(50000)]
    assert [item["side"] for item in body["data"]] == ["BUY", "BUY"]
    assert body["data"][0]["matchId"].isdigit()
    limited = (await public.get("/v2/publictrades/BTC-USD-SWAP-LIN", limit=1)).data
    assert [Decimal(item["matchPrice"]) for item in limited] == [Decimal(50100)]


async def test_ticker_follows_the_trades(public: Trader, trader: Callable[..., Trader]) -> None:
    maker, taker = trader(), trader()
    await trade(maker, taker, "50000", "0.001")
    await trade(maker, taker, "50100", "0.002")
    await trade(maker, taker, "49900", "0.004")
    reply = await public.get("/v2/ticker")
    # A bare list, no {event, timestamp, data} envelope: the live answer (hummingbot's fixture,
    # read as a list by both connectors' production code); the docs show an envelope.
    body = reply.json
    assert isinstance(body, list)
    tickers = {item["marketCode"]: item for item in body}
    keys = TICKER_KEYS | LIVE_TICKER_KEYS
    for item in tickers.values():
        assert_shape(item, keys, strings=keys)
        assert abs(int(item["timestamp"]) - public.sim.clock() * 1000) < 60_000
        assert item["lastMarkPrice"] == item["markPrice"]
    btc = tickers["BTC-USD-SWAP-LIN"]
    assert Decimal(btc["last"]) == Decimal(49900)
    assert Decimal(btc["lastQty"]) == Decimal("0.004")
    assert Decimal(btc["open24h"]) == Decimal(50000)
    assert Decimal(btc["high24h"]) == Decimal(50100)
    assert Decimal(btc["low24h"]) == Decimal(49900)
    assert Decimal(btc["currencyVolume24h"]) == Decimal("0.007")
    assert Decimal(btc["volume24h"]) == Decimal("50") + Decimal("100.2") + Decimal("199.6")
    # The taker bought 0.007 in total from the maker: that long is the open interest.
    assert Decimal(btc["openInterest"]) == Decimal("0.007")
    assert Decimal(tickers["ETH-USD-SWAP-LIN"]["volume24h"]) == 0


async def test_depth_aggregates_levels_as_json_numbers(
    public: Trader, trader: Callable[..., Trader]
) -> None:
    alice, bob = trader(), trader()
    await alice.place(order_item(side="BUY", price="49000"), order_item(side="BUY", price="49500"))
    await bob.place(order_item(side="BUY", price="49500", quantity="0.002"))
    await bob.place(order_item(side="SELL", price="51000"), order_item(side="SELL", price="50500"))
    reply = await public.get("/v2/depth/BTC-USD-SWAP-LIN/5")
    body = reply.json
    assert body["event"] == "depthL5"
    (book,) = body["data"]
    assert set(book) == {"asks", "bids", "marketCode", "timestamp"}
    assert book["marketCode"] == "BTC-USD-SWAP-LIN"
    # Levels are [price, quantity] numbers, best first; equal prices add up. Two elements, not
    # the docs' example's [price, quantity, 0, 0]: the changelog of 2021-09-17 ("Removed last
    # two elements in depth"), and the live answer in hummingbot's fixtures
    # (test_coinflex_api_order_book_data_source.py _snapshot_response).
    assert book["bids"] == [[49500, 0.003], [49000, 0.001]]
    assert book["asks"] == [[50500, 0.001], [51000, 0.001]]
    assert re.search(r'"bids":\[\[49500\.0,0\.003\],', reply.text)
    top = (await public.get("/v2/depth/BTC-USD-SWAP-LIN/1")).data[0]
    assert len(top["bids"]) == len(top["asks"]) == 1


async def test_depth_serves_deep_books_up_to_the_whole_book(
    public: Trader, trader: Callable[..., Trader]
) -> None:
    # hummingbot's connectors asked for 1,000 levels for every book (the docs give no maximum).
    alice = trader()
    prices = [49000 - 10 * step for step in range(120)]
    for start in range(0, len(prices), 8):
        await alice.place(
            *(order_item(side="BUY", price=str(p)) for p in prices[start : start + 8])
        )
    for level, expected in ((100, 100), (101, 101), (1000, 120), (10**12, 120)):
        body = (await public.get(f"/v2/depth/BTC-USD-SWAP-LIN/{level}")).json
        assert body["event"] == f"depthL{level}"
        (book,) = body["data"]
        assert [bid[0] for bid in book["bids"]] == prices[:expected], level


async def test_unknown_market_and_route_are_404_json(public: Trader) -> None:
    for path in ("/v2/depth/NOPE-USD/5", "/v2/publictrades/NOPE", "/v2/nothing/here"):
        reply = await public.get(path)
        assert reply.status == 404, path
        assert reply.json["success"] is False
        assert isinstance(reply.json["code"], str)


async def test_bad_depth_level_is_400(public: Trader) -> None:
    for level in ("zero", "0", "-5", "1.5"):
        reply = await public.get(f"/v2/depth/BTC-USD-SWAP-LIN/{level}")
        assert reply.status == 400, level
        assert reply.json["code"] == "20001"


@pytest_asyncio.fixture
async def clocked() -> AsyncIterator[tuple[Simulator, ManualClock, aiohttp.ClientSession]]:
    clock = ManualClock(1_700_000_000.0)  # 2023-11-14T22:13:20Z
    async with (
        Simulator(rate_limits=None, clock=clock, liquidity=False) as simulator,
        aiohttp.ClientSession() as session,
    ):
        yield simulator, clock, session


async def test_candles_bucket_trades_by_timeframe(
    clocked: tuple[Simulator, ManualClock, aiohttp.ClientSession],
) -> None:
    sim, clock, session = clocked
    funded = {"USD": "1000000", "BTC": "100"}
    maker = Trader(session, sim, sim.create_account(funded))
    taker = Trader(session, sim, sim.create_account(funded))
    public = Trader(session, sim, None)
    clock.set(1_700_000_040.0)  # 40 s into the minute starting at 1_700_000_000 - 20 s
    await trade(maker, taker, "50000", "0.001")
    await trade(maker, taker, "50200", "0.002")
    clock.advance(60)
    await trade(maker, taker, "49800", "0.003")
    body = (await public.get("/v2/candles/BTC-USD-SWAP-LIN", timeframe="60s")).json
    assert body["event"] == "candles"
    assert body["timeframe"] == "60s"
    first, second = body["data"]
    for candle in (first, second):
        assert_shape(candle, CANDLE_KEYS, strings=CANDLE_KEYS)
    minute = 1_700_000_040_000 - 1_700_000_040_000 % 60_000
    assert int(first["timestamp"]) == minute
    assert int(second["timestamp"]) == minute + 60_000
    assert [Decimal(first[k]) for k in ("open", "high", "low", "close")] == [
        Decimal(50000),
        Decimal(50200),
        Decimal(50000),
        Decimal(50200),
    ]
    assert Decimal(first["currencyVolume24h"]) == Decimal("0.003")
    assert Decimal(first["volume24h"]) == Decimal("50") + Decimal("100.4")
    assert Decimal(second["open"]) == Decimal(second["close"]) == Decimal(49800)
    hourly = (await public.get("/v2/candles/BTC-USD-SWAP-LIN")).json
    assert hourly["timeframe"] == "3600s"
    (hour,) = hourly["data"]
    assert Decimal(hour["high"]) == Decimal(50200)
    assert Decimal(hour["low"]) == Decimal(49800)
    assert Decimal(hour["currencyVolume24h"]) == Decimal("0.006")
    only_last = (await public.get("/v2/candles/BTC-USD-SWAP-LIN", timeframe="60s", limit=1)).data
    assert [c["timestamp"] for c in only_last] == [second["timestamp"]]
    bad = await public.get("/v2/candles/BTC-USD-SWAP-LIN", timeframe="61s")
    assert bad.status == 400


async def test_funding_rates_and_public_funding_after_a_funding_round(
    clocked: tuple[Simulator, ManualClock, aiohttp.ClientSession],
) -> None:
    sim, _clock, session = clocked
    public = Trader(session, sim, None)
    sim.apply_funding("BTC-USD-SWAP-LIN", rate="0.0001")
    body = (await public.get("/v2/funding-rates/BTC-USD-SWAP-LIN")).json
    assert body["event"] == "fundingRates"
    (record,) = body["data"]
    assert_shape(record, FUNDING_RATE_KEYS, strings=FUNDING_RATE_KEYS)
    assert Decimal(record["fundingRate"]) == Decimal("0.0001")
    assert record["marketCode"] == "BTC-USD-SWAP-LIN"
    # The swap's repo market carries the same rate (the docs' example uses a REPO code).
    (repo,) = (await public.get("/v2/funding-rates/BTC-USD-REPO-LIN")).data
    assert Decimal(repo["fundingRate"]) == Decimal("0.0001")
    reply = await public.get("/v2/delivery/public/funding", instrumentId="BTC-USD-SWAP-LIN")
    rows = reply.json
    assert isinstance(rows, list)  # a bare list, no envelope
    (row,) = rows
    assert_shape(row, PUBLIC_FUNDING_KEYS, strings=PUBLIC_FUNDING_KEYS)
    assert row["timestamp"] == "2023-11-14 22:13:20"
    assert row["fundingRate"] == "0.000100000"
    later = await public.get("/v2/delivery/public/funding", startTime="2023-11-15 00:00:00")
    assert later.json == []


async def test_flex_protocol_endpoints(
    sim: Simulator, public: Trader, trader: Callable[..., Trader]
) -> None:
    alice = trader({"USD": "1000"})
    assert (await alice.post("/v2/mint", {"asset": "flexUSD", "quantity": "250"})).status == 200
    body = (await public.get("/v2/flex-protocol/balances/flexUSD")).json
    assert body["event"] == "flexBalances"
    assert body["flexProtocol"] == "flexUSD"
    assert body["tradeType"] == "LINEAR"
    (usd,) = body["data"]
    assert_shape(usd, FLEX_BALANCE_KEYS, strings=FLEX_BALANCE_KEYS)
    assert (usd["instrumentId"], Decimal(usd["total"])) == ("USD", Decimal(250))

    # The protocol account trades like any other; its orders, trades and positions show.
    protocol = sim.flex_protocol_account("flexUSD")
    protocol.deposit("USD", "100000")
    house = Trader(public.session, sim, protocol)
    counterparty = trader()
    await house.place(order_item(side="SELL", price="50000", quantity="0.002"))
    await counterparty.place(order_item(side="BUY", price="50000", quantity="0.001"))
    orders = (await public.get("/v2/flex-protocol/orders/flexUSD")).json
    assert orders["event"] == "flexOrders"
    (open_order,) = orders["data"]
    assert_shape(open_order, FLEX_ORDER_KEYS)
    assert isinstance(open_order["orderCreated"], str)  # strings here, numbers in /v2/orders
    assert open_order["limitPrice"] == open_order["price"]
    trades = (await public.get("/v2/flex-protocol/trades/flexUSD/BTC-USD-SWAP-LIN")).json
    assert trades["event"] == "flexTrades"
    (fill,) = trades["data"]
    assert_shape(fill, FLEX_TRADE_KEYS)
    assert fill["orderMatchType"] == "MAKER"
    positions = (await public.get("/v2/flex-protocol/positions/flexUSD")).json
    assert positions["event"] == "flexPositions"
    (position,) = positions["data"]
    assert_shape(position, FLEX_POSITION_KEYS, strings=FLEX_POSITION_KEYS)
    assert Decimal(position["quantity"]) == Decimal("-0.001")
    deliveries = (await public.get("/v2/flex-protocol/delivery/orders/flexUSD")).json
    assert deliveries["event"] == "flexDeliveryOrders"
    assert deliveries["data"] == []
    assert (await public.get("/v2/flex-protocol/balances/flexDOGE")).status == 400


async def test_public_endpoints_need_no_key(public: Trader) -> None:
    for path in ("/v2/all/markets", "/v2/ticker", "/v2/depth/BTC-USD/5", "/v2/candles/BTC-USD"):
        reply = await public.get(path)
        assert reply.status == 200, (path, reply.text)
        json.loads(reply.text)
