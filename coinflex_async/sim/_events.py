"""What the engine tells its listeners (the WebSocket gateway) after each change.

The engine builds an event only when someone listens (``Engine.add_listener``), so a
simulator nobody streams from pays one ``if`` per change. Listeners run synchronously inside
the engine call: they must not call back into the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._accounts import Account, Fill, Order, Position
    from ._book import Market, PublicTrade

__all__ = [
    "CancelAllEvent",
    "EngineEvent",
    "Listener",
    "OrderEvent",
    "PositionEvent",
    "TradeEvent",
]


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order's notice as the order channel names it: ``OrderOpened`` (accepted, or a stop
    just triggered), ``OrderMatched`` (one fill, in ``fill``), ``OrderModified`` (amended in
    place) or ``OrderClosed`` (ended without filling completely)."""

    notice: str
    order: Order
    timestamp: int
    fill: Fill | None = None


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One match on a market's book (the public trade channel)."""

    market: Market
    trade: PublicTrade


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """An account's position in one FUTURE/REPO market changed."""

    account: Account
    position: Position


@dataclass(frozen=True, slots=True)
class CancelAllEvent:
    """All of an account's open orders (of one market, or all) were cancelled over REST."""

    account: Account
    market_code: str | None
    timestamp: int


EngineEvent = OrderEvent | TradeEvent | PositionEvent | CancelAllEvent
Listener = Callable[[EngineEvent], None]
