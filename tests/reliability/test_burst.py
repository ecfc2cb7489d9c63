"""The exchange's whole burst from one client: 100 per second until 2,500 are used in any
5 minutes, then not one more before the first of them has aged out.

Full run (``nox -s reliability``): the default limits on both sides, 2,501 calls (over 5
minutes). The normal suite: 100 per second and 500 per 6 s.
"""

from __future__ import annotations

import asyncio
import time

import pytest

import coinflex_async as cf
from coinflex_async.sim import RateLimit, RateLimits, Simulator
from tests.reliability.test_reliability import FULL, record

PER_SECOND = 100
LONG = (2500, 300.0) if FULL else (500, 6.0)
# The long window's budget at 100 per second: one window after another, each a little longer
# than a second (a request counts until its answer came, then a second).
BUDGET_WITHIN = 26.0 if FULL else 5.6

pytestmark = pytest.mark.slow


async def test_the_long_windows_budget_goes_at_the_short_windows_rate_then_waits() -> None:
    sim_limits = RateLimits(
        (RateLimit("per_second", PER_SECOND, 1.0), RateLimit("long", LONG[0], LONG[1]))
    )
    limits = cf.RateLimits(rest=(cf.Window(PER_SECOND, 1.0), cf.Window(*LONG)))
    async with Simulator(rate_limits=sim_limits) as sim:
        async with cf.Client(base_url=sim.url, rate_limits=limits, retry=None) as client:
            started = time.monotonic()
            await asyncio.gather(*(client.public.ping() for _ in range(LONG[0])))
            budget_took = time.monotonic() - started
            await client.public.ping()
        arrivals = sim.stats.arrivals["long"]
    figures = {
        "windows": f"{PER_SECOND} per 1 s, {LONG[0]} per {LONG[1]:g} s",
        "budget_calls": LONG[0],
        "budget_seconds": round(budget_took, 2),
        "next_call_after_first_s": round(arrivals[LONG[0]] - arrivals[0], 3),
        "responses_429": sim.stats.rate_limited,
        "max_in_1s_window": sim.stats.max_in_window("per_second"),
        "max_in_long_window": sim.stats.max_in_window("long"),
    }
    record("whole_burst", figures)
    assert sim.stats.rate_limited == 0
    assert figures["max_in_1s_window"] <= PER_SECOND
    assert figures["max_in_long_window"] <= LONG[0]
    assert budget_took <= BUDGET_WITHIN
    assert arrivals[LONG[0]] - arrivals[0] >= LONG[1]
