"""The metrics hook (cf.Client(metrics=...)) and its Prometheus adapter, against the simulator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

import coinflex_async as cf
from coinflex_async.prometheus import PrometheusMetrics
from coinflex_async.sim import Fault, RateLimit, RateLimits, Simulator

MARKET = "BTC-USD-SWAP-LIN"


@dataclass
class Recorded:
    requests: list[tuple[str, int, int, float, int]] = field(default_factory=list)
    waits: list[tuple[str, float]] = field(default_factory=list)
    recoveries: list[str] = field(default_factory=list)

    def request_done(
        self, endpoint: str, status: int, attempts: int, seconds: float, response_bytes: int
    ) -> None:
        self.requests.append((endpoint, status, attempts, seconds, response_bytes))

    def rate_limit_waited(self, bucket: str, seconds: float) -> None:
        self.waits.append((bucket, seconds))

    def order_recovered(self, outcome: str) -> None:
        self.recoveries.append(outcome)


async def body_size(url: str) -> int:
    """The size of a body as a plain HTTP client receives it."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return len(await response.read())


def test_the_recorder_is_a_metrics_hook() -> None:
    assert isinstance(Recorded(), cf.Metrics)


async def test_a_call_reports_its_endpoint_status_attempts_time_and_size() -> None:
    metrics = Recorded()
    async with Simulator(rate_limits=None) as sim:
        sim.inject(Fault.server_error(503, path="/v2/ping", times=2))
        retry = cf.RetryPolicy(attempts=4, backoff=0.01)
        async with cf.Client(base_url=sim.url, retry=retry, metrics=metrics) as client:
            await client.public.ping()
            await client.public.depth(MARKET, 5)
            with pytest.raises(cf.NotFoundError):
                await client.public.depth("NOPE-USD", 5)
        ping_size = await body_size(f"{sim.url}/v2/ping")
    (ping, depth, missing) = metrics.requests
    assert ping[:3] == ("GET /v2/ping", 200, 3)  # two 503s, then the answer
    assert ping[4] == ping_size
    assert depth[:3] == ("GET /v2/depth/{}/{}", 200, 1)
    assert depth[4] > 100
    assert missing[:3] == ("GET /v2/depth/{}/{}", 404, 1)
    assert all(0 < r[3] < 5 for r in metrics.requests)


async def test_a_wait_for_rate_limit_tokens_is_reported_with_its_bucket() -> None:
    metrics = Recorded()
    limits = cf.RateLimits(rest=(cf.Window(5, 0.5),))
    async with (
        Simulator(rate_limits=None) as sim,
        cf.Client(base_url=sim.url, rate_limits=limits, metrics=metrics) as client,
    ):
        await asyncio.gather(*(client.public.ping() for _ in range(10)))
    assert len(metrics.waits) == 5  # the first five took their tokens at once
    assert {bucket for bucket, _ in metrics.waits} == {"rest"}
    assert max(seconds for _, seconds in metrics.waits) >= 0.5


async def test_an_order_found_after_a_lost_answer_is_reported_as_recovered() -> None:
    metrics = Recorded()
    async with Simulator(rate_limits=None) as sim:
        alice = sim.create_account(balances={"USD": "100000"})
        sim.inject(Fault.reset_after(path="/v2/orders/place"))
        retry = cf.RetryPolicy(lookup_interval=0.05)
        async with cf.Client(
            alice.api_key, alice.api_secret, base_url=sim.url, retry=retry, metrics=metrics
        ) as client:
            result = await client.private.place_order(
                market_code=MARKET, side="BUY", quantity="0.001", order_type="LIMIT", price="49000"
            )
    assert result.success
    assert metrics.recoveries == ["found"]
    place = [r for r in metrics.requests if r[0] == "POST /v2/orders/place"]
    assert [r[1] for r in place] == [0]  # the reset: no answer


async def test_the_prometheus_adapter_counts_into_its_registry() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry)
    sim_limits = RateLimits((RateLimit("per_second", 100, 1.0),))
    limits = cf.RateLimits(rest=(cf.Window(3, 0.3),))
    async with Simulator(rate_limits=sim_limits) as sim:
        async with cf.Client(base_url=sim.url, rate_limits=limits, metrics=metrics) as client:
            await asyncio.gather(*(client.public.ping() for _ in range(6)))
        ping_size = await body_size(f"{sim.url}/v2/ping")
    ping = {"endpoint": "GET /v2/ping"}
    assert registry.get_sample_value("coinflex_requests_total", {**ping, "status": "200"}) == 6
    assert registry.get_sample_value("coinflex_request_attempts_total", ping) == 6
    assert registry.get_sample_value("coinflex_request_seconds_count", ping) == 6
    assert registry.get_sample_value("coinflex_response_bytes_total", ping) == 6 * ping_size
    waits = registry.get_sample_value("coinflex_rate_limit_wait_seconds_count", {"bucket": "rest"})
    assert waits == 3
