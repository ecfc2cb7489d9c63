"""What ``Replay`` plays: recorded trades (and books), read row by row from a file.

Three layouts, each recognised by its first line:

- CSV with the header ``timestamp,price,quantity,side`` (ms since the epoch; the taker's side,
  ``buy``/``sell``);
- Binance's public-data trades files, no header: ``id,price,qty,quote_qty,time,is_buyer_maker``
  (and ``is_best_match`` in older files); ``time`` in ms, or in us in the newer files (told
  apart by size: us since 1970 have 16 digits, ms 13); ``is_buyer_maker`` true means the taker
  sold;
- a recording of ``coinflex record`` (JSON lines ``{"t": ns, "msg": text}``, possibly gzip):
  its trades and its depth books, timed by when they were received, decoded by the client's
  own stream decoders.

Files are read a line at a time (a gzip one too): memory stays flat however long they are.
A row that does not parse, or that goes back in time, raises ``ReplayError`` naming the file
and the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from os import PathLike
from typing import NamedTuple

from .._errors import ValidationError
from .._recording import decode_line, iter_recording, open_input
from ..models.stream import DepthEvent, TradeEvent

__all__ = [
    "BookRow",
    "ReplayError",
    "Row",
    "TradeRow",
    "detect_layout",
    "read_rows",
    "recorded_market",
]

Path = str | PathLike[str]

CSV = "csv"
BINANCE = "binance"
RECORDING = "recording"

_CSV_HEADER = "timestamp,price,quantity,side"
_MICROSECONDS = 10**14  # a time at or above this is in us (ms reach it in the year 5138)
_SIDES = {"buy": "BUY", "sell": "SELL"}
_BOOLS = {"true": True, "false": False}


class ReplayError(ValueError):
    """A replay source that cannot be played; the message names the file and the line."""


class TradeRow(NamedTuple):
    at_ns: int  # the recorded time
    price: Decimal
    quantity: Decimal
    side: str  # the taker's: BUY or SELL
    line: int


class BookRow(NamedTuple):
    at_ns: int
    bids: list[tuple[Decimal, Decimal]]  # (price, quantity), best first
    asks: list[tuple[Decimal, Decimal]]
    line: int


Row = TradeRow | BookRow


def _first_line(path: Path) -> tuple[int, str]:
    try:
        with open_input(path) as file:
            for number, raw in enumerate(file, 1):
                if raw.strip():
                    return number, raw.decode("utf-8", errors="replace").strip()
    except OSError as error:
        raise ReplayError(f"{path}: cannot read: {error}") from None
    raise ReplayError(f"{path}: empty: no trades to replay")


def detect_layout(path: Path) -> str:
    """``csv``, ``binance`` or ``recording``, from the first line; else ``ReplayError``."""
    number, line = _first_line(path)
    if line.startswith("{"):
        return RECORDING
    if line.replace(" ", "").lower() == _CSV_HEADER:
        return CSV
    fields = line.split(",")
    if len(fields) in (6, 7) and fields[0].isdigit() and fields[5].lower() in _BOOLS:
        return BINANCE
    raise ReplayError(
        f"{path}:{number}: unknown layout: expected the header {_CSV_HEADER!r}, Binance's "
        "trades rows (id,price,qty,quote_qty,time,is_buyer_maker[,is_best_match]) or a "
        f"recording of `coinflex record`; got {line[:80]!r}"
    )


def read_rows(path: Path, market_code: str | None = None) -> Iterator[Row]:
    """The source's rows in time order (a recording's: those of ``market_code``, default
    its first market)."""
    layout = detect_layout(path)
    rows = _recording_rows(path, market_code) if layout == RECORDING else _text_rows(path, layout)
    previous = -1
    for row in rows:
        if row.at_ns < previous:
            raise ReplayError(
                f"{path}:{row.line}: out of order: its time is before the previous row's "
                "(a source must be sorted by time)"
            )
        previous = row.at_ns
        yield row


def _text_rows(path: Path, layout: str) -> Iterator[TradeRow]:
    parse = _csv_row if layout == CSV else _binance_row
    with open_input(path) as file:
        for number, raw in enumerate(file, 1):
            text = raw.decode("utf-8", errors="replace").strip()
            if not text or (number == 1 and layout == CSV):
                continue
            try:
                yield parse(text.split(","), number)
            except (ValueError, InvalidOperation, KeyError) as error:
                raise ReplayError(f"{path}:{number}: {error}: {text[:80]!r}") from None


def _positive(text: str, what: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{what} must be a positive number")
    return value


def _csv_row(fields: list[str], number: int) -> TradeRow:
    if len(fields) != 4:
        raise ValueError(f"expected 4 fields ({_CSV_HEADER}), got {len(fields)}")
    stamp, price, quantity, side = fields
    taker = _SIDES.get(side.strip().lower())
    if taker is None:
        raise ValueError("side must be buy or sell")
    return TradeRow(
        int(stamp) * 1_000_000, _positive(price, "price"), _positive(quantity, "quantity"),
        taker, number,
    )  # fmt: skip


def _binance_row(fields: list[str], number: int) -> TradeRow:
    if len(fields) not in (6, 7):
        raise ValueError(f"expected 6 or 7 fields (Binance trades), got {len(fields)}")
    stamp = int(fields[4])
    buyer_maker = _BOOLS.get(fields[5].strip().lower())
    if buyer_maker is None:
        raise ValueError("is_buyer_maker must be true or false")
    at_ns = stamp * 1_000 if stamp >= _MICROSECONDS else stamp * 1_000_000
    return TradeRow(
        at_ns, _positive(fields[1], "price"), _positive(fields[2], "qty"),
        "SELL" if buyer_maker else "BUY", number,
    )  # fmt: skip


def recorded_market(path: Path) -> str:
    """The market of a recording's first trade or book."""
    for _, _, market, _ in _market_events(path):
        return market
    raise ReplayError(f"{path}: no trades or books in this recording")


def _market_events(path: Path) -> Iterator[tuple[int, int, str, TradeEvent | DepthEvent]]:
    """(line, receive ns, market, event) of a recording's trades and books."""
    try:
        for number, received, text in iter_recording(path):
            for event in decode_line(path, number, text):
                if isinstance(event, TradeEvent):
                    yield number, received, event.market_code, event
                elif isinstance(event, DepthEvent):
                    yield number, received, event.instrument_id, event
    except ValidationError as error:
        raise ReplayError(str(error)) from None


def _recording_rows(path: Path, market_code: str | None) -> Iterator[Row]:
    for number, received, market, event in _market_events(path):
        if market_code is None:
            market_code = market
        if market != market_code:
            continue
        if isinstance(event, TradeEvent):
            side = _SIDES.get(event.side.lower())
            if side is None:
                raise ReplayError(f"{path}:{number}: a trade's side is {event.side!r}")
            yield TradeRow(received, event.price, event.quantity, side, number)
        else:
            yield BookRow(
                received,
                [(level.price, level.quantity) for level in event.bids],
                [(level.price, level.quantity) for level in event.asks],
                number,
            )
