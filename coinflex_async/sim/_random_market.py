"""``RandomMarket``: a seeded live market for every listed market (or those named).

Per market: a random walk of the mid price, a house market maker quoting ``levels`` bids and
asks on a grid around it, and takers arriving at random (Poisson) that send MARKET orders
through the engine. Everything it does goes through the engine's matching as a house account,
so users' orders, public trades, depth, ticker, candles, the mark price and stops follow.

Each market draws from its own ``random.Random`` seeded with the seed and the market code, so
one market's path does not depend on which other markets are driven or in what order.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from decimal import Decimal

from ._book import Market, PublicTrade
from ._drivers import Venue
from ._markets import MarketType

__all__ = ["RandomMarket"]

_SECONDS_PER_YEAR = 365 * 24 * 3600
# How often the market maker re-quotes, seconds ("several times a second").
_REQUOTE_INTERVAL = 0.25
# Quote sizes and taker sizes, in quantity increments: a level holds 200-2000 increments
# (0.2-2 BTC), a taker takes ~500 on average, so most trades hit the best level and some
# sweep a second one.
_LEVEL_UNITS = (200, 2000)
_TAKER_MEAN_UNITS = 500.0
# The grid step between quote levels: 1 basis point of the starting price (REPO: one tick).
_STEP_FRACTION = Decimal("0.0001")
# How far (in steps) the mid may go beyond the quotes' grid lines before they move.
_STICKY = 0.5
# REPO rates: an Ornstein-Uhlenbeck walk around the swap's funding rate with this mean
# reversion time, and a spread of volatility x _REPO_DEVIATION (0.00005 at the default 0.8).
_REPO_REVERSION_SECONDS = 60.0
_REPO_DEVIATION = 0.0000625

# The share of re-quotes that also re-size one level (once a second per market, on average).
_RESIZE_SHARE = 0.25
# Quotes the mid moved away from stay until they are this many times ``levels`` from the best
# price: a mid that crosses a grid line back and forth then moves only the quotes at the
# touch, not one at each end of the book as well (with the amend re-sizing, measured: 43%
# fewer house engine calls an hour).
_KEEP_FACTOR = 2

_REQUOTE, _TAKER = 0, 1


class RandomMarket:
    """A seeded random market (``Simulator(market=RandomMarket(seed=7))``).

    ``volatility``: the mid price's annualised volatility (0.8 = 80%; REPO markets: how far
    the rate wanders around the swap's funding rate). ``trades_per_second``: how many taker
    orders arrive per second per market, on average (0: none). ``levels``: quotes per side.
    ``markets``: the market codes to drive (default: every listed market).

    The house maker re-quotes four times a second on a grid one basis point apart (REPO:
    one tick): the best bid is the grid line at or below the mid, the best ask the one above
    (they move once the mid is half a step beyond them, so a mid wobbling around a line does
    not move the book back and forth). At each re-quote it fills the ``levels`` grid lines
    nearest the mid that have no quote (traded away, or the mid moved); quotes the mid moved
    away from stay until they are ``2 x levels`` lines out, so a side shows ``levels`` to
    ``2 x levels`` price levels. About once a second it re-sizes one level other than the
    best ones, by the exchange's amend rule (smaller keeps its place in the queue, larger
    goes behind it): the queue at the best price changes only by trading and by refilling a
    level that was traded away, behind the users already waiting there. Quotes are
    MAKER_ONLY: where a user's order already crosses, the house leaves that level out.

    ``keep_trades``: each market keeps about the newest this many public trades for the
    history endpoints (None: all), as ``Replay`` does, so a long run's memory stays flat.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        volatility: float = 0.8,
        trades_per_second: float = 2.0,
        levels: int = 25,
        markets: Sequence[str] | None = None,
        keep_trades: int | None = 10_000,
    ) -> None:
        if volatility < 0:
            raise ValueError("volatility must not be negative")
        if trades_per_second < 0:
            raise ValueError("trades_per_second must not be negative")
        if levels < 1:
            raise ValueError("levels must be at least 1")
        if keep_trades is not None and (isinstance(keep_trades, bool) or keep_trades < 1):
            raise ValueError("keep_trades must be a positive int or None")
        self.seed = seed
        self.volatility = volatility
        self.trades_per_second = trades_per_second
        self.levels = levels
        self.market_codes = list(markets) if markets is not None else None
        self.keep_trades = keep_trades
        self._walks: list[_MarketWalk] = []
        # (due, market index, kind): the walks' next events, earliest first.
        self._queue: list[tuple[float, int, int]] = []

    def __repr__(self) -> str:
        return (
            f"RandomMarket(seed={self.seed}, volatility={self.volatility}, "
            f"trades_per_second={self.trades_per_second}, levels={self.levels}, "
            f"markets={self.market_codes!r}, keep_trades={self.keep_trades})"
        )

    def attach(self, venue: Venue) -> None:
        if self._walks:
            raise RuntimeError("a RandomMarket drives one simulator")
        codes = self.market_codes if self.market_codes is not None else venue.market_codes
        unknown = [code for code in codes if code not in venue.market_codes]
        if unknown:
            raise ValueError(f"RandomMarket: unknown markets {unknown}")
        now = venue.clock()
        for index, code in enumerate(codes):
            venue.keep_trades(code, self.keep_trades)
            walk = _MarketWalk(
                self, venue, venue.market(code), random.Random(f"{self.seed}:{code}")
            )
            self._walks.append(walk)
            walk.requote()
            # Staggered, so the markets do not all re-quote at the same instant.
            offset = _REQUOTE_INTERVAL * (index + 1) / len(codes)
            heapq.heappush(self._queue, (now + offset, index, _REQUOTE))
            if self.trades_per_second > 0:
                heapq.heappush(self._queue, (now + walk.taker_gap(), index, _TAKER))

    def next_due(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def act(self, now: float) -> None:
        queue = self._queue
        if queue and now - queue[0][0] > 1.0:
            # On the real clock the loop was held up: carry on from now instead of playing
            # the missed second(s) in one burst.
            lag = now - queue[0][0]
            self._queue = queue = [(due + lag, index, kind) for due, index, kind in queue]
            heapq.heapify(queue)
        while queue and queue[0][0] <= now:
            due, index, kind = heapq.heappop(queue)
            walk = self._walks[index]
            if kind == _REQUOTE:
                walk.move(_REQUOTE_INTERVAL)
                walk.requote()
                heapq.heappush(queue, (due + _REQUOTE_INTERVAL, index, _REQUOTE))
            else:
                walk.take()
                heapq.heappush(queue, (due + walk.taker_gap(), index, _TAKER))


class _MarketWalk:
    """One market's mid price, the house quotes around it, and its takers."""

    def __init__(self, config: RandomMarket, venue: Venue, market: Market, rng: random.Random):
        self._config = config
        self._venue = venue
        self._market = market
        self._rng = rng
        spec = market.spec
        self._code = market.code
        self._increment = market.qty_increment
        self._is_repo = market.type == MarketType.REPO
        tick = market.tick_size
        if self._is_repo:
            self._step = tick
            self._center = float(_swap_funding_rate(venue, market))
            self.mid = self._center
        else:
            step_ticks = int(spec.mark_price * _STEP_FRACTION / tick)
            self._step = tick * max(1, step_ticks)
            self.mid = float(spec.mark_price)
        self._step_float = float(self._step)
        # Grid index -> orderId of the house quote resting there.
        self._bids: dict[int, str] = {}
        self._asks: dict[int, str] = {}
        # What the last re-quote saw: the grid line of the best bid and the market's newest
        # trade (not the trade count: that stops growing once old trades are dropped).
        self._top_bid: int | None = None
        self._last_trade: PublicTrade | None = None
        # Whether a wanted level was left without a quote (refused): try again next time.
        self._gaps = False

    def move(self, dt: float) -> None:
        """One step of the mid: geometric Brownian motion; REPO: mean-reverting rate."""
        z = self._rng.gauss(0.0, 1.0)
        volatility = self._config.volatility
        if self._is_repo:
            keep = math.exp(-dt / _REPO_REVERSION_SECONDS)
            noise = volatility * _REPO_DEVIATION * math.sqrt(1 - keep * keep)
            self.mid = self._center + (self.mid - self._center) * keep + noise * z
        else:
            sigma = volatility * math.sqrt(dt / _SECONDS_PER_YEAR)
            self.mid *= math.exp(sigma * z - sigma * sigma / 2)

    def requote(self) -> None:
        top_bid = self._best_bid_line()
        levels = self._config.levels
        wanted_bids = range(top_bid, top_bid - levels, -1)
        wanted_asks = range(top_bid + 1, top_bid + 1 + levels)
        trades = self._market.trades
        last_trade = trades[-1] if trades else None
        moved = top_bid != self._top_bid
        traded = last_trade is not self._last_trade
        changed = moved or traded
        if changed:
            # The mid crossed a grid line: cancel what is too far out or on the wrong side;
            # someone traded: forget the quotes that were filled.
            keep = levels * _KEEP_FACTOR
            keep_bids = range(top_bid, top_bid - keep, -1)
            keep_asks = range(top_bid + 1, top_bid + 1 + keep)
            if moved:
                self._cancel_outside(self._bids, keep_bids)
                self._cancel_outside(self._asks, keep_asks)
            self._forget_filled(self._bids, keep_bids)
            self._forget_filled(self._asks, keep_asks)
            self._top_bid, self._last_trade = top_bid, last_trade
        draw = self._rng.random()
        if levels > 1 and draw < _RESIZE_SHARE:
            # Now and then re-size one level (never a best one: its queue moves only by
            # trading and refilling), so the sizes in the book keep changing.
            quotes, wanted = (
                (self._bids, wanted_bids) if draw < _RESIZE_SHARE / 2 else (self._asks, wanted_asks)
            )
            index = wanted[self._rng.randrange(1, levels)]
            order_id = quotes.get(index)
            if order_id is not None:
                units = self._rng.randint(*_LEVEL_UNITS)
                resized = self._venue.maker.resize(self._code, order_id, self._increment * units)
                if resized is None:
                    del quotes[index]
                    changed = True
                else:
                    quotes[index] = resized
        if changed or self._gaps:
            gaps = self._fill_side(self._bids, wanted_bids, "BUY")
            self._gaps = self._fill_side(self._asks, wanted_asks, "SELL") or gaps

    def _best_bid_line(self) -> int:
        """The grid line of the best bid: the one at or below the mid, except that it stays
        put while the mid is within half a step beyond the current spread (a mid that wobbles
        around a grid line would otherwise move both sides back and forth)."""
        position = self.mid / self._step_float
        current = self._top_bid
        if current is not None and current - _STICKY <= position < current + 1 + _STICKY:
            return current
        return math.floor(position)

    def _cancel_outside(self, quotes: dict[int, str], keep: range) -> None:
        """Cancel the quotes outside ``keep`` (the grid lines a side may hold)."""
        maker = self._venue.maker
        for index in [index for index in quotes if index not in keep]:
            maker.cancel(self._code, quotes.pop(index))

    def _forget_filled(self, quotes: dict[int, str], keep: range) -> None:
        """Forget the quotes traded away. Trades take levels best first (``keep`` runs best
        first), so the scan stops at the first level still open."""
        maker = self._venue.maker
        for index in keep:
            order_id = quotes.get(index)
            if order_id is None:
                continue
            if maker.is_open(order_id):
                break
            del quotes[index]

    def _fill_side(self, quotes: dict[int, str], wanted: range, side: str) -> bool:
        """Quote every wanted level that has no house order, best first, at a random size.
        Returns whether a level is still without one (its price refused, or not above 0)."""
        gaps = False
        for index in wanted:
            if index in quotes:
                continue
            price = self._step * index
            if price <= 0 and not self._is_repo:
                gaps = True
                continue
            units = self._rng.randint(*_LEVEL_UNITS)
            order_id = self._venue.maker.place(
                self._code, side, self._increment * units, price=price
            )
            if order_id is None:
                gaps = True
            else:
                quotes[index] = order_id
        return gaps

    def taker_gap(self) -> float:
        """Seconds to the next taker (exponential: Poisson arrivals)."""
        return self._rng.expovariate(self._config.trades_per_second)

    def take(self) -> None:
        side = "BUY" if self._rng.random() < 0.5 else "SELL"
        units = 1 + int(self._rng.expovariate(1 / _TAKER_MEAN_UNITS))
        self._venue.taker.place(self._code, side, self._increment * units)


def _swap_funding_rate(venue: Venue, repo: Market) -> Decimal:
    """The configured funding rate of the swap on the REPO market's coin (else its own)."""
    for code in venue.market_codes:
        market = venue.market(code)
        if market.type == MarketType.FUTURE and market.base == repo.base:
            return market.spec.funding_rate
    return repo.spec.funding_rate
