"""client.public: each method against the docs' example response, over a real loopback socket.

Checked: the request as it arrives (verb, path, exact query string, unsigned even though the
client has credentials) and the decoded values and types, copied by hand from the docs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from urllib.parse import parse_qs

import pytest

import coinflex_async as cf
from tests.loopback import RecordingServer
from tests.models import docs_examples as docs
from tests.resources._support import assert_struct, assert_unsigned_get, only_request

KEY = "public-test-key"
SECRET = "public-test-secret"


@pytest.fixture
async def public(
    recorder: tuple[RecordingServer, str],
) -> AsyncIterator[tuple[RecordingServer, cf.Client]]:
    server, url = recorder
    async with cf.Client(KEY, SECRET, base_url=url, rate_limits=None, retry=None) as client:
        yield server, client


async def test_ping(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/ping", (200, docs.PING, {}))
    assert await client.public.ping() is True
    assert_unsigned_get(only_request(server), "/v2/ping")


async def test_ping_reports_a_service_that_is_not_ok(
    public: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = public
    server.reply("GET", "/v2/ping", (200, b'{"success": "false"}', {}))
    assert await client.public.ping() is False


async def test_markets(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/all/markets", (200, docs.MARKETS, {}))
    (market,) = await client.public.markets()
    assert_unsigned_get(only_request(server), "/v2/all/markets")
    assert type(market) is cf.Market
    assert_struct(
        market,
        market_id="2001000000000",
        market_code="BTC-USD",
        name="BTC/USD",
        reference_pair="BTC/USD",
        base="BTC",
        counter="USD",
        type="SPOT",
        tick_size=Decimal("0.1"),
        qty_increment=Decimal("0.001"),
        listing_date=2208988800000,
        end_date=0,
        margin_currency="USD",
        contract_val_currency="BTC",
        upper_price_bound=Decimal("11000.00"),
        lower_price_bound=Decimal("9000.00"),
        market_price=Decimal("10000.00"),
        market_price_last_updated=1620810131131,
    )


async def test_assets(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/all/assets", (200, docs.ASSETS, {}))
    future, coin = await client.public.assets()
    assert_unsigned_get(only_request(server), "/v2/all/assets")
    assert_struct(
        future,
        instrument_id="BTC-USD-200626-LIN",
        name="BTC/USD 20-06-26 Future (Linear)",
        base="BTC",
        counter="USD",
        type="FUTURE",
        margin_currency="USD",
        contract_val_currency="BTC",
        delivery_date=None,
        delivery_instrument=None,
    )
    assert_struct(
        coin,
        instrument_id="BTC",
        name="Bitcoin",
        base=None,
        counter=None,
        type="SPOT",
        margin_currency=None,
        contract_val_currency=None,
        delivery_date=None,
        delivery_instrument=None,
    )


async def test_trades(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/publictrades/BTC-USD-SWAP-LIN", (200, docs.PUBLIC_TRADES, {}))
    (trade,) = await client.public.trades(
        "BTC-USD-SWAP-LIN", limit=100, start_time=1595585860000, end_time=1595636619410
    )
    assert_unsigned_get(
        only_request(server),
        "/v2/publictrades/BTC-USD-SWAP-LIN",
        "limit=100&startTime=1595585860000&endTime=1595636619410",
    )
    assert type(trade) is cf.PublicTrade
    assert_struct(
        trade,
        match_id="160070803925856675",
        match_quantity=Decimal("0.100000000"),
        match_price=Decimal("9600.000000000"),
        side="BUY",
        match_timestamp=1595585860254,
    )


async def test_trades_without_options_sends_no_query(
    public: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = public
    server.reply("GET", "/v2/publictrades/ETH-USD", (200, docs.PUBLIC_TRADES, {}))
    await client.public.trades("ETH-USD")
    assert_unsigned_get(only_request(server), "/v2/publictrades/ETH-USD")


async def test_ticker(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/ticker", (200, docs.TICKER, {}))
    (ticker,) = await client.public.ticker()
    assert_unsigned_get(only_request(server), "/v2/ticker")
    assert type(ticker) is cf.Ticker
    assert_struct(
        ticker,
        market_code="BTC-USD-SWAP-LIN",
        last=Decimal("43.259"),
        mark_price=Decimal("11012.80409769"),
        open24h=Decimal("49.375"),
        volume24h=Decimal("11295421"),
        currency_volume24h=Decimal("1025.7"),
        high24h=Decimal("49.488"),
        low24h=Decimal("41.649"),
        open_interest=Decimal("1726003"),
        last_qty=Decimal("1"),
    )


async def test_delivery_funding(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/delivery/public/funding", (200, docs.DELIVERY_FUNDING, {}))
    comp, crv = await client.public.delivery_funding()
    assert_unsigned_get(only_request(server), "/v2/delivery/public/funding")
    assert type(comp) is cf.DeliveryFunding
    assert_struct(
        comp,
        timestamp="2020-12-08 04:00:00",
        instrument_id="COMP-USD-SWAP-LIN",
        funding_rate=Decimal("0.000000000"),
    )
    assert_struct(
        crv,
        timestamp="2020-12-08 04:00:00",
        instrument_id="CRV-USD-SWAP-LIN",
        funding_rate=Decimal("0.000000000"),
    )


async def test_delivery_funding_sends_limit_as_column_and_start_time_as_a_utc_date_time(
    public: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = public
    server.reply("GET", "/v2/delivery/public/funding", (200, docs.DELIVERY_FUNDING, {}))
    # 1607457600000 ms is 2020-12-08 20:00:00 UTC, the docs' own startTime example.
    await client.public.delivery_funding(
        instrument_id="UNI-USD-SWAP-LIN", limit=3, start_time=1607457600000
    )
    request = only_request(server)
    assert_unsigned_get(
        request,
        "/v2/delivery/public/funding",
        "instrumentId=UNI-USD-SWAP-LIN&column=3&startTime=2020-12-08%2020%3A00%3A00",
    )
    assert parse_qs(request.query) == {
        "instrumentId": ["UNI-USD-SWAP-LIN"],
        "column": ["3"],
        "startTime": ["2020-12-08 20:00:00"],
    }


async def test_candles(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/candles/BTC-USD-SWAP-LIN", (200, docs.CANDLES, {}))
    first, second = await client.public.candles(
        "BTC-USD-SWAP-LIN",
        timeframe="60s",
        limit=2,
        start_time=1616713140000,
        end_time=1616713200000,
    )
    assert_unsigned_get(
        only_request(server),
        "/v2/candles/BTC-USD-SWAP-LIN",
        "timeframe=60s&limit=2&startTime=1616713140000&endTime=1616713200000",
    )
    assert type(first) is cf.Candle
    assert_struct(
        first,
        timestamp=1616713140000,
        open=Decimal("51706.50000000"),
        high=Decimal("51758.50000000"),
        low=Decimal("51705.50000000"),
        close=Decimal("51754.00000000"),
        volume24h=Decimal("0"),
        currency_volume24h=Decimal("0"),
    )
    assert_struct(
        second,
        timestamp=1616713200000,
        open=Decimal("51755.50000000"),
        high=Decimal("51833.00000000"),
        low=Decimal("51748.00000000"),
        close=Decimal("51815.00000000"),
        volume24h=Decimal("0"),
        currency_volume24h=Decimal("0"),
    )


async def test_candles_default_to_the_documented_3600s_timeframe(
    public: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = public
    server.reply("GET", "/v2/candles/ETH-USD-SWAP-LIN", (200, docs.CANDLES, {}))
    await client.public.candles("ETH-USD-SWAP-LIN")
    assert_unsigned_get(only_request(server), "/v2/candles/ETH-USD-SWAP-LIN", "timeframe=3600s")


@pytest.mark.parametrize(
    "timeframe", ["60s", "300s", "900s", "1800s", "3600s", "7200s", "14400s", "86400s"]
)
async def test_candles_accept_every_documented_timeframe(
    public: tuple[RecordingServer, cf.Client], timeframe: str
) -> None:
    server, client = public
    server.reply("GET", "/v2/candles/BTC-USD", (200, docs.CANDLES, {}))
    await client.public.candles("BTC-USD", timeframe=timeframe)
    assert only_request(server).query == f"timeframe={timeframe}"


async def test_funding_rates(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/funding-rates/BTC-USD-REPO-LIN", (200, docs.FUNDING_RATES, {}))
    (rate,) = await client.public.funding_rates(
        "BTC-USD-REPO-LIN", limit=50, start_time=1606000000000, end_time=1606461774458
    )
    assert_unsigned_get(
        only_request(server),
        "/v2/funding-rates/BTC-USD-REPO-LIN",
        "limit=50&startTime=1606000000000&endTime=1606461774458",
    )
    assert type(rate) is cf.FundingRate
    assert_struct(
        rate,
        funding_rate=Decimal("0.00008"),
        index=Decimal("2.78222423"),
        mark_price=Decimal("33937.2848"),
        market_code="BTC-USD-REPO-LIN",
        timestamp=1606461774458,
    )


async def test_depth(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/depth/BTC-USD-SWAP-LIN/5", (200, docs.DEPTH, {}))
    book = await client.public.depth("BTC-USD-SWAP-LIN", level=5)
    assert_unsigned_get(only_request(server), "/v2/depth/BTC-USD-SWAP-LIN/5")
    assert type(book) is cf.OrderBook
    assert book.market_code == "BTC-USD-SWAP-LIN"
    assert book.timestamp == 1615457834388
    assert type(book.timestamp) is int
    asks = [("54792", "0.001"), ("54802.5", "0.366"), ("54803", "0.75"), ("54806", "1.5")]
    asks.append(("54830.5", "0.687"))
    bids = [("54786.5", "0.1"), ("54754.5", "0.375"), ("54752", "0.394"), ("54749.5", "0.001")]
    bids.append(("54745.5", "0.339"))
    for side, expected in ((book.asks, asks), (book.bids, bids)):
        assert len(side) == len(expected)
        for level, (price, quantity) in zip(side, expected, strict=True):
            assert type(level) is cf.Level
            # JSON numbers, decoded exactly: 0.001 must not become 0.001000000000000000020816...
            assert_struct(level, price=Decimal(price), quantity=Decimal(quantity))


async def test_depth_defaults_to_five_levels(public: tuple[RecordingServer, cf.Client]) -> None:
    server, client = public
    server.reply("GET", "/v2/depth/ETH-USD/5", (200, docs.DEPTH, {}))
    await client.public.depth("ETH-USD")
    assert_unsigned_get(only_request(server), "/v2/depth/ETH-USD/5")


async def test_depth_without_a_book_raises_decode_error(
    public: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = public
    server.reply("GET", "/v2/depth/BTC-USD/5", (200, b'{"event": "depthL5", "data": []}', {}))
    with pytest.raises(cf.DecodeError) as caught:
        await client.public.depth("BTC-USD")
    assert type(caught.value) is cf.DecodeError
    assert caught.value.endpoint.startswith("GET /v2/depth/")


async def test_public_methods_need_no_credentials(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", (200, docs.TICKER, {}))
    async with cf.Client(base_url=url, rate_limits=None) as client:
        (ticker,) = await client.public.ticker()
    assert ticker.last == Decimal("43.259")
    assert_unsigned_get(only_request(server), "/v2/ticker")
