"""The exchange's WebSocket language, with no I/O: the URL, frames, the tables a channel's
updates arrive in and how each decodes, a command's answer as a result, the login message.

Everything here is a pure function of its input (or a constant built at import), so the rooms
that do I/O (``connection``, ``session``) and the router share one reading of the docs."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any, Literal, get_args

import msgspec
from yarl import URL

from .._errors import ValidationError
from .._signing import Credentials, ws_login_data
from ..models import Balance, OrderResult, Position
from ..models._values import _OrderTypeField, _SideField
from ..models.stream import (
    CandleEvent,
    DepthEvent,
    LiquidationEvent,
    MarketEvent,
    OrderEvent,
    OrderFailureEvent,
    TickerEvent,
    TradeEvent,
)

__all__ = [
    "DEPTH",
    "DEPTH_LEVELS",
    "DEPTH_SIZES",
    "LARGE_MESSAGE",
    "ORDER_FAILURES",
    "RATE_CODES",
    "TABLES",
    "Frame",
    "Table",
    "encode",
    "failure_event",
    "frame_decoder",
    "decode_update",
    "login_message",
    "order_result",
    "prefix",
    "table_for",
    "table_named",
    "text",
    "ws_url",
    "CANDLE_SECONDS",
    "CandleSeconds",
    "DepthLevel",
    "candles_channel",
    "channel",
    "depth_channel",
]

RATE_CODES = frozenset({"20007"})  # "too rapid": asked again after a wait
LARGE_MESSAGE = 2048  # bytes: an update this large lets readers run before the next one
ORDER_FAILURES = frozenset({"CANCEL", "AMEND"})


def ws_url(base_url: str) -> str:
    """``wss://HOST/v2/websocket`` for https, ``ws://HOST:PORT/v2/websocket`` for http."""
    url = URL(base_url)
    return str(url.with_scheme("wss" if url.scheme == "https" else "ws").with_path("/v2/websocket"))


class Frame(msgspec.Struct, gc=False):
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
    side: _SideField | None = None  # typed as the docs list it, decoded as str
    order_type: _OrderTypeField | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    remain_quantity: Decimal | None = None
    timestamp_epoch_ms: int | None = None


_failure_decoder = msgspec.json.Decoder(_FailureData, strict=False)
frame_decoder = msgspec.json.Decoder(Frame, strict=False)
_reply_decoder = msgspec.json.Decoder(_ReplyData, strict=False)
encode = msgspec.json.Encoder().encode


class Table:
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
        # decode to the reader's task (see readers.Lazy). Reading the market with a decoder
        # that skips the rest took 4.6 us of a 27 us L25 book; the search takes well under 1 us.
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


DEPTH = Table(DepthEvent, "instrument_id", conflate=True, private=False, lazy=True)
# Depth channels, fewest levels first (the whole book last).
DEPTH_LEVELS = (("depthL5", 5), ("depthL10", 10), ("depthL25", 25), ("depth", 10**9))
DEPTH_SIZES = dict(DEPTH_LEVELS)
TABLES: dict[str, Table] = {
    "depth": DEPTH,
    "depthL5": DEPTH,
    "depthL10": DEPTH,
    "depthL25": DEPTH,
    "trade": Table(TradeEvent, "market_code", conflate=False, private=False),
    "ticker": Table(TickerEvent, "market_code", conflate=True, private=False),
    "candles": Table(CandleEvent, "market_code", conflate=True, private=False),
    "market": Table(MarketEvent, "market_code", conflate=True, private=False),
    "liquidationRFQ": Table(LiquidationEvent, None, conflate=False, private=False),
    "order": Table(OrderEvent, "market_code", conflate=False, private=True),
    "balance": Table(Balance, "instrument_id", conflate=False, private=True),
    "position": Table(Position, "instrument_id", conflate=False, private=True),
}


def prefix(channel_or_table: str) -> str:
    """``depthL10:M`` -> ``depthL10``; ``candles60s:M`` and table ``candle60s`` -> ``candles``."""
    name = channel_or_table.partition(":")[0]
    return "candles" if name.startswith("candle") else name


# Table name as sent -> its table and channel prefix (filled as names are seen).
_BY_TABLE_NAME: dict[bytes, tuple[Table, str]] = {}


def channel_prefix(table_name: str) -> str:
    """The channel prefix a ``table`` name's updates are for: the name itself, except that a
    candle table names its period as ``candle60s`` (the docs' example) or ``candles60s``
    while its channel is ``candles60s:M``."""
    if table_name.startswith("candle"):
        period = table_name[6:]
        return "candles" + (period[1:] if period.startswith("s") else period)
    return table_name


def table_named(name: bytes) -> tuple[Table, str] | None:
    """The table and channel prefix of a ``table`` name as sent (remembered, bounded)."""
    known = _BY_TABLE_NAME.get(name)
    if known is not None:
        return known
    text_name = name.decode(errors="replace")
    table = TABLES.get(prefix(text_name))
    if table is None or len(_BY_TABLE_NAME) > 1000:
        return None
    _BY_TABLE_NAME[name] = known = (table, channel_prefix(text_name))
    return known


def table_for(channel: str) -> Table:
    """The table of a channel string as the docs write it; ValidationError for anything else."""
    if not isinstance(channel, str) or not channel or channel != channel.strip():
        raise ValidationError(f"not a channel: {channel!r}")
    table = TABLES.get(prefix(channel))
    _, sep, key = channel.partition(":")
    if table is None or (table.key is None) != (not sep) or (sep and not key):
        raise ValidationError(f"unknown channel {channel!r} (see the WebSocket docs' channels)")
    return table


# The candle granularities the docs list (``candles<seconds>s:M``).
CandleSeconds = Literal[60, 180, 300, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400]
CANDLE_SECONDS: frozenset[int] = frozenset(get_args(CandleSeconds))
DepthLevel = Literal[5, 10, 25]


def channel(prefix_: str, key: object, what: str) -> str:
    """``prefix:key`` for a typed subscription; ValidationError for a key that is not one."""
    if not isinstance(key, str) or not key or key != key.strip() or ":" in key:
        raise ValidationError(f"{what} must be a non-empty str such as 'BTC-USD-SWAP-LIN'")
    return f"{prefix_}:{key}"


def depth_channel(market_code: str, level: DepthLevel | None) -> str:
    """``depth:M`` (the whole book) or ``depthL<level>:M``."""
    if level is not None and (isinstance(level, bool) or level not in (5, 10, 25)):
        raise ValidationError(f"level must be None, 5, 10 or 25, not {level!r}")
    return channel("depth" if level is None else f"depthL{level}", market_code, "market_code")


def candles_channel(market_code: str, seconds: CandleSeconds) -> str:
    """``candles<seconds>s:M``, for the granularities the docs list."""
    if isinstance(seconds, bool) or seconds not in CANDLE_SECONDS:
        listed = ", ".join(str(s) for s in sorted(CANDLE_SECONDS))
        raise ValidationError(f"seconds must be one of {listed}, not {seconds!r}")
    return channel(f"candles{seconds}s", market_code, "market_code")


def text(value: object) -> str | None:
    return None if value is None else str(value)


def failure_event(frame: Frame) -> OrderFailureEvent:
    """A CANCEL/AMEND failure notice as the event order channels yield (DecodeError or
    ValidationError when its ``data`` is not the documented shape)."""
    data = _failure_decoder.decode(frame.data)
    return OrderFailureEvent(
        event=str(frame.event),
        code=text(frame.code),
        message=frame.message,
        status=data.status,
        order_id=text(data.order_id),
        client_order_id=text(data.client_order_id),
        market_code=data.market_code,
        side=data.side,
        order_type=data.order_type,
        price=data.price,
        quantity=data.quantity,
        remain_quantity=data.remain_quantity,
        timestamp=data.timestamp_epoch_ms or None,
    )


def order_result(frame: Frame, as_type: type[OrderResult] = OrderResult) -> OrderResult:
    """An order command's answer as the ``OrderResult`` REST gives; ``as_type``
    ``AcceptedOrder`` for a single-order command (the same fields at run time: REST decodes a
    single order's answer so too, and reading it as accepted then costs no copy)."""
    data = _ReplyData()
    if frame.data:
        with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
            data = _reply_decoder.decode(frame.data)
    success = frame.submitted if frame.submitted is not None else bool(frame.success)
    order_id = data.order_id if data.order_id is not None else data.order_id_upper
    return msgspec.convert(
        {
            "success": success,
            "timestamp": text(frame.timestamp),
            "code": text(frame.code),
            "message": frame.message,
            "clientOrderId": text(data.client_order_id),
            "orderId": text(order_id),
            "marketCode": data.market_code,
            "side": data.side,
            "orderType": data.order_type,
            "timeInForce": data.time_in_force,
            "price": text(data.price),
            "quantity": text(data.quantity),
            "remainQuantity": text(data.remain_quantity),
            "status": data.status,
        },
        as_type,
        strict=False,
    )


def login_message(credentials: Credentials, timestamp_ms: int) -> dict[str, Any]:
    """The docs' ``login`` message, signed by ``_signing`` (where every signature lives)."""
    return {"op": "login", "data": ws_login_data(credentials, timestamp_ms)}


def decode_update(raw: bytes | str) -> list[Any]:
    """The typed events of one channel update (a frame with a ``table``) exactly as a
    subscription yields them, through the channels' own decoders; ``[]`` for any other frame
    (an answer, a ``pong``, an unknown table). A known table whose ``data`` is not the
    documented shape raises ``msgspec.ValidationError``/``DecodeError``. For recordings
    (``coinflex_async._recording``), which must not keep a second set of decoders."""
    try:
        frame = frame_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return []
    if frame.table is None or not frame.data:
        return []
    table = TABLES.get(prefix(frame.table))
    return [] if table is None else list(table.decoder.decode(frame.data))
