"""Authentication through the real signing middleware against the simulator's own check of the
docs' signature: a wrong secret, an unknown key, and no credentials at all."""

from __future__ import annotations

import pytest

import coinflex_async as cf
from coinflex_async.sim import Simulator

SWAP = "BTC-USD-SWAP-LIN"


async def test_the_right_secret_is_accepted_and_a_wrong_one_refused_with_20000(
    coinflex_sim: Simulator,
) -> None:
    account = coinflex_sim.create_account(balances={"USD": "1000"})
    async with cf.Client(account.api_key, account.api_secret, base_url=coinflex_sim.url) as good:
        (usd,) = await good.private.balances()
        assert (usd.instrument_id, usd.total) == ("USD", 1000)

    async with cf.Client(
        account.api_key, "not-" + account.api_secret, base_url=coinflex_sim.url, retry=None
    ) as forged:
        with pytest.raises(cf.AuthenticationError) as refused:
            await forged.private.balances()
        assert (refused.value.status, refused.value.code) == (401, "20000")
        # An order request signed wrongly is refused whole, not as a rejected order.
        with pytest.raises(cf.AuthenticationError) as refused:
            await forged.private.place_order(
                market_code=SWAP, side="BUY", quantity="0.001", order_type="LIMIT", price="50000"
            )
        assert refused.value.code == "20000"
    assert coinflex_sim.account(account.api_key).order_count == 0
    assert coinflex_sim.stats.by_status[401] == 2


async def test_an_unknown_key_is_refused_with_20025(coinflex_sim: Simulator) -> None:
    async with cf.Client("no-such-key", "some-secret", base_url=coinflex_sim.url) as stranger:
        with pytest.raises(cf.AuthenticationError) as refused:
            await stranger.private.account_info()
    assert (refused.value.status, refused.value.code) == (401, "20025")


async def test_a_private_call_without_credentials_never_reaches_the_exchange(
    coinflex_sim: Simulator,
) -> None:
    async with cf.Client(base_url=coinflex_sim.url) as anonymous:
        with pytest.raises(cf.AuthenticationError):
            await anonymous.private.balances()
        assert await anonymous.public.ping() is True
    assert coinflex_sim.stats.requests == 1  # the ping
