"""The account side of client.private against the simulator: account info and margin,
physical delivery, mint/redeem, borrow/repay and funding payments, each checked against the
balances and positions the scenario leads to."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import pytest

import coinflex_async as cf
from coinflex_async.sim import ManualClock, Simulator

from ._coverage import covers
from ._support import FUNDS, TAKER_FEE, Party

SWAP = "BTC-USD-SWAP-LIN"
SPOT = "BTC-USD"
HOUR_MS = 3_600_000
# The simulator's collateral weight of BTC (its "LTV applied") and a swap's initial margin rate.
BTC_WEIGHT = Decimal("0.9")
SWAP_MARGIN_RATE = Decimal("0.1")


async def limit(
    who: Party, side: str, quantity: str, price: str, market: str = SWAP
) -> cf.OrderResult:
    return await who.private.place_order(
        market_code=market, side=side, quantity=quantity, order_type="LIMIT", price=price
    )


async def open_swap_positions(long: Party, short: Party, quantity: str, price: str) -> None:
    await limit(long, "BUY", quantity, price)
    await limit(short, "SELL", quantity, price)


def now_ms() -> int:
    return int(time.time() * 1000)


@covers("private.account_info", "private.position")
async def test_account_info_values_collateral_margin_and_risk(
    sim: Simulator, bob: Party, party: Callable[..., Party]
) -> None:
    alice = party({"USD": "100000", "BTC": "1"})
    (info,) = await alice.private.account_info()
    assert info.account_id == alice.account.account_id
    assert (info.trade_type, info.margin_currency) == ("LINEAR", "USD")
    assert info.total_balance == 100000 + 50000
    assert info.collateral_balance == 100000 + 50000 * BTC_WEIGHT
    assert info.available_balance == info.collateral_balance
    assert (info.portfolio_var_margin, info.risk_ratio) == (0, 0)
    assert isinstance(info.timestamp, int)

    # Bob rests the ask, Alice takes it: a 1 BTC long, 25 USD of taker fee.
    await limit(bob, "SELL", "1", "50000")
    await limit(alice, "BUY", "1", "50000")
    sim.set_mark_price(SWAP, "51000")
    (info,) = await alice.private.account_info()
    unrealized = Decimal(1000)
    collateral = 100000 - 50000 * TAKER_FEE + 50000 * BTC_WEIGHT + unrealized
    margin = 51000 * SWAP_MARGIN_RATE
    assert info.collateral_balance == collateral
    assert info.portfolio_var_margin == margin
    assert info.available_balance == collateral - margin
    assert abs(info.risk_ratio - collateral / margin) <= Decimal("0.0001")

    position = await alice.private.position(SWAP)
    assert position is not None
    assert (position.quantity, position.entry_price) == (1, 50000)
    assert position.position_pnl == unrealized
    # Equity far above the margin: the docs' "0 if it is negative".
    assert position.est_liquidation_price == 0


# A frozen clock: the hourly auction cannot come due while the test runs.
@pytest.mark.sim_options(manual_clock=True)
@covers(
    "private.request_delivery",
    "private.delivery_orders",
    "private.deliver_auction",
    "private.cancel_delivery",
    "private.balance",
    "private.position",
)
async def test_delivery_request_cancel_and_settlement(
    sim: Simulator, alice: Party, bob: Party
) -> None:
    await open_swap_positions(alice, bob, "0.1", "50000")
    before = now_ms()

    (request,) = await alice.private.request_delivery(SWAP, "0.05")
    assert request.status == "PENDING" and request.deliver_type == "NEXT_CYCLE"
    assert (request.instrument_id, request.account_id) == (SWAP, alice.account.account_id)
    # A long pays USD at the mark price and receives the coin.
    assert (request.transfer_asset, request.transfer_qty) == ("USD", Decimal(2500))
    assert (request.instrument_id_deliver, request.deliver_qty) == ("BTC", Decimal("0.05"))
    assert request.deliver_price == 50000
    assert request.auction_time % HOUR_MS == 0 and request.auction_time > before
    assert request.deliver_order_id.isdigit()

    (auction,) = await alice.private.deliver_auction(SWAP)
    assert auction.instrument_id == SWAP
    assert auction.auction_time == request.auction_time
    assert auction.net_deliver == Decimal("0.05")
    assert isinstance(auction.est_funding_rate, Decimal)

    (pending,) = await alice.private.delivery_orders()
    assert (pending.deliver_order_id, pending.status) == (request.deliver_order_id, "PENDING")
    assert pending.quantity is None and pending.client_order_id is None

    confirmation = await alice.private.cancel_delivery(request.deliver_order_id)
    assert "successful" in confirmation
    (cancelled,) = await alice.private.delivery_orders()
    assert (cancelled.status, cancelled.transfer_qty, cancelled.deliver_qty) == ("CANCELLED", 0, 0)
    # A second cancel gets the docs' failure answer.
    with pytest.raises(cf.APIError, match="Cancel exception"):
        await alice.private.cancel_delivery(request.deliver_order_id)
    assert (await alice.private.deliver_auction(SWAP))[0].net_deliver == 0

    # Settled at the auction: Alice (long) gets BTC for USD, Bob (short) USD for BTC.
    await alice.private.request_delivery(SWAP, "0.05")
    (bob_request,) = await bob.private.request_delivery(SWAP, Decimal("0.1"))
    assert (bob_request.transfer_asset, bob_request.transfer_qty) == ("BTC", Decimal("0.1"))
    assert (bob_request.instrument_id_deliver, bob_request.deliver_qty) == ("USD", 5000)
    assert (await alice.private.deliver_auction(SWAP))[0].net_deliver == Decimal("-0.05")
    alice_usd = (await alice.private.balance("USD")).total
    bob_usd = (await bob.private.balance("USD")).total
    assert sim.run_delivery_auction() == 2

    delivered, cancelled = await alice.private.delivery_orders()  # newest first
    assert (delivered.status, delivered.deliver_qty, delivered.transfer_qty) == (
        "DELIVERED",
        Decimal("0.05"),
        Decimal(2500),
    )
    assert cancelled.status == "CANCELLED"
    assert (await alice.private.balance("BTC")).total == Decimal(FUNDS["BTC"]) + Decimal("0.05")
    assert (await alice.private.balance("USD")).total == alice_usd - 2500
    position = await alice.private.position(SWAP)
    assert position is not None and position.quantity == Decimal("0.05")
    assert (await bob.private.balance("BTC")).total == Decimal(FUNDS["BTC"]) - Decimal("0.1")
    assert (await bob.private.balance("USD")).total == bob_usd + 5000
    assert await bob.private.position(SWAP) is None


@covers("private.request_delivery")
async def test_delivery_needs_a_position(alice: Party) -> None:
    with pytest.raises(cf.APIError) as refused:
        await alice.private.request_delivery(SWAP, "0.1")
    assert refused.value.code == "710004"


# The clock jumps to the next whole hour; the client signs with the real time.
@pytest.mark.sim_options(manual_clock=True, timestamp_tolerance=2 * 3600)
@covers(
    "private.mint",
    "private.mint_history",
    "private.redeem",
    "private.redeem_history",
    "private.balance",
    "flex_protocol.balances",
)
async def test_mint_and_redeem_instant_and_normal(sim: Simulator, alice: Party) -> None:
    clock = sim.clock
    assert isinstance(clock, ManualClock)

    minted = await alice.private.mint("flexUSD", "1000")
    assert (minted.asset, minted.quantity) == ("flexUSD", 1000)
    assert (await alice.private.balance("flexUSD")).total == 1000
    assert (await alice.private.balance("USD")).total == Decimal(FUNDS["USD"]) - 1000
    (record,) = await alice.private.mint_history("flexUSD")
    assert (record.asset, record.quantity) == ("flexUSD", 1000)
    assert record.minted_at == int(clock() * 1000)
    assert await alice.private.mint_history("flexBTC") == []

    instant = await alice.private.redeem("flexUSD", "400", type=cf.RedeemType.INSTANT)
    assert (instant.asset, instant.quantity, instant.type) == ("flexUSD", 400, "INSTANT")
    assert (await alice.private.balance("USD")).total == Decimal(FUNDS["USD"]) - 600

    normal = await alice.private.redeem("flexUSD", 100)  # Normal: paid at the next whole hour
    assert normal.type == "NORMAL"
    assert normal.redeem_at % HOUR_MS == 0 and normal.redeem_at > int(clock() * 1000)
    assert (await alice.private.balance("flexUSD")).total == 500
    assert (await alice.private.balance("USD")).total == Decimal(FUNDS["USD"]) - 600

    # The coin sits with the flexUSD protocol until paid out.
    (protocol_usd,) = await alice.flex_protocol.balances("flexUSD")
    assert (protocol_usd.instrument_id, protocol_usd.total) == ("USD", 600)

    clock.set(normal.redeem_at / 1000)
    assert (await alice.private.balance("USD")).total == Decimal(FUNDS["USD"]) - 500
    (protocol_usd,) = await alice.flex_protocol.balances("flexUSD")
    assert protocol_usd.total == 500

    latest, first = await alice.private.redeem_history("flexUSD")
    assert (latest.quantity, latest.redeemed_at) == (100, normal.redeem_at)
    assert (first.quantity, first.redeemed_at) == (400, instant.redeem_at)
    assert first.requested_at == latest.requested_at == record.minted_at
    assert len(await alice.private.redeem_history("flexUSD", limit=1)) == 1

    with pytest.raises(cf.APIError) as refused:
        await alice.private.redeem("flexUSD", "501")
    assert refused.value.code == "710006"


@covers(
    "private.borrow",
    "private.repay",
    "private.borrowing_summary",
    "private.close_borrow",
    "private.borrow_history",
    "private.repay_history",
    "private.balance",
)
async def test_borrow_repay_and_close_borrow(bob: Party, party: Callable[..., Party]) -> None:
    alice = party({"USD": "1000", "BTC": "1"})
    borrowed = await alice.private.borrow("USD", "BTC", "0.1")
    lent = Decimal("0.1") * 50000 * BTC_WEIGHT
    assert (borrowed.borrow_asset, borrowed.borrowed_amount) == ("USD", lent)
    assert (borrowed.collateral_asset, borrowed.collateralized_amount) == ("BTC", Decimal("0.1"))
    assert (borrowed.non_collateralized_amount, borrowed.status) == (0, "COMPLETED")
    assert borrowed.rate_type == "FLOATING_RATE" and isinstance(borrowed.borrowed_at, int)
    assert (await alice.private.balance("USD")).total == 1000 + lent
    assert (await alice.private.balance("BTC")).total == Decimal("0.9")

    repaid = await alice.private.repay("USD", "BTC", "0.04")
    assert (repaid.repaid_amount, repaid.regained_amount, repaid.status) == (
        lent * Decimal("0.4"),
        Decimal("0.04"),
        "COMPLETED",
    )
    (summary,) = await alice.private.borrowing_summary()
    assert (summary.borrowed_amount, summary.collateralized_amount) == (
        lent * Decimal("0.6"),
        Decimal("0.06"),
    )
    assert (summary.collateral_asset, summary.status) == ("BTC", "To be repaid")

    # Close-borrow sells collateral with a FOK order: at 52000 nobody buys, nothing changes.
    await limit(bob, "BUY", "0.03", "49000", market=SPOT)
    unfilled = await alice.private.close_borrow(SWAP, price="52000", quantity="0.03")
    assert unfilled.success is True
    assert (unfilled.status, unfilled.notice, unfilled.time_in_force) == (
        "CANCELED_BY_FOK",
        "OrderClosed",
        "FOK",
    )
    assert (await alice.private.borrowing_summary())[0].collateralized_amount == Decimal("0.06")

    usd_before = (await alice.private.balance("USD")).total
    sold = await alice.private.close_borrow(SWAP, quantity="0.03")
    assert (sold.status, sold.side, sold.quantity) == ("FILLED", "SELL", Decimal("0.03"))
    loan_share = lent * Decimal("0.3")
    proceeds = Decimal("0.03") * 49000 * (1 - TAKER_FEE)
    assert (await alice.private.balance("USD")).total == usd_before + proceeds - loan_share
    (summary,) = await alice.private.borrowing_summary()
    assert summary.collateralized_amount == Decimal("0.03")

    # Asking for more than is pledged regains what there is.
    partial = await alice.private.repay("USD", "BTC", "1")
    assert (partial.status, partial.regained_amount, partial.non_regained_amount) == (
        "PARTIAL",
        Decimal("0.03"),
        Decimal("0.97"),
    )
    assert await alice.private.borrowing_summary() == []

    (history,) = await alice.private.borrow_history("BTC")
    assert history.borrowed_amount == lent
    assert [r.status for r in await alice.private.repay_history("BTC")] == ["PARTIAL", "COMPLETED"]
    assert await alice.private.borrow_history("ETH") == []


@covers("private.funding_payments", "private.balance")
async def test_funding_payments_move_usd_between_longs_and_shorts(
    sim: Simulator, alice: Party, bob: Party
) -> None:
    await open_swap_positions(alice, bob, "0.1", "50000")
    alice_usd = (await alice.private.balance("USD")).total
    bob_usd = (await bob.private.balance("USD")).total

    sim.apply_funding(SWAP, rate="0.0001")
    sim.apply_funding(SWAP, rate="-0.00005")
    latest, first = await alice.private.funding_payments(SWAP)
    # Longs pay a positive rate: quantity x mark price x rate.
    assert (first.payment, first.rate, first.position) == (
        Decimal("-0.5"),
        Decimal("0.0001"),
        Decimal("0.1"),
    )
    assert (latest.payment, latest.rate) == (Decimal("0.25"), Decimal("-0.00005"))
    assert (first.market_code, first.mark_price) == (SWAP, 50000)
    assert isinstance(first.timestamp, int)
    (bob_latest, bob_first) = await bob.private.funding_payments(SWAP)
    assert (bob_first.payment, bob_latest.payment) == (Decimal("0.5"), Decimal("-0.25"))

    assert (await alice.private.balance("USD")).total == alice_usd - Decimal("0.25")
    assert (await bob.private.balance("USD")).total == bob_usd + Decimal("0.25")
    assert len(await alice.private.funding_payments(SWAP, limit=1)) == 1
    assert await alice.private.funding_payments("ETH-USD-SWAP-LIN") == []
