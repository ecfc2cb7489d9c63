"""Physical delivery of perpetual swaps: delivery orders, delivery requests, the auction."""

from __future__ import annotations

from decimal import Decimal

from coinflex_async.models._base import Id, Model

__all__ = ["DeliverAuction", "DeliveryOrder", "DeliveryRequest"]

# msgspec does not inherit kw_only from Model, and mypy sees frozen only where it is spelt out:
# every model repeats both.


class DeliveryOrder(Model, kw_only=True, frozen=True, gc=False):
    """Delivery: GET /v2.1/delivery/orders, GET /v2/flex-protocol/delivery/orders/{flexProtocol}."""

    timestamp: int
    instrument_id: str
    status: str
    # The docs type it "Null Type" and only ever show null; a Decimal if it ever carries a value.
    quantity: Decimal | None = None
    deliver_price: Decimal
    transfer_asset: str
    transfer_qty: Decimal
    instrument_id_deliver: str
    deliver_qty: Decimal
    deliver_order_id: Id
    client_order_id: Id | None = None


class DeliveryRequest(Model, kw_only=True, frozen=True, gc=False):
    """A submitted delivery request: POST /v2.1/delivery/orders."""

    deliver_order_id: Id
    account_id: Id
    client_order_id: Id | None = None
    instrument_id: str
    deliver_price: Decimal
    deliver_position: Decimal
    deliver_type: str
    instrument_id_deliver: str
    deliver_qty: Decimal
    remaining_qty: Decimal
    remaining_position: Decimal
    transfer_asset: str
    transfer_qty: Decimal
    auction_time: int
    created: int
    last_updated: int
    status: str


class DeliverAuction(Model, kw_only=True, frozen=True, gc=False):
    """The next delivery auction of an instrument: GET /v2.1/deliver-auction/{instrumentId}."""

    instrument_id: str
    auction_time: int
    net_deliver: Decimal
    est_funding_rate: Decimal
