"""``Replay``: recorded trades (and books) as the simulator's market, a ``MarketDriver``.

Each recorded trade prints with its recorded price, quantity and taker side
(``Venue.print_trade``) at ``speed`` times the recorded pace on the simulator's clock; users'
resting orders on the other side at or through its price fill from it, up to its quantity.
The book users' takers meet is the recording's own (its depth books, shown by the house maker
level for level), or else the house maker's quotes around the last price. The source is read
a row at a time (``_replay_sources``): memory stays flat however long it is.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from ._replay_sources import (
    RECORDING,
    BookRow,
    ReplayError,
    Row,
    TradeRow,
    detect_layout,
    recorded_market,
)
from ._replay_sources import read_rows as _read_rows

if TYPE_CHECKING:
    from ._book import Market
    from ._drivers import HouseAccount, Venue

__all__ = ["Replay", "ReplayError"]

_LEVELS = 10  # house quotes a side when the source has no books
_QUOTE_STEP = Decimal("0.0005")  # house ladder spacing, of the first price
_QUOTE_LOTS = 1000  # quote size in qtyIncrements (as Simulator.add_liquidity)

Levels = list[tuple[Decimal, Decimal]]


class Replay:
    """Recorded trades as the market: ``Simulator(market=Replay("trades.csv",
    market_code="BTC-USD-SWAP-LIN", speed=10))``.

    ``source``: a CSV with the header ``timestamp,price,quantity,side`` (ms; the taker's side
    buy/sell), Binance's public-data trades file (``id,price,qty,quote_qty,time,
    is_buyer_maker[,is_best_match]``, time in ms or us), or a recording of ``coinflex record``
    (its trades and depth books). ``market_code``: the simulator's market to play them in
    (default for a recording: its first market; required otherwise). ``speed``: times the
    recorded pace. ``loop``: start again at the end, shifted in time by the file's span.
    ``keep_trades``: the market keeps about the newest this many public trades for the history
    endpoints (None: all; a long replay's memory then grows with it).

    The whole file is checked (a streamed pass) when the simulator attaches the replay:
    a malformed or unsorted row, or a price or quantity off the market's grid, raises
    ``ReplayError`` naming the file and the line. ``printed``, ``books`` and ``max_behind``
    (seconds the latest row was played after its time, on the real clock) say how it went.
    """

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        market_code: str | None = None,
        speed: float = 1.0,
        loop: bool = False,
        keep_trades: int | None = 50_000,
    ) -> None:
        if isinstance(speed, bool) or not isinstance(speed, (int, float)):
            raise ReplayError("speed must be a number")
        if not math.isfinite(speed) or speed <= 0:
            raise ReplayError("speed must be above 0")
        self.source = os.fspath(source)
        self.layout = detect_layout(self.source)
        if market_code is None:
            if self.layout != RECORDING:
                raise ReplayError(f"{self.source}: market_code is needed to replay a {self.layout}")
            market_code = recorded_market(self.source)
        self.market_code: str = market_code
        self.speed = float(speed)
        self.loop = bool(loop)
        if keep_trades is not None and (isinstance(keep_trades, bool) or keep_trades < 1):
            raise ReplayError("keep_trades must be a positive int or None")
        self.keep_trades = keep_trades
        self.printed = 0
        self.books = 0
        self.max_behind = 0.0
        self._venue: Venue | None = None
        self._quotes: _Quotes | None = None
        self._rows: Iterator[Row] = iter(())
        self._next: Row | None = None
        self._origin_ns = 0
        self._span_ns = 0
        self._shift_ns = 0
        self._start: float | None = None  # sim clock of the first row: when first asked
        self._house_quotes = True  # the source has no books: quote around the last price
        self._step = Decimal(1)  # the house ladder's spacing (set at attach)
        self._quote_size = Decimal(1)
        self._quoted: tuple[Decimal, Decimal] | None = None  # its best bid and ask, in steps

    def __repr__(self) -> str:
        return (
            f"Replay({self.source!r}, market_code={self.market_code!r}, speed={self.speed}, "
            f"loop={self.loop})"
        )

    # -- MarketDriver --------------------------------------------------------------------------

    def attach(self, venue: Venue) -> None:
        if self._venue is not None:
            raise RuntimeError("a Replay plays in one simulator only")
        first = self._check(venue)
        self._venue = venue
        self._quotes = _Quotes(venue.maker, self.market_code)
        venue.set_mark_price(self.market_code, first.price)
        venue.keep_trades(self.market_code, self.keep_trades)
        self._open()
        if self._house_quotes:
            market = venue.market(self.market_code)
            tick = market.tick_size
            # 0.05% of the first price on the tick grid, as Simulator.add_liquidity spaces them.
            self._step = max(tick, (first.price * _QUOTE_STEP / tick).to_integral_value() * tick)
            self._quote_size = market.qty_increment * _QUOTE_LOTS
            self._quote_around(first.price)

    def next_due(self) -> float | None:
        if self._start is None:
            # The scheduler asks first when the simulator starts (or, under a ManualClock, at
            # the first advance): the first row prints then, not when the simulator was built.
            assert self._venue is not None
            self._start = self._venue.clock()
        return None if self._next is None else self._due(self._next)

    def act(self, now: float) -> None:
        venue = self._venue
        assert venue is not None
        while self._next is not None and (due := self._due(self._next)) <= now:
            row = self._next
            self.max_behind = max(self.max_behind, now - due)
            if isinstance(row, TradeRow):
                venue.print_trade(self.market_code, row.price, row.quantity, row.side)
                self.printed += 1
            else:
                self._show_book(row)
            self._advance()
        if self._house_quotes:
            last = venue.market(self.market_code).last_price
            if last is not None:
                self._quote_around(last)

    # -- the source ----------------------------------------------------------------------------

    def _check(self, venue: Venue) -> TradeRow:
        """One streamed pass over the whole source: every row parses, is in time order and
        on the market's grid. Returns the first trade."""
        first: TradeRow | None = None
        last_ns = count = 0
        market: Market | None = None
        for row in _read_rows(self.source, self.market_code):
            if market is None:
                market = self._market(venue)
                self._origin_ns = row.at_ns
            if isinstance(row, TradeRow):
                _on_grid(self.source, row.line, market, [(row.price, row.quantity)])
                first = first or row
            else:
                _on_grid(self.source, row.line, market, row.bids + row.asks)
                self._house_quotes = False
            last_ns = row.at_ns
            count += 1
        if first is None:
            raise ReplayError(f"{self.source}: no trades to replay")
        self._span_ns = last_ns - self._origin_ns
        # Looping: the next round starts one mean interval after the last row.
        self._span_ns += max(self._span_ns // max(count - 1, 1), 1_000_000)
        return first

    def _market(self, venue: Venue) -> Market:
        if self.market_code not in venue.market_codes:
            raise ReplayError(
                f"{self.source}: market {self.market_code} is not one of the simulator's"
            )
        return venue.market(self.market_code)

    def _open(self) -> None:
        self._rows = _read_rows(self.source, self.market_code)
        self._next = next(self._rows, None)

    def _advance(self) -> None:
        self._next = next(self._rows, None)
        if self._next is None and self.loop:
            self._shift_ns += self._span_ns
            self._open()

    def _due(self, row: Row) -> float:
        assert self._start is not None
        return self._start + (row.at_ns + self._shift_ns - self._origin_ns) / 1e9 / self.speed

    # -- the book ------------------------------------------------------------------------------

    def _show_book(self, row: BookRow) -> None:
        assert self._quotes is not None
        self._quotes.show(row.bids, row.asks)
        self.books += 1

    def _quote_around(self, last: Decimal) -> None:
        """The house maker's ladder around the last price, on a fixed grid (``_step``): the
        best bid the grid price below the last price, the best ask the one above. It moves only
        when the last price reaches one of them, and then only the levels that changed are
        replaced: a price hovering about a grid line costs no orders (the engine keeps every
        order it took: few house orders keep a long replay's memory flat)."""
        assert self._quotes is not None
        step = self._step
        if self._quoted is not None and self._quoted[0] * step < last < self._quoted[1] * step:
            return
        ratio = last / step
        bid = ratio.to_integral_value(rounding=ROUND_CEILING) - 1
        ask = ratio.to_integral_value(rounding=ROUND_FLOOR) + 1
        self._quoted = (bid, ask)
        size = self._quote_size
        bids = [((bid - i) * step, size) for i in range(_LEVELS) if bid - i > 0]
        asks = [((ask + i) * step, size) for i in range(_LEVELS)]
        self._quotes.show(bids, asks)


def _on_grid(source: str, line: int, market: Market, levels: Levels) -> None:
    for price, quantity in levels:
        if price % market.tick_size:
            raise ReplayError(
                f"{source}:{line}: price {price} is not a multiple of {market.code}'s tickSize "
                f"{market.tick_size} (give the Simulator a market with this grid: markets=...)"
            )
        if quantity % market.qty_increment:
            raise ReplayError(
                f"{source}:{line}: quantity {quantity} is not a multiple of {market.code}'s "
                f"qtyIncrement {market.qty_increment}"
            )


class _Quotes:
    """The house maker's resting orders in one market, changed level by level to a wanted
    book (MAKER_ONLY: a level that would cross a user's order is not shown, so users' resting
    orders fill only from replayed trades)."""

    def __init__(self, house: HouseAccount, market_code: str) -> None:
        self._house = house
        self._market_code = market_code
        self._orders: dict[tuple[str, Decimal], tuple[str, Decimal]] = {}

    def show(self, bids: Levels, asks: Levels) -> None:
        wanted = {("BUY", price): size for price, size in bids}
        wanted.update({("SELL", price): size for price, size in asks})
        house, code = self._house, self._market_code
        for key, (resting, size) in list(self._orders.items()):
            if wanted.get(key) != size or not house.is_open(resting):
                house.cancel(code, resting)
                del self._orders[key]
        for (side, price), size in wanted.items():
            if (side, price) not in self._orders and size > 0:
                order_id = house.place(code, side, size, price=price)
                if order_id is not None:
                    self._orders[side, price] = (order_id, size)
