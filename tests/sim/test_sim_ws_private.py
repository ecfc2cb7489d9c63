"""Private WebSocket channels (order, balance, position) for everything the account does,
over WebSocket or REST: one engine behind both, so the two views agree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from coinflex_async.sim import SimAccount, Simulator, WebSocketSettings

from ._helpers import Trader, order_item
from ._ws import Message, WsClient, assert_docs_shape

SETTINGS = WebSocketSettings(balance_interval=0.05, unauthenticated_messages_per_second=None)
FUNDS = {"USD": "1000000", "BTC": "100", "ETH": "1000", "FLEX": "100000"}
SWAP = "BTC-USD-SWAP-LIN"


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(rate_limits=None, websocket=SETTINGS, liquidity=False) as simulator:
        yield simulator


@pytest.fixture
def alice(sim: Simulator) -> SimAccount:
    return sim.create_account(balances=FUNDS)


@pytest.fixture
def alice_rest(sim: Simulator, session: aiohttp.ClientSession, alice: SimAccount) -> Trader:
    return Trader(session, sim, alice)


@pytest_asyncio.fixture
async def client(
    sim: Simulator, session: aiohttp.ClientSession, alice: SimAccount
) -> AsyncIterator[WsClient]:
    connection = await WsClient.connect(session, sim)
    await connection.login(alice)
    yield connection
    await connection.close()


def _notice(name: str, **where: Any) -> Callable[[Message], bool]:
    def matches(message: Message) -> bool:
        if message.get("table") != "order":
            return False
        item = message["data"][0]
        return item["notice"] == name and all(item.get(k) == v for k, v in where.items())

    return matches


async def _place(client: WsClient, **fields: Any) -> Message:
    order = {
        "clientOrderId": 16,
        "marketCode": SWAP,
        "side": "BUY",
        "orderType": "LIMIT",
        "quantity": 2,
        "price": 49600,
    }
    order.update(fields)
    reply = await client.request({"op": "placeorder", "data": order})
    assert reply["submitted"] is True, reply
    return reply["data"]  # type: ignore[no-any-return]


async def test_order_opened_modified_closed(client: WsClient, alice: SimAccount) -> None:
    await client.subscribe("order:all")
    placed = await _place(client, timeInForce="MAKER_ONLY")
    order_id = placed["orderId"]
    opened = await client.next(_notice("OrderOpened", orderId=order_id))
    assert_docs_shape(opened, "OrderOpened message format - LIMIT order")
    item = opened["data"][0]
    assert (item["accountId"], item["clientOrderId"], item["status"]) == (
        alice.account_id,
        "16",
        "OPEN",
    )
    assert (item["price"], item["quantity"], item["isTriggered"]) == ("49600.0", "2.000", "False")
    # Shrinking keeps the id: OrderModified.
    await client.request(
        {"op": "modifyorder", "data": {"marketCode": SWAP, "orderId": order_id, "quantity": 1}}
    )
    modified = await client.next(_notice("OrderModified", orderId=order_id))
    assert_docs_shape(modified, "OrderModified message format")
    assert modified["data"][0]["quantity"] == "1.000"
    # A new price moves it: OrderClosed (CANCELED_BY_AMEND), then OrderOpened with a new id.
    await client.request(
        {"op": "modifyorder", "data": {"marketCode": SWAP, "orderId": order_id, "price": 49500}}
    )
    amended = await client.next(_notice("OrderClosed", orderId=order_id))
    assert amended["data"][0]["status"] == "CANCELED_BY_AMEND"
    reopened = await client.next(_notice("OrderOpened", price="49500.0"))
    new_id = reopened["data"][0]["orderId"]
    assert new_id != order_id
    await client.request({"op": "cancelorder", "data": {"marketCode": SWAP, "orderId": new_id}})
    closed = await client.next(_notice("OrderClosed", orderId=new_id))
    assert_docs_shape(closed, "OrderClosed message format - LIMIT order")
    assert closed["data"][0]["status"] == "CANCELED_BY_USER"
    assert closed["data"][0]["remainQuantity"] == "1.000"


async def test_stop_limit_notices(sim: Simulator, client: WsClient) -> None:
    await client.subscribe("order:ETH-USD-SWAP-LIN")
    placed = await _place(
        client,
        marketCode="ETH-USD-SWAP-LIN",
        orderType="STOP_LIMIT",
        stopPrice=3100,
        limitPrice=3120,
        price=None,
        timeInForce="IOC",
    )
    opened = await client.next(_notice("OrderOpened", orderId=placed["orderId"]))
    assert_docs_shape(
        opened, "OrderOpened message format - STOP LIMIT order", extra={"isTriggered"}
    )
    assert opened["data"][0]["isTriggered"] == "False"
    sim.set_mark_price("ETH-USD-SWAP-LIN", "3105")
    triggered = await client.next(_notice("OrderOpened", isTriggered="True"))
    assert triggered["data"][0]["orderType"] == "STOP_LIMIT"
    closed = await client.next(_notice("OrderClosed", orderId=placed["orderId"]))
    assert_docs_shape(closed, "OrderClosed message format - STOP LIMIT order")
    assert closed["data"][0]["status"] == "CANCELED_ALL_BY_IOC"


async def test_order_matched_for_maker_and_taker(
    sim: Simulator, session: aiohttp.ClientSession, client: WsClient
) -> None:
    bob = sim.create_account(balances=FUNDS)
    bob_ws = await WsClient.connect(session, sim)
    await bob_ws.login(bob)
    await bob_ws.subscribe("order:all")
    await client.subscribe("order:all")
    maker = await _place(client, quantity=3, price=50000)
    taker = await _place(bob_ws, side="SELL", quantity=2, price=50000)
    filled = await client.next(_notice("OrderMatched", orderId=maker["orderId"]))
    assert_docs_shape(filled, "OrderMatched message format", absent={"stopPrice", "limitPrice"})
    item = filled["data"][0]
    assert (item["orderMatchType"], item["status"], item["matchQuantity"]) == (
        "MAKER",
        "PARTIAL_FILL",
        "2.000",
    )
    assert (item["remainQuantity"], item["fees"], item["feeInstrumentId"]) == ("1.000", "20", "USD")
    took = await bob_ws.next(_notice("OrderMatched", orderId=taker["orderId"]))
    assert took["data"][0]["orderMatchType"] == "TAKER"
    assert took["data"][0]["status"] == "FILLED"
    assert took["data"][0]["matchId"] == item["matchId"]
    await bob_ws.close()


@pytest.mark.parametrize(
    ("time_in_force", "quantity", "status"),
    [
        ("IOC", 2, "CANCELED_PARTIAL_BY_IOC"),
        ("FOK", 2, "CANCELED_BY_FOK"),
        ("MAKER_ONLY", 1, "CANCELED_BY_MAKER_ONLY"),
    ],
)
async def test_closed_statuses(
    sim: Simulator, client: WsClient, time_in_force: str, quantity: int, status: str
) -> None:
    sim.add_liquidity([SWAP], levels=1)  # 1 BTC at 50025
    await client.subscribe("order:all")
    placed = await _place(
        client, timeInForce=time_in_force, quantity=quantity, price=50025, side="BUY"
    )
    closed = await client.next(_notice("OrderClosed", orderId=placed["orderId"]))
    assert closed["data"][0]["status"] == status


async def test_maker_only_reprice_rests_one_tick_inside(sim: Simulator, client: WsClient) -> None:
    sim.add_liquidity([SWAP], levels=1)  # best ask 50025
    await client.subscribe("order:all")
    placed = await _place(client, timeInForce="MAKER_ONLY_REPRICE", quantity=1, price=50100)
    opened = await client.next(_notice("OrderOpened", orderId=placed["orderId"]))
    assert opened["data"][0]["timeInForce"] == "MAKER_ONLY_REPRICE"
    assert sim.engine.markets[SWAP].bids.best_price() == Decimal("50024.5")  # tick 0.5


async def test_failure_notices_for_orders_already_gone(client: WsClient) -> None:
    await client.subscribe("order:all")
    placed = await _place(client)
    cancel = {"marketCode": SWAP, "orderId": placed["orderId"]}
    await client.request({"op": "cancelorder", "data": cancel})
    again = await client.request({"op": "cancelorder", "tag": 2, "data": cancel})
    assert again["submitted"] is True  # the gateway took it; the engine refuses it:
    failure = await client.next(lambda m: m.get("event") == "CANCEL")
    assert_docs_shape(failure, "OrderClosed failure message format")
    assert failure["data"]["status"] == "REJECT_CANCEL_ORDER_ID_NOT_FOUND"
    assert failure["data"]["orderId"] == int(placed["orderId"])
    await client.request(
        {"op": "modifyorder", "data": {**cancel, "price": 49000}}, event="modifyorder"
    )
    amend = await client.next(lambda m: m.get("event") == "AMEND")
    assert_docs_shape(amend, "OrderModified failure message format")
    assert amend["data"]["status"] == "REJECT_AMEND_ORDER_ID_NOT_FOUND"


async def test_order_channel_per_market(client: WsClient) -> None:
    await client.subscribe("order:ETH-USD-SWAP-LIN")
    await _place(client)  # BTC swap: not heard
    placed = await _place(client, marketCode="ETH-USD-SWAP-LIN", price=2990, quantity=1)
    opened = await client.next(_notice("OrderOpened"))
    assert opened["data"][0]["orderId"] == placed["orderId"]
    assert await client.silent(_notice("OrderOpened", marketCode=SWAP), 0.1)


async def test_balance_all_and_per_asset(client: WsClient, alice: SimAccount) -> None:
    await client.subscribe("balance:all", "balance:USD")
    everything = await client.next(lambda m: m.get("table") == "balance" and len(m["data"]) > 1)
    assert_docs_shape(everything, "Balance channel format")
    assert everything["accountId"] == alice.account_id
    assert {i["instrumentId"] for i in everything["data"]} == set(FUNDS)
    await _place(client, marketCode="BTC-USD", price=49000, quantity=1)
    reserved = await client.next(
        lambda m: (
            m.get("table") == "balance" and len(m["data"]) == 1 and m["data"][0]["reserved"] != "0"
        )
    )
    item = reserved["data"][0]
    assert item["instrumentId"] == "USD"
    assert Decimal(item["reserved"]) == alice.reserved("USD") == Decimal("49024.5")
    assert Decimal(item["available"]) == Decimal(item["total"]) - Decimal(item["reserved"])


async def test_balance_cadence_default_250ms(
    session: aiohttp.ClientSession,
) -> None:
    async with Simulator(rate_limits=None, liquidity=False) as sim:
        account = sim.create_account(balances={"USD": "5"})
        client = await WsClient.connect(session, sim)
        await client.login(account)
        await client.subscribe("balance:USD")
        first = await client.table("balance")
        for _ in range(4):
            last = await client.table("balance")
        elapsed = int(last["timestamp"]) - int(first["timestamp"])
        assert 900 <= elapsed <= 2000, elapsed
        await client.close()


async def test_position_all_and_single(sim: Simulator, client: WsClient, alice: SimAccount) -> None:
    sim.add_liquidity([SWAP, "ETH-USD-SWAP-LIN"], levels=2)
    await client.subscribe("position:all", f"position:{SWAP}")
    await _place(client, marketCode="ETH-USD-SWAP-LIN", orderType="MARKET", quantity=1)
    eth = await client.table("position", instrumentId="ETH-USD-SWAP-LIN")
    assert_docs_shape(eth, "Position channel format")
    await _place(client, orderType="MARKET", quantity=1, side="SELL")
    single = await client.next(
        lambda m: (
            m.get("table") == "position"
            and len(m["data"]) == 1
            and m["data"][0]["instrumentId"] == SWAP
        )
    )
    both = await client.next(lambda m: m.get("table") == "position" and len(m["data"]) == 2)
    item = single["data"][0]
    assert (item["quantity"], item["entryPrice"]) == ("-1.000", "49975")
    assert Decimal(item["quantity"]) == alice.position(SWAP)
    assert {i["instrumentId"] for i in both["data"]} == {SWAP, "ETH-USD-SWAP-LIN"}


async def test_rest_fills_show_on_websocket_channels(
    sim: Simulator, client: WsClient, alice_rest: Trader, trader: Callable[..., Trader]
) -> None:
    await client.subscribe("order:all", "position:all", "balance:USD")
    placed = await alice_rest.place_one(quantity="0.5", price="50000", client_order_id="77")
    opened = await client.next(_notice("OrderOpened", orderId=placed["orderId"]))
    assert opened["data"][0]["clientOrderId"] == "77"
    await trader().place_one(side="SELL", quantity="0.5", price="50000")
    matched = await client.next(_notice("OrderMatched", orderId=placed["orderId"]))
    assert matched["data"][0]["status"] == "FILLED"
    position = await client.table("position", instrumentId=SWAP)
    assert position["data"][0]["quantity"] == "0.500"
    fee_paid = await client.next(
        lambda m: m.get("table") == "balance" and m["data"][0]["total"] != "1000000"
    )
    assert Decimal(fee_paid["data"][0]["total"]) == Decimal("1000000") - Decimal("5")


async def test_rest_cancel_all_notice(client: WsClient, alice_rest: Trader) -> None:
    await _place(client)
    reply = await alice_rest.delete("/v2/cancel/orders")
    assert reply.status == 200
    notice = await client.next(lambda m: m.get("event") == "CANCEL")
    assert_docs_shape(notice, "Success response format", section="### Cancel All Open Orders")
    assert notice["submitted"] is True


async def test_rest_and_websocket_views_agree_after_mixed_trading(
    sim: Simulator,
    session: aiohttp.ClientSession,
    client: WsClient,
    alice: SimAccount,
    alice_rest: Trader,
    trader: Callable[..., Trader],
) -> None:
    await client.subscribe("order:all", "position:all", "balance:all")
    bob = trader()
    notices: list[dict[str, Any]] = []
    # Alice trades over both APIs against Bob (REST) and against herself.
    await _place(client, quantity=1, price=50000)
    await alice_rest.place(order_item(quantity="2", price="49990"))
    await bob.place(order_item(side="SELL", quantity="2.5", price="49990"))
    ws_sell = await _place(client, side="SELL", quantity=1, price=50100)
    await bob.place(order_item(side="BUY", quantity="0.4", price="50100"))
    await client.request(
        {
            "op": "modifyorder",
            "data": {"marketCode": SWAP, "orderId": ws_sell["orderId"], "quantity": 0.3},
        }
    )
    await alice_rest.place(order_item(market="ETH-USD", quantity="1", price="2990"))
    await asyncio.sleep(0.2)  # a balance round after the last change
    rest_orders = await alice_rest.history()
    while True:
        try:
            notices.append(await client.next(lambda m: m.get("table") == "order", 0.2))
        except AssertionError:
            break
    ws_ids = {n["data"][0]["orderId"] for n in notices}
    assert ws_ids == {o["orderId"] for o in rest_orders}
    ws_fills = {
        (n["data"][0]["matchId"], n["data"][0]["matchQuantity"])
        for n in notices
        if n["data"][0]["notice"] == "OrderMatched"
    }
    rest_fills = {
        (t["matchId"], t["matchQuantity"])
        for t in (await alice_rest.get(f"/v2/trades/{SWAP}")).data
    }
    assert ws_fills == rest_fills and len(ws_fills) == 3
    position = [m for m in client.inbox if m.get("table") == "position"][-1]
    (rest_position,) = (await alice_rest.get("/v2/positions")).data
    assert position["data"][0]["quantity"] == rest_position["quantity"] == "2.100"
    assert position["data"][0]["entryPrice"] == rest_position["entryPrice"]
    # The next balance round after everything settled (older rounds are dropped).
    client.inbox = [m for m in client.inbox if m.get("table") != "balance"]
    balance = await client.table("balance")
    rest_balances = {b["instrumentId"]: b for b in (await alice_rest.get("/v2/balances")).data}
    for item in balance["data"]:
        rest = rest_balances[item["instrumentId"]]
        assert (item["total"], item["reserved"], item["available"]) == (
            rest["total"],
            rest["reserved"],
            rest["available"],
        )
