"""``client.public``: market data, no credentials needed.

Each method is declared in ``coinflex_async._endpoints``; the bodies here only hand their
arguments to it, so the signatures and docstrings stay what an IDE and ``help()`` show.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from .. import _endpoints as ep
from .._endpoints import TIMEFRAMES, call, iterate
from .._errors import DecodeError
from .._transport import Transport
from ..models import (
    Asset,
    Candle,
    DeliveryFunding,
    FundingRate,
    Market,
    OrderBook,
    PublicTrade,
    Ticker,
)

__all__ = ["TIMEFRAMES", "Public"]

Progress = Callable[[int], None]


class Public:
    """Public market data. Every method is a GET, retried on transport errors, 5xx and 429."""

    __slots__ = ("_transport",)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def ping(self) -> bool:
        """GET /v2/ping: whether the API service is up."""
        return await call(self._transport, ep.PING)

    async def markets(self) -> list[Market]:
        """GET /v2/all/markets: every market, with tick size, quantity increment and bounds."""
        return await call(self._transport, ep.MARKETS)

    async def assets(self) -> list[Asset]:
        """GET /v2/all/assets: every coin and bookable contract."""
        return await call(self._transport, ep.ASSETS)

    async def trades(
        self,
        market_code: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[PublicTrade]:
        """GET /v2/publictrades/{marketCode}: the most recent trades of a market.

        ``limit`` 1-300 (exchange default 100); ``start_time``/``end_time`` in ms, at most 7 days
        apart.
        """
        return await call(
            self._transport,
            ep.PUBLIC_TRADES,
            market_code=market_code,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_trades(
        self,
        market_code: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[PublicTrade]:
        """Every trade of a market from ``start_time`` to ``end_time`` (ms, inclusive; default
        now), oldest first, walked in 7-day windows and pages of ``page_size`` (default 300).

        ``prefetch=True`` asks for the next range while the current one is consumed;
        ``progress(ms)`` is called as the walk passes each range's end.
        """
        return iterate(
            self._transport,
            ep.PUBLIC_TRADES,
            market_code=market_code,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def ticker(self) -> list[Ticker]:
        """GET /v2/ticker: 24-hour statistics of every market (the docs' enveloped answer or
        the bare list the live exchange sent)."""
        return await call(self._transport, ep.TICKER)

    async def delivery_funding(
        self,
        *,
        instrument_id: str | None = None,
        limit: int | None = None,
        start_time: int | None = None,
    ) -> list[DeliveryFunding]:
        """GET /v2/delivery/public/funding: funding rates of the perpetual swaps.

        ``limit`` is sent as the docs' ``column`` parameter; ``start_time`` (ms) is sent in the
        docs' ``YYYY-MM-DD hh:mm:ss`` UTC form, the only endpoint that takes that form.
        """
        return await call(
            self._transport,
            ep.DELIVERY_FUNDING,
            instrument_id=instrument_id,
            limit=limit,
            start_time=start_time,
        )

    async def candles(
        self,
        market_code: str,
        *,
        timeframe: str = "3600s",
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Candle]:
        """GET /v2/candles/{marketCode}: OHLC candles.

        ``timeframe`` one of 60s, 300s, 900s, 1800s, 3600s, 7200s, 14400s, 86400s;
        ``limit`` 1-5000 (exchange default 500); times in ms, at most 7 days apart.
        """
        return await call(
            self._transport,
            ep.CANDLES,
            market_code=market_code,
            timeframe=timeframe,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_candles(
        self,
        market_code: str,
        *,
        timeframe: str = "3600s",
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[Candle]:
        """Every candle of a market from ``start_time`` to ``end_time`` (ms, inclusive; default
        now), oldest first, in 7-day windows and pages of ``page_size`` (default 5000)."""
        return iterate(
            self._transport,
            ep.CANDLES,
            market_code=market_code,
            timeframe=timeframe,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def funding_rates(
        self,
        market_code: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[FundingRate]:
        """GET /v2/funding-rates/{marketCode}: funding rates, newest first.

        ``limit`` 1-500 (exchange default 50; the docs give no maximum, so this client caps it
        at the largest the other history endpoints take); times in ms, at most 7 days apart.
        """
        return await call(
            self._transport,
            ep.FUNDING_RATES,
            market_code=market_code,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_funding_rates(
        self,
        market_code: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[FundingRate]:
        """Every funding rate of a market from ``start_time`` to ``end_time`` (ms, inclusive;
        default now), oldest first, in 7-day windows and pages of ``page_size`` (default 500)."""
        return iterate(
            self._transport,
            ep.FUNDING_RATES,
            market_code=market_code,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def depth(self, market_code: str, level: int = 5) -> OrderBook:
        """GET /v2/depth/{marketCode}/{level}: the order book, ``level`` levels a side.

        ``level`` is any positive int (the docs give no maximum; clients of the live exchange
        asked for 1,000); a book with fewer levels comes back whole.
        """
        books: list[OrderBook] = await call(
            self._transport, ep.DEPTH, market_code=market_code, level=level
        )
        if not books:
            raise DecodeError("the depth response has no order book", endpoint=ep.DEPTH.route.name)
        return books[0]
