"""client.flex_protocol: each method against the docs' example response, over a real socket.

Checked: the request as it arrives (verb, path, exact query string, unsigned even though the
client has credentials) and the decoded values and types of the one table of the docs'
examples and their expected values, tests/models/expected.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async._endpoints import ENDPOINTS
from tests.loopback import RecordingServer
from tests.models import docs_examples as docs
from tests.models.expected import EXAMPLES, assert_decoded
from tests.resources._support import assert_unsigned_get, only_request

KEY = "flex-test-key"
SECRET = "flex-test-secret"
PROTOCOLS = ["flexUSD", "flexBTC", "flexETH", "flexFLEX"]


@pytest.fixture
async def flex(
    recorder: tuple[RecordingServer, str],
) -> AsyncIterator[tuple[RecordingServer, cf.Client]]:
    server, url = recorder
    async with cf.Client(KEY, SECRET, base_url=url, rate_limits=None, retry=None) as client:
        yield server, client


def same(value: Any) -> Any:
    return value


# Each declared flex-protocol endpoint: the call, the path and exact query it sends and the docs
# example answering it (tests/models/expected.py).
WIRE: list[tuple[str, Callable[[cf.Client], Awaitable[Any]], str, str, str]] = [
    *[
        (
            "flex_protocol.balances",
            lambda c, p=protocol: c.flex_protocol.balances(p),
            f"/v2/flex-protocol/balances/{protocol}",
            "",
            "FLEX_BALANCES",
        )
        for protocol in PROTOCOLS
    ],
    (
        "flex_protocol.positions",
        lambda c: c.flex_protocol.positions("flexUSD"),
        "/v2/flex-protocol/positions/flexUSD",
        "",
        "FLEX_POSITIONS",
    ),
    (
        "flex_protocol.orders",
        lambda c: c.flex_protocol.orders("flexUSD"),
        "/v2/flex-protocol/orders/flexUSD",
        "",
        "FLEX_ORDERS",
    ),
    (
        "flex_protocol.trades",
        lambda c: c.flex_protocol.trades(
            "flexBTC", "BTC-USD-SWAP-LIN", limit=3, start_time=1621483000000, end_time=1621483974496
        ),
        "/v2/flex-protocol/trades/flexBTC/BTC-USD-SWAP-LIN",
        "limit=3&startTime=1621483000000&endTime=1621483974496",
        "FLEX_TRADES",
    ),
    (
        "flex_protocol.delivery_orders",
        lambda c: c.flex_protocol.delivery_orders(
            "flexBTC", limit=3, start_time=1621411376000, end_time=1621411380000
        ),
        "/v2/flex-protocol/delivery/orders/flexBTC",
        "limit=3&startTime=1621411376000&endTime=1621411380000",
        "FLEX_DELIVERY_ORDERS",
    ),
]


def test_every_declared_flex_endpoint_is_in_the_table() -> None:
    assert {row[0] for row in WIRE} == {e.name for e in ENDPOINTS if e.group == "flex_protocol"}


@pytest.mark.parametrize(("name", "call", "path", "query", "example"), WIRE)
async def test_each_method_sends_its_request_and_decodes_the_docs_example(
    flex: tuple[RecordingServer, cf.Client],
    name: str,
    call: Callable[[cf.Client], Awaitable[Any]],
    path: str,
    query: str,
    example: str,
) -> None:
    server, client = flex
    server.reply("GET", path, (200, EXAMPLES[example].body, {}))
    result = await call(client)
    assert_unsigned_get(only_request(server), path, query)
    assert_decoded(result, EXAMPLES[example].expected())


async def test_trades_without_options_sends_no_query(
    flex: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = flex
    path = "/v2/flex-protocol/trades/flexETH/ETH-USD-SWAP-LIN"
    server.reply("GET", path, (200, docs.FLEX_TRADES, {}))
    await client.flex_protocol.trades("flexETH", "ETH-USD-SWAP-LIN")
    assert_unsigned_get(only_request(server), path)


async def test_delivery_orders_without_options_sends_no_query(
    flex: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = flex
    path = "/v2/flex-protocol/delivery/orders/flexFLEX"
    server.reply("GET", path, (200, docs.FLEX_DELIVERY_ORDERS, {}))
    await client.flex_protocol.delivery_orders("flexFLEX")
    assert_unsigned_get(only_request(server), path)


async def test_flex_methods_need_no_credentials(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("GET", "/v2/flex-protocol/orders/flexETH", (200, docs.FLEX_ORDERS, {}))
    async with cf.Client(base_url=url, rate_limits=None) as client:
        orders = await client.flex_protocol.orders("flexETH")
    assert len(orders) == 3
    assert_unsigned_get(only_request(server), "/v2/flex-protocol/orders/flexETH")
