"""Commands that wait out a reconnect (stream.retries.on_next_connection,
Connection.until_ready): issued while the connection is down, reconnecting or logging in
again, they wait for the next connection and are sent there once; bounded by the client's
timeout. Against the simulator's WebSocket faults, over real sockets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.sim import Fault, Simulator
from tests.stream.support import SWAP, until

# One attempt: an order that went through only because it waited for the next connection,
# never because order recovery sent it again.
ONCE = cf.RetryPolicy(attempts=1, backoff=0.01, max_backoff=0.05, lookup_interval=0.05)
ORDER = {"market_code": SWAP, "side": "BUY", "quantity": "0.001", "order_type": "LIMIT"}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(rate_limits=None, seed=3) as simulator:
        yield simulator


def client(sim: Simulator, timeout: float = 3.0) -> tuple[Any, cf.Client]:
    account = sim.create_account(balances={"USD": "1000000"})
    return account, cf.Client(
        account.api_key,
        account.api_secret,
        base_url=sim.url,
        retry=ONCE,
        timeout=timeout,
        recv_window=5000,
    )


async def drop(sim: Simulator, ws: cf.Stream) -> None:
    """Reset the connection on the next depth push; return once the stream knows."""
    sim.inject(Fault.ws_reset(op="depth"))
    await until(lambda: not ws.connected)


async def test_an_order_issued_during_a_reconnect_whose_login_is_reset_waits_and_is_placed_once(
    sim: Simulator,
) -> None:
    account, c = client(sim)
    async with c, c.stream() as ws:
        await ws.place_order(**ORDER, price="45500", client_order_id=1)  # logged in
        await ws.subscribe(f"depthL5:{SWAP}")
        # The reconnect: handshakes refused for 0.3 s, then two logins reset as answered.
        sim.inject(Fault.ws_refuse(seconds=0.3))
        sim.inject(Fault.ws_reset(op="login", times=2))
        await drop(sim, ws)
        started = time.monotonic()
        result = await ws.place_order(**ORDER, price="45501", client_order_id=2)
        waited = time.monotonic() - started
        assert result.success and result.client_order_id == "2"
        assert ws.connected and ws.reconnects == 1
    assert len(account.orders_with_client_id("2")) == 1
    injected = sim.stats.faults_injected
    assert injected["ws_reset"] == 3 and injected["ws_refuse"] >= 1  # every fault fired
    # It waited out the refusals and both reset logins, each failing its attempt at once (not
    # after the 3 s a lost login answer is waited for).
    assert 0.25 < waited < 2.0


async def test_a_subscribe_issued_during_a_reconnect_waits_and_is_confirmed_once(
    sim: Simulator,
) -> None:
    _, c = client(sim)
    async with c, c.stream() as ws:
        await ws.subscribe(f"depthL5:{SWAP}")
        await ws.place_order(**ORDER, price="45500")  # logged in: logs in again after a drop
        sim.inject(Fault.ws_refuse(seconds=0.3))
        sim.inject(Fault.ws_reset(op="login", times=1))
        await drop(sim, ws)
        orders = await ws.subscribe_orders()  # private: needs the re-login
        trades = await ws.subscribe_trades(SWAP)
        assert ws.connected and ws.reconnects == 1
        placed = await ws.place_order(**ORDER, price="45502")
        event = await orders.__anext__()
        while not isinstance(event, cf.OrderEvent):  # a Resynced may come first
            event = await orders.__anext__()
        assert event.order_id == placed.order_id
        await trades.aclose()
    assert sim.stats.faults_injected["ws_reset"] == 2


async def test_an_order_waits_no_longer_than_the_timeout_and_is_not_sent(
    sim: Simulator,
) -> None:
    account, c = client(sim, timeout=0.5)
    async with c, c.stream() as ws:
        await ws.place_order(**ORDER, price="45500")
        await ws.subscribe(f"depthL5:{SWAP}")
        sim.inject(Fault.ws_refuse(seconds=3.0))
        await drop(sim, ws)
        started = time.monotonic()
        with pytest.raises(cf.TransportError) as caught:
            await ws.place_order(**ORDER, price="45503", client_order_id=3)
        took = time.monotonic() - started
        assert caught.value.request_sent is False  # nothing left: safe to send again
        assert 0.4 < took < 2.0
    assert account.orders_with_client_id("3") == []
