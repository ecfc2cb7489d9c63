"""Order requests whose answer is lost (the simulator applies them, then drops the connection):
the client settles them by looking the orders up instead of sending them blindly again."""

from __future__ import annotations

from decimal import Decimal

import coinflex_async as cf
from coinflex_async.sim import Fault, Simulator

from ._coverage import covers
from ._support import Party

SWAP = "BTC-USD-SWAP-LIN"


async def rest_bid(who: Party, price: str, **extra: object) -> cf.OrderResult:
    return await who.private.place_order(
        market_code=SWAP, side="BUY", quantity="0.1", order_type="LIMIT", price=price, **extra
    )


@covers("private.place_order", "private.cancel_order")
async def test_a_lost_place_or_cancel_answer_is_settled_by_lookup_and_applied_once(
    sim: Simulator, alice: Party
) -> None:
    sim.inject(Fault.reset_after(path="/v2/orders/place"))
    placed = await rest_bid(alice, "49000")
    assert placed.success is True
    assert placed.price == 49000 and placed.order_id is not None
    assert alice.account.order_count == 1  # found, not placed a second time
    assert sim.stats.faults_injected["reset_after"] == 1

    sim.inject(Fault.reset_after(path="/v2/orders/cancel"))
    cancelled = await alice.private.cancel_order(market_code=SWAP, order_id=placed.order_id)
    assert (cancelled.success, cancelled.order_id) == (True, placed.order_id)
    assert await alice.private.open_orders() == []


@covers("private.modify_order")
async def test_a_lost_modify_answer_is_settled_by_its_client_order_id(
    sim: Simulator, alice: Party
) -> None:
    bid = await rest_bid(alice, "48000", client_order_id="5")
    sim.inject(Fault.reset_after(path="/v2/orders/modify"))
    modified = await alice.private.modify_order(
        order_id=bid.order_id, market_code=SWAP, price="48100", client_order_id="5"
    )
    assert modified.success is True
    assert modified.order_id != bid.order_id  # the replacement
    assert modified.price == 48100
    (working,) = await alice.private.open_orders()
    assert (working.order_id, working.price) == (modified.order_id, 48100)


@covers("private.modify_order")
async def test_a_lost_modify_answer_without_client_order_id_is_settled_too(
    sim: Simulator, alice: Party
) -> None:
    # Modify is a cancel-replace: the old orderId is closed whether or not the modify went in,
    # so the replacement is found through the old order's clientOrderId.
    bid = await rest_bid(alice, "48000")
    sim.inject(Fault.reset_after(path="/v2/orders/modify"))
    modified = await alice.private.modify_order(
        order_id=bid.order_id, market_code=SWAP, price="48100"
    )
    (working,) = await alice.private.open_orders()
    assert working.price == 48100  # applied once, not refused as a resend
    assert (modified.success, modified.order_id, modified.price) == (
        True,
        working.order_id,
        Decimal(48100),
    )
    assert (modified.status, modified.notice) == ("OPEN", "OrderOpened")


@covers("private.place_order")
async def test_a_recovered_order_result_has_the_status_a_direct_answer_has(
    sim: Simulator, alice: Party, bob: Party
) -> None:
    direct = await rest_bid(alice, "49000")
    sim.inject(Fault.reset_after(path="/v2/orders/place"))
    recovered = await rest_bid(alice, "49000")
    # The history says OrderOpened/OrderMatched: a direct answer's notice, not its status.
    assert recovered.notice == direct.notice == "OrderOpened"
    assert recovered.status == direct.status == "OPEN"

    sim.inject(Fault.reset_after(path="/v2/orders/place"))
    filled = await bob.private.place_order(
        market_code=SWAP, side="SELL", quantity="0.1", order_type="LIMIT", price="49000"
    )
    assert (filled.status, filled.notice, filled.remain_quantity) == ("FILLED", "OrderMatched", 0)
