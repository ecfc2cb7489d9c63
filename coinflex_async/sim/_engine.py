"""The matching engine: accepts orders, matches them by price-time priority, books the fills
into balances and positions, fires stop orders, and modifies and cancels.

Everything here is synchronous: the web app calls one engine method per request, so each
request is applied atomically (asyncio runs one handler at a time between awaits).
Money is ``decimal.Decimal`` throughout. The state lives in ``_accounts.py`` (accounts,
orders) and ``_book.py`` (markets, books); valuation and margin in ``_risk.py``.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation

from ._accounts import Account, Fees, Fill, Order, OrderState, Position
from ._book import BookSide, Market
from ._book import crosses as _crosses
from ._clock import Clock
from ._errors import SimError
from ._events import (
    CancelAllEvent,
    EngineEvent,
    Listener,
    OrderEvent,
    PositionEvent,
    TradeEvent,
)
from ._markets import AssetSpec, MarketSpec, MarketType
from ._numbers import ZERO
from ._requests import CancelRequest, ModifyRequest, NewOrderRequest
from ._risk import Risk

__all__ = ["Engine"]

ONE = Decimal(1)
# Entry prices are averages; they are kept to 9 decimals like the exchange's own strings.
ENTRY_PRICE_STEP = Decimal("1e-9")
# 40035's text: the docs' (the cancel example, and the WebSocket table's 100005) for a modify;
# for a cancel, what the live exchange answered (hummingbot's spot connector matched it verbatim
# from 2022-02-22; its fixture of a failed cancel carries it).
NOT_FOUND = "Open order not found with id"
CANCEL_NOT_FOUND = "Open order not found with clientOrderId or orderId"


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
        self._last_client_order_id = 0
        self._stop_markets: set[Market] = set()
        self.risk = Risk(self.markets, fees)
        # Who hears about each change (the WebSocket gateway); events are built only if any.
        self._listeners: list[Listener] = []

    # -- time and ids -----------------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def next_order_id(self) -> str:
        return str(next(self._order_ids))

    def next_match_id(self) -> str:
        return str(next(self._match_ids))

    def assign_client_order_id(self, now: int) -> str:
        """A clientOrderId for an order sent without one. The live exchange assigned one
        (ccxt sends none; its comments quote ``"clientOrderId": "1651620006827000"``, the
        millisecond clock x 1000): the same shape here, kept unique by counting on."""
        assigned = max(now * 1000, self._last_client_order_id + 1)
        self._last_client_order_id = assigned
        return str(assigned)

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

    # -- listeners --------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: EngineEvent) -> None:
        for listener in self._listeners:
            listener(event)

    # -- orders: place ----------------------------------------------------------------------

    def place_order(self, account: Account, request: NewOrderRequest) -> Order:
        """Validate, accept (hold balance or margin), match, and rest what is left."""
        order = self._accept(account, request)
        if self._listeners:
            self._emit(OrderEvent("OrderOpened", order, order.created))
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
            client_order_id=(
                request.client_order_id
                if request.client_order_id is not None
                else self.assign_client_order_id(now)
            ),
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
        self.risk.hold(order, now)
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
        if order.time_in_force == "MAKER_ONLY_REPRICE" and crosses:
            # WebSocket only: rest one tick inside the opposite best instead of taking.
            assert best is not None
            order.price = best - market.tick_size if order.is_buy else best + market.tick_size
            crosses = False
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
            if self._listeners:
                self._emit(TradeEvent(market, market.trades[-1]))
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
        self.risk.release(order, quantity, now)
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
        if self._listeners:
            self._emit(OrderEvent("OrderMatched", order, now, fill))
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
        if self._listeners:
            self._emit(PositionEvent(account, position))

    def _close(self, order: Order, status: str, now: int) -> None:
        market = order.market
        if order.is_working and order.order_id in order.account.open_orders:
            if order.order_type == "STOP" and not order.is_triggered:
                self._remove_stop(order)
            elif order.status != OrderState.FILLED:
                book = market.side_for(order.is_buy)
                if order.price is not None and book.contains(order):
                    book.remove(order)
        self.risk.release_all(order, now)
        order.status = status
        order.closed_at = now
        order.last_modified = now
        order.account.open_orders.pop(order.order_id, None)
        if self._listeners and status != OrderState.FILLED:
            self._emit(OrderEvent("OrderClosed", order, now))

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
                if self._listeners:
                    self._emit(OrderEvent("OrderOpened", order, order.last_modified))
                self._work(order)

    def set_mark_price(self, code: str, price: Decimal) -> None:
        market = self.market(code)
        market.mark_price = price
        market.mark_updated = self.now_ms()
        self._stop_markets.add(market)
        self._run_stop_triggers()

    def print_trade(
        self,
        code: str,
        price: Decimal,
        quantity: Decimal,
        taker_side: str,
        *,
        skip: Account | None = None,
    ) -> None:
        """Print a public trade from outside the book (a replayed one) with exactly these
        values. Resting orders on the other side at or through ``price`` fill at their own
        prices, best price first and oldest first, up to ``quantity`` in all; orders of
        ``skip`` (the house's quotes) are passed over. The outside taker is nobody's account:
        only the resting side's fills are booked."""
        market = self.market(code)
        now = self.now_ms()
        taker_is_buy = taker_side == "BUY"
        book = market.side_for(not taker_is_buy)
        left = quantity
        for level in list(book.prices_best_first()):
            if not left or not _crosses(taker_is_buy, price, level):
                break
            for maker in book.orders_at(level):
                if not left:
                    break
                if maker.account is skip:
                    continue
                filled = min(left, maker.remaining)
                left -= filled
                book.reduce(maker, filled)
                self._fill(maker, filled, level, "MAKER", self.next_match_id(), now)
                if not maker.remaining:
                    self._close(maker, OrderState.FILLED, now)
        market.record_trade(quantity, price, taker_side, self.next_match_id(), now)
        if self._listeners:
            self._emit(TradeEvent(market, market.trades[-1]))
        self._stop_markets.add(market)
        self._run_stop_triggers()

    # -- orders: modify and cancel ----------------------------------------------------------

    def find_open_order(
        self,
        account: Account,
        market_code: str,
        order_id: str | None,
        client_order_id: str | None,
        not_found: str = NOT_FOUND,
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
            raise SimError("40035", not_found)
        return order

    def cancel_order(self, account: Account, request: CancelRequest) -> Order:
        order = self.find_open_order(
            account,
            request.market_code,
            request.order_id,
            request.client_order_id,
            CANCEL_NOT_FOUND,
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
        if self._listeners:
            self._emit(CancelAllEvent(account, market_code, now))
        return len(targets)

    def modify_order(
        self, account: Account, request: ModifyRequest, *, amend: bool = False
    ) -> Order:
        """Cancel-replace: the modified order gets a new orderId (as the REST docs' example
        shows) and loses its time priority; if the new order is refused the old one stays.

        ``amend`` (the WebSocket modifyorder): the side may change too, and an order whose
        quantity only shrinks keeps its orderId and place in the queue (OrderModified)."""
        old = self.find_open_order(account, request.market_code, request.order_id, None)
        if request.side is not None and request.side != old.side and not amend:
            raise SimError("20001", "Invalid parameter: the side of an order cannot be modified")
        if amend and self._only_shrinks(old, request):
            assert request.quantity is not None
            self._shrink(old, request.quantity)
            return old
        is_stop = old.order_type == "STOP" and not old.is_triggered
        replacement = NewOrderRequest(
            client_order_id=request.client_order_id or old.client_order_id or "0",
            market_code=old.market.code,
            side=request.side if amend and request.side is not None else old.side,
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
        self.risk.release_all(old, now)
        try:
            new = self._accept(account, replacement)
        except SimError:
            self.risk.restore(old, saved_reserved, saved_margin, now)
            raise
        self._close(old, OrderState.CANCELED_BY_MODIFY, now)
        if self._listeners:
            self._emit(OrderEvent("OrderOpened", new, now))
        self._work(new)
        self._run_stop_triggers()
        return new

    @staticmethod
    def _only_shrinks(order: Order, request: ModifyRequest) -> bool:
        """Whether a modify only lowers the quantity of an order resting in the book."""
        in_book = order.order_type != "STOP" or order.is_triggered
        return (
            in_book
            and request.quantity is not None
            and 0 < request.quantity < order.remaining
            and (request.side is None or request.side == order.side)
            and (request.price is None or request.price == order.price)
            and request.stop_price is None
            and request.limit_price is None
        )

    def _shrink(self, order: Order, remaining: Decimal) -> None:
        """Lower a resting order's open quantity in place: same orderId, same queue spot."""
        market = order.market
        if _on_grid(remaining, market.qty_increment) is None:
            raise SimError(
                "20001",
                f"Invalid parameter: quantity {remaining} is not a positive multiple of "
                f"qtyIncrement {market.qty_increment}",
            )
        now = self.now_ms()
        cut = order.remaining - remaining
        market.side_for(order.is_buy).reduce(order, cut)
        self.risk.release(order, cut, now)
        order.quantity -= cut
        order.last_modified = now
        if self._listeners:
            self._emit(OrderEvent("OrderModified", order, now))

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
            candidates = _created_by(account.history_by_market.get(market_code, []), end)
        else:
            candidates = _created_by(account.history, end)
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


def _created_by(orders: list[Order], end: int) -> Iterator[Order]:
    """Newest first from the last order created at or before ``end`` (the lists are in
    creation order), so a request into a long history does not walk all of it."""
    index = bisect.bisect_right(orders, end, key=lambda order: order.created)
    return (orders[i] for i in range(index - 1, -1, -1))


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
