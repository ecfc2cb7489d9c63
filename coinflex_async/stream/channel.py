"""``Channel``: one channel on the wire, the subscriptions that read it, and its trade
de-duplication (``Channel.first_time``: the one rule, called on every path that hands out
trades: single-trade messages, batches and REST backfills alike)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from ..models.stream import TradeEvent
from .protocol import Table
from .readers import Subscription

__all__ = ["SEEN_TRADES", "Channel"]


# Trade IDs remembered per trade channel to drop repeats across a reconnect (at least this
# many of the newest, at most twice as many).
SEEN_TRADES = 10_000


class Channel:
    """One channel on the wire and the subscriptions that read it."""

    __slots__ = (
        "confirmed",
        "is_trade",
        "last_trade_time",
        "name",
        "pending",
        "readers",
        "refused",
        "seen",
        "seen_before",
        "since",
        "table",
    )

    def __init__(self, name: str, table: Table, loop: asyncio.AbstractEventLoop) -> None:
        self.name = name
        self.table = table
        self.is_trade = name.startswith("trade:")
        self.readers: list[Subscription[Any]] = []
        self.confirmed: asyncio.Future[None] = loop.create_future()
        # Trades only: IDs already handed out (bounded), and the newest trade time seen.
        self.seen: set[str] = set()
        self.seen_before: set[str] = set()  # the generation before ``seen`` (see first_time)
        self.last_trade_time = 0  # none yet
        # When the exchange first confirmed it (ms, its clock): trades are backfilled from
        # here if none was seen yet.
        self.since: int | None = None
        # After a reconnect: the resync snapshot or trade backfill its readers wait for.
        self.pending: asyncio.Future[list[Any]] | None = None
        self.refused: BaseException | None = None

    @property
    def market(self) -> str:
        return self.name.partition(":")[2]

    def confirm(self, timestamp: str | int | None) -> None:
        self.refused = None
        if self.since is None and timestamp is not None and str(timestamp).isdigit():
            self.since = int(timestamp)
        if not self.confirmed.done():
            self.confirmed.set_result(None)

    def refuse(self, error: BaseException) -> None:
        self.refused = error
        if not self.confirmed.done():
            self.confirmed.set_exception(error)
            self.confirmed.exception()  # retrieved: nobody may be waiting

    def first_time(self, trade: TradeEvent) -> bool:
        """Whether ``trade`` was not handed out yet (remembered from now on): the one
        de-duplication rule, on every path that hands out trades."""
        trade_id = trade.trade_id
        recent = self.seen
        if trade_id in recent or trade_id in self.seen_before:
            return False
        recent.add(trade_id)
        if len(recent) >= SEEN_TRADES:
            # Two generations instead of a log of single IDs to evict one by one: the newest
            # SEEN_TRADES to 2x as many IDs are remembered, at a fraction of the cost per trade.
            self.seen_before = recent
            self.seen = set()
        if trade.timestamp > self.last_trade_time:
            self.last_trade_time = trade.timestamp
        return True

    def fresh(self, trades: Iterable[TradeEvent]) -> list[TradeEvent]:
        """The trades not handed out yet, remembered from now on."""
        first_time = self.first_time
        return [trade for trade in trades if first_time(trade)]

    def push_one(self, event: Any) -> None:
        conflate = self.table.conflate
        for reader in self.readers:
            reader.put(event, conflate)

    def take_trade(self, trade: TradeEvent) -> None:
        """One trade (the hot path of a single-trade message): handed to the readers unless
        its ID was handed out already."""
        if self.first_time(trade):
            for reader in self.readers:
                reader.put_update(trade)

    def push(self, events: list[Any]) -> None:
        conflate = self.table.conflate
        readers = self.readers
        if len(readers) == 1 and len(events) == 1:
            readers[0].put(events[0], conflate)  # the common case
            return
        for reader in readers:
            for event in events:
                reader.put(event, conflate)

    def end(self, error: BaseException) -> None:
        """The stream closed: nobody waits for the acknowledgement, readers end."""
        if not self.confirmed.done():
            self.confirmed.set_exception(error)
            self.confirmed.exception()  # retrieved: nobody may be waiting
        for reader in self.readers:
            reader.end()
