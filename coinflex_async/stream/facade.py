"""``Stream``: what ``client.stream()`` returns. A thin facade: it checks its arguments and
hands each call to the room that does the work (see the package's docstring)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from .._errors import StreamClosedError, ValidationError
from .._order_results import check_accepted
from .._orders import CANCEL, MODIFY, PLACE
from .._transport import RetryPolicy
from ..models import AcceptedOrder, Balance, OrderResult, Position
from ..models._values import ResponseTypeValue
from ..models.requests import (
    CancelOrder,
    CancelOrderDict,
    ModifyOrder,
    ModifyOrderDict,
    NewOrder,
    NewOrderDict,
    listed_orders,
    to_wire_cancel,
    to_wire_modify,
    to_wire_new,
)
from ..models.stream import (
    CandleEvent,
    DepthEvent,
    LiquidationEvent,
    MarketEvent,
    OrderEvent,
    OrderFailureEvent,
    Resynced,
    TickerEvent,
    TradeEvent,
)
from .connection import Connection
from .context import StreamContext
from .orders import OrderCommands
from .protocol import (
    CandleSeconds,
    DepthLevel,
    candles_channel,
    channel,
    depth_channel,
    table_for,
    ws_url,
)
from .readers import Subscription
from .routing import Router
from .session import Session

if sys.version_info >= (3, 11):
    from typing import Unpack
else:
    from typing_extensions import Unpack

__all__ = ["DEFAULT_MAX_QUEUE", "DEFAULT_PING_INTERVAL", "Stream"]

DEFAULT_PING_INTERVAL = 20.0
DEFAULT_MAX_QUEUE = 1000
# Reconnect waits when the client was made with retry=None.
_RECONNECT_POLICY = RetryPolicy()


def _check_max_queue(max_queue: object) -> int:
    if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
        raise ValidationError("max_queue must be a positive int")
    return max_queue


class Stream:
    """One WebSocket connection to ``base_url`` (see ``Client.stream``)."""

    def __init__(
        self,
        context: StreamContext,
        *,
        ping_interval: float = DEFAULT_PING_INTERVAL,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        if isinstance(ping_interval, bool) or not isinstance(ping_interval, (int, float)):
            raise ValidationError("ping_interval must be a number of seconds")
        if not 0 < ping_interval <= 60:
            raise ValidationError("ping_interval must be above 0 and at most 60 seconds")
        self._context = context
        self.url = ws_url(context.base_url)
        self.ping_interval = float(ping_interval)
        self.max_queue = _check_max_queue(max_queue)
        self._closed = False
        self._started = False
        self._parts: tuple[Connection, Session, Router, OrderCommands] | None = None

    def _build(self) -> tuple[Connection, Session, Router, OrderCommands]:
        """The rooms, wired together (inside the running loop: they make futures and locks)."""
        context = self._context
        policy = context.retry if context.retry is not None else _RECONNECT_POLICY
        session: Session | None = None

        def answer(frame: Any) -> None:
            assert session is not None
            session.answer(frame)

        router = Router(answer, self.url)
        connection = Connection(
            self.url,
            get_session=context.get_session,
            timeout=context.timeout,
            ping_interval=self.ping_interval,
            policy=policy,
            dispatch=router.dispatch,
            dispatch_str=router.dispatch_str,
            restore=lambda ws: session.restore(ws),  # type: ignore[union-attr]
            lost=lambda: session.lost(),  # type: ignore[union-attr]
        )
        session = Session(context, connection, router, policy)
        orders = OrderCommands(context, connection, session, self._check_open)
        return connection, session, router, orders

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("connected" if self.connected else "idle")
        channels = len(self._parts[2].channels) if self._parts is not None else 0
        return f"Stream({self.url!r}, {state}, channels={channels})"

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def connected(self) -> bool:
        """Whether the connection is up and restored (logged in, channels subscribed again)."""
        return self._parts is not None and self._parts[0].ready and not self._closed

    @property
    def reconnects(self) -> int:
        """Connections opened again after a drop."""
        return self._parts[0].reconnects if self._parts is not None else 0

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Stream:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect (the first connection's failure is raised as TransportError)."""
        if self._closed:
            raise StreamClosedError("the stream is closed")
        if self._started:
            return
        self._started = True
        self._parts = self._build()
        await self._parts[0].open()

    async def close(self) -> None:
        """Close the connection; every reader's ``async for`` ends, every waiting command ends
        at once (``StreamClosedError`` if unsent, ``OrderStatusUnknownError`` if in flight)."""
        if self._closed:
            return
        self._closed = True
        self._context.forget(self)
        if self._parts is None:
            return
        connection, session, router, _ = self._parts
        await connection.close()
        await session.close()
        router.close(StreamClosedError("the stream was closed"))

    def _check_open(self) -> None:
        if self._closed:
            raise StreamClosedError("the stream is closed")
        if not self._started:
            raise StreamClosedError("the stream is not open: use `async with client.stream()`")
        if self._context.is_closed():
            raise StreamClosedError("the client is closed")

    def _running(self) -> tuple[Connection, Session, Router, OrderCommands]:
        self._check_open()
        assert self._parts is not None
        return self._parts

    # -- subscriptions ---------------------------------------------------------------------

    async def subscribe(self, *channels: str, max_queue: int | None = None) -> Subscription[Any]:
        """Subscribe to the docs' channels (``depthL10:M``, ``trade:M``, ``order:all``, ...);
        returns once the exchange acknowledged each. A refused channel raises ``APIError``
        with the exchange's code (and nothing stays subscribed for this call).

        ``max_queue`` (default: the stream's) bounds this reader's backlog."""
        connection, session, _, _ = self._running()
        if not channels:
            raise ValidationError("subscribe needs at least one channel")
        queue = self.max_queue if max_queue is None else _check_max_queue(max_queue)
        tables = [table_for(channel) for channel in channels]
        names = tuple(dict.fromkeys(channels))
        tables = [tables[channels.index(name)] for name in names]
        reader: Subscription[Any] = Subscription(names, queue, connection, session.leave)
        await session.join(reader, tables)
        return reader

    # -- typed subscriptions (one channel each; the type checker knows what they yield) ------

    async def subscribe_depth(
        self, market_code: str, level: DepthLevel | None = None, *, max_queue: int | None = None
    ) -> Subscription[DepthEvent]:
        """``depthL5``/``depthL10``/``depthL25`` books of a market, or its whole book
        (``level=None``, ``depth:M``). Conflated for a slow reader."""
        return await self.subscribe(depth_channel(market_code, level), max_queue=max_queue)

    async def subscribe_trades(
        self, market_code: str, *, max_queue: int | None = None
    ) -> Subscription[TradeEvent]:
        """Every public trade of a market, once each (backfilled after a reconnect)."""
        return await self.subscribe(
            channel("trade", market_code, "market_code"), max_queue=max_queue
        )

    async def subscribe_ticker(
        self, market_code: str = "all", *, max_queue: int | None = None
    ) -> Subscription[TickerEvent]:
        """The ticker of a market, or of every market (``"all"``). Conflated."""
        return await self.subscribe(
            channel("ticker", market_code, "market_code"), max_queue=max_queue
        )

    async def subscribe_candles(
        self, market_code: str, seconds: CandleSeconds, *, max_queue: int | None = None
    ) -> Subscription[CandleEvent]:
        """The current candle of a market (``seconds``: 60, 180, 300, ... 86400). Conflated."""
        return await self.subscribe(candles_channel(market_code, seconds), max_queue=max_queue)

    async def subscribe_market(
        self, market_code: str = "all", *, max_queue: int | None = None
    ) -> Subscription[MarketEvent]:
        """Reference data and price of a market, or of every market. Conflated."""
        return await self.subscribe(
            channel("market", market_code, "market_code"), max_queue=max_queue
        )

    async def subscribe_liquidations(
        self, *, max_queue: int | None = None
    ) -> Subscription[LiquidationEvent]:
        """Liquidations about to happen, in every market (``liquidationRFQ``)."""
        return await self.subscribe("liquidationRFQ", max_queue=max_queue)

    async def subscribe_orders(
        self, market_code: str = "all", *, max_queue: int | None = None
    ) -> Subscription[OrderEvent | OrderFailureEvent | Resynced]:
        """The account's order updates (private: logs in first); ``Resynced`` after a
        reconnect."""
        return await self.subscribe(
            channel("order", market_code, "market_code"), max_queue=max_queue
        )

    async def subscribe_balances(
        self, asset: str = "all", *, max_queue: int | None = None
    ) -> Subscription[Balance | Resynced]:
        """The account's balances (private); ``Resynced`` after a reconnect."""
        return await self.subscribe(channel("balance", asset, "asset"), max_queue=max_queue)

    async def subscribe_positions(
        self, instrument_id: str = "all", *, max_queue: int | None = None
    ) -> Subscription[Position | Resynced]:
        """The account's positions (private); ``Resynced`` after a reconnect."""
        return await self.subscribe(
            channel("position", instrument_id, "instrument_id"), max_queue=max_queue
        )

    # -- order commands --------------------------------------------------------------------

    async def place_order(
        self,
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
        **order: Unpack[NewOrderDict],
    ) -> AcceptedOrder:
        """Place one order over the WebSocket (arguments as ``private.place_order``); the
        ``AcceptedOrder`` as REST's gives it, ``OrderRejectedError`` if the exchange says
        ``submitted: false``."""
        orders = self._running()[3]
        wire = to_wire_new(order, 0, self._context.ids)
        return await orders.run_one(PLACE, "placeorder", wire, recv_window, response_type)

    async def place_orders(
        self,
        orders: Iterable[NewOrder | NewOrderDict],
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
    ) -> list[OrderResult]:
        """Place orders (``placeorders``); one result per order, in input order."""
        commands = self._running()[3]
        ids = self._context.ids
        wire = [to_wire_new(order, i, ids) for i, order in enumerate(listed_orders(orders))]
        return await commands.run(PLACE, "placeorders", wire, recv_window, response_type)

    async def modify_order(
        self,
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
        **order: Unpack[ModifyOrderDict],
    ) -> OrderResult:
        """Modify one order (``modifyorder``); ``OrderRejectedError`` if refused."""
        orders = self._running()[3]
        wire = [to_wire_modify(order, 0)]
        (result,) = await orders.run(MODIFY, "modifyorder", wire, recv_window, response_type)
        return check_accepted(result, "WebSocket modifyorder", status=None)

    async def modify_orders(
        self,
        orders: Iterable[ModifyOrder | ModifyOrderDict],
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
    ) -> list[OrderResult]:
        """Modify orders (``modifyorders``); one result per order, in input order."""
        commands = self._running()[3]
        wire = [to_wire_modify(order, i) for i, order in enumerate(listed_orders(orders))]
        return await commands.run(MODIFY, "modifyorders", wire, recv_window, response_type)

    async def cancel_order(
        self,
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
        **order: Unpack[CancelOrderDict],
    ) -> OrderResult:
        """Cancel one order (``cancelorder``); ``OrderRejectedError`` if refused."""
        orders = self._running()[3]
        wire = [to_wire_cancel(order, 0)]
        (result,) = await orders.run(CANCEL, "cancelorder", wire, recv_window, response_type)
        return check_accepted(result, "WebSocket cancelorder", status=None)

    async def cancel_orders(
        self,
        orders: Iterable[CancelOrder | CancelOrderDict],
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
    ) -> list[OrderResult]:
        """Cancel orders (``cancelorders``); one result per order, in input order."""
        commands = self._running()[3]
        wire = [to_wire_cancel(order, i) for i, order in enumerate(listed_orders(orders))]
        return await commands.run(CANCEL, "cancelorders", wire, recv_window, response_type)
