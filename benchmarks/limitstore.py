"""The cost of taking rate-limit tokens: in process, and through Redis on loopback.

    python -m benchmarks.limitstore [--redis redis://127.0.0.1:6379/0] [--n 5000]

Without ``--redis`` it starts a redis-server of its own (no persistence) on a free port. Each
figure is the latency of one operation, timed one by one (``time.perf_counter_ns``), p50 and
p99 in microseconds, with tokens always free (windows too wide to run dry), plus the process's
CPU time per operation (``time.process_time``; Redis's own CPU is not counted). Redis ops are
one client's, one at a time: the round trip, not the server's throughput.

Then the CPU per request of a whole ``ping()`` call against the benchmarks' canned server (its
own process), one at a time, beside the raw floor (benchmarks/runners/raw.py): the client
without limits, with in-process limits, and with its limits in Redis (a fleet client). The
variants take turns, ``--rounds`` times; the median of each is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from coinflex_async import _ratelimit

__all__ = ["measure"]

WIDE = _ratelimit.RateLimits(
    rest=(_ratelimit.Window(10**12, 1.0), _ratelimit.Window(10**12, 300.0))
)
BUCKETS = (_ratelimit.REST,)


def _percentiles(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "p50_us": round(statistics.median(ordered) / 1000, 2),
        "p99_us": round(ordered[int(len(ordered) * 0.99)] / 1000, 2),
    }


async def _timed(operation: Callable[[], Awaitable[None]], n: int) -> dict[str, float]:
    for _ in range(min(200, n)):  # warm up: connections, script loaded, caches
        await operation()
    samples: list[int] = []
    cpu_started = time.process_time()
    for _ in range(n):
        started = time.perf_counter_ns()
        await operation()
        samples.append(time.perf_counter_ns() - started)
    cpu_us = (time.process_time() - cpu_started) / n * 1e6
    return {**_percentiles(samples), "cpu_us_per_op": round(cpu_us, 2)}


async def measure(redis_url: str, n: int) -> dict[str, dict[str, float]]:
    from coinflex_async._limitstore import RedisLimiter

    results: dict[str, dict[str, float]] = {}
    local = _ratelimit.RateLimiter(WIDE)

    async def local_op() -> None:
        local.release(await local.hold(BUCKETS))

    results["in-process hold + release"] = await _timed(local_op, n)

    shared = RedisLimiter(redis_url, WIDE, namespace="bench", api_key=None, timeout=5.0)
    group = shared._group(BUCKETS)
    try:

        async def carried() -> None:
            shared.release(await shared.hold(BUCKETS))

        await _timed(carried, min(200, n))
        # One request after another: each take carries the previous request's release.
        results["Redis take (carrying the last release)"] = await _timed(carried, n)

        async def alone() -> None:
            shared.release(await shared.hold(BUCKETS))
            shared._flush(group)  # what RELEASE_DELAY later does when no take comes
            await asyncio.gather(*shared._releases)

        results["Redis take + a release script of its own"] = await _timed(alone, n)
    finally:
        await shared.close()
    return results


async def _cpu_per_call(call: Callable[[], Awaitable[Any]], n: int) -> float:
    for _ in range(min(200, n)):
        await call()
    started = time.process_time()
    for _ in range(n):
        await call()
    return (time.process_time() - started) / n * 1e6


async def measure_requests(redis_url: str, n: int, rounds: int) -> dict[str, dict[str, float]]:
    """CPU us per ping() call: raw floor, client without limits, in-process, through Redis."""
    import coinflex_async as cf
    from benchmarks.runners import raw
    from benchmarks.server import CannedServer

    samples: dict[str, list[float]] = {}
    with CannedServer() as server:
        floor = await raw.open_runner("ping", server.url)
        clients = {
            "client, rate_limits=None": cf.Client(base_url=server.url, rate_limits=None),
            "client, in-process limits": cf.Client(base_url=server.url, rate_limits=WIDE),
            "client, limits in Redis (fleet)": cf.Client(
                base_url=server.url, rate_limits=WIDE, limit_store=redis_url
            ),
        }
        try:
            for _ in range(rounds):
                samples.setdefault("raw floor", []).append(await _cpu_per_call(floor.call, n))
                for name, client in clients.items():
                    cpu = await _cpu_per_call(client.public.ping, n)
                    samples.setdefault(name, []).append(cpu)
        finally:
            await floor.close()
            for client in clients.values():
                await client.close()
    floor_us = statistics.median(samples["raw floor"])
    return {
        name: {
            "cpu_us_per_request": round(statistics.median(values), 1),
            "vs_raw_floor": round(statistics.median(values) / floor_us, 2),
        }
        for name, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", help="a Redis URL (default: start a redis-server)")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server: Any = None
    url = args.redis
    if url is None:
        from tests.redis_server import RedisServer, missing_reason

        reason = missing_reason()
        if reason is not None:
            raise SystemExit(reason)
        server = RedisServer()
        server.start()
        url = server.url
    try:
        results = asyncio.run(measure(url, args.n))
        results.update(asyncio.run(measure_requests(url, args.n // 2, args.rounds)))
    finally:
        if server is not None:
            server.stop()
    for name, figures in results.items():
        print(f"{name:48} {json.dumps(figures)}")


if __name__ == "__main__":
    main()
