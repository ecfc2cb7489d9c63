"""The docs' JSON shapes, written from the engine's state.

Key names, string-typed numbers and ``"true"``/``"false"`` strings follow the examples of the
v2 REST docs endpoint by endpoint, including where they differ between endpoints (e.g. the
envelope ``timestamp`` is a number for /v2/balances but a string for /v2/orders).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ._accounts import Account, Balance, Fill, Order, OrderState, Position
from ._book import Candle, Market, PublicTrade
from ._engine import Engine
from ._errors import SimError
from ._ledger import (
    BorrowRecord,
    DeliveryOrder,
    FundingPayment,
    FundingRateRecord,
    Loan,
    MintRecord,
    Redemption,
    RepayRecord,
)
from ._markets import AssetSpec, MarketType
from ._numbers import ZERO, format_decimal, format_fixed

__all__ = [
    "Json",
    "asset_item",
    "balance_item",
    "borrow_item",
    "borrowing_summary_item",
    "candle_item",
    "contract_asset_item",
    "delivery_item",
    "delivery_request_item",
    "batch_envelope",
    "depth_item",
    "envelope",
    "error_body",
    "failed_item",
    "funding_payment_item",
    "funding_rate_item",
    "market_item",
    "mint_item",
    "open_order_item",
    "order_result",
    "order_status_item",
    "position_item",
    "public_funding_item",
    "public_trade_item",
    "redemption_item",
    "repay_item",
    "trade_item",
]

Json = dict[str, Any]

AVERAGE_STEP = Decimal("1e-9")


def _text(value: Decimal) -> str:
    return format_decimal(value)


def error_body(error: SimError) -> Json:
    return {"success": False, "code": error.code, "message": error.message}


def envelope(
    event: str,
    now: int,
    data: Any,
    fields: Mapping[str, Any] | None = None,
    *,
    numeric_timestamp: bool = False,
) -> Json:
    """An endpoint's answer around ``data``: ``event``, ``timestamp`` (a string, or a number
    where the endpoint's example shows one), the endpoint's own keys (``accountId``,
    ``marketCode``, ...) in order, then ``data``."""
    body: Json = {"event": event, "timestamp": now if numeric_timestamp else str(now)}
    if fields:
        body.update(fields)
    body["data"] = data
    return body


def batch_envelope(account_id: str, event: str, now: int, data: list[Any]) -> Json:
    """place/modify/cancel answers: ``accountId`` first, as their examples."""
    return {"accountId": account_id, "event": event, "timestamp": str(now), "data": data}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _notice(order: Order) -> str:
    if order.is_working:
        return "OrderOpened"
    if order.status == OrderState.FILLED:
        return "OrderMatched"
    return "OrderClosed"


def _shown_price(order: Order) -> Decimal | None:
    return order.price if order.price is not None else order.limit_price


# -- accounts ---------------------------------------------------------------------------------


def balance_item(asset: str, balance: Balance) -> Json:
    return {
        "instrumentId": asset,
        "total": _text(balance.total),
        "available": _text(balance.available),
        "reserved": _text(balance.reserved),
        "quantityLastUpdated": str(balance.last_updated),
    }


def position_item(
    engine: Engine, account: Account, position: Position, *, with_liquidation: bool
) -> Json:
    market = position.market
    item: Json = {
        "instrumentId": market.code,
        "quantity": market.format_quantity(position.quantity),
        "lastUpdated": str(position.last_updated),
        "contractValCurrency": market.base,
        "entryPrice": _text(position.entry_price),
        "positionPnl": _text(position.unrealized_pnl),
    }
    if with_liquidation:
        item["estLiquidationPrice"] = _text(liquidation_price(engine, account, position))
    return item


def liquidation_price(
    engine: Engine, account: Account, position: Position, equity: Decimal | None = None
) -> Decimal:
    """Where the account's equity would fall to the position's maintenance margin (half its
    initial margin), other prices unchanged; 0 when that is not a positive price.
    ``equity``: the account's collateral value, when the caller already has it."""
    market = position.market
    quantity = position.quantity
    if market.type != MarketType.FUTURE or not quantity:
        return ZERO
    if equity is None:
        equity = engine.risk.collateral_value(account)
    maintenance = market.spec.margin_rate / 2
    mark = market.mark_price
    size = abs(quantity)
    if quantity > 0:
        price = (size * mark - equity) / (size * (1 - maintenance))
    else:
        price = (size * mark + equity) / (size * (1 + maintenance))
    return max(price, ZERO).quantize(Decimal("0.0001"))


def trade_item(fill: Fill) -> Json:
    order = fill.order
    market = order.market
    return {
        "matchId": fill.match_id,
        "matchTimestamp": str(fill.timestamp),
        "marketCode": market.code,
        "matchQuantity": market.format_quantity(fill.quantity),
        "matchPrice": market.format_price(fill.price),
        "total": _text(fill.quantity * fill.price),
        "orderMatchType": fill.match_type,
        "fees": _text(fill.fee),
        "feeInstrumentId": fill.fee_asset,
        "orderId": order.order_id,
        "side": order.side,
        "clientOrderId": order.client_order_id,
    }


# -- orders -----------------------------------------------------------------------------------


def order_result(order: Order, *, full: bool, now: int) -> Json:
    """One item of a place/modify/cancel (or close-borrow) response."""
    market = order.market
    price = _shown_price(order)
    item: Json = {
        "success": "true",
        "timestamp": str(now),
        "clientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "price": None if price is None else market.format_price(price),
        "quantity": market.format_quantity(order.quantity),
        "side": order.side,
    }
    if full:
        item["status"] = order.status
    item["marketCode"] = market.code
    item["timeInForce"] = order.time_in_force
    if full:
        item["remainQuantity"] = market.format_quantity(order.remaining)
        item["notice"] = _notice(order)
    item["orderType"] = order.order_type
    if full:
        item["isTriggered"] = _bool(order.is_triggered)
        if order.order_type == "STOP":
            assert order.stop_price is not None and order.limit_price is not None
            item["stopPrice"] = market.format_price(order.stop_price)
            item["limitPrice"] = market.format_price(order.limit_price)
    return item


def failed_item(error: SimError, echo: Mapping[str, str | None], now: int) -> Json:
    return {
        "success": "false",
        "timestamp": str(now),
        "code": error.code,
        "message": error.message,
        **echo,
    }


def open_order_item(order: Order, *, flex: bool) -> Json:
    """GET /v2/orders (numbers for times, null limitPrice on LIMIT orders) or, with ``flex``,
    GET /v2/flex-protocol/orders (strings for times, limitPrice = price), as each example."""
    market = order.market
    is_stop = order.order_type == "STOP"
    price = order.price if not is_stop else (order.limit_price if order.is_triggered else None)
    limit_price = order.limit_price if is_stop else (order.price if flex else None)
    last_trade = order.last_trade_at if order.last_trade_at is not None else order.last_modified
    times: tuple[Any, Any, Any] = (order.created, order.last_modified, last_trade)
    if flex:
        times = tuple(str(value) for value in times)  # type: ignore[assignment]
    return {
        "orderId": order.order_id,
        "marketCode": market.code,
        "clientOrderId": order.client_order_id,
        "side": order.side,
        "orderType": order.order_type,
        "quantity": market.format_quantity(order.quantity),
        "remainingQuantity": market.format_quantity(order.remaining),
        "price": None if price is None else market.format_price(price),
        "stopPrice": None if order.stop_price is None else market.format_price(order.stop_price),
        "limitPrice": None if limit_price is None else market.format_price(limit_price),
        "orderCreated": times[0],
        "lastModified": times[1],
        "lastTradeTimestamp": times[2],
        "timeInForce": order.time_in_force,
    }


def order_status_item(order: Order) -> Json:
    """One order of GET /v2.1/orders: OrderOpened, OrderMatched (filled) or OrderClosed."""
    market = order.market
    status = _notice(order)
    price = _shown_price(order)
    item: Json = {
        "status": status,
        "orderId": order.order_id,
        "clientOrderId": order.client_order_id,
        "marketCode": market.code,
        "side": order.side,
        "orderType": order.order_type,
        "price": None if price is None else market.format_price(price),
    }
    if order.order_type == "STOP":
        assert order.stop_price is not None and order.limit_price is not None
        item["stopPrice"] = market.format_price(order.stop_price)
        item["limitPrice"] = market.format_price(order.limit_price)
    if order.filled:
        average = order.average_fill_price
        assert average is not None
        item["lastTradedPrice"] = market.format_price(order.fills[-1].price)
        item["avgFillPrice"] = _text(average.quantize(AVERAGE_STEP))
    item["quantity"] = market.format_quantity(order.quantity)
    if order.filled:
        item["filledQuantity"] = market.format_quantity(order.filled)
    item["remainQuantity"] = market.format_quantity(order.remaining)
    if order.filled:
        item["matchIds"] = [
            {
                fill.match_id: {
                    "matchQuantity": market.format_quantity(fill.quantity),
                    "matchPrice": market.format_price(fill.price),
                    "timestamp": str(fill.timestamp),
                    "orderMatchType": fill.match_type,
                }
            }
            for fill in order.fills
        ]
        # As the docs' example: a fee paid shows as a negative amount.
        item["fees"] = {asset: _text(-fee) for asset, fee in order.fees.items()}
    item["timeInForce"] = order.time_in_force
    if status == "OrderOpened":
        item["orderOpenedTimestamp"] = str(order.created)
    elif status == "OrderClosed":
        item["orderClosedTimestamp"] = str(order.last_update)
    if order.filled or order.order_type == "STOP":
        item["isTriggered"] = _bool(order.is_triggered)
    return item


# -- markets ----------------------------------------------------------------------------------


def depth_item(market: Market, levels: int, now: int) -> Json:
    """GET /v2/depth: the levels as ``[price, quantity]`` (encode with
    ``decimal_format="number"``: the only JSON numbers of the REST API).

    Two elements, not the docs' example's four: the changelog of 2021-09-17 says "Removed last
    two elements in depth" (REST only: the WebSocket books keep ``[price, quantity, 0, 0]``), and
    hummingbot's fixtures of the live answer have two. ``levels`` beyond the book: the whole
    book."""
    return {
        "asks": [[price, size] for price, size in market.asks.depth(levels)],
        "bids": [[price, size] for price, size in market.bids.depth(levels)],
        "marketCode": market.code,
        "timestamp": str(now),
    }


def market_item(market: Market) -> Json:
    lower, upper = market.price_bounds()
    return {
        "marketId": market.market_id,
        "marketCode": market.code,
        "name": market.spec.display_name,
        "referencePair": f"{market.base}/{market.counter}",
        "base": market.base,
        "counter": market.counter,
        "type": market.type,
        "tickSize": _text(market.tick_size),
        "qtyIncrement": _text(market.qty_increment),
        "listingDate": market.spec.listing_date,
        "endDate": 0,
        "marginCurrency": market.counter,
        "contractValCurrency": market.base,
        "upperPriceBound": market.format_price(upper),
        "lowerPriceBound": market.format_price(lower),
        "marketPrice": market.format_price(market.mark_price),
        "marketPriceLastUpdated": str(market.mark_updated),
        # Not in the docs; every market of the live answer had them, as null and 0 (hummingbot's
        # fixtures of 2022-02-22, spot and perpetual alike). The mark price is in the ticker.
        "markPrice": None,
        "markPriceLastUpdated": 0,
    }


def asset_item(asset: AssetSpec) -> Json:
    return {
        "instrumentId": asset.instrument_id,
        "name": asset.name,
        "base": None,
        "counter": None,
        "type": "SPOT",
        "marginCurrency": None,
        "contractValCurrency": None,
        "deliveryDate": None,
        "deliveryInstrument": None,
    }


def contract_asset_item(market: Market) -> Json:
    return {
        "instrumentId": market.code,
        "name": market.spec.display_name,
        "base": market.base,
        "counter": market.counter,
        "type": market.type,
        "marginCurrency": market.counter,
        "contractValCurrency": market.base,
        "deliveryDate": None,
        "deliveryInstrument": None,
    }


def public_trade_item(market: Market, trade: PublicTrade) -> Json:
    return {
        "matchId": trade.match_id,
        "matchQuantity": market.format_quantity(trade.quantity),
        "matchPrice": market.format_price(trade.price),
        "side": trade.taker_side,
        "matchTimestamp": str(trade.timestamp),
    }


def candle_item(market: Market, candle: Candle) -> Json:
    return {
        "timestamp": str(candle.start),
        "open": market.format_price(candle.open),
        "high": market.format_price(candle.high),
        "low": market.format_price(candle.low),
        "close": market.format_price(candle.close),
        "volume24h": _text(candle.volume),
        "currencyVolume24h": _text(candle.currency_volume),
    }


# -- delivery, funding, lending ---------------------------------------------------------------


def delivery_item(order: DeliveryOrder) -> Json:
    """GET /v2.1/delivery/orders and GET /v2/flex-protocol/delivery/orders."""
    return {
        "timestamp": str(order.last_updated),
        "instrumentId": order.market.code,
        "status": order.status,
        "quantity": None,
        "deliverPrice": _text(order.deliver_price),
        "transferAsset": order.transfer_asset,
        "transferQty": _text(order.transfer_quantity),
        "instrumentIdDeliver": order.deliver_asset,
        "deliverQty": _text(order.deliver_quantity),
        "deliverOrderId": order.deliver_order_id,
        "clientOrderId": None,
    }


def delivery_request_item(order: DeliveryOrder) -> Json:
    """POST /v2.1/delivery/orders."""
    return {
        "deliverOrderId": order.deliver_order_id,
        "accountId": order.account.account_id,
        "clientOrderId": None,
        "instrumentId": order.market.code,
        "deliverPrice": _text(order.deliver_price),
        "deliverPosition": _text(order.quantity),
        "deliverType": "NEXT_CYCLE",
        "instrumentIdDeliver": order.deliver_asset,
        "deliverQty": _text(order.deliver_quantity),
        "remainingQty": _text(order.deliver_quantity),
        "remainingPosition": _text(order.quantity),
        "transferAsset": order.transfer_asset,
        "transferQty": _text(order.transfer_quantity),
        "auctionTime": str(order.auction_time),
        "created": str(order.created),
        "lastUpdated": str(order.last_updated),
        "status": order.status,
    }


def funding_payment_item(payment: FundingPayment) -> Json:
    return {
        "marketCode": payment.market_code,
        "payment": _text(payment.payment),
        "rate": _text(payment.rate),
        "position": _text(payment.position),
        "markPrice": _text(payment.mark_price),
        "timestamp": str(payment.timestamp),
    }


def funding_rate_item(record: FundingRateRecord) -> Json:
    return {
        "fundingRate": _text(record.funding_rate),
        "index": _text(record.index),
        "markPrice": _text(record.mark_price),
        "marketCode": record.market_code,
        "timestamp": str(record.timestamp),
    }


def public_funding_item(record: FundingRateRecord) -> Json:
    """GET /v2/delivery/public/funding: its timestamps are ``YYYY-MM-DD hh:mm:ss`` (UTC)."""
    moment = datetime.fromtimestamp(record.timestamp / 1000, tz=timezone.utc)
    return {
        "timestamp": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "instrumentId": record.market_code,
        "fundingRate": format_fixed(record.funding_rate, Decimal("1e-9")),
    }


def mint_item(record: MintRecord) -> Json:
    return {
        "asset": record.asset,
        "quantity": _text(record.quantity),
        "mintedAt": str(record.minted_at),
    }


def redemption_item(redemption: Redemption) -> Json:
    return {
        "asset": redemption.asset,
        "quantity": _text(redemption.quantity),
        "requestedAt": str(redemption.requested_at),
        "redeemedAt": str(redemption.redeem_at),
    }


def borrow_item(record: BorrowRecord) -> Json:
    return {
        "borrowAsset": record.borrow_asset,
        "borrowedAmount": _text(record.borrowed_amount),
        "collateralAsset": record.collateral_asset,
        "collateralizedAmount": _text(record.collateralized_amount),
        "nonCollateralizedAmount": _text(record.non_collateralized_amount),
        "rateType": record.rate_type,
        "status": record.status,
        "borrowedAt": str(record.borrowed_at),
    }


def repay_item(record: RepayRecord) -> Json:
    return {
        "repayAsset": record.repay_asset,
        "repaidAmount": _text(record.repaid_amount),
        "regainAsset": record.regain_asset,
        "regainedAmount": _text(record.regained_amount),
        "nonRegainedAmount": _text(record.non_regained_amount),
        "status": record.status,
        "repaidAt": str(record.repaid_at),
    }


def borrowing_summary_item(loan: Loan) -> Json:
    return {
        "borrowAsset": "USD",
        "borrowedAmount": _text(loan.borrowed),
        "collateralAsset": loan.collateral_asset,
        "collateralizedAmount": _text(loan.collateral),
        "rateType": "FLOATING_RATE",
        "status": "To be repaid",
    }
