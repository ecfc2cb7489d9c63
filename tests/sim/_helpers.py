"""Test-side helpers: a signer written from the docs' formula (not the client's), a Trader
that sends signed requests for one account, and shape assertions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from coinflex_async.sim import SimAccount, Simulator

__all__ = [
    "Credentials",
    "Remote",
    "Reply",
    "Trader",
    "assert_shape",
    "docs_signature",
    "order_item",
]

_nonces = itertools.count(1)


def docs_signature(
    secret: str, timestamp: str, nonce: str, verb: str, host: str, path: str, body: str
) -> str:
    """msgString = Timestamp\\nNonce\\nVerb\\nHost\\nPath\\nBody, HMAC-SHA256, base64."""
    message = f"{timestamp}\n{nonce}\n{verb}\n{host}\n{path}\n{body}"
    return base64.b64encode(
        hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    ).decode()


@dataclass
class Reply:
    status: int
    headers: Any
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def data(self) -> Any:
        assert self.status == 200, (self.status, self.text)
        return self.json["data"]


@dataclass
class Credentials:
    api_key: str
    api_secret: str


@dataclass
class Remote:
    """A simulator in another process: its URL and the wall clock."""

    url: str
    clock: Callable[[], float] = time.time


class Trader:
    """Sends requests for one account, signed unless told otherwise."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        sim: Simulator | Remote,
        account: SimAccount | Credentials | None,
    ) -> None:
        self.session = session
        self.sim = sim
        self.account = account
        self.host = URL(sim.url).raw_authority  # the Host header aiohttp sends: 127.0.0.1:PORT

    @property
    def me(self) -> SimAccount:
        assert isinstance(self.account, SimAccount)
        return self.account

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        sign: bool = True,
        timestamp: str | None = None,
        nonce: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        query = urlencode(params) if params else ""
        raw_body = json.dumps(body) if body is not None else ""
        sent_headers = {"Content-Type": "application/json"}
        if sign and self.account is not None:
            timestamp = timestamp if timestamp is not None else str(int(self.sim.clock() * 1000))
            nonce = nonce if nonce is not None else f"{time.time_ns()}-{next(_nonces)}"
            sent_headers.update(
                AccessKey=self.account.api_key,
                Timestamp=timestamp,
                Nonce=nonce,
                Signature=signature
                if signature is not None
                else docs_signature(
                    self.account.api_secret,
                    timestamp,
                    nonce,
                    method,
                    self.host,
                    path,
                    raw_body or query,
                ),
            )
        sent_headers.update(headers or {})
        url = URL(f"{self.sim.url}{path}{'?' + query if query else ''}", encoded=True)
        async with self.session.request(
            method, url, data=raw_body.encode() if raw_body else None, headers=sent_headers
        ) as response:
            return Reply(response.status, response.headers, await response.text())

    async def get(self, path: str, **params: Any) -> Reply:
        return await self.request("GET", path, params=params or None)

    async def post(self, path: str, body: Any) -> Reply:
        return await self.request("POST", path, body=body)

    async def delete(self, path: str, body: Any = None) -> Reply:
        return await self.request("DELETE", path, body=body)

    async def place(
        self, *orders: dict[str, Any], response_type: str = "FULL"
    ) -> list[dict[str, Any]]:
        reply = await self.post(
            "/v2/orders/place", {"responseType": response_type, "orders": list(orders)}
        )
        return reply.data  # type: ignore[no-any-return]

    async def place_one(self, **order: Any) -> dict[str, Any]:
        (result,) = await self.place(order_item(**order))
        return result

    async def modify(self, *orders: dict[str, Any]) -> list[dict[str, Any]]:
        reply = await self.post(
            "/v2/orders/modify", {"responseType": "FULL", "orders": list(orders)}
        )
        return reply.data  # type: ignore[no-any-return]

    async def cancel(self, *orders: dict[str, Any]) -> list[dict[str, Any]]:
        reply = await self.delete(
            "/v2/orders/cancel", {"responseType": "FULL", "orders": list(orders)}
        )
        return reply.data  # type: ignore[no-any-return]

    async def history(self, **params: Any) -> list[dict[str, Any]]:
        return (await self.get("/v2.1/orders", **params)).data  # type: ignore[no-any-return]


_client_ids = itertools.count(1)


def order_item(
    market: str = "BTC-USD-SWAP-LIN",
    side: str = "BUY",
    quantity: str = "0.001",
    order_type: str = "LIMIT",
    price: str | None = "50000",
    time_in_force: str | None = None,
    client_order_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "clientOrderId": client_order_id or str(next(_client_ids)),
        "marketCode": market,
        "side": side,
        "quantity": quantity,
        "orderType": order_type,
    }
    if price is not None and order_type == "LIMIT":
        item["price"] = price
    if time_in_force is not None:
        item["timeInForce"] = time_in_force
    item.update(extra)
    return item


def assert_shape(item: dict[str, Any], keys: set[str], *, strings: Iterable[str] = ()) -> None:
    """``item`` has exactly ``keys``; each key of ``strings`` holds a str."""
    assert set(item) == keys, (sorted(set(item) - keys), sorted(keys - set(item)))
    for key in strings:
        assert isinstance(item[key], str), (key, item[key])
