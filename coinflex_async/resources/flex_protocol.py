"""``client.flex_protocol``: the public books of the flexUSD/flexBTC/flexETH/flexFLEX protocols."""

from __future__ import annotations

from .._transport import Route, Transport
from .._validation import check_choice, check_path_arg, choices, history_query
from ..models import Balance, DeliveryOrder, OpenOrder, Position, Trade
from ..models._base import envelope_list_decoder

__all__ = ["FLEX_PROTOCOLS", "FlexProtocol"]

FLEX_PROTOCOLS = ("flexUSD", "flexBTC", "flexETH", "flexFLEX")
_FLEX_PROTOCOLS = choices(FLEX_PROTOCOLS)

_BALANCES = Route("GET", "/v2/flex-protocol/balances/{}")
_POSITIONS = Route("GET", "/v2/flex-protocol/positions/{}")
_ORDERS = Route("GET", "/v2/flex-protocol/orders/{}")
_TRADES = Route("GET", "/v2/flex-protocol/trades/{}/{}")
_DELIVERY_ORDERS = Route("GET", "/v2/flex-protocol/delivery/orders/{}")

_balances = envelope_list_decoder(Balance)
_positions = envelope_list_decoder(Position)
_orders = envelope_list_decoder(OpenOrder)
_trades = envelope_list_decoder(Trade)
_delivery_orders = envelope_list_decoder(DeliveryOrder)

# The docs say both "max 100" and "max 500" for these limits; 500 is the later, explicit one.
_MAX_LIMIT = 500


class FlexProtocol:
    """Public data of a flex protocol (``flex_protocol``: flexUSD, flexBTC, flexETH, flexFLEX)."""

    __slots__ = ("_transport",)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def balances(self, flex_protocol: str) -> list[Balance]:
        """GET /v2/flex-protocol/balances/{flexProtocol}: the protocol's balances."""
        path = _BALANCES.path.format(_protocol(flex_protocol))
        return (await self._transport.request(_BALANCES, _balances, path=path)).data

    async def positions(self, flex_protocol: str) -> list[Position]:
        """GET /v2/flex-protocol/positions/{flexProtocol}: the protocol's positions."""
        path = _POSITIONS.path.format(_protocol(flex_protocol))
        return (await self._transport.request(_POSITIONS, _positions, path=path)).data

    async def orders(self, flex_protocol: str) -> list[OpenOrder]:
        """GET /v2/flex-protocol/orders/{flexProtocol}: the protocol's open orders."""
        path = _ORDERS.path.format(_protocol(flex_protocol))
        return (await self._transport.request(_ORDERS, _orders, path=path)).data

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
        protocol = _protocol(flex_protocol)
        code = check_path_arg("market_code", market_code)
        query = history_query(limit, _MAX_LIMIT, start_time, end_time)
        path = _TRADES.path.format(protocol, code)
        return (await self._transport.request(_TRADES, _trades, path=path, query=query)).data

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
        path = _DELIVERY_ORDERS.path.format(_protocol(flex_protocol))
        query = history_query(limit, _MAX_LIMIT, start_time, end_time)
        return (
            await self._transport.request(
                _DELIVERY_ORDERS, _delivery_orders, path=path, query=query
            )
        ).data


def _protocol(value: object) -> str:
    return check_choice("flex_protocol", value, _FLEX_PROTOCOLS)
