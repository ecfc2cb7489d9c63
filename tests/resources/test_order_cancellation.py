"""Cancelling an order call whose request is on the wire: the caller's CancelledError comes at
once (naming the client order IDs), and the orders are settled in the background by lookup,
the outcome logged at WARNING with each client_order_id; nothing is sent again."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

import coinflex_async as cf
from tests.loopback import Recorded, RecordingServer, Reply

PLACE = "/v2/orders/place"
HISTORY = "/v2.1/orders"
ORDER = {
    "market_code": "BTC-USD-SWAP-LIN",
    "side": "BUY",
    "quantity": "0.001",
    "order_type": "LIMIT",
    "price": "54900",
}
FAST = cf.RetryPolicy(attempts=3, backoff=0.01, lookup_interval=0.05)


def history_of(found: bool) -> Any:
    def reply(recorded: Recorded) -> Reply:
        coid = recorded.query.partition("clientOrderId=")[2].partition("&")[0]
        items = (
            [
                {
                    "status": "OrderOpened",
                    "orderId": "77",
                    "clientOrderId": coid,
                    "marketCode": "BTC-USD-SWAP-LIN",
                    "price": "54900",
                    "quantity": "0.001",
                }
            ]
            if found
            else []
        )
        return 200, {"event": "orders", "data": items}, {}

    return reply


async def slow_place(recorded: Recorded) -> Reply:
    await asyncio.sleep(1)  # the answer comes too late: the caller cancels first
    return 200, {"data": []}, {}


async def until(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("applied", [True, False])
async def test_a_cancelled_place_order_is_settled_and_logged(
    recorder: tuple[RecordingServer, str], caplog: pytest.LogCaptureFixture, applied: bool
) -> None:
    server, url = recorder
    server.reply("POST", PLACE, slow_place)
    server.reply("GET", HISTORY, history_of(applied))
    caplog.set_level(logging.WARNING, logger="coinflex_async")
    async with cf.Client("k", "s", base_url=url, retry=FAST, recv_window=200) as client:
        task = asyncio.ensure_future(client.private.place_order(**ORDER, client_order_id=555))
        await until(lambda: any(r.path == PLACE for r in server.requests))
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as caught:
            await task
        # Python 3.10 raises a fresh CancelledError from the task, the noted one its context.
        raised = (caught.value, caught.value.__context__)
        assert any("555" in note for e in raised for note in getattr(e, "__notes__", []))
        outcome = "applied at the exchange" if applied else "not applied at the exchange"
        await until(lambda: outcome in caplog.text)
    assert "client_order_id=555" in caplog.text
    assert sum(r.path == PLACE for r in server.requests) == 1  # never sent again
    assert any(r.path == HISTORY and "clientOrderId=555" in r.query for r in server.requests)


async def test_a_place_order_cancelled_before_sending_settles_nothing(
    recorder: tuple[RecordingServer, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = recorder
    server.json_reply("GET", "/v2/ping", {"success": "true"})
    limits = cf.RateLimits(rest=(cf.Window(1, 5.0),))
    caplog.set_level(logging.WARNING, logger="coinflex_async")
    async with cf.Client("k", "s", base_url=url, rate_limits=limits) as client:
        await client.public.ping()  # takes the only token of the window
        task = asyncio.ensure_future(client.private.place_order(**ORDER))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.1)
    assert not any(r.path == PLACE for r in server.requests)
    assert "cancelled" not in caplog.text
