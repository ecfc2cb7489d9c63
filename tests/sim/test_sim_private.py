"""Private endpoints: the docs' shapes (keys, string types, envelopes) and the bookkeeping
behind mint/redeem, borrow/repay, delivery and funding."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import aiohttp
import pytest_asyncio

from coinflex_async.sim import ManualClock, Simulator

from ._helpers import Trader, assert_shape, order_item

SWAP = "BTC-USD-SWAP-LIN"

# Key sets copied from the docs' example responses.
ACCOUNT_INFO_KEYS = {
    "accountId", "tradeType", "marginCurrency", "totalBalance", "availableBalance",
    "collateralBalance", "portfolioVarMargin", "riskRatio", "timestamp",
}  # fmt: skip
BALANCE_KEYS = {"instrumentId", "total", "available", "reserved", "quantityLastUpdated"}
POSITION_KEYS = {
    "instrumentId", "quantity", "lastUpdated", "contractValCurrency", "entryPrice",
    "positionPnl", "estLiquidationPrice",
}  # fmt: skip
TRADE_KEYS = {
    "matchId", "matchTimestamp", "marketCode", "matchQuantity", "matchPrice", "total",
    "orderMatchType", "fees", "feeInstrumentId", "orderId", "side", "clientOrderId",
}  # fmt: skip
OPEN_ORDER_KEYS = {
    "orderId", "marketCode", "clientOrderId", "side", "orderType", "quantity",
    "remainingQuantity", "price", "stopPrice", "limitPrice", "orderCreated", "lastModified",
    "lastTradeTimestamp", "timeInForce",
}  # fmt: skip
ORDER_OPENED_KEYS = {
    "status", "orderId", "clientOrderId", "marketCode", "side", "orderType", "price",
    "quantity", "remainQuantity", "timeInForce", "orderOpenedTimestamp",
}  # fmt: skip
ORDER_CLOSED_KEYS = ORDER_OPENED_KEYS - {"orderOpenedTimestamp"} | {"orderClosedTimestamp"}
ORDER_MATCHED_KEYS = {
    "status", "orderId", "clientOrderId", "marketCode", "side", "orderType", "price",
    "lastTradedPrice", "avgFillPrice", "quantity", "filledQuantity", "remainQuantity",
    "matchIds", "fees", "timeInForce", "isTriggered",
}  # fmt: skip
PLACE_ACK_KEYS = {
    "success", "timestamp", "clientOrderId", "orderId", "price", "quantity", "side",
    "marketCode", "timeInForce", "orderType",
}  # fmt: skip
# The docs' cancel example: the place keys plus status, remainQuantity, notice, isTriggered.
ORDER_FULL_KEYS = PLACE_ACK_KEYS | {"status", "remainQuantity", "notice", "isTriggered"}
PLACE_FAILED_KEYS = PLACE_ACK_KEYS | {"code", "message"}
DELIVERY_KEYS = {
    "timestamp", "instrumentId", "status", "quantity", "deliverPrice", "transferAsset",
    "transferQty", "instrumentIdDeliver", "deliverQty", "deliverOrderId", "clientOrderId",
}  # fmt: skip
DELIVERY_REQUEST_KEYS = {
    "deliverOrderId", "accountId", "clientOrderId", "instrumentId", "deliverPrice",
    "deliverPosition", "deliverType", "instrumentIdDeliver", "deliverQty", "remainingQty",
    "remainingPosition", "transferAsset", "transferQty", "auctionTime", "created",
    "lastUpdated", "status",
}  # fmt: skip
BORROW_KEYS = {
    "borrowAsset", "borrowedAmount", "collateralAsset", "collateralizedAmount",
    "nonCollateralizedAmount", "rateType", "status", "borrowedAt",
}  # fmt: skip
REPAY_KEYS = {
    "repayAsset", "repaidAmount", "regainAsset", "regainedAmount", "nonRegainedAmount",
    "status", "repaidAt",
}  # fmt: skip
SUMMARY_KEYS = {
    "borrowAsset", "borrowedAmount", "collateralAsset", "collateralizedAmount", "rateType",
    "status",
}  # fmt: skip
FUNDING_PAYMENT_KEYS = {"marketCode", "payment", "rate", "position", "markPrice", "timestamp"}
AUCTION_KEYS = {"instrumentId", "auctionTime", "netDeliver", "estFundingRate"}


def envelope(
    body: dict[str, object], event: str, keys: set[str], *, string_timestamp: bool
) -> None:
    assert body["event"] == event
    assert set(body) == keys | {"event", "timestamp", "data"}
    assert isinstance(body["timestamp"], str if string_timestamp else int)


async def test_account_info_balances_positions_trades(trader: Callable[..., Trader]) -> None:
    alice, maker = trader(), trader()
    await maker.place(order_item(side="SELL", price="50000"))
    await alice.place(order_item(side="BUY", price="50000"))

    info = (await alice.get("/v2/accountinfo")).json
    envelope(info, "accountinfo", {"accountId"}, string_timestamp=False)
    assert info["accountId"] == alice.me.account_id
    (item,) = info["data"]
    assert_shape(item, ACCOUNT_INFO_KEYS, strings=ACCOUNT_INFO_KEYS)
    assert Decimal(item["portfolioVarMargin"]) == Decimal("0.001") * 50000 * Decimal("0.1")
    assert Decimal(item["riskRatio"]) > 1

    balances = (await alice.get("/v2/balances")).json
    envelope(balances, "balances", {"accountId", "tradeType"}, string_timestamp=False)
    assert balances["tradeType"] == "LINEAR"
    for balance in balances["data"]:
        assert_shape(balance, BALANCE_KEYS, strings=BALANCE_KEYS)
    by_id = (await alice.get("/v2/balances/BTC")).json
    envelope(by_id, "balancesById", {"accountId", "tradeType"}, string_timestamp=False)
    (btc,) = by_id["data"]
    assert (btc["instrumentId"], Decimal(btc["total"])) == ("BTC", Decimal(100))
    (none_held,) = (await alice.get("/v2/balances/flexBTC")).data
    assert Decimal(none_held["total"]) == 0
    assert (await alice.get("/v2/balances/NOPE")).status == 404

    positions = (await alice.get("/v2/positions")).json
    envelope(positions, "positions", {"accountId"}, string_timestamp=False)
    (position,) = positions["data"]
    assert_shape(position, POSITION_KEYS, strings=POSITION_KEYS)
    by_instrument = (await alice.get(f"/v2/positions/{SWAP}")).json
    envelope(by_instrument, "positionsById", {"accountId"}, string_timestamp=False)
    assert by_instrument["data"] == [position]

    trades = (await alice.get(f"/v2/trades/{SWAP}")).json
    envelope(trades, "trades", {"accountId"}, string_timestamp=False)
    (fill,) = trades["data"]
    assert_shape(fill, TRADE_KEYS, strings=TRADE_KEYS)
    assert (fill["side"], fill["orderMatchType"]) == ("BUY", "TAKER")


async def test_order_endpoints_shapes(trader: Callable[..., Trader]) -> None:
    alice, maker = trader(), trader()
    await maker.place(order_item(side="SELL", price="50000"))
    ack, failed = await alice.place(
        order_item(side="BUY", price="49000", time_in_force="GTC"),
        order_item(side="BUY", price="1", time_in_force="GTC"),
        response_type="ACK",
    )
    assert_shape(ack, PLACE_ACK_KEYS, strings=PLACE_ACK_KEYS)
    assert_shape(failed, PLACE_FAILED_KEYS, strings=PLACE_FAILED_KEYS)
    reply = await alice.post(
        "/v2/orders/place",
        {
            "responseType": "FULL",
            "orders": [order_item(side="BUY", price="50000", client_order_id="9")],
        },
    )
    envelope(reply.json, "placeOrder", {"accountId"}, string_timestamp=True)
    (full,) = reply.json["data"]
    assert_shape(full, ORDER_FULL_KEYS, strings=ORDER_FULL_KEYS)
    await alice.place(
        order_item(side="BUY", price="48000", time_in_force="IOC", client_order_id="10")
    )

    orders = (await alice.get("/v2/orders")).json
    envelope(orders, "orders", {"accountId"}, string_timestamp=True)
    (open_order,) = orders["data"]
    assert_shape(open_order, OPEN_ORDER_KEYS)
    assert all(
        isinstance(open_order[k], int)
        for k in ("orderCreated", "lastModified", "lastTradeTimestamp")
    )
    assert (open_order["stopPrice"], open_order["limitPrice"]) == (None, None)

    history = (await alice.get("/v2.1/orders")).json
    envelope(history, "orders", {"accountId"}, string_timestamp=True)
    by_status = {item["status"]: item for item in history["data"]}
    assert_shape(by_status["OrderOpened"], ORDER_OPENED_KEYS)
    assert_shape(by_status["OrderClosed"], ORDER_CLOSED_KEYS)
    matched = by_status["OrderMatched"]
    assert_shape(matched, ORDER_MATCHED_KEYS)
    ((match_id, match),) = (entry.popitem() for entry in matched["matchIds"])
    assert match_id.isdigit()
    assert set(match) == {"matchQuantity", "matchPrice", "timestamp", "orderMatchType"}
    assert matched["isTriggered"] == "false"
    assert Decimal(matched["fees"]["USD"]) == -Decimal(50) * Decimal("0.0005")

    modify = await alice.post(
        "/v2/orders/modify",
        {
            "responseType": "FULL",
            "orders": [{"orderId": ack["orderId"], "marketCode": SWAP, "price": "49500"}],
        },
    )
    envelope(modify.json, "modifyOrder", {"accountId"}, string_timestamp=True)
    (modified,) = modify.json["data"]
    assert_shape(modified, ORDER_FULL_KEYS, strings=ORDER_FULL_KEYS)
    cancel = await alice.delete(
        "/v2/orders/cancel",
        {"responseType": "FULL", "orders": [{"orderId": modified["orderId"], "marketCode": SWAP}]},
    )
    envelope(cancel.json, "cancelOrder", {"accountId"}, string_timestamp=True)
    (cancelled,) = cancel.json["data"]
    assert_shape(cancelled, ORDER_FULL_KEYS, strings=ORDER_FULL_KEYS)


@pytest_asyncio.fixture
async def clocked() -> AsyncIterator[tuple[Simulator, ManualClock, aiohttp.ClientSession]]:
    clock = ManualClock(1_700_000_000.0)
    async with (
        Simulator(rate_limits=None, clock=clock) as simulator,
        aiohttp.ClientSession() as session,
    ):
        yield simulator, clock, session


async def test_mint_and_redeem(
    clocked: tuple[Simulator, ManualClock, aiohttp.ClientSession],
) -> None:
    sim, clock, session = clocked
    alice = Trader(session, sim, sim.create_account({"USD": "1000"}))
    protocol = sim.flex_protocol_account("flexUSD")
    mint = (await alice.post("/v2/mint", {"asset": "flexUSD", "quantity": 300})).json
    envelope(mint, "mint", {"accountId"}, string_timestamp=True)
    assert mint["data"] == {"asset": "flexUSD", "quantity": "300"}
    assert (alice.me.balance("USD"), alice.me.balance("flexUSD")) == (700, 300)
    assert protocol.balance("USD") == 300
    assert (await alice.post("/v2/mint", {"asset": "flexUSD", "quantity": "701"})).json[
        "code"
    ] == "710006"
    assert (await alice.post("/v2/mint", {"asset": "flexDOGE", "quantity": "1"})).status == 400

    history = (await alice.get("/v2/mint/flexUSD")).json
    envelope(history, "mintHistory", {"accountId"}, string_timestamp=True)
    (record,) = history["data"]
    assert record == {"asset": "flexUSD", "quantity": "300", "mintedAt": "1700000000000"}
    assert (await alice.get("/v2/mint/flexBTC")).data == []

    normal = (
        await alice.post("/v2/redeem", {"asset": "flexUSD", "quantity": "100", "type": "Normal"})
    ).json
    envelope(normal, "redeem", {"accountId"}, string_timestamp=True)
    # Normal redemptions pay out at the next whole hour.
    next_hour = (1_700_000_000_000 // 3_600_000 + 1) * 3_600_000
    assert normal["data"] == {
        "asset": "flexUSD",
        "quantity": "100",
        "redeemAt": str(next_hour),
        "type": "NORMAL",
    }
    assert (alice.me.balance("USD"), alice.me.balance("flexUSD")) == (700, 200)
    instant = (
        await alice.post("/v2/redeem", {"asset": "flexUSD", "quantity": "50", "type": "Instant"})
    ).data
    assert instant["type"] == "INSTANT"
    assert (alice.me.balance("USD"), alice.me.balance("flexUSD")) == (750, 150)
    clock.set(next_hour / 1000)
    redeemed = (await alice.get("/v2/redeem/flexUSD")).json
    envelope(redeemed, "redemptionHistory", {"accountId"}, string_timestamp=True)
    assert [set(r) for r in redeemed["data"]] == [
        {"asset", "quantity", "requestedAt", "redeemedAt"}
    ] * 2
    assert alice.me.balance("USD") == 850
    assert protocol.balance("USD") == 150
    bad_type = await alice.post(
        "/v2/redeem", {"asset": "flexUSD", "quantity": "1", "type": "Later"}
    )
    assert bad_type.status == 400


async def test_borrow_repay_and_summary(sim: Simulator, trader: Callable[..., Trader]) -> None:
    alice = trader({"BTC": "1"})
    borrow = (
        await alice.post(
            "/v2/borrow",
            {"borrowAsset": "USD", "collateralAsset": "BTC", "collateralAmount": "0.01"},
        )
    ).json
    envelope(borrow, "borrow", {"accountId"}, string_timestamp=True)
    assert_shape(borrow["data"], BORROW_KEYS, strings=BORROW_KEYS)
    # 0.01 BTC at the 50000 mark with the documented 0.9 collateral weight.
    assert Decimal(borrow["data"]["borrowedAmount"]) == Decimal(450)
    assert (alice.me.balance("BTC"), alice.me.balance("USD")) == (Decimal("0.99"), Decimal(450))
    (summary,) = (await alice.get("/v2/borrowingSummary")).data
    assert_shape(summary, SUMMARY_KEYS, strings=SUMMARY_KEYS)
    assert (Decimal(summary["collateralizedAmount"]), summary["status"]) == (
        Decimal("0.01"),
        "To be repaid",
    )

    repay = (
        await alice.post(
            "/v2/repay", {"repayAsset": "USD", "regainAsset": "BTC", "regainAmount": "0.004"}
        )
    ).json
    envelope(repay, "repay", {"accountId"}, string_timestamp=True)
    assert_shape(repay["data"], REPAY_KEYS, strings=REPAY_KEYS)
    assert (Decimal(repay["data"]["repaidAmount"]), repay["data"]["status"]) == (
        Decimal(180),
        "COMPLETED",
    )
    assert alice.me.balance("USD") == 270
    partial = (
        await alice.post(
            "/v2/repay", {"repayAsset": "USD", "regainAsset": "BTC", "regainAmount": "0.01"}
        )
    ).data
    assert (partial["status"], Decimal(partial["nonRegainedAmount"])) == (
        "PARTIAL",
        Decimal("0.004"),
    )
    assert (alice.me.balance("BTC"), alice.me.balance("USD")) == (Decimal(1), Decimal(0))
    nothing = (
        await alice.post(
            "/v2/repay", {"repayAsset": "USD", "regainAsset": "ETH", "regainAmount": "1"}
        )
    ).data
    assert nothing["status"] == "CANCELLED"
    assert (await alice.get("/v2/borrowingSummary")).data == []
    borrows = (await alice.get("/v2/borrow/BTC")).json
    envelope(borrows, "borrowHistory", {"accountId"}, string_timestamp=True)
    assert len(borrows["data"]) == 1
    repays = (await alice.get("/v2/repay/BTC")).json
    envelope(repays, "repayHistory", {"accountId"}, string_timestamp=True)
    assert [r["status"] for r in repays["data"]] == ["PARTIAL", "COMPLETED"]
    refused = await alice.post(
        "/v2/borrow", {"borrowAsset": "BTC", "collateralAsset": "BTC", "collateralAmount": "1"}
    )
    assert refused.status == 400


async def test_close_borrow_sells_collateral_fok(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice, bidder = trader({"BTC": "1"}), trader()
    await alice.post(
        "/v2/borrow", {"borrowAsset": "USD", "collateralAsset": "BTC", "collateralAmount": "0.01"}
    )
    # No bids: the FOK sale cannot fill and nothing changes.
    unfilled = (await alice.post("/v2/borrow/close", {"marketCode": SWAP})).json
    envelope(unfilled, "closeBorrow", {"accountId"}, string_timestamp=True)
    assert_shape(unfilled["data"], ORDER_FULL_KEYS, strings=ORDER_FULL_KEYS)
    assert (unfilled["data"]["status"], unfilled["data"]["timeInForce"]) == (
        "CANCELED_BY_FOK",
        "FOK",
    )
    assert (alice.me.balance("BTC"), alice.me.balance("USD")) == (Decimal("0.99"), Decimal(450))
    await bidder.place(order_item(market="BTC-USD", side="BUY", quantity="0.01", price="50000"))
    closed = (await alice.post("/v2/borrow/close", {"marketCode": SWAP})).data
    assert closed["status"] == "FILLED"
    proceeds = Decimal(500) - Decimal(500) * Decimal("0.0005")
    assert alice.me.balance("USD") == Decimal(450) + proceeds - Decimal(450)
    assert alice.me.balance("BTC") == Decimal("0.99")
    assert (await alice.get("/v2/borrowingSummary")).data == []


async def test_delivery_request_cancel_and_auction(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice, maker = trader({"USD": "100000"}), trader()
    await maker.place(order_item(side="SELL", quantity="0.01", price="50000"))
    await alice.place(order_item(side="BUY", quantity="0.01", price="50000"))
    too_big = await alice.request(
        "POST", "/v2.1/delivery/orders", params={"instrumentId": SWAP, "qtyDeliver": "0.02"}
    )
    assert (too_big.status, too_big.json["code"]) == (400, "710004")
    request = await alice.request(
        "POST", "/v2.1/delivery/orders", params={"instrumentId": SWAP, "qtyDeliver": "0.004"}
    )
    envelope(request.json, "delivery", {"accountId"}, string_timestamp=True)
    (pending,) = request.json["data"]
    assert_shape(pending, DELIVERY_REQUEST_KEYS, strings=DELIVERY_REQUEST_KEYS - {"clientOrderId"})
    assert pending["clientOrderId"] is None
    assert (pending["status"], pending["instrumentIdDeliver"], pending["transferAsset"]) == (
        "PENDING",
        "BTC",
        "USD",
    )
    assert Decimal(pending["transferQty"]) == Decimal("0.004") * 50000

    auction = (await alice.get(f"/v2.1/deliver-auction/{SWAP}")).json
    assert auction["event"] == "deliverAuction"
    (state,) = auction["data"]
    assert_shape(state, AUCTION_KEYS, strings=AUCTION_KEYS)
    assert Decimal(state["netDeliver"]) == Decimal("0.004")

    cancel = (await alice.delete(f"/v2.1/delivery/orders/{pending['deliverOrderId']}")).json
    envelope(cancel, "delivery", {"accountId"}, string_timestamp=True)
    assert cancel["data"] == ["Cancel of user order was successful"]
    again = (await alice.delete(f"/v2.1/delivery/orders/{pending['deliverOrderId']}")).data
    assert again == ["Cancel exception please try again"]

    # The body form of the request works too.
    (second,) = (
        await alice.post("/v2.1/delivery/orders", {"instrumentId": SWAP, "qtyDeliver": "0.004"})
    ).data
    usd_before = alice.me.balance("USD")
    assert sim.run_delivery_auction() == 1
    assert alice.me.position(SWAP) == Decimal("0.006")
    assert alice.me.balance("BTC") == Decimal("0.004")
    assert alice.me.balance("USD") == usd_before - Decimal("0.004") * 50000
    listing = (await alice.get("/v2.1/delivery/orders")).json
    envelope(listing, "deliverOrders", set(), string_timestamp=True)
    statuses = {item["deliverOrderId"]: item["status"] for item in listing["data"]}
    assert statuses == {
        pending["deliverOrderId"]: "CANCELLED",
        second["deliverOrderId"]: "DELIVERED",
    }
    for item in listing["data"]:
        assert_shape(item, DELIVERY_KEYS)
        assert item["quantity"] is None


async def test_delivery_settles_at_the_auction_time(
    clocked: tuple[Simulator, ManualClock, aiohttp.ClientSession],
) -> None:
    sim, clock, session = clocked
    alice = Trader(session, sim, sim.create_account({"USD": "100000", "BTC": "0.005"}))
    maker = Trader(session, sim, sim.create_account({"USD": "100000", "BTC": "1"}))
    await alice.place(order_item(side="SELL", quantity="0.01", price="50000"))
    await maker.place(order_item(side="BUY", quantity="0.01", price="50000"))
    # A short must hold the coin it delivers.
    refused = await alice.post(
        "/v2.1/delivery/orders", {"instrumentId": SWAP, "qtyDeliver": "0.01"}
    )
    assert (refused.status, refused.json["code"]) == (400, "710006")
    alice.me.deposit("BTC", "0.005")
    (request,) = (
        await alice.post("/v2.1/delivery/orders", {"instrumentId": SWAP, "qtyDeliver": "0.01"})
    ).data
    assert (request["instrumentIdDeliver"], request["transferAsset"]) == ("USD", "BTC")
    clock.set(int(request["auctionTime"]) / 1000)
    (item,) = (await alice.get("/v2.1/delivery/orders")).data
    assert item["status"] == "DELIVERED"
    # A short delivers the coin and receives USD; its position is closed.
    assert alice.me.position(SWAP) == 0
    assert alice.me.balance("BTC") == 0


async def test_funding_payments(sim: Simulator, trader: Callable[..., Trader]) -> None:
    alice, maker = trader(), trader()
    await maker.place(order_item(side="SELL", quantity="0.01", price="50000"))
    await alice.place(order_item(side="BUY", quantity="0.01", price="50000"))
    usd_before = alice.me.balance("USD")
    sim.apply_funding(SWAP, rate="0.0001")
    payment = -Decimal("0.01") * 50000 * Decimal("0.0001")
    assert alice.me.balance("USD") == usd_before + payment
    reply = (await alice.get("/v2/funding-payments", marketCode=SWAP)).json
    envelope(reply, "fundingPayments", {"accountId"}, string_timestamp=True)
    (item,) = reply["data"]
    assert_shape(item, FUNDING_PAYMENT_KEYS, strings=FUNDING_PAYMENT_KEYS)
    assert (Decimal(item["payment"]), Decimal(item["position"])) == (payment, Decimal("0.01"))
    # The docs ask by the REPO code; the payment belongs to its swap.
    assert (await alice.get("/v2/funding-payments", marketCode="BTC-USD-REPO-LIN")).data == [item]
    (short_side,) = (await maker.get("/v2/funding-payments", marketCode=SWAP)).data
    assert Decimal(short_side["payment"]) == -payment
    assert (await alice.get("/v2/funding-payments")).status == 400


async def test_repo_trades_set_the_funding_rate(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice, bob = trader(), trader()
    await alice.place(order_item(market="BTC-USD-REPO-LIN", side="SELL", price="-0.0002"))
    (took,) = await bob.place(order_item(market="BTC-USD-REPO-LIN", side="BUY", price="-0.0002"))
    assert took["status"] == "FILLED"
    assert bob.me.position("BTC-USD-REPO-LIN") == Decimal("0.001")
    (auction,) = (await bob.get(f"/v2.1/deliver-auction/{SWAP}")).data
    assert Decimal(auction["estFundingRate"]) == Decimal("-0.0002")
