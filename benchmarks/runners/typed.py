"""The typed floor: the raw floor's requests, decoded straight from bytes into msgspec Structs
with Decimal fields (decoders built once), the order built as a Struct and encoded by msgspec:
the least a typed, Decimal-exact client does per request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from benchmarks.floor_models import (
    DECODERS,
    REQUEST_ENCODER,
    NewOrder,
    OrderResult,
    Ping,
    PlaceOrdersRequest,
)
from benchmarks.runners.raw import HTTPFloor, request_targets
from benchmarks.scenarios import (
    BALANCE_COUNT,
    CANDLE_COUNT,
    DEPTH_LEVELS,
    MARKET_CODE,
    TRADE_COUNT,
)

__all__ = ["TypedRunner", "open_runner"]


class TypedRunner:
    def __init__(self, scenario: str, base_url: str) -> None:
        self._http = HTTPFloor(base_url)
        self._scenario = scenario
        self._decode = DECODERS[scenario].decode
        self._verb, self._url, self._signed_path = request_targets(base_url)[scenario]
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "ping": self._ping,
            "trades": self._public_data,
            "candles": self._public_data,
            "depth": self._depth,
            "balances": self._signed_get,
            "place_order": self._place_order,
        }
        self.call = calls[scenario]

    async def _ping(self) -> bool:
        ping: Ping = self._decode(await self._http.fetch(self._verb, self._url))
        return ping.success

    async def _public_data(self) -> Any:
        return self._decode(await self._http.fetch(self._verb, self._url)).data

    async def _depth(self) -> Any:
        return self._decode(await self._http.fetch(self._verb, self._url)).data[0]

    async def _signed_get(self) -> Any:
        headers = self._http.signer.headers("GET", self._signed_path, "")
        return self._decode(await self._http.fetch("GET", self._url, headers)).data

    async def _place_order(self) -> OrderResult:
        order = NewOrder(
            client_order_id=str(next(self._http.client_order_ids)),
            market_code=MARKET_CODE,
            side="BUY",
            quantity=Decimal("0.001"),
            time_in_force="GTC",
            order_type="LIMIT",
            price=Decimal("50000"),
        )
        request = PlaceOrdersRequest(orders=[order], timestamp=int(time.time() * 1000))
        body = REQUEST_ENCODER.encode(request)
        headers = self._http.signer.headers("POST", self._signed_path, body.decode())
        result: OrderResult = self._decode(
            await self._http.fetch("POST", self._url, headers, body)
        ).data[0]
        if not result.success:
            raise RuntimeError(f"order not placed: {result}")
        return result

    def check(self, result: object) -> None:
        expected_lengths = {
            "trades": TRADE_COUNT,
            "candles": CANDLE_COUNT,
            "balances": BALANCE_COUNT,
        }
        if self._scenario == "ping":
            ok = result is True
        elif self._scenario == "depth":
            ok = len(getattr(result, "asks", ())) == DEPTH_LEVELS
        elif self._scenario == "place_order":
            ok = isinstance(result, OrderResult) and result.price == Decimal("50000")
        else:
            ok = isinstance(result, list) and len(result) == expected_lengths[self._scenario]
        if not ok:
            raise RuntimeError(f"unexpected typed result for {self._scenario}: {result!r:.300}")

    async def close(self) -> None:
        await self._http.close()


async def open_runner(scenario: str, base_url: str) -> TypedRunner:
    return TypedRunner(scenario, base_url)
