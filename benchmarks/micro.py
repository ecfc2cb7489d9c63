"""Micro-benchmarks of the client's hot path, each beside the floor doing the same job.

Signing (message, HMAC, headers), the nonce, a rate-limiter acquire while tokens are free, the
request encoding of an 8-order batch, and the decoding of every scenario's response. Each figure
is the median over repeats of the mean time per operation (``time.perf_counter``), in the
driver's process, while no worker runs.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from benchmarks.floor_models import DECODERS, REQUEST_ENCODER, NewOrder, PlaceOrdersRequest
from benchmarks.payloads import build_bodies, place_order_body
from benchmarks.runners.raw import FloorSigner
from benchmarks.scenarios import DEPTH_LEVELS, MARKET_CODE, SCENARIOS

__all__ = ["MicroResult", "run_micro"]

SIGNING_TARGET_US = 10.0
LIMITER_TARGET_US = 5.0
_HOST_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class MicroResult:
    group: str
    name: str
    us_per_op: float | None
    target_us: float | None = None
    note: str = ""

    @property
    def meets_target(self) -> bool | None:
        if self.target_us is None or self.us_per_op is None:
            return None
        return self.us_per_op <= self.target_us


def _per_op_us(operation: Callable[[], object], number: int, repeat: int) -> float:
    operation()  # the first call may build caches or grow the heap: not the steady state
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            operation()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(samples)


def _per_op_us_async(operation: Callable[[], Awaitable[object]], number: int, repeat: int) -> float:
    async def many() -> None:
        for _ in range(number):
            await operation()

    samples = []
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(operation())
        for _ in range(repeat):
            start = time.perf_counter()
            loop.run_until_complete(many())
            samples.append((time.perf_counter() - start) / number * 1e6)
    finally:
        loop.close()
    return statistics.median(samples)


def _scale(quick: bool, number: int) -> int:
    return max(1, number // 50) if quick else number


def _sample_orders() -> list[dict[str, str]]:
    return [
        {
            "market_code": MARKET_CODE,
            "side": "BUY" if i % 2 else "SELL",
            "quantity": f"0.00{i + 1}",
            "order_type": "LIMIT",
            "price": f"{54900 + i * 0.5}",
            "time_in_force": "GTC",
        }
        for i in range(8)
    ]


def _floor_micro(quick: bool, repeat: int) -> list[MicroResult]:
    results = []
    signer = FloorSigner(_HOST_URL)
    results.append(
        MicroResult(
            "signing",
            "floor: timestamp + nonce + HMAC + headers (GET)",
            _per_op_us(
                lambda: signer.headers("GET", "/v2/balances", ""), _scale(quick, 20000), repeat
            ),
        )
    )
    orders = _sample_orders()

    def encode_raw() -> bytes:
        wire = [
            {
                "clientOrderId": str(1612249737724 + i),
                "marketCode": order["market_code"],
                "side": order["side"],
                "quantity": order["quantity"],
                "timeInForce": order["time_in_force"],
                "orderType": order["order_type"],
                "price": order["price"],
            }
            for i, order in enumerate(orders)
        ]
        payload = {"responseType": "FULL", "timestamp": 1615430912440, "orders": wire}
        return json.dumps(payload, separators=(",", ":")).encode()

    def encode_typed() -> bytes:
        wire = [
            NewOrder(
                client_order_id=str(1612249737724 + i),
                market_code=order["market_code"],
                side=order["side"],
                quantity=Decimal(order["quantity"]),
                time_in_force=order["time_in_force"],
                order_type=order["order_type"],
                price=Decimal(order["price"]),
            )
            for i, order in enumerate(orders)
        ]
        request = PlaceOrdersRequest(orders=wire, timestamp=1615430912440)
        return REQUEST_ENCODER.encode(request)

    number = _scale(quick, 5000)
    results.append(
        MicroResult(
            "encode", "raw floor: 8 order dicts, json.dumps", _per_op_us(encode_raw, number, repeat)
        )
    )
    results.append(
        MicroResult(
            "encode",
            "typed floor: 8 Decimal Structs, msgspec",
            _per_op_us(encode_typed, number, repeat),
        )
    )
    return results


def _decode_micro(quick: bool, repeat: int, client_decoders: dict[str, Any]) -> list[MicroResult]:
    bodies = build_bodies()
    body_by_scenario = {
        "ping": bodies["/v2/ping"],
        "trades": bodies[f"/v2/publictrades/{MARKET_CODE}"],
        "candles": bodies[f"/v2/candles/{MARKET_CODE}"],
        "depth": bodies[f"/v2/depth/{MARKET_CODE}/{DEPTH_LEVELS}"],
        "balances": bodies["/v2/balances"],
        "place_order": place_order_body("1612249737724"),
    }
    results = []
    for scenario in SCENARIOS:
        body = body_by_scenario[scenario]
        number = _scale(quick, max(5, 2_000_000 // len(body)))
        results.append(
            MicroResult(
                "decode",
                f"{scenario} ({len(body):,} B): json.loads",
                _per_op_us(partial(json.loads, body), number, repeat),
            )
        )
        typed = DECODERS[scenario].decode
        results.append(
            MicroResult(
                "decode",
                f"{scenario}: typed floor",
                _per_op_us(partial(typed, body), number, repeat),
            )
        )
        decoder = client_decoders.get(scenario)
        if isinstance(decoder, str):
            results.append(MicroResult("decode", f"{scenario}: coinflex_async", None, note=decoder))
        elif decoder is not None:
            results.append(
                MicroResult(
                    "decode",
                    f"{scenario}: coinflex_async",
                    _per_op_us(partial(decoder, body), number, repeat),
                )
            )
    return results


class _RequestStandIn:
    """What the signing middleware reads of an aiohttp ``ClientRequest``, without a session."""

    def __init__(self, method: str, path: str, body: bytes) -> None:
        from aiohttp import payload
        from multidict import CIMultiDict
        from yarl import URL

        self.method = method
        self.url = URL(_HOST_URL + path)
        self.headers = CIMultiDict({"Host": "127.0.0.1:8080", "AccessKey": "key"})
        self.body: Any = payload.BytesPayload(body) if body else b""


def _client_micro(quick: bool, repeat: int) -> tuple[list[MicroResult], dict[str, Any]]:
    """The client's pieces; a piece whose API differs from what this expects is reported n/a."""
    results: list[MicroResult] = []
    decoders: dict[str, Any] = {}
    try:
        from coinflex_async import _signing
    except Exception as error:  # the client may be mid-edit; report, don't crash
        note = f"n/a: {type(error).__name__}: {error}"
        return [MicroResult("client", "coinflex_async", None, note=note)], dict.fromkeys(
            SCENARIOS, note
        )

    def attempt(group: str, name: str, measure: Callable[[], float], target: float | None) -> None:
        try:
            results.append(MicroResult(group, name, measure(), target))
        except Exception as error:
            results.append(
                MicroResult(group, name, None, target, f"n/a: {type(error).__name__}: {error}")
            )

    nonces = _signing.NonceSource()
    attempt(
        "signing",
        "NonceSource.next()",
        lambda: _per_op_us(nonces.next, _scale(quick, 50000), repeat),
        None,
    )
    secret = b"b1pHMyGvXcaEbEfd4w0tVlvtjlyHXgIOCb1FKNU0ZjU="
    attempt(
        "signing",
        "sign_request() (message + HMAC + base64)",
        lambda: _per_op_us(
            lambda: _signing.sign_request(
                secret,
                "2021-03-11T03:00:00",
                1615430912440,
                "GET",
                "127.0.0.1:8080",
                "/v2/balances",
                "",
            ),
            _scale(quick, 20000),
            repeat,
        ),
        None,
    )

    def middleware_sign(method: str, path: str, body: bytes) -> float:
        credentials = _signing.Credentials("key", secret.decode())
        middleware = _signing.SigningMiddleware(credentials, _signing.NonceSource())
        request: Any = _RequestStandIn(method, path, body)
        return _per_op_us(lambda: middleware.sign(request), _scale(quick, 20000), repeat)

    one_order = json.dumps(
        {"responseType": "FULL", "timestamp": 1615430912440, "orders": [_sample_orders()[0]]}
    ).encode()
    attempt(
        "signing",
        "signing middleware .sign(): timestamp + nonce + HMAC + headers (GET)",
        lambda: middleware_sign("GET", "/v2/balances", b""),
        SIGNING_TARGET_US,
    )
    attempt(
        "signing",
        "signing middleware .sign(): same, POST with a one-order body",
        lambda: middleware_sign("POST", "/v2/orders/place", one_order),
        SIGNING_TARGET_US,
    )

    def limiter_acquire() -> float:
        from coinflex_async import _ratelimit

        # Windows shaped like the defaults (two REST windows) but too wide ever to run dry.
        limits = _ratelimit.RateLimits(
            rest=(_ratelimit.Window(10**12, 1.0), _ratelimit.Window(10**12, 300.0))
        )
        limiter = _ratelimit.RateLimiter(limits)
        buckets = (_ratelimit.REST,)
        # What the transport does per request: take the tokens, and release them at its end
        # (a revision without hold() is measured through acquire()).
        if not hasattr(limiter, "hold"):

            async def acquire() -> None:
                await limiter.acquire(buckets)

            return _per_op_us_async(acquire, _scale(quick, 50000), repeat)

        async def hold_and_release() -> None:
            limiter.release(await limiter.hold(buckets))

        return _per_op_us_async(hold_and_release, _scale(quick, 50000), repeat)

    attempt(
        "limiter",
        "RateLimiter.hold() + release() with tokens free (2 REST windows)",
        limiter_acquire,
        LIMITER_TARGET_US,
    )

    def encode_batch() -> float:
        from coinflex_async import _orders
        from coinflex_async.models import requests

        orders = _sample_orders()
        ids = requests.ClientOrderIds()
        body = _orders.batch_body

        def encode() -> bytes:
            wire = [requests.to_wire_new(order, i, ids) for i, order in enumerate(orders)]
            return body(wire, None, "FULL")

        encode()
        return _per_op_us(encode, _scale(quick, 5000), repeat)

    attempt("encode", "coinflex_async: to_wire_new x8 + batch body", encode_batch, None)

    try:
        from coinflex_async import models
        from coinflex_async.models._base import Envelope, decoder_for

        decoders = {
            "ping": decoder_for(models.Ping).decode,
            "trades": decoder_for(Envelope[list[models.PublicTrade]]).decode,
            "candles": decoder_for(Envelope[list[models.Candle]]).decode,
            "depth": decoder_for(Envelope[list[models.OrderBook]]).decode,
            "balances": decoder_for(Envelope[list[models.Balance]]).decode,
            "place_order": decoder_for(Envelope[list[models.OrderResult]]).decode,
        }
    except Exception as error:
        decoders = dict.fromkeys(SCENARIOS, f"n/a: {type(error).__name__}: {error}")
    return results, decoders


def run_micro(quick: bool = False, with_client: bool = True) -> list[MicroResult]:
    repeat = 3 if quick else 7
    results = _floor_micro(quick, repeat)
    client_decoders: dict[str, Any] = {}
    if with_client:
        client_results, client_decoders = _client_micro(quick, repeat)
        results += client_results
    results += _decode_micro(quick, repeat, client_decoders)
    group_order = ["signing", "limiter", "encode", "decode", "client"]
    return sorted(results, key=lambda r: group_order.index(r.group))
