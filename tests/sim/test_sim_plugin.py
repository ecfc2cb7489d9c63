"""The fixture users get from ``pytest_plugins = ["coinflex_async.sim.pytest_plugin"]``."""

from __future__ import annotations

import aiohttp

from coinflex_async.sim import Simulator


async def test_coinflex_sim_fixture_is_a_running_simulator(coinflex_sim: Simulator) -> None:
    assert isinstance(coinflex_sim, Simulator)
    account = coinflex_sim.create_account(balances={"USD": "10"})
    assert account.balance("USD") == 10
    async with (
        aiohttp.ClientSession() as session,
        session.get(coinflex_sim.url + "/v2/ping") as response,
    ):
        assert await response.json() == {"success": "true"}
