"""Long histories for an account, generated from a seed: months of fills (with their orders
and the market's public trades and candles), hourly funding payments and rates, and mints,
redemptions, borrows and repayments, so whole-history walks and exports can be tested on
100,000+ rows spanning many 7-day windows.

It writes history only: balances, positions and open orders do not change.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from ._accounts import Account, Fill, Order, OrderState
from ._engine import Engine
from ._ledger import (
    BorrowRecord,
    FundingPayment,
    FundingRateRecord,
    Ledger,
    MintRecord,
    Redemption,
    RepayRecord,
)

__all__ = ["SeededHistory", "seed_history"]

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class SeededHistory:
    """How many records of each kind were written (what a full walk must return)."""

    trades: int
    orders: int
    funding_payments: int
    funding_rates: int
    mints: int
    redemptions: int
    borrows: int
    repays: int


def seed_history(
    engine: Engine,
    ledger: Ledger,
    account: Account,
    *,
    start: int,
    end: int,
    trades_per_day: int,
    seed: int,
    market_code: str,
    flex_asset: str,
    collateral_asset: str,
    events_per_day: int,
    tie_share: float,
) -> SeededHistory:
    if end < start:
        raise ValueError("end is before start")
    market = engine.market(market_code)
    if market.trade_times and market.trade_times[-1] >= start:
        raise ValueError(f"{market_code} already has trades after start: seed history first")
    rng = random.Random(seed)
    days = (end - start + 1) / DAY_MS

    # Fills: uniform times; a share repeats the previous fill's millisecond, as the fills of
    # one order sweeping several price levels do.
    count = round(trades_per_day * days)
    times = sorted(rng.randint(start, end) for _ in range(count))
    for i in range(1, count):
        if rng.random() < tie_share:
            times[i] = times[i - 1]
    tick, step = market.tick_size, market.qty_increment
    base_price = market.mark_price
    saved = (market.last_price, market.last_quantity, market.mark_price, market.mark_updated)
    fills = account.trades.setdefault(market.code, [])
    by_market = account.history_by_market.setdefault(market.code, [])
    orders: list[Order] = []
    for timestamp in times:
        side = "BUY" if rng.random() < 0.5 else "SELL"
        quantity = step * rng.randint(1, 1000)
        drift = Decimal(rng.randint(-500, 500)) / 10_000  # +-5%
        price = ((base_price * (1 + drift)) / tick).to_integral_value() * tick
        maker = rng.random() < 0.5
        fee = (quantity * price * Decimal("0.0002" if maker else "0.0005")).quantize(
            Decimal("0.00000001")
        )
        order = Order(
            order_id=engine.next_order_id(),
            client_order_id=str(rng.randint(1, 2**53)),
            account=account,
            market=market,
            side=side,
            order_type="LIMIT",
            time_in_force="GTC",
            quantity=quantity,
            price=price,
            stop_price=None,
            limit_price=price,
            created=timestamp,
            sequence=0,
            last_modified=timestamp,
            filled=quantity,
            filled_notional=quantity * price,
            fees={market.counter: fee},
            status=OrderState.FILLED,
            closed_at=timestamp,
            last_trade_at=timestamp,
        )
        match_id = engine.next_match_id()
        order.fills.append(
            Fill(
                match_id,
                order,
                quantity,
                price,
                timestamp,
                "MAKER" if maker else "TAKER",
                fee,
                market.counter,
            )
        )
        orders.append(order)
        market.record_trade(quantity, price, side, match_id, timestamp)
    market.last_price, market.last_quantity, market.mark_price, market.mark_updated = saved
    for order in orders:
        account.orders[order.order_id] = order
        assert order.client_order_id is not None
        account.by_client_order_id.setdefault(order.client_order_id, []).append(order)
    # The lists are read in time order (oldest first): merge, keeping earlier entries first.
    fills.extend(order.fills[0] for order in orders)
    fills.sort(key=lambda fill: fill.timestamp)
    by_market.extend(orders)
    by_market.sort(key=lambda order: order.created)
    account.history.extend(orders)
    account.history.sort(key=lambda order: order.created)

    # Hourly funding of the market: the rate (public) and the account's payment.
    payments = ledger.funding_payments.setdefault(account.account_id, [])
    rates = ledger.funding_rates.setdefault(market.code, [])
    first_hour = start + (-start) % HOUR_MS
    hours = range(first_hour, end + 1, HOUR_MS)
    for hour in hours:
        rate = Decimal(rng.randint(-100, 100)) / 1_000_000
        position = step * rng.randint(1, 1000)
        payment = -(position * base_price * rate).quantize(Decimal("0.0001"))
        payments.append(FundingPayment(market.code, payment, rate, position, base_price, hour))
        rates.append(FundingRateRecord(market.code, rate, base_price, base_price, hour))
    payments.sort(key=lambda p: p.timestamp)
    rates.sort(key=lambda r: r.timestamp)

    # Mints, redemptions, borrows and repayments: a few a day each.
    events = round(events_per_day * days)

    def moments() -> list[int]:
        return sorted(rng.randint(start, end) for _ in range(events))

    def amount() -> Decimal:
        return Decimal(rng.randint(1, 100_000)) / 100

    mints = ledger.mints.setdefault(account.account_id, [])
    mints.extend(MintRecord(flex_asset, amount(), t) for t in moments())
    redemptions = ledger.redemptions.setdefault(account.account_id, [])
    redemptions.extend(
        Redemption(account, flex_asset, amount(), "NORMAL", t, t + HOUR_MS, True) for t in moments()
    )
    borrows = ledger.borrows.setdefault(account.account_id, [])
    for t in moments():
        collateral = amount()
        borrows.append(
            BorrowRecord(
                "USD",
                collateral * 100,
                collateral_asset,
                collateral,
                Decimal(0),
                "FLOATING_RATE",
                "COMPLETED",
                t,
            )
        )
    repays = ledger.repays.setdefault(account.account_id, [])
    for t in moments():
        regained = amount()
        repays.append(
            RepayRecord(
                "USD", regained * 100, collateral_asset, regained, Decimal(0), "COMPLETED", t
            )
        )
    for records in (mints, redemptions, borrows, repays):
        records.sort(key=_record_time)
    return SeededHistory(
        trades=count,
        orders=count,
        funding_payments=len(hours),
        funding_rates=len(hours),
        mints=events,
        redemptions=events,
        borrows=events,
        repays=events,
    )


def _record_time(record: object) -> int:
    for name in ("minted_at", "requested_at", "borrowed_at", "repaid_at"):
        value = getattr(record, name, None)
        if isinstance(value, int):
            return value
    raise TypeError(record)
