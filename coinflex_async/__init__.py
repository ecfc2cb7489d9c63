"""coinflex_async: a typed asyncio client for the CoinFLEX v2 REST API.

::

    import coinflex_async as cf

    async with cf.Client(api_key, api_secret, base_url=cf.TEST_URL) as client:
        book = await client.public.depth("BTC-USD-SWAP-LIN", level=5)

``coinflex_async.sim`` is a local simulated exchange to run it against.
"""

from ._client import LIVE_URL, TEST_URL, Client
from ._errors import (
    APIError,
    AuthenticationError,
    BatchError,
    ClientClosedError,
    CoinFlexError,
    DecodeError,
    LimitStoreError,
    NotFoundError,
    OrderRejectedError,
    OrderStatusUnknownError,
    RateLimitError,
    ServerError,
    StreamClosedError,
    StreamOverflowError,
    TransportError,
    ValidationError,
)
from ._history import IncompleteHistoryError
from ._metrics import Metrics
from ._ratelimit import RateLimits, Window
from ._recording import read_recording
from ._transport import RetryPolicy
from ._version import __version__ as __version__  # the one place it is written
from .models import *  # noqa: F403 - the models are part of the public API
from .models import __all__ as _models_all
from .models._values import (
    MatchTypeValue,
    OrderNoticeValue,
    OrderStatusValue,
    OrderTypeValue,
    RedeemTypeValue,
    ResponseTypeValue,
    SideValue,
    TimeInForceValue,
)
from .models.requests import (
    CancelOrder,
    CancelOrderDict,
    DecimalInput,
    ModifyOrder,
    ModifyOrderDict,
    NewOrder,
    NewOrderDict,
    OrderType,
    RedeemType,
    Side,
    TimeInForce,
)
from .models.stream import (
    AccountSnapshot,
    CandleEvent,
    CandleValues,
    DepthEvent,
    LiquidationEvent,
    MarketEvent,
    OrderEvent,
    OrderFailureEvent,
    Resynced,
    TickerEvent,
    TradeEvent,
)
from .stream import Stream, Subscription

__all__ = [
    "LIVE_URL",
    "TEST_URL",
    "AccountSnapshot",
    "CandleEvent",
    "CandleValues",
    "DepthEvent",
    "LiquidationEvent",
    "MarketEvent",
    "OrderEvent",
    "OrderFailureEvent",
    "Resynced",
    "Stream",
    "StreamClosedError",
    "StreamOverflowError",
    "Subscription",
    "TickerEvent",
    "TradeEvent",
    "APIError",
    "AuthenticationError",
    "BatchError",
    "CancelOrder",
    "CancelOrderDict",
    "Client",
    "ClientClosedError",
    "CoinFlexError",
    "DecimalInput",
    "DecodeError",
    "IncompleteHistoryError",
    "LimitStoreError",
    "Metrics",
    "MatchTypeValue",
    "ModifyOrder",
    "ModifyOrderDict",
    "NewOrder",
    "NewOrderDict",
    "NotFoundError",
    "OrderNoticeValue",
    "OrderRejectedError",
    "OrderStatusUnknownError",
    "OrderStatusValue",
    "OrderType",
    "OrderTypeValue",
    "RateLimitError",
    "RateLimits",
    "RedeemType",
    "RedeemTypeValue",
    "ResponseTypeValue",
    "RetryPolicy",
    "ServerError",
    "Side",
    "SideValue",
    "TimeInForce",
    "TimeInForceValue",
    "TransportError",
    "ValidationError",
    "Window",
    "read_recording",
    *_models_all,
]
