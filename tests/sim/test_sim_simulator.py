"""The Simulator object: lifecycle, accounts, custom markets, a client hanging up."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import aiohttp
import pytest

from coinflex_async.sim import MarketSpec, MarketType, Simulator

from ._helpers import Trader, order_item


async def test_start_and_close_explicitly() -> None:
    sim = Simulator()
    with pytest.raises(RuntimeError):
        _ = sim.url
    await sim.start()
    try:
        assert sim.url == f"http://127.0.0.1:{sim.port}"
        with pytest.raises(RuntimeError):
            await sim.start()
        async with (
            aiohttp.ClientSession() as session,
            session.get(sim.url + "/v2/ping") as response,
        ):
            assert response.status == 200
    finally:
        await sim.close()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(sim.url + "/v2/ping")
    await sim.close()  # closing twice is harmless


async def test_accounts() -> None:
    async with Simulator() as sim:
        alice = sim.create_account(
            {"USD": "100", "BTC": 2}, api_key="alice-key", api_secret="s3cret"
        )
        assert (alice.api_key, alice.api_secret) == ("alice-key", "s3cret")
        assert alice.account_id.isdigit()
        assert "s3cret" not in repr(alice)
        assert sim.account("alice-key").account_id == alice.account_id
        with pytest.raises(ValueError):
            sim.create_account(api_key="alice-key")
        bob = sim.create_account()
        assert bob.api_key != alice.api_key and bob.account_id != alice.account_id
        assert bob.balance("USD") == 0
        bob.deposit("USD", "12.5")
        assert (bob.balance("USD"), bob.available("USD"), bob.reserved("USD")) == (
            Decimal("12.5"),
        ) * 2 + (0,)


async def test_custom_markets() -> None:
    doge = MarketSpec(
        "DOGE-USD", MarketType.SPOT, "DOGE", "USD", Decimal("0.0001"), Decimal(10), Decimal("0.1")
    )
    async with (
        Simulator(markets=[doge], rate_limits=None, liquidity=False) as sim,
        aiohttp.ClientSession() as session,
    ):
        public = Trader(session, sim, None)
        markets = (await public.get("/v2/all/markets")).data
        assert [(m["marketCode"], m["tickSize"], m["qtyIncrement"]) for m in markets] == [
            ("DOGE-USD", "0.0001", "10")
        ]
        alice = Trader(session, sim, sim.create_account({"USD": "100"}))
        good, bad = await alice.place(
            order_item(market="DOGE-USD", quantity="20", price="0.1001"),
            order_item(market="DOGE-USD", quantity="15", price="0.1"),
        )
        assert (good["success"], bad["code"]) == ("true", "20001")
        assert (await public.get("/v2/depth/BTC-USD-SWAP-LIN/5")).status == 404


async def test_a_client_hanging_up_mid_request_is_logged_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="coinflex_async.sim")
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    async with Simulator(rate_limits=None) as sim:
        _reader, writer = await asyncio.open_connection(sim.host, sim.port)
        # Headers promise 100 bytes of body; one arrives, then the connection closes.
        writer.write(
            f"POST /v2/orders/place HTTP/1.1\r\nHost: {sim.host}:{sim.port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        for _ in range(100):  # until the server has noticed (at most ~5 s)
            if any("disconnected" in record.getMessage() for record in caplog.records):
                break
            await asyncio.sleep(0.05)
    noticed = [r for r in caplog.records if "client disconnected" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in noticed] == [
        (logging.DEBUG, "client disconnected during POST /v2/orders/place")
    ]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert sim.stats.by_status[499] == 1
