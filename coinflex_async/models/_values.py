"""The values the docs list for order fields: the request enums, and ``Literal`` types.

Requests take an enum member or its value (``Side.BUY`` or ``"BUY"``), so a type checker
refuses ``side="BYU"``; decimals take ``DecimalInput``. Responses are typed with the values too,
so ``result.status == "FILLD"`` is flagged (mypy's ``--strict-equality``, part of
``--strict``), but their fields are *decoded* as plain ``str`` (the ``_*Field`` aliases below):
the docs' lists disagree with each other (the REST docs say ``OrderOpened``/``OrderMatched``/
``OrderClosed``, the WebSocket docs add ``OrderModified``, the changelog
``OrderPartiallyMatched``), and a value missing from a list must not make a whole order answer
undecodable, which would turn a definite answer into an ambiguous one.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

__all__ = [
    "DecimalInput",
    "MatchTypeValue",
    "OrderNoticeValue",
    "OrderStatusValue",
    "OrderType",
    "OrderTypeValue",
    "RedeemType",
    "RedeemTypeValue",
    "ResponseTypeValue",
    "Side",
    "SideValue",
    "TimeInForce",
    "TimeInForceValue",
]


class Side(str, enum.Enum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(str, enum.Enum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP = "STOP"


class TimeInForce(str, enum.Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    MAKER_ONLY = "MAKER_ONLY"


class RedeemType(str, enum.Enum):
    NORMAL = "Normal"
    INSTANT = "Instant"


# What a price, quantity or amount parameter takes. A float is left out on purpose: at run time
# one is still accepted when it is exactly the decimal it prints as (0.5, 3.0; kept for backward
# compatibility), but 0.1 is not, so the type steers callers to str or Decimal.
DecimalInput = Decimal | str | int

SideValue = Literal["BUY", "SELL"]
OrderTypeValue = Literal["LIMIT", "MARKET", "STOP"]
TimeInForceValue = Literal["GTC", "IOC", "FOK", "MAKER_ONLY"]
RedeemTypeValue = Literal["Normal", "Instant"]
ResponseTypeValue = Literal["FULL", "ACK"]
MatchTypeValue = Literal["MAKER", "TAKER"]

# ``status`` of an order answer (place/modify/cancel, close borrow): the REST examples (OPEN,
# CANCELED_BY_USER, CANCELED_BY_FOK), the WebSocket docs' OrderClosed and OrderMatched tables,
# and what the simulator (and a result rebuilt from the order history) says.
OrderStatusValue = Literal[
    "OPEN",
    "PARTIALLY_FILLED",
    "PARTIAL_FILL",
    "FILLED",
    "CANCELED_BY_USER",
    "CANCELED_BY_MAKER_ONLY",
    "CANCELED_BY_FOK",
    "CANCELED_BY_IOC",
    "CANCELED_ALL_BY_IOC",
    "CANCELED_PARTIAL_BY_IOC",
    "CANCELED_BY_AMEND",
]

# ``notice`` of an order answer, and ``status`` of an order history entry (GET /v2.1/orders).
OrderNoticeValue = Literal[
    "OrderOpened",
    "OrderMatched",
    "OrderClosed",
    "OrderModified",
    "OrderPartiallyMatched",
]

# What the response models annotate with: the Literal for a type checker, str when decoding.
if TYPE_CHECKING:
    _SideField = SideValue
    _OrderTypeField = OrderTypeValue
    _TimeInForceField = TimeInForceValue
    _MatchTypeField = MatchTypeValue
    _OrderStatusField = OrderStatusValue
    _OrderNoticeField = OrderNoticeValue
else:
    _SideField = _OrderTypeField = _TimeInForceField = _MatchTypeField = str
    _OrderStatusField = _OrderNoticeField = str
