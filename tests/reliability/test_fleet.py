"""A fleet: 4 processes x 2 clients sharing their rate limits through a real Redis, hammering
one simulator that counts per-IP windows like the exchange (all of them come from 127.0.0.1).

The exchange's 100/s and 2,500 per 5 minutes are scaled down on both sides to 20/s and 200 per
15 s (full run, ``nox -s reliability``) or 20/s and 60 per 4 s (the normal suite), so that a
run covers at least two 1-second windows and two long ones.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from coinflex_async.sim import RateLimit, RateLimits, Simulator
from tests.redis_server import RedisServer
from tests.reliability.test_reliability import FULL, record

ROOT = Path(__file__).resolve().parents[2]
PROCESSES, CLIENTS, CONCURRENCY = 4, 2, 8
SHORT = (20, 1.0)
LONG = (200, 15.0) if FULL else (60, 4.0)
# Two long windows from the first arrival, and time for the workers' cold start.
DURATION = 2 * LONG[1] + 1.5
SIM_LIMITS = RateLimits((RateLimit("short", *SHORT), RateLimit("long", *LONG)))

pytestmark = pytest.mark.slow


async def run_fleet(
    sim: Simulator,
    store: str,
    namespace: str,
    *,
    redis_server: RedisServer | None = None,
    pause_at: float | None = None,
    fallback: str | None = None,
) -> tuple[list[dict[str, Any]], float]:
    """Run the workers; with ``pause_at``, Redis hangs (SIGSTOP) for 3 s from then on.
    Returns their reports and how long after the deadline the last one exited."""
    command = [
        sys.executable, "-m", "tests.fleet_worker",
        "--url", sim.url, "--store", store, "--namespace", namespace,
        "--clients", str(CLIENTS), "--concurrency", str(CONCURRENCY),
        "--duration", str(DURATION),
        "--short", str(SHORT[0]), str(SHORT[1]), "--long", str(LONG[0]), str(LONG[1]),
    ]  # fmt: skip
    if fallback is not None:
        command += ["--fallback", fallback]
    workers = [
        await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert await asyncio.wait_for(worker.stdout.readline(), 60) == b"ready\n"
        start_at = time.time() + 0.5
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(f"{start_at}\n".encode())
            await worker.stdin.drain()
        if pause_at is not None:
            assert redis_server is not None
            await asyncio.sleep(start_at + pause_at - time.time())
            redis_server.pause()
            await asyncio.sleep(3.0)
            redis_server.resume()
        outputs = [
            await asyncio.wait_for(worker.communicate(), DURATION + 30) for worker in workers
        ]
        exited_after = time.time() - (start_at + DURATION)
    finally:
        if redis_server is not None:
            redis_server.resume()
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    assert all(worker.returncode == 0 for worker in workers)
    return [json.loads(stdout.splitlines()[-1]) for stdout, _ in outputs], exited_after


def figures_of(
    sim: Simulator, reports: list[dict[str, Any]], exited_after: float
) -> dict[str, Any]:
    # The configured rate: the long window's maximum per its length (it binds in the long run;
    # 20/s would use it in 3 s, or 10 s in the full run). Counted over two whole long windows
    # from the first arrival.
    accepted = sim.stats.accepted["short"]
    in_two = sum(1 for at in accepted if at < accepted[0] + 2 * LONG[1])
    return {
        "processes_x_clients": f"{PROCESSES}x{CLIENTS}",
        "windows": f"{SHORT[0]} per {SHORT[1]:g} s, {LONG[0]} per {LONG[1]:g} s",
        "seconds": DURATION,
        "accepted": len(accepted),
        "accepted_in_two_long_windows": in_two,
        "achieved_vs_configured": round(in_two / (2 * LONG[0]), 3),
        "responses_429": sim.stats.rate_limited,
        "max_in_short_window": sim.stats.max_in_window("short"),
        "max_in_long_window": sim.stats.max_in_window("long"),
        "limit_store_errors": sum(r.get("limit_store_error", 0) for r in reports),
        "other_errors": sum(v for r in reports for k, v in r.items() if k.startswith("transport")),
        "slowest_close_s": max(r["close_seconds"] for r in reports),
        "last_exit_after_deadline_s": round(exited_after, 2),
    }


async def test_a_fleet_sharing_redis_gets_no_429_and_the_whole_rate(
    redis_url: str,
) -> None:
    async with Simulator(rate_limits=SIM_LIMITS) as sim:
        reports, exited_after = await run_fleet(sim, redis_url, "fleet")
    figures = figures_of(sim, reports, exited_after)
    record("fleet_shared_limits", figures)
    assert figures["responses_429"] == 0
    assert figures["max_in_short_window"] <= SHORT[0]
    assert figures["max_in_long_window"] <= LONG[0]
    assert figures["other_errors"] == figures["limit_store_errors"] == 0
    # Each request holds its slot a round trip longer than the exchange would count it, and
    # every wake-up is late by up to 2 ms of jitter plus a Redis round trip and scheduling.
    assert figures["achieved_vs_configured"] >= 0.95
    assert exited_after < 10


async def test_a_fleet_with_redis_hung_for_3_seconds_gets_no_429_and_nothing_hangs(
    redis_url: str, redis_server: RedisServer
) -> None:
    """Fallback off: while Redis hangs, calls fail with LimitStoreError within their timeout
    (and then at once, until Redis is asked again a second later); no request leaves without
    its token, so the windows hold; after Redis answers again the fleet goes on."""
    async with Simulator(rate_limits=SIM_LIMITS) as sim:
        reports, exited_after = await run_fleet(
            sim, redis_url, "fleet-hung", redis_server=redis_server, pause_at=2.5
        )
        accepted = sim.stats.accepted["short"]
        after_outage = sum(1 for at in accepted if at > accepted[0] + 2.5 + 3.0)
    figures = figures_of(sim, reports, exited_after)
    figures["accepted_after_the_outage"] = after_outage
    record("fleet_redis_hung_3s", figures)
    assert figures["responses_429"] == 0
    assert figures["max_in_short_window"] <= SHORT[0]
    assert figures["max_in_long_window"] <= LONG[0]
    assert figures["limit_store_errors"] > 0
    assert figures["other_errors"] == 0
    assert after_outage > 0
    assert exited_after < 10
