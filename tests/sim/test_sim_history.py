"""Long histories in the simulator: ``seed_history`` and the history endpoints' rules (7-day
windows, ``limit`` maxima, newest ``limit`` items first), read with plain signed aiohttp
requests written from the docs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from coinflex_async.sim import ManualClock, SimAccount, Simulator

from ._helpers import Trader

DAY = 86_400_000
T0 = 1_640_995_200_000  # 2022-01-01T00:00:00Z
NOW = T0 + 40 * DAY
SWAP = "BTC-USD-SWAP-LIN"


@pytest_asyncio.fixture
async def seeded() -> AsyncIterator[tuple[Simulator, SimAccount, Trader]]:
    clock = ManualClock(NOW / 1000)
    async with (
        Simulator(rate_limits=None, clock=clock) as sim,
        aiohttp.ClientSession() as session,
    ):
        alice = sim.create_account({"USD": "1000"})
        counts = sim.seed_history(
            alice, start=T0, end=T0 + 30 * DAY - 1, trades_per_day=150, events_per_day=20
        )
        assert counts.trades == 4500
        yield sim, alice, Trader(session, sim, alice)


async def test_seeded_history_is_the_same_for_the_same_seed() -> None:
    clock = ManualClock(NOW / 1000)
    async with (
        Simulator(rate_limits=None, clock=clock) as one,
        Simulator(rate_limits=None, clock=clock) as two,
    ):
        a, b = one.create_account(), two.create_account()
        counts = [
            sim.seed_history(acct, start=T0, end=T0 + 3 * DAY, trades_per_day=50, seed=9)
            for sim, acct in ((one, a), (two, b))
        ]
        assert counts[0] == counts[1]
        fills = [
            [
                (f.timestamp, f.price, f.quantity, f.order.side)
                for f in sim.engine.accounts[acct.account_id].trades[SWAP]
            ]
            for sim, acct in ((one, a), (two, b))
        ]
        assert fills[0] == fills[1] and len(fills[0]) == 150
        other = one.create_account()
        one_more = one.seed_history
        with pytest.raises(ValueError, match="already has trades"):
            one_more(other, start=T0, end=T0 + DAY, trades_per_day=10, seed=10)


HISTORIES_OF_7_DAYS = [
    f"/v2/trades/{SWAP}",
    "/v2.1/orders",
    "/v2/mint/flexUSD",
    "/v2/redeem/flexUSD",
    "/v2/borrow/BTC",
    "/v2/repay/BTC",
    f"/v2/publictrades/{SWAP}",
]


async def test_more_than_7_days_apart_is_refused(
    seeded: tuple[Simulator, SimAccount, Trader],
) -> None:
    _, _, alice = seeded
    for path in HISTORIES_OF_7_DAYS:
        refused = await alice.get(path, startTime=T0, endTime=T0 + 7 * DAY + 1)
        assert refused.status == 400, path
        assert refused.json["code"] == "20001"
        assert "7 days" in refused.json["message"]
        assert (await alice.get(path, startTime=T0, endTime=T0 + 7 * DAY)).status == 200, path


# path, extra query, maximum limit, whether the seeded week holds more than that
LIMITS = [
    (f"/v2/trades/{SWAP}", {}, 1000, True),
    ("/v2.1/orders", {}, 100, True),
    ("/v2/mint/flexUSD", {}, 100, True),
    ("/v2/borrow/BTC", {}, 100, True),
    (f"/v2/publictrades/{SWAP}", {}, 300, True),
    ("/v2/funding-payments", {"marketCode": SWAP}, 500, False),
    (f"/v2/funding-rates/{SWAP}", {}, 500, False),
]


async def test_limits_above_the_maximum_are_refused(
    seeded: tuple[Simulator, SimAccount, Trader],
) -> None:
    _, _, alice = seeded
    window = {"startTime": T0, "endTime": T0 + 7 * DAY}
    for path, extra, maximum, more in LIMITS:
        assert (await alice.get(path, limit=maximum + 1, **window, **extra)).status == 400, path
        full = await alice.get(path, limit=maximum, **window, **extra)
        assert full.status == 200
        assert (len(full.data) == maximum) is more, path
        if not more:  # 7 days of hourly records
            assert len(full.data) == 7 * 24 + 1, path


async def test_a_full_page_is_the_newest_items_of_the_window_newest_first(
    seeded: tuple[Simulator, SimAccount, Trader],
) -> None:
    sim, me, alice = seeded
    fills = sim.engine.accounts[me.account_id].trades[SWAP]
    inside = [f for f in fills if T0 + DAY <= f.timestamp <= T0 + 2 * DAY]
    page = (
        await alice.get(f"/v2/trades/{SWAP}", limit=50, startTime=T0 + DAY, endTime=T0 + 2 * DAY)
    ).data
    times = [int(item["matchTimestamp"]) for item in page]
    assert times == sorted(times, reverse=True)
    assert sorted(times) == [f.timestamp for f in inside[-50:]]
    # Without startTime: the 24 hours before endTime.
    day = (await alice.get(f"/v2/trades/{SWAP}", limit=1000, endTime=T0 + 2 * DAY)).data
    assert len(day) == len(inside)


async def test_funding_payments_default_to_500(
    seeded: tuple[Simulator, SimAccount, Trader],
) -> None:
    _, _, alice = seeded
    reply = await alice.get(
        "/v2/funding-payments", marketCode=SWAP, startTime=T0, endTime=T0 + 30 * DAY
    )
    assert len(reply.data) == 500  # 720 hourly payments in the span; the default limit
