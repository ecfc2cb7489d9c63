"""Reliability under faults and load, through real sockets against coinflex_async.sim.

Scale: the normal suite runs a reduced version (CI must stay fast); ``nox -s reliability`` sets
``COINFLEX_RELIABILITY=full`` (1,000 orders, 10,000 calls) and
``COINFLEX_RELIABILITY_RESULTS=<file>`` to collect the figures RELIABILITY.md reports.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
import tracemalloc
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

import coinflex_async as cf
from coinflex_async.sim import Fault, RateLimit, RateLimits, Simulator

FULL = os.environ.get("COINFLEX_RELIABILITY") == "full"
ORDERS = 1000 if FULL else 200
CALLS = 10_000 if FULL else 2_000
MARKET = "BTC-USD-SWAP-LIN"

FAULT_KINDS = (
    Fault.reset_before,
    Fault.reset_after,
    lambda **m: Fault.server_error(503, **m),
    lambda **m: Fault.server_error(503, applied=True, **m),
    Fault.html_502,
    lambda **m: Fault.html_502(applied=True, **m),
    Fault.truncated_json,
    Fault.malformed_json,
    # Slower than the client's timeout: the request is applied after the client gave up.
    lambda **m: Fault.latency(0.6, **m),
)


def record(name: str, figures: dict[str, Any]) -> None:
    """Print the figures; append them to COINFLEX_RELIABILITY_RESULTS when set."""
    print(f"\n{name}: {json.dumps(figures, sort_keys=True)}")
    target = os.environ.get("COINFLEX_RELIABILITY_RESULTS")
    if target:
        path = Path(target)
        results = json.loads(path.read_text()) if path.exists() else {}
        results[name] = figures
        path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def _share(total: float, kinds: int) -> float:
    """Per-kind probability so that one of ``kinds`` independent draws fires with ``total``."""
    return 1 - (1 - total) ** (1 / kinds)


async def test_orders_exist_exactly_once_under_20_percent_faults() -> None:
    """Every order placed through 20% faulted requests (before and after the exchange applied
    them) exists exactly once, or its caller got a clear error and it exists zero times."""
    async with Simulator(rate_limits=None, seed=7) as sim:
        alice = sim.create_account(balances={"USD": "1000000000"})
        share = _share(0.20, len(FAULT_KINDS))
        for make in FAULT_KINDS:
            sim.inject(make(path="/v2/orders/place", probability=share))
            sim.inject(make(path="/v2.1/orders", probability=share))
        retry = cf.RetryPolicy(attempts=5, backoff=0.01, max_backoff=0.1, lookup_interval=0.1)
        async with cf.Client(
            alice.api_key,
            alice.api_secret,
            base_url=sim.url,
            rate_limits=None,
            retry=retry,
            timeout=0.4,
            recv_window=1500,
        ) as client:
            # Our own client order IDs, so that failures can be checked on the exchange too.
            ids = [str(10_000_000 + i) for i in range(ORDERS)]
            orders = [
                {
                    "market_code": MARKET,
                    "side": "BUY",
                    "quantity": "0.001",
                    "order_type": "LIMIT",
                    # Resting bids, all within the sanity bound, none crossing.
                    "price": str(Decimal(45000) + Decimal("0.5") * i),
                    "client_order_id": coid,
                }
                for i, coid in enumerate(ids)
            ]
            outcome: dict[str, str] = {}

            async def one(order: dict[str, Any]) -> None:
                try:
                    result = await client.private.place_order(**order)
                except cf.OrderStatusUnknownError:
                    outcome[order["client_order_id"]] = "unknown"
                except cf.CoinFlexError as exc:
                    outcome[order["client_order_id"]] = f"error:{type(exc).__name__}"
                else:
                    assert result.client_order_id == order["client_order_id"]
                    outcome[order["client_order_id"]] = "placed"

            async def batch(chunk: list[dict[str, Any]]) -> None:
                try:
                    results = await client.private.place_orders(chunk)
                except cf.CoinFlexError as exc:
                    for order in chunk:
                        kind = "unknown" if isinstance(exc, cf.OrderStatusUnknownError) else "error"
                        outcome[order["client_order_id"]] = f"{kind}:{type(exc).__name__}"
                    return
                for order, result in zip(chunk, results, strict=True):
                    assert result.client_order_id == order["client_order_id"]
                    outcome[order["client_order_id"]] = "placed" if result.success else "rejected"

            started = time.monotonic()
            half = ORDERS // 2
            singles = [one(order) for order in orders[:half]]
            batches = [batch(orders[i : i + 8]) for i in range(half, ORDERS, 8)]
            jobs = singles + batches
            for i in range(0, len(jobs), 50):  # 50 calls in flight at a time
                await asyncio.gather(*jobs[i : i + 50])
            elapsed = time.monotonic() - started

        counts = {coid: len(alice.orders_with_client_id(coid)) for coid in ids}
        duplicates = sum(1 for n in counts.values() if n > 1)
        silent_losses = sum(1 for c in ids if outcome[c] == "placed" and counts[c] == 0)
        false_failures = sum(1 for c in ids if outcome[c].startswith("error") and counts[c] != 0)
        unknown = [c for c in ids if outcome[c].startswith("unknown")]
        figures = {
            "orders": ORDERS,
            "requests_seen_by_exchange": sim.stats.requests,
            "faults_injected": dict(sim.stats.faults_injected),
            "faults_injected_total": sim.stats.faults_injected_total,
            "outcomes": dict(Counter(o.split(":")[0] for o in outcome.values())),
            "error_types": dict(Counter(o for o in outcome.values() if ":" in o)),
            "duplicates": duplicates,
            "silent_losses": silent_losses,
            "errors_yet_placed": false_failures,
            "unknown_and_placed": sum(1 for c in unknown if counts[c] == 1),
            "orders_on_exchange": sum(counts.values()),
            "seconds": round(elapsed, 2),
        }
        record("exactly_once", figures)
        # A fault rate near 20% of the order and lookup requests was really injected.
        assert sim.stats.faults_injected_total >= 0.12 * sim.stats.requests
        assert len(outcome) == ORDERS
        assert duplicates == 0
        assert silent_losses == 0
        assert false_failures == 0
        # An unknown outcome names its order, so a caller can reconcile; none may be duplicated.
        assert all(counts[c] <= 1 for c in unknown)
        assert figures["outcomes"].get("placed", 0) >= 0.9 * ORDERS


async def test_limits_hold_under_load_without_a_single_429() -> None:
    """Many concurrent calls from one client: no window of any bucket is exceeded at the
    exchange, no 429, the achieved rate is within 5% of the configured one, memory is flat."""
    per_second, per_5s = 400, 1800  # two windows at once, like the exchange's 100/s + 2,500/5 min
    sim_limits = RateLimits(
        (RateLimit("per_second", per_second, 1.0), RateLimit("per_5s", per_5s, 5.0))
    )
    client_limits = cf.RateLimits(rest=(cf.Window(per_second, 1.0), cf.Window(per_5s, 5.0)))
    async with Simulator(rate_limits=sim_limits) as sim:
        async with cf.Client(base_url=sim.url, rate_limits=client_limits) as client:

            async def burst(count: int) -> float:
                started = time.monotonic()
                await asyncio.gather(*(client.public.ping() for _ in range(count)))
                return time.monotonic() - started

            await burst(100)  # warm up: connections, limiter buckets, decoders
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            seconds = await burst(CALLS)
            gc.collect()
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()

        ours = [tracemalloc.Filter(True, "*coinflex_async/[_rm]*")]  # client code, not sim/
        growth = sum(
            stat.size_diff
            for stat in after.filter_traces(ours).compare_to(before.filter_traces(ours), "filename")
        )
        # After the first burst the 5 s window's long-run rate governs.
        configured = per_5s / 5.0
        achieved = (CALLS - 0) / seconds
        figures = {
            "calls": CALLS,
            "seconds": round(seconds, 2),
            "configured_rate": configured,
            "achieved_rate": round(achieved, 1),
            "achieved_vs_configured": round(achieved / configured, 3),
            "max_in_1s_window": sim.stats.max_in_window("per_second"),
            "max_in_5s_window": sim.stats.max_in_window("per_5s"),
            "responses_429": sim.stats.rate_limited,
            "client_memory_growth_bytes": growth,
        }
        record("limits_under_load", figures)
        assert sim.stats.rate_limited == 0
        assert figures["max_in_1s_window"] <= per_second
        assert figures["max_in_5s_window"] <= per_5s
        # Not slower than 5% under the configured rate (the limiter alone reaches 98%: it
        # paces each window as if 50 ms longer). Client and simulator share one event loop here,
        # so a loaded machine costs throughput: the reduced run, on CI, allows 8%. Faster than
        # configured is no fault in itself: a burst that spans less than two 5 s windows may
        # legitimately average more (2,000 calls measured 1.048-1.051 on a quiet machine); the
        # exact upper bound is the exchange's own count per window, asserted above.
        assert achieved / configured >= (0.95 if FULL else 0.92)
        assert growth < 256 * 1024  # no per-call growth: 10,000 calls would be megabytes


async def test_a_server_429_is_honoured_via_retry_after() -> None:
    """When the exchange's limits are tighter than the client's, its 429s are waited out."""
    sim_limits = RateLimits((RateLimit("per_second", 10, 1.0),))
    async with Simulator(rate_limits=sim_limits) as sim:
        retry = cf.RetryPolicy(attempts=6, backoff=0.01)
        async with cf.Client(base_url=sim.url, rate_limits=None, retry=retry) as client:
            started = time.monotonic()
            results = await asyncio.gather(*(client.public.ping() for _ in range(25)))
            elapsed = time.monotonic() - started
    assert results == [True] * 25
    assert sim.stats.rate_limited > 0
    assert elapsed >= 1.0  # the Retry-After (>= 1 s) was waited, not hammered


# -- every fault: the documented exception, or a successful retry for safe requests ---------

FAULT_OUTCOMES: list[tuple[str, Any, type[BaseException]]] = [
    ("reset_before", Fault.reset_before, cf.TransportError),
    ("reset_after", Fault.reset_after, cf.TransportError),
    ("503 gateway", lambda **m: Fault.server_error(503, **m), cf.ServerError),
    ("500", lambda **m: Fault.server_error(500, **m), cf.ServerError),
    ("html 502", Fault.html_502, cf.ServerError),
    ("truncated json", Fault.truncated_json, cf.DecodeError),
    ("malformed json", Fault.malformed_json, cf.DecodeError),
    ("slow body", lambda **m: Fault.slow_body(2.0, **m), cf.TransportError),
    ("latency", lambda **m: Fault.latency(2.0, **m), cf.TransportError),
]


@pytest.mark.parametrize(
    ("name", "make", "expected"), FAULT_OUTCOMES, ids=[f[0] for f in FAULT_OUTCOMES]
)
async def test_each_fault_gives_its_documented_exception(
    name: str, make: Any, expected: type[BaseException]
) -> None:
    async with Simulator(rate_limits=None) as sim:
        sim.inject(make(path="/v2/ticker", times=1))
        async with cf.Client(base_url=sim.url, retry=None, timeout=0.5) as client:
            started = time.monotonic()
            with pytest.raises(cf.CoinFlexError) as caught:
                await asyncio.wait_for(client.public.ticker(), timeout=5)
            assert time.monotonic() - started < 2.0  # never a hang
            assert type(caught.value) is expected, repr(caught.value)
            assert not isinstance(caught.value, (aiohttp.ClientError, msgspec.MsgspecError))
            # And the next call, fault spent, works on the same client.
            assert isinstance(await client.public.ticker(), list)


# A body of the wrong shape is not retried (it would most likely come back the same).
TRANSIENT = [f for f in FAULT_OUTCOMES if f[2] is not cf.DecodeError]


@pytest.mark.parametrize(("name", "make", "expected"), TRANSIENT, ids=[f[0] for f in TRANSIENT])
async def test_each_transient_fault_is_survived_by_a_retried_get(
    name: str, make: Any, expected: type[BaseException]
) -> None:
    async with Simulator(rate_limits=None) as sim:
        sim.inject(make(path="/v2/ticker", times=2))
        retry = cf.RetryPolicy(attempts=4, backoff=0.01)
        async with cf.Client(base_url=sim.url, retry=retry, timeout=0.5) as client:
            assert isinstance(await asyncio.wait_for(client.public.ticker(), timeout=10), list)
    assert sim.stats.by_route  # the sim did serve it


async def test_connection_refused_is_a_transport_error_quickly() -> None:
    async with Simulator() as sim:
        url = sim.url
    async with cf.Client(base_url=url, retry=cf.RetryPolicy(attempts=2, backoff=0.01)) as client:
        with pytest.raises(cf.TransportError) as caught:
            await asyncio.wait_for(client.public.ping(), timeout=5)
    assert caught.value.request_sent is False


# -- clean shutdown --------------------------------------------------------------------------


def _client_side(filename: str) -> bool:
    path = filename.replace("\\", "/")
    if "/coinflex_async/" in path:
        return "/coinflex_async/sim/" not in path
    return "/aiohttp/client" in path or "/aiohttp/connector" in path


async def test_closing_with_calls_in_flight_ends_them_all_with_transport_error() -> None:
    """Calls waiting for rate-limit tokens, calls waiting on the network, and an order whose
    request is in flight: close() ends each with a TransportError, and leaves no task behind."""
    async with Simulator(rate_limits=None) as sim:
        alice = sim.create_account(balances={"USD": "1000000"})
        sim.inject(Fault.latency(5.0, path="/v2/ticker", times=50))
        sim.inject(Fault.latency(5.0, path="/v2/orders/place", times=1))
        limits = cf.RateLimits(rest=(cf.Window(5, 1.0),))
        client = cf.Client(alice.api_key, alice.api_secret, base_url=sim.url, rate_limits=limits)
        tasks = [asyncio.create_task(client.public.ticker()) for _ in range(20)]
        tasks.append(
            asyncio.create_task(
                client.private.place_order(
                    market_code=MARKET,
                    side="BUY",
                    quantity="0.001",
                    order_type="LIMIT",
                    price="45000",
                )
            )
        )
        await asyncio.sleep(0.3)  # some on the wire, most waiting for tokens
        started = time.monotonic()
        await client.close()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert time.monotonic() - started < 2.0
        assert all(isinstance(r, cf.TransportError) for r in results), [
            repr(r) for r in results if not isinstance(r, cf.TransportError)
        ]
        await asyncio.sleep(0)
        # Only the simulator's own server tasks may remain (its handlers sleeping out latency);
        # nothing of the client: no frame of its code or of aiohttp's client side.
        for task in asyncio.all_tasks():
            if task is asyncio.current_task():
                continue
            files = [frame.f_code.co_filename for frame in task.get_stack()]
            assert not [f for f in files if _client_side(f)], (task, files)
        with pytest.raises(cf.ClientClosedError):
            await client.public.ping()
