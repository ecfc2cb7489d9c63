"""Markets, order books, accounts and the matching engine.

Everything here is synchronous: the web app calls one engine method per request, so each
request is applied atomically (asyncio runs one handler at a time between awaits).
Money is ``decimal.Decimal`` throughout.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from ._clock import Clock
from ._errors import SimError
from ._markets import COLLATERAL_WEIGHTS, FLEX_ASSETS, AssetSpec, MarketSpec, MarketType
from ._numbers import ZERO, format_fixed
from ._requests import CancelRequest, ModifyRequest, NewOrderRequest

__all__ = [
    "CANDLE_TIMEFRAMES",
    "Account",
    "Balance",
    "BookSide",
    "Candle",
    "Engine",
    "Fees",
    "Fill",
    "Market",
    "Order",
    "OrderState",
    "Position",
    "PublicTrade",
]

ONE = Decimal(1)
# Entry prices are averages; they are kept to 9 decimals like the exchange's own strings.
ENTRY_PRICE_STEP = Decimal("1e-9")

# GET /v2/candles timeframes, in seconds.
CANDLE_TIMEFRAMES: tuple[int, ...] = (60, 300, 900, 1800, 3600, 7200, 14400, 86400)


class OrderState:
    """Order ``status`` values as the place/modify/cancel responses show them."""

    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED_BY_USER = "CANCELED_BY_USER"
    CANCELED_BY_IOC = "CANCELED_BY_IOC"
    CANCELED_BY_FOK = "CANCELED_BY_FOK"
    CANCELED_BY_MAKER_ONLY = "CANCELED_BY_MAKER_ONLY"
    CANCELED_BY_MODIFY = "CANCELED_BY_MODIFY"

    WORKING = frozenset({OPEN, PARTIALLY_FILLED})


@dataclass(frozen=True)
class Fees:
    """Maker and taker fee rates, charged in the market's counter asset on the notional.

    REPO markets (whose price is a rate) charge no fee.
    """

    maker: Decimal = Decimal("0.0002")
    taker: Decimal = Decimal("0.0005")


@dataclass(slots=True)
class Balance:
    total: Decimal = ZERO
    reserved: Decimal = ZERO
    last_updated: int = 0

    @property
    def available(self) -> Decimal:
        return self.total - self.reserved


@dataclass(slots=True, eq=False)
class Position:
    market: Market
    quantity: Decimal = ZERO
    entry_price: Decimal = ZERO
    last_updated: int = 0
    # Quantity already requested for physical delivery and not yet settled.
    pending_delivery: Decimal = ZERO

    @property
    def unrealized_pnl(self) -> Decimal:
        if not self.quantity:
            return ZERO
        return (self.market.mark_price - self.entry_price) * self.quantity


@dataclass(slots=True, eq=False)
class Fill:
    """One side of one match, as the account that owns ``order`` sees it."""

    match_id: str
    order: Order
    quantity: Decimal
    price: Decimal
    timestamp: int
    match_type: str
    fee: Decimal
    fee_asset: str


@dataclass(slots=True, eq=False)
class Order:
    order_id: str
    client_order_id: str | None
    account: Account
    market: Market
    side: str
    order_type: str
    time_in_force: str
    quantity: Decimal
    # The price the order works at: the limit price, a MARKET order's collar, or a STOP
    # order's limit price once triggered (None before).
    price: Decimal | None
    stop_price: Decimal | None
    limit_price: Decimal | None
    created: int
    sequence: int
    last_modified: int = 0
    filled: Decimal = ZERO
    filled_notional: Decimal = ZERO
    fees: dict[str, Decimal] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    status: str = OrderState.OPEN
    is_triggered: bool = False
    closed_at: int | None = None
    last_trade_at: int | None = None
    # What the working order holds back: spot balance (reserved) and futures margin.
    reserve_asset: str | None = None
    reserve_per_unit: Decimal = ZERO
    reserved: Decimal = ZERO
    margin_per_unit: Decimal = ZERO
    margin_held: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def is_working(self) -> bool:
        return self.status in OrderState.WORKING

    @property
    def is_buy(self) -> bool:
        return self.side == "BUY"

    @property
    def average_fill_price(self) -> Decimal | None:
        if not self.filled:
            return None
        return self.filled_notional / self.filled

    @property
    def last_update(self) -> int:
        return self.closed_at if self.closed_at is not None else self.last_modified


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

    def reduce(self, order: Order, quantity: Decimal) -> None:
        assert order.price is not None
        self._sizes[order.price] -= quantity

    def remove(self, order: Order) -> None:
        price = order.price
        assert price is not None
        level = self._levels[price]
        del level[order.order_id]
        self._sizes[price] -= order.remaining
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
        self.candle_starts: dict[int, list[int]] = {tf: [] for tf in CANDLE_TIMEFRAMES}
        self.candles: dict[int, dict[int, Candle]] = {tf: {} for tf in CANDLE_TIMEFRAMES}
        self.positions: dict[str, Position] = {}  # by account id
        self.open_interest = ZERO

    @property
    def is_spot(self) -> bool:
        return self.type == MarketType.SPOT

    @property
    def reference_price(self) -> Decimal:
        """The price stop orders are triggered by: the last trade, else the mark price."""
        return self.last_price if self.last_price is not None else self.mark_price

    def price_bounds(self) -> tuple[Decimal, Decimal]:
        band = self.spec.price_band
        if self.type == MarketType.REPO:
            lower, upper = self.mark_price - band, self.mark_price + band
        else:
            lower, upper = self.mark_price * (ONE - band), self.mark_price * (ONE + band)
        # Bounds are prices an order may use: round inwards onto the tick grid.
        tick = self.tick_size
        lower_ticks = (lower / tick).to_integral_value(rounding=ROUND_CEILING)
        upper_ticks = (upper / tick).to_integral_value(rounding=ROUND_FLOOR)
        return (lower_ticks * tick).quantize(tick), (upper_ticks * tick).quantize(tick)

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
                candle.high = max(candle.high, price)
                candle.low = min(candle.low, price)
                candle.close = price
                candle.volume += volume
                candle.currency_volume += quantity

    def trades_between(self, start: int, end: int) -> list[PublicTrade]:
        lo = bisect.bisect_left(self.trade_times, start)
        hi = bisect.bisect_right(self.trade_times, end)
        return self.trades[lo:hi]


class Account:
    def __init__(
        self, account_id: str, api_key: str | None, api_secret: str | None, created: int
    ) -> None:
        self.account_id = account_id
        self.api_key = api_key
        self.api_secret = api_secret
        self.created = created
        self.balances: dict[str, Balance] = {}
        self.positions: dict[str, Position] = {}  # by market code
        self.orders: dict[str, Order] = {}  # every accepted order, by id
        self.history: list[Order] = []  # every accepted order, oldest first
        self.history_by_market: dict[str, list[Order]] = {}
        self.by_client_order_id: dict[str, list[Order]] = {}
        self.open_orders: dict[str, Order] = {}  # working orders and untriggered stops
        self.trades: dict[str, list[Fill]] = {}  # by market code, oldest first
        self.order_margin = ZERO  # initial margin held by working FUTURE/REPO orders

    def balance(self, asset: str) -> Balance:
        balance = self.balances.get(asset)
        if balance is None:
            balance = self.balances[asset] = Balance(last_updated=self.created)
        return balance

    def credit(self, asset: str, amount: Decimal, now: int) -> None:
        balance = self.balance(asset)
        balance.total += amount
        balance.last_updated = now

    def reserve(self, asset: str, amount: Decimal, now: int) -> None:
        balance = self.balance(asset)
        balance.reserved += amount
        balance.last_updated = now


class Engine:
    """The exchange's state and every state-changing operation on it."""

    def __init__(
        self,
        markets: Sequence[MarketSpec],
        assets: Sequence[AssetSpec],
        clock: Clock,
        fees: Fees,
    ) -> None:
        self.clock = clock
        self.fees = fees
        self.assets = list(assets)
        self.markets: dict[str, Market] = {}
        for index, spec in enumerate(markets):
            if spec.market_code in self.markets:
                raise ValueError(f"duplicate market {spec.market_code}")
            market_id = spec.market_id or str(3_001_000_000_000 + index)
            self.markets[spec.market_code] = Market(spec, market_id)
        self.accounts: dict[str, Account] = {}
        self.accounts_by_key: dict[str, Account] = {}
        self._order_ids = itertools.count(1_000_000_000_001)
        self._match_ids = itertools.count(2_000_000_000_001)
        self._account_ids = itertools.count(1001)
        self._sequence = itertools.count(1)
        self._stop_markets: set[Market] = set()

    # -- time and ids -----------------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def next_order_id(self) -> str:
        return str(next(self._order_ids))

    def next_match_id(self) -> str:
        return str(next(self._match_ids))

    # -- accounts ---------------------------------------------------------------------------

    def create_account(
        self,
        balances: dict[str, Decimal],
        api_key: str | None,
        api_secret: str | None,
    ) -> Account:
        if api_key is not None and api_key in self.accounts_by_key:
            raise ValueError("an account with this api_key already exists")
        now = self.now_ms()
        account = Account(str(next(self._account_ids)), api_key, api_secret, now)
        for asset, amount in balances.items():
            account.credit(asset, amount, now)
        self.accounts[account.account_id] = account
        if api_key is not None:
            self.accounts_by_key[api_key] = account
        return account

    def market(self, code: str) -> Market:
        market = self.markets.get(code)
        if market is None:
            raise SimError("200050", f"Market {code} is not active or does not exist", 404)
        return market

    # -- valuation --------------------------------------------------------------------------

    def usd_price(self, asset: str) -> Decimal:
        """A coin's USD value: its spot market's mark, else its swap's mark, else 0."""
        asset = FLEX_ASSETS.get(asset, asset)
        if asset == "USD":
            return ONE
        for code in (f"{asset}-USD", f"{asset}-USD-SWAP-LIN"):
            market = self.markets.get(code)
            if market is not None:
                return market.mark_price
        return ZERO

    def notional_price(self, market: Market) -> Decimal:
        """The USD price a position or order's margin is computed on (REPO prices are rates)."""
        if market.type == MarketType.REPO:
            return self.usd_price(market.base)
        return market.mark_price

    def position_margin(self, account: Account) -> Decimal:
        return sum(
            (
                abs(position.quantity)
                * self.notional_price(position.market)
                * position.market.spec.margin_rate
                for position in account.positions.values()
                if position.quantity
            ),
            ZERO,
        )

    def unrealized_pnl(self, account: Account) -> Decimal:
        return sum((position.unrealized_pnl for position in account.positions.values()), ZERO)

    def collateral_value(self, account: Account) -> Decimal:
        """Balances at USD value with each coin's collateral weight, plus unrealized PnL."""
        value = ZERO
        for asset, balance in account.balances.items():
            if balance.total:
                weight = COLLATERAL_WEIGHTS.get(asset, ZERO)
                value += balance.total * self.usd_price(asset) * weight
        return value + self.unrealized_pnl(account)

    def total_value(self, account: Account) -> Decimal:
        value = sum(
            (balance.total * self.usd_price(asset) for asset, balance in account.balances.items()),
            ZERO,
        )
        return value + self.unrealized_pnl(account)

    def free_margin(self, account: Account) -> Decimal:
        return self.collateral_value(account) - self.position_margin(account) - account.order_margin

    # -- orders: place ----------------------------------------------------------------------

    def place_order(self, account: Account, request: NewOrderRequest) -> Order:
        """Validate, accept (hold balance or margin), match, and rest what is left."""
        order = self._accept(account, request)
        self._work(order)
        self._run_stop_triggers()
        return order

    def _accept(self, account: Account, request: NewOrderRequest) -> Order:
        market = self.markets.get(request.market_code)
        if market is None:
            raise SimError(
                "200050", f"Market {request.market_code} is not active or does not exist"
            )
        quantity = _on_grid(request.quantity, market.qty_increment)
        if quantity is None or quantity <= 0:
            raise SimError(
                "20001",
                f"Invalid parameter: quantity {request.quantity} is not a positive multiple of "
                f"qtyIncrement {market.qty_increment}",
            )
        price: Decimal | None = None
        stop_price: Decimal | None = None
        limit_price: Decimal | None = None
        time_in_force = request.time_in_force
        lower, upper = market.price_bounds()
        if request.order_type == "LIMIT":
            price = self._grid_price(market, request.price, "price")
            if price < lower:
                raise SimError(
                    "710002",
                    f"FAILED sanity bound check as price ({market.format_price(price)}) <  "
                    f"lower bound ({market.format_price(lower)})",
                )
            if price > upper:
                raise SimError(
                    "710003",
                    f"FAILED sanity bound check as price ({market.format_price(price)}) >  "
                    f"upper bound ({market.format_price(upper)})",
                )
        elif request.order_type == "MARKET":
            if time_in_force == "MAKER_ONLY":
                raise SimError("20001", "Invalid parameter: a MARKET order cannot be MAKER_ONLY")
            # A market order sweeps the book up to the sanity bound (its collar).
            price = upper if request.side == "BUY" else lower
        else:  # STOP: a stop-limit order
            stop_price = self._grid_price(market, request.stop_price, "stopPrice")
            limit_price = self._grid_price(
                market,
                request.limit_price if request.limit_price is not None else request.price,
                "limitPrice",
            )
        now = self.now_ms()
        order = Order(
            order_id=self.next_order_id(),
            client_order_id=request.client_order_id,
            account=account,
            market=market,
            side=request.side,
            order_type=request.order_type,
            time_in_force=time_in_force,
            quantity=quantity,
            price=price,
            stop_price=stop_price,
            limit_price=limit_price,
            created=now,
            sequence=next(self._sequence),
            last_modified=now,
        )
        self._hold(order, now)
        account.orders[order.order_id] = order
        account.history.append(order)
        account.history_by_market.setdefault(market.code, []).append(order)
        if order.client_order_id is not None:
            account.by_client_order_id.setdefault(order.client_order_id, []).append(order)
        account.open_orders[order.order_id] = order
        return order

    @staticmethod
    def _grid_price(market: Market, value: Decimal | None, key: str) -> Decimal:
        if value is None:
            raise SimError("40032", f"Invalid request data: {key} is required")
        price = _on_grid(value, market.tick_size)
        if price is None or (price <= 0 and market.type != MarketType.REPO):
            raise SimError(
                "20001",
                f"Invalid parameter: {key} {value} is not a multiple of tickSize "
                f"{market.tick_size}",
            )
        return price

    def _hold(self, order: Order, now: int) -> None:
        """Reserve spot balance or hold futures margin for a new order, or refuse it (710006)."""
        market = order.market
        account = order.account
        working_price = order.limit_price if order.order_type == "STOP" else order.price
        assert working_price is not None
        if market.is_spot:
            if order.is_buy:
                asset = market.counter
                if order.order_type == "MARKET":
                    working_price = self._sweep_price(order)
                per_unit = working_price * (ONE + self.fees.taker)
            else:
                asset = market.base
                per_unit = ONE
            required = per_unit * order.quantity
            available = account.balance(asset).available
            if required > available:
                raise SimError(
                    "710006",
                    f"FAILED balance check as balance ({_plain(available)}) < value "
                    f"({_plain(required)})",
                )
            order.reserve_asset = asset
            order.reserve_per_unit = per_unit
            order.reserved = required
            account.reserve(asset, required, now)
            return
        position = account.positions.get(market.code)
        held = position.quantity if position is not None else ZERO
        reduces = bool(held) and (held > 0) != order.is_buy and order.quantity <= abs(held)
        if reduces:
            return
        per_unit = self.notional_price(market) * market.spec.margin_rate
        required = per_unit * order.quantity
        free = self.free_margin(account)
        if required > free:
            raise SimError(
                "710006",
                f"FAILED balance check as available margin ({_plain(free)}) < required margin "
                f"({_plain(required)})",
            )
        order.margin_per_unit = per_unit
        order.margin_held = required
        account.order_margin += required

    def _release(self, order: Order, quantity: Decimal, now: int) -> None:
        """Give back what ``quantity`` of the order held (all of it when it closes)."""
        if order.reserve_asset is not None and order.reserved:
            amount = min(order.reserved, quantity * order.reserve_per_unit)
            order.reserved -= amount
            order.account.reserve(order.reserve_asset, -amount, now)
        if order.margin_held:
            amount = min(order.margin_held, quantity * order.margin_per_unit)
            order.margin_held -= amount
            order.account.order_margin -= amount

    def _release_all(self, order: Order, now: int) -> None:
        if order.reserve_asset is not None and order.reserved:
            order.account.reserve(order.reserve_asset, -order.reserved, now)
            order.reserved = ZERO
        if order.margin_held:
            order.account.order_margin -= order.margin_held
            order.margin_held = ZERO

    def _restore(self, order: Order, reserved: Decimal, margin: Decimal, now: int) -> None:
        if order.reserve_asset is not None and reserved:
            order.account.reserve(order.reserve_asset, reserved, now)
            order.reserved = reserved
        if margin:
            order.account.order_margin += margin
            order.margin_held = margin

    def _sweep_price(self, order: Order) -> Decimal:
        """The worst price a market order would reach filling as much as it can."""
        assert order.price is not None
        book = order.market.side_for(not order.is_buy)
        needed = order.quantity
        worst = ZERO
        for price in book.prices_best_first():
            if not _crosses(order.is_buy, order.price, price):
                break
            worst = price
            needed -= book.level_size(price)
            if needed <= 0:
                break
        return worst

    def _work(self, order: Order) -> None:
        """Take a new (or just triggered) order through matching and into the book."""
        if order.order_type == "STOP" and not order.is_triggered:
            self._add_stop(order)
            return
        market = order.market
        assert order.price is not None
        opposite = market.side_for(not order.is_buy)
        best = opposite.best_price()
        crosses = best is not None and _crosses(order.is_buy, order.price, best)
        now = self.now_ms()
        if order.time_in_force == "MAKER_ONLY" and crosses:
            self._close(order, OrderState.CANCELED_BY_MAKER_ONLY, now)
            return
        if order.time_in_force == "FOK" and self._fillable(order) < order.quantity:
            self._close(order, OrderState.CANCELED_BY_FOK, now)
            return
        if crosses:
            self._match(order, opposite, now)
        if not order.remaining:
            self._close(order, OrderState.FILLED, now)
        elif order.order_type == "MARKET" or order.time_in_force in ("IOC", "FOK"):
            self._close(order, OrderState.CANCELED_BY_IOC, now)
        else:
            market.side_for(order.is_buy).add(order)

    def _fillable(self, order: Order) -> Decimal:
        assert order.price is not None
        book = order.market.side_for(not order.is_buy)
        total = ZERO
        for price in book.prices_best_first():
            if not _crosses(order.is_buy, order.price, price) or total >= order.quantity:
                break
            total += book.level_size(price)
        return total

    def _match(self, taker: Order, book: BookSide, now: int) -> None:
        assert taker.price is not None
        market = taker.market
        while taker.remaining:
            best = book.best_price()
            if best is None or not _crosses(taker.is_buy, taker.price, best):
                break
            maker = book.first_order(best)
            quantity = min(taker.remaining, maker.remaining)
            match_id = self.next_match_id()
            book.reduce(maker, quantity)
            self._fill(maker, quantity, best, "MAKER", match_id, now)
            self._fill(taker, quantity, best, "TAKER", match_id, now)
            market.record_trade(quantity, best, taker.side, match_id, now)
            self._stop_markets.add(market)
            if not maker.remaining:
                self._close(maker, OrderState.FILLED, now)

    def _fill(
        self,
        order: Order,
        quantity: Decimal,
        price: Decimal,
        match_type: str,
        match_id: str,
        now: int,
    ) -> None:
        market = order.market
        account = order.account
        notional = price * quantity
        rate = self.fees.maker if match_type == "MAKER" else self.fees.taker
        fee = ZERO if market.type == MarketType.REPO else notional * rate
        fee_asset = market.counter
        self._release(order, quantity, now)
        order.filled += quantity
        order.filled_notional += notional
        order.fees[fee_asset] = order.fees.get(fee_asset, ZERO) + fee
        order.last_trade_at = now
        order.last_modified = now
        if order.status == OrderState.OPEN:
            order.status = OrderState.PARTIALLY_FILLED
        fill = Fill(match_id, order, quantity, price, now, match_type, fee, fee_asset)
        order.fills.append(fill)
        account.trades.setdefault(market.code, []).append(fill)
        if market.is_spot:
            if order.is_buy:
                account.credit(market.base, quantity, now)
                account.credit(market.counter, -(notional + fee), now)
            else:
                account.credit(market.base, -quantity, now)
                account.credit(market.counter, notional - fee, now)
        else:
            self.change_position(
                account, market, quantity if order.is_buy else -quantity, price, now
            )
            account.credit(market.counter, -fee, now)

    def change_position(
        self, account: Account, market: Market, delta: Decimal, price: Decimal, now: int
    ) -> None:
        """Move a FUTURE/REPO position by ``delta`` at ``price``; realized PnL goes to the
        counter balance."""
        position = account.positions.get(market.code)
        if position is None:
            position = account.positions[market.code] = Position(market)
            market.positions[account.account_id] = position
        old = position.quantity
        new = old + delta
        if not old or (old > 0) == (delta > 0):
            position.entry_price = (
                (abs(old) * position.entry_price + abs(delta) * price) / abs(new)
            ).quantize(ENTRY_PRICE_STEP)
        else:
            closed = min(abs(delta), abs(old))
            direction = ONE if old > 0 else -ONE
            account.credit(market.counter, (price - position.entry_price) * closed * direction, now)
            if not new:
                position.entry_price = ZERO
            elif (new > 0) != (old > 0):
                position.entry_price = price
        position.quantity = new
        position.last_updated = now
        market.open_interest += max(new, ZERO) - max(old, ZERO)

    def _close(self, order: Order, status: str, now: int) -> None:
        market = order.market
        if order.is_working and order.order_id in order.account.open_orders:
            if order.order_type == "STOP" and not order.is_triggered:
                self._remove_stop(order)
            elif order.status != OrderState.FILLED:
                book = market.side_for(order.is_buy)
                if order.price is not None and book.contains(order):
                    book.remove(order)
        self._release_all(order, now)
        order.status = status
        order.closed_at = now
        order.last_modified = now
        order.account.open_orders.pop(order.order_id, None)

    # -- stops ------------------------------------------------------------------------------

    def _add_stop(self, order: Order) -> None:
        assert order.stop_price is not None
        stops = order.market.buy_stops if order.is_buy else order.market.sell_stops
        bisect.insort(stops, (order.stop_price, order.sequence, order), key=_stop_key)
        self._stop_markets.add(order.market)

    def _remove_stop(self, order: Order) -> None:
        assert order.stop_price is not None
        stops = order.market.buy_stops if order.is_buy else order.market.sell_stops
        index = bisect.bisect_left(stops, (order.stop_price, order.sequence), key=_stop_key)
        if index < len(stops) and stops[index][2] is order:
            del stops[index]

    def _run_stop_triggers(self) -> None:
        """Fire every stop whose trigger the reference price has reached; a fired stop may
        trade and fire more."""
        while self._stop_markets:
            market = self._stop_markets.pop()
            while True:
                reference = market.reference_price
                if market.buy_stops and market.buy_stops[0][0] <= reference:
                    order = market.buy_stops.pop(0)[2]
                elif market.sell_stops and market.sell_stops[-1][0] >= reference:
                    order = market.sell_stops.pop()[2]
                else:
                    break
                order.is_triggered = True
                order.price = order.limit_price
                order.last_modified = self.now_ms()
                self._work(order)

    def set_mark_price(self, code: str, price: Decimal) -> None:
        market = self.market(code)
        market.mark_price = price
        market.mark_updated = self.now_ms()
        self._stop_markets.add(market)
        self._run_stop_triggers()

    # -- orders: modify and cancel ----------------------------------------------------------

    def find_open_order(
        self, account: Account, market_code: str, order_id: str | None, client_order_id: str | None
    ) -> Order:
        order: Order | None = None
        if order_id is not None:
            candidate = account.open_orders.get(order_id)
            if candidate is not None and (
                client_order_id is None or candidate.client_order_id == client_order_id
            ):
                order = candidate
        elif client_order_id is not None:
            for candidate in reversed(account.by_client_order_id.get(client_order_id, ())):
                if candidate.order_id in account.open_orders:
                    order = candidate
                    break
        if order is None or order.market.code != market_code:
            raise SimError("40035", "Open order not found with id")
        return order

    def cancel_order(self, account: Account, request: CancelRequest) -> Order:
        order = self.find_open_order(
            account, request.market_code, request.order_id, request.client_order_id
        )
        self._close(order, OrderState.CANCELED_BY_USER, self.now_ms())
        return order

    def cancel_all(self, account: Account, market_code: str | None) -> int:
        now = self.now_ms()
        targets = [
            order
            for order in account.open_orders.values()
            if market_code is None or order.market.code == market_code
        ]
        for order in targets:
            self._close(order, OrderState.CANCELED_BY_USER, now)
        return len(targets)

    def modify_order(self, account: Account, request: ModifyRequest) -> Order:
        """Cancel-replace: the modified order gets a new orderId (as the docs' example shows)
        and loses its time priority; if the new order is refused the old one stays."""
        old = self.find_open_order(account, request.market_code, request.order_id, None)
        if request.side is not None and request.side != old.side:
            raise SimError("20001", "Invalid parameter: the side of an order cannot be modified")
        is_stop = old.order_type == "STOP" and not old.is_triggered
        replacement = NewOrderRequest(
            client_order_id=request.client_order_id or old.client_order_id or "0",
            market_code=old.market.code,
            side=old.side,
            quantity=request.quantity if request.quantity is not None else old.remaining,
            order_type=old.order_type if is_stop or old.order_type != "STOP" else "LIMIT",
            time_in_force=old.time_in_force,
        )
        if is_stop:
            replacement.stop_price = (
                request.stop_price if request.stop_price is not None else old.stop_price
            )
            replacement.limit_price = (
                request.limit_price
                if request.limit_price is not None
                else request.price
                if request.price is not None
                else old.limit_price
            )
        else:
            replacement.price = request.price if request.price is not None else old.price
        now = self.now_ms()
        # Free what the old order holds so the replacement is checked against it.
        saved_reserved, saved_margin = old.reserved, old.margin_held
        self._release_all(old, now)
        try:
            new = self._accept(account, replacement)
        except SimError:
            self._restore(old, saved_reserved, saved_margin, now)
            raise
        self._close(old, OrderState.CANCELED_BY_MODIFY, now)
        self._work(new)
        self._run_stop_triggers()
        return new

    # -- queries ----------------------------------------------------------------------------

    def order_history(
        self,
        account: Account,
        *,
        market_code: str | None,
        order_id: str | None,
        client_order_id: str | None,
        start: int,
        end: int,
        limit: int,
    ) -> list[Order]:
        """Accepted orders, newest first, created within [start, end]."""
        candidates: Iterable[Order]
        if order_id is not None:
            found = account.orders.get(order_id)
            candidates = [found] if found is not None else []
        elif client_order_id is not None:
            candidates = reversed(account.by_client_order_id.get(client_order_id, []))
        elif market_code is not None:
            candidates = reversed(account.history_by_market.get(market_code, []))
        else:
            candidates = reversed(account.history)
        result: list[Order] = []
        for order in candidates:
            if market_code is not None and order.market.code != market_code:
                continue
            if client_order_id is not None and order.client_order_id != client_order_id:
                continue
            if order.created > end:
                continue
            if order.created < start:
                if order_id is None and client_order_id is None:
                    break  # the lists are in creation order: nothing older can match
                continue
            result.append(order)
            if len(result) >= limit:
                break
        return result


def _crosses(is_buy: bool, limit: Decimal, book_price: Decimal) -> bool:
    return book_price <= limit if is_buy else book_price >= limit


def _stop_key(entry: tuple[Decimal, int, Order]) -> tuple[Decimal, int]:
    return entry[0], entry[1]


def _on_grid(value: Decimal, increment: Decimal) -> Decimal | None:
    """``value`` quantized to ``increment`` if it is an exact multiple of it, else None."""
    try:
        if value % increment:
            return None
        return value.quantize(increment)
    except InvalidOperation:
        return None


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"
