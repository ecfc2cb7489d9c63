"""Order requests: encoding, validation, generated client order IDs, batches of 8, input order,
and the recovery of an order request that failed ambiguously (never placed twice)."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import msgspec
import pytest

import coinflex_async as cf
from coinflex_async._batches import (
    MAX_BATCH,
    WS_MAX_MESSAGE_LENGTH,
    WS_MAX_ORDERS,
    recv_window_or,
    split_batch,
    window_fields,
)
from coinflex_async.models import requests as order_requests
from tests.loopback import Recorded, RecordingServer, Reply, spec_signature
from tests.models import docs_examples as docs

API_KEY = "test-api-key"
API_SECRET = "test-api-secret"
FAST_RETRY = cf.RetryPolicy(attempts=3, backoff=0.01, lookup_interval=0.05)
MAX_CLIENT_ORDER_ID = 9_223_372_036_854_775_807  # the exchange's LONG

PLACE = "/v2/orders/place"
MODIFY = "/v2/orders/modify"
CANCEL = "/v2/orders/cancel"
HISTORY = "/v2.1/orders"
SWAP = "BTC-USD-SWAP-LIN"
REPO = "BTC-USD-REPO-LIN"

LIMIT_ORDER: dict[str, Any] = {
    "market_code": SWAP,
    "side": "BUY",
    "quantity": "0.001",
    "order_type": "LIMIT",
    "price": "54900",
}
MARKET_ORDER: dict[str, Any] = {
    "market_code": SWAP,
    "side": "SELL",
    "quantity": "0.001",
    "order_type": "MARKET",
}
GATEWAY_503: Reply = (
    503,
    {"status": 503, "error": "Service Unavailable", "message": "busy", "requestId": "r-1"},
    {},
)


def echo(recorded: Recorded, *, reverse: bool = False) -> Reply:
    """Answer every order of a batch with success, echoing its IDs, price and quantity; a placed
    order also gets what the docs' place answer adds (an order ID, type and time in force)."""
    answers = []
    for index, order in enumerate(recorded.json()["orders"]):
        answer = {"success": "true", "timestamp": "1615430915602"}
        if recorded.path == PLACE:
            answer.update(orderId=str(1000 + index), orderType="LIMIT", timeInForce="GTC")
        for key in (
            "clientOrderId",
            "orderId",
            "marketCode",
            "side",
            "price",
            "quantity",
            "orderType",
            "timeInForce",
        ):
            if key in order:
                answer[key] = order[key]
        answers.append(answer)
    if reverse:
        answers.reverse()
    return 200, {"event": "placeOrder", "timestamp": "1615430915625", "data": answers}, {}


def echo_reversed(recorded: Recorded) -> Reply:
    return echo(recorded, reverse=True)


def cancelled(recorded: Recorded) -> Reply:
    """The docs' answer to a successful cancel, for the one order the request names."""
    (order,) = recorded.json()["orders"]
    item = {**json.loads(docs.CANCEL_ORDERS)["data"][0], **order}
    return 200, {"event": "cancelOrder", "timestamp": "1615454881391", "data": [item]}, {}


def sent_orders(server: RecordingServer, path: str = PLACE) -> list[dict[str, Any]]:
    return [order for r in server.requests if r.path == path for order in r.json()["orders"]]


def assert_signed(recorded: Recorded) -> None:
    assert recorded.headers["AccessKey"] == API_KEY
    assert recorded.headers["Signature"] == spec_signature(API_SECRET, recorded)


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


# -- encoding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("1E+3"), "1000"),
        (Decimal("12.50"), "12.50"),
        ("1e-8", "0.00000001"),
        ("0.001", "0.001"),
        (25, "25"),
        (0.5, "0.5"),
        (2.0**-20, "0.00000095367431640625"),
        (1e20, "100000000000000000000"),
    ],
    ids=repr,
)
async def test_decimals_go_on_the_wire_as_plain_strings(
    value: Any, wire: str, server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, echo)

    await client.private.place_order(**{**LIMIT_ORDER, "quantity": value, "price": value})

    (order,) = sent_orders(server)
    assert order["quantity"] == wire
    assert order["price"] == wire


async def test_order_types_carry_only_their_prices(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, echo)
    orders = [
        {**LIMIT_ORDER, "client_order_id": 1, "time_in_force": cf.TimeInForce.MAKER_ONLY},
        {**MARKET_ORDER, "client_order_id": "2"},
        cf.NewOrder(
            client_order_id=3,
            market_code=SWAP,
            side=cf.Side.SELL,
            quantity="0.002",
            order_type=cf.OrderType.STOP,
            stop_price="50000",
            limit_price=Decimal("49990.5"),
            time_in_force="IOC",
        ),
    ]

    await client.private.place_orders(orders)

    assert sent_orders(server) == [
        {
            "clientOrderId": "1",
            "marketCode": SWAP,
            "side": "BUY",
            "quantity": "0.001",
            "orderType": "LIMIT",
            "price": "54900",
            "timeInForce": "MAKER_ONLY",
        },
        {
            "clientOrderId": "2",
            "marketCode": SWAP,
            "side": "SELL",
            "quantity": "0.001",
            "orderType": "MARKET",
        },
        {
            "clientOrderId": "3",
            "marketCode": SWAP,
            "side": "SELL",
            "quantity": "0.002",
            "orderType": "STOP",
            "stopPrice": "50000",
            "limitPrice": "49990.5",
            "timeInForce": "IOC",
        },
    ]


async def test_new_order_struct_and_dict_are_sent_alike(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, echo)
    fields = {**LIMIT_ORDER, "client_order_id": "77", "time_in_force": "GTC"}

    await client.private.place_orders([fields, cf.NewOrder(**fields)])

    as_dict, as_struct = sent_orders(server)
    assert as_dict == as_struct


@pytest.mark.parametrize(
    ("price", "wire"),
    [(Decimal("-1"), "-1"), ("-0.0025", "-0.0025"), (Decimal("-1E-4"), "-0.0001")],
    ids=repr,
)
async def test_repo_markets_take_a_negative_price(
    price: Any, wire: str, server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, echo)

    await client.private.place_order(**{**LIMIT_ORDER, "market_code": REPO, "price": price})

    (order,) = sent_orders(server)
    assert (order["marketCode"], order["price"]) == (REPO, wire)


@pytest.mark.parametrize(
    ("client_recv_window", "call_recv_window", "sent"),
    [(None, None, 5000), (3000, None, 3000), (5000, 100, 100), (None, 1, 1)],
)
async def test_recv_window_from_the_client_or_the_call(
    client_recv_window: int | None,
    call_recv_window: int | None,
    sent: int,
    server: RecordingServer,
    base_url: str,
) -> None:
    """Every order request carries a recvWindow (5000 ms unless the client or call says)."""
    server.reply("POST", PLACE, echo)
    options = {} if client_recv_window is None else {"recv_window": client_recv_window}
    async with cf.Client(API_KEY, API_SECRET, base_url=base_url, **options) as client:
        await client.private.place_orders([LIMIT_ORDER], recv_window=call_recv_window)

    body = server.requests[0].json()
    assert body["recvWindow"] == sent
    assert isinstance(body["timestamp"], int)


async def test_response_type_ack_is_sent(server: RecordingServer, client: cf.Client) -> None:
    server.reply("DELETE", CANCEL, echo)

    await client.private.cancel_orders(
        [{"market_code": SWAP, "client_order_id": 5}], response_type="ACK"
    )

    assert server.requests[0].json()["responseType"] == "ACK"


# -- validation: refused before anything is sent -------------------------------------------------


def without(order: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k not in keys}


STOP_ORDER = {**without(LIMIT_ORDER, "price"), "order_type": "STOP"}

BAD_NEW_ORDERS: dict[str, dict[str, Any]] = {
    "limit-without-price": without(LIMIT_ORDER, "price"),
    "limit-with-stop-price": {**LIMIT_ORDER, "stop_price": "54000"},
    "stop-without-stop-price": {**STOP_ORDER, "limit_price": "54000"},
    "stop-without-limit-price": {**STOP_ORDER, "stop_price": "54000"},
    "stop-with-price": {**STOP_ORDER, "stop_price": "1", "limit_price": "1", "price": "1"},
    "market-with-price": {**MARKET_ORDER, "price": "54900"},
    "market-with-limit-price": {**MARKET_ORDER, "limit_price": "54900"},
    "quantity-zero": {**LIMIT_ORDER, "quantity": "0"},
    "quantity-negative": {**LIMIT_ORDER, "quantity": "-0.001"},
    "quantity-nan-str": {**LIMIT_ORDER, "quantity": "NaN"},
    "quantity-nan-float": {**LIMIT_ORDER, "quantity": float("nan")},
    "quantity-inf-float": {**LIMIT_ORDER, "quantity": float("inf")},
    "quantity-inf-decimal": {**LIMIT_ORDER, "quantity": Decimal("Infinity")},
    "quantity-float-0.1": {**LIMIT_ORDER, "quantity": 0.1},
    "quantity-empty": {**LIMIT_ORDER, "quantity": ""},
    "quantity-words": {**LIMIT_ORDER, "quantity": "one"},
    "quantity-bool": {**LIMIT_ORDER, "quantity": True},
    "quantity-list": {**LIMIT_ORDER, "quantity": [1]},
    "price-zero": {**LIMIT_ORDER, "price": 0},
    "price-negative-on-swap": {**LIMIT_ORDER, "price": Decimal("-1")},
    "price-negative-str-on-swap": {**LIMIT_ORDER, "price": "-54900"},
    "price-float-0.1": {**LIMIT_ORDER, "price": 0.1},
    "price-nan-on-repo": {**LIMIT_ORDER, "market_code": REPO, "price": Decimal("NaN")},
    "stop-price-negative-on-swap": {**STOP_ORDER, "stop_price": "-1", "limit_price": "1"},
    "no-market-code": without(LIMIT_ORDER, "market_code"),
    "no-side": without(LIMIT_ORDER, "side"),
    "no-quantity": without(LIMIT_ORDER, "quantity"),
    "no-order-type": without(LIMIT_ORDER, "order_type"),
    "side-unknown": {**LIMIT_ORDER, "side": "HOLD"},
    "order-type-unknown": {**LIMIT_ORDER, "order_type": "ICEBERG"},
    "time-in-force-unknown": {**LIMIT_ORDER, "time_in_force": "GTD"},
    "market-code-with-slash": {**LIMIT_ORDER, "market_code": "BTC/USD"},
    "client-order-id-zero": {**LIMIT_ORDER, "client_order_id": 0},
    "client-order-id-negative": {**LIMIT_ORDER, "client_order_id": -1},
    "client-order-id-words": {**LIMIT_ORDER, "client_order_id": "abc"},
    "client-order-id-decimal": {**LIMIT_ORDER, "client_order_id": "1.5"},
    "client-order-id-above-long": {**LIMIT_ORDER, "client_order_id": MAX_CLIENT_ORDER_ID + 1},
    "client-order-id-bool": {**LIMIT_ORDER, "client_order_id": True},
    "unknown-field": {**LIMIT_ORDER, "qty": "1"},
}

BAD_MODIFIES: dict[str, dict[str, Any]] = {
    "no-order-id": {"market_code": SWAP, "price": "1"},
    "order-id-words": {"order_id": "abc", "market_code": SWAP, "price": "1"},
    "nothing-to-change": {"order_id": "1", "market_code": SWAP},
    "price-negative-on-swap": {"order_id": "1", "market_code": SWAP, "price": "-1"},
    "quantity-zero": {"order_id": "1", "market_code": SWAP, "quantity": 0},
    "no-market-code": {"order_id": "1", "price": "1"},
}

BAD_CANCELS: dict[str, dict[str, Any]] = {
    "no-ids": {"market_code": SWAP},
    "order-id-words": {"market_code": SWAP, "order_id": "x1"},
    "client-order-id-above-long": {
        "market_code": SWAP,
        "client_order_id": str(MAX_CLIENT_ORDER_ID + 1),
    },
    "no-market-code": {"order_id": "1"},
}


async def assert_refused(server: RecordingServer, call: Any) -> None:
    with pytest.raises(cf.ValidationError) as raised:
        await call
    assert isinstance(raised.value, ValueError)
    assert server.requests == []


@pytest.mark.parametrize("order", BAD_NEW_ORDERS.values(), ids=BAD_NEW_ORDERS.keys())
async def test_bad_new_order_sends_nothing(
    order: dict[str, Any], server: RecordingServer, client: cf.Client
) -> None:
    await assert_refused(server, client.private.place_order(**order))


@pytest.mark.parametrize("order", BAD_MODIFIES.values(), ids=BAD_MODIFIES.keys())
async def test_bad_modify_sends_nothing(
    order: dict[str, Any], server: RecordingServer, client: cf.Client
) -> None:
    await assert_refused(server, client.private.modify_orders([order]))


@pytest.mark.parametrize("order", BAD_CANCELS.values(), ids=BAD_CANCELS.keys())
async def test_bad_cancel_sends_nothing(
    order: dict[str, Any], server: RecordingServer, client: cf.Client
) -> None:
    await assert_refused(server, client.private.cancel_orders([order]))


@pytest.mark.parametrize("recv_window", [0, -1, True, 1.5, "100"])
async def test_bad_recv_window_sends_nothing(
    recv_window: Any, server: RecordingServer, client: cf.Client
) -> None:
    await assert_refused(
        server, client.private.place_orders([LIMIT_ORDER], recv_window=recv_window)
    )


@pytest.mark.parametrize("recv_window", [0, -5, True, 2.5, "100"])
def test_client_refuses_a_bad_default_recv_window(recv_window: Any) -> None:
    with pytest.raises(cf.ValidationError):
        cf.Client(API_KEY, API_SECRET, base_url="http://127.0.0.1:1", recv_window=recv_window)


@pytest.mark.parametrize(
    "orders", [[], LIMIT_ORDER, "orders", None], ids=["empty", "a-dict", "a-str", "none"]
)
async def test_orders_must_be_a_non_empty_list(
    orders: Any, server: RecordingServer, client: cf.Client
) -> None:
    await assert_refused(server, client.private.place_orders(orders))


async def test_bad_response_type_sends_nothing(server: RecordingServer, client: cf.Client) -> None:
    await assert_refused(server, client.private.place_orders([LIMIT_ORDER], response_type="SOME"))


async def test_one_bad_order_in_a_long_batch_sends_nothing(
    server: RecordingServer, client: cf.Client
) -> None:
    orders = [LIMIT_ORDER] * 9 + [without(LIMIT_ORDER, "price")]
    await assert_refused(server, client.private.place_orders(orders))


# -- generated client order IDs ------------------------------------------------------------------


def assert_client_order_id(value: Any) -> None:
    assert isinstance(value, str)
    assert value.isascii() and value.isdigit(), value
    assert 1 <= int(value) <= MAX_CLIENT_ORDER_ID


async def test_missing_client_order_ids_are_generated_unique_for_the_clients_life(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, echo_reversed)

    first = await client.private.place_orders([MARKET_ORDER] * 8)
    second = await client.private.place_orders([LIMIT_ORDER] * 8)
    single = await client.private.place_order(**MARKET_ORDER)
    await client.private.place_orders([MARKET_ORDER] * 20)

    sent = [order["clientOrderId"] for order in sent_orders(server)]
    assert len(sent) == len(set(sent)) == 37
    for value in sent:
        assert_client_order_id(value)
    # Answered in reverse, each result still carries the ID generated for its own order.
    for results, request in zip((first, second, [single]), server.requests, strict=False):
        assert [r.client_order_id for r in results] == [
            o["clientOrderId"] for o in request.json()["orders"]
        ]


async def test_given_client_order_ids_are_kept(server: RecordingServer, client: cf.Client) -> None:
    server.reply("POST", PLACE, echo)
    orders = [
        {**LIMIT_ORDER, "client_order_id": 42},
        MARKET_ORDER,
        {**LIMIT_ORDER, "client_order_id": str(MAX_CLIENT_ORDER_ID)},
    ]

    await client.private.place_orders(orders)

    kept, generated, largest = (order["clientOrderId"] for order in sent_orders(server))
    assert (kept, largest) == ("42", "9223372036854775807")
    assert_client_order_id(generated)
    assert generated not in (kept, largest)


async def test_two_clients_generate_different_ids(server: RecordingServer, base_url: str) -> None:
    server.reply("POST", PLACE, echo)
    for _ in range(2):
        async with cf.Client(API_KEY, API_SECRET, base_url=base_url) as client:
            await client.private.place_orders([MARKET_ORDER] * 8)

    first, second = ({o["clientOrderId"] for o in r.json()["orders"]} for r in server.requests)
    assert len(first) == len(second) == 8
    assert not first & second


PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLACE_FROM_ANOTHER_PROCESS = """
import asyncio, sys
import coinflex_async as cf

async def main():
    async with cf.Client("test-api-key", "test-api-secret", base_url=sys.argv[1]) as client:
        order = {"market_code": "BTC-USD-SWAP-LIN", "side": "BUY", "quantity": "1",
                 "order_type": "MARKET"}
        await client.private.place_orders([order] * 8)

asyncio.run(main())
"""


async def test_another_process_generates_different_ids(
    server: RecordingServer, base_url: str, client: cf.Client
) -> None:
    server.reply("POST", PLACE, echo)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PLACE_FROM_ANOTHER_PROCESS,
        base_url,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, errors.decode()
    await client.private.place_orders([MARKET_ORDER] * 8)

    theirs, ours = ({o["clientOrderId"] for o in r.json()["orders"]} for r in server.requests)
    assert len(theirs) == len(ours) == 8
    assert not theirs & ours


def test_generated_ids_stay_below_the_long_maximum_from_the_highest_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The start is random; force the largest one it can draw.
    monkeypatch.setattr(order_requests.secrets, "randbelow", lambda bound: bound - 1)
    ids = order_requests.ClientOrderIds()

    values = [int(ids.next()) for _ in range(10_000)]

    assert len(set(values)) == len(values)
    assert max(values) <= MAX_CLIENT_ORDER_ID
    assert min(values) >= 1


# -- batches of 8, concurrency, input order ------------------------------------------------------


async def test_twenty_orders_go_as_three_concurrent_requests_and_come_back_in_input_order(
    server: RecordingServer, client: cf.Client
) -> None:
    in_flight = 0
    most_in_flight = 0
    all_arrived = asyncio.Event()

    async def hold_until_all_arrive(recorded: Recorded) -> Reply:
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        if len(server.requests) == 3:
            all_arrived.set()
        try:
            await asyncio.wait_for(all_arrived.wait(), 5)
        finally:
            in_flight -= 1
        return echo_reversed(recorded)

    server.reply("POST", PLACE, hold_until_all_arrive)
    orders = [{**LIMIT_ORDER, "client_order_id": 1000 + i} for i in range(20)]

    results = await client.private.place_orders(orders)

    assert most_in_flight == 3
    chunks = sorted([o["clientOrderId"] for o in r.json()["orders"]] for r in server.requests)
    assert chunks == [
        [str(1000 + i) for i in range(0, 8)],
        [str(1000 + i) for i in range(8, 16)],
        [str(1000 + i) for i in range(16, 20)],
    ]
    assert [r.client_order_id for r in results] == [str(1000 + i) for i in range(20)]
    for request in server.requests:
        assert_signed(request)


@pytest.mark.parametrize(("count", "sizes"), [(1, [1]), (8, [8]), (9, [8, 1]), (17, [8, 8, 1])])
async def test_batches_are_split_into_requests_of_eight(
    count: int, sizes: list[int], server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, echo)

    results = await client.private.place_orders([MARKET_ORDER] * count)

    assert sorted(len(r.json()["orders"]) for r in server.requests) == sorted(sizes)
    assert len(results) == count


async def test_cancel_batches_are_split_too(server: RecordingServer, client: cf.Client) -> None:
    server.reply("DELETE", CANCEL, echo_reversed)
    orders = [{"market_code": SWAP, "order_id": 500 + i} for i in range(10)]

    results = await client.private.cancel_orders(orders)

    assert sorted(len(r.json()["orders"]) for r in server.requests) == [2, 8]
    assert [r.order_id for r in results] == [str(500 + i) for i in range(10)]


async def test_place_results_follow_input_order_when_answered_reversed(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, echo_reversed)
    prices = ["100", "101.5", "102", "103.25", "104"]
    orders = [{**LIMIT_ORDER, "price": p, "client_order_id": 7 + i} for i, p in enumerate(prices)]

    results = await client.private.place_orders(orders)

    assert [r.client_order_id for r in results] == ["7", "8", "9", "10", "11"]
    assert [r.price for r in results] == [Decimal(p) for p in prices]


async def test_modify_results_follow_input_order_by_order_id_alone(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", MODIFY, echo_reversed)
    orders = [
        cf.ModifyOrder(order_id=f"30436997562171226{i}", market_code=SWAP, price=f"4000{i}")
        for i in range(5)
    ]

    results = await client.private.modify_orders(orders)

    assert [r.order_id for r in results] == [f"30436997562171226{i}" for i in range(5)]
    assert [r.price for r in results] == [Decimal(f"4000{i}") for i in range(5)]


async def test_cancel_results_follow_input_order_with_mixed_ids(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("DELETE", CANCEL, echo_reversed)
    orders = [
        {"market_code": SWAP, "order_id": "11"},
        {"market_code": SWAP, "client_order_id": "22"},
        {"market_code": SWAP, "order_id": "33", "client_order_id": "44"},
        {"market_code": SWAP, "client_order_id": "55"},
    ]

    results = await client.private.cancel_orders(orders)

    assert [(r.order_id, r.client_order_id) for r in results] == [
        ("11", None),
        (None, "22"),
        ("33", "44"),
        (None, "55"),
    ]


async def test_an_answer_missing_an_order_is_an_error_not_a_short_list(
    server: RecordingServer, client: cf.Client
) -> None:
    def answer_two(recorded: Recorded) -> Reply:
        status, body, headers = echo(recorded)
        body["data"] = body["data"][:2]
        return status, body, headers

    server.reply("POST", PLACE, answer_two)

    with pytest.raises(cf.CoinFlexError):
        await client.private.place_orders([MARKET_ORDER] * 3)


async def test_a_failed_request_of_a_split_batch_keeps_the_other_results(
    server: RecordingServer, client: cf.Client
) -> None:
    def refuse_the_first_chunk(recorded: Recorded) -> Reply:
        if recorded.json()["orders"][0]["clientOrderId"] == "100":
            return 400, {"success": False, "code": "40032", "message": "Invalid request data"}, {}
        return echo(recorded)

    server.reply("POST", PLACE, refuse_the_first_chunk)
    orders = [{**MARKET_ORDER, "client_order_id": 100 + i} for i in range(10)]

    with pytest.raises(cf.BatchError) as raised:
        await client.private.place_orders(orders)

    (error,) = raised.value.errors
    assert isinstance(error, cf.APIError)
    assert (error.status, error.code) == (400, "40032")
    assert raised.value.results[:8] == [None] * 8
    assert [r.client_order_id for r in raised.value.results[8:] if r] == ["108", "109"]
    assert len(server.requests) == 2


# -- rejections ----------------------------------------------------------------------------------


async def test_place_order_rejection_raises_with_code_message_and_client_order_id(
    server: RecordingServer, client: cf.Client
) -> None:
    document = json.loads(docs.PLACE_ORDERS)
    document["data"] = document["data"][:1]
    server.json_reply("POST", PLACE, document)

    with pytest.raises(cf.OrderRejectedError) as raised:
        await client.private.place_order(
            **{**LIMIT_ORDER, "side": "SELL", "price": "50007", "client_order_id": 1612249737724}
        )

    rejected = raised.value
    assert isinstance(rejected, cf.APIError)
    assert rejected.code == "710002"
    assert rejected.message == (
        "FAILED sanity bound check as price (50007.0) <  lower bound (54767.0)"
    )
    assert rejected.client_order_id == "1612249737724"
    assert rejected.status == 200
    assert len(server.requests) == 1


async def test_modify_order_rejection_raises(server: RecordingServer, client: cf.Client) -> None:
    server.reply("POST", MODIFY, (200, docs.MODIFY_ORDERS.decode(), {}))

    with pytest.raises(cf.OrderRejectedError) as raised:
        await client.private.modify_order(
            order_id="304369975621712261",
            client_order_id="161224973777800",
            market_code=SWAP,
            price="40003.0",
        )

    assert (raised.value.code, raised.value.message) == ("40032", "Invalid request data")
    assert raised.value.client_order_id == "161224973777800"


async def test_cancel_order_rejection_raises(server: RecordingServer, client: cf.Client) -> None:
    server.reply("DELETE", CANCEL, (200, docs.CANCEL_ORDERS.decode(), {}))

    with pytest.raises(cf.OrderRejectedError) as raised:
        await client.private.cancel_order(market_code=SWAP, client_order_id="1612249737724")

    assert (raised.value.code, raised.value.message) == ("40035", "Open order not found with id")
    assert raised.value.client_order_id == "1612249737724"


# -- what a single order call returns -------------------------------------------------------------


def docs_answer(body: bytes, index: int, **changes: Any) -> Reply:
    """One item of a docs example answer, with keys changed (None: the key left out)."""
    document = json.loads(body)
    item = {**document["data"][index], **changes}
    document["data"] = [{key: value for key, value in item.items() if value is not None}]
    return 200, document, {}


async def test_an_accepted_single_order_is_an_accepted_order_and_a_batch_item_is_not(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, docs_answer(docs.PLACE_ORDERS, 1), echo)

    placed = await client.private.place_order(**LIMIT_ORDER)
    (batch_item,) = await client.private.place_orders([LIMIT_ORDER])

    assert type(placed) is cf.AcceptedOrder
    assert isinstance(placed, cf.OrderResult)
    assert (placed.order_id, placed.client_order_id, placed.side) == ("0", "1612249737724", "BUY")
    assert (placed.order_type, placed.time_in_force) == ("LIMIT", "GTC")
    assert placed.status is None  # the docs' place answer has none
    assert type(batch_item) is cf.OrderResult


# A cancel by order_id states only its market: every other identifying field is the answer's.
@pytest.mark.parametrize(
    "field", [f for f in cf.models.orders.ACCEPTED_FIELDS if f != "market_code"]
)
async def test_an_accepted_answer_lacking_an_identifying_field_is_a_decode_error(
    field: str, server: RecordingServer, client: cf.Client
) -> None:
    wire_name = cf.AcceptedOrder.__struct_encode_fields__[
        cf.AcceptedOrder.__struct_fields__.index(field)
    ]
    server.reply("DELETE", CANCEL, docs_answer(docs.CANCEL_ORDERS, 0, **{wire_name: None}))

    with pytest.raises(cf.DecodeError) as raised:
        await client.private.cancel_order(market_code=SWAP, order_id="304384250571714215")

    assert field in str(raised.value)
    assert "accepted" in str(raised.value)


async def test_what_an_accepted_answer_lacks_but_the_request_states_comes_from_the_request(
    server: RecordingServer, client: cf.Client
) -> None:
    # The one rule of both transports (_order_results.accepted_order): a WebSocket answer echoes the
    # request and may leave out what the request did; a REST answer is read the same way.
    server.reply("DELETE", CANCEL, docs_answer(docs.CANCEL_ORDERS, 0, marketCode=None))
    server.reply("POST", PLACE, docs_answer(docs.PLACE_ORDERS, 1, timeInForce=None, side=None))

    cancelled = await client.private.cancel_order(market_code=SWAP, order_id="304384250571714215")
    placed = await client.private.place_order(**LIMIT_ORDER)

    assert cancelled.market_code == SWAP
    assert (placed.side, placed.time_in_force) == (LIMIT_ORDER["side"], "GTC")


async def test_an_order_rebuilt_from_the_history_is_an_accepted_order(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, GATEWAY_503)
    server.reply("GET", HISTORY, found_in_history())

    placed = await client.private.place_order(**LIMIT_ORDER, recv_window=50)

    assert type(placed) is cf.AcceptedOrder
    assert (placed.order_id, placed.order_type, placed.time_in_force) == (
        "304408197314577143",
        "LIMIT",
        "GTC",
    )
    assert (placed.status, placed.notice, placed.timestamp) == ("OPEN", "OrderOpened", None)


# -- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 8, 9, 20])
async def test_orders_without_credentials_raise_authentication_error(
    count: int, server: RecordingServer, base_url: str
) -> None:
    async with cf.Client(base_url=base_url) as anonymous:
        with pytest.raises(cf.AuthenticationError):
            await anonymous.private.place_orders([MARKET_ORDER] * count)
    assert server.requests == []


@pytest.mark.parametrize("count", [1, 9])
async def test_orders_on_a_closed_client_raise_client_closed_error(
    count: int, server: RecordingServer, client: cf.Client
) -> None:
    await client.close()

    with pytest.raises(cf.ClientClosedError):
        await client.private.place_orders([MARKET_ORDER] * count)
    assert server.requests == []


# -- an order request that failed ambiguously is looked up, never blindly re-sent ----------------


def found_in_history(status: str = "OrderOpened") -> Any:
    """GET /v2.1/orders answering with the order the query names, as the docs show one."""

    def answer(recorded: Recorded) -> Reply:
        query = parse_qs(recorded.query)
        entry = {
            "status": status,
            "orderId": "304408197314577143",
            "clientOrderId": query["clientOrderId"][0],
            "marketCode": query["marketCode"][0],
            "side": "BUY",
            "orderType": "LIMIT",
            "price": "54900.0",
            "quantity": "0.001",
            "remainQuantity": "0.001",
            "timeInForce": "GTC",
            "orderOpenedTimestamp": "1619131049574",
        }
        return 200, {"event": "orders", "timestamp": "1619167719563", "data": [entry]}, {}

    return answer


# The client reads its clock just before stamping a body; a few ms cover that gap and the
# `timestamp`'s truncation to whole ms, far below the 50 ms interval the tests look for.
SLACK = 0.005


def stamped_at(request: Recorded) -> float:
    """The wall-clock second an order body was stamped with (its ms ``timestamp``)."""
    return int(request.json()["timestamp"]) / 1000


NOT_IN_HISTORY: Reply = (200, {"event": "orders", "timestamp": "1619167719563", "data": []}, {})


async def test_place_503_then_found_by_lookup_returns_it_with_one_post(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, GATEWAY_503)
    server.reply("GET", HISTORY, found_in_history())

    result = await client.private.place_order(**LIMIT_ORDER, recv_window=50)

    post, lookup = server.requests
    (sent,) = post.json()["orders"]
    query = parse_qs(lookup.query)
    assert (lookup.method, lookup.path) == ("GET", HISTORY)
    assert query["clientOrderId"] == [sent["clientOrderId"]]
    assert query["marketCode"] == [SWAP]
    assert_signed(lookup)
    # The first lookup comes one lookup_interval (50 ms) after sending: an applied order is
    # found at once, without waiting out recvWindow.
    assert 0.03 <= lookup.at - post.at < 0.4
    assert result.success is True
    assert result.client_order_id == sent["clientOrderId"]
    assert result.order_id == "304408197314577143"
    assert (result.price, result.quantity) == (Decimal("54900.0"), Decimal("0.001"))
    assert (result.side, result.market_code) == ("BUY", SWAP)


async def test_place_503_then_absent_from_lookup_is_sent_again(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, GATEWAY_503, echo)
    server.reply("GET", HISTORY, NOT_IN_HISTORY)

    result = await client.private.place_order(**LIMIT_ORDER, recv_window=50)

    # Looked up until recvWindow (+ one interval) had passed, then sent again.
    calls = [(r.method, r.path) for r in server.requests]
    assert calls[0] == calls[-1] == ("POST", PLACE)
    assert set(calls[1:-1]) == {("GET", HISTORY)}
    first, second = server.requests[0], server.requests[-1]
    # The exchange refuses the first copy once its `timestamp` + recvWindow has passed; the
    # resend waits that out plus one lookup interval, counted from just before the stamp
    # (measured from the first copy's arrival it could look shorter by the loopback's latency).
    assert second.wall >= stamped_at(first) + 0.05 + 0.05 - SLACK
    assert first.json()["orders"] == second.json()["orders"]
    assert first.headers["Nonce"] != second.headers["Nonce"]
    assert_signed(first)
    assert_signed(second)
    assert result.success is True
    assert result.client_order_id == first.json()["orders"][0]["clientOrderId"]


async def test_place_503_and_lookup_failing_raises_order_status_unknown(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("POST", PLACE, GATEWAY_503)
    server.json_reply("GET", HISTORY, {"success": False, "message": "down"}, status=500)

    with pytest.raises(cf.OrderStatusUnknownError) as raised:
        await client.private.place_order(**LIMIT_ORDER, recv_window=50)

    posts = [r for r in server.requests if r.method == "POST"]
    lookups = [r for r in server.requests if r.method == "GET"]
    (post,) = posts
    assert raised.value.client_order_id == post.json()["orders"][0]["clientOrderId"]
    assert isinstance(raised.value, cf.TransportError)
    # Looked up until recvWindow + one interval had passed, each lookup a retried GET.
    assert len(lookups) >= FAST_RETRY.attempts
    assert len(lookups) % FAST_RETRY.attempts == 0
    assert lookups[-1].wall >= stamped_at(post) + 0.05 + 0.05 - SLACK


async def test_place_503_without_retries_is_still_looked_up_not_resent(
    server: RecordingServer, base_url: str
) -> None:
    server.reply("POST", PLACE, GATEWAY_503, echo)
    server.reply("GET", HISTORY, found_in_history())
    async with cf.Client(API_KEY, API_SECRET, base_url=base_url, retry=None) as client:
        result = await client.private.place_order(**LIMIT_ORDER, recv_window=50)

    assert [r.method for r in server.requests] == ["POST", "GET"]
    assert result.order_id == "304408197314577143"


async def test_definite_rejection_is_neither_looked_up_nor_resent(
    server: RecordingServer, client: cf.Client
) -> None:
    server.json_reply(
        "POST", PLACE, {"success": False, "code": "20001", "message": "bad"}, status=400
    )

    with pytest.raises(cf.APIError) as raised:
        await client.private.place_order(**LIMIT_ORDER, recv_window=50)

    assert raised.value.code == "20001"
    assert [r.method for r in server.requests] == ["POST"]


async def test_cancel_503_then_found_closed_is_a_success_with_one_delete(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("DELETE", CANCEL, GATEWAY_503)
    server.reply("GET", HISTORY, found_in_history("OrderClosed"))

    result = await client.private.cancel_order(
        market_code=SWAP, client_order_id="1615453494726", recv_window=50
    )

    assert [r.method for r in server.requests] == ["DELETE", "GET"]
    assert parse_qs(server.requests[1].query)["clientOrderId"] == ["1615453494726"]
    assert (result.success, result.client_order_id) == (True, "1615453494726")


async def test_cancel_503_then_still_open_is_cancelled_again(
    server: RecordingServer, client: cf.Client
) -> None:
    server.reply("DELETE", CANCEL, GATEWAY_503, cancelled)
    server.reply("GET", HISTORY, found_in_history("OrderOpened"))

    result = await client.private.cancel_order(
        market_code=SWAP, client_order_id="1615453494726", recv_window=50
    )

    methods = [r.method for r in server.requests]
    assert methods[0] == methods[-1] == "DELETE"
    assert set(methods[1:-1]) == {"GET"}
    assert result.success is True


async def test_place_429_is_sent_again_after_retry_after_without_a_lookup(
    server: RecordingServer, client: cf.Client
) -> None:
    too_many: Reply = (429, {"success": False, "code": "20007", "message": "too rapid"}, {})
    server.reply("POST", PLACE, (*too_many[:2], {"Retry-After": "0"}), echo)

    result = await client.private.place_order(**LIMIT_ORDER, recv_window=50)

    assert [r.method for r in server.requests] == ["POST", "POST"]
    assert result.success is True


async def test_place_timeout_then_found_by_lookup_returns_it_with_one_post(
    server: RecordingServer, base_url: str
) -> None:
    async def answer_too_late(recorded: Recorded) -> Reply:
        await asyncio.sleep(0.3)
        return echo(recorded)

    server.reply("POST", PLACE, answer_too_late)
    server.reply("GET", HISTORY, found_in_history())
    async with cf.Client(
        API_KEY, API_SECRET, base_url=base_url, retry=FAST_RETRY, timeout=0.1
    ) as client:
        result = await client.private.place_order(**LIMIT_ORDER, recv_window=50)

    assert [r.method for r in server.requests] == ["POST", "GET"]
    assert result.order_id == "304408197314577143"


# -- the pieces an order request is built from (shared with the WebSocket commands) -----------


def test_window_fields_stamp_now_and_carry_the_recv_window() -> None:
    before = time.time_ns() // 1_000_000
    fields = window_fields(5000)
    after = time.time_ns() // 1_000_000
    assert set(fields) == {"timestamp", "recvWindow"}
    assert before <= fields["timestamp"] <= after
    assert fields["recvWindow"] == 5000
    assert window_fields(None, timestamp=1_600_000_000_000) == {"timestamp": 1_600_000_000_000}


@pytest.mark.parametrize(("given", "sent"), [(None, 7000), (1, 1), (3_600_000, 3_600_000)])
def test_recv_window_or_takes_the_calls_window_else_the_default(
    given: int | None, sent: int
) -> None:
    assert recv_window_or(given, 7000) == sent


@pytest.mark.parametrize("bad", [0, 3_600_001, True, 1.5, "5000"])
def test_recv_window_or_refuses_a_bad_window(bad: Any) -> None:
    with pytest.raises(cf.ValidationError, match="recv_window"):
        recv_window_or(bad, 7000)


@pytest.mark.parametrize(("count", "sizes"), [(1, [1]), (8, [8]), (9, [8, 1]), (20, [8, 8, 4])])
def test_split_batch_by_count_cuts_requests_of_eight(count: int, sizes: list[int]) -> None:
    orders = list(range(count))
    chunks = split_batch(orders, max_count=MAX_BATCH)
    assert [len(c) for c in chunks] == sizes
    assert [o for c in chunks for o in c] == orders


def ws_message(orders: Sequence[Any], fields: dict[str, int]) -> bytes:
    """A WebSocket batch command as the docs show one: each order carries the window fields."""
    items = [{**msgspec.to_builtins(o), **fields} for o in orders]
    return msgspec.json.encode({"op": "placeorders", "tag": "4294967295", "dataArray": items})


STOP_ORDER: dict[str, Any] = {
    "market_code": SWAP,
    "side": "BUY",
    "quantity": "0.1",
    "order_type": "STOP",
    "stop_price": "54000",
    "limit_price": "54900",
    "time_in_force": "GTC",
}


@pytest.mark.parametrize("order_count", [1, 19, 20, 21, 45, 100])
def test_split_batch_packs_websocket_commands_up_to_the_message_length(order_count: int) -> None:
    """Packed greedily: every message fits the length limit and the count, and the next order
    would not have fitted; the chunks are the orders in their order."""
    ids = order_requests.ClientOrderIds()
    fields = window_fields(5000)
    orders = [
        order_requests.to_wire_new(
            {
                **STOP_ORDER,
                "quantity": "0." + "1" * (i % 7 + 1),
                "limit_price": str(54_900 + i),
            },
            i,
            ids,
        )
        for i in range(order_count)
    ]
    overhead = len(ws_message([], fields))
    chunks = split_batch(
        orders,
        max_count=WS_MAX_ORDERS,
        max_length=WS_MAX_MESSAGE_LENGTH,
        length=lambda order: len(ws_message([order], fields)) - overhead,
        overhead=overhead,
    )
    assert [o for c in chunks for o in c] == orders
    for chunk, following in itertools.pairwise(chunks):
        assert len(ws_message(chunk, fields)) <= WS_MAX_MESSAGE_LENGTH
        assert len(chunk) <= WS_MAX_ORDERS
        grown = [*chunk, following[0]]
        assert len(grown) > WS_MAX_ORDERS or len(ws_message(grown, fields)) > WS_MAX_MESSAGE_LENGTH
    assert len(ws_message(chunks[-1], fields)) <= WS_MAX_MESSAGE_LENGTH
    # These orders are ~230 characters as sent: fewer than 20 fit one message.
    if order_count >= 20:
        assert 10 <= len(chunks[0]) < WS_MAX_ORDERS


def test_split_batch_sends_an_order_too_long_for_any_message_alone() -> None:
    lengths = {"a": 10, "huge": 500, "b": 10, "c": 10}
    chunks = split_batch(list(lengths), max_count=20, max_length=100, length=lengths.__getitem__)
    assert chunks == [["a"], ["huge"], ["b", "c"]]


def test_split_batch_counts_the_overhead_and_the_commas() -> None:
    def split(max_length: int) -> list[Sequence[str]]:
        return split_batch(
            list("xyz"), max_count=20, max_length=max_length, length=lambda _: 30, overhead=10
        )

    # 10 + 3 * 30 + 2 commas = 102: one character less and the third order starts a message.
    assert split(101) == [["x", "y"], ["z"]]
    assert split(102) == [["x", "y", "z"]]
    assert split_batch(list("xyz"), max_count=2, max_length=99, length=len) == [["x", "y"], ["z"]]
