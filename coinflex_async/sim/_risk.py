"""Risk: what coins are worth, the margin an account needs, and what its working orders hold
back (spot balance reserved, futures margin held) -- or the refusal (710006) when it cannot."""

from __future__ import annotations

from decimal import Decimal

from ._accounts import Account, Fees, Order
from ._book import Market, crosses
from ._errors import SimError
from ._markets import COLLATERAL_WEIGHTS, FLEX_ASSETS, MarketType
from ._numbers import ZERO

__all__ = ["Risk"]

ONE = Decimal(1)


class Risk:
    """Valuation and margin over the engine's markets, and the holds of working orders."""

    def __init__(self, markets: dict[str, Market], fees: Fees) -> None:
        self.markets = markets
        self.fees = fees

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

    def hold(self, order: Order, now: int) -> None:
        """Reserve spot balance or hold futures margin for a new order, or refuse it (710006)."""
        market = order.market
        account = order.account
        working_price = order.limit_price if order.order_type == "STOP" else order.price
        assert working_price is not None
        if market.is_spot:
            if order.is_buy:
                asset = market.counter
                if order.order_type == "MARKET":
                    working_price = self.sweep_price(order)
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

    def release(self, order: Order, quantity: Decimal, now: int) -> None:
        """Give back what ``quantity`` of the order held (all of it when it closes)."""
        if order.reserve_asset is not None and order.reserved:
            amount = min(order.reserved, quantity * order.reserve_per_unit)
            order.reserved -= amount
            order.account.reserve(order.reserve_asset, -amount, now)
        if order.margin_held:
            amount = min(order.margin_held, quantity * order.margin_per_unit)
            order.margin_held -= amount
            order.account.order_margin -= amount

    def release_all(self, order: Order, now: int) -> None:
        if order.reserve_asset is not None and order.reserved:
            order.account.reserve(order.reserve_asset, -order.reserved, now)
            order.reserved = ZERO
        if order.margin_held:
            order.account.order_margin -= order.margin_held
            order.margin_held = ZERO

    def restore(self, order: Order, reserved: Decimal, margin: Decimal, now: int) -> None:
        if order.reserve_asset is not None and reserved:
            order.account.reserve(order.reserve_asset, reserved, now)
            order.reserved = reserved
        if margin:
            order.account.order_margin += margin
            order.margin_held = margin

    def sweep_price(self, order: Order) -> Decimal:
        """The worst price a market order would reach filling as much as it can."""
        assert order.price is not None
        book = order.market.side_for(not order.is_buy)
        needed = order.quantity
        worst = ZERO
        for price in book.prices_best_first():
            if not crosses(order.is_buy, order.price, price):
                break
            worst = price
            needed -= book.level_size(price)
            if needed <= 0:
                break
        return worst


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"
