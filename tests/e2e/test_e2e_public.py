"""client.public against the simulator: static market data, and market data that follows from
fills between two accounts (trades, ticker, depth, candles) and from funding rounds."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import Decimal

import coinflex_async as cf
from coinflex_async.resources import Public
from coinflex_async.sim import Simulator

from ._coverage import covers
from ._support import Party

SWAP = "BTC-USD-SWAP-LIN"


async def limit(
    who: Party, side: str, quantity: str, price: str, market: str = SWAP
) -> cf.OrderResult:
    return await who.private.place_order(
        market_code=market, side=side, quantity=quantity, order_type="LIMIT", price=price
    )


@covers("public.ping")
async def test_ping_through_the_plugin_fixture(coinflex_sim: Simulator) -> None:
    # The plugin's simulator (published rate limits on) answers a client with its limits on too.
    async with cf.Client(base_url=coinflex_sim.url) as client:
        assert await client.public.ping() is True
    assert coinflex_sim.stats.by_route["GET /v2/ping"] == 1


@covers("public.markets")
async def test_markets_list_every_market_with_increments_and_sanity_bounds(
    sim: Simulator, public: Public
) -> None:
    markets = {market.market_code: market for market in await public.markets()}
    assert set(markets) == {
        "BTC-USD",
        "ETH-USD",
        "FLEX-USD",
        "BTC-USD-SWAP-LIN",
        "ETH-USD-SWAP-LIN",
        "FLEX-USD-SWAP-LIN",
        "BTC-USD-REPO-LIN",
        "ETH-USD-REPO-LIN",
    }
    swap = markets[SWAP]
    assert (swap.type, swap.base, swap.counter) == ("FUTURE", "BTC", "USD")
    assert swap.tick_size == Decimal("0.5")
    assert swap.qty_increment == Decimal("0.001")
    assert swap.market_price == Decimal(50000)
    # +-10% of the mark price.
    assert (swap.lower_price_bound, swap.upper_price_bound) == (Decimal(45000), Decimal(55000))
    assert isinstance(swap.listing_date, int) and isinstance(swap.market_price_last_updated, int)
    assert markets["BTC-USD"].type == "SPOT"
    assert markets["BTC-USD-REPO-LIN"].type == "REPO"

    # The bounds follow the mark price.
    sim.set_mark_price(SWAP, "60000")
    moved = {market.market_code: market for market in await public.markets()}[SWAP]
    assert moved.market_price == Decimal(60000)
    assert (moved.lower_price_bound, moved.upper_price_bound) == (Decimal(54000), Decimal(66000))


@covers("public.assets")
async def test_assets_list_coins_and_contracts(public: Public) -> None:
    assets = {asset.instrument_id: asset for asset in await public.assets()}
    assert {"USD", "BTC", "ETH", "FLEX", "flexUSD", "flexBTC"} <= set(assets)
    coin = assets["BTC"]
    assert (coin.type, coin.base, coin.counter, coin.margin_currency) == ("SPOT", None, None, None)
    contract = assets[SWAP]
    assert (contract.type, contract.base, contract.counter) == ("FUTURE", "BTC", "USD")
    assert contract.contract_val_currency == "BTC"


@covers("public.trades", "public.ticker", "public.depth", "public.candles")
async def test_market_data_follows_the_fills(alice: Party, bob: Party, public: Public) -> None:
    # Nothing traded yet: an empty tape, a zero ticker, no candles.
    assert await public.trades(SWAP) == []
    quiet = {ticker.market_code: ticker for ticker in await public.ticker()}[SWAP]
    assert (quiet.last, quiet.volume24h, quiet.open_interest) == (0, 0, 0)
    assert quiet.mark_price == Decimal(50000)
    assert await public.candles(SWAP, timeframe="60s") == []

    await limit(alice, "BUY", "0.250", "49900")
    await limit(alice, "BUY", "0.100", "49800")
    await limit(bob, "SELL", "0.300", "50200")
    book = await public.depth(SWAP, level=5)
    assert book.market_code == SWAP
    assert [(level.price, level.quantity) for level in book.bids] == [
        (Decimal(49900), Decimal("0.25")),
        (Decimal(49800), Decimal("0.1")),
    ]
    assert [(level.price, level.quantity) for level in book.asks] == [
        (Decimal(50200), Decimal("0.3"))
    ]
    assert len((await public.depth(SWAP, level=1)).bids) == 1

    # Bob sells through both bids: 0.25 at 49900, then 0.05 at 49800.
    before = int(time.time() * 1000) - 1
    await limit(bob, "SELL", "0.300", "49800")
    tape = await public.trades(SWAP)
    assert [(t.match_price, t.match_quantity, t.side) for t in tape] == [
        (Decimal(49800), Decimal("0.05"), "SELL"),  # newest first
        (Decimal(49900), Decimal("0.25"), "SELL"),
    ]
    assert all(isinstance(t.match_id, str) and t.match_timestamp >= before for t in tape)
    assert len(await public.trades(SWAP, limit=1)) == 1
    assert await public.trades(SWAP, start_time=before - 60_000, end_time=before) == []

    ticker = {ticker.market_code: ticker for ticker in await public.ticker()}[SWAP]
    assert ticker.last == Decimal(49800) and ticker.last_qty == Decimal("0.05")
    assert ticker.mark_price == Decimal(49800)  # the simulator's mark follows the last trade
    assert (ticker.open24h, ticker.high24h, ticker.low24h) == (49900, 49900, 49800)
    assert ticker.volume24h == Decimal("0.25") * 49900 + Decimal("0.05") * 49800
    assert ticker.currency_volume24h == Decimal("0.3")
    assert ticker.open_interest == Decimal("0.3")

    book = await public.depth(SWAP, level=5)
    assert [(level.price, level.quantity) for level in book.bids] == [
        (Decimal(49800), Decimal("0.05"))
    ]

    for timeframe in ("60s", "3600s", "86400s"):
        (candle,) = await public.candles(SWAP, timeframe=timeframe)
        step = int(timeframe[:-1]) * 1000
        assert candle.timestamp % step == 0
        assert (candle.open, candle.high, candle.low, candle.close) == (49900, 49900, 49800, 49800)
        assert candle.volume24h == ticker.volume24h
        assert candle.currency_volume24h == Decimal("0.3")
    # Candles are chosen by their start time.
    (minute,) = await public.candles(SWAP, timeframe="60s", limit=1)
    earlier = await public.candles(
        SWAP, timeframe="60s", start_time=minute.timestamp - 600_000, end_time=minute.timestamp - 1
    )
    assert earlier == []
    chosen = await public.candles(
        SWAP, timeframe="60s", start_time=minute.timestamp, end_time=minute.timestamp
    )
    assert chosen == [minute]


@covers("public.funding_rates", "public.delivery_funding")
async def test_funding_rates_after_a_funding_round(
    sim: Simulator, alice: Party, bob: Party, public: Public
) -> None:
    assert await public.funding_rates(SWAP) == []
    assert await public.delivery_funding() == []

    await limit(alice, "BUY", "0.1", "50000")
    await limit(bob, "SELL", "0.1", "50000")
    before = int(time.time() * 1000) - 1000
    sim.apply_funding(SWAP, rate="0.0001")
    sim.apply_funding("ETH-USD-SWAP-LIN", rate="-0.00002")

    (rate,) = await public.funding_rates(SWAP)
    assert rate.market_code == SWAP
    assert rate.funding_rate == Decimal("0.0001")
    assert rate.mark_price == Decimal(50000)
    assert rate.timestamp >= before
    # A swap's REPO market carries the same rate.
    (repo_rate,) = await public.funding_rates("BTC-USD-REPO-LIN")
    assert repo_rate.funding_rate == Decimal("0.0001")

    funding = await public.delivery_funding()
    assert {(f.instrument_id, f.funding_rate) for f in funding} == {
        (SWAP, Decimal("0.0001")),
        ("ETH-USD-SWAP-LIN", Decimal("-0.00002")),
    }
    (only_btc,) = await public.delivery_funding(instrument_id=SWAP)
    # This endpoint's times are "YYYY-MM-DD hh:mm:ss" (UTC) strings.
    stamped = datetime.strptime(only_btc.timestamp, "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=timezone.utc
    )
    assert abs(stamped.timestamp() * 1000 - rate.timestamp) < 1000
    assert len(await public.delivery_funding(limit=1)) == 1
    # start_time goes out as a date-time string the simulator must read back.
    assert await public.delivery_funding(start_time=rate.timestamp + 60_000) == []
    assert len(await public.delivery_funding(start_time=before - 60_000)) == 2
