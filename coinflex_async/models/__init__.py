"""The response models of every endpoint, one module per domain."""

from coinflex_async.models.account import AccountInfo, Balance, FundingPayment, Position, Trade
from coinflex_async.models.delivery import DeliverAuction, DeliveryOrder, DeliveryRequest
from coinflex_async.models.lending import (
    Borrow,
    BorrowingSummary,
    Mint,
    MintRecord,
    Redeem,
    RedeemRecord,
    Repay,
)
from coinflex_async.models.market import (
    Asset,
    Candle,
    DeliveryFunding,
    FundingRate,
    Level,
    Market,
    OrderBook,
    Ping,
    PublicTrade,
    Ticker,
)
from coinflex_async.models.orders import (
    AcceptedOrder,
    CancelAllResult,
    MatchInfo,
    OpenOrder,
    OrderResult,
    OrderStatus,
)

__all__ = [
    "AcceptedOrder",
    "AccountInfo",
    "Asset",
    "Balance",
    "Borrow",
    "BorrowingSummary",
    "CancelAllResult",
    "Candle",
    "DeliverAuction",
    "DeliveryFunding",
    "DeliveryOrder",
    "DeliveryRequest",
    "FundingPayment",
    "FundingRate",
    "Level",
    "Market",
    "MatchInfo",
    "Mint",
    "MintRecord",
    "OpenOrder",
    "OrderBook",
    "OrderResult",
    "OrderStatus",
    "Ping",
    "Position",
    "PublicTrade",
    "Redeem",
    "RedeemRecord",
    "Repay",
    "Ticker",
    "Trade",
]
