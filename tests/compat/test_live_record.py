"""The live exchange's shapes (tests/compat/live_record.py), decoded by the client and compared
with the simulator's answers.

Each test: the client, over real sockets, decodes the live body served by a loopback server;
the simulator, asked with plain aiohttp, answers in the same shape (where it follows the live
exchange); and the client decodes the simulator's answer too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

import coinflex_async as cf
from coinflex_async.sim import Simulator
from tests.compat.live_record import CASES, case
from tests.loopback import RecordingServer
from tests.sim._helpers import Trader
from tests.ws_loopback import WsExchange

KEY, SECRET = "live-key", "live-secret"
SWAP = "BTC-USD-SWAP-LIN"
FAST = cf.RetryPolicy(attempts=1, backoff=0.01, max_backoff=0.05, lookup_interval=0.05)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(rate_limits=None) as simulator:
        yield simulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def live(
    recorder: tuple[RecordingServer, str],
) -> AsyncIterator[tuple[RecordingServer, cf.Client]]:
    """A loopback server to serve live bodies, and a client talking to it."""
    server, url = recorder
    async with cf.Client(KEY, SECRET, base_url=url, retry=FAST, rate_limits=None) as client:
        yield server, client


def serve(server: RecordingServer, method: str, path: str, body: Any) -> None:
    server.reply(method, path, (200, json.dumps(body), {}))


def test_every_case_names_its_source_and_evidence() -> None:
    for live_case in CASES:
        assert live_case.row[0] in "RW" and live_case.row[1:].isdigit()
        assert live_case.source and live_case.evidence.split(":")[0] in {
            "strong", "medium", "medium-strong", "strong for the field set", "weak",
        }  # fmt: skip


# -- R01: GET /v2/ticker, a bare list --------------------------------------------------------


async def test_ticker_bare_list_decodes_with_the_live_fields(
    live: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = live
    serve(server, "GET", "/v2/ticker", case("R01").body)
    (ticker,) = await client.public.ticker()
    assert (ticker.market_code, ticker.last, ticker.mark_price) == (
        "BTC-USD",
        Decimal("37645"),
        Decimal("37645"),
    )
    assert (ticker.timestamp, ticker.last_mark_price) == (1645546950025, Decimal("37628"))
    # The docs' envelope still decodes, without the live fields.
    docs_item = {
        k: v for k, v in case("R01").body[0].items() if k not in {"timestamp", "lastMarkPrice"}
    }
    serve(server, "GET", "/v2/ticker", {"event": "ticker", "timestamp": "1", "data": [docs_item]})
    (enveloped,) = await client.public.ticker()
    assert (enveloped.last, enveloped.timestamp, enveloped.last_mark_price) == (
        Decimal("37645"),
        None,
        None,
    )


async def test_simulator_ticker_is_the_live_shape(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    body = (await Trader(session, sim, None).get("/v2/ticker")).json
    assert isinstance(body, list) and body
    live_keys = list(case("R01").body[0])
    for item in body:
        assert list(item) == live_keys  # the same keys in the same order
        assert all(isinstance(value, str) for value in item.values())
    async with cf.Client(base_url=sim.url, rate_limits=None) as client:
        tickers = await client.public.ticker()
    assert {t.market_code for t in tickers} == {item["marketCode"] for item in body}
    assert all(t.timestamp is not None and t.last_mark_price is not None for t in tickers)


# -- R02: GET /v2/all/markets, markPrice and markPriceLastUpdated ------------------------------


async def test_markets_with_mark_price_fields_decode(
    live: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = live
    serve(server, "GET", "/v2/all/markets", case("R02").body)
    (market,) = await client.public.markets()
    assert (market.mark_price, market.mark_price_last_updated) == (None, 0)
    assert market.market_price_last_updated == 1645547473153  # a number live, a string in the docs


async def test_simulator_markets_carry_the_live_keys(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    body = (await Trader(session, sim, None).get("/v2/all/markets")).json
    live_keys = set(case("R02").body["data"][0])
    for item in body["data"]:
        assert set(item) == live_keys
        assert (item["markPrice"], item["markPriceLastUpdated"]) == (None, 0)
    async with cf.Client(base_url=sim.url, rate_limits=None) as client:
        markets = await client.public.markets()
    assert all((m.mark_price, m.mark_price_last_updated) == (None, 0) for m in markets)


# -- R05/R06: GET /v2/depth/{m}/1000, two-element levels ----------------------------------------


async def test_depth_of_1000_levels_is_sent_and_two_element_levels_decode(
    live: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = live
    serve(server, "GET", "/v2/depth/BTC-USD/1000", case("R05").body)
    book = await client.public.depth("BTC-USD", level=1000)
    assert [request.path for request in server.requests] == ["/v2/depth/BTC-USD/1000"]
    assert (book.bids[0].price, book.bids[0].quantity) == (
        Decimal("4.00000000"),
        Decimal("431.00000000"),
    )
    assert book.asks[0].price == Decimal("4.00000200")
    assert book.timestamp == 1027024
    for bad in (0, -1000):
        with pytest.raises(cf.ValidationError):
            await client.public.depth("BTC-USD", level=bad)
    assert len(server.requests) == 1  # nothing sent for them


async def test_simulator_serves_1000_levels_as_two_element_levels(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    sim.add_liquidity([SWAP], levels=150)
    body = (await Trader(session, sim, None).get(f"/v2/depth/{SWAP}/1000")).json
    assert body["event"] == case("R05").body["event"]
    (item,) = body["data"]
    assert set(item) == set(case("R05").body["data"][0])
    assert len(item["bids"]) == len(item["asks"]) == 150  # the whole book
    assert {len(level) for level in item["bids"] + item["asks"]} == {2}
    async with cf.Client(base_url=sim.url, rate_limits=None) as client:
        book = await client.public.depth(SWAP, level=1000)
    assert [level.price for level in book.bids] == [Decimal(str(b[0])) for b in item["bids"]]
    assert book.bids[0].price > book.bids[-1].price


# -- R14: GET /v2.1/orders with numeric ids ----------------------------------------------------


async def test_order_history_with_numeric_ids_keeps_them_exact(
    live: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = live
    serve(server, "GET", "/v2.1/orders", case("R14").body)
    (order,) = await client.private.orders()
    # 1000000000000000001 is not a float's: exact only if never a float.
    assert (order.order_id, order.client_order_id) == ("1000000000000000001", "1645546950025")
    assert order.match_ids is not None
    assert list(order.match_ids[0]) == ["448528458527567629"]


# -- R25: the cancel of an order that is not open ----------------------------------------------


async def test_cancel_not_found_raises_with_the_live_text_from_both(
    live: tuple[RecordingServer, cf.Client], sim: Simulator, session: aiohttp.ClientSession
) -> None:
    message = case("R25").body["data"][0]["message"]
    server, client = live
    serve(server, "DELETE", "/v2/orders/cancel", case("R25").body)
    with pytest.raises(cf.OrderRejectedError) as from_live:
        await client.private.cancel_order(market_code=SWAP, order_id="123")
    assert (from_live.value.code, from_live.value.message) == (None, message)

    account = sim.create_account(balances={"USD": "1000"})
    (answer,) = await Trader(session, sim, account).cancel({"marketCode": SWAP, "orderId": "123"})
    assert (answer["success"], answer["code"], answer["message"]) == ("false", "40035", message)
    async with cf.Client(
        account.api_key, account.api_secret, base_url=sim.url, rate_limits=None
    ) as c:
        with pytest.raises(cf.OrderRejectedError) as from_sim:
            await c.private.cancel_order(market_code=SWAP, order_id="123")
    assert (from_sim.value.code, from_sim.value.message) == ("40035", message)


# -- W04, W06: WebSocket updates with numeric ids ----------------------------------------------


@pytest.fixture
async def exchange(aiohttp_server: Any) -> WsExchange:
    ex = WsExchange(KEY, SECRET)
    server = await aiohttp_server(ex.app)
    ex.url = f"http://127.0.0.1:{server.port}"  # type: ignore[attr-defined]
    return ex


def ws_client(ex: WsExchange) -> cf.Client:
    return cf.Client(KEY, SECRET, base_url=ex.url, retry=FAST, rate_limits=None, timeout=2.0)  # type: ignore[attr-defined]


async def test_ws_trade_with_a_numeric_trade_id_is_yielded_not_dropped(
    exchange: WsExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with ws_client(exchange) as client, client.stream() as ws:
        feed = await ws.subscribe("trade:BTC-USD")
        await exchange.push_raw("trade:BTC-USD", json.dumps(case("W04").body))
        trade = await asyncio.wait_for(feed.__anext__(), 2)
    assert isinstance(trade, cf.TradeEvent)
    assert (trade.trade_id, trade.timestamp) == ("1000000000000000001", 1645546950025)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_ws_order_update_with_numeric_ids_is_yielded_not_dropped(
    exchange: WsExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with ws_client(exchange) as client, client.stream() as ws:
        feed = await ws.subscribe("order:all")
        await exchange.push_raw("order:all", json.dumps(case("W06").body))
        update = await asyncio.wait_for(anext_event(feed), 2)
    assert isinstance(update, cf.OrderEvent)
    assert (update.account_id, update.client_order_id, update.order_id, update.match_id) == (
        "3001",
        "1645546950025",
        "1000000000000000001",
        "448528458527567629",
    )
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def anext_event(feed: Any) -> Any:
    """The next item that is not a resync notice (a private channel may start with one)."""
    while True:
        item = await feed.__anext__()
        if not isinstance(item, cf.Resynced):
            return item
