"""What ``client.stream()`` subscriptions yield, one event per item of a message's ``data``, and
the REST snapshot a private subscription yields after a reconnect.

Balance and position channels push the same objects as GET /v2/balances and /v2/positions, so
they yield :class:`Balance` and :class:`Position`. Depth levels arrive as JSON numbers
(``[5556.82, 11, 0, 0]``); msgspec builds each ``Decimal`` from the number's text, never
through a float.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from coinflex_async.models._base import Id, Model
from coinflex_async.models._values import (
    _MatchTypeField,
    _OrderNoticeField,
    _OrderStatusField,
    _OrderTypeField,
    _SideField,
    _TimeInForceField,
)
from coinflex_async.models.account import Balance, Position
from coinflex_async.models.market import Level
from coinflex_async.models.orders import OpenOrder

__all__ = [
    "AccountSnapshot",
    "CandleEvent",
    "CandleValues",
    "DepthEvent",
    "LiquidationEvent",
    "MarketEvent",
    "OrderEvent",
    "OrderFailureEvent",
    "Resynced",
    "TickerEvent",
    "TradeEvent",
]


class AccountSnapshot(msgspec.Struct, kw_only=True, frozen=True):
    """The account's state from REST: ``private.snapshot()``.

    ``taken_at`` (ms) is when the first of the three requests left: anything that happened
    after it may or may not be in the snapshot, anything before it is.
    """

    balances: list[Balance]
    positions: list[Position]
    open_orders: list[OpenOrder]
    taken_at: int


class Resynced(msgspec.Struct, kw_only=True, frozen=True):
    """Yielded by a private subscription after a reconnect, before its first new update: the
    account as REST saw it once the subscription was live again. Updates missed while the
    connection was down are not replayed; rebuild state from ``snapshot``."""

    channel: str
    snapshot: AccountSnapshot


class DepthEvent(Model, kw_only=True, frozen=True, gc=False):
    """One order book snapshot of ``depth:M``, ``depthL5:M``, ``depthL10:M``, ``depthL25:M``."""

    instrument_id: str
    seq_num: int
    timestamp: int
    checksum: int | None = None
    asks: list[Level]
    bids: list[Level]


class TradeEvent(Model, kw_only=True, frozen=True, gc=False):
    """One public trade of ``trade:M``."""

    trade_id: Id
    price: Decimal
    quantity: Decimal
    side: str
    market_code: str
    timestamp: int


class TickerEvent(Model, kw_only=True, frozen=True, gc=False):
    """One market's ticker of ``ticker:M`` / ``ticker:all``."""

    # Stream events list their fields in the order the exchange sends them: msgspec decodes
    # keys in field order fastest (an order update's decode: ~8% fewer instructions).
    last: Decimal | None = None
    open24h: Decimal | None = None
    high24h: Decimal | None = None
    low24h: Decimal | None = None
    volume24h: Decimal | None = None
    currency_volume24h: Decimal | None = msgspec.field(default=None, name="currencyVolume24h")
    open_interest: Decimal | None = None
    market_code: str
    timestamp: int | None = None
    last_qty: Decimal | None = None
    mark_price: Decimal | None = None
    last_mark_price: Decimal | None = None


class CandleValues(Model, kw_only=True, frozen=True, array_like=True, gc=False):
    """The docs' candle array: timestamp, open, high, low, close, counter and base volume."""

    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    currency_volume: Decimal


class CandleEvent(Model, kw_only=True, frozen=True, gc=False):
    """The current candle of ``candles<granularity>:M``."""

    market_code: str
    candle: CandleValues


class MarketEvent(Model, kw_only=True, frozen=True, gc=False):
    """One market's reference data and price of ``market:M`` / ``market:all``."""

    market_price: Decimal | None = None
    listing_date: int | None = None
    qty_increment: Decimal | None = None
    upper_price_bound: Decimal | None = None
    lower_price_bound: Decimal | None = None
    counter: str | None = None
    type: str | None = None
    market_id: str | None = None
    reference_pair: str | None = None
    tick_size: Decimal | None = None
    market_price_last_updated: int | None = None
    contract_val_currency: str | None = None
    name: str | None = None
    market_code: str
    margin_currency: str | None = None
    base: str | None = None


class LiquidationEvent(Model, kw_only=True, frozen=True, gc=False):
    """A liquidation about to happen in a market (``liquidationRFQ``)."""

    market_code: str
    timestamp: int | None = None


class OrderEvent(Model, kw_only=True, frozen=True, gc=False):
    """One update of ``order:all`` / ``order:M``: ``notice`` is OrderOpened, OrderMatched,
    OrderModified or OrderClosed; the match fields come with OrderMatched only."""

    notice: _OrderNoticeField  # fields in the exchange's order (see TickerEvent)
    account_id: Id | None = None
    client_order_id: Id | None = None
    order_id: Id | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    side: _SideField | None = None
    status: _OrderStatusField | None = None
    market_code: str | None = None
    time_in_force: _TimeInForceField | None = None
    timestamp: int | None = None
    match_id: Id | None = None
    match_price: Decimal | None = None
    match_quantity: Decimal | None = None
    order_match_type: _MatchTypeField | None = None
    remain_quantity: Decimal | None = None
    order_type: _OrderTypeField | None = None
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None
    fees: Decimal | None = None
    fee_instrument_id: str | None = None
    is_triggered: bool | None = None


class OrderFailureEvent(msgspec.Struct, kw_only=True, frozen=True):
    """An order channel's "OrderClosed Failure" (``event`` CANCEL) or "OrderModified Failure"
    (``event`` AMEND): a cancel or modify that reached the exchange when the order was no longer
    open (its command was answered ``submitted: true`` before). ``status`` says why, e.g.
    ``REJECT_CANCEL_ORDER_ID_NOT_FOUND``; IDs are strings (the docs send them as numbers)."""

    event: str
    code: str | None = None
    message: str | None = None
    status: str | None = None
    order_id: str | None = None
    client_order_id: str | None = None
    market_code: str | None = None
    side: _SideField | None = None
    order_type: _OrderTypeField | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    remain_quantity: Decimal | None = None
    timestamp: int | None = None
