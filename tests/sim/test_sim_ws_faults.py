"""WebSocket faults in the seeded Fault scheme: clean close, abrupt reset, stalled pushes, a
malformed frame, refused handshakes, a dropped reply (after the command was applied)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from coinflex_async.sim import Fault, SimAccount, Simulator, WebSocketSettings

from ._ws import WsClient

SETTINGS = WebSocketSettings(
    depth_interval=0.02, ticker_interval=0.05, unauthenticated_messages_per_second=None
)
ORDER = {
    "marketCode": "BTC-USD-SWAP-LIN",
    "side": "BUY",
    "orderType": "LIMIT",
    "quantity": 1,
    "price": 49000,
}


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(rate_limits=None, websocket=SETTINGS, seed=7) as simulator:
        yield simulator


@pytest.fixture
def alice(sim: Simulator) -> SimAccount:
    return sim.create_account(balances={"USD": "1000000"})


async def _until_closed(client: WsClient) -> aiohttp.WSMessage:
    while True:
        message = await client.raw()
        if message.type != aiohttp.WSMsgType.TEXT:
            return message


async def test_clean_close_on_a_push(sim: Simulator, session: aiohttp.ClientSession) -> None:
    client = await WsClient.connect(session, sim)
    await client.subscribe("depth:BTC-USD")
    await client.table("depth")
    sim.inject(Fault.ws_close(close_code=1011, op="depth"))
    closed = await _until_closed(client)
    assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 1011
    assert sim.stats.faults_injected["ws_close"] == 1
    await client.close()
    # Others connect and stream as before: the fault fired once.
    again = await WsClient.connect(session, sim)
    await again.subscribe("depth:BTC-USD")
    await again.table("depth")
    await again.close()


async def test_reset_after_applying_the_command(
    sim: Simulator, session: aiohttp.ClientSession, alice: SimAccount
) -> None:
    client = await WsClient.connect(session, sim)
    await client.login(alice)
    sim.inject(Fault.ws_reset(op="placeorder"))
    await client.send({"op": "placeorder", "tag": 1, "data": ORDER})
    dropped = await _until_closed(client)
    # No close frame: the transport just went away.
    assert dropped.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert alice.order_count == 1 and len(alice.open_order_ids) == 1
    assert sim.stats.faults_injected["ws_reset"] == 1
    await client.close()


async def test_stall_holds_pushes_then_sends_them_in_order(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    client = await WsClient.connect(session, sim)
    await client.subscribe("depth:ETH-USD")
    await client.table("depth")
    sim.inject(Fault.ws_stall(seconds=0.5, op="depth"))
    before = time.monotonic()
    previous = await client.table("depth")
    gap = 0.0
    seq_nums = [previous["data"][0]["seqNum"]]
    for _ in range(30):
        message = await client.table("depth")
        now = time.monotonic()
        gap = max(gap, now - before)
        before = now
        seq_nums.append(message["data"][0]["seqNum"])
    assert gap >= 0.4, gap
    # Nothing lost, nothing reordered.
    assert seq_nums == list(range(seq_nums[0], seq_nums[0] + len(seq_nums)))
    assert sim.stats.faults_injected["ws_stall"] == 1
    await client.close()


async def test_malformed_frame_then_the_real_message(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    client = await WsClient.connect(session, sim)
    await client.subscribe("ticker:BTC-USD")
    sim.inject(Fault.ws_malformed(op="ticker"))
    while True:
        frame = await client.raw()
        try:
            json.loads(frame.data)
        except json.JSONDecodeError:
            break
    after = json.loads((await client.raw()).data)
    assert after["table"] == "ticker"
    assert sim.stats.faults_injected["ws_malformed"] == 1
    # The connection goes on.
    assert (await client.table("ticker"))["data"][0]["marketCode"] == "BTC-USD"
    await client.close()


async def test_refuse_new_connections_for_a_while(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    sim.inject(Fault.ws_refuse(seconds=0.4))
    for _ in range(2):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(sim.ws_url)
        assert refused.value.status == 503
    await asyncio.sleep(0.45)
    client = await WsClient.connect(session, sim)
    assert sim.stats.websocket["refused"] == 2
    assert sim.stats.faults_injected["ws_refuse"] == 1
    await client.close()


async def test_drop_reply_after_applying(
    sim: Simulator, session: aiohttp.ClientSession, alice: SimAccount
) -> None:
    client = await WsClient.connect(session, sim)
    await client.login(alice)
    await client.subscribe("order:all")
    sim.inject(Fault.ws_drop_reply(op="placeorder"))
    await client.send({"op": "placeorder", "tag": 1, "data": ORDER})
    opened = await client.table("order")
    assert opened["data"][0]["notice"] == "OrderOpened"
    assert await client.silent(lambda m: m.get("event") == "placeorder", 0.3)
    assert alice.open_order_ids == [opened["data"][0]["orderId"]]
    # Only that one reply was dropped.
    reply = await client.request({"op": "placeorder", "tag": 2, "data": ORDER})
    assert reply["submitted"] is True
    assert sim.stats.faults_injected["ws_drop_reply"] == 1
    await client.close()


async def test_probabilistic_faults_follow_the_seed(session: aiohttp.ClientSession) -> None:
    async def malformed_pattern() -> list[bool]:
        async with Simulator(rate_limits=None, websocket=SETTINGS, seed=42) as sim:
            client = await WsClient.connect(session, sim)
            sim.inject(Fault.ws_malformed(op="subscribe", probability=0.5))
            pattern = []
            for _ in range(12):
                await client.send({"op": "subscribe", "args": ["trade:BTC-USD"]})
                frame = await client.raw()
                try:
                    json.loads(frame.data)
                    pattern.append(False)
                except json.JSONDecodeError:
                    pattern.append(True)
                    await client.raw()  # the reply itself follows
            await client.close()
            return pattern

    first, second = await malformed_pattern(), await malformed_pattern()
    assert first == second and 0 < sum(first) < 12


async def test_rest_faults_leave_websocket_alone(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    sim.inject(Fault.reset_before(times=5))
    client = await WsClient.connect(session, sim)
    await client.subscribe("depth:BTC-USD")
    await client.table("depth")
    assert sim.stats.faults_injected_total == 0
    await client.close()
