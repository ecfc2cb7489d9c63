"""WebSocket order commands: placeorder (LIMIT, MARKET, STOP_LIMIT), placeorders,
cancelorder(s), modifyorder(s), one reply per order as the docs show, the WebSocket error
codes, timestamp/recvWindow and the account's 50 orders per second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from coinflex_async.sim import SimAccount, Simulator, WebSocketSettings

from ._helpers import Trader
from ._ws import WsClient, assert_docs_shape

SETTINGS = WebSocketSettings(unauthenticated_messages_per_second=None)
FUNDS = {"USD": "1000000", "BTC": "100", "ETH": "1000", "FLEX": "100000"}
# The docs' examples write clientOrderId both as 1 and as "1": the simulator answers "1".
CLIENT_ID = {"clientOrderId"}


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(rate_limits=None, websocket=SETTINGS) as simulator:
        yield simulator


@pytest.fixture
def alice(sim: Simulator) -> SimAccount:
    return sim.create_account(balances=FUNDS)


@pytest_asyncio.fixture
async def client(
    sim: Simulator, session: aiohttp.ClientSession, alice: SimAccount
) -> AsyncIterator[WsClient]:
    connection = await WsClient.connect(session, sim)
    await connection.login(alice)
    yield connection
    await connection.close()


def _limit(**fields: Any) -> dict[str, Any]:
    order = {
        "clientOrderId": 1,
        "marketCode": "BTC-USD-SWAP-LIN",
        "side": "BUY",
        "orderType": "LIMIT",
        "quantity": 1.5,
        "timeInForce": "GTC",
        "price": 49000,
    }
    order.update(fields)
    return {k: v for k, v in order.items() if v is not None}


async def test_place_limit_order_as_the_docs(client: WsClient, alice: SimAccount) -> None:
    now = int(time.time() * 1000)
    reply = await client.request(
        {"op": "placeorder", "tag": 123, "data": _limit(timestamp=now, recvWindow=500)}
    )
    assert_docs_shape(
        reply, "Success response format", section="### Place Limit Order", any_kind=CLIENT_ID
    )
    data = reply["data"]
    assert reply["submitted"] is True and reply["tag"] == "123"
    assert data["quantity"] == "1.5" and data["price"] == "49000" and data["source"] == 0
    assert alice.open_order_ids == [data["orderId"]]


async def test_place_market_order_as_the_docs(
    sim: Simulator, client: WsClient, alice: SimAccount
) -> None:
    sim.add_liquidity(["ETH-USD-SWAP-LIN"], levels=2)
    order = {
        "clientOrderId": 1,
        "marketCode": "ETH-USD-SWAP-LIN",
        "side": "SELL",
        "orderType": "MARKET",
        "quantity": 5,
    }
    reply = await client.request({"op": "placeorder", "tag": 123, "data": order})
    assert_docs_shape(reply, "Success response format", section="### Place Market Order")
    assert reply["data"]["quantity"] == "5"
    assert alice.position("ETH-USD-SWAP-LIN") == -5


async def test_place_stop_limit_order_as_the_docs(client: WsClient, alice: SimAccount) -> None:
    order = {
        "clientOrderId": 1,
        "marketCode": "ETH-USD-SWAP-LIN",
        "side": "BUY",
        "orderType": "STOP_LIMIT",
        "quantity": 10,
        "timeInForce": "MAKER_ONLY_REPRICE",
        "stopPrice": 3100,
        "limitPrice": 3120,
    }
    reply = await client.request({"op": "placeorder", "tag": 123, "data": order})
    assert_docs_shape(reply, "Success response format", section="### Place Stop Limit Order")
    assert (reply["data"]["stopPrice"], reply["data"]["limitPrice"]) == ("3100", "3120")
    assert alice.open_order_ids == [reply["data"]["orderId"]]


async def test_order_without_client_order_id_is_accepted(client: WsClient) -> None:
    reply = await client.request({"op": "placeorder", "data": _limit(clientOrderId=None)})
    assert reply["submitted"] is True
    assigned = reply["data"]["clientOrderId"]
    assert assigned.isdigit() and int(assigned) > 0


async def test_place_batch_replies_once_per_order(client: WsClient, alice: SimAccount) -> None:
    batch = {
        "op": "placeorders",
        "tag": 123,
        "dataArray": [
            _limit(clientOrderId=1, price=49000),
            _limit(clientOrderId=2, price=48000, marketCode="NOPE"),
            _limit(clientOrderId=3, price=47000),
        ],
    }
    await client.send(batch)
    replies = [await client.next(lambda m: m.get("event") == "placeorder") for _ in range(3)]
    assert [r["submitted"] for r in replies] == [True, False, True]
    assert [r["data"]["clientOrderId"] for r in replies] == ["1", "2", "3"]
    assert replies[1]["code"] == "20015"
    assert_docs_shape(
        replies[1], "Failure response format", section="### Place Limit Order", any_kind=CLIENT_ID
    )
    assert len(alice.open_order_ids) == 2


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"marketCode": None}, "20011"),
        ({"marketCode": "NOPE-USD"}, "20015"),
        ({"side": None}, "20012"),
        ({"side": "UP"}, "20016"),
        ({"orderType": None}, "20013"),
        ({"orderType": "ICEBERG"}, "20017"),
        ({"timeInForce": "FOREVER"}, "20018"),
        ({"quantity": 0}, "20006"),
        ({"clientOrderId": "abc"}, "20014"),
        ({"clientOrderId": 0}, "20008"),
        ({"price": None}, "20022"),
        ({"price": "cheap"}, "20021"),
        ({"price": -5}, "20028"),
        ({"price": "49000.05"}, "20001"),
        ({"price": 10}, "710002"),
        ({"price": 900000}, "710003"),
        ({"quantity": 100000}, "710006"),
        ({"timestamp": 1_000_000, "recvWindow": 500}, "20024"),
    ],
)
async def test_place_order_refused(
    client: WsClient, alice: SimAccount, change: dict[str, Any], code: str
) -> None:
    order = _limit(**change)
    reply = await client.request({"op": "placeorder", "tag": 1, "data": order})
    assert reply["submitted"] is False and reply["code"] == code, reply
    assert "orderId" not in reply["data"]
    assert alice.order_count == 0


async def test_stop_limit_price_order_rules(client: WsClient) -> None:
    stop = {"marketCode": "ETH-USD-SWAP-LIN", "orderType": "STOP_LIMIT", "quantity": 1}
    buy = await client.request(
        {"op": "placeorder", "data": {**stop, "side": "BUY", "stopPrice": 3100, "limitPrice": 3050}}
    )
    sell = await client.request(
        {
            "op": "placeorder",
            "data": {**stop, "side": "SELL", "stopPrice": 2900, "limitPrice": 2950},
        }
    )
    missing = await client.request({"op": "placeorder", "data": {**stop, "side": "SELL"}})
    assert (buy["code"], sell["code"], missing["code"]) == ("20029", "20030", "20020")


async def test_timestamp_without_recv_window_allows_one_second(client: WsClient) -> None:
    now = int(time.time() * 1000)
    fresh = await client.request({"op": "placeorder", "data": _limit(timestamp=now - 500)})
    stale = await client.request({"op": "placeorder", "data": _limit(timestamp=now - 3000)})
    assert fresh["submitted"] is True
    assert stale["submitted"] is False and stale["code"] == "20024"


async def test_cancel_order_and_batch(client: WsClient, alice: SimAccount) -> None:
    ids = []
    for price in (49000, 48000, 47000):
        placed = await client.request({"op": "placeorder", "data": _limit(price=price)})
        ids.append(placed["data"]["orderId"])
    reply = await client.request(
        {
            "op": "cancelorder",
            "tag": 456,
            "data": {"marketCode": "BTC-USD-SWAP-LIN", "orderId": int(ids[0])},
        }
    )
    assert_docs_shape(reply, "Success response format", section="### Cancel Order")
    assert reply["data"] == {
        "marketCode": "BTC-USD-SWAP-LIN",
        "clientOrderId": "1",
        "orderId": ids[0],
    }
    await client.send(
        {
            "op": "cancelorders",
            "tag": 456,
            "dataArray": [{"marketCode": "BTC-USD-SWAP-LIN", "orderId": i} for i in ids[1:]],
        }
    )
    replies = [await client.next(lambda m: m.get("event") == "cancelorder") for _ in ids[1:]]
    assert [r["data"]["orderId"] for r in replies] == ids[1:]
    assert alice.open_order_ids == []
    missing = await client.request({"op": "cancelorder", "data": {"orderId": 5}})
    assert missing["submitted"] is False and missing["code"] == "20011"
    no_id = await client.request({"op": "cancelorder", "data": {"marketCode": "BTC-USD"}})
    assert no_id["code"] == "20010"


async def test_modify_order_and_batch(client: WsClient, alice: SimAccount) -> None:
    placed = await client.request({"op": "placeorder", "data": _limit(quantity=2)})
    order_id = placed["data"]["orderId"]
    reply = await client.request(
        {
            "op": "modifyorder",
            "tag": 1,
            "data": {
                "marketCode": "BTC-USD-SWAP-LIN",
                "orderId": int(order_id),
                "side": "BUY",
                "price": 49500,
                "quantity": 2,
            },
        }
    )
    assert_docs_shape(reply, "Success response format", section="### Modify Batch Orders")
    moved = reply["data"]["orderId"]
    assert moved != order_id and reply["data"]["price"] == "49500.0"
    # The batch example spells the id "orderID"; only shrinking keeps the id.
    await client.send(
        {
            "op": "modifyorders",
            "tag": 123,
            "dataArray": [{"marketCode": "BTC-USD-SWAP-LIN", "orderID": int(moved), "quantity": 1}],
        }
    )
    shrunk = await client.next(lambda m: m.get("event") == "modifyorder")
    assert shrunk["data"]["orderId"] == moved and shrunk["data"]["quantity"] == "1.000"
    assert alice.open_order_ids == [moved]
    bad = await client.request(
        {"op": "modifyorder", "data": {"marketCode": "BTC-USD-SWAP-LIN", "orderId": "x"}}
    )
    assert bad["submitted"] is False and bad["code"] == "20019"


async def test_modify_can_change_side(client: WsClient, alice: SimAccount) -> None:
    placed = await client.request({"op": "placeorder", "data": _limit(quantity=1)})
    reply = await client.request(
        {
            "op": "modifyorder",
            "data": {
                "marketCode": "BTC-USD-SWAP-LIN",
                "orderId": placed["data"]["orderId"],
                "side": "SELL",
                "price": 51000,
            },
        }
    )
    assert reply["submitted"] is True and reply["data"]["side"] == "SELL"
    assert alice.open_order_ids == [reply["data"]["orderId"]]


async def test_fifty_orders_per_second_per_account(
    sim: Simulator, session: aiohttp.ClientSession, alice: SimAccount
) -> None:
    # Two connections of one account: the limit is the account's, not the connection's.
    clients = [await WsClient.connect(session, sim) for _ in range(2)]
    for connection in clients:
        await connection.login(alice)
    messages = [
        {"op": "placeorder", "data": _limit(clientOrderId=i + 1, price=46000 + i)}
        for i in range(60)
    ]
    await asyncio.gather(*(clients[i % 2].send(message) for i, message in enumerate(messages)))
    replies = []
    for connection in clients:
        for _ in range(30):
            replies.append(await connection.next(lambda m: m.get("event") == "placeorder"))
    refused = [r for r in replies if not r["submitted"]]
    assert len(refused) == 10 and {r["code"] for r in refused} == {"20007"}
    assert alice.order_count == 50
    await asyncio.sleep(1.05)
    later = await clients[0].request({"op": "placeorder", "data": _limit(price=45500)})
    assert later["submitted"] is True
    for connection in clients:
        await connection.close()


async def test_websocket_orders_are_in_the_rest_history(
    sim: Simulator, session: aiohttp.ClientSession, client: WsClient, alice: SimAccount
) -> None:
    ids = []
    for i in range(3):
        reply = await client.request({"op": "placeorder", "data": _limit(price=46000 + i)})
        ids.append(reply["data"]["orderId"])
    history = await Trader(session, sim, alice).history()
    assert [order["orderId"] for order in history] == ids[::-1]
    assert {order["status"] for order in history} == {"OrderOpened"}
