"""Rate limits shared through a real Redis (limit_store=): many clients, one set of windows.

Judged at the simulator, which counts windows from arrival times like the exchange; Redis is a
real redis-server (tests/redis_server.py), paused, restarted and unreachable for real.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import Mapping

import pytest

import coinflex_async as cf
from coinflex_async._limitstore import RETRY_STORE_AFTER, RedisLimiter
from coinflex_async.sim import RateLimit, RateLimits, Simulator
from tests.redis_server import RedisServer, _free_port

PER_SECOND = 10
SIM_LIMITS = RateLimits((RateLimit("per_second", PER_SECOND, 1.0),))
CLIENT_LIMITS = cf.RateLimits(rest=(cf.Window(PER_SECOND, 1.0),))


def shared_client(url: str, store: str, **options: object) -> cf.Client:
    settings: dict[str, object] = {"rate_limits": CLIENT_LIMITS, "retry": None}
    settings.update(options)
    return cf.Client(base_url=url, limit_store=store, **settings)  # type: ignore[arg-type]


async def test_clients_sharing_a_namespace_share_its_windows(redis_url: str) -> None:
    async with Simulator(rate_limits=SIM_LIMITS) as sim:
        clients = [shared_client(sim.url, redis_url) for _ in range(3)]
        started = time.monotonic()
        # 3 clients x 10 calls: alone each would send its 10 at once; together 30 take 2 windows.
        await asyncio.gather(*(c.public.ping() for c in clients for _ in range(PER_SECOND)))
        elapsed = time.monotonic() - started
        for client in clients:
            await client.close()
    assert sim.stats.rate_limited == 0
    assert sim.stats.max_in_window("per_second") <= PER_SECOND
    assert elapsed >= 2.0


async def test_namespaces_do_not_share(redis_url: str) -> None:
    async with Simulator(rate_limits=None) as sim:
        clients = [shared_client(sim.url, redis_url, limit_namespace=f"desk-{i}") for i in range(3)]
        started = time.monotonic()
        await asyncio.gather(*(c.public.ping() for c in clients for _ in range(PER_SECOND)))
        elapsed = time.monotonic() - started
        for client in clients:
            await client.close()
    assert elapsed < 1.5  # each namespace's whole window at once (shared: >= 2 s)


async def test_each_request_is_one_entry_in_each_window_of_its_buckets(
    redis_url: str, redis_server: RedisServer
) -> None:
    limits = cf.RateLimits(rest=(cf.Window(1000, 30.0), cf.Window(5000, 60.0)))
    async with Simulator(rate_limits=None) as sim:
        clients = [
            shared_client(sim.url, redis_url, rate_limits=limits, limit_namespace="ns")
            for _ in range(4)
        ]
        # Concurrent requests recorded in the same microsecond stay distinct entries.
        await asyncio.gather(*(c.public.ping() for c in clients for _ in range(50)))
        for client in clients:
            await client.close()
    assert redis_server.integer("ZCARD", "{ns}:rest:30000ms") == 200
    assert redis_server.integer("ZCARD", "{ns}:rest:60000ms") == 200
    # Each ended, and was rescored with the time it ended (in flight, it is scored with the
    # latest it could end: a timeout and a second from when it left).
    now_us = round(time.time() * 1e6)
    assert redis_server.integer("ZCOUNT", "{ns}:rest:60000ms", str(now_us), "+inf") == 0
    assert (
        redis_server.integer("ZCOUNT", "{ns}:rest:60000ms", str(now_us - 5_000_000), "+inf") == 200
    )
    # The key expires once its newest entry could have aged out: window + in-flight bound + 1 s.
    ttl = redis_server.integer("PTTL", "{ns}:rest:60000ms")
    assert 60_000 + 11_000 < ttl <= 60_000 + 11_000 + 1_000


class _WithAccountBucket(cf.RateLimits):
    """The default buckets plus an account-wide one, like the WebSocket order limit."""

    def buckets(self) -> Mapping[str, tuple[cf.Window, ...]]:
        return {**cf.RateLimits.buckets(self), "ws_orders": (cf.Window(3, 5.0),)}


async def test_an_account_bucket_is_shared_per_account_not_per_namespace(redis_url: str) -> None:
    def limiter(key: str) -> RedisLimiter:
        return RedisLimiter(redis_url, _WithAccountBucket(), api_key=key, timeout=2.0)

    alice_1, alice_2, bob = limiter("alice-key"), limiter("alice-key"), limiter("bob-key")
    try:
        started = time.monotonic()
        for each in (alice_1, alice_2, alice_1, bob, bob, bob):
            await each.acquire(("ws_orders",))
        assert time.monotonic() - started < 1.0  # 3 for alice's account, 3 for bob's
        # Alice's fourth waits for her first to age out of the 5 s window, wherever it is sent.
        fourth = asyncio.ensure_future(alice_2.acquire(("ws_orders",)))
        done, _ = await asyncio.wait((fourth,), timeout=1.0)
        assert not done
        fourth.cancel()
    finally:
        for each in (alice_1, alice_2, bob):
            await each.close()


async def test_an_unreachable_store_is_a_limit_store_error_within_the_timeout() -> None:
    dead = f"redis://127.0.0.1:{_free_port()}/0"
    async with (
        Simulator(rate_limits=None) as sim,
        shared_client(sim.url, dead, timeout=1.0) as client,
    ):
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(cf.LimitStoreError) as raised:
                await client.public.ping()
            assert time.monotonic() - started < 1.0
            assert isinstance(raised.value, cf.TransportError)
            assert raised.value.request_sent is False
    assert sim.stats.requests == 0  # nothing left without its token


async def test_a_hung_store_is_a_limit_store_error_within_the_timeout(
    redis_url: str, redis_server: RedisServer
) -> None:
    async with (
        Simulator(rate_limits=None) as sim,
        shared_client(sim.url, redis_url, timeout=0.6) as client,
    ):
        await client.public.ping()
        redis_server.pause()
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(client.public.ping() for _ in range(5)), return_exceptions=True
        )
        elapsed = time.monotonic() - started
        assert all(isinstance(o, cf.LimitStoreError) for o in outcomes), outcomes
        assert elapsed < 0.6 + 0.5  # the one that asked waited its timeout, the rest not
        redis_server.resume()
        await asyncio.sleep(RETRY_STORE_AFTER)
        assert await client.public.ping() is True
    assert sim.stats.requests == 2


async def test_with_local_fallback_calls_go_on_with_one_warning_until_redis_answers(
    redis_url: str, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="coinflex_async")
    async with (
        Simulator(rate_limits=SIM_LIMITS) as sim,
        shared_client(
            sim.url, redis_url, timeout=0.5, limit_store_fallback="local", limit_namespace="fb"
        ) as client,
    ):
        await client.public.ping()
        await asyncio.sleep(1.1)  # local limits know nothing of what Redis recorded
        redis_server.pause()
        # Local limits hold while Redis hangs: 15 calls take a second window, no 429.
        started = time.monotonic()
        await asyncio.gather(*(client.public.ping() for _ in range(15)))
        assert time.monotonic() - started >= 1.0
        redis_server.resume()
        await asyncio.sleep(RETRY_STORE_AFTER)
        await client.public.ping()
    assert sim.stats.rate_limited == 0
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "using local limits" in m]) == 1, messages
    assert len([m for m in messages if "answers again" in m]) == 1, messages
    # Back on Redis: the last call is in the shared log again.
    assert redis_server.integer("ZCARD", "{fb}:rest:1000ms") >= 1


async def test_a_restart_loses_the_log_and_allows_one_extra_window(
    redis_url: str, redis_server: RedisServer
) -> None:
    limits = cf.RateLimits(rest=(cf.Window(PER_SECOND, 30.0),))
    async with (
        Simulator(rate_limits=None) as sim,
        shared_client(sim.url, redis_url, rate_limits=limits) as client,
    ):
        await asyncio.gather(*(client.public.ping() for _ in range(PER_SECOND)))
        blocked = asyncio.ensure_future(client.public.ping())
        done, _ = await asyncio.wait((blocked,), timeout=0.5)
        assert not done  # the 30 s window is full
        blocked.cancel()
        redis_server.restart()  # no persistence: the log and the loaded script are gone
        await asyncio.sleep(RETRY_STORE_AFTER)
        started = time.monotonic()
        # The documented cost: one more window's worth goes out at once (the script is
        # loaded again after NOSCRIPT), and then the limit holds again.
        while True:
            try:
                await client.public.ping()
                break
            except cf.LimitStoreError:  # the first try may meet the old, closed connection
                await asyncio.sleep(RETRY_STORE_AFTER)
        await asyncio.gather(*(client.public.ping() for _ in range(PER_SECOND - 1)))
        assert time.monotonic() - started < 2 * RETRY_STORE_AFTER + 1.0
        blocked = asyncio.ensure_future(client.public.ping())
        done, _ = await asyncio.wait((blocked,), timeout=0.5)
        assert not done
        blocked.cancel()
    assert sim.stats.requests == 2 * PER_SECOND


async def test_close_releases_every_redis_connection(
    redis_url: str, redis_server: RedisServer
) -> None:
    before = redis_server.client_count()
    async with Simulator(rate_limits=None) as sim:
        client = shared_client(sim.url, redis_url)
        await asyncio.gather(*(client.public.ping() for _ in range(5)))
        assert redis_server.client_count() > before
        await client.close()
    assert redis_server.client_count() == before


def test_limit_store_options_are_checked() -> None:
    with pytest.raises(cf.ValidationError):
        cf.Client(limit_store="http://127.0.0.1:6379")
    with pytest.raises(cf.ValidationError):
        cf.Client(limit_store="redis://127.0.0.1:6379", rate_limits=None)
    with pytest.raises(cf.ValidationError):
        cf.Client(limit_store="redis://127.0.0.1:6379", limit_store_fallback="remote")
    with pytest.raises(cf.ValidationError):
        cf.Client(limit_store="redis://127.0.0.1:6379", limit_namespace="a}b")


def test_the_core_install_does_not_import_redis_or_prometheus() -> None:
    # Both are optional extras: a client without limit_store or metrics must not need them.
    code = (
        "import sys, coinflex_async as cf\n"
        "cf.Client(base_url='http://127.0.0.1:1')\n"
        "assert 'redis' not in sys.modules and 'prometheus_client' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
