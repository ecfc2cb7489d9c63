"""The raw floor: one aiohttp session and ``json.loads`` (plus HMAC signing and ``json.dumps``
for signed calls): the least any aiohttp-based client does per request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from yarl import URL

from benchmarks.scenarios import (
    API_KEY,
    API_SECRET,
    BALANCE_COUNT,
    CANDLE_COUNT,
    DEPTH_LEVELS,
    MARKET_CODE,
    TRADE_COUNT,
)

__all__ = ["FloorSigner", "HTTPFloor", "RawRunner", "open_runner", "request_targets"]


def request_targets(base_url: str) -> dict[str, tuple[str, URL, str]]:
    """``(verb, url, signed path)`` per scenario, with the query each client sends.

    The URL is parsed once: the least a client can do is to build it without re-encoding it.
    """
    targets = {
        "ping": ("GET", f"{base_url}/v2/ping", ""),
        "trades": ("GET", f"{base_url}/v2/publictrades/{MARKET_CODE}?limit={TRADE_COUNT}", ""),
        "candles": (
            "GET",
            f"{base_url}/v2/candles/{MARKET_CODE}?timeframe=60s&limit={CANDLE_COUNT}",
            "",
        ),
        "depth": ("GET", f"{base_url}/v2/depth/{MARKET_CODE}/{DEPTH_LEVELS}", ""),
        "balances": ("GET", f"{base_url}/v2/balances", "/v2/balances"),
        "place_order": ("POST", f"{base_url}/v2/orders/place", "/v2/orders/place"),
    }
    return {
        scenario: (verb, URL(url, encoded=True), signed_path)
        for scenario, (verb, url, signed_path) in targets.items()
    }


class FloorSigner:
    """The docs' signature: HMAC-SHA256 over timestamp, nonce, verb, host, path and body."""

    def __init__(self, base_url: str) -> None:
        self._host = base_url.partition("://")[2]
        self._secret = API_SECRET.encode()
        self._nonces = itertools.count(int(time.time() * 1000))

    def headers(self, verb: str, path: str, body: str) -> dict[str, str]:
        timestamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        nonce = str(next(self._nonces))
        message = f"{timestamp}\n{nonce}\n{verb}\n{self._host}\n{path}\n{body}"
        digest = hmac.new(self._secret, message.encode(), hashlib.sha256).digest()
        return {
            "Content-Type": "application/json",
            "AccessKey": API_KEY,
            "Timestamp": timestamp,
            "Signature": base64.b64encode(digest).decode(),
            "Nonce": nonce,
        }


class HTTPFloor:
    """What both floors share: the session, the signer and one request returning the body."""

    def __init__(self, base_url: str) -> None:
        self.session = aiohttp.ClientSession()
        self.signer = FloorSigner(base_url)
        self.client_order_ids = itertools.count(int(time.time() * 1000))

    async def fetch(
        self, verb: str, url: URL, headers: dict[str, str] | None = None, data: bytes | None = None
    ) -> bytes:
        async with self.session.request(verb, url, headers=headers, data=data) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
            return body

    async def close(self) -> None:
        await self.session.close()


class RawRunner:
    def __init__(self, scenario: str, base_url: str) -> None:
        self._http = HTTPFloor(base_url)
        self._scenario = scenario
        self._verb, self._url, self._signed_path = request_targets(base_url)[scenario]
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "ping": self._public,
            "trades": self._public_data,
            "candles": self._public_data,
            "depth": self._public_data,
            "balances": self._signed_get,
            "place_order": self._place_order,
        }
        self.call = calls[scenario]

    async def _public(self) -> Any:
        return json.loads(await self._http.fetch(self._verb, self._url))

    async def _public_data(self) -> Any:
        return json.loads(await self._http.fetch(self._verb, self._url))["data"]

    async def _signed_get(self) -> Any:
        headers = self._http.signer.headers("GET", self._signed_path, "")
        return json.loads(await self._http.fetch("GET", self._url, headers))["data"]

    async def _place_order(self) -> Any:
        order = {
            "clientOrderId": str(next(self._http.client_order_ids)),
            "marketCode": MARKET_CODE,
            "side": "BUY",
            "quantity": "0.001",
            "timeInForce": "GTC",
            "orderType": "LIMIT",
            "price": "50000",
        }
        request = {
            "responseType": "FULL",
            "timestamp": int(time.time() * 1000),
            "orders": [order],
        }
        body = json.dumps(request, separators=(",", ":"))
        headers = self._http.signer.headers("POST", self._signed_path, body)
        result = json.loads(await self._http.fetch("POST", self._url, headers, body.encode()))
        first = result["data"][0]
        if first["success"] != "true":
            raise RuntimeError(f"order not placed: {first}")
        return first

    def check(self, result: object) -> None:
        expected_lengths = {
            "trades": TRADE_COUNT,
            "candles": CANDLE_COUNT,
            "balances": BALANCE_COUNT,
        }
        if self._scenario == "ping":
            ok = result == {"success": "true"}
        elif self._scenario == "depth":
            ok = isinstance(result, list) and len(result[0]["asks"]) == DEPTH_LEVELS
        elif self._scenario == "place_order":
            ok = isinstance(result, dict) and result["orderId"] != ""
        else:
            ok = isinstance(result, list) and len(result) == expected_lengths[self._scenario]
        if not ok:
            raise RuntimeError(f"unexpected raw result for {self._scenario}: {result!r:.300}")

    async def close(self) -> None:
        await self._http.close()


async def open_runner(scenario: str, base_url: str) -> RawRunner:
    return RawRunner(scenario, base_url)
