"""The Simulator object: lifecycle, accounts, custom markets."""

from __future__ import annotations

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
        Simulator(markets=[doge], rate_limits=None) as sim,
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
