"""Simple but consistent bookkeeping for mint/redeem, borrow/repay, delivery and funding.

What is simplified is spelled out in the package docstring; the rule kept everywhere is that
every amount that leaves one balance lands in another (or in a position), so totals add up.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from decimal import Decimal

from ._accounts import Account, Order, OrderState
from ._book import Market
from ._engine import Engine
from ._errors import SimError
from ._markets import COLLATERAL_WEIGHTS, FLEX_ASSETS, MarketType
from ._numbers import ZERO
from ._requests import NewOrderRequest

__all__ = [
    "AUCTION_INTERVAL_MS",
    "BorrowRecord",
    "DeliveryOrder",
    "FundingPayment",
    "FundingRateRecord",
    "Ledger",
    "Loan",
    "MintRecord",
    "Redemption",
    "RepayRecord",
]

AUCTION_INTERVAL_MS = 3_600_000
LOAN_STEP = Decimal("1e-8")
FUNDING_STEP = Decimal("1e-8")


@dataclass(slots=True)
class MintRecord:
    asset: str
    quantity: Decimal
    minted_at: int


@dataclass(slots=True)
class Redemption:
    account: Account
    asset: str
    quantity: Decimal
    type: str  # NORMAL or INSTANT
    requested_at: int
    redeem_at: int
    redeemed: bool


@dataclass(slots=True)
class BorrowRecord:
    borrow_asset: str
    borrowed_amount: Decimal
    collateral_asset: str
    collateralized_amount: Decimal
    non_collateralized_amount: Decimal
    rate_type: str
    status: str
    borrowed_at: int


@dataclass(slots=True)
class RepayRecord:
    repay_asset: str
    repaid_amount: Decimal
    regain_asset: str
    regained_amount: Decimal
    non_regained_amount: Decimal
    status: str
    repaid_at: int


@dataclass(slots=True)
class Loan:
    collateral_asset: str
    borrowed: Decimal = ZERO
    collateral: Decimal = ZERO


@dataclass(slots=True, eq=False)
class DeliveryOrder:
    deliver_order_id: str
    account: Account
    market: Market
    is_long: bool
    quantity: Decimal
    deliver_price: Decimal
    auction_time: int
    created: int
    last_updated: int
    status: str = "PENDING"  # PENDING, DELIVERED, CANCELLED
    delivered: Decimal = ZERO

    @property
    def transfer_asset(self) -> str:
        return self.market.counter if self.is_long else self.market.base

    @property
    def deliver_asset(self) -> str:
        return self.market.base if self.is_long else self.market.counter

    @property
    def transfer_quantity(self) -> Decimal:
        quantity = self.quantity if self.status != "DELIVERED" else self.delivered
        if self.status == "CANCELLED":
            return ZERO
        return quantity * self.deliver_price if self.is_long else quantity

    @property
    def deliver_quantity(self) -> Decimal:
        quantity = self.quantity if self.status != "DELIVERED" else self.delivered
        if self.status == "CANCELLED":
            return ZERO
        return quantity if self.is_long else quantity * self.deliver_price


@dataclass(slots=True)
class FundingPayment:
    market_code: str
    payment: Decimal
    rate: Decimal
    position: Decimal
    mark_price: Decimal
    timestamp: int


@dataclass(slots=True)
class FundingRateRecord:
    market_code: str
    funding_rate: Decimal
    index: Decimal
    mark_price: Decimal
    timestamp: int


def next_auction_time(now: int) -> int:
    return (now // AUCTION_INTERVAL_MS + 1) * AUCTION_INTERVAL_MS


class Ledger:
    def __init__(self, engine: Engine, flex_accounts: dict[str, Account]) -> None:
        self.engine = engine
        self.flex_accounts = flex_accounts
        self.mints: dict[str, list[MintRecord]] = {}
        self.redemptions: dict[str, list[Redemption]] = {}
        self.borrows: dict[str, list[BorrowRecord]] = {}
        self.repays: dict[str, list[RepayRecord]] = {}
        self.loans: dict[str, dict[str, Loan]] = {}
        self.deliveries: dict[str, list[DeliveryOrder]] = {}
        self.deliveries_by_id: dict[str, DeliveryOrder] = {}
        self.pending_deliveries: list[DeliveryOrder] = []
        self.funding_payments: dict[str, list[FundingPayment]] = {}
        self.funding_rates: dict[str, list[FundingRateRecord]] = {}
        self.public_funding: list[FundingRateRecord] = []
        self._due_redemptions: list[tuple[int, int, Redemption]] = []
        self._sequence = itertools.count()
        self._delivery_ids = itertools.count(5_000_000_000_001)

    # -- time -------------------------------------------------------------------------------

    def tick(self) -> None:
        """Settle what has fallen due: NORMAL redemptions and delivery auctions."""
        now = self.engine.now_ms()
        while self._due_redemptions and self._due_redemptions[0][0] <= now:
            redemption = heapq.heappop(self._due_redemptions)[2]
            self._pay_out(redemption, now)
        if self.pending_deliveries and any(o.auction_time <= now for o in self.pending_deliveries):
            self.run_delivery_auction(due_only=True)

    # -- mint and redeem --------------------------------------------------------------------

    def _flex_asset(self, asset: object) -> tuple[str, Account]:
        if not isinstance(asset, str) or asset not in FLEX_ASSETS:
            raise SimError(
                "20001",
                "Invalid parameter: asset must be one of flexUSD, flexBTC, flexETH, flexFLEX",
            )
        return FLEX_ASSETS[asset], self.flex_accounts[asset]

    def mint(self, account: Account, asset: object, quantity: Decimal) -> MintRecord:
        """The coin moves 1:1 from the account to the flexAsset's protocol account and the
        account gets the flexAsset."""
        coin, protocol = self._flex_asset(asset)
        assert isinstance(asset, str)
        _positive(quantity, "quantity")
        available = account.balance(coin).available
        if quantity > available:
            raise SimError(
                "710006", f"FAILED balance check as balance ({available}) < value ({quantity})"
            )
        now = self.engine.now_ms()
        account.credit(coin, -quantity, now)
        account.credit(asset, quantity, now)
        protocol.credit(coin, quantity, now)
        record = MintRecord(asset, quantity, now)
        self.mints.setdefault(account.account_id, []).append(record)
        return record

    def redeem(
        self, account: Account, asset: object, quantity: Decimal, redeem_type: object
    ) -> Redemption:
        """The flexAsset leaves the account at once; the coin comes back from the protocol
        account at once (Instant) or at the next whole hour (Normal)."""
        self._flex_asset(asset)
        assert isinstance(asset, str)
        _positive(quantity, "quantity")
        if not isinstance(redeem_type, str) or redeem_type.upper() not in ("NORMAL", "INSTANT"):
            raise SimError("20001", "Invalid parameter: type must be Normal or Instant")
        kind = redeem_type.upper()
        available = account.balance(asset).available
        if quantity > available:
            raise SimError(
                "710006", f"FAILED balance check as balance ({available}) < value ({quantity})"
            )
        now = self.engine.now_ms()
        account.credit(asset, -quantity, now)
        redeem_at = now if kind == "INSTANT" else next_auction_time(now)
        redemption = Redemption(account, asset, quantity, kind, now, redeem_at, False)
        self.redemptions.setdefault(account.account_id, []).append(redemption)
        if kind == "INSTANT":
            self._pay_out(redemption, now)
        else:
            heapq.heappush(self._due_redemptions, (redeem_at, next(self._sequence), redemption))
        return redemption

    def _pay_out(self, redemption: Redemption, now: int) -> None:
        coin = FLEX_ASSETS[redemption.asset]
        redemption.account.credit(coin, redemption.quantity, now)
        self.flex_accounts[redemption.asset].credit(coin, -redemption.quantity, now)
        redemption.redeemed = True

    # -- borrow and repay -------------------------------------------------------------------

    def borrow(
        self, account: Account, borrow_asset: object, collateral_asset: object, amount: Decimal
    ) -> BorrowRecord:
        """USD is lent against a coin: collateral x USD price x collateral weight. No
        interest accrues."""
        if borrow_asset != "USD":
            raise SimError("20001", "Invalid parameter: borrowAsset can only be USD")
        if (
            not isinstance(collateral_asset, str)
            or collateral_asset in ("USD", "flexUSD")
            or COLLATERAL_WEIGHTS.get(collateral_asset, ZERO) <= 0
            or self.engine.risk.usd_price(collateral_asset) <= 0
        ):
            raise SimError(
                "20001", f"Invalid parameter: {collateral_asset} is not accepted as collateral"
            )
        _positive(amount, "collateralAmount")
        available = account.balance(collateral_asset).available
        if amount > available:
            raise SimError(
                "710006", f"FAILED balance check as balance ({available}) < value ({amount})"
            )
        now = self.engine.now_ms()
        price = self.engine.risk.usd_price(collateral_asset)
        borrowed = (amount * price * COLLATERAL_WEIGHTS[collateral_asset]).quantize(LOAN_STEP)
        loan = self._loan(account, collateral_asset)
        loan.borrowed += borrowed
        loan.collateral += amount
        account.credit(collateral_asset, -amount, now)
        account.credit("USD", borrowed, now)
        record = BorrowRecord(
            "USD", borrowed, collateral_asset, amount, ZERO, "FLOATING_RATE", "COMPLETED", now
        )
        self.borrows.setdefault(account.account_id, []).append(record)
        return record

    def _loan(self, account: Account, collateral_asset: str) -> Loan:
        loans = self.loans.setdefault(account.account_id, {})
        loan = loans.get(collateral_asset)
        if loan is None:
            loan = loans[collateral_asset] = Loan(collateral_asset)
        return loan

    def repay(
        self, account: Account, repay_asset: object, regain_asset: object, amount: Decimal
    ) -> RepayRecord:
        """Repay the USD share of a loan that frees ``amount`` of collateral. What cannot be
        regained (no such loan, too little USD) comes back as PARTIAL or CANCELLED."""
        if repay_asset != "USD":
            raise SimError("20001", "Invalid parameter: repayAsset can only be USD")
        if not isinstance(regain_asset, str) or not regain_asset:
            raise SimError("20001", "Invalid parameter: regainAsset is required")
        _positive(amount, "regainAmount")
        now = self.engine.now_ms()
        loan = self.loans.get(account.account_id, {}).get(regain_asset)
        regained = min(amount, loan.collateral) if loan is not None else ZERO
        repaid = ZERO
        if loan is not None and regained:
            repaid = (loan.borrowed * regained / loan.collateral).quantize(LOAN_STEP)
            if repaid > account.balance("USD").available:
                regained, repaid = ZERO, ZERO
        if regained:
            assert loan is not None
            loan.borrowed -= repaid
            loan.collateral -= regained
            account.credit("USD", -repaid, now)
            account.credit(regain_asset, regained, now)
        status = "COMPLETED" if regained == amount else "PARTIAL" if regained else "CANCELLED"
        record = RepayRecord("USD", repaid, regain_asset, regained, amount - regained, status, now)
        self.repays.setdefault(account.account_id, []).append(record)
        return record

    def outstanding_loans(self, account: Account) -> list[Loan]:
        return [
            loan
            for loan in self.loans.get(account.account_id, {}).values()
            if loan.collateral or loan.borrowed
        ]

    def close_borrow(
        self, account: Account, market_code: object, price: Decimal | None, quantity: Decimal | None
    ) -> Order:
        """Sell collateral to close a loan: the collateral is released, sold on the coin's
        spot market with a FOK order, and the loan's share repaid from the proceeds. If the
        order cannot fill, nothing changes."""
        if not isinstance(market_code, str):
            raise SimError("20001", "Invalid parameter: marketCode is required")
        market = self.engine.markets.get(market_code)
        if market is None:
            raise SimError("200050", f"Market {market_code} is not active or does not exist")
        spot_code = f"{market.base}-{market.counter}"
        if spot_code not in self.engine.markets:
            raise SimError("20001", f"Invalid parameter: no spot market {spot_code} to sell on")
        loan = self.loans.get(account.account_id, {}).get(market.base)
        if loan is None or not loan.collateral:
            raise SimError("20001", f"Invalid parameter: no {market.base} borrow to close")
        size = quantity if quantity is not None else loan.collateral
        _positive(size, "quantity")
        if size > loan.collateral:
            raise SimError("20001", "Invalid parameter: quantity exceeds the collateralized amount")
        now = self.engine.now_ms()
        share = (loan.borrowed * size / loan.collateral).quantize(LOAN_STEP)
        loan.collateral -= size
        loan.borrowed -= share
        account.credit(market.base, size, now)
        request = NewOrderRequest(
            client_order_id=str(now),
            market_code=spot_code,
            side="SELL",
            quantity=size,
            order_type="MARKET" if price is None else "LIMIT",
            time_in_force="FOK",
            price=price,
        )
        try:
            order = self.engine.place_order(account, request)
        except SimError:
            self._undo_release(account, loan, size, share, now)
            raise
        if order.status == OrderState.FILLED:
            account.credit("USD", -share, now)
        else:
            self._undo_release(account, loan, size, share, now)
        return order

    @staticmethod
    def _undo_release(
        account: Account, loan: Loan, size: Decimal, share: Decimal, now: int
    ) -> None:
        loan.collateral += size
        loan.borrowed += share
        account.credit(loan.collateral_asset, -size, now)

    # -- delivery ---------------------------------------------------------------------------

    def request_delivery(
        self, account: Account, instrument_id: object, quantity: Decimal
    ) -> DeliveryOrder:
        if not isinstance(instrument_id, str):
            raise SimError("20001", "Invalid parameter: instrumentId is required")
        market = self.engine.markets.get(instrument_id)
        if market is None or market.type != MarketType.FUTURE:
            raise SimError("20001", f"Invalid parameter: {instrument_id} is not a perpetual swap")
        _positive(quantity, "qtyDeliver")
        if quantity % market.qty_increment:
            raise SimError(
                "20001",
                "Invalid parameter: qtyDeliver is not a multiple of qtyIncrement "
                f"{market.qty_increment}",
            )
        position = account.positions.get(market.code)
        held = position.quantity if position is not None else ZERO
        if position is None or not held or quantity + position.pending_delivery > abs(held):
            raise SimError(
                "710004", "FAILED position check: the position is smaller than the delivery"
            )
        is_long = held > 0
        price = market.mark_price
        # A long pays USD for the coin; a short hands over the coin.
        if is_long and quantity * price > account.balance(market.counter).available:
            raise SimError("710006", "FAILED balance check: not enough USD to take delivery")
        if not is_long and quantity > account.balance(market.base).available:
            raise SimError("710006", f"FAILED balance check: not enough {market.base} to deliver")
        now = self.engine.now_ms()
        order = DeliveryOrder(
            deliver_order_id=str(next(self._delivery_ids)),
            account=account,
            market=market,
            is_long=is_long,
            quantity=quantity,
            deliver_price=price,
            auction_time=next_auction_time(now),
            created=now,
            last_updated=now,
        )
        position.pending_delivery += quantity
        self.deliveries.setdefault(account.account_id, []).append(order)
        self.deliveries_by_id[order.deliver_order_id] = order
        self.pending_deliveries.append(order)
        return order

    def cancel_delivery(self, account: Account, deliver_order_id: str) -> bool:
        order = self.deliveries_by_id.get(deliver_order_id)
        if order is None or order.account is not account or order.status != "PENDING":
            return False
        self._finish_delivery(order, "CANCELLED", ZERO)
        return True

    def _finish_delivery(self, order: DeliveryOrder, status: str, delivered: Decimal) -> None:
        order.status = status
        order.delivered = delivered
        order.last_updated = self.engine.now_ms()
        position = order.account.positions.get(order.market.code)
        if position is not None:
            position.pending_delivery = max(ZERO, position.pending_delivery - order.quantity)
        self.pending_deliveries.remove(order)

    def run_delivery_auction(self, *, due_only: bool = False) -> list[DeliveryOrder]:
        """Settle pending deliveries at the mark price: a long pays USD and receives the
        coin, a short the reverse; the position shrinks by what was delivered (realizing its
        PnL against the entry price)."""
        now = self.engine.now_ms()
        settled = []
        for order in list(self.pending_deliveries):
            if due_only and order.auction_time > now:
                continue
            market = order.market
            position = order.account.positions.get(market.code)
            held = position.quantity if position is not None else ZERO
            size = min(order.quantity, abs(held)) if held and (held > 0) == order.is_long else ZERO
            if not size:
                self._finish_delivery(order, "CANCELLED", ZERO)
                settled.append(order)
                continue
            price = market.mark_price
            order.deliver_price = price
            account = order.account
            if order.is_long:
                self.engine.change_position(account, market, -size, price, now)
                account.credit(market.counter, -size * price, now)
                account.credit(market.base, size, now)
            else:
                self.engine.change_position(account, market, size, price, now)
                account.credit(market.base, -size, now)
                account.credit(market.counter, size * price, now)
            self._finish_delivery(order, "DELIVERED", size)
            settled.append(order)
        return settled

    def net_delivery(self, market: Market) -> Decimal:
        return sum(
            (
                o.quantity if o.is_long else -o.quantity
                for o in self.pending_deliveries
                if o.market is market
            ),
            ZERO,
        )

    # -- funding ----------------------------------------------------------------------------

    def funding_rate(self, market: Market) -> Decimal:
        """A swap's rate: its REPO market's last traded rate, else the configured rate."""
        repo = self.engine.markets.get(f"{market.base}-{market.counter}-REPO-LIN")
        if repo is not None and repo.last_price is not None:
            return repo.last_price
        return market.spec.funding_rate

    def apply_funding(
        self, market_code: str | None = None, rate: Decimal | None = None
    ) -> list[FundingPayment]:
        """One funding round: each position pays quantity x mark price x rate (longs pay a
        positive rate) into its USD balance."""
        now = self.engine.now_ms()
        if market_code is not None:
            markets = [self.engine.market(market_code)]
        else:
            markets = [m for m in self.engine.markets.values() if m.type == MarketType.FUTURE]
        payments = []
        for market in markets:
            if market.type != MarketType.FUTURE:
                raise ValueError(f"{market.code} is not a perpetual swap")
            applied = self.funding_rate(market) if rate is None else rate
            mark = market.mark_price
            for account_id, position in market.positions.items():
                if not position.quantity:
                    continue
                amount = (-position.quantity * mark * applied).quantize(FUNDING_STEP)
                account = self.engine.accounts[account_id]
                account.credit(market.counter, amount, now)
                payment = FundingPayment(market.code, amount, applied, position.quantity, mark, now)
                self.funding_payments.setdefault(account_id, []).append(payment)
                payments.append(payment)
            record = FundingRateRecord(
                market.code, applied, self.engine.risk.usd_price(market.base), mark, now
            )
            self.funding_rates.setdefault(market.code, []).append(record)
            self.public_funding.append(record)
            repo_code = f"{market.base}-{market.counter}-REPO-LIN"
            if repo_code in self.engine.markets:
                self.funding_rates.setdefault(repo_code, []).append(
                    FundingRateRecord(repo_code, applied, record.index, mark, now)
                )
        return payments


def _positive(value: Decimal, key: str) -> None:
    if value <= 0:
        raise SimError("20001", f"Invalid parameter: {key} must be positive")
