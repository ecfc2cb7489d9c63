"""What a stream needs from its client, handed over as one small object built by the client
(the way aiobotocore hands its endpoint an ``httpsession``): the stream never sees the
``Client``, its transport or its private attributes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .._orders import OrderRecovery
from .._ratelimit import Limiter
from .._signing import Credentials
from .._transport import RetryPolicy
from ..models import PublicTrade
from ..models.requests import ClientOrderIds
from ..models.stream import AccountSnapshot

__all__ = ["StreamContext", "TradesPage"]

# GET /v2/publictrades: (market_code, limit=, start_time=, end_time=) -> one page of trades.
TradesPage = Callable[..., Awaitable[list[PublicTrade]]]


@dataclass(frozen=True, slots=True)
class StreamContext:
    """The client's pieces a stream uses; ``Client._stream_context`` builds it."""

    base_url: str
    get_session: Callable[[], aiohttp.ClientSession]  # ClientClosedError once closed
    is_closed: Callable[[], bool]
    timeout: float
    recv_window: int
    retry: RetryPolicy | None
    credentials: Credentials | None  # None: public channels only
    limiter: Limiter | None  # the account's WebSocket order rate (WS_ORDERS)
    ids: ClientOrderIds  # client order IDs for orders sent without one
    recovery: OrderRecovery  # settles order commands whose answer was lost
    snapshot: Callable[[], Awaitable[AccountSnapshot]]  # private channels' resync
    trades_page: TradesPage  # trade channels' backfill
    forget: Callable[[Any], None]  # the client stops tracking a closed stream (its Stream)

    def __repr__(self) -> str:
        return f"StreamContext({self.base_url!r})"
