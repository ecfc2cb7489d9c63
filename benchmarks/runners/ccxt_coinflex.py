"""ccxt 1.90.1's ``coinflex`` (async), rate limiting off, pointed at the canned server.

Runs on Python 3.10 in ``benchmarks/.venv-ccxt``. ccxt has a method for each of our scenarios,
though it reads some from v3 endpoints (the canned server serves those in the shape ccxt's code
documents): ping -> ``fetch_status`` (GET /v2/ping); trades -> ``fetch_trades`` (GET
/v2/publictrades); candles -> ``fetch_ohlcv`` (GET /v3/candles); depth -> ``fetch_order_book``
(GET /v3/depth); balances -> ``fetch_balance`` (signed GET /v3/account); place one order ->
``create_order`` (signed POST /v2/orders/place). Markets are loaded once, before timing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import ccxt.async_support as ccxt  # type: ignore[import-not-found]

from benchmarks.scenarios import (
    API_KEY,
    API_SECRET,
    BALANCE_COUNT,
    CANDLE_COUNT,
    CCXT_SYMBOL,
    DEPTH_LEVELS,
    TRADE_COUNT,
)

__all__ = ["CcxtRunner", "open_runner"]


class CcxtRunner:
    def __init__(self, scenario: str, base_url: str) -> None:
        self._scenario = scenario
        self._exchange = ccxt.coinflex(
            {
                "apiKey": API_KEY,
                "secret": API_SECRET,
                "enableRateLimit": False,
                "urls": {"api": {"rest": base_url}},
            }
        )
        exchange = self._exchange
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "ping": lambda: exchange.fetch_status(),
            "trades": lambda: exchange.fetch_trades(CCXT_SYMBOL, limit=TRADE_COUNT),
            "candles": lambda: exchange.fetch_ohlcv(CCXT_SYMBOL, "1m", limit=CANDLE_COUNT),
            "depth": lambda: exchange.fetch_order_book(CCXT_SYMBOL, limit=DEPTH_LEVELS),
            "balances": lambda: exchange.fetch_balance(),
            "place_order": lambda: exchange.create_order(CCXT_SYMBOL, "limit", "buy", 0.001, 50000),
        }
        self.call = calls[scenario]

    async def load_markets(self) -> None:
        await self._exchange.load_markets()

    def check(self, result: Any) -> None:
        scenario = self._scenario
        if scenario == "ping":
            ok = result["status"] == "ok"
        elif scenario == "trades":
            ok = len(result) == TRADE_COUNT and result[0]["price"] > 0
        elif scenario == "candles":
            ok = len(result) == CANDLE_COUNT and result[0][1] > 0
        elif scenario == "depth":
            ok = len(result["asks"]) == DEPTH_LEVELS and len(result["bids"]) == DEPTH_LEVELS
        elif scenario == "balances":
            ok = len(result["total"]) == BALANCE_COUNT
        else:
            ok = result["id"] is not None and result["price"] == 50000
        if not ok:
            raise RuntimeError(f"unexpected ccxt result for {scenario}: {result!r:.300}")

    async def close(self) -> None:
        await self._exchange.close()


async def open_runner(scenario: str, base_url: str) -> CcxtRunner:
    runner = CcxtRunner(scenario, base_url)
    try:
        await runner.load_markets()
    except BaseException:
        await runner.close()
        raise
    return runner
