"""flexAssets and borrowing: mint, redeem, borrow, repay and their histories."""

from __future__ import annotations

from decimal import Decimal

from coinflex_async.models._base import Model

__all__ = [
    "Borrow",
    "BorrowingSummary",
    "Mint",
    "MintRecord",
    "Redeem",
    "RedeemRecord",
    "Repay",
]

# msgspec does not inherit kw_only from Model, and mypy sees frozen only where it is spelt out:
# every model repeats both.


class Mint(Model, kw_only=True, frozen=True, gc=False):
    """A mint request: POST /v2/mint."""

    asset: str
    quantity: Decimal


class MintRecord(Model, kw_only=True, frozen=True, gc=False):
    """One past mint: GET /v2/mint/{asset}."""

    asset: str
    quantity: Decimal
    minted_at: int


class Redeem(Model, kw_only=True, frozen=True, gc=False):
    """A redemption request: POST /v2/redeem."""

    asset: str
    quantity: Decimal
    redeem_at: int
    # Sent back upper case ("NORMAL") although the request takes "Normal" / "Instant".
    type: str


class RedeemRecord(Model, kw_only=True, frozen=True, gc=False):
    """One past redemption: GET /v2/redeem/{asset}."""

    asset: str
    quantity: Decimal
    requested_at: int
    redeemed_at: int


class Borrow(Model, kw_only=True, frozen=True, gc=False):
    """A borrow: POST /v2/borrow (the new one), GET /v2/borrow/{asset} (past ones)."""

    borrow_asset: str
    borrowed_amount: Decimal
    collateral_asset: str
    collateralized_amount: Decimal
    non_collateralized_amount: Decimal
    rate_type: str
    status: str
    borrowed_at: int


class Repay(Model, kw_only=True, frozen=True, gc=False):
    """A repayment: POST /v2/repay (the new one), GET /v2/repay/{asset} (past ones)."""

    repay_asset: str
    repaid_amount: Decimal
    regain_asset: str
    regained_amount: Decimal
    non_regained_amount: Decimal
    status: str
    repaid_at: int


class BorrowingSummary(Model, kw_only=True, frozen=True, gc=False):
    """What is borrowed against one collateral asset: GET /v2/borrowingSummary."""

    borrow_asset: str
    borrowed_amount: Decimal
    collateral_asset: str
    collateralized_amount: Decimal
    rate_type: str
    status: str
