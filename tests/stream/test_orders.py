"""stream.orders: WebSocket order commands, answered per tag, recovered as REST orders are."""

from __future__ import annotations

import asyncio
import logging

import pytest

import coinflex_async as cf
from tests.stream.support import (
    LIMIT,
    SWAP,
    client_for,
    until,
)
from tests.ws_loopback import WsExchange


async def test_order_commands_answer_as_futures(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        result = await ws.place_order(**LIMIT, price="54900")
        assert result.success and result.order_id is not None
        assert result.client_order_id is not None and result.client_order_id.isdigit()
        (sent,) = exchange.ops("placeorder")
        assert sent["data"]["price"] == "54900" and sent["data"]["recvWindow"] == 300
        cancelled = await ws.cancel_order(market_code=SWAP, order_id=result.order_id)
        assert cancelled.success
        with pytest.raises(cf.OrderRejectedError) as caught:
            await ws.cancel_order(market_code=SWAP, order_id="999999")
        assert caught.value.code == "100005"
        assert caught.value.status is None and "HTTP" not in str(caught.value)
        assert "WebSocket cancelorder" in str(caught.value)
        with pytest.raises(cf.OrderRejectedError) as rejected:
            await ws.place_order(**{**LIMIT, "market_code": "BAD-MARKET"}, price="1")
        assert rejected.value.code == "20015"
        with pytest.raises(cf.ValidationError):
            await ws.place_order(**LIMIT)  # a LIMIT order needs a price: nothing sent
    tags = [m["tag"] for m in exchange.received if "tag" in m]
    assert len(tags) == len(set(tags))


async def test_a_bad_response_type_is_refused_before_sending(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        with pytest.raises(cf.ValidationError, match="response_type"):
            await ws.place_order(**LIMIT, price="1", response_type="FULLY")  # type: ignore[arg-type]
        with pytest.raises(cf.ValidationError, match="response_type"):
            await ws.cancel_orders([{"market_code": SWAP, "order_id": "1"}], response_type="")  # type: ignore[arg-type]
        # Accepted as REST accepts it; the WebSocket answers in full either way.
        assert (await ws.place_order(**LIMIT, price="1", response_type="ACK")).success
    assert len(exchange.ops("placeorder")) == 1 and exchange.ops("cancelorders") == []


async def test_batches_are_answered_per_order_in_input_order(exchange: WsExchange) -> None:
    exchange.reverse_batches = True
    orders = [{**LIMIT, "price": str(100 + i), "client_order_id": 7000 + i} for i in range(5)]
    orders[2] = {**orders[2], "market_code": "BAD-MARKET"}
    async with client_for(exchange) as client, client.stream() as ws:
        results = await ws.place_orders(orders)
    assert [r.client_order_id for r in results] == [str(7000 + i) for i in range(5)]
    assert [r.success for r in results] == [True, True, False, True, True]
    assert results[2].code == "20015"
    assert len(exchange.ops("placeorders")) == 1


async def test_a_lost_reply_is_settled_by_rest_lookup_never_resent(exchange: WsExchange) -> None:
    exchange.lose_replies = 1
    exchange.drop_after_apply = True
    async with client_for(exchange) as client, client.stream() as ws:
        result = await ws.place_order(**LIMIT, price="54900", client_order_id=4242)
    assert result.success and result.client_order_id == "4242"
    assert result.order_id == exchange.orders["4242"]["orderId"]
    assert len(exchange.ops("placeorder")) == 1


async def test_a_lost_reply_of_an_order_never_applied_is_sent_again(exchange: WsExchange) -> None:
    # The reply times out and the lookup finds nothing once recvWindow has passed: proven
    # absent, so it may go again. Here the first command was applied but its order forgotten
    # by the test server, which stands for "never applied".
    exchange.lose_replies = 1
    async with client_for(exchange, timeout=0.3) as client, client.stream() as ws:
        task = asyncio.ensure_future(ws.place_order(**LIMIT, price="1", client_order_id=77))
        await until(lambda: len(exchange.ops("placeorder")) == 1)
        exchange.orders.clear()
        result = await task
    assert result.success
    assert len(exchange.ops("placeorder")) == 2


async def test_ws_orders_keep_the_accounts_rate(exchange: WsExchange) -> None:
    limits = cf.RateLimits(ws_orders=(cf.Window(10, 0.5),))
    async with client_for(exchange, rate_limits=limits) as client, client.stream() as ws:
        await asyncio.gather(*(ws.place_order(**LIMIT, price=str(i + 1)) for i in range(25)))
    times = sorted(
        int(m["data"]["timestamp"]) for m in exchange.received if m.get("op") == "placeorder"
    )
    assert len(times) == 25
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 500) <= 10


async def test_a_cancelled_place_order_is_settled_in_the_background(
    exchange: WsExchange, caplog: pytest.LogCaptureFixture
) -> None:
    exchange.lose_replies = 1
    caplog.set_level(logging.WARNING, logger="coinflex_async")
    async with client_for(exchange) as client, client.stream() as ws:
        task = asyncio.ensure_future(ws.place_order(**LIMIT, price="3", client_order_id=999))
        await until(lambda: len(exchange.ops("placeorder")) == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as caught:
            await task
        # Python 3.10 raises a fresh CancelledError from the task, the noted one its context.
        raised = (caught.value, caught.value.__context__)
        assert any("999" in note for e in raised for note in getattr(e, "__notes__", []))
        await until(lambda: "applied at the exchange" in caplog.text, timeout=3)
    assert "client_order_id=999" in caplog.text
    assert len(exchange.ops("placeorder")) == 1
