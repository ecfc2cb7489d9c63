"""stream.orders: WebSocket order commands, answered per tag, recovered as REST orders are."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import Counter
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async._batches import WS_MAX_MESSAGE_LENGTH
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
        assert type(result) is cf.AcceptedOrder  # as REST's place_order
        assert result.success and result.order_id is not None
        # The answer echoes the order, which named no time in force: the exchange's default.
        assert (result.time_in_force, result.order_type, result.status) == ("GTC", "LIMIT", None)
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
    # Rebuilt from the history, which here shows no type: the request states it.
    assert type(result) is cf.AcceptedOrder and result.order_type == "LIMIT"
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


def _placed_batches(exchange: WsExchange) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each ``placeorders`` message as it came (its text) with its orders."""
    return [
        (text, message["dataArray"])
        for text, message in zip(exchange.texts, exchange.received, strict=True)
        if message.get("op") == "placeorders"
    ]


async def test_a_batch_goes_in_messages_of_up_to_20_orders(exchange: WsExchange) -> None:
    orders = [{**LIMIT, "price": str(100 + i), "client_order_id": 9000 + i} for i in range(45)]
    async with client_for(exchange) as client, client.stream() as ws:
        results = await ws.place_orders(orders)
    assert [r.client_order_id for r in results] == [str(9000 + i) for i in range(45)]
    assert all(r.success for r in results)
    batches = _placed_batches(exchange)
    assert sorted(len(items) for _, items in batches) == [5, 20, 20]
    assert all(len(text) <= WS_MAX_MESSAGE_LENGTH for text, _ in batches)
    sent = sorted((item for _, items in batches for item in items), key=lambda i: i["price"])
    assert [item["clientOrderId"] for item in sent] == [str(9000 + i) for i in range(45)]
    # Every order carries the window (the docs' WebSocket form), stamped when it left.
    assert {item["recvWindow"] for item in sent} == {300}
    assert all(abs(item["timestamp"] - time.time() * 1000) < 5000 for item in sent)


async def test_long_orders_are_packed_up_to_the_message_length(exchange: WsExchange) -> None:
    # About 270 characters an order: fewer than 20 fit in a message.
    market = "M" * 64
    price = "1." + "1" * 40
    orders = [
        {**LIMIT, "market_code": market, "price": price, "client_order_id": 10**18 + i}
        for i in range(40)
    ]
    async with client_for(exchange) as client, client.stream() as ws:
        results = await ws.place_orders(orders)
    assert all(r.success for r in results)
    assert [r.client_order_id for r in results] == [str(10**18 + i) for i in range(40)]
    batches = sorted(_placed_batches(exchange), key=lambda b: int(b[1][0]["clientOrderId"]))
    assert len(batches) > 2 and all(len(items) < 20 for _, items in batches)
    for (text, _), (_, following) in itertools.pairwise(batches):
        assert len(text) <= WS_MAX_MESSAGE_LENGTH
        # Full: the next order (compact, as sent) would not have fit, with the tag counted at
        # its longest (32 characters, the docs).
        tag = json.loads(text)["tag"]
        spare = 32 - len(tag)
        next_order = json.dumps(following[0], separators=(",", ":"))
        assert len(text) + spare + 1 + len(next_order) > WS_MAX_MESSAGE_LENGTH
    assert len(batches[-1][0]) <= WS_MAX_MESSAGE_LENGTH


async def test_a_split_batch_whose_reply_is_lost_is_placed_exactly_once(
    exchange: WsExchange,
) -> None:
    # The first message handled is applied and its reply lost with the connection. Every
    # order of a message whose answer was lost is looked up before anything is sent again.
    exchange.lose_replies = 1
    exchange.drop_after_apply = True
    orders = [{**LIMIT, "price": str(100 + i), "client_order_id": 8000 + i} for i in range(45)]
    async with client_for(exchange) as client, client.stream() as ws:
        results = await ws.place_orders(orders)
    assert [r.client_order_id for r in results] == [str(8000 + i) for i in range(45)]
    assert all(r.success for r in results)
    applied = Counter(
        str(item["clientOrderId"]) for _, items in _placed_batches(exchange) for item in items
    )
    assert applied == Counter(str(8000 + i) for i in range(45))  # each once
    # The lost message's orders were settled by lookup (a result rebuilt from the history
    # has its notice), not sent again.
    assert sum(r.notice == "OrderOpened" for r in results) >= 5
    assert {r.order_id for r in results} == {o["orderId"] for o in exchange.orders.values()}


async def test_an_empty_batch_is_refused_as_rest_refuses_it(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        with pytest.raises(cf.ValidationError) as over_ws:
            await ws.place_orders([])
        with pytest.raises(cf.ValidationError) as over_rest:
            await client.private.place_orders([])
    assert str(over_ws.value) == str(over_rest.value)
    assert exchange.ops("placeorders") == []
