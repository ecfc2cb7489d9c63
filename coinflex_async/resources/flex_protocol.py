"""``client.flex_protocol``: the public books of the flexUSD/flexBTC/flexETH/flexFLEX protocols.

Each method is declared in ``coinflex_async._endpoints``; the bodies only hand it their
arguments.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from .. import _endpoints as ep
from .._endpoints import FLEX_PROTOCOLS, call, iterate
from .._transport import Transport
from ..models import Balance, DeliveryOrder, OpenOrder, Position, Trade

__all__ = ["FLEX_PROTOCOLS", "FlexProtocol"]

Progress = Callable[[int], None]


class FlexProtocol:
    """Public data of a flex protocol (``flex_protocol``: flexUSD, flexBTC, flexETH, flexFLEX)."""

    __slots__ = ("_transport",)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def balances(self, flex_protocol: str) -> list[Balance]:
        """GET /v2/flex-protocol/balances/{flexProtocol}: the protocol's balances."""
        return await call(self._transport, ep.FLEX_BALANCES, flex_protocol=flex_protocol)

    async def positions(self, flex_protocol: str) -> list[Position]:
        """GET /v2/flex-protocol/positions/{flexProtocol}: the protocol's positions."""
        return await call(self._transport, ep.FLEX_POSITIONS, flex_protocol=flex_protocol)

    async def orders(self, flex_protocol: str) -> list[OpenOrder]:
        """GET /v2/flex-protocol/orders/{flexProtocol}: the protocol's open orders."""
        return await call(self._transport, ep.FLEX_ORDERS, flex_protocol=flex_protocol)

    async def trades(
        self,
        flex_protocol: str,
        market_code: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Trade]:
        """GET /v2/flex-protocol/trades/{flexProtocol}/{marketCode}: the protocol's trades.

        ``limit`` 1-500; times in ms, at most 7 days apart.
        """
        return await call(
            self._transport,
            ep.FLEX_TRADES,
            flex_protocol=flex_protocol,
            market_code=market_code,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_trades(
        self,
        flex_protocol: str,
        market_code: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[Trade]:
        """Every trade of the protocol in a market from ``start_time`` to ``end_time`` (ms,
        inclusive; default now), oldest first, in 7-day windows and pages of ``page_size``
        (default 500)."""
        return iterate(
            self._transport,
            ep.FLEX_TRADES,
            flex_protocol=flex_protocol,
            market_code=market_code,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def delivery_orders(
        self,
        flex_protocol: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[DeliveryOrder]:
        """GET /v2/flex-protocol/delivery/orders/{flexProtocol}: the protocol's deliveries.

        ``limit`` 1-500; times in ms, at most 7 days apart.
        """
        return await call(
            self._transport,
            ep.FLEX_DELIVERY_ORDERS,
            flex_protocol=flex_protocol,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_delivery_orders(
        self,
        flex_protocol: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[DeliveryOrder]:
        """Every delivery of the protocol from ``start_time`` to ``end_time`` (ms, inclusive;
        default now), oldest first, in 7-day windows and pages of ``page_size`` (default 500)."""
        return iterate(
            self._transport,
            ep.FLEX_DELIVERY_ORDERS,
            flex_protocol=flex_protocol,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )
