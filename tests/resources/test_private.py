"""Every ``client.private`` method against a loopback server.

For each method: the request as it arrives (verb, path, query, JSON body with camelCase keys and
string decimals), its signature checked with the spec's formula computed test-side, and the docs'
example response decoded with every value and type checked. Expected values are typed in from
the docs, never computed by the client.
"""

from __future__ import annotations

import inspect
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.resources.private import Private
from tests.api_table import methods_of
from tests.loopback import Recorded, RecordingServer, spec_signature
from tests.models import docs_examples as docs
from tests.models.expected import EXAMPLES, assert_decoded
from tests.resources._support import assert_struct

API_KEY = "test-api-key"
API_SECRET = "test-api-secret"
FAST_RETRY = cf.RetryPolicy(attempts=3, backoff=0.01)

START = 1_595_500_000_000
END = START + 86_400_000
DAY_MS = 86_400_000


# -- helpers -------------------------------------------------------------------------------------


class _NowMs:
    """Equal to an int millisecond timestamp within a minute of now (the order body's stamp)."""

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, int)
            and not isinstance(other, bool)
            and abs(other - time.time() * 1000) < 60_000
        )

    def __repr__(self) -> str:
        return "<ms timestamp near now>"


NOW_MS: Any = _NowMs()


def assert_signed(recorded: Recorded, base_url: str) -> None:
    """The request carries the key and a signature that the spec's formula reproduces."""
    headers = recorded.headers
    assert headers["AccessKey"] == API_KEY
    assert headers["Host"] == base_url.removeprefix("http://")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", headers["Timestamp"])
    assert headers["Nonce"].isdigit()
    assert headers["Signature"] == spec_signature(API_SECRET, recorded)


def reply_with(body: bytes | dict[str, Any], status: int = 200) -> tuple[int, Any, dict[str, str]]:
    return status, body.decode() if isinstance(body, bytes) else body, {}


def one_item_of(example: bytes, index: int) -> dict[str, Any]:
    """The docs' example envelope cut down to its ``index``-th data item."""
    document = json.loads(example)
    document["data"] = [document["data"][index]]
    return document


@pytest.fixture
def server(recorder: tuple[RecordingServer, str]) -> RecordingServer:
    return recorder[0]


@pytest.fixture
def base_url(recorder: tuple[RecordingServer, str]) -> str:
    return recorder[1]


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[cf.Client]:
    async with cf.Client(API_KEY, API_SECRET, base_url=base_url, retry=FAST_RETRY) as client:
        yield client


# -- the docs' example responses, as the client must decode them --------------------------------


def first(items: list[Any]) -> Any:
    return items[0]


def expect(example: str, pick: Callable[[Any], Any] = lambda value: value) -> Callable[[Any], None]:
    """A check of a method's result: the docs example's expected value (tests/models/expected.py),
    through what the method takes out of it (``pick``)."""

    def check(result: Any) -> None:
        assert_decoded(result, pick(EXAMPLES[example].expected()))

    return check


# The docs' three placed orders, in the order sent; the answer is in the same order.
PLACED_REJECTED: dict[str, Any] = {
    "success": False,
    "timestamp": 1615430915596,
    "code": "710002",
    "message": "FAILED sanity bound check as price (50007.0) <  lower bound (54767.0)",
    "client_order_id": "1612249737724",
    "order_id": "0",
    "price": Decimal("50007.0"),
    "quantity": Decimal("0.001"),
    "side": "SELL",
    "market_code": "BTC-USD-SWAP-LIN",
    "time_in_force": "GTC",
    "order_type": "LIMIT",
}
PLACED_BUY: dict[str, Any] = {
    "success": True,
    "timestamp": 1615430915602,
    "client_order_id": "1612249737724",
    "order_id": "0",
    "price": Decimal("54900.0"),
    "quantity": Decimal("0.002"),
    "side": "BUY",
    "market_code": "BTC-USD-SWAP-LIN",
    "time_in_force": "GTC",
    "order_type": "LIMIT",
}
PLACED_SELL: dict[str, Any] = {
    "success": True,
    "timestamp": 1615430915625,
    "client_order_id": "1612249737723",
    "order_id": "0",
    "price": Decimal("54901.0"),
    "quantity": Decimal("0.003"),
    "side": "SELL",
    "market_code": "BTC-USD-SWAP-LIN",
    "time_in_force": "GTC",
    "order_type": "LIMIT",
}


def check_place_orders(result: list[cf.OrderResult]) -> None:
    rejected, buy, sell = result
    assert_struct(rejected, **PLACED_REJECTED)
    assert_struct(buy, **PLACED_BUY)
    assert_struct(sell, **PLACED_SELL)


def check_place_order(result: cf.OrderResult) -> None:
    assert_struct(result, **PLACED_SELL)


MODIFIED: dict[str, Any] = {
    "success": True,
    "timestamp": 1614331651196,
    "client_order_id": "1614330009059",
    "order_id": "304369975621712263",
    "price": Decimal("40001.0"),
    "quantity": Decimal("0.007"),
    "side": "BUY",
    "status": "OPEN",
    "market_code": "BTC-USD-SWAP-LIN",
    "time_in_force": "GTC",
    "notice": "OrderOpened",
    "order_type": "LIMIT",
    "is_triggered": False,
}


def check_modify_orders(result: list[cf.OrderResult]) -> None:
    # The docs answer failures first; results come back in the order the orders were sent.
    modified, second, third = result
    assert_struct(modified, **MODIFIED)
    invalid = {
        "success": False,
        "timestamp": 1614331651174,
        "code": "40032",
        "message": "Invalid request data",
        "side": "SELL",
        "market_code": "BTC-USD-SWAP-LIN",
    }
    assert_struct(
        second,
        **invalid,
        client_order_id="161224973777800",
        price=Decimal("40003.0"),
        quantity=Decimal("0.002"),
    )
    assert_struct(
        third,
        **invalid,
        client_order_id="161224973777900",
        price=Decimal("40004.0"),
        quantity=Decimal("0.003"),
    )


def check_modify_order(result: cf.OrderResult) -> None:
    assert_struct(result, **MODIFIED)


CANCELLED: dict[str, Any] = {
    "success": True,
    "timestamp": 1615454881383,
    "client_order_id": "1615453494726",
    "order_id": "304384250571714215",
    "price": Decimal("55006.0"),
    "quantity": Decimal("0.006"),
    "side": "SELL",
    "status": "CANCELED_BY_USER",
    "market_code": "BTC-USD-SWAP-LIN",
    "time_in_force": "GTC",
    "remain_quantity": Decimal("0.006"),
    "notice": "OrderClosed",
    "order_type": "LIMIT",
    "is_triggered": False,
}


def check_cancel_orders(result: list[cf.OrderResult]) -> None:
    cancelled, not_found = result
    assert_struct(cancelled, **CANCELLED)
    assert_struct(
        not_found,
        success=False,
        timestamp=1615454881433,
        code="40035",
        message="Open order not found with id",
        client_order_id="1612249737724",
        market_code="BTC-USD-SWAP-LIN",
    )


def check_cancel_order(result: cf.OrderResult) -> None:
    assert_struct(result, **CANCELLED)


# -- the table: one call per endpoint, what must arrive, what comes back ------------------------


@dataclass(frozen=True)
class Case:
    id: str
    method_name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    verb: str
    path: str
    reply: bytes | dict[str, Any]
    check: Callable[[Any], None]
    query: str = ""
    body: dict[str, Any] | None = None
    # Parameters that go in the query string but also in the body (request_delivery only).
    extra: dict[str, Any] = field(default_factory=dict)

    async def call(self, client: cf.Client) -> Any:
        return await getattr(client.private, self.method_name)(*self.args, **self.kwargs)


HISTORY = {"limit": 3, "start_time": START, "end_time": END}
HISTORY_QUERY = f"limit=3&startTime={START}&endTime={END}"

CASES = [
    Case(
        "account_info", "account_info", (), {}, "GET", "/v2/accountinfo",
        docs.ACCOUNT_INFO, expect("ACCOUNT_INFO"),
    ),
    Case("balances", "balances", (), {}, "GET", "/v2/balances", docs.BALANCES, expect("BALANCES")),
    Case(
        "balance", "balance", ("FLEX",), {}, "GET", "/v2/balances/FLEX",
        docs.BALANCE_BY_ID, expect("BALANCE_BY_ID", first),
    ),
    Case(
        "positions", "positions", (), {}, "GET", "/v2/positions", docs.POSITIONS,
        expect("POSITIONS"),
    ),
    Case(
        "position", "position", ("BTC-USD-SWAP-LIN",), {}, "GET", "/v2/positions/BTC-USD-SWAP-LIN",
        docs.POSITION_BY_ID, expect("POSITION_BY_ID", first),
    ),
    Case(
        "trades", "trades", ("FLEX-USD",), HISTORY, "GET", "/v2/trades/FLEX-USD",
        docs.TRADES, expect("TRADES"), query=HISTORY_QUERY,
    ),
    Case("trades_bare", "trades", ("FLEX-USD",), {}, "GET", "/v2/trades/FLEX-USD",
         docs.TRADES, expect("TRADES")),
    Case(
        "open_orders", "open_orders", (), {}, "GET", "/v2/orders",
        docs.OPEN_ORDERS, expect("OPEN_ORDERS"),
    ),
    Case(
        "orders", "orders", (),
        {
            "market_code": "BTC-USD-SWAP-LIN", "order_id": "304408197314577142",
            "client_order_id": 1, **HISTORY,
        },
        "GET", "/v2.1/orders", docs.ORDERS_V21, expect("ORDERS_V21"),
        query="marketCode=BTC-USD-SWAP-LIN&orderId=304408197314577142&clientOrderId=1&"
        + HISTORY_QUERY,
    ),
    Case(
        "orders_bare", "orders", (), {}, "GET", "/v2.1/orders", docs.ORDERS_V21,
        expect("ORDERS_V21"),
    ),
    Case(
        "cancel_all_orders", "cancel_all_orders", (), {}, "DELETE", "/v2/cancel/orders",
        docs.CANCEL_ALL, expect("CANCEL_ALL"),
    ),
    Case(
        "cancel_all_orders_market", "cancel_all_orders", ("FLEX-USD",), {}, "DELETE",
        "/v2/cancel/orders/FLEX-USD", docs.CANCEL_ALL_MARKET, expect("CANCEL_ALL_MARKET"),
    ),
    Case(
        "delivery_orders", "delivery_orders", (), {}, "GET", "/v2.1/delivery/orders",
        docs.DELIVERY_ORDERS, expect("DELIVERY_ORDERS"),
    ),
    Case(
        # The docs' example sends the parameters twice: in the query string and in the body.
        "request_delivery", "request_delivery", ("BTC-USD-SWAP-LIN", Decimal("1.000")), {},
        "POST", "/v2.1/delivery/orders", docs.REQUEST_DELIVERY, expect("REQUEST_DELIVERY"),
        query="instrumentId=BTC-USD-SWAP-LIN&qtyDeliver=1.000",
        body={"instrumentId": "BTC-USD-SWAP-LIN", "qtyDeliver": "1.000"},
    ),
    Case(
        "cancel_delivery", "cancel_delivery", ("586985384617312258",), {}, "DELETE",
        "/v2.1/delivery/orders/586985384617312258", docs.CANCEL_DELIVERY_OK,
        expect("CANCEL_DELIVERY_OK", " ".join),
    ),
    Case(
        "deliver_auction", "deliver_auction", ("BTC-USD-SWAP-LIN",), {}, "GET",
        "/v2.1/deliver-auction/BTC-USD-SWAP-LIN", docs.DELIVER_AUCTION, expect("DELIVER_AUCTION"),
    ),
    Case(
        # The docs' request, client_order_ids as given (the same one twice, as the docs have it).
        "place_orders", "place_orders",
        (
            [
                {
                    "client_order_id": "1612249737724", "market_code": "BTC-USD-SWAP-LIN",
                    "side": "SELL", "quantity": "0.001", "time_in_force": "GTC",
                    "order_type": "LIMIT", "price": "50007",
                },
                cf.NewOrder(
                    client_order_id="1612249737724", market_code="BTC-USD-SWAP-LIN",
                    side=cf.Side.BUY, quantity="0.002", time_in_force=cf.TimeInForce.GTC,
                    order_type=cf.OrderType.LIMIT, price="54900",
                ),
                {
                    "client_order_id": 1612249737723, "market_code": "BTC-USD-SWAP-LIN",
                    "side": "SELL", "quantity": Decimal("0.003"), "time_in_force": "GTC",
                    "order_type": "LIMIT", "price": 54901,
                },
            ],
        ),
        {"recv_window": 20000, "response_type": "FULL"},
        "POST", "/v2/orders/place", docs.PLACE_ORDERS, check_place_orders,
        body={
            "recvWindow": 20000,
            "responseType": "FULL",
            "timestamp": NOW_MS,
            "orders": [
                {
                    "clientOrderId": "1612249737724", "marketCode": "BTC-USD-SWAP-LIN",
                    "side": "SELL", "quantity": "0.001", "timeInForce": "GTC",
                    "orderType": "LIMIT", "price": "50007",
                },
                {
                    "clientOrderId": "1612249737724", "marketCode": "BTC-USD-SWAP-LIN",
                    "side": "BUY", "quantity": "0.002", "timeInForce": "GTC",
                    "orderType": "LIMIT", "price": "54900",
                },
                {
                    "clientOrderId": "1612249737723", "marketCode": "BTC-USD-SWAP-LIN",
                    "side": "SELL", "quantity": "0.003", "timeInForce": "GTC",
                    "orderType": "LIMIT", "price": "54901",
                },
            ],
        },
    ),
    Case(
        "place_order", "place_order", (),
        {
            "client_order_id": "1612249737723", "market_code": "BTC-USD-SWAP-LIN",
            "side": cf.Side.SELL, "quantity": "0.003", "order_type": cf.OrderType.LIMIT,
            "price": "54901",
        },
        "POST", "/v2/orders/place", one_item_of(docs.PLACE_ORDERS, 2), check_place_order,
        body={
            "recvWindow": 5000,
            "responseType": "FULL",
            "timestamp": NOW_MS,
            "orders": [
                {
                    "clientOrderId": "1612249737723", "marketCode": "BTC-USD-SWAP-LIN",
                    "side": "SELL", "quantity": "0.003", "orderType": "LIMIT", "price": "54901",
                }
            ],
        },
    ),
    Case(
        # The docs' request, with an orderId on every order: their table says it is required
        # (the example leaves it out of the second and third).
        "modify_orders", "modify_orders",
        (
            [
                cf.ModifyOrder(
                    client_order_id="1614330009059", order_id="304369975621712260",
                    market_code="BTC-USD-SWAP-LIN", side=cf.Side.BUY, quantity="0.007",
                    price="40001.0",
                ),
                {
                    "client_order_id": "161224973777800", "order_id": 304369975621712261,
                    "market_code": "BTC-USD-SWAP-LIN", "side": "SELL", "quantity": "0.002",
                    "price": "40003.0",
                },
                {
                    "client_order_id": "161224973777900", "order_id": "304369975621712262",
                    "market_code": "BTC-USD-SWAP-LIN", "side": "SELL", "quantity": "0.003",
                    "price": Decimal("40004.0"),
                },
            ],
        ),
        {"recv_window": 13000},
        "POST", "/v2/orders/modify", docs.MODIFY_ORDERS, check_modify_orders,
        body={
            "recvWindow": 13000,
            "responseType": "FULL",
            "timestamp": NOW_MS,
            "orders": [
                {
                    "clientOrderId": "1614330009059", "orderId": "304369975621712260",
                    "marketCode": "BTC-USD-SWAP-LIN", "side": "BUY", "quantity": "0.007",
                    "price": "40001.0",
                },
                {
                    "clientOrderId": "161224973777800", "orderId": "304369975621712261",
                    "marketCode": "BTC-USD-SWAP-LIN", "side": "SELL", "quantity": "0.002",
                    "price": "40003.0",
                },
                {
                    "clientOrderId": "161224973777900", "orderId": "304369975621712262",
                    "marketCode": "BTC-USD-SWAP-LIN", "side": "SELL", "quantity": "0.003",
                    "price": "40004.0",
                },
            ],
        },
    ),
    Case(
        "modify_order", "modify_order", (),
        {
            "order_id": "304369975621712260", "market_code": "BTC-USD-SWAP-LIN",
            "price": "40001.0", "response_type": "ACK",
        },
        "POST", "/v2/orders/modify", one_item_of(docs.MODIFY_ORDERS, 2), check_modify_order,
        body={
            "recvWindow": 5000,
            "responseType": "ACK",
            "timestamp": NOW_MS,
            "orders": [
                {
                    "orderId": "304369975621712260", "marketCode": "BTC-USD-SWAP-LIN",
                    "price": "40001.0",
                }
            ],
        },
    ),
    Case(
        "cancel_orders", "cancel_orders",
        (
            [
                cf.CancelOrder(
                    market_code="BTC-USD-SWAP-LIN", order_id="304384250571714215",
                    client_order_id="1615453494726",
                ),
                {"market_code": "BTC-USD-SWAP-LIN", "client_order_id": "1612249737724"},
            ],
        ),
        {"recv_window": 200000},
        "DELETE", "/v2/orders/cancel", docs.CANCEL_ORDERS, check_cancel_orders,
        body={
            "recvWindow": 200000,
            "responseType": "FULL",
            "timestamp": NOW_MS,
            "orders": [
                {
                    "marketCode": "BTC-USD-SWAP-LIN", "orderId": "304384250571714215",
                    "clientOrderId": "1615453494726",
                },
                {"marketCode": "BTC-USD-SWAP-LIN", "clientOrderId": "1612249737724"},
            ],
        },
    ),
    Case(
        "cancel_order", "cancel_order", (),
        {"market_code": "BTC-USD-SWAP-LIN", "order_id": 304384250571714215},
        "DELETE", "/v2/orders/cancel", one_item_of(docs.CANCEL_ORDERS, 0), check_cancel_order,
        body={
            "recvWindow": 5000,
            "responseType": "FULL",
            "timestamp": NOW_MS,
            "orders": [{"marketCode": "BTC-USD-SWAP-LIN", "orderId": "304384250571714215"}],
        },
    ),
    Case(
        "mint", "mint", ("flexUSD", 1000), {}, "POST", "/v2/mint", docs.MINT, expect("MINT"),
        body={"asset": "flexUSD", "quantity": "1000"},
    ),
    Case(
        "mint_history", "mint_history", ("flexETH",), HISTORY, "GET", "/v2/mint/flexETH",
        docs.MINT_HISTORY, expect("MINT_HISTORY"), query=HISTORY_QUERY,
    ),
    Case(
        "redeem", "redeem", ("flexUSD", "1000"), {"type": cf.RedeemType.NORMAL}, "POST",
        "/v2/redeem", docs.REDEEM, expect("REDEEM"),
        body={"asset": "flexUSD", "quantity": "1000", "type": "Normal"},
    ),
    Case(
        "redeem_instant", "redeem", ("flexBTC", Decimal("0.5")), {"type": "Instant"}, "POST",
        "/v2/redeem", docs.REDEEM, expect("REDEEM"),
        body={"asset": "flexBTC", "quantity": "0.5", "type": "Instant"},
    ),
    Case(
        "redeem_history", "redeem_history", ("flexUSD",), HISTORY, "GET", "/v2/redeem/flexUSD",
        docs.REDEEM_HISTORY, expect("REDEEM_HISTORY"), query=HISTORY_QUERY,
    ),
    Case(
        "borrow", "borrow", ("USD", "BTC", "0.01"), {}, "POST", "/v2/borrow",
        docs.BORROW, expect("BORROW"),
        body={"borrowAsset": "USD", "collateralAsset": "BTC", "collateralAmount": "0.01"},
    ),
    Case(
        "repay", "repay", ("USD", "BTC", Decimal("0.001")), {}, "POST", "/v2/repay",
        docs.REPAY, expect("REPAY"),
        body={"repayAsset": "USD", "regainAsset": "BTC", "regainAmount": "0.001"},
    ),
    Case(
        "borrow_history", "borrow_history", ("BTC",), HISTORY, "GET", "/v2/borrow/BTC",
        docs.BORROW_HISTORY, expect("BORROW_HISTORY"), query=HISTORY_QUERY,
    ),
    Case(
        "repay_history", "repay_history", ("BTC",), HISTORY, "GET", "/v2/repay/BTC",
        docs.REPAY_HISTORY, expect("REPAY_HISTORY"), query=HISTORY_QUERY,
    ),
    Case(
        "borrowing_summary", "borrowing_summary", (), {}, "GET", "/v2/borrowingSummary",
        docs.BORROWING_SUMMARY, expect("BORROWING_SUMMARY"),
    ),
    Case(
        "close_borrow", "close_borrow", ("BTC-USD-SWAP-LIN",),
        {"price": "29633.5", "quantity": 1}, "POST", "/v2/borrow/close",
        docs.CLOSE_BORROW, expect("CLOSE_BORROW"),
        body={"marketCode": "BTC-USD-SWAP-LIN", "price": "29633.5", "quantity": "1"},
    ),
    Case(
        "close_borrow_at_market", "close_borrow", ("BTC-USD-SWAP-LIN",), {}, "POST",
        "/v2/borrow/close", docs.CLOSE_BORROW, expect("CLOSE_BORROW"),
        body={"marketCode": "BTC-USD-SWAP-LIN"},
    ),
    Case(
        "funding_payments", "funding_payments", ("BTC-USD-SWAP-LIN",), HISTORY, "GET",
        "/v2/funding-payments", docs.FUNDING_PAYMENTS, expect("FUNDING_PAYMENTS"),
        query="marketCode=BTC-USD-SWAP-LIN&" + HISTORY_QUERY,
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_request_arrives_signed_and_docs_response_decodes(
    case: Case, server: RecordingServer, base_url: str, client: cf.Client
) -> None:
    server.reply(case.verb, case.path, reply_with(case.reply))

    result = await case.call(client)

    (sent,) = server.requests
    assert (sent.method, sent.path, sent.query) == (case.verb, case.path, case.query)
    if case.body is None:
        assert sent.body == b""
    else:
        assert sent.headers["Content-Type"] == "application/json"
        assert sent.json() == case.body
    assert_signed(sent, base_url)
    case.check(result)


# -- every method is covered, documented and refused without credentials -------------------------

# The API table (tests/api_table.py): the private methods and their verb and path.
DOC_PREFIXES = methods_of("private")


# Methods made of other methods' requests, not one endpoint (tests/resources/test_snapshot.py).
COMPOSITE = {"snapshot"}


def public_methods() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(Private, inspect.iscoroutinefunction)
        if not name.startswith("_") and name not in COMPOSITE
    }


def test_every_documented_method_exists_and_is_tested() -> None:
    assert public_methods() == set(DOC_PREFIXES)
    assert {case.method_name for case in CASES} == set(DOC_PREFIXES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_without_credentials_raises_and_sends_nothing(
    case: Case, server: RecordingServer, base_url: str
) -> None:
    server.reply(case.verb, case.path, reply_with(case.reply))
    async with cf.Client(base_url=base_url) as anonymous:
        with pytest.raises(cf.AuthenticationError):
            await case.call(anonymous)
    assert server.requests == []


# -- special answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("data", [[], None], ids=["empty-list", "null"])
async def test_position_is_none_when_the_exchange_has_none(
    data: Any, server: RecordingServer, client: cf.Client
) -> None:
    path = "/v2/positions/ETH-USD-SWAP-LIN"
    server.json_reply("GET", path, {"event": "positionsById", "timestamp": 1, "data": data})

    assert await client.private.position("ETH-USD-SWAP-LIN") is None
    assert len(server.requests) == 1


async def test_positions_is_an_empty_list_when_the_exchange_sends_null(
    server: RecordingServer, client: cf.Client
) -> None:
    server.json_reply("GET", "/v2/positions", {"event": "positions", "data": None})

    assert await client.private.positions() == []


async def test_balance_of_a_coin_not_held_raises_not_found(
    server: RecordingServer, client: cf.Client
) -> None:
    server.json_reply("GET", "/v2/balances/XRP", {"event": "balancesById", "data": []})

    with pytest.raises(cf.NotFoundError):
        await client.private.balance("XRP")


async def test_cancel_delivery_docs_failure_answer_raises_api_error(
    server: RecordingServer, client: cf.Client
) -> None:
    path = "/v2.1/delivery/orders/586985384617312258"
    server.reply("DELETE", path, reply_with(docs.CANCEL_DELIVERY_FAILED))

    with pytest.raises(cf.APIError) as raised:
        await client.private.cancel_delivery(586985384617312258)

    assert raised.value.message is not None
    assert "Cancel exception please try again" in raised.value.message
    assert raised.value.status == 200
    assert len(server.requests) == 1


async def test_error_body_maps_to_api_error_with_code_and_message(
    server: RecordingServer, client: cf.Client
) -> None:
    server.json_reply(
        "POST",
        "/v2/borrow",
        {"success": False, "code": "20001", "message": "Invalid parameter"},
        status=400,
    )

    with pytest.raises(cf.APIError) as raised:
        await client.private.borrow("USD", "BTC", "0.01")

    assert (raised.value.status, raised.value.code) == (400, "20001")
    assert raised.value.message == "Invalid parameter"


# -- retries: GETs are retried, calls with side effects are not ---------------------------------

GATEWAY_503 = (
    503,
    {"status": 503, "error": "Service Unavailable", "message": "busy", "requestId": "r-1"},
    {},
)

# Order requests have their own recovery (tests/resources/test_orders.py).
ORDER_PATHS = ("/v2/orders/place", "/v2/orders/modify", "/v2/orders/cancel")
SIDE_EFFECT_CASES = [c for c in CASES if c.verb != "GET" and c.path not in ORDER_PATHS]


@pytest.mark.parametrize("case", SIDE_EFFECT_CASES, ids=[c.id for c in SIDE_EFFECT_CASES])
async def test_post_and_delete_are_not_retried_by_default(
    case: Case, server: RecordingServer, base_url: str
) -> None:
    server.reply(case.verb, case.path, GATEWAY_503, reply_with(case.reply))
    async with cf.Client(API_KEY, API_SECRET, base_url=base_url) as default_client:
        with pytest.raises(cf.ServerError) as raised:
            await case.call(default_client)

    assert raised.value.status == 503
    assert len(server.requests) == 1


async def test_get_is_retried_with_a_fresh_signature(
    server: RecordingServer, base_url: str, client: cf.Client
) -> None:
    server.reply("GET", "/v2/balances", GATEWAY_503, reply_with(docs.BALANCES))

    expect("BALANCES")(await client.private.balances())

    first, second = server.requests
    assert first.headers["Nonce"] != second.headers["Nonce"]
    assert_signed(first, base_url)
    assert_signed(second, base_url)


# -- validation: bad input raises ValidationError and sends nothing ------------------------------

EIGHT_DAYS_MS = 8 * DAY_MS
EIGHT_DAYS = {"start_time": 0, "end_time": EIGHT_DAYS_MS}

BAD_CALLS: list[tuple[str, Callable[[Private], Any]]] = [
    ("balance-path-traversal", lambda p: p.balance("BTC/../accountinfo")),
    ("balance-empty", lambda p: p.balance("")),
    ("position-query-injection", lambda p: p.position("BTC?x=1")),
    ("trades-limit-0", lambda p: p.trades("FLEX-USD", limit=0)),
    ("trades-limit-1001", lambda p: p.trades("FLEX-USD", limit=1001)),
    ("trades-limit-bool", lambda p: p.trades("FLEX-USD", limit=True)),
    ("trades-window-8-days", lambda p: p.trades("FLEX-USD", **EIGHT_DAYS)),
    ("trades-end-before-start", lambda p: p.trades("FLEX-USD", start_time=END, end_time=START)),
    ("trades-start-negative", lambda p: p.trades("FLEX-USD", start_time=-1)),
    ("trades-start-str", lambda p: p.trades("FLEX-USD", start_time="1595500000000")),
    ("orders-limit-101", lambda p: p.orders(limit=101)),
    ("orders-order-id-not-numeric", lambda p: p.orders(order_id="abc")),
    ("orders-client-order-id-not-numeric", lambda p: p.orders(client_order_id="12a")),
    ("funding-payments-limit-501", lambda p: p.funding_payments("BTC-USD-SWAP-LIN", limit=501)),
    ("mint-history-not-flex", lambda p: p.mint_history("USD")),
    ("redeem-history-8-days", lambda p: p.redeem_history("flexUSD", **EIGHT_DAYS)),
    ("borrow-history-limit", lambda p: p.borrow_history("BTC", limit=101)),
    ("repay-history-bad-asset", lambda p: p.repay_history("B T C")),
    ("cancel-all-bad-market", lambda p: p.cancel_all_orders("FLEX/USD")),
    ("request-delivery-zero", lambda p: p.request_delivery("BTC-USD-SWAP-LIN", 0)),
    ("request-delivery-negative", lambda p: p.request_delivery("BTC-USD-SWAP-LIN", "-1")),
    ("request-delivery-float-0.1", lambda p: p.request_delivery("BTC-USD-SWAP-LIN", 0.1)),
    ("cancel-delivery-not-numeric", lambda p: p.cancel_delivery("abc")),
    ("deliver-auction-space", lambda p: p.deliver_auction("BTC USD")),
    ("mint-not-flex-asset", lambda p: p.mint("USD", 1)),
    ("mint-zero", lambda p: p.mint("flexUSD", 0)),
    ("mint-nan", lambda p: p.mint("flexUSD", float("nan"))),
    ("mint-inf", lambda p: p.mint("flexUSD", Decimal("Infinity"))),
    ("mint-not-a-number", lambda p: p.mint("flexUSD", "ten")),
    ("redeem-type-lowercase", lambda p: p.redeem("flexUSD", 1, type="normal")),
    ("redeem-type-unknown", lambda p: p.redeem("flexUSD", 1, type="Fast")),
    ("borrow-amount-negative", lambda p: p.borrow("USD", "BTC", Decimal("-0.01"))),
    ("borrow-amount-bool", lambda p: p.borrow("USD", "BTC", True)),
    ("repay-amount-float-0.1", lambda p: p.repay("USD", "BTC", 0.1)),
    ("close-borrow-price-negative", lambda p: p.close_borrow("BTC-USD-SWAP-LIN", price=-1)),
    ("close-borrow-quantity-nan", lambda p: p.close_borrow("BTC-USD-SWAP-LIN", quantity="NaN")),
]  # fmt: skip


@pytest.mark.parametrize("call", [c for _, c in BAD_CALLS], ids=[i for i, _ in BAD_CALLS])
async def test_bad_input_raises_validation_error_and_sends_nothing(
    call: Callable[[Private], Any], server: RecordingServer, client: cf.Client
) -> None:
    with pytest.raises(cf.ValidationError) as raised:
        await call(client.private)

    assert isinstance(raised.value, ValueError)
    assert server.requests == []


async def test_a_window_of_exactly_seven_days_is_sent(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("GET", "/v2/trades/FLEX-USD", reply_with(docs.TRADES))

    await client.private.trades("FLEX-USD", start_time=START, end_time=START + 7 * DAY_MS)

    (sent,) = server.requests
    assert sent.query == f"startTime={START}&endTime={START + 7 * DAY_MS}"
