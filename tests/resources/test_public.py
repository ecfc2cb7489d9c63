"""client.public: each method against the docs' example response, over a real loopback socket.

Checked: the request as it arrives (verb, path, exact query string, unsigned even though the
client has credentials) and the decoded values and types of the one table of the docs'
examples and their expected values, tests/models/expected.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest

import coinflex_async as cf
from coinflex_async._endpoints import ENDPOINTS
from tests.loopback import RecordingServer
from tests.models import docs_examples as docs
from tests.models.expected import EXAMPLES, assert_decoded
from tests.resources._support import assert_unsigned_get, only_request

KEY = "public-test-key"
SECRET = "public-test-secret"


@pytest.fixture
async def public(
    recorder: tuple[RecordingServer, str],
) -> AsyncIterator[tuple[RecordingServer, cf.Client]]:
    server, url = recorder
    async with cf.Client(KEY, SECRET, base_url=url, rate_limits=None, retry=None) as client:
        yield server, client


def same(value: Any) -> Any:
    return value


# Each declared public endpoint: the call, the path and exact query it sends, the docs example
# answering it (tests/models/expected.py) and what the method returns of that example.
WIRE: list[tuple[str, Callable[[cf.Client], Awaitable[Any]], str, str, str, Any]] = [
    ("public.ping", lambda c: c.public.ping(), "/v2/ping", "", "PING", lambda p: p.success),
    ("public.markets", lambda c: c.public.markets(), "/v2/all/markets", "", "MARKETS", same),
    ("public.assets", lambda c: c.public.assets(), "/v2/all/assets", "", "ASSETS", same),
    (
        "public.trades",
        lambda c: c.public.trades(
            "BTC-USD-SWAP-LIN", limit=100, start_time=1595585860000, end_time=1595636619410
        ),
        "/v2/publictrades/BTC-USD-SWAP-LIN",
        "limit=100&startTime=1595585860000&endTime=1595636619410",
        "PUBLIC_TRADES",
        same,
    ),
    ("public.ticker", lambda c: c.public.ticker(), "/v2/ticker", "", "TICKER", same),
    (
        "public.delivery_funding",
        lambda c: c.public.delivery_funding(),
        "/v2/delivery/public/funding",
        "",
        "DELIVERY_FUNDING",
        same,
    ),
    (
        "public.candles",
        lambda c: c.public.candles(
            "BTC-USD-SWAP-LIN",
            timeframe="60s",
            limit=2,
            start_time=1616713140000,
            end_time=1616713200000,
        ),
        "/v2/candles/BTC-USD-SWAP-LIN",
        "timeframe=60s&limit=2&startTime=1616713140000&endTime=1616713200000",
        "CANDLES",
        same,
    ),
    (
        "public.funding_rates",
        lambda c: c.public.funding_rates(
            "BTC-USD-REPO-LIN", limit=50, start_time=1606000000000, end_time=1606461774458
        ),
        "/v2/funding-rates/BTC-USD-REPO-LIN",
        "limit=50&startTime=1606000000000&endTime=1606461774458",
        "FUNDING_RATES",
        same,
    ),
    (
        "public.depth",
        lambda c: c.public.depth("BTC-USD-SWAP-LIN", level=5),
        "/v2/depth/BTC-USD-SWAP-LIN/5",
        "",
        "DEPTH",
        lambda books: books[0],
    ),
]


def test_every_declared_public_endpoint_is_in_the_table() -> None:
    assert {row[0] for row in WIRE} == {e.name for e in ENDPOINTS if e.group == "public"}


@pytest.mark.parametrize(("name", "call", "path", "query", "example", "pick"), WIRE)
async def test_each_method_sends_its_request_and_decodes_the_docs_example(
    public: tuple[RecordingServer, cf.Client],
    name: str,
    call: Callable[[cf.Client], Awaitable[Any]],
    path: str,
    query: str,
    example: str,
    pick: Callable[[Any], Any],
) -> None:
    server, client = public
    server.reply("GET", path, (200, EXAMPLES[example].body, {}))
    result = await call(client)
    assert_unsigned_get(only_request(server), path, query)  # unsigned, though it has a key
    assert_decoded(result, pick(EXAMPLES[example].expected()))


async def test_ping_reports_a_service_that_is_not_ok(
    public: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = public
    server.reply("GET", "/v2/ping", (200, b'{"success": "false"}', {}))
    assert await client.public.ping() is False


async def test_trades_without_options_sends_no_query(
    public: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = public
    server.reply("GET", "/v2/publictrades/ETH-USD", (200, docs.PUBLIC_TRADES, {}))
    await client.public.trades("ETH-USD")
    assert_unsigned_get(only_request(server), "/v2/publictrades/ETH-USD")


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
