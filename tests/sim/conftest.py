"""Fixtures: a running Simulator (rate limits off unless a test builds its own), an aiohttp
session, and traders on freshly funded accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
import pytest_asyncio

from coinflex_async.sim import Simulator

from ._helpers import Trader


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(rate_limits=None, liquidity=False) as simulator:
        yield simulator


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def trader(sim: Simulator, session: aiohttp.ClientSession) -> Callable[..., Trader]:
    """trader(balances) -> a Trader on a new account with those balances."""

    def make(balances: dict[str, str] | None = None) -> Trader:
        funded = (
            balances
            if balances is not None
            else {"USD": "1000000", "BTC": "100", "ETH": "1000", "FLEX": "100000"}
        )
        return Trader(session, sim, sim.create_account(balances=funded))

    return make


@pytest.fixture
def public(sim: Simulator, session: aiohttp.ClientSession) -> Trader:
    return Trader(session, sim, None)
