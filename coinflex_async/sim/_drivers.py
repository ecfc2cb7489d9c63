"""Market drivers: what moves the simulator's market when no account is trading.

A driver (``RandomMarket``, ``Replay``) is one more participant of the engine: it acts through
a ``Venue``, a small face of the engine the simulator hands it (never the ``Simulator``
itself), so every channel, endpoint and user order follows from what it does with no second
code path. The simulator runs every driver with one scheduler (``DriverRunner``): on the real
clock a background task sleeps until the earliest ``next_due()`` and calls ``act``; under a
``ManualClock``, ``await sim.advance(seconds)`` steps the drivers in time order.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from ._accounts import Account
from ._book import Market
from ._clock import Clock, ManualClock
from ._engine import Engine
from ._errors import SimError
from ._requests import CancelRequest, ModifyRequest, NewOrderRequest

__all__ = ["DriverRunner", "HouseAccount", "MarketDriver", "Venue"]

_log = logging.getLogger("coinflex_async.sim")
# A house account forgets its closed orders every this many orders, so a market that runs for
# days keeps its memory flat (its history is nobody's to query). Measured: ~1.5 ms a pass at
# 1,000 (a pass at 10,000 held the event loop ~15 ms).
_FORGET_EVERY = 1_000


class MarketDriver(Protocol):
    """What the simulator needs of a market driver (``Simulator(market=...)``)."""

    def attach(self, venue: Venue) -> None:
        """Called once, when the simulator is built: the driver's view of the exchange."""

    def next_due(self) -> float | None:
        """Sim-clock seconds (epoch) when the driver next acts; None: never again."""

    def act(self, now: float) -> None:
        """Do everything due at or before ``now`` (synchronously, through the engine)."""


class HouseAccount:
    """An account the market trades with, through the engine's normal matching.

    Refusals (sanity bounds, a MAKER_ONLY quote that would cross a user's order) are not
    errors for the market: ``place`` answers None and the market carries on."""

    def __init__(self, engine: Engine, account: Account) -> None:
        self._engine = engine
        self._account = account
        self._client_ids = itertools.count(1)
        self._placed = 0

    @property
    def account_id(self) -> str:
        return self._account.account_id

    @property
    def account(self) -> Account:
        """The engine's account (for ``Venue.print_trade`` to pass the house's quotes over)."""
        return self._account

    def place(
        self,
        market_code: str,
        side: str,
        quantity: Decimal,
        *,
        price: Decimal | None = None,
        time_in_force: str = "MAKER_ONLY",
    ) -> str | None:
        """A LIMIT order at ``price`` (a MARKET order without one); the orderId if it rests
        in the book afterwards, else None (filled, ended or refused)."""
        request = NewOrderRequest(
            client_order_id=str(next(self._client_ids)),
            market_code=market_code,
            side=side,
            quantity=quantity,
            order_type="LIMIT" if price is not None else "MARKET",
            time_in_force=time_in_force if price is not None else "IOC",
            price=price,
        )
        self._count_order()
        try:
            order = self._engine.place_order(self._account, request)
        except SimError as error:
            _log.debug("house order refused: %s %s", error.code, error.message)
            return None
        return order.order_id if order.order_id in self._account.open_orders else None

    def cancel(self, market_code: str, order_id: str) -> None:
        """Cancel a working order; one already filled or ended is left alone."""
        if order_id in self._account.open_orders:
            self._engine.cancel_order(
                self._account, CancelRequest(market_code=market_code, order_id=order_id)
            )

    def resize(self, market_code: str, order_id: str, quantity: Decimal) -> str | None:
        """Make a working quote's open quantity ``quantity`` by the engine's amend rule (the
        WebSocket modifyorder): a smaller size keeps its orderId and place in the queue, a
        larger one is a new order behind the queue. The orderId resting afterwards, or None."""
        if order_id not in self._account.open_orders:
            return None
        self._count_order()
        request = ModifyRequest(order_id=order_id, market_code=market_code, quantity=quantity)
        try:
            order = self._engine.modify_order(self._account, request, amend=True)
        except SimError as error:
            _log.debug("house resize refused: %s %s", error.code, error.message)
            return order_id if order_id in self._account.open_orders else None
        return order.order_id if order.order_id in self._account.open_orders else None

    def _count_order(self) -> None:
        self._placed += 1
        if self._placed % _FORGET_EVERY == 0:
            self._account.forget_closed_orders()

    def is_open(self, order_id: str) -> bool:
        return order_id in self._account.open_orders


class Venue:
    """The engine entry points a market driver may use."""

    def __init__(
        self, engine: Engine, clock: Clock, maker: HouseAccount, taker: HouseAccount
    ) -> None:
        self._engine = engine
        self.clock = clock
        self.maker = maker  # rests quotes
        self.taker = taker  # the crowd's orders that take them

    @property
    def market_codes(self) -> list[str]:
        return list(self._engine.markets)

    def market(self, market_code: str) -> Market:
        """A market's live state (spec, book sides, last and mark price), to read."""
        return self._engine.market(market_code)

    def set_mark_price(self, market_code: str, price: Decimal) -> None:
        """Move the mark price (and the sanity bounds); may fire stops."""
        self._engine.set_mark_price(market_code, price)

    def keep_trades(self, market_code: str, count: int | None) -> None:
        """Keep the newest ``count`` (up to 1.25 x ``count``) public trades of a market, for the
        history endpoints, dropping older ones (None: all): a long run's memory stays flat
        (``Replay`` and ``RandomMarket``: their ``keep_trades``)."""
        self._engine.market(market_code).max_trades = count

    def print_trade(
        self, market_code: str, price: Decimal, quantity: Decimal, taker_side: str
    ) -> None:
        """Print a public trade with exactly these values (``Replay``): users' resting orders
        on the other side at or through ``price`` fill, price-time priority, up to
        ``quantity``; the house maker's quotes are passed over (``Engine.print_trade``)."""
        self._engine.print_trade(market_code, price, quantity, taker_side, skip=self.maker.account)


class DriverRunner:
    """One scheduler for the simulator's market drivers."""

    def __init__(self, drivers: Sequence[MarketDriver], clock: Clock) -> None:
        self._drivers = list(drivers)
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    @property
    def manual(self) -> bool:
        return isinstance(self._clock, ManualClock)

    def _earliest(self) -> tuple[float, MarketDriver] | None:
        best: tuple[float, MarketDriver] | None = None
        for driver in self._drivers:
            due = driver.next_due()
            if due is not None and (best is None or due < best[0]):
                best = (due, driver)
        return best

    def step_until(self, until: float) -> int:
        """Under a ManualClock: set the clock to each due time up to ``until`` in order and
        act there, then leave the clock at ``until``. Returns how many steps ran."""
        clock = self._clock
        assert isinstance(clock, ManualClock)
        steps = 0
        while (earliest := self._earliest()) is not None and earliest[0] <= until:
            due, driver = earliest
            clock.set(max(clock.now, due))
            driver.act(clock.now)
            steps += 1
        clock.set(max(clock.now, until))
        return steps

    # -- the real clock -----------------------------------------------------------------------

    def start(self) -> None:
        """On the real clock, run the drivers in a background task (a ManualClock moves only
        through ``Simulator.advance``)."""
        if self._drivers and not self.manual and self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while (earliest := self._earliest()) is not None:
            due, driver = earliest
            delay = due - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            try:
                driver.act(self._clock())
            except Exception:  # a driver's bug must not stop the exchange
                _log.exception("market driver failed; it stops")
                self._drivers.remove(driver)
