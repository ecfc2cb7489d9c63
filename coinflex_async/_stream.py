"""``client.stream()``: one WebSocket connection carrying subscriptions and order commands,
typed, self-healing, bounded.

One task per connection reads the frames and hands each ``data`` item, decoded to its typed
event, to the queues of the subscriptions that asked for its channel; nothing in that path ever
waits for a reader, so a slow reader never stalls the socket. A reader waiting in ``async for``
may read the frames already received in its own task instead (``Stream._lend``: cheaper, each
event used as it is built), giving the socket back as soon as its task awaits anything else.
Order commands are answered through
futures keyed by their ``tag`` and go through the same recovery engine as REST orders
(``coinflex_async._orders``): a command whose reply is lost is looked up by ``client_order_id``
over REST before anything is sent again.

After a drop (or ``ping_interval * 1.5`` seconds without an answer, not even to a ping) the
connection is reopened with jittered backoff (the client's ``RetryPolicy`` waits), logged in
again if it was, and every channel subscribed again. Private channels then yield
:class:`~coinflex_async.Resynced` with a fresh REST snapshot before their first new update; trade
channels backfill what they missed from GET /v2/publictrades, so a reader sees every trade
exactly once (by trade ID).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import inspect
import itertools
import logging
import math
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence, Sized
from decimal import Decimal
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import aiohttp
import msgspec
from yarl import URL

from ._errors import (
    AuthenticationError,
    ClientClosedError,
    CoinFlexError,
    OrderRejectedError,
    StreamClosedError,
    StreamOverflowError,
    TransportError,
    ValidationError,
    error_from_code,
)
from ._orders import (
    CANCEL,
    MAX_BATCH,
    MODIFY,
    PLACE,
    OrderKind,
    OrderRecovery,
    WireOrder,
    gather_batch,
    match_answers,
)
from ._ratelimit import WS_ORDERS
from ._transport import RetryPolicy
from ._validation import check_response_type
from .models import Balance, OrderResult, Position, PublicTrade
from .models._values import ResponseTypeValue
from .models.requests import (
    CancelOrder,
    CancelOrderDict,
    ClientOrderIds,
    ModifyOrder,
    ModifyOrderDict,
    NewOrder,
    NewOrderDict,
    listed_orders,
    to_wire_cancel,
    to_wire_modify,
    to_wire_new,
)
from .models.stream import (
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

if sys.version_info >= (3, 11):
    from typing import Unpack
else:
    from typing_extensions import Unpack

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["Stream", "Subscription", "ws_url"]

log = logging.getLogger("coinflex_async")

DEFAULT_PING_INTERVAL = 20.0
DEFAULT_MAX_QUEUE = 1000
# Trade IDs remembered per trade channel to drop repeats across a reconnect (at least this
# many of the newest, at most twice as many).
_SEEN_TRADES = 10_000
_PUBLIC_TRADES_LIMIT = 300  # GET /v2/publictrades' largest page
_LOGIN_PATH = "GET/auth/self/verify"
_RATE_CODES = frozenset({"20007"})
_UNAUTH_GAP = 1.05  # seconds between messages before login (the exchange: 1 per second)
_LARGE_MESSAGE = 2048  # bytes


# aiohttp 3.14 on can hand text frames over undecoded (``decode_text=False``): msgspec reads the
# bytes as they are, and the UTF-8 decode to str that nothing here needs was ~1% of a trade's
# instructions (README). Before 3.14 text frames arrive as str and are encoded back
# (Stream._dispatch_str).
_RAW_TEXT = "decode_text" in inspect.signature(aiohttp.ClientSession.ws_connect).parameters
_WS_OPTIONS: dict[str, Any] = {"decode_text": False} if _RAW_TEXT else {}

_TEXT = aiohttp.WSMsgType.TEXT
_BINARY = aiohttp.WSMsgType.BINARY
_CLOSED = frozenset({aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED})


def _received_frames(ws: aiohttp.ClientWebSocketResponse) -> Sized:
    """aiohttp's queue of the frames it received and nobody read yet, to tell whether a read
    would wait. Not a public attribute: if a later aiohttp has no such queue, an empty tuple
    stands for it and readers never read the socket themselves (see Stream._lend)."""
    buffer = getattr(getattr(ws, "_reader", None), "_buffer", None)
    return buffer if isinstance(buffer, Sized) else ()


def ws_url(base_url: str) -> str:
    """``wss://HOST/v2/websocket`` for https, ``ws://HOST:PORT/v2/websocket`` for http."""
    url = URL(base_url)
    return str(url.with_scheme("wss" if url.scheme == "https" else "ws").with_path("/v2/websocket"))


# -- frames -------------------------------------------------------------------------------------


class _Frame(msgspec.Struct, gc=False):
    """Any frame: a channel update (``table``) or an answer (``event``). ``data`` is decoded
    later, by the channel's own typed decoder."""

    table: str | None = None
    event: str | None = None
    tag: str | int | None = None
    success: bool | None = None
    submitted: bool | None = None
    code: str | int | None = None
    message: str | None = None
    timestamp: str | int | None = None
    channel: str | list[str] | None = None
    data: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # empty: no ``data``


class _ReplyData(msgspec.Struct, rename="camel", gc=False):
    """The ``data`` of an order command's reply (the order as the exchange read it)."""

    client_order_id: str | int | None = None
    order_id: str | int | None = None
    order_id_upper: str | int | None = msgspec.field(default=None, name="orderID")
    market_code: str | None = None
    side: str | None = None
    order_type: str | None = None
    time_in_force: str | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    remain_quantity: Decimal | None = None
    status: str | None = None


class _FailureData(msgspec.Struct, rename="camel", gc=False):
    """The ``data`` of a CANCEL/AMEND failure notice (numbers where others send strings)."""

    client_order_id: str | int | None = None
    order_id: str | int | None = None
    status: str | None = None
    market_code: str | None = None
    side: str | None = None
    order_type: str | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    remain_quantity: Decimal | None = None
    timestamp_epoch_ms: int | None = None


_ORDER_FAILURES = frozenset({"CANCEL", "AMEND"})
_failure_decoder = msgspec.json.Decoder(_FailureData, strict=False)
_frame_decoder = msgspec.json.Decoder(_Frame, strict=False)
_reply_decoder = msgspec.json.Decoder(_ReplyData, strict=False)
_encode = msgspec.json.Encoder().encode


class _Table:
    """How one ``table`` decodes, which attribute names its item's market, whether its readers
    get the newest book instead of every update, and whether it is private."""

    __slots__ = ("conflate", "decoder", "item", "key", "key_marker", "message_decoder", "private")

    def __init__(
        self, item: type, key: str | None, *, conflate: bool, private: bool, lazy: bool = False
    ) -> None:
        self.decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(list[item], strict=False)  # type: ignore[valid-type]
        # The whole message in one pass (its other keys skipped): the hot path.
        message = msgspec.defstruct(f"_{item.__name__}Message", [("data", list[item])])  # type: ignore[valid-type]
        self.message_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
            message, strict=False
        )
        # Depth books only (~150 objects each): the socket's task finds the book's market in
        # the text (``"instrumentId":"``, once in a one-book message) and leaves the typed
        # decode to the reader's task (see _Lazy). Reading the market with a decoder that
        # skips the rest took 4.6 us of a 27 us L25 book; the search takes well under 1 us.
        self.key_marker: bytes | None = (
            f'"{_camel(key)}":"'.encode() if key is not None and lazy else None
        )
        self.item = item
        self.key = key
        self.conflate = conflate
        self.private = private


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


_DEPTH = _Table(DepthEvent, "instrument_id", conflate=True, private=False, lazy=True)
# Depth channels, fewest levels first (the whole book last).
_DEPTH_LEVELS = (("depthL5", 5), ("depthL10", 10), ("depthL25", 25), ("depth", 10**9))
_DEPTH_SIZES = dict(_DEPTH_LEVELS)
_TABLES: dict[str, _Table] = {
    "depth": _DEPTH,
    "depthL5": _DEPTH,
    "depthL10": _DEPTH,
    "depthL25": _DEPTH,
    "trade": _Table(TradeEvent, "market_code", conflate=False, private=False),
    "ticker": _Table(TickerEvent, "market_code", conflate=True, private=False),
    "candles": _Table(CandleEvent, "market_code", conflate=True, private=False),
    "market": _Table(MarketEvent, "market_code", conflate=True, private=False),
    "liquidationRFQ": _Table(LiquidationEvent, None, conflate=False, private=False),
    "order": _Table(OrderEvent, "market_code", conflate=False, private=True),
    "balance": _Table(Balance, "instrument_id", conflate=False, private=True),
    "position": _Table(Position, "instrument_id", conflate=False, private=True),
}


def _prefix(channel_or_table: str) -> str:
    """``depthL10:M`` -> ``depthL10``; ``candles60s:M`` and table ``candle60s`` -> ``candles``."""
    name = channel_or_table.partition(":")[0]
    return "candles" if name.startswith("candle") else name


# Table name as sent -> its table and channel prefix (filled as names are seen).
_BY_TABLE_NAME: dict[bytes, tuple[_Table, str]] = {}


def _table_named(name: bytes) -> tuple[_Table, str] | None:
    prefix = _prefix(name.decode(errors="replace"))
    table = _TABLES.get(prefix)
    if table is None or len(_BY_TABLE_NAME) > 1000:
        return None
    _BY_TABLE_NAME[name] = (table, prefix)
    return table, prefix


def _table_for(channel: str) -> _Table:
    if not isinstance(channel, str) or not channel or channel != channel.strip():
        raise ValidationError(f"not a channel: {channel!r}")
    table = _TABLES.get(_prefix(channel))
    _, sep, key = channel.partition(":")
    if table is None or (table.key is None) != (not sep) or (sep and not key):
        raise ValidationError(f"unknown channel {channel!r} (see the WebSocket docs' channels)")
    return table


# -- subscriptions ------------------------------------------------------------------------------


class _Deferred:
    """A queue entry standing for events still being fetched over REST (a resync snapshot or a
    trade backfill): the reader waits for it in its place, so what follows stays in order."""

    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[list[Any]]) -> None:
        self.future = future


class _Lazy:
    """A queue entry standing for one update whose typed decode waits for the first reader that
    takes it: the reader's task then builds the event and drops it while it is still in the
    CPU's cache, as a plain decode-and-use loop does, instead of the socket's task building a
    whole socket buffer of events first (a depth book is ~150 objects). Shared by the readers
    of one update: decoded once."""

    __slots__ = ("event", "key", "kind", "raw", "table")

    def __init__(self, raw: bytes, table: _Table, kind: type, key: str | None) -> None:
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


class Subscription:
    """What ``ws.subscribe(*channels)`` returns: an async iterator of typed events, in arrival
    order, for every channel it names. ``aclose()`` leaves (unsubscribing channels nobody else
    reads); leaving ``async with ws`` ends it."""

    def __init__(self, stream: Stream, channels: tuple[str, ...], max_queue: int) -> None:
        self.channels = channels
        self._stream = stream
        self._max_queue = max_queue
        self._queue: deque[Any] = deque()
        self._front: deque[Any] = deque()  # events of a resolved _Deferred, yielded first
        self._waiter: asyncio.Future[None] | None = None
        self._dropped = 0
        self._behind = False  # fell max_queue behind and has not caught up yet
        self._error: BaseException | None = None
        self._done = False
        self._parked = False  # waiting in __anext__ for the next event

    def __repr__(self) -> str:
        return f"Subscription({', '.join(self.channels)}, queued={len(self._queue)})"

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        while True:
            if self._front:
                return self._front.popleft()
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                raise StreamOverflowError(
                    f"the reader of {', '.join(self.channels)} fell more than {self._max_queue} "
                    f"events behind; {dropped} events were dropped",
                    channel=", ".join(self.channels),
                    dropped=dropped,
                )
            queue = self._queue
            if queue:
                item = queue.popleft()
                if self._behind and not queue:
                    self._behind = False
                if type(item) is _Lazy:
                    item = item.resolve()
                    if item is None:
                        continue
                    return item
                if type(item) is _Deferred:
                    self._front.extend(await item.future)
                    continue
                return item
            if self._error is not None:
                error, self._error = self._error, None
                self._done = True
                raise error
            if self._done:
                raise StopAsyncIteration
            stream = self._stream
            if stream._reader_turn is self:
                # Read a frame already received here, in the reader's own task (see
                # Stream._lend); none left: the socket's task reads again.
                ws = stream._ws
                if ws is not None and stream._received:
                    stream._turn_reading = True
                    try:
                        message = await ws.receive()
                    finally:
                        stream._turn_reading = False
                        if stream._reader_turn is not self or stream._check_again:
                            stream._turn_read()
                    if message.type is _TEXT:
                        stream._frames += 1
                        stream._dispatch_text(message.data)
                    else:
                        stream._route_received(message)
                    continue
                stream._take_turn_back()
            stream._may_lend_to = self
            self._parked = True
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
                self._parked = False

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading; channels no other subscription reads are unsubscribed."""
        if self._done and not self._queue:
            return
        self._end()
        await self._stream._leave(self)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _end(self, error: BaseException | None = None) -> None:
        self._done = True
        if error is not None:
            self._error = error
        if self._stream._reader_turn is self:
            self._stream._take_turn_back()
        self._wake()

    def _put_update(self, event: Any) -> None:
        """One event the reader must not miss (a trade, an order update, a balance)."""
        queue = self._queue
        if len(queue) < self._max_queue:
            queue.append(event)
            waiter = self._waiter
            if waiter is not None:
                self._waiter = None  # woken once per batch
                if not waiter.done():
                    waiter.set_result(None)
            return
        self._put(event, False)

    def _put_book(self, event: Any) -> None:
        self._put(event, True)

    def _put(self, event: Any, conflate: bool) -> None:
        queue = self._queue
        if self._behind and conflate and self._replace(event):
            return
        if len(queue) >= self._max_queue:
            self._compact()
            self._behind = True  # from now on a newer book replaces the queued one
            if len(queue) >= self._max_queue:
                if conflate:
                    return  # only books left behind: the newer book comes with the next push
                # Trades, orders, balances, positions: never a silent gap. The reader learns it
                # at its next read; what was queued precedes the gap and is dropped with it.
                self._dropped += len(queue) + 1
                queue.clear()
                self._wake()
                return
        queue.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _replace(self, event: Any) -> bool:
        """Put a newer book in the place of the queued one of the same kind and market."""
        key = _book_id(event)
        if key is None:
            return False
        queue = self._queue
        for index in range(len(queue) - 1, -1, -1):
            if _book_id(queue[index]) == key:
                queue[index] = event
                return True
        return False

    def _compact(self) -> None:
        """Keep only the newest book (depth, ticker, market, candle) per type and market."""
        newest: dict[tuple[type, str], int] = {}
        items = list(self._queue)
        for index, item in enumerate(items):
            if (book := _book_id(item)) is not None:
                newest[book] = index
        if newest:
            keep = set(newest.values())
            self._queue = deque(
                item for index, item in enumerate(items) if index in keep or _book_id(item) is None
            )


_BOOKS = (DepthEvent, TickerEvent, MarketEvent, CandleEvent)


def _book_id(item: Any) -> tuple[type, str] | None:
    """(type, market) of a book (decoded or not), None for anything else."""
    if type(item) is _Lazy:
        if item.kind not in _BOOKS or item.key is None:
            return None
        return item.kind, item.key
    if not isinstance(item, _BOOKS):
        return None
    key = getattr(item, "instrument_id", None) or getattr(item, "market_code", "")
    return type(item), str(key)


class _Channel:
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

    def __init__(self, name: str, table: _Table, loop: asyncio.AbstractEventLoop) -> None:
        self.name = name
        self.table = table
        self.is_trade = name.startswith("trade:")
        self.readers: list[Subscription] = []
        self.confirmed: asyncio.Future[None] = loop.create_future()
        # Trades only: IDs already handed out (bounded), and the newest trade time seen.
        self.seen: set[str] = set()
        self.seen_before: set[str] = set()  # the generation before ``seen`` (see _first_time)
        self.last_trade_time = 0  # none yet
        # When the exchange first confirmed it (ms, its clock): trades are backfilled from
        # here if none was seen yet.
        self.since: int | None = None
        # After a reconnect: the resync snapshot or trade backfill its readers wait for.
        self.pending: asyncio.Future[list[Any]] | None = None
        self.refused: BaseException | None = None

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

    def _first_time(self, trade: Any) -> bool:
        """Whether ``trade`` was not handed out yet (remembered from now on)."""
        trade_id = trade.trade_id
        recent = self.seen
        if trade_id in recent or trade_id in self.seen_before:
            return False
        recent.add(trade_id)
        if len(recent) >= _SEEN_TRADES:
            self._next_generation()
        if trade.timestamp > self.last_trade_time:
            self.last_trade_time = trade.timestamp
        return True

    def _next_generation(self) -> None:
        # Two generations instead of a log of single IDs to evict one by one: the newest
        # _SEEN_TRADES to 2x as many IDs are remembered, at a fraction of the cost per trade.
        self.seen_before = self.seen
        self.seen = set()

    def fresh(self, trades: Iterable[TradeEvent]) -> list[TradeEvent]:
        """The trades not handed out yet, remembered from now on."""
        first_time = self._first_time
        return [trade for trade in trades if first_time(trade)]

    def push_one(self, event: Any) -> None:
        conflate = self.table.conflate
        for reader in self.readers:
            reader._put(event, conflate)

    def take_trade(self, trade: Any) -> None:
        """One trade: handed to the readers unless its ID was handed out already (the hot
        path: _first_time written out here, a call less per trade)."""
        trade_id = trade.trade_id
        recent = self.seen
        if trade_id in recent or trade_id in self.seen_before:
            return
        recent.add(trade_id)
        if len(recent) >= _SEEN_TRADES:
            self._next_generation()
        if trade.timestamp > self.last_trade_time:
            self.last_trade_time = trade.timestamp
        for reader in self.readers:
            queue = reader._queue
            if len(queue) < reader._max_queue and reader._waiter is None:
                queue.append(trade)  # _put_update written out: the reader is not waiting
            else:
                reader._put_update(trade)

    def push(self, events: list[Any]) -> None:
        conflate = self.table.conflate
        readers = self.readers
        if len(readers) == 1 and len(events) == 1:
            readers[0]._put(events[0], conflate)  # the common case
            return
        for reader in readers:
            for event in events:
                reader._put(event, conflate)


def _ignore(event: Any) -> None:
    """The sink of updates nobody subscribed to (any more)."""


def _both(first: Callable[[Any], None], second: Callable[[Any], None], event: Any) -> None:
    first(event)
    second(event)


# -- the stream ---------------------------------------------------------------------------------


class _Waiter:
    """The answers expected for one tag (a batch command gets one per order)."""

    __slots__ = ("expected", "frames", "future")

    def __init__(self, future: asyncio.Future[list[_Frame]], expected: int) -> None:
        self.future = future
        self.expected = expected
        self.frames: list[_Frame] = []


class Stream:
    """One WebSocket connection to ``base_url`` (see ``Client.stream``)."""

    def __init__(
        self,
        client: Client,
        *,
        ping_interval: float = DEFAULT_PING_INTERVAL,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        if isinstance(ping_interval, bool) or not isinstance(ping_interval, (int, float)):
            raise ValidationError("ping_interval must be a number of seconds")
        if not 0 < ping_interval <= 60:
            raise ValidationError("ping_interval must be above 0 and at most 60 seconds")
        if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
            raise ValidationError("max_queue must be a positive int")
        self._client = client
        self._transport = client._transport
        self._credentials = client._credentials
        self.url = ws_url(client.base_url)
        self.ping_interval = float(ping_interval)
        self.max_queue = max_queue
        self._timeout = client.timeout
        self._recv_window = client.recv_window
        self._policy = client.retry if client.retry is not None else _RECONNECT_POLICY
        self._ids: ClientOrderIds = client.private._ids
        self._recovery = OrderRecovery(
            self._transport, history_route=_history_route(), retry=client.retry
        )
        self._tags = itertools.count(1)
        self._waiters: dict[str, _Waiter] = {}
        self._channels: dict[str, _Channel] = {}
        # (table prefix, market) -> where its updates go; cleared when channels change.
        self._routes: dict[tuple[str, str], tuple[_Channel | None, _Channel | None, bool]] = {}
        self._sinks: dict[tuple[str, str], Callable[[Any], None]] = {}
        # A reader's task reading frames already received itself (see _lend).
        self._received: Sized = ()  # aiohttp's queue of frames received, not yet read
        self._may_lend_to: Subscription | None = None  # the reader that last waited
        self._reader_turn: Subscription | None = None  # the reader reading now
        self._turn: asyncio.Future[None] | None = None  # the socket's task waits on it
        self._turn_reading = False  # the reader is inside ws.receive()
        self._check_again = False  # _check_turn came while it was
        # The start of the last update (``{"table":"NAME"``) and its table (see _dispatch).
        self._last_head = b"\0"
        self._last_table: tuple[_Table, str] = (_TABLES["trade"], "trade")  # never for b"\0"
        # The sink of the last single-item update of _last_table and its market.
        self._hot_market: str | None = None
        self._hot_sink: Callable[[Any], None] = _ignore
        # Text frames: bytes from aiohttp 3.14 on, str before (see _RAW_TEXT).
        self._dispatch_text: Callable[[Any], bool] = (
            self._dispatch if _RAW_TEXT else self._dispatch_str
        )
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ready: asyncio.Event | None = None
        self._stop: asyncio.Future[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._login_lock: asyncio.Lock | None = None
        self._pace_lock: asyncio.Lock | None = None
        self._unauth_sent_at = -_UNAUTH_GAP
        # Frames received on this connection: the keep-alive watches it change (a count, not a
        # clock read per frame, which cost a trade ~1% more instructions).
        self._frames = 0
        self._logged_in = False  # on the current connection
        self._wants_login = False  # log in again after a reconnect
        self._closed = False
        self._started = False
        self.reconnects = 0

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("connected" if self._ws is not None else "idle")
        return f"Stream({self.url!r}, {state}, channels={len(self._channels)})"

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def connected(self) -> bool:
        """Whether the connection is up and restored (logged in, channels subscribed again)."""
        return self._ready is not None and self._ready.is_set() and not self._closed

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
        loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self._stop = loop.create_future()
        self._login_lock = asyncio.Lock()
        self._pace_lock = asyncio.Lock()
        ws = await self._connect()
        self._ws = ws
        self._ready.set()
        self._runner = loop.create_task(self._run(ws), name="coinflex_async stream")

    async def close(self) -> None:
        """Close the connection; every reader's ``async for`` ends, every waiting command ends
        at once (``StreamClosedError`` if unsent, ``OrderStatusUnknownError`` if in flight)."""
        if self._closed:
            return
        self._closed = True
        self._client._streams.discard(self)
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)
        runner, self._runner = self._runner, None
        tasks = [*self._tasks, *([runner] if runner is not None else [])]
        for task in tasks:
            task.cancel()
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._fail_waiters(TransportError("the stream was closed", request_sent=True))
        for channel in self._channels.values():
            if not channel.confirmed.done():
                channel.confirmed.set_exception(StreamClosedError("the stream was closed"))
                channel.confirmed.exception()  # retrieved: nobody may be waiting
            for reader in channel.readers:
                reader._end()
        self._channels.clear()
        self._clear_routes()

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        try:
            session = self._client._get_session()
        except ClientClosedError as exc:
            raise StreamClosedError(str(exc)) from None
        try:
            ws = await session.ws_connect(
                self.url,
                autoping=True,
                # A close waits this long for the server's close frame: a stalled server's
                # never comes.
                timeout=aiohttp.ClientWSTimeout(ws_close=min(self._timeout, 1.0)),
                max_msg_size=0,
                **_WS_OPTIONS,
            )
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise TransportError(
                f"WebSocket {self.url}: cannot connect ({type(exc).__name__}: {exc})",
                request_sent=False,
            ) from exc
        return cast("aiohttp.ClientWebSocketResponse", ws)  # the type says str; see _RAW_TEXT

    async def _run(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Serve connection after connection until closed."""
        assert self._ready is not None
        loop = asyncio.get_running_loop()
        failures = 0
        first = True
        while not self._closed:
            self._ws = ws
            self._logged_in = False
            self._frames = 0
            reader = loop.create_task(self._read(ws))
            watchdog = loop.create_task(self._watch(ws))
            try:
                if not first:
                    await self._restore(ws)
                self._ready.set()
                failures = 0
                await reader
            except CoinFlexError as error:
                log.warning("stream %s: restoring the connection failed: %s", self.url, error)
            finally:
                self._ready.clear()
                reader.cancel()
                watchdog.cancel()
                self._ws = None
                self._fail_waiters(
                    TransportError("the WebSocket connection was lost", request_sent=True)
                )
                await ws.close()
            first = False
            # Reconnect with jittered backoff (the client's RetryPolicy waits).
            while not self._closed:
                failures += 1
                await asyncio.sleep(self._policy.wait_after(None, min(failures, 8)))
                try:
                    ws = await self._connect()
                except StreamClosedError:
                    return  # the client closed; its close() closes this stream
                except TransportError as error:
                    log.info("stream %s: reconnect failed: %s", self.url, error)
                    continue
                self.reconnects += 1
                log.info("stream %s: reconnected", self.url)
                break

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        dispatch = self._dispatch_text
        self._received = received = _received_frames(ws)
        receive = ws.receive
        while True:
            message = await receive()
            kind = message.type
            if kind in _CLOSED:
                break
            self._frames += 1
            if kind is _TEXT:
                built_large = dispatch(message.data)
            elif kind is _BINARY:
                built_large = self._dispatch(message.data)
            else:
                continue
            if built_large:
                # Let readers take a big update built here while it is still in the CPU's
                # cache, instead of building a whole socket buffer of them first.
                await asyncio.sleep(0)
            reader = self._may_lend_to
            if reader is not None and received and reader._parked and reader._queue:
                await self._lend(reader)
        if ws.exception() is not None:
            log.info("stream %s: connection lost: %s", self.url, ws.exception())

    async def _lend(self, reader: Subscription) -> None:
        """Let ``reader``'s task read the frames already received, one as it takes each event,
        and wait until it gives the socket back.

        Handing events from this task to the reader's costs small updates about 15% more CPU
        (``benchmarks.ws`` when this was added: trades and order updates at 1.35-1.47x the
        typed floor this way, 1.57-1.69x handed over): a socket read's worth of events is built
        and queued before the first is used.

        The reader reads only frames already received, so a read returns at once, except when
        the last one is a ping (its answer may wait for the socket, and the read then waits
        for the next frame, as the socket's task would). With none left it gives the socket
        back and waits for its queue as usual. If its task stops anywhere else while it holds
        the socket (its ``async for`` body awaits something), the socket is taken back at once
        (``_check_turn``), so other readers, command replies and pings are never held up by a
        busy reader."""
        loop = asyncio.get_running_loop()
        self._may_lend_to = None
        self._reader_turn = reader
        self._turn = turn = loop.create_future()
        # Runs after the reader's task (woken before this) next stops, wherever that is.
        loop.call_soon(self._check_turn, turn)
        try:
            await turn
        finally:
            self._reader_turn = None
            self._turn = None
            self._check_again = False

    def _check_turn(self, turn: asyncio.Future[None]) -> None:
        if turn is not self._turn or turn.done():
            return
        if self._turn_reading:
            # Waiting inside ws.receive() (a ping's answer may wait for the socket): check
            # again when that read returns.
            self._check_again = True
            return
        self._take_turn_back()

    def _take_turn_back(self) -> None:
        """The socket's task reads again (once the reader is out of ws.receive())."""
        self._reader_turn = None
        if not self._turn_reading and (turn := self._turn) is not None and not turn.done():
            turn.set_result(None)

    def _turn_read(self) -> None:
        """A reader's ws.receive() returned (or raised): follow up what came meanwhile."""
        if self._reader_turn is None:
            self._take_turn_back()  # taken back while it read: hand over now
        elif self._check_again and (turn := self._turn) is not None:
            self._check_again = False
            asyncio.get_running_loop().call_soon(self._check_turn, turn)

    def _route_received(self, message: aiohttp.WSMessage) -> None:
        """A frame a reader read in its turn."""
        kind = message.type
        if kind in _CLOSED:
            self._take_turn_back()  # the socket's task sees the close too and reconnects
            return
        self._frames += 1
        if kind is _TEXT:
            self._dispatch_text(message.data)
        elif kind is _BINARY:
            self._dispatch(message.data)

    async def _watch(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Keep-alive: a text ``ping`` after ``ping_interval`` of silence (answered ``pong``);
        no frame at all for 1.5x that (a dead or stalled connection) ends the connection.

        Silence is measured from the check that last saw the frame count move: up to one
        check (an eighth of the interval) shorter than the truth, never longer."""
        loop = asyncio.get_running_loop()
        interval = self.ping_interval
        heard_at, pinged_at = loop.time(), -math.inf
        frames = self._frames
        while True:
            await asyncio.sleep(interval / 8)
            now = loop.time()
            if self._frames != frames:
                frames, heard_at = self._frames, now
                continue
            quiet = now - heard_at
            if quiet >= interval * 1.5:
                log.warning("stream %s: nothing heard for %.1f s; reconnecting", self.url, quiet)
                await ws.close()
                return
            if quiet >= interval and pinged_at < heard_at:
                pinged_at = now
                try:
                    await ws.send_str("ping")
                except (aiohttp.ClientError, ConnectionError, RuntimeError):
                    return

    def _dispatch(self, raw: bytes) -> bool:
        """Route one frame (a text frame's bytes); True when it built a large update's events
        here (see _read)."""
        # The exchange's updates start with their table: one decode, straight to the type.
        # Most updates are of the same table as the one before: one comparison finds it.
        if raw.startswith(self._last_head):
            table, prefix = self._last_table
        elif (known := self._table_of(raw)) is not None:
            table, prefix = known
        else:
            return self._dispatch_other(raw)
        marker = table.key_marker
        if marker is not None and raw.count(marker) == 1:
            # A book: only its market is read here; the reader's task decodes the rest.
            start = raw.find(marker) + len(marker)
            name = raw[start : raw.find(b'"', start)]
            if b"\\" not in name:  # escaped: the decode below reads it
                market = name.decode()
                sink = self._sinks.get((prefix, market))
                if sink is None:
                    sink = self._sink_for(table, prefix, market)
                sink(_Lazy(raw, table, table.item, market))
                return False
        try:
            events = table.message_decoder.decode(raw).data
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("stream %s: a %s update is not the documented shape: %s",
                        self.url, prefix, exc)  # fmt: skip
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
                self._sink_of(table, prefix, market)(event)
        else:
            self._route_all(table, prefix, events)
        return len(raw) > _LARGE_MESSAGE

    def _dispatch_str(self, raw: str) -> bool:
        """A text frame as aiohttp before 3.14 hands it over (see _RAW_TEXT)."""
        return self._dispatch(raw.encode())

    def _table_of(self, raw: bytes) -> tuple[_Table, str] | None:
        """The table of an update (``{"table":"NAME",...``), remembered for the next one."""
        if not raw.startswith(b'{"table":"'):
            return None
        end = raw.find(b'"', 10)
        name = raw[10:end]
        known = _BY_TABLE_NAME.get(name) or _table_named(name)
        if known is not None:
            self._last_head, self._last_table = raw[: end + 1], known
            self._hot_market = None
        return known

    def _sink_of(self, table: _Table, prefix: str, market: str) -> Callable[[Any], None]:
        sink = self._sinks.get((prefix, market))
        if sink is None:
            sink = self._sink_for(table, prefix, market)
        self._hot_market, self._hot_sink = market, sink
        return sink

    def _dispatch_other(self, raw: bytes) -> bool:
        """A frame that does not start with its table: a reply, a failure notice, a pong."""
        try:
            frame = _frame_decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            if raw != b"pong":
                log.debug("stream %s: ignored a frame that is not JSON", self.url)
            return False
        if frame.table is not None:
            self._deliver(frame.table, frame.data)
            return len(raw) > _LARGE_MESSAGE
        elif frame.event in _ORDER_FAILURES and frame.data:
            self._order_failure(frame)
        elif frame.tag is not None:
            waiter = self._waiters.get(str(frame.tag))
            if waiter is None:
                return False  # a late answer (its command timed out) or an unsubscribe's
            waiter.frames.append(frame)
            if len(waiter.frames) >= waiter.expected:
                del self._waiters[str(frame.tag)]
                if not waiter.future.done():
                    waiter.future.set_result(waiter.frames)
        return False

    def _order_failure(self, frame: _Frame) -> None:
        """A CANCEL/AMEND failure notice: to the order channels of its market."""
        try:
            data = _failure_decoder.decode(frame.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("stream %s: an order failure notice is not the documented shape: %s",
                        self.url, exc)  # fmt: skip
            return
        event = OrderFailureEvent(
            event=str(frame.event),
            code=_text(frame.code),
            message=frame.message,
            status=data.status,
            order_id=_text(data.order_id),
            client_order_id=_text(data.client_order_id),
            market_code=data.market_code,
            side=data.side,
            order_type=data.order_type,
            price=data.price,
            quantity=data.quantity,
            remain_quantity=data.remain_quantity,
            timestamp=data.timestamp_epoch_ms or None,
        )
        self._route(_TABLES["order"], "order", data.market_code or "", [event])

    def _deliver(self, table_name: str, data: msgspec.Raw) -> None:
        if not data:
            return
        prefix = _prefix(table_name)
        table = _TABLES.get(prefix)
        if table is None:
            return
        try:
            events = table.decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning(
                "stream %s: a %s update is not the documented shape: %s", self.url, prefix, exc
            )
            return
        self._route_all(table, prefix, events)

    def _route_all(self, table: _Table, prefix: str, events: list[Any]) -> None:
        channels = self._channels
        if table.key is None:
            channel = channels.get(prefix)
            if channel is not None:
                channel.push(events)
            return
        if len(events) == 1:
            # The common case: one item (a book, a trade, an order update).
            self._route(table, prefix, getattr(events[0], table.key), events)
            return
        by_key: dict[str, list[Any]] = {}
        for event in events:
            by_key.setdefault(getattr(event, table.key), []).append(event)
        for key, group in by_key.items():
            self._route(table, prefix, key, group)

    def _route(self, table: _Table, prefix: str, key: Any, events: list[Any]) -> None:
        route = self._routes.get((prefix, key))
        if route is None:
            route = self._routes[(prefix, key)] = self._find_route(table, prefix, key)
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

    def _clear_routes(self) -> None:
        self._routes.clear()
        self._forget_sinks()

    def _forget_sinks(self) -> None:
        """A sink may hand updates to a channel's one reader: forgotten when readers change."""
        self._sinks.clear()
        self._hot_market = None

    def _sink_for(self, table: _Table, prefix: str, key: str) -> Callable[[Any], None]:
        """What takes one update of ``prefix`` for ``key`` (remembered with the routes)."""
        channel, every, several_depths = self._find_route(table, prefix, key)
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
            takers = [reader._put_book if table.conflate else reader._put_update]
        sink: Callable[[Any], None]
        if several_depths:
            sink = partial(self._route_one, table, prefix, key)
        elif not takers:
            sink = _ignore
        elif len(takers) == 1:
            sink = takers[0]
        else:
            sink = partial(_both, takers[0], takers[1])
        if len(self._sinks) < 10_000:
            self._sinks[(prefix, key)] = sink
        return sink

    def _route_one(self, table: _Table, prefix: str, key: str, event: Any) -> None:
        if type(event) is _Lazy:
            # Several depth channels of the market: the book's size picks one.
            event = event.resolve()
            if event is None:
                return
        self._route(table, prefix, key, [event])

    def _find_route(
        self, table: _Table, prefix: str, key: str
    ) -> tuple[_Channel | None, _Channel | None, bool]:
        """The channels an update of ``prefix`` for ``key`` goes to (remembered until the
        subscriptions change): its own, the ``:all`` one, and whether several depth channels
        of the market must be told apart book by book."""
        channels = self._channels
        every = channels.get(f"{prefix}:all")
        if table is not _DEPTH:
            return channels.get(f"{prefix}:{key}"), every, False
        found = [c for name, _ in _DEPTH_LEVELS if (c := channels.get(f"{name}:{key}"))]
        return (found[0] if found else None), every, len(found) > 1

    def _depth_channel(self, key: str, book: DepthEvent) -> _Channel | None:
        """The depth channel a book is for. The table name does not say (the exchange sends
        ``depth`` for every depth channel), so with several depth channels of one market the
        number of levels decides: the smallest channel whose level count the book fits."""
        found = [
            channel
            for name, levels in _DEPTH_LEVELS
            if (channel := self._channels.get(f"{name}:{key}")) is not None
        ]
        if len(found) <= 1:
            return found[0] if found else None
        size = max(len(book.asks), len(book.bids))
        for channel in found:
            if size <= _DEPTH_SIZES[channel.name.partition(":")[0]]:
                return channel
        return found[-1]

    # -- requests and answers --------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StreamClosedError("the stream is closed")
        if not self._started:
            raise StreamClosedError("the stream is not open: use `async with client.stream()`")
        if self._client.closed:
            raise StreamClosedError("the client is closed")

    async def _until_ready(self) -> aiohttp.ClientWebSocketResponse:
        """The live connection, waiting (at most ``timeout``) for a reconnect to finish."""
        assert self._ready is not None and self._stop is not None
        if not self._ready.is_set():
            ready = asyncio.ensure_future(self._ready.wait())
            try:
                await asyncio.wait(
                    (ready, self._stop), timeout=self._timeout, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                ready.cancel()
            self._check_open()
            if not self._ready.is_set():
                raise TransportError(
                    f"WebSocket {self.url}: not connected (reconnecting)", request_sent=False
                )
        ws = self._ws
        if ws is None:
            raise TransportError(f"WebSocket {self.url}: not connected", request_sent=False)
        return ws

    async def _ask(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        message: dict[str, Any],
        expected: int = 1,
        what: str = "",
        leaving: Callable[[], None] | None = None,
    ) -> list[_Frame]:
        """Send one tagged message; wait for its ``expected`` answers (at most ``timeout``)."""
        await self._pace()
        tag = str(next(self._tags))
        message["tag"] = tag
        future: asyncio.Future[list[_Frame]] = asyncio.get_running_loop().create_future()
        self._waiters[tag] = _Waiter(future, expected)
        try:
            text = _encode(message).decode()
            if leaving is not None:
                leaving()
            try:
                await ws.send_str(text)
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                raise TransportError(
                    f"WebSocket {what}: could not send ({exc})", request_sent=False
                ) from exc
            try:
                return await asyncio.wait_for(asyncio.shield(future), self._timeout)
            except asyncio.TimeoutError:
                raise TransportError(
                    f"WebSocket {what}: no answer within {self._timeout} s"
                ) from None
        finally:
            self._waiters.pop(tag, None)
            if not future.done():
                future.cancel()

    def _fail_waiters(self, error: BaseException) -> None:
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            if not waiter.future.done():
                waiter.future.set_exception(error)
                waiter.future.exception()  # mark retrieved: its caller may have gone

    async def _pace(self) -> None:
        """Before login the exchange takes one message per second per connection: wait for
        the next free second (login itself lifts the limit to 50 per second)."""
        if self._logged_in:
            return
        loop = asyncio.get_running_loop()
        async with self._pace_lock:  # type: ignore[union-attr]
            wait = self._unauth_sent_at + _UNAUTH_GAP - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._unauth_sent_at = loop.time()

    async def _login(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Log this connection in (once), signed as the docs say."""
        if self._credentials is None:
            raise AuthenticationError(
                "private channels and order commands need api_key and api_secret",
                status=None,
                endpoint="WebSocket login",
            )
        assert self._login_lock is not None
        async with self._login_lock:
            if self._logged_in and ws is self._ws:
                return
            timestamp = str(time.time_ns() // 1_000_000)
            digest = hmac.new(
                self._credentials.secret_bytes,
                (timestamp + _LOGIN_PATH).encode(),
                hashlib.sha256,
            ).digest()
            message = {
                "op": "login",
                "data": {
                    "apiKey": self._credentials.api_key,
                    "timestamp": timestamp,
                    "signature": base64.b64encode(digest).decode(),
                },
            }
            answer = await self._ask_again(ws, message, "login")
            if not answer.success and str(answer.code) != "20005":  # 20005: already logged in
                error = error_from_code(
                    _text(answer.code), answer.message, endpoint="WebSocket login"
                )
                if not isinstance(error, AuthenticationError):
                    error = AuthenticationError(
                        error.message, status=None, code=error.code, endpoint="WebSocket login"
                    )
                raise error
            self._logged_in = True
            self._wants_login = True

    async def _ask_again(
        self, ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any], what: str
    ) -> _Frame:
        """``_ask`` for a request that is safe to repeat (login, subscribe): an answer lost or
        refused as too rapid is asked again, within the retry policy's attempts."""
        policy = self._policy
        attempt = 0
        while True:
            attempt += 1
            try:
                (answer,) = await self._ask(ws, dict(message), what=what)
            except TransportError as error:
                if attempt >= policy.attempts or ws is not self._ws:
                    raise
                log.info("stream %s: %s: %s; asking again", self.url, what, error)
                continue
            if answer.success or str(answer.code) not in _RATE_CODES or attempt >= policy.attempts:
                return answer
            await asyncio.sleep(max(_UNAUTH_GAP, policy.wait_after(None, attempt)))

    # -- subscriptions ---------------------------------------------------------------------

    async def subscribe(self, *channels: str, max_queue: int | None = None) -> Subscription:
        """Subscribe to the docs' channels (``depthL10:M``, ``trade:M``, ``order:all``, ...);
        returns once the exchange acknowledged each. A refused channel raises ``APIError``
        with the exchange's code (and nothing stays subscribed for this call).

        ``max_queue`` (default: the stream's) bounds this reader's backlog."""
        self._check_open()
        if not channels:
            raise ValidationError("subscribe needs at least one channel")
        if max_queue is None:
            max_queue = self.max_queue
        elif isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
            raise ValidationError("max_queue must be a positive int")
        tables = [_table_for(channel) for channel in channels]
        names = tuple(dict.fromkeys(channels))
        subscription = Subscription(self, names, max_queue)
        loop = asyncio.get_running_loop()
        new: list[_Channel] = []
        joined: list[_Channel] = []
        for name, table in zip(channels, tables, strict=True):
            channel = self._channels.get(name)
            if channel is None:
                channel = self._channels[name] = _Channel(name, table, loop)
                self._clear_routes()
                new.append(channel)
            if subscription not in channel.readers:
                channel.readers.append(subscription)
                self._forget_sinks()
                joined.append(channel)
        try:
            if new:
                ws = await self._until_ready()
                if any(c.table.private for c in new):
                    await self._login(ws)
                errors = await self._subscribe_on(ws, new)
                if errors:
                    raise errors[0]
            # Channels others subscribed first: wait for their acknowledgement too.
            for channel in joined:
                await asyncio.shield(channel.confirmed)
        except BaseException:
            await self._leave(subscription, quiet=True)
            raise
        return subscription

    async def _subscribe_on(
        self, ws: aiohttp.ClientWebSocketResponse, channels: list[_Channel]
    ) -> list[BaseException]:
        """Subscribe ``channels`` in one message (before login the exchange takes one message a
        second); the refusals, each also set on its channel. The exchange answers each channel
        in turn; a refusal does not name its channel, so answers are matched in order."""
        policy = self._policy
        remaining = list(channels)
        errors: list[BaseException] = []
        attempt = 0
        while remaining:
            attempt += 1
            message = {"op": "subscribe", "args": [c.name for c in remaining]}
            try:
                answers = await self._ask(ws, message, len(remaining), "subscribe")
            except TransportError as error:
                if attempt >= policy.attempts or ws is not self._ws:
                    raise
                log.info("stream %s: subscribe: %s; asking again", self.url, error)
                continue
            refused: list[tuple[_Channel, _Frame]] = []
            waiting = list(remaining)
            for frame in answers:
                named = frame.channel if isinstance(frame.channel, str) else None
                channel = next((c for c in waiting if c.name == named), None) or waiting[0]
                waiting.remove(channel)
                if frame.success:
                    channel.confirm(frame.timestamp)
                else:
                    refused.append((channel, frame))
            remaining = []
            for channel, frame in refused:
                code = _text(frame.code)
                if code in _RATE_CODES and attempt < policy.attempts:
                    remaining.append(channel)  # too rapid: ask again after the wait
                    continue
                refusal = error_from_code(
                    code, frame.message, endpoint=f"WebSocket subscribe {channel.name}"
                )
                channel.refuse(refusal)
                errors.append(refusal)
            if remaining:
                await asyncio.sleep(max(_UNAUTH_GAP, policy.wait_after(None, attempt)))
        return errors

    async def _leave(self, subscription: Subscription, *, quiet: bool = False) -> None:
        gone = []
        for name in subscription.channels:
            channel = self._channels.get(name)
            if channel is None or subscription not in channel.readers:
                continue
            channel.readers.remove(subscription)
            self._forget_sinks()
            if not channel.readers:
                del self._channels[name]
                self._clear_routes()
                if not channel.confirmed.done():
                    channel.confirmed.cancel()
                gone.append(name)
        ws = self._ws
        if gone and ws is not None and not ws.closed and not self._closed:
            # Nobody waits for the acknowledgement: an unknown tag's answer is ignored.
            message = {"op": "unsubscribe", "tag": str(next(self._tags)), "args": gone}
            try:
                await ws.send_str(_encode(message).decode())
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                if not quiet:
                    log.debug("stream %s: unsubscribe not sent: %s", self.url, exc)

    async def _restore(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """After a reconnect: log in again, subscribe every channel again; private channels
        then yield a fresh snapshot, trade channels their backfill, before new updates."""
        if self._wants_login:
            await self._login(ws)
        channels = list(self._channels.values())
        if not channels:
            return
        loop = asyncio.get_running_loop()
        for channel in channels:
            if not (channel.table.private or channel.is_trade):
                continue
            if channel.pending is None or channel.pending.done():
                # In each reader's queue before any update of the new connection can arrive.
                channel.pending = loop.create_future()
                deferred = _Deferred(channel.pending)
                for reader in channel.readers:
                    reader._queue.append(deferred)
                    reader._wake()
        errors = await self._subscribe_on(ws, channels)
        for channel in channels:
            if channel.refused is not None:
                for reader in channel.readers:
                    reader._end(channel.refused)
                if channel.pending is not None and not channel.pending.done():
                    channel.pending.set_result([])
        private = [c for c in channels if c.table.private and c.refused is None]
        if private:
            self._spawn(self._resync(private))
        for channel in channels:
            if channel.is_trade and channel.refused is None:
                self._spawn(self._backfill(channel))
        if errors:
            log.warning("stream %s: resubscribing refused: %s", self.url, errors[0])

    async def _resync(self, channels: list[_Channel]) -> None:
        """One REST snapshot for every private channel, each yielding it as ``Resynced``."""
        try:
            snapshot = await self._client.private.snapshot()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            for channel in channels:
                if channel.pending is not None and not channel.pending.done():
                    channel.pending.set_exception(error)
                    channel.pending.exception()
            return
        for channel in channels:
            if channel.pending is not None and not channel.pending.done():
                channel.pending.set_result([Resynced(channel=channel.name, snapshot=snapshot)])

    async def _backfill(self, channel: _Channel) -> None:
        """The trades of ``channel``'s market missed while down, from REST, each only once."""
        try:
            since = channel.last_trade_time or channel.since
            found: list[TradeEvent] = []
            if since is not None:
                found = await self._trades_since(channel.name.partition(":")[2], since)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if channel.pending is not None and not channel.pending.done():
                channel.pending.set_exception(error)
                channel.pending.exception()
            return
        if channel.pending is not None and not channel.pending.done():
            channel.pending.set_result(channel.fresh(found))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _trades_since(self, market: str, since: int) -> list[TradeEvent]:
        public = self._client.public
        end = time.time_ns() // 1_000_000 + 5_000  # the exchange's clock may run a little ahead
        start = since
        found: dict[str, PublicTrade] = {}
        while True:
            page = await public.trades(
                market, limit=_PUBLIC_TRADES_LIMIT, start_time=start, end_time=end
            )
            new = [t for t in page if t.match_id not in found]
            for trade in new:
                found[trade.match_id] = trade
            if len(page) < _PUBLIC_TRADES_LIMIT or not new:
                break
            # A full page: walk on from its far edge (pages may come newest or oldest first).
            times = [t.match_timestamp for t in page]
            if page[0].match_timestamp >= page[-1].match_timestamp:
                end = min(times)
            else:
                start = max(times)
        trades = sorted(found.values(), key=lambda t: (t.match_timestamp, _id_key(t.match_id)))
        return [
            TradeEvent(
                trade_id=t.match_id,
                price=t.match_price,
                quantity=t.match_quantity,
                side=t.side,
                market_code=market,
                timestamp=t.match_timestamp,
            )
            for t in trades
        ]

    # -- order commands --------------------------------------------------------------------

    async def place_order(
        self,
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
        **order: Unpack[NewOrderDict],
    ) -> OrderResult:
        """Place one order over the WebSocket (arguments as ``private.place_order``);
        ``OrderRejectedError`` if the exchange says ``submitted: false``."""
        wire = [to_wire_new(order, 0, self._ids)]
        (result,) = await self._orders(PLACE, "placeorder", wire, recv_window, response_type)
        return _accepted(result, "placeorder")

    async def place_orders(
        self,
        orders: Iterable[NewOrder | NewOrderDict],
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
    ) -> list[OrderResult]:
        """Place orders (``placeorders``); one result per order, in input order."""
        wire = [to_wire_new(order, i, self._ids) for i, order in enumerate(listed_orders(orders))]
        return await self._orders(PLACE, "placeorders", wire, recv_window, response_type)

    async def modify_order(
        self,
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
        **order: Unpack[ModifyOrderDict],
    ) -> OrderResult:
        """Modify one order (``modifyorder``); ``OrderRejectedError`` if refused."""
        (result,) = await self._orders(
            MODIFY, "modifyorder", [to_wire_modify(order, 0)], recv_window, response_type
        )
        return _accepted(result, "modifyorder")

    async def modify_orders(
        self,
        orders: Iterable[ModifyOrder | ModifyOrderDict],
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
    ) -> list[OrderResult]:
        """Modify orders (``modifyorders``); one result per order, in input order."""
        wire = [to_wire_modify(order, i) for i, order in enumerate(listed_orders(orders))]
        return await self._orders(MODIFY, "modifyorders", wire, recv_window, response_type)

    async def cancel_order(
        self,
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
        **order: Unpack[CancelOrderDict],
    ) -> OrderResult:
        """Cancel one order (``cancelorder``); ``OrderRejectedError`` if refused."""
        (result,) = await self._orders(
            CANCEL, "cancelorder", [to_wire_cancel(order, 0)], recv_window, response_type
        )
        return _accepted(result, "cancelorder")

    async def cancel_orders(
        self,
        orders: Iterable[CancelOrder | CancelOrderDict],
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
    ) -> list[OrderResult]:
        """Cancel orders (``cancelorders``); one result per order, in input order."""
        wire = [to_wire_cancel(order, i) for i, order in enumerate(listed_orders(orders))]
        return await self._orders(CANCEL, "cancelorders", wire, recv_window, response_type)

    async def _orders(
        self,
        kind: OrderKind,
        op: str,
        wire: Sequence[WireOrder],
        recv_window: int | None,
        response_type: object,
    ) -> list[OrderResult]:
        # Checked as REST checks it; the exchange's WebSocket commands have no responseType
        # and always answer in full.
        check_response_type(response_type)
        self._check_open()
        if self._credentials is None:
            raise AuthenticationError(
                "order commands need api_key and api_secret",
                status=None,
                endpoint=f"WebSocket {op}",
            )
        window = self._window(recv_window)
        single = op.rstrip("s")  # the batch ops answer with the single op's event
        batch = op != single

        async def send(
            to_send: Sequence[WireOrder], leaving: Callable[[], None]
        ) -> list[OrderResult]:
            return await self._command(op if batch else single, to_send, window, leaving)

        run = self._recovery.run
        where = f"WebSocket {op}"
        if len(wire) <= MAX_BATCH:
            return await run(kind, wire, send, recv_window=window, where=where, stop=self._stop)
        chunks = [wire[i : i + MAX_BATCH] for i in range(0, len(wire), MAX_BATCH)]
        outcomes = await asyncio.gather(
            *(run(kind, c, send, recv_window=window, where=where, stop=self._stop) for c in chunks),
            return_exceptions=True,
        )
        return gather_batch(chunks, outcomes)

    async def _command(
        self, op: str, orders: Sequence[WireOrder], recv_window: int, leaving: Callable[[], None]
    ) -> list[OrderResult]:
        """One order command on the wire; its answers, one per order, in the order sent."""
        self._check_open()
        ws = await self._until_ready()
        await self._login(ws)
        # Tokens are taken just before sending: taken earlier, while a reconnect holds the
        # command back, they would let a burst out when it is done. Cancels take them too: the
        # exchange also counts messages (50 per second).
        await self._take_tokens(len(orders))
        if ws is not self._ws:  # reconnected while waiting for tokens: send on the new one
            ws = await self._until_ready()
            await self._login(ws)
        timestamp = time.time_ns() // 1_000_000
        items = []
        for order in orders:
            item = msgspec.to_builtins(order)
            item["timestamp"] = timestamp
            item["recvWindow"] = recv_window
            items.append(item)
        if op.endswith("s"):
            message: dict[str, Any] = {"op": op, "dataArray": items}
        else:
            message = {"op": op, "data": items[0]}
        frames = await self._ask(ws, message, len(orders), op, leaving)
        results = [_result(frame) for frame in frames]
        return match_answers(orders, results, f"WebSocket {op}")

    async def _take_tokens(self, count: int) -> None:
        limiter = self._transport.limiter
        if limiter is None:
            return
        assert self._stop is not None
        stop = self._stop
        for _ in range(count):
            try:
                await limiter.acquire((WS_ORDERS,), lambda: stop)
            except TransportError:
                raise StreamClosedError("the stream was closed while an order waited") from None

    def _window(self, recv_window: int | None) -> int:
        if recv_window is None:
            return self._recv_window
        if isinstance(recv_window, bool) or not isinstance(recv_window, int):
            raise ValidationError("recv_window must be an int (ms)")
        if not 0 < recv_window <= 3_600_000:
            raise ValidationError("recv_window must be from 1 to 3600000 ms")
        return recv_window


# -- helpers ------------------------------------------------------------------------------------

# Reconnect waits when the client was made with retry=None.
_RECONNECT_POLICY = RetryPolicy()


def _history_route() -> Any:
    from .resources.private import _ORDERS

    return _ORDERS


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _id_key(value: str) -> tuple[int, str]:
    return (len(value), value)  # numeric IDs compare by length first


def _result(frame: _Frame) -> OrderResult:
    """An order command's answer as the ``OrderResult`` REST gives."""
    data = _ReplyData()
    if frame.data:
        with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
            data = _reply_decoder.decode(frame.data)
    success = frame.submitted if frame.submitted is not None else bool(frame.success)
    order_id = data.order_id if data.order_id is not None else data.order_id_upper
    return msgspec.convert(
        {
            "success": success,
            "timestamp": _text(frame.timestamp),
            "code": _text(frame.code),
            "message": frame.message,
            "clientOrderId": _text(data.client_order_id),
            "orderId": _text(order_id),
            "marketCode": data.market_code,
            "side": data.side,
            "orderType": data.order_type,
            "timeInForce": data.time_in_force,
            "price": _text(data.price),
            "quantity": _text(data.quantity),
            "remainQuantity": _text(data.remain_quantity),
            "status": data.status,
        },
        OrderResult,
        strict=False,
    )


def _accepted(result: OrderResult, op: str) -> OrderResult:
    if not result.success:
        raise OrderRejectedError(
            result.message,
            status=None,
            code=result.code,
            endpoint=f"WebSocket {op}",
            client_order_id=result.client_order_id,
            result=result,
        )
    return result


def decode_update(raw: bytes | str) -> list[Any]:
    """The typed events of one channel update (a frame with a ``table``) exactly as a
    subscription yields them, through the channels' own decoders; ``[]`` for any other frame
    (an answer, a ``pong``, an unknown table). A known table whose ``data`` is not the
    documented shape raises ``msgspec.ValidationError``/``DecodeError``. For recordings
    (``coinflex_async._recording``), which must not keep a second set of decoders."""
    try:
        frame = _frame_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return []
    if frame.table is None or not frame.data:
        return []
    table = _TABLES.get(_prefix(frame.table))
    return [] if table is None else list(table.decoder.decode(frame.data))
