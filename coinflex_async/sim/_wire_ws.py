"""The WebSocket API's JSON shapes (/v2/websocket), written from the engine's state.

Key names, key order and value types follow the examples of the v2 WebSocket docs: string
timestamps and amounts, ``"True"``/``"False"`` strings for ``isTriggered``, JSON numbers only
in the depth levels ``[price, quantity, 0, 0]``. Where the examples disagree with each other
the majority is followed (see the sim package docs).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ._accounts import Account, Balance, Order, OrderState, Position
from ._book import Candle, Market, PublicTrade
from ._events import OrderEvent
from ._numbers import format_decimal

__all__ = [
    "balance_push",
    "cancel_all_notice",
    "candle_push",
    "command_failure",
    "command_success",
    "depth_levels",
    "depth_push",
    "failure",
    "market_push",
    "order_failure_notice",
    "order_push",
    "position_push",
    "success",
    "ticker_item",
    "trade_push",
]

Json = dict[str, Any]

_ZERO_POINT = Decimal("0.0")

# Engine statuses as the order channel's OrderClosed names them.
_CLOSED_STATUS = {
    OrderState.CANCELED_BY_MODIFY: "CANCELED_BY_AMEND",
    OrderState.CANCELED_BY_FOK: "CANCELED_BY_FOK",
    OrderState.CANCELED_BY_MAKER_ONLY: "CANCELED_BY_MAKER_ONLY",
    OrderState.CANCELED_BY_USER: "CANCELED_BY_USER",
}


def _text(value: Decimal) -> str:
    return format_decimal(value)


def _bool(value: bool) -> str:
    return "True" if value else "False"


def ws_order_type(order: Order) -> str:
    """The WebSocket name of an order type: the engine's STOP is ``STOP_LIMIT`` here."""
    return "STOP_LIMIT" if order.order_type == "STOP" else order.order_type


# -- replies to requests ----------------------------------------------------------------------


def success(event: str, tag: str | None, now: int, channel: str | None = None) -> Json:
    """login / subscribe / unsubscribe success."""
    reply: Json = {"event": event, "success": True}
    if tag is not None:
        reply["tag"] = tag
    if channel is not None:
        reply["channel"] = channel
    reply["timestamp"] = str(now)
    return reply


def failure(event: str, code: str, message: str, tag: str | None, now: int) -> Json:
    """A refused login, subscription or unreadable request."""
    reply: Json = {"event": event, "success": False}
    if tag is not None:
        reply["tag"] = tag
    reply["message"] = message
    reply["code"] = code
    reply["timestamp"] = str(now)
    return reply


def command_success(event: str, tag: str | None, now: int, data: Json) -> Json:
    reply: Json = {"event": event, "submitted": True}
    if tag is not None:
        reply["tag"] = tag
    reply["timestamp"] = str(now)
    reply["data"] = data
    return reply


def command_failure(
    event: str, code: str, message: str, tag: str | None, now: int, data: Json
) -> Json:
    reply: Json = {"event": event, "submitted": False}
    if tag is not None:
        reply["tag"] = tag
    reply["message"] = message
    reply["code"] = code
    reply["timestamp"] = str(now)
    reply["data"] = data
    return reply


# -- public channels --------------------------------------------------------------------------


def depth_levels(pairs: Iterable[tuple[Decimal, Decimal]]) -> str:
    """``[[5556.82,11,0,0],...]`` as JSON text: plain decimals, no exponent, no trailing 0s."""
    return "[" + ",".join(f"[{_text(p)},{_text(q)},0,0]" for p, q in pairs) + "]"


def depth_checksum(asks: list[tuple[Decimal, Decimal]], bids: list[tuple[Decimal, Decimal]]) -> int:
    """CRC32 of ``bid1price:bid1qty:ask1price:ask1qty:...`` over the first 25 levels (the docs
    show a checksum without defining it; this is the simulator's own)."""
    parts: list[str] = []
    for index in range(min(25, max(len(asks), len(bids)))):
        if index < len(bids):
            parts += (_text(bids[index][0]), _text(bids[index][1]))
        if index < len(asks):
            parts += (_text(asks[index][0]), _text(asks[index][1]))
    return zlib.crc32(":".join(parts).encode())


def depth_push(
    market: Market, seq_num: int, now: int, asks_json: str, bids_json: str, checksum: int
) -> str:
    """The depth message as JSON text (its levels are JSON numbers, the rest as the docs)."""
    return (
        '{"table":"depth","data":[{"instrumentId":"'
        + market.code
        + '","seqNum":'
        + str(seq_num)
        + ',"timestamp":"'
        + str(now)
        + '","checksum":'
        + str(checksum)
        + ',"asks":'
        + asks_json
        + ',"bids":'
        + bids_json
        + "}]}"
    )


def trade_push(market: Market, trade: PublicTrade) -> Json:
    return {
        "table": "trade",
        "data": [
            {
                # The docs' example writes the taker's side in lower case.
                "side": trade.taker_side.lower(),
                "tradeId": trade.match_id,
                "price": market.format_price(trade.price),
                "quantity": market.format_quantity(trade.quantity),
                "marketCode": market.code,
                "timestamp": str(trade.timestamp),
            }
        ],
    }


def ticker_item(market: Market, now: int) -> Json:
    """One market's ticker: the ``ticker`` channel's item, and an item of GET /v2/ticker (the
    live exchange's REST item had the same keys in the same order)."""
    trades = market.trades_between(now - 86_400_000, now)
    if trades:
        prices = [trade.price for trade in trades]
        open_24h, high, low = prices[0], max(prices), min(prices)
        volume = sum((trade.price * trade.quantity for trade in trades), Decimal(0))
        currency_volume = sum((trade.quantity for trade in trades), Decimal(0))
    else:
        open_24h = high = low = volume = currency_volume = Decimal(0)
    last = market.last_price if market.last_price is not None else Decimal(0)
    last_quantity = market.last_quantity if market.last_quantity is not None else Decimal(0)
    mark = market.format_price(market.mark_price)
    return {
        "last": market.format_price(last),
        "open24h": market.format_price(open_24h),
        "high24h": market.format_price(high),
        "low24h": market.format_price(low),
        "volume24h": _text(volume),
        "currencyVolume24h": _text(currency_volume),
        "openInterest": _text(market.open_interest),
        "marketCode": market.code,
        "timestamp": str(now),
        "lastQty": market.format_quantity(last_quantity),
        "markPrice": mark,
        "lastMarkPrice": mark,
    }


def candle_push(timeframe: int, market: Market, candle: Candle | None, now: int) -> Json:
    """The current candle (before any trade in it: the last price, zero volume)."""
    if candle is None:
        start = now - now % (timeframe * 1000)
        price = market.format_price(
            market.last_price if market.last_price is not None else market.mark_price
        )
        values = [str(start), price, price, price, price, "0", "0"]
    else:
        values = [
            str(candle.start),
            market.format_price(candle.open),
            market.format_price(candle.high),
            market.format_price(candle.low),
            market.format_price(candle.close),
            _text(candle.volume),
            _text(candle.currency_volume),
        ]
    return {
        "table": f"candles{timeframe}s",
        "data": [{"marketCode": market.code, "candle": values}],
    }


def market_item(market: Market) -> Json:
    lower, upper = market.price_bounds()
    return {
        "marketPrice": market.format_price(market.mark_price),
        "listingDate": str(market.spec.listing_date),
        "qtyIncrement": _text(market.qty_increment),
        "upperPriceBound": market.format_price(upper),
        "lowerPriceBound": market.format_price(lower),
        "counter": market.counter,
        "type": market.type,
        "marketId": market.market_id,
        "referencePair": f"{market.base}/{market.counter}",
        "tickSize": _text(market.tick_size),
        "marketPriceLastUpdated": str(market.mark_updated),
        "contractValCurrency": market.base,
        "name": market.spec.display_name,
        "marketCode": market.code,
        "marginCurrency": market.counter,
        "base": market.base,
    }


def market_push(items: list[Json]) -> Json:
    return {"table": "market", "data": items}


# -- private channels -------------------------------------------------------------------------


def balance_push(account: Account, now: int, balances: Iterable[tuple[str, Balance]]) -> Json:
    return {
        "table": "balance",
        "accountId": account.account_id,
        "timestamp": str(now),
        "tradeType": "LINEAR",
        "data": [
            {
                "total": _text(balance.total),
                "reserved": _text(balance.reserved),
                "instrumentId": asset,
                "available": _text(balance.available),
                "quantityLastUpdated": str(balance.last_updated),
            }
            for asset, balance in balances
        ],
    }


def position_push(
    account: Account, now: int, positions: Iterable[Position], liquidation: dict[str, Decimal]
) -> Json:
    return {
        "table": "position",
        "accountId": account.account_id,
        "timestamp": str(now),
        "data": [
            {
                "entryPrice": _text(position.entry_price),
                "lastUpdated": str(position.last_updated),
                "contractValCurrency": position.market.base,
                "quantity": position.market.format_quantity(position.quantity),
                "instrumentId": position.market.code,
                "positionPnl": _text(position.unrealized_pnl),
                "estLiquidationPrice": _text(liquidation.get(position.market.code, Decimal(0))),
            }
            for position in positions
        ],
    }


def order_push(event: OrderEvent) -> Json:
    """OrderOpened / OrderModified / OrderClosed / OrderMatched, as the order channel shows."""
    order = event.order
    market = order.market
    is_stop = order.order_type == "STOP"
    item: Json = {
        "notice": event.notice,
        "accountId": order.account.account_id,
        "clientOrderId": order.client_order_id,
        "orderId": order.order_id,
    }
    if order.order_type == "LIMIT":
        assert order.price is not None
        item["price"] = market.format_price(order.price)
    item["quantity"] = market.format_quantity(order.quantity)
    item["side"] = order.side
    fill = event.fill
    if event.notice == "OrderClosed":
        status = _CLOSED_STATUS.get(order.status)
        if status is None:  # IOC (and MARKET) remainders
            status = "CANCELED_PARTIAL_BY_IOC" if order.filled else "CANCELED_ALL_BY_IOC"
        item["status"] = status
    elif fill is not None:
        item["status"] = "FILLED" if not order.remaining else "PARTIAL_FILL"
    else:
        item["status"] = "OPEN"
    item["marketCode"] = market.code
    if order.order_type != "MARKET":
        item["timeInForce"] = order.time_in_force
    item["timestamp"] = str(event.timestamp)
    if fill is not None:
        item["matchId"] = fill.match_id
        item["matchPrice"] = market.format_price(fill.price)
        item["matchQuantity"] = market.format_quantity(fill.quantity)
        item["orderMatchType"] = fill.match_type
    if event.notice in ("OrderClosed", "OrderMatched"):
        item["remainQuantity"] = market.format_quantity(order.remaining)
    item["orderType"] = ws_order_type(order)
    if is_stop:
        assert order.stop_price is not None and order.limit_price is not None
        item["stopPrice"] = market.format_price(order.stop_price)
        item["limitPrice"] = market.format_price(order.limit_price)
    if fill is not None:
        item["fees"] = _text(fill.fee)
        item["feeInstrumentId"] = fill.fee_asset
    item["isTriggered"] = _bool(order.is_triggered)
    return {"table": "order", "data": [item]}


def order_failure_notice(
    event: str, status: str, market_code: str, order_id: str, order: Order | None
) -> Json:
    """The order channel's "OrderClosed Failure" (event CANCEL) and "OrderModified Failure"
    (event AMEND): the order was no longer open when the command reached the engine. Its
    amounts are JSON numbers (Decimals: encode with ``decimal_format="number"``)."""
    market = order.market if order is not None else None
    return {
        "event": event,
        "submitted": False,
        "message": f"Order request was rejected : {status}",
        "code": "100004",
        "timestamp": "0",
        "data": {
            "clientOrderId": int(order.client_order_id)
            if order is not None and order.client_order_id is not None
            else 0,
            "orderId": int(order_id) if order_id.isdigit() else 0,
            "displayQuantity": _ZERO_POINT,
            "lastMatchPrice": _ZERO_POINT,
            "lastMatchQuantity": _ZERO_POINT,
            "lastMatchedOrderId": 0,
            "lastMatchedOrderId2": 0,
            "matchedId": 0,
            "matchedType": "MAKER",
            "remainQuantity": order.remaining if order is not None else _ZERO_POINT,
            "side": order.side if order is not None else "BUY",
            "status": status,
            "timeCondition": order.time_in_force if order is not None else "GTC",
            "marketCode": market.code if market is not None else market_code,
            "timestampEpochMs": order.last_update if order is not None else 0,
            "orderType": ws_order_type(order) if order is not None else "LIMIT",
            "price": order.price if order is not None and order.price is not None else _ZERO_POINT,
            "quantity": order.quantity if order is not None else _ZERO_POINT,
            "isTriggered": order.is_triggered if order is not None else False,
        },
    }


def cancel_all_notice(now: int) -> Json:
    """What an authenticated socket hears after a REST cancel-all ("Other Responses")."""
    return {"event": "CANCEL", "submitted": True, "timestamp": str(now)}
