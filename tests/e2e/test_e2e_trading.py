"""Trading between two accounts through the client: resting, crossing and partial fills, time in
force outcomes, market and stop orders, modify (cancel-replace), cancels, a batch of 20, refused
orders, and what each leaves in balances, positions, open orders, fills and order history."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.sim import ManualClock, Simulator

from ._coverage import covers
from ._support import FUNDS, MAKER_FEE, TAKER_FEE, Party

SWAP = "BTC-USD-SWAP-LIN"
ETH_SWAP = "ETH-USD-SWAP-LIN"
SPOT = "BTC-USD"
START_USD = Decimal(FUNDS["USD"])


async def limit(
    who: Party, side: str, quantity: str, price: str, market: str = SWAP, **extra: Any
) -> cf.OrderResult:
    return await who.private.place_order(
        market_code=market,
        side=side,
        quantity=quantity,
        order_type=cf.OrderType.LIMIT,
        price=price,
        **extra,
    )


def fee(quantity: str, price: int | str, rate: Decimal) -> Decimal:
    return Decimal(quantity) * Decimal(price) * rate


@covers(
    "private.place_order",
    "private.open_orders",
    "private.orders",
    "private.trades",
    "private.positions",
    "private.position",
    "private.balances",
)
async def test_a_resting_bid_filled_by_a_crossing_sell(alice: Party, bob: Party) -> None:
    bid = await limit(alice, cf.Side.BUY, "0.250", "49900")
    assert bid.success is True
    assert (bid.status, bid.notice) == ("OPEN", "OrderOpened")
    assert (bid.market_code, bid.side, bid.order_type, bid.time_in_force) == (
        SWAP,
        "BUY",
        "LIMIT",
        "GTC",
    )
    assert (bid.price, bid.quantity, bid.remain_quantity) == (
        49900,
        Decimal("0.25"),
        Decimal("0.25"),
    )
    assert bid.order_id is not None and bid.order_id.isdigit()
    assert bid.client_order_id is not None and bid.client_order_id.isdigit()  # generated
    assert isinstance(bid.timestamp, int) and bid.is_triggered is False

    (working,) = await alice.private.open_orders()
    assert (working.order_id, working.client_order_id) == (bid.order_id, bid.client_order_id)
    assert (working.price, working.quantity, working.remaining_quantity) == (
        49900,
        Decimal("0.25"),
        Decimal("0.25"),
    )
    assert working.stop_price is None and working.limit_price is None
    assert isinstance(working.order_created, int) and working.time_in_force == "GTC"

    ask = await limit(bob, "SELL", "0.100", "49900")
    assert (ask.status, ask.notice, ask.remain_quantity) == ("FILLED", "OrderMatched", 0)

    # Alice's bid keeps working with what is left.
    (working,) = await alice.private.open_orders()
    assert working.remaining_quantity == Decimal("0.15")
    assert await bob.private.open_orders() == []

    maker_fee = fee("0.1", 49900, MAKER_FEE)
    taker_fee = fee("0.1", 49900, TAKER_FEE)
    (alice_fill,) = await alice.private.trades(SWAP)
    assert (alice_fill.side, alice_fill.order_match_type) == ("BUY", "MAKER")
    assert (alice_fill.match_price, alice_fill.match_quantity) == (49900, Decimal("0.1"))
    assert alice_fill.total == Decimal(4990)
    assert (alice_fill.fees, alice_fill.fee_instrument_id) == (maker_fee, "USD")
    assert (alice_fill.order_id, alice_fill.client_order_id) == (bid.order_id, bid.client_order_id)
    (bob_fill,) = await bob.private.trades(SWAP)
    assert (bob_fill.side, bob_fill.order_match_type, bob_fill.fees) == ("SELL", "TAKER", taker_fee)
    assert bob_fill.match_id == alice_fill.match_id
    assert await alice.private.trades(ETH_SWAP) == []

    (alice_bid,) = await alice.private.orders(order_id=bid.order_id)
    assert alice_bid.status == "OrderOpened"
    assert (alice_bid.filled_quantity, alice_bid.remain_quantity) == (
        Decimal("0.1"),
        Decimal("0.15"),
    )
    assert alice_bid.avg_fill_price == 49900 and alice_bid.last_traded_price == 49900
    assert alice_bid.fees == {"USD": -maker_fee}  # paid fees show negative here
    assert alice_bid.match_ids is not None
    ((match_id, match),) = alice_bid.match_ids[0].items()
    assert match_id == alice_fill.match_id
    assert (match.match_quantity, match.match_price, match.order_match_type) == (
        Decimal("0.1"),
        49900,
        "MAKER",
    )
    (bob_ask,) = await bob.private.orders(client_order_id=ask.client_order_id)
    assert bob_ask.status == "OrderMatched" and bob_ask.order_id == ask.order_id

    alice_position = await alice.private.position(SWAP)
    assert alice_position is not None
    assert (alice_position.quantity, alice_position.entry_price) == (Decimal("0.1"), 49900)
    assert alice_position.contract_val_currency == "BTC"
    assert alice_position.position_pnl == 0  # the mark is the last trade price
    assert await alice.private.position(ETH_SWAP) is None
    (bob_position,) = await bob.private.positions()
    assert (bob_position.instrument_id, bob_position.quantity) == (SWAP, Decimal("-0.1"))
    assert bob_position.entry_price == 49900

    # Swap fills move positions and charge fees in USD; no coin changes hands.
    alice_balances = {b.instrument_id: b for b in await alice.private.balances()}
    assert alice_balances["USD"].total == START_USD - maker_fee
    assert alice_balances["BTC"].total == Decimal(FUNDS["BTC"])
    bob_balances = {b.instrument_id: b for b in await bob.private.balances()}
    assert bob_balances["USD"].total == START_USD - taker_fee


@covers("private.place_orders", "private.orders")
async def test_a_sell_through_two_levels_partially_fills_at_each_makers_price(
    alice: Party, bob: Party
) -> None:
    await alice.private.place_orders(
        [
            cf.NewOrder(
                market_code=SWAP, side="BUY", quantity="0.1", order_type="LIMIT", price="49900"
            ),
            {
                "market_code": SWAP,
                "side": "BUY",
                "quantity": "0.2",
                "order_type": "LIMIT",
                "price": "49800",
            },
        ]
    )
    (sell,) = await bob.private.place_orders(
        [
            cf.NewOrder(
                market_code=SWAP, side="SELL", quantity="0.4", order_type="LIMIT", price="49800"
            )
        ]
    )
    # 0.1 at 49900 and 0.2 at 49800 fill; the last 0.1 rests as an ask.
    assert (sell.status, sell.notice, sell.remain_quantity) == (
        "PARTIALLY_FILLED",
        "OrderOpened",
        Decimal("0.1"),
    )
    (history,) = await bob.private.orders(order_id=sell.order_id)
    assert history.filled_quantity == Decimal("0.3")
    expected_average = (Decimal("0.1") * 49900 + Decimal("0.2") * 49800) / Decimal("0.3")
    assert history.avg_fill_price == expected_average.quantize(Decimal("1e-9"))
    assert history.last_traded_price == 49800
    assert history.match_ids is not None and len(history.match_ids) == 2
    alice_history = await alice.private.orders(market_code=SWAP)
    assert [order.status for order in alice_history] == ["OrderMatched", "OrderMatched"]
    position = await bob.private.position(SWAP)
    assert position is not None and position.quantity == Decimal("-0.3")
    assert position.entry_price == expected_average.quantize(Decimal("1e-9"))


@covers("private.place_order", "private.orders", "public.depth")
async def test_time_in_force_outcomes(alice: Party, bob: Party) -> None:
    await limit(bob, "SELL", "0.1", "50100")

    ioc = await limit(alice, "BUY", "0.3", "50100", time_in_force=cf.TimeInForce.IOC)
    # Accepted: 0.1 fills, the rest is cancelled instead of resting.
    assert ioc.success is True
    assert (ioc.status, ioc.notice, ioc.remain_quantity) == (
        "CANCELED_BY_IOC",
        "OrderClosed",
        Decimal("0.2"),
    )
    assert ioc.time_in_force == "IOC"
    (ioc_history,) = await alice.private.orders(order_id=ioc.order_id)
    assert (ioc_history.status, ioc_history.filled_quantity) == ("OrderClosed", Decimal("0.1"))

    await limit(bob, "SELL", "0.1", "50200")
    fok = await limit(alice, "BUY", "0.3", "50200", time_in_force="FOK")
    assert (fok.status, fok.notice, fok.remain_quantity) == (
        "CANCELED_BY_FOK",
        "OrderClosed",
        Decimal("0.3"),
    )
    filled_fok = await limit(alice, "BUY", "0.1", "50200", time_in_force="FOK")
    assert (filled_fok.status, filled_fok.notice) == ("FILLED", "OrderMatched")

    await limit(bob, "SELL", "0.1", "50300")
    crossing = await limit(alice, "BUY", "0.1", "50300", time_in_force="MAKER_ONLY")
    assert (crossing.status, crossing.notice) == ("CANCELED_BY_MAKER_ONLY", "OrderClosed")
    resting = await limit(alice, "BUY", "0.1", "50000", time_in_force="MAKER_ONLY")
    assert (resting.status, resting.notice) == ("OPEN", "OrderOpened")

    book = await alice.public.depth(SWAP)
    assert [(level.price, level.quantity) for level in book.asks] == [(50300, Decimal("0.1"))]
    assert [(level.price, level.quantity) for level in book.bids] == [(50000, Decimal("0.1"))]


@covers("private.place_order", "private.orders", "private.trades", "public.depth")
async def test_a_market_order_sweeps_the_book(alice: Party, bob: Party) -> None:
    for price in ("50000", "50500", "51000"):
        await limit(bob, "SELL", "0.1", price)
    sweep = await alice.private.place_order(
        market_code=SWAP, side="BUY", quantity="0.25", order_type=cf.OrderType.MARKET
    )
    assert (sweep.status, sweep.notice, sweep.remain_quantity) == ("FILLED", "OrderMatched", 0)
    assert sweep.order_type == "MARKET"
    fills = await alice.private.trades(SWAP)
    assert sorted((f.match_price, f.match_quantity) for f in fills) == [
        (50000, Decimal("0.1")),
        (50500, Decimal("0.1")),
        (51000, Decimal("0.05")),
    ]
    assert all(f.order_match_type == "TAKER" for f in fills)
    (history,) = await alice.private.orders(order_id=sweep.order_id)
    assert history.status == "OrderMatched" and history.order_type == "MARKET"
    book = await alice.public.depth(SWAP)
    assert [(level.price, level.quantity) for level in book.asks] == [(51000, Decimal("0.05"))]

    # More than the book holds: what cannot fill is cancelled, nothing rests.
    rest = await alice.private.place_order(
        market_code=SWAP, side="BUY", quantity="0.2", order_type="MARKET"
    )
    assert (rest.status, rest.remain_quantity) == ("CANCELED_BY_IOC", Decimal("0.15"))
    assert (await alice.public.depth(SWAP)).asks == []
    assert await alice.private.open_orders() == []


@covers("private.place_order", "private.open_orders", "private.orders", "private.position")
async def test_stop_orders_trigger_on_the_mark_price_and_on_a_trade(
    sim: Simulator, alice: Party, bob: Party, party: Callable[..., Party]
) -> None:
    # A sell stop fires when the mark price falls to its stop price, then works as a limit order.
    await limit(bob, "BUY", "0.1", "48900")
    stop = await alice.private.place_order(
        market_code=SWAP,
        side="SELL",
        quantity="0.1",
        order_type=cf.OrderType.STOP,
        stop_price="49000",
        limit_price="48900",
    )
    assert (stop.status, stop.notice, stop.is_triggered) == ("OPEN", "OrderOpened", False)
    (waiting,) = await alice.private.open_orders()
    assert (waiting.order_type, waiting.stop_price, waiting.limit_price) == (
        "STOP",
        49000,
        48900,
    )
    assert waiting.price is None

    sim.set_mark_price(SWAP, "49100")
    assert len(await alice.private.open_orders()) == 1  # not there yet
    sim.set_mark_price(SWAP, "48990")
    assert await alice.private.open_orders() == []
    (fired,) = await alice.private.orders(order_id=stop.order_id)
    assert (fired.status, fired.is_triggered, fired.filled_quantity) == (
        "OrderMatched",
        True,
        Decimal("0.1"),
    )
    assert (fired.stop_price, fired.limit_price) == (49000, 48900)
    position = await alice.private.position(SWAP)
    assert position is not None and position.quantity == Decimal("-0.1")

    # A buy stop fires when a trade prints at its stop price.
    carol = party()
    buy_stop = await alice.private.place_order(
        market_code=SWAP,
        side="BUY",
        quantity="0.1",
        order_type="STOP",
        stop_price="49500",
        limit_price="49600",
    )
    await limit(bob, "SELL", "0.1", "49500")
    await limit(bob, "SELL", "0.1", "49600")
    await limit(carol, "BUY", "0.1", "49500")  # the trade that triggers it
    (fired,) = await alice.private.orders(order_id=buy_stop.order_id)
    assert (fired.status, fired.is_triggered, fired.avg_fill_price) == ("OrderMatched", True, 49600)
    position = await alice.private.position(SWAP)
    assert position is None  # -0.1 + 0.1


@covers("private.modify_order", "private.modify_orders", "private.open_orders", "private.orders")
async def test_modify_is_a_cancel_replace_with_a_new_order_id(alice: Party, bob: Party) -> None:
    bid = await limit(alice, "BUY", "0.2", "49000", client_order_id=1001)
    modified = await alice.private.modify_order(
        order_id=bid.order_id, market_code=SWAP, price="49100", quantity="0.3"
    )
    assert modified.success is True
    assert modified.order_id != bid.order_id
    assert modified.client_order_id == "1001"
    assert (modified.price, modified.quantity, modified.status) == (49100, Decimal("0.3"), "OPEN")
    (working,) = await alice.private.open_orders()
    assert (working.order_id, working.price, working.quantity) == (
        modified.order_id,
        49100,
        Decimal("0.3"),
    )
    by_client_id = await alice.private.orders(client_order_id="1001")
    assert [(o.order_id, o.status) for o in by_client_id] == [
        (modified.order_id, "OrderOpened"),
        (bid.order_id, "OrderClosed"),
    ]

    # Modified through the ask: it trades at once.
    await limit(bob, "SELL", "0.1", "49500")
    assert modified.order_id is not None
    (crossed,) = await alice.private.modify_orders(
        [cf.ModifyOrder(order_id=modified.order_id, market_code=SWAP, price="49500")]
    )
    assert (crossed.status, crossed.remain_quantity) == ("PARTIALLY_FILLED", Decimal("0.2"))
    position = await alice.private.position(SWAP)
    assert position is not None and position.entry_price == 49500

    # A modify of an order that no longer works is refused with 40035.
    (stale,) = await alice.private.modify_orders(
        [{"order_id": bid.order_id, "market_code": SWAP, "price": "49200"}]
    )
    assert (stale.success, stale.code) == (False, "40035")
    with pytest.raises(cf.OrderRejectedError) as refused:
        await alice.private.modify_order(order_id=bid.order_id, market_code=SWAP, price="49200")
    assert refused.value.code == "40035"


@covers("private.cancel_order", "private.cancel_orders", "private.open_orders", "private.orders")
async def test_cancel_by_order_id_and_by_client_order_id(alice: Party) -> None:
    first = await limit(alice, "BUY", "0.1", "49000")
    second = await limit(alice, "BUY", "0.1", "48900", client_order_id="777")

    cancelled = await alice.private.cancel_order(market_code=SWAP, order_id=first.order_id)
    assert (cancelled.success, cancelled.status, cancelled.notice) == (
        True,
        "CANCELED_BY_USER",
        "OrderClosed",
    )
    assert cancelled.order_id == first.order_id
    (by_client_id,) = await alice.private.cancel_orders(
        [cf.CancelOrder(market_code=SWAP, client_order_id="777")]
    )
    assert (by_client_id.status, by_client_id.order_id) == ("CANCELED_BY_USER", second.order_id)
    assert await alice.private.open_orders() == []
    history = await alice.private.orders(market_code=SWAP)
    assert [order.status for order in history] == ["OrderClosed", "OrderClosed"]
    assert all(isinstance(order.order_closed_timestamp, int) for order in history)


@covers("private.cancel_order", "private.cancel_orders")
async def test_cancel_of_an_unknown_order_is_refused_with_40035(alice: Party) -> None:
    (result,) = await alice.private.cancel_orders([{"market_code": SWAP, "order_id": "999999999"}])
    assert (result.success, result.code) == (False, "40035")
    assert result.message
    with pytest.raises(cf.OrderRejectedError) as refused:
        await alice.private.cancel_order(market_code=SWAP, client_order_id="4242")
    assert refused.value.code == "40035"
    assert refused.value.client_order_id == "4242"


@covers("private.cancel_all_orders", "private.open_orders")
async def test_cancel_all_per_market_then_everything(alice: Party) -> None:
    await limit(alice, "BUY", "0.1", "49000")
    await limit(alice, "BUY", "0.1", "48000")
    await limit(alice, "BUY", "1", "2900", market=ETH_SWAP)
    await limit(alice, "BUY", "0.01", "49000", market=SPOT)

    one_market = await alice.private.cancel_all_orders(SWAP)
    assert one_market.market_code == SWAP
    assert "specified market" in one_market.msg
    assert sorted(order.market_code for order in await alice.private.open_orders()) == [
        SPOT,
        ETH_SWAP,
    ]

    everything = await alice.private.cancel_all_orders()
    assert everything.market_code is None
    assert "All open orders" in everything.msg
    assert await alice.private.open_orders() == []


@covers("private.place_orders", "private.cancel_orders", "private.modify_orders")
async def test_a_batch_of_20_is_sent_as_8_8_4_and_answered_in_input_order(
    sim: Simulator, alice: Party
) -> None:
    orders = [
        cf.NewOrder(
            market_code=SWAP,
            side="BUY",
            quantity="0.01",
            order_type="LIMIT",
            # Order 13 is below the sanity bound (45000): refused, in its place.
            price="40000" if index == 13 else str(49000 - 10 * index),
            client_order_id=str(5000 + index),
        )
        for index in range(20)
    ]
    results = await alice.private.place_orders(orders)
    assert [r.client_order_id for r in results] == [str(5000 + i) for i in range(20)]
    assert [r.success for r in results] == [i != 13 for i in range(20)]
    assert [r.price for r in results] == [Decimal(o.price) for o in orders]  # type: ignore[arg-type]
    assert results[13].code == "710002" and results[13].order_id == "0"
    assert sim.stats.by_route["POST /v2/orders/place"] == 3
    # The simulator numbers the orders of one request consecutively: the requests held
    # orders 0-7, 8-15 and 16-19.
    for chunk in (range(0, 8), range(8, 16), range(16, 20)):
        ids = [int(results[i].order_id or 0) for i in chunk if i != 13]
        assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert len(sim.account(alice.account.api_key).open_order_ids) == 19

    placed = [r for r in results if r.success]
    modified = await alice.private.modify_orders(
        [
            cf.ModifyOrder(order_id=r.order_id or "", market_code=SWAP, quantity="0.02")
            for r in placed
        ]
    )
    assert [m.client_order_id for m in modified] == [p.client_order_id for p in placed]
    assert all(m.success and m.quantity == Decimal("0.02") for m in modified)
    assert sim.stats.by_route["POST /v2/orders/modify"] == 3  # 19 = 8 + 8 + 3

    cancelled = await alice.private.cancel_orders(
        [cf.CancelOrder(market_code=SWAP, order_id=m.order_id) for m in reversed(modified)]
    )
    assert [c.order_id for c in cancelled] == [m.order_id for m in reversed(modified)]
    assert all(c.status == "CANCELED_BY_USER" for c in cancelled)
    assert await alice.private.open_orders() == []


@covers("private.place_orders", "private.place_order")
async def test_prices_outside_the_sanity_bounds_are_refused(alice: Party) -> None:
    low, high = await alice.private.place_orders(
        [
            cf.NewOrder(
                market_code=SWAP,
                side="SELL",
                quantity="0.001",
                order_type="LIMIT",
                price="40000",
                client_order_id="11",
            ),
            cf.NewOrder(
                market_code=SWAP,
                side="BUY",
                quantity="0.001",
                order_type="LIMIT",
                price="60000",
                client_order_id="12",
            ),
        ]
    )
    assert (low.success, low.code, low.client_order_id, low.order_id) == (
        False,
        "710002",
        "11",
        "0",
    )
    assert low.message is not None and "sanity bound" in low.message
    assert (high.success, high.code) == (False, "710003")

    with pytest.raises(cf.OrderRejectedError) as refused:
        await limit(alice, "SELL", "0.001", "40000", client_order_id="13")
    assert refused.value.code == "710002"
    assert refused.value.client_order_id == "13"
    assert refused.value.status == 200
    assert await alice.private.orders() == []  # refused orders leave no history


@covers("private.place_order", "private.balance")
async def test_insufficient_balance_is_refused_with_710006(party: Callable[..., Party]) -> None:
    poor = party({"USD": "100", "BTC": "0.01"})
    with pytest.raises(cf.OrderRejectedError) as refused:
        await limit(poor, "BUY", "0.01", "50000", market=SPOT, client_order_id="21")
    assert (refused.value.code, refused.value.client_order_id) == ("710006", "21")
    with pytest.raises(cf.OrderRejectedError) as refused:
        await limit(poor, "SELL", "0.02", "50000", market=SPOT)
    assert refused.value.code == "710006"
    # Margin: a 1 BTC swap position needs 5,000 USD of initial margin.
    with pytest.raises(cf.OrderRejectedError) as refused:
        await limit(poor, "BUY", "1", "50000")
    assert refused.value.code == "710006"
    usd = await poor.private.balance("USD")
    assert (usd.total, usd.reserved) == (100, 0)


@covers("private.balance", "private.balances", "private.cancel_order")
async def test_spot_balances_are_reserved_while_orders_work_and_move_on_fills(
    alice: Party, party: Callable[..., Party]
) -> None:
    carol = party({"USD": "10000", "BTC": "1"})
    bid = await limit(carol, "BUY", "0.1", "49000", market=SPOT)
    # A buy holds price x quantity plus the taker fee.
    held = Decimal("0.1") * 49000 * (1 + TAKER_FEE)
    usd = await carol.private.balance("USD")
    assert (usd.total, usd.reserved, usd.available) == (10000, held, 10000 - held)
    await limit(carol, "SELL", "0.5", "51000", market=SPOT)
    btc = await carol.private.balance("BTC")
    assert (btc.total, btc.reserved, btc.available) == (1, Decimal("0.5"), Decimal("0.5"))

    # Alice sells 0.04 into Carol's bid: Carol pays for it (and the maker fee), the rest of the
    # reservation stays for the 0.06 still working.
    await limit(alice, "SELL", "0.04", "49000", market=SPOT)
    paid = Decimal("0.04") * 49000 + fee("0.04", 49000, MAKER_FEE)
    usd = await carol.private.balance("USD")
    assert usd.total == 10000 - paid
    assert usd.reserved == Decimal("0.06") * 49000 * (1 + TAKER_FEE)
    balances = {b.instrument_id: b for b in await carol.private.balances()}
    assert balances["BTC"].total == Decimal("1.04")
    assert balances["BTC"].reserved == Decimal("0.5")
    alice_usd = await alice.private.balance("USD")
    assert alice_usd.total == START_USD + Decimal("0.04") * 49000 - fee("0.04", 49000, TAKER_FEE)
    assert (await alice.private.balance("BTC")).total == Decimal(FUNDS["BTC"]) - Decimal("0.04")

    # Cancelling gives the rest back.
    await carol.private.cancel_order(market_code=SPOT, order_id=bid.order_id)
    usd = await carol.private.balance("USD")
    assert (usd.reserved, usd.available) == (0, 10000 - paid)
    assert isinstance(usd.quantity_last_updated, int)
    assert usd.quantity_last_updated >= int(time.time() * 1000) - 60_000


@covers("private.place_orders", "private.orders", "private.trades")
async def test_ack_answers_and_history_filters(alice: Party, bob: Party) -> None:
    (ack,) = await alice.private.place_orders(
        [
            cf.NewOrder(
                market_code=SWAP, side="BUY", quantity="0.1", order_type="LIMIT", price="49500"
            )
        ],
        response_type="ACK",
    )
    # ACK leaves out the status fields FULL adds.
    assert ack.success is True and ack.order_id is not None
    assert (ack.status, ack.notice, ack.remain_quantity) == (None, None, None)
    assert (ack.price, ack.quantity) == (49500, Decimal("0.1"))

    started = int(time.time() * 1000)
    await limit(bob, "SELL", "0.05", "49500")
    await limit(bob, "SELL", "0.05", "49500")
    first, second = await alice.private.trades(SWAP)  # newest first
    assert first.match_timestamp >= second.match_timestamp >= started - 1
    assert [t.match_id for t in await alice.private.trades(SWAP, limit=1)] == [first.match_id]
    assert await alice.private.trades(SWAP, start_time=started - 60_000, end_time=started - 1) == []

    await limit(alice, "BUY", "0.1", "49000", market=SPOT)
    assert len(await alice.private.orders()) == 2
    assert len(await alice.private.orders(limit=1)) == 1
    assert await alice.private.orders(start_time=started - 60_000, end_time=started - 2_000) == []
    assert await alice.private.orders(market_code=ETH_SWAP) == []


@pytest.mark.sim_options(manual_clock=True)
@covers("private.place_orders")
async def test_an_order_request_older_than_its_recv_window_is_refused_whole(
    sim: Simulator, alice: Party, connect: Callable[..., cf.Client]
) -> None:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    clock.advance(10)  # the exchange's clock runs 10 s ahead of the client's
    order = cf.NewOrder(
        market_code=SWAP, side="BUY", quantity="0.1", order_type="LIMIT", price="49000"
    )
    with pytest.raises(cf.APIError) as refused:
        await alice.private.place_orders([order], recv_window=5_000)
    assert (refused.value.status, refused.value.code) == (400, "20001")
    # The client's own recv_window goes out with every order request too.
    strict = connect(alice.account, recv_window=9_000)
    with pytest.raises(cf.APIError):
        await strict.private.place_orders([order])
    assert alice.account.order_count == 0

    (placed,) = await alice.private.place_orders([order], recv_window=20_000)
    assert placed.success is True
    lenient = connect(alice.account, recv_window=20_000)
    (placed,) = await lenient.private.place_orders([order])
    assert placed.success is True
    assert alice.account.order_count == 2


@covers("private.place_order", "public.trades", "public.depth", "private.position")
async def test_unknown_markets_are_refused_with_200050(alice: Party) -> None:
    with pytest.raises(cf.NotFoundError) as not_found:
        await alice.public.trades("DOGE-USD")
    assert (not_found.value.status, not_found.value.code) == (404, "200050")
    with pytest.raises(cf.NotFoundError):
        await alice.public.depth("DOGE-USD")
    with pytest.raises(cf.NotFoundError):
        await alice.private.position("DOGE-USD-SWAP-LIN")
    with pytest.raises(cf.OrderRejectedError) as refused:
        await limit(alice, "BUY", "1", "1", market="DOGE-USD")
    assert refused.value.code == "200050"


@covers("private.place_order", "private.positions", "private.deliver_auction")
async def test_repo_markets_trade_at_negative_rates(
    sim: Simulator, alice: Party, bob: Party
) -> None:
    repo = "BTC-USD-REPO-LIN"
    bid = await limit(alice, "BUY", "0.1", "-0.0002", market=repo)
    assert bid.price == Decimal("-0.0002")
    await limit(bob, "SELL", "0.1", "-0.00020", market=repo)
    (position,) = await alice.private.positions()
    assert (position.instrument_id, position.quantity) == (repo, Decimal("0.1"))
    assert position.entry_price == Decimal("-0.0002")
    # A swap's estimated funding rate is its REPO market's last rate.
    (auction,) = await alice.private.deliver_auction(SWAP)
    assert auction.est_funding_rate == Decimal("-0.0002")


@covers("private.place_orders", "private.trades", "private.position", "public.trades")
async def test_concurrent_orders_between_two_accounts_keep_the_books_consistent(
    alice: Party, bob: Party
) -> None:
    rng = random.Random(7)

    def orders(side: str) -> list[cf.NewOrder]:
        return [
            cf.NewOrder(
                market_code=SWAP,
                side=side,
                quantity=str(Decimal(rng.randint(1, 50)) / 1000),
                order_type="LIMIT",
                price=str(Decimal(rng.randint(99_800, 100_200)) / 2),  # 49900-50100, on the tick
            )
            for _ in range(12)
        ]

    batches = [alice.private.place_orders(orders(side)) for side in ("BUY", "SELL")]
    batches += [bob.private.place_orders(orders(side)) for side in ("SELL", "BUY")]
    results = await asyncio.gather(*batches)
    assert all(result.success for batch in results for result in batch)

    alice_fills = await alice.private.trades(SWAP)
    bob_fills = await bob.private.trades(SWAP)
    tape = await alice.public.trades(SWAP, limit=300)
    assert tape, "the prices were chosen to cross"
    # Each match has one maker and one taker fill, in one account or the other.
    own_fills = alice_fills + bob_fills
    assert len(own_fills) == 2 * len(tape)
    assert {f.match_id for f in own_fills} == {t.match_id for t in tape}

    def signed(fill: cf.Trade) -> Decimal:
        return fill.match_quantity if fill.side == "BUY" else -fill.match_quantity

    alice_net = sum((signed(f) for f in alice_fills), Decimal(0))
    bob_net = sum((signed(f) for f in bob_fills), Decimal(0))
    assert alice_net + bob_net == 0
    alice_position = await alice.private.position(SWAP)
    bob_position = await bob.private.position(SWAP)
    held = [p for p in (alice_position, bob_position) if p is not None]
    assert (alice_position.quantity if alice_position else 0) == alice_net
    assert (bob_position.quantity if bob_position else 0) == bob_net

    # Value is conserved: what the USD balances gained or lost (realized PnL) plus what the open
    # positions still hold (at their entry prices) is the start minus the fees. The accounts
    # also trade with themselves, so their entry prices differ; entry prices are kept to 9
    # decimals, hence the tolerance.
    fees = sum((f.fees for f in own_fills), Decimal(0))
    usd = [(await who.private.balance("USD")).total for who in (alice, bob)]
    at_entry = sum((p.quantity * p.entry_price for p in held), Decimal(0))
    assert abs(sum(usd) - at_entry - (2 * START_USD - fees)) < Decimal("1e-6")
