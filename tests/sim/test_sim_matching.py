"""The matching engine through the REST API: priority, fills, time in force, stops, modify,
cancel, and what fills do to balances and positions."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from coinflex_async.sim import Simulator

from ._helpers import Trader, order_item

# The simulator's documented default fee rates.
MAKER_FEE = Decimal("0.0002")
TAKER_FEE = Decimal("0.0005")
SWAP = "BTC-USD-SWAP-LIN"


async def open_orders(who: Trader) -> list[dict[str, object]]:
    return (await who.get("/v2/orders")).data  # type: ignore[no-any-return]


async def test_price_then_time_priority(trader: Callable[..., Trader]) -> None:
    early, late, better, taker = trader(), trader(), trader(), trader()
    (early_order,) = await early.place(order_item(side="SELL", price="50100"))
    (late_order,) = await late.place(order_item(side="SELL", price="50100"))
    (better_order,) = await better.place(order_item(side="SELL", price="50050"))
    (result,) = await taker.place(order_item(side="BUY", quantity="0.002", price="50100"))
    assert result["status"] == "FILLED"
    (matched,) = await taker.history(orderId=result["orderId"])
    fills = [next(iter(entry.items())) for entry in matched["matchIds"]]
    assert [Decimal(info["matchPrice"]) for _, info in fills] == [Decimal(50050), Decimal(50100)]
    assert all(info["orderMatchType"] == "TAKER" for _, info in fills)
    # The earlier of the two equal asks traded; the later one still rests untouched.
    assert await open_orders(early) == []
    assert await open_orders(better) == []
    (resting,) = await open_orders(late)
    assert resting["orderId"] == late_order["orderId"]
    assert resting["remainingQuantity"] == "0.001"
    (early_fill,) = (await early.get(f"/v2/trades/{SWAP}")).data
    assert early_fill["orderId"] == early_order["orderId"]
    assert early_fill["orderMatchType"] == "MAKER"
    assert better_order["status"] == "OPEN"


async def test_partial_fill_leaves_the_rest_working(trader: Callable[..., Trader]) -> None:
    maker, taker = trader(), trader()
    (rested,) = await maker.place(order_item(side="SELL", quantity="0.005", price="50000"))
    (took,) = await taker.place(order_item(side="BUY", quantity="0.002", price="50000"))
    assert (took["status"], took["notice"], took["remainQuantity"]) == (
        "FILLED",
        "OrderMatched",
        "0.000",
    )
    (resting,) = await open_orders(maker)
    assert resting["remainingQuantity"] == "0.003"
    assert resting["quantity"] == "0.005"
    (status,) = await maker.history(orderId=rested["orderId"])
    assert status["status"] == "OrderOpened"
    assert status["filledQuantity"] == "0.002"
    assert status["remainQuantity"] == "0.003"


async def test_ioc_fills_what_it_can_and_cancels_the_rest(trader: Callable[..., Trader]) -> None:
    maker, taker = trader(), trader()
    await maker.place(order_item(side="SELL", quantity="0.001", price="50000"))
    (result,) = await taker.place(
        order_item(side="BUY", quantity="0.003", price="50000", time_in_force="IOC")
    )
    assert result["status"] == "CANCELED_BY_IOC"
    assert result["notice"] == "OrderClosed"
    assert result["remainQuantity"] == "0.002"
    assert await open_orders(taker) == []
    (status,) = await taker.history(orderId=result["orderId"])
    assert (status["status"], status["filledQuantity"]) == ("OrderClosed", "0.001")


async def test_fok_is_all_or_nothing(trader: Callable[..., Trader]) -> None:
    maker, taker = trader(), trader()
    await maker.place(order_item(side="SELL", quantity="0.002", price="50000"))
    (killed,) = await taker.place(
        order_item(side="BUY", quantity="0.003", price="50000", time_in_force="FOK")
    )
    assert (killed["success"], killed["status"]) == ("true", "CANCELED_BY_FOK")
    assert (await taker.get(f"/v2/trades/{SWAP}")).data == []
    (resting,) = await open_orders(maker)
    assert resting["remainingQuantity"] == "0.002"
    (filled,) = await taker.place(
        order_item(side="BUY", quantity="0.002", price="50000", time_in_force="FOK")
    )
    assert filled["status"] == "FILLED"


async def test_maker_only_never_takes(trader: Callable[..., Trader]) -> None:
    maker, other = trader(), trader()
    await maker.place(order_item(side="SELL", price="50000"))
    (crossing,) = await other.place(
        order_item(side="BUY", price="50000", time_in_force="MAKER_ONLY")
    )
    assert crossing["status"] == "CANCELED_BY_MAKER_ONLY"
    assert (await other.get(f"/v2/trades/{SWAP}")).data == []
    (passive,) = await other.place(
        order_item(side="BUY", price="49999.5", time_in_force="MAKER_ONLY")
    )
    assert passive["status"] == "OPEN"


async def test_market_order_sweeps_levels(trader: Callable[..., Trader]) -> None:
    maker, taker = trader(), trader()
    await maker.place(
        order_item(side="SELL", quantity="0.001", price="50000"),
        order_item(side="SELL", quantity="0.002", price="50100"),
    )
    (result,) = await taker.place(order_item(side="BUY", quantity="0.005", order_type="MARKET"))
    assert result["status"] == "CANCELED_BY_IOC"
    assert result["remainQuantity"] == "0.002"
    (status,) = await taker.history(orderId=result["orderId"])
    expected_average = (
        Decimal("50000") * Decimal("0.001") + Decimal("50100") * Decimal("0.002")
    ) / Decimal("0.003")
    assert Decimal(status["avgFillPrice"]) == expected_average.quantize(Decimal("1e-9"))
    assert Decimal(status["lastTradedPrice"]) == Decimal(50100)
    assert status["orderType"] == "MARKET"


async def test_stop_order_triggers_on_the_last_trade(trader: Callable[..., Trader]) -> None:
    bidder, seller, stopper = trader(), trader(), trader()
    await bidder.place(order_item(side="BUY", price="49500"), order_item(side="BUY", price="49450"))
    (stop,) = await stopper.place(
        order_item(side="SELL", order_type="STOP", stopPrice="49500", limitPrice="49400")
    )
    assert (stop["status"], stop["isTriggered"], stop["orderType"]) == ("OPEN", "false", "STOP")
    (waiting,) = await open_orders(stopper)
    assert (waiting["orderType"], waiting["price"], waiting["stopPrice"]) == (
        "STOP",
        None,
        "49500.0",
    )
    # A sale at 49500 moves the last price to the stop: it fires as a limit sell at 49400
    # and takes the next bid, 49450.
    await seller.place(order_item(side="SELL", price="49500"))
    assert await open_orders(stopper) == []
    (status,) = await stopper.history(orderId=stop["orderId"])
    assert status["status"] == "OrderMatched"
    assert status["isTriggered"] == "true"
    assert Decimal(status["lastTradedPrice"]) == Decimal(49450)
    assert (status["stopPrice"], status["limitPrice"]) == ("49500.0", "49400.0")


async def test_stop_already_reached_fires_at_once(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    maker, stopper = trader(), trader()
    await maker.place(order_item(side="SELL", price="50000"))
    sim.set_mark_price(SWAP, "50000")
    (stop,) = await stopper.place(
        order_item(side="BUY", order_type="STOP", stopPrice="49000", limitPrice="50000")
    )
    assert (stop["status"], stop["isTriggered"]) == ("FILLED", "true")


async def test_modify_replaces_the_order_with_a_new_id(trader: Callable[..., Trader]) -> None:
    alice, bob = trader(), trader()
    (original,) = await alice.place(order_item(side="BUY", price="49000", client_order_id="777"))
    (modified,) = await alice.modify(
        {"orderId": original["orderId"], "marketCode": SWAP, "price": "49100", "quantity": "0.002"}
    )
    assert modified["success"] == "true"
    assert modified["orderId"] != original["orderId"]
    assert (modified["price"], modified["quantity"], modified["clientOrderId"]) == (
        "49100.0",
        "0.002",
        "777",
    )
    assert (modified["status"], modified["notice"]) == ("OPEN", "OrderOpened")
    (resting,) = await open_orders(alice)
    assert resting["orderId"] == modified["orderId"]
    (gone,) = await alice.cancel({"marketCode": SWAP, "orderId": original["orderId"]})
    assert (gone["success"], gone["code"]) == ("false", "40035")
    # Both are in the history under the clientOrderId.
    statuses = {
        item["orderId"]: item["status"] for item in await alice.history(clientOrderId="777")
    }
    assert statuses == {original["orderId"]: "OrderClosed", modified["orderId"]: "OrderOpened"}
    # A modify that crosses the book trades.
    await bob.place(order_item(side="SELL", quantity="0.002", price="49500"))
    (crossed,) = await alice.modify(
        {"orderId": modified["orderId"], "marketCode": SWAP, "price": "49500"}
    )
    assert crossed["status"] == "FILLED"


async def test_modify_refusals_keep_the_old_order(trader: Callable[..., Trader]) -> None:
    alice = trader()
    (original,) = await alice.place(order_item(side="BUY", price="49000"))
    missing_id, bad_side, bad_tick, unknown = await alice.modify(
        {
            "marketCode": SWAP,
            "price": "49100",
            "clientOrderId": "5",
            "quantity": "0.002",
            "side": "BUY",
        },
        {"orderId": original["orderId"], "marketCode": SWAP, "side": "SELL"},
        {"orderId": original["orderId"], "marketCode": SWAP, "price": "49100.2"},
        {"orderId": "123", "marketCode": SWAP, "price": "49100"},
    )
    # The docs' example: an item without orderId fails with 40032 and echoes what was sent.
    assert missing_id == {
        "success": "false",
        "timestamp": missing_id["timestamp"],
        "code": "40032",
        "message": missing_id["message"],
        "clientOrderId": "5",
        "price": "49100",
        "quantity": "0.002",
        "side": "BUY",
        "marketCode": SWAP,
    }
    assert (bad_side["code"], bad_tick["code"], unknown["code"]) == ("20001", "20001", "40035")
    (resting,) = await open_orders(alice)
    assert (resting["orderId"], resting["price"]) == (original["orderId"], "49000.0")


async def test_cancel_by_order_id_and_client_order_id(trader: Callable[..., Trader]) -> None:
    alice = trader()
    first, second = await alice.place(
        order_item(side="BUY", price="49000"),
        order_item(side="BUY", price="48000", client_order_id="4242"),
    )
    by_id, by_client_id, again = await alice.cancel(
        {"marketCode": SWAP, "orderId": first["orderId"]},
        {"marketCode": SWAP, "clientOrderId": "4242"},
        {"marketCode": SWAP, "clientOrderId": "4242"},
    )
    assert (by_id["status"], by_id["notice"], by_id["remainQuantity"]) == (
        "CANCELED_BY_USER",
        "OrderClosed",
        "0.001",
    )
    assert by_client_id["orderId"] == second["orderId"]
    # The docs' cancel example says "Open order not found with id"; the live exchange said
    # "... with clientOrderId or orderId" (hummingbot's spot connector, fixture of
    # test_cancel_order_succeeds_after_max_failures; matched verbatim by its production code).
    assert again == {
        "success": "false",
        "timestamp": again["timestamp"],
        "code": "40035",
        "message": "Open order not found with clientOrderId or orderId",
        "clientOrderId": "4242",
        "marketCode": SWAP,
    }
    assert await open_orders(alice) == []
    (wrong_market,) = await alice.cancel(
        {"marketCode": "ETH-USD-SWAP-LIN", "orderId": first["orderId"]}
    )
    assert wrong_market["code"] == "40035"


async def test_cancel_all_for_the_account_or_one_market(trader: Callable[..., Trader]) -> None:
    alice = trader()
    await alice.place(
        order_item(side="BUY", price="49000"),
        order_item(market="ETH-USD-SWAP-LIN", side="BUY", quantity="0.01", price="2900"),
        order_item(market="BTC-USD", side="BUY", price="49000"),
    )
    reply = await alice.delete("/v2/cancel/orders/ETH-USD-SWAP-LIN")
    assert reply.json["event"] == "orders"
    assert isinstance(reply.json["timestamp"], int)
    assert reply.json["data"] == {
        "marketCode": "ETH-USD-SWAP-LIN",
        "msg": "All open orders for the specified market have been queued for cancellation",
    }
    assert {order["marketCode"] for order in await open_orders(alice)} == {SWAP, "BTC-USD"}
    reply = await alice.delete("/v2/cancel/orders")
    assert reply.json["data"] == {
        "msg": "All open orders for the account have been queued for cancellation"
    }
    assert await open_orders(alice) == []
    assert alice.me.reserved("USD") == 0


async def test_spot_fills_move_balances_and_release_reservations(
    trader: Callable[..., Trader],
) -> None:
    alice = trader({"USD": "1000"})
    bob = trader({"BTC": "1"})
    (bid,) = await alice.place(
        order_item(market="BTC-USD", side="BUY", quantity="0.01", price="50000")
    )
    reserved_per_btc = Decimal(50000) * (1 + TAKER_FEE)
    assert alice.me.reserved("USD") == Decimal("0.01") * reserved_per_btc
    await bob.place(order_item(market="BTC-USD", side="SELL", quantity="0.004", price="50000"))
    notional = Decimal("0.004") * 50000
    assert alice.me.balance("BTC") == Decimal("0.004")
    assert alice.me.balance("USD") == 1000 - notional - notional * MAKER_FEE
    assert alice.me.reserved("USD") == Decimal("0.006") * reserved_per_btc
    assert bob.me.balance("BTC") == Decimal("0.996")
    assert bob.me.balance("USD") == notional - notional * TAKER_FEE
    balances = {item["instrumentId"]: item for item in (await alice.get("/v2/balances")).data}
    usd = balances["USD"]
    assert Decimal(usd["available"]) + Decimal(usd["reserved"]) == Decimal(usd["total"])
    assert Decimal(usd["reserved"]) == Decimal("0.006") * reserved_per_btc
    await alice.cancel({"marketCode": "BTC-USD", "orderId": bid["orderId"]})
    assert alice.me.reserved("USD") == 0
    (fill,) = (await bob.get("/v2/trades/BTC-USD")).data
    assert (Decimal(fill["fees"]), fill["feeInstrumentId"]) == (notional * TAKER_FEE, "USD")
    assert Decimal(fill["total"]) == notional


async def test_swap_fills_move_positions_and_realize_pnl(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice, maker = trader({"USD": "100000"}), trader()
    await maker.place(
        order_item(side="SELL", quantity="0.002", price="50000"),
        order_item(side="SELL", quantity="0.002", price="51000"),
    )
    await alice.place(order_item(side="BUY", quantity="0.004", price="51000"))
    assert alice.me.position(SWAP) == Decimal("0.004")
    assert alice.me.entry_price(SWAP) == Decimal(50500)
    usd_after_open = alice.me.balance("USD")
    opening_fees = (Decimal("100") + Decimal("102")) * TAKER_FEE
    assert usd_after_open == 100000 - opening_fees
    # Close a quarter at 52000: realized (52000 - 50500) x 0.001 = 1.5, minus the taker fee.
    await maker.place(order_item(side="BUY", quantity="0.001", price="52000"))
    await alice.place(order_item(side="SELL", quantity="0.001", price="52000"))
    assert alice.me.position(SWAP) == Decimal("0.003")
    assert alice.me.balance("USD") == usd_after_open + Decimal("1.5") - Decimal("52") * TAKER_FEE
    (position,) = (await alice.get(f"/v2/positions/{SWAP}")).data
    assert position["quantity"] == "0.003"
    assert Decimal(position["entryPrice"]) == Decimal(50500)
    # The mark follows the last trade (52000): unrealized PnL on the 0.003 left.
    assert Decimal(position["positionPnl"]) == (52000 - Decimal(50500)) * Decimal("0.003")
    # Selling through zero flips the position; the new entry is the trade price.
    await maker.place(order_item(side="BUY", quantity="0.005", price="51500"))
    await alice.place(order_item(side="SELL", quantity="0.005", price="51500"))
    assert alice.me.position(SWAP) == Decimal("-0.002")
    assert alice.me.entry_price(SWAP) == Decimal(51500)
    assert (await alice.get("/v2/positions/ETH-USD-SWAP-LIN")).data == []


async def test_tick_size_and_quantity_increment_are_enforced(trader: Callable[..., Trader]) -> None:
    alice = trader()
    results = await alice.place(
        order_item(price="50000.3"),
        order_item(quantity="0.0015"),
        order_item(quantity="0"),
        order_item(market="FLEX-USD", quantity="1.05", price="5"),
        order_item(market="FLEX-USD", quantity="1.1", price="5.0001"),
        order_item(price="50000.5"),
    )
    assert [r["success"] for r in results] == ["false"] * 5 + ["true"]
    assert [r.get("code") for r in results[:5]] == ["20001"] * 5
    assert "tickSize" in results[0]["message"]
    assert "qtyIncrement" in results[1]["message"]
    assert results[0]["orderId"] == "0"


async def test_sanity_bounds(trader: Callable[..., Trader]) -> None:
    alice = trader()
    low, high, inside = await alice.place(
        order_item(side="SELL", price="40000"),
        order_item(side="BUY", price="60000"),
        order_item(price="45000"),
    )
    assert low["code"] == "710002"
    assert low["message"] == "FAILED sanity bound check as price (40000.0) <  lower bound (45000.0)"
    assert high["code"] == "710003"
    assert "upper bound (55000.0)" in high["message"]
    assert inside["success"] == "true"


async def test_balance_and_margin_checks(trader: Callable[..., Trader]) -> None:
    poor = trader({"USD": "100", "BTC": "0.001"})
    spot_buy, spot_sell, swap, fine = await poor.place(
        order_item(market="BTC-USD", side="BUY", quantity="0.002", price="50000"),
        order_item(market="BTC-USD", side="SELL", quantity="0.002", price="50000"),
        # 10% initial margin of 0.1 x 50000 is 500 USD: more than 100 USD + 0.9 x 50 of BTC.
        order_item(side="BUY", quantity="0.1", price="50000"),
        order_item(market="BTC-USD", side="SELL", quantity="0.001", price="50000"),
    )
    assert [spot_buy["code"], spot_sell["code"], swap["code"]] == ["710006"] * 3
    assert fine["success"] == "true"
    assert poor.me.reserved("BTC") == Decimal("0.001")


async def test_batch_request_errors(trader: Callable[..., Trader]) -> None:
    alice = trader()
    too_many = await alice.post(
        "/v2/orders/place", {"responseType": "FULL", "orders": [order_item()] * 9}
    )
    assert (too_many.status, too_many.json["code"]) == (400, "20001")
    assert too_many.json["success"] is False
    assert alice.me.order_count == 0
    empty = await alice.post("/v2/orders/place", {"responseType": "FULL", "orders": []})
    assert empty.status == 400
    no_type = await alice.post("/v2/orders/place", {"orders": [order_item()]})
    assert no_type.status == 400
    not_json = await alice.request("POST", "/v2/orders/place", body=None, headers={})
    assert (not_json.status, not_json.json["code"]) == (400, "20009")
    expired = await alice.post(
        "/v2/orders/place",
        {"responseType": "FULL", "timestamp": 1_000, "recvWindow": 5000, "orders": [order_item()]},
    )
    assert expired.status == 400
    assert alice.me.order_count == 0
    (eight,) = {len(await alice.place(*[order_item(price="49000")] * 8))}
    assert eight == 8


async def test_item_level_rejections(trader: Callable[..., Trader]) -> None:
    alice = trader()
    unknown_market, missing_side, bad_client_id, market_maker_only = await alice.place(
        order_item(market="DOGE-USD"),
        {
            "clientOrderId": "1",
            "marketCode": SWAP,
            "quantity": "0.001",
            "orderType": "LIMIT",
            "price": "50000",
        },
        order_item(client_order_id="not-a-number"),
        order_item(order_type="MARKET", time_in_force="MAKER_ONLY"),
    )
    assert unknown_market["code"] == "200050"
    assert missing_side["code"] == "40032"
    assert bad_client_id["code"] == "40032"
    assert market_maker_only["code"] == "20001"
    assert alice.me.order_count == 0


async def test_history_finds_every_accepted_order_by_client_order_id(
    trader: Callable[..., Trader],
) -> None:
    alice, maker = trader(), trader()
    await maker.place(order_item(side="SELL", quantity="0.001", price="50000"))
    opened, matched, closed, refused = await alice.place(
        order_item(side="BUY", price="49000", client_order_id="101"),
        order_item(side="BUY", price="50000", client_order_id="102"),
        order_item(side="BUY", price="49500", client_order_id="103", time_in_force="IOC"),
        order_item(side="BUY", price="1", client_order_id="104"),
    )
    assert refused["success"] == "false"
    found = {}
    for client_id in ("101", "102", "103", "104"):
        items = await alice.history(clientOrderId=client_id)
        found[client_id] = [(item["orderId"], item["status"]) for item in items]
    assert found == {
        "101": [(opened["orderId"], "OrderOpened")],
        "102": [(matched["orderId"], "OrderMatched")],
        "103": [(closed["orderId"], "OrderClosed")],
        "104": [],
    }
    everything = await alice.history(marketCode=SWAP)
    assert [item["orderId"] for item in everything] == [
        closed["orderId"],
        matched["orderId"],
        opened["orderId"],
    ]
    assert [item["orderId"] for item in await alice.history(limit=1)] == [closed["orderId"]]
    # Another account cannot see them.
    assert await maker.history(clientOrderId="101") == []


async def test_history_time_filter(sim: Simulator, trader: Callable[..., Trader]) -> None:
    alice = trader()
    (order,) = await alice.place(order_item(side="BUY", price="49000"))
    created = int(sim.clock() * 1000)
    assert await alice.history(endTime=created - 60_000) == []
    assert [item["orderId"] for item in await alice.history(startTime=created - 60_000)] == [
        order["orderId"]
    ]
    assert (await alice.get("/v2.1/orders", startTime="soon")).status == 400


async def test_orders_without_client_order_id_get_one_assigned(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    # ccxt sends no clientOrderId; the live exchange answered with one it made up, a numeric
    # string like "1651620006827000" (the millisecond clock x 1000).
    alice = trader()
    before_ms = int(sim.clock() * 1000)
    items = []
    for price in ("49000", "49100", "49200"):
        item = order_item(side="BUY", price=price)
        del item["clientOrderId"]
        items.append(item)
    placed = await alice.place(*items)
    after_ms = int(sim.clock() * 1000)
    assigned = [result["clientOrderId"] for result in placed]
    assert [result["success"] for result in placed] == ["true"] * 3
    assert all(isinstance(value, str) and value.isdigit() for value in assigned)
    assert len(set(assigned)) == 3, "each order gets its own clientOrderId"
    assert all(before_ms * 1000 <= int(value) < (after_ms + 1) * 1000 for value in assigned)
    # The assigned id is the order's from then on: listed, found and cancelled by it.
    listed = {item["orderId"]: item["clientOrderId"] for item in await open_orders(alice)}
    assert listed == {result["orderId"]: result["clientOrderId"] for result in placed}
    (found,) = await alice.history(clientOrderId=assigned[1])
    assert found["orderId"] == placed[1]["orderId"]
    (cancelled,) = await alice.cancel({"marketCode": SWAP, "clientOrderId": assigned[1]})
    assert (cancelled["success"], cancelled["orderId"]) == ("true", placed[1]["orderId"])
