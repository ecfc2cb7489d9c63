"""Rate limits end to end: a simulator allowing 20 requests per second, and a burst from a
client with its own limits off (429s), set to the simulator's (no 429), or off but retrying
(every call succeeds by waiting out Retry-After)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal

import pytest

import coinflex_async as cf
from coinflex_async.sim import RateLimit, RateLimits, Simulator

SWAP = "BTC-USD-SWAP-LIN"
PER_SECOND = 20
LIMIT_NAME = "rest_per_second"
TIGHT_LIMITS = RateLimits((RateLimit(LIMIT_NAME, PER_SECOND, 1.0),))

pytestmark = pytest.mark.sim_options(rate_limits=TIGHT_LIMITS)


async def test_a_burst_without_client_limits_gets_429s(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    client = connect(rate_limits=None, retry=None)
    outcomes = await asyncio.gather(
        *(client.public.ticker() for _ in range(60)), return_exceptions=True
    )
    served = [outcome for outcome in outcomes if isinstance(outcome, list)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, cf.RateLimitError)]
    assert len(served) + len(refused) == 60, [o for o in outcomes if isinstance(o, Exception)]
    assert len(served) >= PER_SECOND and refused
    assert len(refused) == sim.stats.rate_limited == sim.stats.by_status[429]
    for error in refused:
        assert (error.status, error.code) == (429, "20007")
        assert error.retry_after is not None and error.retry_after >= 1
    assert sim.stats.max_in_window(LIMIT_NAME, include_refused=False) <= PER_SECOND


async def test_the_same_burst_with_client_limits_set_to_the_servers_gets_no_429(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    client = connect(rate_limits=cf.RateLimits(rest=(cf.Window(PER_SECOND, 1.0),)), retry=None)
    results = await asyncio.gather(*(client.public.ticker() for _ in range(60)))
    assert len(results) == 60
    assert sim.stats.rate_limited == 0
    assert sim.stats.max_in_window(LIMIT_NAME) <= PER_SECOND


async def test_retries_honour_retry_after_until_every_call_succeeds(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    # No backoff of its own: a retry that did not wait out Retry-After would come back at once,
    # be refused again, and run out of attempts. Signed GETs: every resend needs a fresh nonce
    # and signature, or the simulator refuses it as a replay.
    account = sim.create_account(balances={"USD": "1000"})
    client = connect(account, rate_limits=None, retry=cf.RetryPolicy(attempts=5, backoff=0.0))
    started = time.monotonic()
    results = await asyncio.gather(*(client.private.balances() for _ in range(30)))
    assert [[(b.instrument_id, b.total) for b in result] for result in results] == [
        [("USD", 1000)]
    ] * 30
    assert sim.stats.rate_limited >= 1
    # Nothing went out but the 30 calls and one resend per refusal.
    assert sim.stats.requests == 30 + sim.stats.rate_limited
    assert time.monotonic() - started >= 1.0
    assert sim.stats.max_in_window(LIMIT_NAME, include_refused=False) <= PER_SECOND


async def test_refused_order_requests_are_sent_again_and_placed_once(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    account = sim.create_account(balances={"USD": "1000000"})
    client = connect(account, rate_limits=None, retry=cf.RetryPolicy(attempts=3, backoff=0.0))
    results = await asyncio.gather(
        *(
            client.private.place_order(
                market_code=SWAP,
                side="BUY",
                quantity="0.001",
                order_type="LIMIT",
                price=str(49000 + index),
            )
            for index in range(PER_SECOND + 5)
        )
    )
    assert sim.stats.rate_limited >= 1
    assert all(result.success for result in results)
    assert account.order_count == PER_SECOND + 5
    assert len({result.order_id for result in results}) == PER_SECOND + 5


PLACE_LIMITS = RateLimits((RateLimit("place_per_second", 2, 1.0, "POST", "/v2/orders/place"),))


@pytest.mark.sim_options(rate_limits=PLACE_LIMITS)
async def test_a_split_batch_with_a_refused_request_reports_which_orders_went_in(
    sim: Simulator, connect: Callable[..., cf.Client]
) -> None:
    account = sim.create_account(balances={"USD": "1000000"})
    orders = [
        cf.NewOrder(
            market_code=SWAP, side="BUY", quantity="0.001", order_type="LIMIT", price=str(49000 + i)
        )
        for i in range(20)
    ]
    # Three requests (8 + 8 + 4) against 2 allowed per second: one is refused.
    client = connect(account, rate_limits=None, retry=None)
    with pytest.raises(cf.BatchError) as failed:
        await client.private.place_orders(orders)
    (error,) = failed.value.errors
    assert isinstance(error, cf.RateLimitError) and error.code == "20007"
    unanswered = [i for i, result in enumerate(failed.value.results) if result is None]
    assert unanswered in (list(range(0, 8)), list(range(8, 16)), list(range(16, 20)))
    assert account.order_count == 20 - len(unanswered)

    # With retries the refused request is sent again after Retry-After: all placed, once.
    retrying = connect(account, rate_limits=None, retry=cf.RetryPolicy(attempts=5, backoff=0.0))
    results = await retrying.private.place_orders(orders)
    assert [r.price for r in results] == [Decimal(49000 + i) for i in range(20)]
    assert account.order_count == 20 - len(unanswered) + 20
