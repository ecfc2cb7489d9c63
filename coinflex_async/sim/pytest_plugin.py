"""A pytest fixture for tests against the simulator.

Enable it in a ``conftest.py``::

    pytest_plugins = ["coinflex_async.sim.pytest_plugin"]

    async def test_balances(coinflex_sim):
        account = coinflex_sim.create_account(balances={"USD": "1000"})
        ...

The simulator enforces the exchange's published rate limits; for other options (no limits,
a ManualClock, fault seeds) write a fixture of your own around ``Simulator(...)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from ._simulator import Simulator

__all__ = ["coinflex_sim"]


@pytest_asyncio.fixture
async def coinflex_sim() -> AsyncIterator[Simulator]:
    """A started ``Simulator`` on a free loopback port, closed after the test."""
    async with Simulator() as simulator:
        yield simulator
