"""``client.public``: market data, no credentials needed."""

from __future__ import annotations

from msgspec.json import Decoder

from .._errors import DecodeError
from .._transport import Route, Transport
from .._validation import (
    check_choice,
    check_int,
    check_path_arg,
    check_time,
    choices,
    history_query,
    ms_to_datetime_text,
    query_string,
)
from ..models import (
    Asset,
    Candle,
    DeliveryFunding,
    FundingRate,
    Market,
    OrderBook,
    Ping,
    PublicTrade,
    Ticker,
)
from ..models._base import decoder_for, envelope_list_decoder

__all__ = ["TIMEFRAMES", "Public"]

# The candle timeframes the docs list.
TIMEFRAMES = ("60s", "300s", "900s", "1800s", "3600s", "7200s", "14400s", "86400s")
_TIMEFRAMES = choices(TIMEFRAMES)

_PING = Route("GET", "/v2/ping")
_MARKETS = Route("GET", "/v2/all/markets")
_ASSETS = Route("GET", "/v2/all/assets")
_TRADES = Route("GET", "/v2/publictrades/{}")
_TICKER = Route("GET", "/v2/ticker")
_DELIVERY_FUNDING = Route("GET", "/v2/delivery/public/funding")
_CANDLES = Route("GET", "/v2/candles/{}")
_FUNDING_RATES = Route("GET", "/v2/funding-rates/{}")
_DEPTH = Route("GET", "/v2/depth/{}/{}")

_ping: Decoder[Ping] = decoder_for(Ping)
_markets = envelope_list_decoder(Market)
_assets = envelope_list_decoder(Asset)
_trades = envelope_list_decoder(PublicTrade)
_ticker = envelope_list_decoder(Ticker)
# The docs show a bare list here, no envelope.
_delivery_funding: Decoder[list[DeliveryFunding]] = decoder_for(list[DeliveryFunding])
_candles = envelope_list_decoder(Candle)
_funding_rates = envelope_list_decoder(FundingRate)
_depth = envelope_list_decoder(OrderBook)


class Public:
    """Public market data. Every method is a GET, retried on transport errors, 5xx and 429."""

    __slots__ = ("_transport",)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def ping(self) -> bool:
        """GET /v2/ping: whether the API service is up."""
        body = await self._transport.request(_PING, _ping)
        return body.success

    async def markets(self) -> list[Market]:
        """GET /v2/all/markets: every market, with tick size, quantity increment and bounds."""
        return (await self._transport.request(_MARKETS, _markets)).data

    async def assets(self) -> list[Asset]:
        """GET /v2/all/assets: every coin and bookable contract."""
        return (await self._transport.request(_ASSETS, _assets)).data

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
        code = check_path_arg("market_code", market_code)
        query = history_query(limit, 300, start_time, end_time)
        path = _TRADES.path.format(code)
        return (await self._transport.request(_TRADES, _trades, path=path, query=query)).data

    async def ticker(self) -> list[Ticker]:
        """GET /v2/ticker: 24-hour statistics of every market."""
        return (await self._transport.request(_TICKER, _ticker)).data

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
        pairs: list[tuple[str, object]] = []
        if instrument_id is not None:
            pairs.append(("instrumentId", check_path_arg("instrument_id", instrument_id)))
        if limit is not None:
            pairs.append(("column", check_int("limit", limit, low=1, high=1000)))
        if start_time is not None:
            pairs.append(("startTime", ms_to_datetime_text(check_time("start_time", start_time))))
        query = query_string(pairs)
        return await self._transport.request(_DELIVERY_FUNDING, _delivery_funding, query=query)

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
        code = check_path_arg("market_code", market_code)
        frame = check_choice("timeframe", timeframe, _TIMEFRAMES)
        query = f"timeframe={frame}"
        rest = history_query(limit, 5000, start_time, end_time)
        if rest:
            query = f"{query}&{rest}"
        path = _CANDLES.path.format(code)
        return (await self._transport.request(_CANDLES, _candles, path=path, query=query)).data

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
        code = check_path_arg("market_code", market_code)
        query = history_query(limit, 500, start_time, end_time)
        path = _FUNDING_RATES.path.format(code)
        return (
            await self._transport.request(_FUNDING_RATES, _funding_rates, path=path, query=query)
        ).data

    async def depth(self, market_code: str, level: int = 5) -> OrderBook:
        """GET /v2/depth/{marketCode}/{level}: the order book, ``level`` (1-100) levels a side."""
        code = check_path_arg("market_code", market_code)
        depth = check_int("level", level, low=1, high=100)
        path = _DEPTH.path.format(code, depth)
        books = (await self._transport.request(_DEPTH, _depth, path=path)).data
        if not books:
            raise DecodeError("the depth response has no order book", endpoint=_DEPTH.name)
        return books[0]
