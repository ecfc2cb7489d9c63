"""One order path: the same order placed over REST (``client.private``) and over the WebSocket
(``client.stream()``) against the simulator gives the same result type with the same fields, and
a bad argument is refused with the same words, before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

import coinflex_async as cf
from coinflex_async.sim import Simulator

from ._coverage import covers
from ._support import check_types

SWAP = "BTC-USD-SWAP-LIN"
# The fields that differ between two placements of the same order by nature.
_OWN = ("order_id", "client_order_id", "timestamp")

ORDERS: dict[str, dict[str, Any]] = {
    "limit, exchange's default time in force": {
        "market_code": SWAP,
        "side": "BUY",
        "quantity": "0.25",
        "order_type": "LIMIT",
        "price": "46000",
    },
    "limit, maker only": {
        "market_code": SWAP,
        "side": "SELL",
        "quantity": "0.5",
        "order_type": "LIMIT",
        "price": "52000.5",
        "time_in_force": "MAKER_ONLY",
    },
    "stop": {
        "market_code": SWAP,
        "side": "BUY",
        "quantity": "0.1",
        "order_type": "STOP",
        "stop_price": "60000",
        "limit_price": "60100",
    },
}


async def test_rest_and_websocket_orders_draw_client_order_ids_from_one_source(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    # Two sources would each start at a random point: their IDs could meet, and an order
    # looked up by client_order_id after a lost answer could then be taken for another.
    account = sim.create_account(balances={"USD": "1000000"})
    client = connect(account, timeout=2.0)
    order = ORDERS["limit, exchange's default time in force"]
    first = await client.private.place_order(**order)
    async with client.stream() as ws:
        second = await ws.place_order(**order)
    third = await client.private.place_order(**order)
    ids = [int(r.client_order_id) for r in (first, second, third)]
    assert ids == [ids[0], ids[0] + 1, ids[0] + 2]


def fields(result: cf.OrderResult) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(result).items() if k not in _OWN}


@pytest.mark.parametrize("name", list(ORDERS))
@covers("private.place_order", "stream.place_order")
async def test_a_websocket_order_gives_what_rest_gives(
    name: str, sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    order = ORDERS[name]
    account = sim.create_account(balances={"USD": "1000000", "BTC": "10"})
    client = connect(account, timeout=2.0)
    ack = await client.private.place_order(**order, response_type="ACK")
    full = await client.private.place_order(**order)
    async with client.stream() as ws:
        over_ws = await ws.place_order(**order)
    for result in (ack, full, over_ws):
        assert type(result) is cf.AcceptedOrder
        check_types(result, name)
    # The WebSocket answer carries what REST's ACK answer carries (what it lacks is taken from
    # the request, as REST's results are read); FULL adds what only the exchange knows.
    ws_fields, ack_fields = fields(over_ws), fields(ack)
    if order["order_type"] == "STOP":
        # REST shows a stop order's limit price as its price; the WebSocket answer has no
        # price, and a price is the exchange's to say, never taken from the request.
        assert over_ws.price is None and ack.price == full.price is not None
        del ws_fields["price"], ack_fields["price"]
    assert ws_fields == ack_fields
    shown = {k: v for k, v in fields(over_ws).items() if v is not None}
    assert shown == {k: v for k, v in fields(full).items() if k in shown}
    assert full.status is not None and over_ws.status is None
    placed = [o.client_order_id for o in await client.private.open_orders()]
    assert sorted(placed) == sorted(r.client_order_id for r in (ack, full, over_ws))


@covers("private.place_orders", "stream.place_orders")
async def test_a_websocket_batch_gives_what_a_rest_batch_gives(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    account = sim.create_account(balances={"USD": "1000000", "BTC": "10"})
    client = connect(account, timeout=2.0)
    orders = [
        {**ORDERS["limit, exchange's default time in force"], "price": str(45000 + i)}
        for i in range(25)
    ]
    orders[7] = {**orders[7], "market_code": "NO-SUCH-MARKET"}
    over_rest = await client.private.place_orders(orders, response_type="ACK")
    async with client.stream() as ws:
        over_ws = await ws.place_orders(orders)
    assert [type(r) for r in over_ws] == [cf.OrderResult] * 25
    assert (
        [r.success for r in over_ws]
        == [r.success for r in over_rest]
        == [i != 7 for i in range(25)]
    )
    assert over_ws[7].code is not None and over_rest[7].code is not None
    accepted = [i for i in range(25) if i != 7]
    # A batch item is what the answer says (not filled from the request: only a single-order
    # call promises its fields); the WebSocket echo names what the order named.
    for i in accepted:
        assert (over_ws[i].price, over_ws[i].quantity, over_ws[i].side) == (
            over_rest[i].price,
            over_rest[i].quantity,
            over_rest[i].side,
        )


@pytest.mark.parametrize("recv_window", [0, 3_600_001, True, "5000", 2.5])
async def test_a_bad_recv_window_is_refused_alike_on_both_paths(
    recv_window: Any, sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    account = sim.create_account(balances={"USD": "1000000", "BTC": "10"})
    client = connect(account, timeout=2.0)
    order = ORDERS["limit, exchange's default time in force"]
    with pytest.raises(cf.ValidationError) as over_rest:
        await client.private.place_order(**order, recv_window=recv_window)
    async with client.stream() as ws:
        with pytest.raises(cf.ValidationError) as over_ws:
            await ws.place_order(**order, recv_window=recv_window)
        with pytest.raises(cf.ValidationError) as batch_over_ws:
            await ws.place_orders([order], recv_window=recv_window)
    assert str(over_ws.value) == str(over_rest.value) == str(batch_over_ws.value)
    assert "recv_window" in str(over_rest.value)
    assert await client.private.open_orders() == []
