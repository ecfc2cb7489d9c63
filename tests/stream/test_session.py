"""stream.session: subscribe, share, refuse, log in (once, signed as the docs say)."""

from __future__ import annotations

import asyncio
import logging
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


async def test_concurrent_subscribes_on_a_public_stream_go_out_together(
    exchange: WsExchange, caplog: pytest.LogCaptureFixture
) -> None:
    """Before login the exchange takes one message a second: a scanner subscribing one market
    per call waited a second per call (8 markets: 7.35 s). Calls made while a message waits
    for its second go out in it, and the wait is logged once."""
    markets = [f"M{i}-USD-SWAP-LIN" for i in range(8)]
    caplog.set_level(logging.INFO, logger="coinflex_async")
    async with cf.Client(base_url=exchange.url) as client, client.stream() as ws:  # type: ignore[attr-defined]
        started = time.monotonic()
        feeds = await asyncio.gather(*(ws.subscribe(f"trade:{m}") for m in markets))
        took = time.monotonic() - started
        more = await asyncio.gather(ws.subscribe(f"ticker:{SWAP}"), ws.subscribe(f"market:{SWAP}"))
        await exchange.trade(markets[5])
        got = await asyncio.wait_for(feeds[5].__anext__(), 2)
    assert got.market_code == markets[5] and len(more) == 2
    messages = exchange.ops("subscribe")
    # Calls made together go in one message; the next two wait for the next second, together.
    assert [m["args"] for m in messages] == [
        [f"trade:{m}" for m in markets],
        [f"ticker:{SWAP}", f"market:{SWAP}"],
    ]
    assert took < 1.0
    told = [r for r in caplog.records if "one message per second" in r.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.INFO


async def test_a_refused_channel_in_a_shared_message_fails_only_its_own_call(
    exchange: WsExchange,
) -> None:
    exchange.refused["trade:NOPE"] = "20015"
    async with cf.Client(base_url=exchange.url) as client, client.stream() as ws:  # type: ignore[attr-defined]
        await ws.subscribe(f"ticker:{SWAP}")  # the next message waits for its second
        good, bad, also_good = await asyncio.gather(
            ws.subscribe(f"trade:{SWAP}"),
            ws.subscribe("trade:NOPE"),
            ws.subscribe(f"depthL5:{SWAP}"),
            return_exceptions=True,
        )
        assert isinstance(good, cf.Subscription) and isinstance(also_good, cf.Subscription)
        assert isinstance(bad, cf.APIError) and bad.code == "20015"
        assert [m["args"] for m in exchange.ops("subscribe")][1] == [
            f"trade:{SWAP}",
            "trade:NOPE",
            f"depthL5:{SWAP}",
        ]
        await exchange.trade(SWAP)
        assert (await asyncio.wait_for(good.__anext__(), 2)).market_code == SWAP


async def test_the_pre_login_pacing_counts_per_connection(exchange: WsExchange) -> None:
    """One message per second before login is the exchange's rule per connection: a public
    stream's new connection subscribes again at once, not a second after the message the lost
    connection sent last."""
    async with cf.Client(base_url=exchange.url, retry=FAST) as client, client.stream() as ws:  # type: ignore[attr-defined]
        await ws.subscribe(f"trade:{SWAP}")
        started = time.monotonic()
        await exchange.drop()
        await until(lambda: len(exchange.ops("subscribe")) == 2 and ws.connected)
        took = time.monotonic() - started
        assert ws.reconnects == 1
    assert took < 0.7
