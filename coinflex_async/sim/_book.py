"""Markets and their order books: price levels, the last trade, public trades and candles.

The matching itself (who trades with whom) is the engine's (``_engine.py``); this module only
keeps each market's state in order.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from ._markets import MarketSpec, MarketType
from ._numbers import ZERO, format_fixed

if TYPE_CHECKING:
    from ._accounts import Order, Position

__all__ = ["CANDLE_TIMEFRAMES", "BookSide", "Candle", "Market", "PublicTrade", "crosses"]

ONE = Decimal(1)

# GET /v2/candles timeframes, in seconds.
CANDLE_TIMEFRAMES: tuple[int, ...] = (60, 300, 900, 1800, 3600, 7200, 14400, 86400)


@dataclass(slots=True)
class PublicTrade:
    match_id: str
    quantity: Decimal
    price: Decimal
    taker_side: str
    timestamp: int


@dataclass(slots=True)
class Candle:
    start: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    currency_volume: Decimal


class BookSide:
    """One side of a book: price levels best-first, orders in each level in time order."""

    def __init__(self, *, is_bid: bool) -> None:
        self.is_bid = is_bid
        self._prices: list[Decimal] = []  # ascending
        # A dict keeps insertion order: the first order of a level is the oldest.
        self._levels: dict[Decimal, dict[str, Order]] = {}
        self._sizes: dict[Decimal, Decimal] = {}
        # Bumped on every change, so a depth snapshot can be reused while the side is unchanged.
        self.version = 0

    def __bool__(self) -> bool:
        return bool(self._prices)

    def best_price(self) -> Decimal | None:
        if not self._prices:
            return None
        return self._prices[-1] if self.is_bid else self._prices[0]

    def prices_best_first(self) -> Iterator[Decimal]:
        return reversed(self._prices) if self.is_bid else iter(self._prices)

    def first_order(self, price: Decimal) -> Order:
        return next(iter(self._levels[price].values()))

    def orders_at(self, price: Decimal) -> list[Order]:
        """The orders resting at ``price``, oldest first (a copy: safe to fill while walking)."""
        return list(self._levels[price].values())

    def level_size(self, price: Decimal) -> Decimal:
        return self._sizes[price]

    def add(self, order: Order) -> None:
        price = order.price
        assert price is not None
        level = self._levels.get(price)
        if level is None:
            level = self._levels[price] = {}
            self._sizes[price] = ZERO
            bisect.insort(self._prices, price)
        level[order.order_id] = order
        self._sizes[price] += order.remaining
        self.version += 1

    def reduce(self, order: Order, quantity: Decimal) -> None:
        assert order.price is not None
        self._sizes[order.price] -= quantity
        self.version += 1

    def remove(self, order: Order) -> None:
        price = order.price
        assert price is not None
        level = self._levels[price]
        del level[order.order_id]
        self._sizes[price] -= order.remaining
        self.version += 1
        if not level:
            del self._levels[price]
            del self._sizes[price]
            del self._prices[bisect.bisect_left(self._prices, price)]

    def contains(self, order: Order) -> bool:
        assert order.price is not None
        level = self._levels.get(order.price)
        return level is not None and order.order_id in level

    def depth(self, levels: int) -> list[tuple[Decimal, Decimal]]:
        return [
            (price, self._sizes[price])
            for price in itertools.islice(self.prices_best_first(), levels)
        ]


class Market:
    """A market's live state: book, stops, mark and last price, trades and candles."""

    def __init__(self, spec: MarketSpec, market_id: str) -> None:
        self.spec = spec
        self.code = spec.market_code
        self.market_id = market_id
        self.type = spec.type
        self.base = spec.base
        self.counter = spec.counter
        self.tick_size = spec.tick_size
        self.qty_increment = spec.qty_increment
        self.mark_price = spec.mark_price
        self.mark_updated = 0
        self.last_price: Decimal | None = None
        self.last_quantity: Decimal | None = None
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)
        # (stopPrice, sequence, order) sorted ascending; buy stops fire when the reference
        # price rises to them, sell stops when it falls to them.
        self.buy_stops: list[tuple[Decimal, int, Order]] = []
        self.sell_stops: list[tuple[Decimal, int, Order]] = []
        self.trades: list[PublicTrade] = []
        self.trade_times: list[int] = []
        # None: every public trade is kept; else about the newest this many (see keep_trades).
        self.max_trades: int | None = None
        self.candle_starts: dict[int, list[int]] = {tf: [] for tf in CANDLE_TIMEFRAMES}
        self.candles: dict[int, dict[int, Candle]] = {tf: {} for tf in CANDLE_TIMEFRAMES}
        self.positions: dict[str, Position] = {}  # by account id
        self.open_interest = ZERO
        # (mark price, lower, upper): the sanity bounds last worked out. The mark price moves
        # with each trade, and orders come several to a trade (a moving market's quotes).
        self._bounds: tuple[Decimal, Decimal, Decimal] | None = None

    @property
    def is_spot(self) -> bool:
        return self.type == MarketType.SPOT

    @property
    def reference_price(self) -> Decimal:
        """The price stop orders are triggered by: the last trade, else the mark price."""
        return self.last_price if self.last_price is not None else self.mark_price

    def price_bounds(self) -> tuple[Decimal, Decimal]:
        mark = self.mark_price
        bounds = self._bounds
        if bounds is not None and bounds[0] == mark:
            return bounds[1], bounds[2]
        band = self.spec.price_band
        if self.type == MarketType.REPO:
            lower, upper = self.mark_price - band, self.mark_price + band
        else:
            lower, upper = self.mark_price * (ONE - band), self.mark_price * (ONE + band)
        # Bounds are prices an order may use: round inwards onto the tick grid.
        tick = self.tick_size
        lower_ticks = (lower / tick).to_integral_value(rounding=ROUND_CEILING)
        upper_ticks = (upper / tick).to_integral_value(rounding=ROUND_FLOOR)
        lower, upper = (lower_ticks * tick).quantize(tick), (upper_ticks * tick).quantize(tick)
        self._bounds = (mark, lower, upper)
        return lower, upper

    def side_for(self, is_buy: bool) -> BookSide:
        return self.bids if is_buy else self.asks

    def format_price(self, price: Decimal) -> str:
        return format_fixed(price, self.tick_size)

    def format_quantity(self, quantity: Decimal) -> str:
        return format_fixed(quantity, self.qty_increment)

    def record_trade(
        self, quantity: Decimal, price: Decimal, taker_side: str, match_id: str, now: int
    ) -> None:
        self.last_price = price
        self.last_quantity = quantity
        # Simplification: the mark price follows the last trade.
        self.mark_price = price
        self.mark_updated = now
        self.trades.append(PublicTrade(match_id, quantity, price, taker_side, now))
        self.trade_times.append(now)
        if self.max_trades is not None and len(self.trades) >= self.max_trades * 5 // 4 + 1:
            # Dropped a quarter at a time: one list copy per max_trades / 4 trades.
            del self.trades[: -self.max_trades]
            del self.trade_times[: -self.max_trades]
        volume = price * quantity
        for timeframe in CANDLE_TIMEFRAMES:
            step = timeframe * 1000
            start = now - now % step
            candles = self.candles[timeframe]
            candle = candles.get(start)
            if candle is None:
                candles[start] = Candle(start, price, price, price, price, volume, quantity)
                starts = self.candle_starts[timeframe]
                if not starts or starts[-1] < start:
                    starts.append(start)
                else:  # a clock that went backwards
                    bisect.insort(starts, start)
            else:
                if price > candle.high:
                    candle.high = price
                elif price < candle.low:
                    candle.low = price
                candle.close = price
                candle.volume += volume
                candle.currency_volume += quantity

    def trades_between(self, start: int, end: int) -> list[PublicTrade]:
        lo = bisect.bisect_left(self.trade_times, start)
        hi = bisect.bisect_right(self.trade_times, end)
        return self.trades[lo:hi]


def crosses(is_buy: bool, limit: Decimal, book_price: Decimal) -> bool:
    """Whether an order on this side with this limit would trade at ``book_price``."""
    return book_price <= limit if is_buy else book_price >= limit
