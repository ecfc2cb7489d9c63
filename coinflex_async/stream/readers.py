"""``Subscription``: one reader's queue of events, with the two rules that bound it.

- Conflation (books: depth, ticker, market, candles): a reader that fell ``max_queue`` behind
  keeps only the newest book per type and market (``Subscription.put``).
- Overflow (trades, orders, balances, positions): never a silent gap; the reader gets
  ``StreamOverflowError`` at its next read (``Subscription.put``).

Every writer (the router's hot paths, the session's resync entries) goes through ``put`` or
``put_update`` (which appends directly only while neither rule can apply, then calls ``put``).

A reader waiting in ``async for`` may be lent the socket (see ``connection``): it then reads
the frames already received in its own task. It talks to the lender only through the small
``Lender`` interface below."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from .._errors import StreamOverflowError
from ..models.stream import CandleEvent, DepthEvent, MarketEvent, TickerEvent
from .protocol import Table

__all__ = ["Deferred", "Lazy", "Lender", "Subscription", "book_id"]

log = logging.getLogger("coinflex_async")

T = TypeVar("T", covariant=True)


class Lender(Protocol):
    """What a reader needs from the connection that may lend it the socket."""

    def has_turn(self, reader: Subscription[Any]) -> bool:
        """Whether ``reader`` holds the socket now."""

    async def read_in_turn(self, reader: Subscription[Any]) -> bool:
        """Read and route one frame already received, in the reader's task; False (and the
        socket given back) when none is left."""

    def park(self, reader: Subscription[Any]) -> None:
        """``reader`` waits for its queue: it may be lent the socket."""

    def release(self, reader: Subscription[Any]) -> None:
        """``reader`` ends: it gives the socket back if it holds it."""


class Deferred:
    """A queue entry standing for events still being fetched over REST (a resync snapshot or a
    trade backfill): the reader waits for it in its place, so what follows stays in order."""

    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[list[Any]]) -> None:
        self.future = future


class Lazy:
    """A queue entry standing for one update whose typed decode waits for the first reader that
    takes it: the reader's task then builds the event and drops it while it is still in the
    CPU's cache, as a plain decode-and-use loop does, instead of the socket's task building a
    whole socket buffer of events first (a depth book is ~150 objects). Shared by the readers
    of one update: decoded once."""

    __slots__ = ("event", "key", "kind", "raw", "table")

    def __init__(self, raw: bytes, table: Table, kind: type, key: str | None) -> None:
        self.raw: bytes | None = raw
        self.table = table
        self.kind = kind  # the event's type, for conflation before it is decoded
        self.key = key
        self.event: Any = None

    def resolve(self) -> Any:
        """The event, or None when the update is not the documented shape (logged, skipped)."""
        raw = self.raw
        if raw is not None:
            self.raw = None
            try:
                self.event = self.table.message_decoder.decode(raw).data[0]
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.warning("stream: a %s update is not the documented shape: %s",
                            self.kind.__name__, exc)  # fmt: skip
        return self.event


class Subscription(Generic[T]):
    """What ``ws.subscribe(*channels)`` and the typed ``ws.subscribe_*`` return: an async
    iterator of typed events, in arrival order, for every channel it names. ``aclose()``
    leaves (unsubscribing channels nobody else reads); leaving ``async with ws`` ends it.

    ``put``, ``put_update``, ``put_book``, ``put_deferred`` and ``end`` are the stream's side
    (its router and session call them), not a reader's."""

    def __init__(
        self,
        channels: tuple[str, ...],
        max_queue: int,
        lender: Lender,
        leave: Callable[[Subscription[Any]], Awaitable[None]],
    ) -> None:
        self.channels = channels
        self.max_queue = max_queue
        self._lender = lender
        self._leave = leave
        self._queue: deque[Any] = deque()
        self._front: deque[Any] = deque()  # events of a resolved Deferred, yielded first
        self._waiter: asyncio.Future[None] | None = None
        self._dropped = 0
        self._behind = False  # fell max_queue behind and has not caught up yet
        self._error: BaseException | None = None
        self._done = False
        self._parked = False  # waiting in __anext__ for the next event

    def __repr__(self) -> str:
        return f"Subscription({', '.join(self.channels)}, queued={len(self._queue)})"

    @property
    def backlog(self) -> int:
        """Updates queued for this reader and not read yet."""
        return len(self._queue) + len(self._front)

    @property
    def reading_socket(self) -> bool:
        """Whether this reader's task reads the socket itself now (lent by the connection)."""
        return self._lender.has_turn(self)

    @property
    def parked_with_events(self) -> bool:
        """Waiting in ``async for`` while events are queued (woken, not yet run)."""
        return self._parked and bool(self._queue)

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        while True:
            if self._front:
                return self._front.popleft()  # type: ignore[no-any-return]
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                raise StreamOverflowError(
                    f"the reader of {', '.join(self.channels)} fell more than {self.max_queue} "
                    f"events behind; {dropped} events were dropped",
                    channel=", ".join(self.channels),
                    dropped=dropped,
                )
            queue = self._queue
            if queue:
                item = queue.popleft()
                if self._behind and not queue:
                    self._behind = False
                if type(item) is Lazy:
                    item = item.resolve()
                    if item is None:
                        continue
                    return item  # type: ignore[no-any-return]
                if type(item) is Deferred:
                    self._front.extend(await item.future)
                    continue
                return item  # type: ignore[no-any-return]
            if self._error is not None:
                error, self._error = self._error, None
                self._done = True
                raise error
            if self._done:
                raise StopAsyncIteration
            lender = self._lender
            if lender.has_turn(self) and await lender.read_in_turn(self):
                continue
            lender.park(self)
            self._parked = True
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
                self._parked = False

    async def __aenter__(self) -> Subscription[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading; channels no other subscription reads are unsubscribed."""
        if self._done and not self._queue:
            return
        self.end()
        await self._leave(self)

    # -- the writers' side --------------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def end(self, error: BaseException | None = None) -> None:
        """No more events: the reader's ``async for`` ends (raising ``error`` if given) once
        it has read what is queued."""
        self._done = True
        if error is not None:
            self._error = error
        self._lender.release(self)
        self._wake()

    def put_deferred(self, deferred: Deferred) -> None:
        """Events still being fetched, in their place in the queue whatever the backlog."""
        self._queue.append(deferred)
        self._wake()

    def put_update(self, event: Any) -> None:
        """One event the reader must not miss (a trade, an order update, a balance): the hot
        path while the queue has room; ``put`` decides the rest."""
        queue = self._queue
        if len(queue) < self.max_queue:
            queue.append(event)
            waiter = self._waiter
            if waiter is not None:
                self._waiter = None  # woken once per batch
                if not waiter.done():
                    waiter.set_result(None)
            return
        self.put(event, False)

    def put_book(self, event: Any) -> None:
        self.put(event, True)

    def put(self, event: Any, conflate: bool) -> None:
        """The one place the conflation and overflow rules are applied."""
        queue = self._queue
        if self._behind and conflate and self._replace(event):
            return
        if len(queue) >= self.max_queue:
            self._compact()
            self._behind = True  # from now on a newer book replaces the queued one
            if conflate and self._replace(event):
                return
            queue = self._queue  # compacted: a new deque
            if len(queue) >= self.max_queue:
                if conflate:
                    return  # only books left behind: the newer book comes with the next push
                # Trades, orders, balances, positions: never a silent gap. The reader learns it
                # at its next read; what was queued precedes the gap and is dropped with it.
                self._dropped += len(queue) + 1
                queue.clear()
                self._wake()
                return
        queue.append(event)
        self._wake()

    def _replace(self, event: Any) -> bool:
        """Put a newer book in the place of the queued one of the same kind and market."""
        key = book_id(event)
        if key is None:
            return False
        queue = self._queue
        for index in range(len(queue) - 1, -1, -1):
            if book_id(queue[index]) == key:
                queue[index] = event
                return True
        return False

    def _compact(self) -> None:
        """Keep only the newest book (depth, ticker, market, candle) per type and market."""
        newest: dict[tuple[type, str], int] = {}
        items = list(self._queue)
        for index, item in enumerate(items):
            if (book := book_id(item)) is not None:
                newest[book] = index
        if newest:
            keep = set(newest.values())
            self._queue = deque(
                item for index, item in enumerate(items) if index in keep or book_id(item) is None
            )


_BOOKS = (DepthEvent, TickerEvent, MarketEvent, CandleEvent)


def book_id(item: Any) -> tuple[type, str] | None:
    """(type, market) of a book (decoded or not), None for anything else."""
    if type(item) is Lazy:
        if item.kind not in _BOOKS or item.key is None:
            return None
        return item.kind, item.key
    if not isinstance(item, _BOOKS):
        return None
    key = getattr(item, "instrument_id", None) or getattr(item, "market_code", "")
    return type(item), str(key)
