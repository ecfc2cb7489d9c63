"""client.flex_protocol against the simulator: the public books of a flex protocol after mints
fund it and its own key trades, holds positions and asks for delivery."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

import coinflex_async as cf
from coinflex_async.sim import ManualClock, Simulator

from ._coverage import covers
from ._support import Party

SWAP = "BTC-USD-SWAP-LIN"


# A frozen clock that moves only when told: the hourly delivery auction cannot come due unasked.
@pytest.mark.sim_options(manual_clock=True)
@covers(
    "flex_protocol.balances",
    "flex_protocol.orders",
    "flex_protocol.positions",
    "flex_protocol.trades",
    "flex_protocol.delivery_orders",
    "private.mint",
)
async def test_a_protocol_funded_by_mints_trades_and_delivers(
    sim: Simulator,
    alice: Party,
    bob: Party,
    connect: Callable[..., cf.Client],
) -> None:
    flex = connect().flex_protocol  # public: no credentials
    assert await flex.balances("flexUSD") == []

    await alice.private.mint("flexUSD", "20000")
    await bob.private.mint("flexBTC", "2")
    (usd,) = await flex.balances("flexUSD")
    assert (usd.instrument_id, usd.total, usd.available, usd.reserved) == ("USD", 20000, 20000, 0)
    (btc,) = await flex.balances("flexBTC")
    assert (btc.instrument_id, btc.total) == ("BTC", 2)

    # The protocol's own key trades like any account.
    protocol_account = sim.flex_protocol_account("flexUSD")
    protocol = Party(protocol_account, connect(protocol_account))
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    before = int(clock() * 1000)
    clock.advance(1)
    bid = await protocol.private.place_order(
        market_code=SWAP, side="BUY", quantity="0.2", order_type="LIMIT", price="49500"
    )
    (working,) = await flex.orders("flexUSD")
    assert (working.order_id, working.client_order_id) == (bid.order_id, bid.client_order_id)
    assert (working.side, working.price, working.remaining_quantity) == (
        "BUY",
        49500,
        Decimal("0.2"),
    )
    assert isinstance(working.order_created, int) and working.order_created >= before
    assert await flex.orders("flexBTC") == []

    await bob.private.place_order(
        market_code=SWAP, side="SELL", quantity="0.1", order_type="LIMIT", price="49500"
    )
    (position,) = await flex.positions("flexUSD")
    assert (position.instrument_id, position.quantity, position.entry_price) == (
        SWAP,
        Decimal("0.1"),
        49500,
    )
    assert position.contract_val_currency == "BTC"
    assert position.est_liquidation_price is None  # the docs' flex positions have none
    (fill,) = await flex.trades("flexUSD", SWAP)
    assert (fill.side, fill.order_match_type, fill.match_quantity, fill.match_price) == (
        "BUY",
        "MAKER",
        Decimal("0.1"),
        49500,
    )
    assert fill.order_id == bid.order_id and fill.match_timestamp >= before
    assert await flex.trades("flexUSD", SWAP, start_time=before - 60_000, end_time=before) == []
    assert len(await flex.trades("flexUSD", SWAP, limit=1)) == 1
    assert await flex.trades("flexUSD", "ETH-USD-SWAP-LIN") == []
    assert (await flex.orders("flexUSD"))[0].remaining_quantity == Decimal("0.1")

    (request,) = await protocol.private.request_delivery(SWAP, "0.1")
    (delivery,) = await flex.delivery_orders("flexUSD")
    assert (delivery.deliver_order_id, delivery.status) == (request.deliver_order_id, "PENDING")
    assert (delivery.transfer_asset, delivery.transfer_qty) == ("USD", Decimal("0.1") * 49500)
    sim.run_delivery_auction()
    (delivery,) = await flex.delivery_orders("flexUSD", limit=10)
    assert (delivery.status, delivery.instrument_id_deliver, delivery.deliver_qty) == (
        "DELIVERED",
        "BTC",
        Decimal("0.1"),
    )
    assert await flex.positions("flexUSD") == []
    balances = {b.instrument_id: b.total for b in await flex.balances("flexUSD")}
    assert balances["BTC"] == Decimal("0.1")
    assert await flex.delivery_orders("flexBTC") == []
