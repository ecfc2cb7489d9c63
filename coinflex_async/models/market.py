"""Public market data: markets, assets, trades, tickers, funding, candles and the order book."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from coinflex_async.models._base import Id, Model
from coinflex_async.models._values import _SideField

__all__ = [
    "Asset",
    "Candle",
    "DeliveryFunding",
    "FundingRate",
    "Level",
    "Market",
    "OrderBook",
    "Ping",
    "PublicTrade",
    "Ticker",
]

# msgspec does not inherit kw_only from Model, and mypy sees frozen only where it is spelt out:
# every model repeats both.


class Ping(Model, kw_only=True, frozen=True, gc=False):
    """GET /v2/ping: ``{"success": "true"}``, the bare body (no envelope)."""

    success: bool


class Market(Model, kw_only=True, frozen=True, gc=False):
    """One market of GET /v2/all/markets."""

    market_id: str
    market_code: str
    name: str
    reference_pair: str
    base: str
    counter: str
    type: str
    tick_size: Decimal
    qty_increment: Decimal
    # The docs' table says STRING, the example sends ms numbers (and ``"endDate": 0`` for a
    # market that never ends): both decode to int.
    listing_date: int
    end_date: int
    margin_currency: str
    contract_val_currency: str
    upper_price_bound: Decimal
    lower_price_bound: Decimal
    market_price: Decimal
    market_price_last_updated: int
    # Not in the docs; the live exchange sent both (hummingbot's fixtures of 2022-02-22:
    # ``"markPrice": null, "markPriceLastUpdated": 0`` on spot and perpetual markets alike).
    mark_price: Decimal | None = None
    mark_price_last_updated: int | None = None


class Asset(Model, kw_only=True, frozen=True, gc=False):
    """One asset of GET /v2/all/assets (coins have no base, counter or margin currency)."""

    instrument_id: str
    name: str
    base: str | None = None
    counter: str | None = None
    type: str
    margin_currency: str | None = None
    contract_val_currency: str | None = None
    # Only ever null in the docs; their table calls it a STRING "Delivery date", format unknown.
    delivery_date: str | None = None
    delivery_instrument: str | None = None


class PublicTrade(Model, kw_only=True, frozen=True, gc=False):
    """One trade of GET /v2/publictrades/{marketCode}."""

    match_id: Id
    match_quantity: Decimal
    match_price: Decimal
    side: _SideField
    match_timestamp: int


class Ticker(Model, kw_only=True, frozen=True, gc=False):
    """One ticker of GET /v2/ticker (the docs wrap the list in an envelope; the live exchange
    sent it bare, with ``timestamp`` and ``lastMarkPrice`` besides: both shapes decode)."""

    market_code: str
    last: Decimal
    mark_price: Decimal
    open24h: Decimal
    volume24h: Decimal
    # rename="camel" would send ``currencyVolume24H``; the docs' key ends in a lowercase h.
    currency_volume24h: Decimal = msgspec.field(name="currencyVolume24h")
    high24h: Decimal
    low24h: Decimal
    open_interest: Decimal
    last_qty: Decimal
    # Not in the docs' example; the live exchange sent both (hummingbot's fixtures, 2022).
    timestamp: int | None = None
    last_mark_price: Decimal | None = None


class DeliveryFunding(Model, kw_only=True, frozen=True, gc=False):
    """One funding rate of GET /v2/delivery/public/funding (a bare list, no envelope)."""

    # Not a ms timestamp like everywhere else: the docs show "2020-12-08 04:00:00" (a UTC
    # date-time string, also the format of this endpoint's startTime), so it stays a str.
    timestamp: str
    instrument_id: str
    funding_rate: Decimal


class Candle(Model, kw_only=True, frozen=True, gc=False):
    """One candle of GET /v2/candles/{marketCode}."""

    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume24h: Decimal
    # The docs' table spells it ``currencyVolumn24h``; the example (followed) ``currencyVolume24h``.
    currency_volume24h: Decimal = msgspec.field(name="currencyVolume24h")


class FundingRate(Model, kw_only=True, frozen=True, gc=False):
    """One funding rate of GET /v2/funding-rates/{marketCode}."""

    funding_rate: Decimal
    index: Decimal
    mark_price: Decimal
    market_code: str
    timestamp: int


class Level(Model, kw_only=True, frozen=True, array_like=True, gc=False):
    """One order book level of GET /v2/depth/{marketCode}/{level}."""

    # The docs' wire form is [price, quantity, 0, 0] in JSON numbers; since 2021-09-17 (the
    # changelog: "Removed last two elements in depth") REST sends [price, quantity]. msgspec
    # ignores trailing items, so both decode.
    price: Decimal
    quantity: Decimal


class OrderBook(Model, kw_only=True, frozen=True):
    """The order book of GET /v2/depth/{marketCode}/{level} (the one item of its ``data``)."""

    asks: list[Level]
    bids: list[Level]
    market_code: str
    timestamp: int
