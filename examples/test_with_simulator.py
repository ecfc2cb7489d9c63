"""A bot's test against the simulator, as a user writes it: no conftest.py, no pytest
configuration. ``python -m pip install "coinflex_async[pytest]"`` gives the ``coinflex_sim``
fixture (``nox -s plugin_project`` runs this file so, in a fresh project and venv)."""

from decimal import Decimal

import coinflex_async as cf


async def test_a_resting_buy_is_filled_by_a_sell(coinflex_sim):
    alice = coinflex_sim.create_account(balances={"USD": "100000"})
    bob = coinflex_sim.create_account(balances={"BTC": "1"})
    url = coinflex_sim.url
    async with (
        cf.Client(alice.api_key, alice.api_secret, base_url=url) as buyer,
        cf.Client(bob.api_key, bob.api_secret, base_url=url) as seller,
    ):
        bid = await buyer.private.place_order(
            market_code="BTC-USD",
            side="BUY",
            quantity="0.5",
            order_type="LIMIT",
            price="50000",
        )
        await seller.private.place_order(
            market_code="BTC-USD", side="SELL", quantity="0.5", order_type="MARKET"
        )
        fills = await buyer.private.trades("BTC-USD")
        btc = await buyer.private.balance("BTC")
    assert [fill.order_id for fill in fills] == [bid.order_id]
    assert btc.total == Decimal("0.5")


def test_the_fixture_needs_no_configuration(pytestconfig):
    # The project has no pytest configuration of its own: no ini file, so no asyncio_mode.
    assert pytestconfig.inipath is None
