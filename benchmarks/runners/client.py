"""The client under test: ``coinflex_async.Client`` with client-side rate limiting off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import coinflex_async as cf
from benchmarks.scenarios import (
    API_KEY,
    API_SECRET,
    BALANCE_COUNT,
    CANDLE_COUNT,
    DEPTH_LEVELS,
    MARKET_CODE,
    TRADE_COUNT,
)

__all__ = ["ClientRunner", "open_runner"]


class ClientRunner:
    def __init__(self, scenario: str, base_url: str) -> None:
        self._scenario = scenario
        self._client = cf.Client(API_KEY, API_SECRET, base_url=base_url, rate_limits=None)
        public, private = self._client.public, self._client.private
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "ping": public.ping,
            "trades": lambda: public.trades(MARKET_CODE, limit=TRADE_COUNT),
            "candles": lambda: public.candles(MARKET_CODE, timeframe="60s", limit=CANDLE_COUNT),
            "depth": lambda: public.depth(MARKET_CODE, level=DEPTH_LEVELS),
            "balances": private.balances,
            "place_order": lambda: private.place_order(
                market_code=MARKET_CODE,
                side="BUY",
                quantity="0.001",
                order_type="LIMIT",
                price="50000",
            ),
        }
        self.call = calls[scenario]

    def check(self, result: Any) -> None:
        expected_lengths = {
            "trades": TRADE_COUNT,
            "candles": CANDLE_COUNT,
            "balances": BALANCE_COUNT,
        }
        if self._scenario == "ping":
            ok = result is True
        elif self._scenario == "depth":
            ok = isinstance(result, cf.OrderBook) and len(result.asks) == DEPTH_LEVELS
        elif self._scenario == "place_order":
            ok = (
                isinstance(result, cf.OrderResult)
                and result.success
                and result.price == Decimal("50000")
            )
        else:
            ok = isinstance(result, list) and len(result) == expected_lengths[self._scenario]
        if not ok:
            raise RuntimeError(f"unexpected client result for {self._scenario}: {result!r:.300}")

    async def close(self) -> None:
        await self._client.close()


async def open_runner(scenario: str, base_url: str) -> ClientRunner:
    return ClientRunner(scenario, base_url)
