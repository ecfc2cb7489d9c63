"""Account state: account info, balances, positions, private trades and funding payments."""

from __future__ import annotations

from decimal import Decimal

from coinflex_async.models._base import Id, Model
from coinflex_async.models._values import _MatchTypeField, _SideField

__all__ = ["AccountInfo", "Balance", "FundingPayment", "Position", "Trade"]

# msgspec does not inherit kw_only from Model, and mypy sees frozen only where it is spelt out:
# every model repeats both.


class AccountInfo(Model, kw_only=True, frozen=True, gc=False):
    """One account of GET /v2/accountinfo."""

    account_id: Id
    trade_type: str
    margin_currency: str
    total_balance: Decimal
    available_balance: Decimal
    collateral_balance: Decimal
    portfolio_var_margin: Decimal
    risk_ratio: Decimal
    timestamp: int


class Balance(Model, kw_only=True, frozen=True, gc=False):
    """Balance: GET /v2/balances[/{instrumentId}], /v2/flex-protocol/balances/{flexProtocol}."""

    instrument_id: str
    total: Decimal
    available: Decimal
    reserved: Decimal
    quantity_last_updated: int


class Position(Model, kw_only=True, frozen=True, gc=False):
    """Position: GET /v2/positions[/{instrumentId}], /v2/flex-protocol/positions/{flexProtocol}."""

    instrument_id: str
    quantity: Decimal
    last_updated: int
    contract_val_currency: str
    entry_price: Decimal
    position_pnl: Decimal
    # The flex-protocol positions do not send it.
    est_liquidation_price: Decimal | None = None


class Trade(Model, kw_only=True, frozen=True, gc=False):
    """Own trade: GET /v2/trades/{marketCode}, GET /v2/flex-protocol/trades/{flexProtocol}/..."""

    match_id: Id
    match_timestamp: int
    market_code: str
    match_quantity: Decimal
    match_price: Decimal
    total: Decimal
    order_match_type: _MatchTypeField
    fees: Decimal
    fee_instrument_id: str
    order_id: Id
    side: _SideField
    # The docs' table says ``clientOrderID``; both examples (followed) send ``clientOrderId``.
    client_order_id: Id


class FundingPayment(Model, kw_only=True, frozen=True, gc=False):
    """One payment of GET /v2/funding-payments."""

    market_code: str
    payment: Decimal
    rate: Decimal
    position: Decimal
    mark_price: Decimal
    timestamp: int
