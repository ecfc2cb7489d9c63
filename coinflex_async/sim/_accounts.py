"""Accounts and what they own: balances, positions, orders and their fills.

Plain state; the engine (``_engine.py``) changes it and the risk rules (``_risk.py``) value it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ._numbers import ZERO

if TYPE_CHECKING:
    from ._book import Market

__all__ = ["Account", "Balance", "Fees", "Fill", "Order", "OrderState", "Position"]


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

    def forget_closed_orders(self) -> None:
        """Drop every order that is no longer working, and the fills, from the account's
        history: for the house accounts of a market driver, whose history nobody queries and
        which would otherwise grow by ~150,000 orders an hour."""
        working = self.open_orders
        for order in self.history:
            if order.order_id not in working:
                # An order and its fills refer to each other: untied, the forgotten ones are
                # freed at once rather than left to a full garbage collection (measured: one
                # such pass of the grown heap held the loop up to ~90 ms).
                order.fills.clear()
        self.orders = dict(working)
        self.history = [order for order in self.history if order.order_id in working]
        self.history_by_market = {
            code: [order for order in orders if order.order_id in working]
            for code, orders in self.history_by_market.items()
        }
        self.by_client_order_id = {
            client_id: kept
            for client_id, orders in self.by_client_order_id.items()
            if (kept := [order for order in orders if order.order_id in working])
        }
        self.trades = {}

    def reserve(self, asset: str, amount: Decimal, now: int) -> None:
        balance = self.balance(asset)
        balance.reserved += amount
        balance.last_updated = now
