"""What the stream's tests share: a client for the loopback exchange of tests/ws_loopback.py
(written from the docs), waiting for a condition, and updates as the exchange writes them."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import coinflex_async as cf
from tests.ws_loopback import WsExchange

KEY = "ws-key"
SECRET = "ws-secret"
SWAP = "BTC-USD-SWAP-LIN"
FAST = cf.RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, lookup_interval=0.05)
LIMIT = {"market_code": SWAP, "side": "BUY", "quantity": "0.5", "order_type": "LIMIT"}


def client_for(ex: WsExchange, **options: Any) -> cf.Client:
    options.setdefault("retry", FAST)
    options.setdefault("rate_limits", None)
    options.setdefault("timeout", 2.0)
    options.setdefault("recv_window", 300)
    return cf.Client(KEY, SECRET, base_url=ex.url, **options)  # type: ignore[attr-defined]


async def until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def book(seq: int, price: Any = 5556.82) -> dict[str, Any]:
    return {
        "instrumentId": SWAP,
        "seqNum": seq,
        "timestamp": "1609350022785",
        "checksum": 1139901235,
        "asks": [[price, 11, 0, 0]],
        "bids": [[5556.81, 1.92, 0, 0]],
    }


def burst(first: int, count: int) -> list[str]:
    """``count`` trade frames, compact as the exchange sends them, to push in one go."""
    frames = []
    for i in range(first, first + count):
        item = {"tradeId": str(i), "price": "100", "quantity": "1", "side": "buy",
                "marketCode": SWAP, "timestamp": str(1_600_000_000_000 + i)}  # fmt: skip
        frames.append(json.dumps({"table": "trade", "data": [item]}, separators=(",", ":")))
    return frames


async def push_burst(exchange: WsExchange, frames: list[str]) -> None:
    for text in frames:  # written without waiting for the reader: they arrive together
        await exchange.push_raw(f"trade:{SWAP}", text)


def compact(table: str, items: list[Any]) -> str:
    """An update as the exchange writes it (no spaces): the stream's fast path."""
    return json.dumps({"table": table, "data": items}, separators=(",", ":"))


def deep_book(seq: int, levels: int) -> dict[str, Any]:
    return {**book(seq), "asks": [[5557 + i, 1, 0, 0] for i in range(levels)]}
