"""The typed floor's models: the docs' response shapes as msgspec Structs with Decimal fields.

Written here from the docs, independently of ``coinflex_async.models``, with the struct options
those use (camel renaming, keyword-only, frozen; lenient decoding turns ``"true"`` into
``bool`` and string timestamps into ``int``) plus ``gc=False``, which skips garbage-collector
tracking of structs that never form reference cycles: the cheapest msgspec offers. Decoders are
built once, at import.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Generic, TypeVar

import msgspec

__all__ = [
    "Balance",
    "Candle",
    "DECODERS",
    "Envelope",
    "Level",
    "NewOrder",
    "OrderBook",
    "OrderResult",
    "Ping",
    "PlaceOrdersRequest",
    "PublicTrade",
    "REQUEST_ENCODER",
]

T = TypeVar("T")


class _Model(msgspec.Struct, rename="camel", kw_only=True, frozen=True, gc=False):
    """Options are spelt out again on every model: ``kw_only`` covers only the fields of the
    class that sets it, and mypy sees ``frozen`` only where it is written."""


class Envelope(msgspec.Struct, Generic[T], kw_only=True, frozen=True, gc=False):
    data: T


class Ping(_Model, kw_only=True, frozen=True, gc=False):
    success: bool


class PublicTrade(_Model, kw_only=True, frozen=True, gc=False):
    match_id: str
    match_quantity: Decimal
    match_price: Decimal
    side: str
    match_timestamp: int


class Candle(_Model, kw_only=True, frozen=True, gc=False):
    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume24h: Decimal
    currency_volume24h: Decimal = msgspec.field(name="currencyVolume24h")


class Level(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """``[price, quantity, 0, 0]``: the two trailing zeros are ignored."""

    price: Decimal
    quantity: Decimal


class OrderBook(_Model, kw_only=True, frozen=True, gc=False):
    asks: list[Level]
    bids: list[Level]
    market_code: str
    timestamp: int


class Balance(_Model, kw_only=True, frozen=True, gc=False):
    instrument_id: str
    total: Decimal
    available: Decimal
    reserved: Decimal
    quantity_last_updated: int


class OrderResult(_Model, kw_only=True, frozen=True, gc=False):
    success: bool
    timestamp: int
    client_order_id: str
    order_id: str
    market_code: str
    side: str
    order_type: str
    quantity: Decimal | None = None
    price: Decimal | None = None
    time_in_force: str | None = None
    code: str | None = None
    message: str | None = None


class NewOrder(_Model, kw_only=True, frozen=True, gc=False, omit_defaults=True):
    client_order_id: str
    market_code: str
    side: str
    quantity: Decimal
    order_type: str
    time_in_force: str | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None


class PlaceOrdersRequest(_Model, kw_only=True, frozen=True, gc=False, omit_defaults=True):
    orders: list[NewOrder]
    response_type: str = "FULL"
    timestamp: int | None = None
    recv_window: int | None = None


def _decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(type_, strict=False)


DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "ping": _decoder(Ping),
    "trades": _decoder(Envelope[list[PublicTrade]]),
    "candles": _decoder(Envelope[list[Candle]]),
    "depth": _decoder(Envelope[list[OrderBook]]),
    "balances": _decoder(Envelope[list[Balance]]),
    "place_order": _decoder(Envelope[list[OrderResult]]),
}
REQUEST_ENCODER = msgspec.json.Encoder()
