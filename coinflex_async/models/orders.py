"""Orders: open orders, order history, and the results of placing, modifying and cancelling."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from coinflex_async.models._base import Id, Model
from coinflex_async.models._values import (
    _MatchTypeField,
    _OrderNoticeField,
    _OrderStatusField,
    _OrderTypeField,
    _SideField,
    _TimeInForceField,
)

__all__ = [
    "AcceptedOrder",
    "CancelAllResult",
    "MatchInfo",
    "OpenOrder",
    "OrderResult",
    "OrderStatus",
]

# msgspec does not inherit kw_only from Model, and mypy sees frozen only where it is spelt out:
# every model repeats both.


class OpenOrder(Model, kw_only=True, frozen=True, gc=False):
    """Open order: GET /v2/orders, GET /v2/flex-protocol/orders/{flexProtocol}."""

    order_id: Id
    market_code: str
    client_order_id: Id | None = None
    side: _SideField
    order_type: _OrderTypeField
    quantity: Decimal
    remaining_quantity: Decimal
    # A limit order has a price and no stop/limit price; a stop order the reverse.
    price: Decimal | None = None
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None
    order_created: int
    last_modified: int
    last_trade_timestamp: int
    time_in_force: _TimeInForceField


class MatchInfo(Model, kw_only=True, frozen=True, gc=False):
    """One fill of an order in GET /v2.1/orders (``matchIds`` maps a match ID to it)."""

    match_quantity: Decimal
    match_price: Decimal
    timestamp: int
    order_match_type: _MatchTypeField


class OrderStatus(Model, kw_only=True, frozen=True):
    """An order in any status (OrderOpened, OrderMatched, OrderClosed, ...): GET /v2.1/orders."""

    # Each status sends its own subset of fields, and later statuses may send others, so every
    # field but the status is optional.
    status: _OrderNoticeField
    order_id: Id | None = None
    client_order_id: Id | None = None
    market_code: str | None = None
    side: _SideField | None = None
    order_type: _OrderTypeField | None = None
    price: Decimal | None = None
    last_traded_price: Decimal | None = None
    avg_fill_price: Decimal | None = None
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None
    # In the docs' table only, with no description.
    leg1_price: Decimal | None = None
    leg2_price: Decimal | None = None
    quantity: Decimal | None = None
    remain_quantity: Decimal | None = None
    filled_quantity: Decimal | None = None
    # The wire shape is a list of one-key objects: ``[{"<matchId>": {...}}, ...]``.
    match_ids: list[dict[str, MatchInfo]] | None = None
    # The docs' table says "LIST of dictionaries"; the example (followed) sends one object
    # mapping the fee instrument to the fee: ``{"FLEX": "-0.00440786"}``.
    fees: dict[str, Decimal] | None = None
    time_in_force: _TimeInForceField | None = None
    is_triggered: bool | None = None
    order_opened_timestamp: int | None = None
    order_closed_timestamp: int | None = None


class OrderResult(Model, kw_only=True, frozen=True, gc=False):
    """Result: POST /v2/orders/place|modify, DELETE /v2/orders/cancel, POST /v2/borrow/close."""

    # Only success is required: a rejection carries little more than code and message (a failed
    # cancel not even a price or an order ID), and an order response that fails to decode would
    # turn a definite answer into an ambiguous one.
    success: bool
    timestamp: int | None = None
    code: str | None = None
    message: str | None = None
    client_order_id: Id | None = None
    order_id: Id | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    remain_quantity: Decimal | None = None
    side: _SideField | None = None
    status: _OrderStatusField | None = None
    market_code: str | None = None
    time_in_force: _TimeInForceField | None = None
    notice: _OrderNoticeField | None = None
    order_type: _OrderTypeField | None = None
    is_triggered: bool | None = None


# The fields every accepted order's answer carries: the docs' place, modify, cancel and close
# borrow examples all have them, in FULL and ACK answers alike, and so does a result rebuilt from
# the order history. ``status`` is not among them: the docs' own place answer has none.
ACCEPTED_FIELDS = (
    "client_order_id",
    "order_id",
    "market_code",
    "side",
    "order_type",
    "quantity",
    "time_in_force",
)


class AcceptedOrder(OrderResult, kw_only=True, frozen=True, gc=False):
    """The result of ``place_order``, ``modify_order`` or ``cancel_order`` (REST), and of
    ``ws.place_order`` (WebSocket): one order the exchange accepted (a refusal raises
    ``OrderRejectedError`` instead).

    An :class:`OrderResult` whose identifying fields (``ACCEPTED_FIELDS``) are known to be
    present, so they need no ``None`` check; what the answer lacks and the request states is
    taken from the request (a WebSocket answer echoes the request). Optional still: ``price``
    (a MARKET order has none; a WebSocket answer shows none for a STOP order), ``status``,
    ``notice``, ``remain_quantity`` and ``is_triggered`` (absent from ACK answers, the docs'
    place answer and WebSocket answers), ``timestamp`` (absent when the result was rebuilt from
    the order history after a lost answer).
    """

    # Narrowed for type checkers only: at run time the fields stay those of OrderResult, so a
    # single order's answer decodes exactly as a batch item does (no second pass, no copy), and
    # the client checks the fields' presence itself (``_order_results.accepted_order``).
    if TYPE_CHECKING:
        success: Literal[True]
        client_order_id: str
        order_id: str
        market_code: str
        side: _SideField
        order_type: _OrderTypeField
        quantity: Decimal
        time_in_force: _TimeInForceField


class CancelAllResult(Model, kw_only=True, frozen=True, gc=False):
    """Confirmation of DELETE /v2/cancel/orders and DELETE /v2/cancel/orders/{marketCode}."""

    msg: str
    # Only when a market was named.
    market_code: str | None = None
