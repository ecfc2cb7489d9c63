"""Where an update goes: a frame's table and market -> its channels -> their readers.

``Router.dispatch`` is the socket's hot path. The exchange's updates start with their table
(``{"table":"NAME"``): one comparison with the previous update's head finds it, one decode
makes the typed events, and the sink remembered for (table, market) hands them over. Frames
that are not updates (command answers, failure notices, pongs) go to ``on_answer``.

Trades are handed out once per trade ID on every path: single-trade messages go to
``Channel.take_trade``, batches through ``Channel.fresh``; both apply ``Channel.first_time``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import msgspec

from ..models.stream import DepthEvent
from .channel import Channel
from .protocol import (
    DEPTH,
    DEPTH_LEVELS,
    DEPTH_SIZES,
    LARGE_MESSAGE,
    ORDER_FAILURES,
    TABLES,
    Frame,
    Table,
    failure_event,
    frame_decoder,
    table_named,
)
from .readers import Lazy, Subscription

__all__ = ["Router"]

log = logging.getLogger("coinflex_async")


def _ignore(event: Any) -> None:
    """The sink of updates nobody subscribed to (any more)."""


def _both(first: Callable[[Any], None], second: Callable[[Any], None], event: Any) -> None:
    first(event)
    second(event)


class Router:
    """The channels of one stream and the routes of updates to them."""

    def __init__(self, on_answer: Callable[[Frame], None], url: str = "") -> None:
        self.channels: dict[str, Channel] = {}
        self._on_answer = on_answer
        self._url = url  # for log lines
        # (table prefix, market) -> where its updates go; cleared when channels change.
        self._routes: dict[tuple[str, str], tuple[Channel | None, Channel | None, bool]] = {}
        self._sinks: dict[tuple[str, str], Callable[[Any], None]] = {}
        # The start of the last update (``{"table":"NAME"``) and its table (see dispatch).
        self._last_head = b"\0"
        self._last_table: tuple[Table, str] = (TABLES["trade"], "trade")  # never for b"\0"
        # The sink of the last single-item update of _last_table and its market.
        self._hot_market: str | None = None
        self._hot_sink: Callable[[Any], None] = _ignore

    # -- channels and readers (each change forgets the routes it affects) ---------------------

    def join(self, name: str, table: Table, reader: Subscription[Any]) -> tuple[Channel, bool]:
        """Add ``reader`` to channel ``name`` (made if new); (channel, whether it is new)."""
        channel = self.channels.get(name)
        new = channel is None
        if channel is None:
            channel = self.channels[name] = Channel(name, table, asyncio.get_running_loop())
            self._routes.clear()
        if reader not in channel.readers:
            channel.readers.append(reader)
        self._forget_sinks()
        return channel, new

    def leave(self, reader: Subscription[Any]) -> list[str]:
        """Take ``reader`` off its channels; the channels nobody reads any more (dropped)."""
        gone = []
        for name in reader.channels:
            channel = self.channels.get(name)
            if channel is None or reader not in channel.readers:
                continue
            channel.readers.remove(reader)
            self._forget_sinks()
            if not channel.readers:
                del self.channels[name]
                self._routes.clear()
                if not channel.confirmed.done():
                    channel.confirmed.cancel()
                gone.append(name)
        return gone

    def close(self, error: BaseException) -> None:
        for channel in self.channels.values():
            channel.end(error)
        self.channels.clear()
        self._routes.clear()
        self._forget_sinks()

    def _forget_sinks(self) -> None:
        """A sink may hand updates to a channel's one reader: forgotten when readers change."""
        self._sinks.clear()
        self._hot_market = None

    # -- frames -------------------------------------------------------------------------------

    def dispatch(self, raw: bytes) -> bool:
        """Route one frame (a text frame's bytes); True when it built a large update's events
        here (the connection then lets readers run)."""
        if raw.startswith(self._last_head):
            table, name = self._last_table
        elif (known := self._table_of(raw)) is not None:
            table, name = known
        else:
            return self._dispatch_other(raw)
        marker = table.key_marker
        if marker is not None and raw.count(marker) == 1:
            # A book: only its market is read here; the reader's task decodes the rest.
            start = raw.find(marker) + len(marker)
            key = raw[start : raw.find(b'"', start)]
            if b"\\" not in key:  # escaped: the decode below reads it
                market = key.decode()
                sink = self._sinks.get((name, market))
                if sink is None:
                    sink = self._sink_for(table, name, market)
                sink(Lazy(raw, table, table.item, market))
                return False
        try:
            events = table.message_decoder.decode(raw).data
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("stream %s: a %s update is not the documented shape: %s",
                        self._url, name, exc)  # fmt: skip
            return False
        if len(events) == 1 and table.key is not None:
            # One item (a book, a trade, an order update): straight to its sink. The sink of
            # the last one is kept at hand (forgotten when the table changes): updates come in
            # runs of one table and market.
            event = events[0]
            market = getattr(event, table.key)
            if market == self._hot_market:
                self._hot_sink(event)
            else:
                self._sink_of(table, name, market)(event)
        else:
            self._route_all(table, name, events)
        return len(raw) > LARGE_MESSAGE

    def dispatch_str(self, raw: str) -> bool:
        """A text frame as aiohttp before 3.14 hands it over (see connection.RAW_TEXT)."""
        return self.dispatch(raw.encode())

    def _table_of(self, raw: bytes) -> tuple[Table, str] | None:
        """The table of an update (``{"table":"NAME",...``), remembered for the next one."""
        if not raw.startswith(b'{"table":"'):
            return None
        end = raw.find(b'"', 10)
        known = table_named(raw[10:end])
        if known is not None:
            self._last_head, self._last_table = raw[: end + 1], known
            self._hot_market = None
        return known

    def _sink_of(self, table: Table, name: str, market: str) -> Callable[[Any], None]:
        sink = self._sinks.get((name, market))
        if sink is None:
            sink = self._sink_for(table, name, market)
        self._hot_market, self._hot_sink = market, sink
        return sink

    def _dispatch_other(self, raw: bytes) -> bool:
        """A frame that does not start with its table: a reply, a failure notice, a pong."""
        try:
            frame = frame_decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            if raw != b"pong":
                log.debug("stream %s: ignored a frame that is not JSON", self._url)
            return False
        if frame.table is not None:
            self._deliver(frame.table, frame.data)
            return len(raw) > LARGE_MESSAGE
        if frame.event in ORDER_FAILURES and frame.data:
            self._order_failure(frame)
        elif frame.tag is not None:
            self._on_answer(frame)
        return False

    def _order_failure(self, frame: Frame) -> None:
        """A CANCEL/AMEND failure notice: to the order channels of its market."""
        try:
            event = failure_event(frame)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("stream %s: an order failure notice is not the documented shape: %s",
                        self._url, exc)  # fmt: skip
            return
        self._route(TABLES["order"], "order", event.market_code or "", [event])

    def _deliver(self, table_name: str, data: msgspec.Raw) -> None:
        if not data:
            return
        known = table_named(table_name.encode())
        if known is None:
            return
        table, name = known
        try:
            events = table.decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning(
                "stream %s: a %s update is not the documented shape: %s", self._url, name, exc
            )
            return
        self._route_all(table, name, events)

    # -- routes -------------------------------------------------------------------------------

    def _route_all(self, table: Table, name: str, events: list[Any]) -> None:
        if table.key is None:
            channel = self.channels.get(name)
            if channel is not None:
                channel.push(events)
            return
        if len(events) == 1:
            self._route(table, name, getattr(events[0], table.key), events)
            return
        by_key: dict[str, list[Any]] = {}
        for event in events:
            by_key.setdefault(getattr(event, table.key), []).append(event)
        for key, group in by_key.items():
            self._route(table, name, key, group)

    def _route(self, table: Table, name: str, key: Any, events: list[Any]) -> None:
        route = self._routes.get((name, key))
        if route is None:
            route = self._routes[(name, key)] = self._find_route(table, name, key)
        channel, every, several_depths = route
        if several_depths:
            channel = self._depth_channel(key, events[-1])
        if channel is not None:
            if channel.is_trade:
                fresh = channel.fresh(events)
                if fresh:
                    channel.push(fresh)
            else:
                channel.push(events)
        if every is not None:
            every.push(events)  # no trade channel takes :all

    def _sink_for(self, table: Table, name: str, key: str) -> Callable[[Any], None]:
        """What takes one update of ``name`` for ``key`` (remembered with the routes)."""
        channel, every, several_depths = self._find_route(table, name, key)
        takers: list[Callable[[Any], None]] = [
            c.take_trade if c.is_trade else c.push_one for c in (channel, every) if c is not None
        ]
        if (
            len(takers) == 1
            and not several_depths
            and (only := channel or every) is not None
            and not only.is_trade
            and len(only.readers) == 1
        ):
            # The common case: one channel, one reader (forgotten when readers change).
            reader = only.readers[0]
            takers = [reader.put_book if table.conflate else reader.put_update]
        sink: Callable[[Any], None]
        if several_depths:
            sink = partial(self._route_one, table, name, key)
        elif not takers:
            sink = _ignore
        elif len(takers) == 1:
            sink = takers[0]
        else:
            sink = partial(_both, takers[0], takers[1])
        if len(self._sinks) < 10_000:
            self._sinks[(name, key)] = sink
        return sink

    def _route_one(self, table: Table, name: str, key: str, event: Any) -> None:
        if type(event) is Lazy:
            # Several depth channels of the market: the book's size picks one.
            event = event.resolve()
            if event is None:
                return
        self._route(table, name, key, [event])

    def _find_route(
        self, table: Table, name: str, key: str
    ) -> tuple[Channel | None, Channel | None, bool]:
        """The channels an update of ``name`` for ``key`` goes to (remembered until the
        subscriptions change): its own, the ``:all`` one, and whether several depth channels
        of the market must be told apart book by book."""
        channels = self.channels
        every = channels.get(f"{name}:all")
        if table is not DEPTH:
            return channels.get(f"{name}:{key}"), every, False
        found = [c for level, _ in DEPTH_LEVELS if (c := channels.get(f"{level}:{key}"))]
        return (found[0] if found else None), every, len(found) > 1

    def _depth_channel(self, key: str, book: DepthEvent) -> Channel | None:
        """The depth channel a book is for. The table name does not say (the exchange sends
        ``depth`` for every depth channel), so with several depth channels of one market the
        number of levels decides: the smallest channel whose level count the book fits."""
        found = [
            channel
            for level, _ in DEPTH_LEVELS
            if (channel := self.channels.get(f"{level}:{key}")) is not None
        ]
        if len(found) <= 1:
            return found[0] if found else None
        size = max(len(book.asks), len(book.bids))
        for channel in found:
            if size <= DEPTH_SIZES[channel.name.partition(":")[0]]:
                return channel
        return found[-1]
