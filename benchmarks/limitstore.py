"""The cost of taking rate-limit tokens: in process, and through Redis on loopback.

    python -m benchmarks.limitstore [--redis redis://127.0.0.1:6379/0] [--n 5000]

Without ``--redis`` it starts a redis-server of its own (no persistence) on a free port. Each
figure is the latency of one operation, timed one by one (``time.perf_counter_ns``), p50 and
p99 in microseconds, with tokens always free (windows too wide to run dry), plus the process's
CPU time per operation (``time.process_time``; Redis's own CPU is not counted). Redis ops are
one client's, one at a time: the round trip, not the server's throughput.
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
    try:

        async def warm_up() -> None:
            shared.release(await shared.hold(BUCKETS))
            await asyncio.gather(*shared._releases)  # the release runs in the background

        await _timed(warm_up, min(200, n))
        samples: list[int] = []
        releases: list[int] = []
        cpu_started = time.process_time()
        for _ in range(n):
            started = time.perf_counter_ns()
            token = await shared.hold(BUCKETS)
            held = time.perf_counter_ns()
            samples.append(held - started)
            shared.release(token)
            await asyncio.gather(*shared._releases)
            releases.append(time.perf_counter_ns() - held)
        cpu_us = (time.process_time() - cpu_started) / n * 1e6
        results["Redis hold (take script round trip)"] = _percentiles(samples)
        results["Redis release (rescore script, background)"] = _percentiles(releases)
        results["Redis hold + release, CPU of this process"] = {"cpu_us_per_op": round(cpu_us, 2)}
    finally:
        await shared.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", help="a Redis URL (default: start a redis-server)")
    parser.add_argument("--n", type=int, default=5000)
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
    finally:
        if server is not None:
            server.stop()
    for name, figures in results.items():
        print(f"{name:48} {json.dumps(figures)}")


if __name__ == "__main__":
    main()
