"""stream.session: subscribe, share, refuse, log in (once, signed as the docs say)."""

from __future__ import annotations

import asyncio
import time

import pytest

import coinflex_async as cf
from tests.stream.support import (
    FAST,
    KEY,
    LIMIT,
    SECRET,
    SWAP,
    book,
    client_for,
    until,
)
from tests.ws_loopback import WsExchange, docs_login_signature


async def test_consumers_of_one_channel_share_one_subscription(exchange: WsExchange) -> None:
    channel = f"depthL5:{SWAP}"
    async with client_for(exchange) as client, client.stream() as ws:
        first = await ws.subscribe(channel)
        second = await ws.subscribe(channel)
        assert len(exchange.ops("subscribe")) == 1
        await exchange.push(channel, "depthL5", [book(1)])
        assert (await asyncio.wait_for(first.__anext__(), 2)).seq_num == 1
        assert (await asyncio.wait_for(second.__anext__(), 2)).seq_num == 1
        await first.aclose()
        await asyncio.sleep(0.1)
        assert exchange.ops("unsubscribe") == []  # the second reader still reads it
        await second.aclose()
        await until(lambda: len(exchange.ops("unsubscribe")) == 1)
        assert exchange.ops("unsubscribe")[0]["args"] == [channel]


async def test_a_refused_channel_raises_the_docs_code(exchange: WsExchange) -> None:
    exchange.refused["depth:NOPE"] = "20015"
    async with client_for(exchange) as client, client.stream() as ws:
        with pytest.raises(cf.APIError) as caught:
            await ws.subscribe("depth:NOPE")
        assert caught.value.code == "20015"
        # No HTTP answer carried it: no HTTP status, and the text says where it came from.
        assert caught.value.status is None
        assert "HTTP" not in str(caught.value) and "WebSocket subscribe" in str(caught.value)
        with pytest.raises(cf.ValidationError):
            await ws.subscribe("nonsense:X")


async def test_private_channels_log_in_once_with_the_docs_signature(exchange: WsExchange) -> None:
    async with client_for(exchange) as client, client.stream() as ws:
        await ws.subscribe("order:all")
        await ws.subscribe("balance:all", "position:all")
    (login,) = exchange.ops("login")
    data = login["data"]
    assert data["apiKey"] == KEY
    assert data["signature"] == docs_login_signature(SECRET, data["timestamp"])
    assert abs(int(data["timestamp"]) - time.time() * 1000) < 10_000


async def test_private_channels_without_credentials_fail_before_sending(
    exchange: WsExchange,
) -> None:
    async with cf.Client(base_url=exchange.url) as client, client.stream() as ws:  # type: ignore[attr-defined]
        with pytest.raises(cf.AuthenticationError):
            await ws.subscribe("order:all")
        with pytest.raises(cf.AuthenticationError):
            await ws.place_order(**LIMIT, price="1")
    assert exchange.ops("login") == [] and exchange.ops("subscribe") == []


async def test_a_refused_login_is_an_authentication_error_without_http(
    exchange: WsExchange,
) -> None:
    async with (
        cf.Client(KEY, "not-the-secret", base_url=exchange.url, retry=FAST) as client,  # type: ignore[attr-defined]
        client.stream() as ws,
    ):
        with pytest.raises(cf.AuthenticationError) as caught:
            await ws.subscribe("order:all")
    assert caught.value.code == "20000" and caught.value.status is None
    assert "HTTP" not in str(caught.value) and "WebSocket login" in str(caught.value)
