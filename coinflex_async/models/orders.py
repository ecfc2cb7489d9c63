"""Orders: open orders, order history, and the results of placing, modifying and cancelling."""

from __future__ import annotations

from decimal import Decimal

from coinflex_async.models._base import Model

__all__ = ["CancelAllResult", "MatchInfo", "OpenOrder", "OrderResult", "OrderStatus"]

# msgspec does not inherit kw_only from Model, and mypy sees frozen only where it is spelt out:
# every model repeats both.


class OpenOrder(Model, kw_only=True, frozen=True, gc=False):
    """Open order: GET /v2/orders, GET /v2/flex-protocol/orders/{flexProtocol}."""

    order_id: str
    market_code: str
    client_order_id: str | None = None
    side: str
    order_type: str
    quantity: Decimal
    remaining_quantity: Decimal
    # A limit order has a price and no stop/limit price; a stop order the reverse.
    price: Decimal | None = None
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None
    order_created: int
    last_modified: int
    last_trade_timestamp: int
    time_in_force: str


class MatchInfo(Model, kw_only=True, frozen=True, gc=False):
    """One fill of an order in GET /v2.1/orders (``matchIds`` maps a match ID to it)."""

    match_quantity: Decimal
    match_price: Decimal
    timestamp: int
    order_match_type: str


class OrderStatus(Model, kw_only=True, frozen=True):
    """An order in any status (OrderOpened, OrderMatched, OrderClosed, ...): GET /v2.1/orders."""

    # Each status sends its own subset of fields, and later statuses may send others, so every
    # field but the status is optional.
    status: str
    order_id: str | None = None
    client_order_id: str | None = None
    market_code: str | None = None
    side: str | None = None
    order_type: str | None = None
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
    time_in_force: str | None = None
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
    client_order_id: str | None = None
    order_id: str | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    remain_quantity: Decimal | None = None
    side: str | None = None
    status: str | None = None
    market_code: str | None = None
    time_in_force: str | None = None
    notice: str | None = None
    order_type: str | None = None
    is_triggered: bool | None = None


class CancelAllResult(Model, kw_only=True, frozen=True, gc=False):
    """Confirmation of DELETE /v2/cancel/orders and DELETE /v2/cancel/orders/{marketCode}."""

    msg: str
    # Only when a market was named.
    market_code: str | None = None
