"""The WebSocket session as the docs describe it: login, subscriptions, the request and reply
formats, error codes, keep-alive and the connection and message limits."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from coinflex_async.sim import Simulator, WebSocketSettings

from ._ws import WsClient, assert_docs_shape, login_message

# Tests send several requests per second before logging in: lift that limit unless a test
# is about it.
OPEN = WebSocketSettings(unauthenticated_messages_per_second=None)


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(rate_limits=None, websocket=OPEN) as simulator:
        yield simulator


async def test_ws_url_is_the_rest_port_with_the_ws_scheme(sim: Simulator) -> None:
    assert sim.ws_url == sim.url.replace("http://", "ws://") + "/v2/websocket"


async def test_login_as_the_docs_example(sim: Simulator, session: aiohttp.ClientSession) -> None:
    alice = sim.create_account(balances={"USD": "100"})
    client = await WsClient.connect(session, sim)
    reply = await client.login(alice, tag=1)
    assert_docs_shape(reply, "Success response format", nth=0)
    assert reply == {"event": "login", "success": True, "tag": "1", "timestamp": reply["timestamp"]}
    again = await client.request(
        login_message(alice.api_key, alice.api_secret, str(int(time.time() * 1000)), tag="x")
    )
    assert again["success"] is False and again["code"] == "20005" and again["tag"] == "x"
    await client.close()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("key", "20025"),
        ("secret", "20000"),
        ("stale", "20024"),
        ("no_timestamp", "20023"),
    ],
)
async def test_login_refused(
    sim: Simulator, session: aiohttp.ClientSession, change: str, code: str
) -> None:
    alice = sim.create_account()
    now_ms = int(time.time() * 1000)
    timestamp = str(now_ms - 60_000) if change == "stale" else str(now_ms)
    message = login_message(
        "unknown-key" if change == "key" else alice.api_key,
        "wrong-secret" if change == "secret" else alice.api_secret,
        timestamp,
    )
    if change == "no_timestamp":
        del message["data"]["timestamp"]
    client = await WsClient.connect(session, sim)
    reply = await client.request(message)
    assert reply["success"] is False and reply["code"] == code, reply
    assert set(reply) == {"event", "success", "code", "message", "tag", "timestamp"}
    # Still not logged in: private channels stay closed.
    refused = await client.request({"op": "subscribe", "args": ["order:all"]})
    assert refused["code"] == "05001"
    await client.close()


async def test_subscribe_replies_once_per_channel_and_unsubscribe(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    client = await WsClient.connect(session, sim)
    await client.send({"op": "subscribe", "tag": 103, "args": ["depth:BTC-USD", "trade:ETH-USD"]})
    first = await client.next(lambda m: m.get("event") == "subscribe")
    second = await client.next(lambda m: m.get("event") == "subscribe")
    assert_docs_shape(first, "Subscription success response format")
    assert (first["channel"], second["channel"]) == ("depth:BTC-USD", "trade:ETH-USD")
    assert first["tag"] == "103" and first["success"] is True
    await client.table("depth", instrumentId="BTC-USD")
    reply = await client.request({"op": "unsubscribe", "args": ["depth:BTC-USD"]})
    assert reply["success"] is True and reply["channel"] == "depth:BTC-USD"
    await asyncio.sleep(0.1)
    client.inbox.clear()
    assert await client.silent(lambda m: m.get("table") == "depth", 0.3)
    await client.close()


@pytest.mark.parametrize(
    ("channel", "code"),
    [
        ("depth:NOPE-USD", "20015"),
        ("bogus:BTC-USD", "20002"),
        ("order:all", "05001"),
        ("balance:all", "05001"),
        ("position:BTC-USD-SWAP-LIN", "05001"),
    ],
)
async def test_subscription_refused(
    sim: Simulator, session: aiohttp.ClientSession, channel: str, code: str
) -> None:
    client = await WsClient.connect(session, sim)
    reply = await client.request({"op": "subscribe", "tag": "t", "args": [channel]})
    assert_docs_shape(reply, "Subscription failure response format")
    assert reply["success"] is False and reply["code"] == code and reply["tag"] == "t"
    await client.close()


async def test_unreadable_requests_get_the_documented_codes(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    client = await WsClient.connect(session, sim)
    bad_json = await client.request("{not json", event="error")
    assert_docs_shape(
        bad_json, "Failure response format", section="## Error Codes", extra={"timestamp"}
    )
    assert bad_json["code"] == "20009" and bad_json["success"] is False
    unknown = await client.request({"op": "dance", "tag": 5})
    assert (unknown["code"], unknown["tag"]) == ("20003", "5")
    long_tag = await client.request({"op": "subscribe", "tag": "x" * 33, "args": ["depth:BTC-USD"]})
    assert long_tag["code"] == "20034"
    ok_tag = await client.request({"op": "subscribe", "tag": "y" * 32, "args": ["trade:BTC-USD"]})
    assert ok_tag["success"] is True and ok_tag["tag"] == "y" * 32
    too_long = await client.request(
        {"op": "subscribe", "args": ["trade:BTC-USD"] * 400}, event="error"
    )
    assert too_long["code"] == "20027"
    await client.close()


async def test_commands_before_login_are_refused(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    client = await WsClient.connect(session, sim)
    order = {"marketCode": "BTC-USD", "side": "BUY", "orderType": "MARKET", "quantity": 1}
    for op, body in (("placeorder", {"data": order}), ("cancelorders", {"dataArray": [order]})):
        reply = await client.request({"op": op, "tag": 9, **body}, event=op.rstrip("s"))
        assert reply["submitted"] is False and reply["code"] == "05001", reply
    await client.close()


async def test_ping_pong_text_and_protocol(sim: Simulator, session: aiohttp.ClientSession) -> None:
    client = await WsClient.connect(session, sim)
    await client.ws.send_str("ping")
    message = await client.raw()
    assert message.data == "pong"
    await client.ws.ping(b"hello")
    message = await client.raw()
    assert message.type == aiohttp.WSMsgType.PONG and message.data == b"hello"
    await client.close()


async def test_idle_connection_without_subscription_is_closed(
    session: aiohttp.ClientSession,
) -> None:
    settings = WebSocketSettings(idle_timeout=0.3, unauthenticated_messages_per_second=None)
    async with Simulator(rate_limits=None, websocket=settings) as sim:
        idle = await WsClient.connect(session, sim)
        pinging = await WsClient.connect(session, sim)
        subscribed = await WsClient.connect(session, sim)
        await subscribed.subscribe("ticker:BTC-USD")
        for _ in range(8):  # 0.8 s of pings every 0.1 s keep it open
            await pinging.ws.send_str("ping")
            await asyncio.sleep(0.1)
        closed = await idle.raw()
        assert closed.type == aiohttp.WSMsgType.CLOSE
        assert not pinging.ws.closed and not subscribed.ws.closed
        assert sim.stats.websocket["closed_idle"] == 1
        for client in (pinging, subscribed):
            await client.close()


async def test_unauthenticated_message_limit_is_one_per_second(
    session: aiohttp.ClientSession,
) -> None:
    async with Simulator() as sim:  # the docs' limits
        client = await WsClient.connect(session, sim)
        first = await client.request({"op": "subscribe", "args": ["trade:BTC-USD"]})
        second = await client.request({"op": "subscribe", "args": ["trade:ETH-USD"]})
        assert first["success"] is True
        assert second["success"] is False and second["code"] == "20007"
        await asyncio.sleep(1.05)
        third = await client.request({"op": "subscribe", "args": ["trade:ETH-USD"]})
        assert third["success"] is True
        assert sim.stats.websocket["rate_limited"] == 1
        await client.close()


async def test_connections_per_minute_limit(session: aiohttp.ClientSession) -> None:
    async with Simulator(
        rate_limits=None, websocket=WebSocketSettings(connections_per_minute=3)
    ) as sim:
        clients = [await WsClient.connect(session, sim) for _ in range(3)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(sim.ws_url)
        assert refused.value.status == 429
        assert sim.stats.websocket["refused"] == 1
        for client in clients:
            await client.close()


async def test_websocket_does_not_count_as_rest_requests(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    client = await WsClient.connect(session, sim)
    await client.subscribe("trade:BTC-USD")
    assert sim.stats.requests == 0 and sim.stats.websocket["connections"] == 1
    await client.close()


async def test_closing_the_simulator_closes_connections(session: aiohttp.ClientSession) -> None:
    sim = Simulator(rate_limits=None, websocket=OPEN)
    await sim.start()
    client = await WsClient.connect(session, sim)
    await client.subscribe("depth:BTC-USD")
    await sim.close()
    while True:
        message = await client.raw()
        if message.type != aiohttp.WSMsgType.TEXT:
            break
        json.loads(message.data)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await client.close()


async def test_a_client_that_stops_reading_is_cut_off(session: aiohttp.ClientSession) -> None:
    settings = WebSocketSettings(
        depth_interval=0.002,
        max_send_buffer=64 * 1024,
        unauthenticated_messages_per_second=None,
    )
    async with Simulator(rate_limits=None, websocket=settings) as sim:
        sim.add_liquidity(["BTC-USD"], levels=190)  # ~10 kB per depth message
        ws = await session.ws_connect(sim.ws_url)
        # A small receive buffer so the kernel holds little for the client.
        sock = ws.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        await ws.send_str(json.dumps({"op": "subscribe", "args": ["depth:BTC-USD"]}))
        # Never read: aiohttp stops taking data off the socket, the kernel's buffers fill, and
        # then the simulator's own buffer passes max_send_buffer.
        for _ in range(400):  # up to 20 s on a loaded machine
            if sim.stats.websocket["closed_slow"]:
                break
            await asyncio.sleep(0.05)
        assert sim.stats.websocket["closed_slow"] == 1
        assert not sim.gateway.connections
        await ws.close()


async def test_no_rest_rate_limits_means_no_websocket_limits(
    session: aiohttp.ClientSession,
) -> None:
    async with Simulator(rate_limits=None) as sim:
        client = await WsClient.connect(session, sim)
        for channel in ("trade:BTC-USD", "trade:ETH-USD", "ticker:BTC-USD"):
            reply = await client.request({"op": "subscribe", "args": [channel]})
            assert reply["success"] is True, reply
        await client.close()
