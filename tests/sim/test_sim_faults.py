"""Fault injection: each kind, whether the request was applied, matching and counting."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import aiohttp
import pytest

from coinflex_async.sim import Fault, Simulator

from ._helpers import Trader, order_item

PLACE = "/v2/orders/place"


def place_body(client_order_id: str) -> dict[str, object]:
    return {
        "responseType": "FULL",
        "orders": [order_item(price="49000", client_order_id=client_order_id)],
    }


async def landed(who: Trader, client_order_id: str) -> bool:
    """Whether the exchange applied the order, as the client would find out."""
    return bool(await who.history(clientOrderId=client_order_id))


async def test_latency_delays_only_the_matching_requests(sim: Simulator, public: Trader) -> None:
    sim.inject(Fault.latency(0.3, path="/v2/ping"))
    started = time.perf_counter()
    assert (await public.get("/v2/ping")).status == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    assert (await public.get("/v2/ping")).status == 200  # the fault was for one request
    assert time.perf_counter() - started < 0.3
    assert sim.stats.faults_injected["latency"] == 1


async def test_503_has_the_gateway_shape_and_is_not_applied(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    sim.inject(Fault.server_error(503, method="POST", path=PLACE))
    reply = await alice.post(PLACE, place_body("11"))
    assert reply.status == 503
    body = reply.json
    assert set(body) == {"status", "error", "message", "requestId"}
    assert (body["status"], body["error"]) == (503, "Service Unavailable")
    assert not await landed(alice, "11")


async def test_500_has_the_exchange_error_shape(sim: Simulator, public: Trader) -> None:
    sim.inject(Fault.server_error(500))
    reply = await public.get("/v2/ticker")
    assert reply.status == 500
    assert reply.json == {"success": False, "code": "50001", "message": "Internal server error"}


async def test_an_applied_server_error_lands_the_order(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    sim.inject(Fault.server_error(502, path=PLACE, applied=True))
    assert (await alice.post(PLACE, place_body("12"))).status == 502
    assert await landed(alice, "12")


async def test_html_502(sim: Simulator, trader: Callable[..., Trader]) -> None:
    alice = trader()
    sim.inject(Fault.html_502(path=PLACE))
    reply = await alice.post(PLACE, place_body("13"))
    assert reply.status == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in reply.text
    assert not await landed(alice, "13")


async def test_reset_before_drops_the_connection_without_applying(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    sim.inject(Fault.reset_before(path=PLACE))
    with pytest.raises(aiohttp.ClientConnectionError):
        await alice.post(PLACE, place_body("14"))
    assert not await landed(alice, "14")
    assert alice.me.order_count == 0


async def test_reset_after_applies_then_drops_the_connection(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    sim.inject(Fault.reset_after(path=PLACE))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await alice.post(PLACE, place_body("15"))
    (found,) = await alice.history(clientOrderId="15")
    assert found["status"] == "OrderOpened"


async def test_malformed_and_truncated_json_are_applied(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    sim.inject(Fault.malformed_json(path=PLACE))
    malformed = await alice.post(PLACE, place_body("16"))
    sim.inject(Fault.truncated_json(path=PLACE))
    truncated = await alice.post(PLACE, place_body("17"))
    intact = await alice.post(PLACE, place_body("18"))
    for reply in (malformed, truncated):
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("application/json")
        with pytest.raises(json.JSONDecodeError):
            json.loads(reply.text)
    # The truncated body is the start of the real answer, cut in the middle.
    assert intact.text.startswith(truncated.text[:40])
    assert 0 < len(truncated.text) < len(intact.text)
    assert await landed(alice, "16")
    assert await landed(alice, "17")


async def test_slow_body_sends_headers_first_then_trickles(
    sim: Simulator, session: aiohttp.ClientSession, public: Trader
) -> None:
    sim.inject(Fault.slow_body(0.5, path="/v2/all/markets"))
    started = time.perf_counter()
    async with session.get(sim.url + "/v2/all/markets") as response:
        headers_after = time.perf_counter() - started
        body = await response.read()
        body_after = time.perf_counter() - started
    assert response.status == 200
    assert headers_after < 0.3
    assert body_after >= 0.45
    assert json.loads(body)["event"] == "markets"
    # A client that gives up mid-body sees a timeout, and the server carries on.
    sim.inject(Fault.slow_body(1.0, path="/v2/all/markets"))
    with pytest.raises(asyncio.TimeoutError):
        async with session.get(
            sim.url + "/v2/all/markets", timeout=aiohttp.ClientTimeout(total=0.3)
        ) as response:
            await response.read()
    assert (await public.get("/v2/ping")).status == 200


async def test_matching_by_method_and_prefix_and_times(sim: Simulator, public: Trader) -> None:
    sim.inject(Fault.server_error(500, method="GET", path_prefix="/v2/all/", times=2))
    assert (await public.get("/v2/ping")).status == 200
    assert (await public.get("/v2/all/assets")).status == 500
    assert (await public.get("/v2/all/markets")).status == 500
    assert (await public.get("/v2/all/markets")).status == 200
    assert sim.faults.active == []
    assert sim.stats.faults_injected["status"] == 2
    assert sim.stats.faults_injected_total == 2


async def test_probability_is_reproducible_with_a_seed(session: aiohttp.ClientSession) -> None:
    async def outcomes(seed: int) -> list[int]:
        async with Simulator(rate_limits=None, seed=seed) as sim:
            sim.inject(Fault.server_error(503, path="/v2/ping", probability=0.5))
            public = Trader(session, sim, None)
            statuses = [(await public.get("/v2/ping")).status for _ in range(40)]
            assert sim.stats.faults_injected["status"] == statuses.count(503)
            return statuses

    first, again, other = await outcomes(7), await outcomes(7), await outcomes(8)
    assert first == again
    assert first != other
    assert 5 < first.count(503) < 35


async def test_clear_disarms_every_fault(sim: Simulator, public: Trader) -> None:
    sim.inject(Fault.server_error(503, probability=1.0))
    assert (await public.get("/v2/ping")).status == 503
    sim.faults.clear()
    assert (await public.get("/v2/ping")).status == 200


def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        Fault("gremlins")
    with pytest.raises(ValueError):
        Fault.server_error(503, probability=1.5)
    with pytest.raises(ValueError):
        Fault.reset_after(times=0)
    assert Fault.reset_after().times == 1  # once unless told otherwise
