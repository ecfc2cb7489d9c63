"""Authentication: the docs' signature over what arrived, timestamps, nonces, error codes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import datetime, timezone

import aiohttp

from coinflex_async.sim import ManualClock, Simulator
from coinflex_async.sim._auth import ReplayCache

from ._helpers import Trader, docs_signature, order_item


def assert_auth_error(reply_status: int, body: dict[str, object], code: str) -> None:
    assert reply_status == 401
    assert body["success"] is False
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]


async def test_signed_request_is_accepted(trader: Callable[..., Trader]) -> None:
    reply = await trader().get("/v2/balances")
    assert reply.status == 200, reply.text


async def test_wrong_signature_is_20000(trader: Callable[..., Trader]) -> None:
    reply = await trader().request("GET", "/v2/balances", signature="bm90IGEgc2lnbmF0dXJl")
    assert_auth_error(reply.status, reply.json, "20000")


async def test_unknown_or_missing_key_is_20025(
    sim: Simulator, session: aiohttp.ClientSession, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    reply = await alice.request("GET", "/v2/balances", headers={"AccessKey": "no-such-key"})
    assert_auth_error(reply.status, reply.json, "20025")
    anonymous = Trader(session, sim, None)
    reply = await anonymous.get("/v2/balances")
    assert_auth_error(reply.status, reply.json, "20025")


async def test_missing_or_unreadable_timestamp_is_20023(trader: Callable[..., Trader]) -> None:
    alice = trader()
    reply = await alice.request("GET", "/v2/balances", headers={"Timestamp": ""})
    assert_auth_error(reply.status, reply.json, "20023")
    reply = await alice.request("GET", "/v2/balances", timestamp="yesterday")
    assert_auth_error(reply.status, reply.json, "20023")


async def test_stale_or_future_timestamp_is_20024(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    now_ms = int(sim.clock() * 1000)
    for offset in (-31_000, 31_000):
        reply = await alice.request("GET", "/v2/balances", timestamp=str(now_ms + offset))
        assert_auth_error(reply.status, reply.json, "20024")
    reply = await alice.request("GET", "/v2/balances", timestamp=str(now_ms - 25_000))
    assert reply.status == 200


async def test_iso_timestamps_as_in_the_docs_are_accepted(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    moment = datetime.fromtimestamp(sim.clock(), tz=timezone.utc).replace(tzinfo=None)
    for text in (moment.isoformat(timespec="seconds"), moment.isoformat()):
        reply = await alice.request("GET", "/v2/balances", timestamp=text)
        assert reply.status == 200, (text, reply.text)


async def test_missing_nonce_or_signature_is_20000(trader: Callable[..., Trader]) -> None:
    alice = trader()
    reply = await alice.request("GET", "/v2/balances", headers={"Nonce": ""})
    assert_auth_error(reply.status, reply.json, "20000")
    reply = await alice.request("GET", "/v2/balances", headers={"Signature": ""})
    assert_auth_error(reply.status, reply.json, "20000")


async def test_an_exact_replay_is_refused_with_20000(trader: Callable[..., Trader]) -> None:
    alice = trader()
    timestamp = str(int(time.time() * 1000))
    first = await alice.request("GET", "/v2/balances", nonce="100", timestamp=timestamp)
    assert first.status == 200
    # The very same signed request again (same key, nonce, timestamp, so same signature).
    replay = await alice.request("GET", "/v2/balances", nonce="100", timestamp=timestamp)
    assert_auth_error(replay.status, replay.json, "20000")
    assert "replay" in replay.json["message"].lower()
    # Replays are per key: another account may send the same nonce and timestamp.
    other = await trader().request("GET", "/v2/balances", nonce="100", timestamp=timestamp)
    assert other.status == 200


async def test_different_requests_may_share_a_nonce(trader: Callable[..., Trader]) -> None:
    # The docs' examples send nonce = 123 every time; ccxt sends the millisecond clock, so two
    # of its requests in one millisecond share a nonce. Only a replay is refused.
    alice = trader()
    timestamp = str(int(time.time() * 1000))
    replies = [
        await alice.request("GET", "/v2/balances", nonce="123", timestamp=timestamp),
        await alice.request("GET", "/v2/positions", nonce="123", timestamp=timestamp),
        await alice.request("GET", "/v2/trades/BTC-USD-SWAP-LIN", nonce="123", timestamp=timestamp),
        await alice.request("GET", "/v2/balances", nonce="123"),  # a later timestamp
        await alice.request("GET", "/v2/balances", nonce="5"),  # smaller than one seen: fine
    ]
    assert [reply.status for reply in replies] == [200] * len(replies), replies[-1].text
    # Same nonce and timestamp, different bodies: two different orders, both accepted.
    bodies = [
        {"responseType": "FULL", "orders": [order_item(price=price)]}
        for price in ("49000", "49100")
    ]
    placed = [
        await alice.request("POST", "/v2/orders/place", body=body, nonce="1", timestamp=timestamp)
        for body in bodies
    ]
    assert [reply.data[0]["success"] for reply in placed] == ["true", "true"]
    assert alice.me.order_count == 2


def test_the_replay_cache_is_bounded() -> None:
    cache = ReplayCache(window=60, capacity=1_000)
    for n in range(5_000):
        assert cache.first_use("key", str(n), "sig", now=1_000.0)
    assert len(cache) == 1_000
    # The most recent ones are still refused as replays; the evicted oldest are forgotten.
    assert not cache.first_use("key", "4999", "sig", now=1_000.0)
    assert cache.first_use("key", "0", "sig", now=1_000.0)
    # Past the window everything is forgotten at once.
    assert cache.first_use("key", "x", "sig", now=1_061.0)
    assert len(cache) == 1


async def test_a_refused_request_does_not_burn_its_nonce(trader: Callable[..., Trader]) -> None:
    alice = trader()
    bad = await alice.request("GET", "/v2/balances", nonce="7", signature="d3Jvbmc=")
    assert bad.status == 401
    assert (await alice.request("GET", "/v2/balances", nonce="7")).status == 200


async def test_concurrent_requests_with_unordered_nonces(trader: Callable[..., Trader]) -> None:
    alice = trader()
    nonces = [str(n) for n in random.Random(1).sample(range(1_000_000), 60)]
    replies = await asyncio.gather(
        *(alice.request("GET", "/v2/positions", nonce=n) for n in nonces)
    )
    assert [reply.status for reply in replies] == [200] * len(nonces)


async def test_signature_covers_the_raw_query_string(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    path, raw_query = "/v2/trades/BTC-USD-SWAP-LIN", "limit=10&note=a%20b"
    timestamp, host = str(int(sim.clock() * 1000)), f"127.0.0.1:{sim.port}"
    secret = alice.me.api_secret
    for signed_body, expected in (
        ("limit=10&note=a b", 401),
        (raw_query, 200),
        ("limit=11&note=a%20b", 401),
    ):
        nonce = str(random.random())
        signature = docs_signature(secret, timestamp, nonce, "GET", host, path, signed_body)
        reply = await alice.request(
            "GET",
            path + "?" + raw_query,
            sign=False,
            headers={
                "AccessKey": alice.me.api_key,
                "Timestamp": timestamp,
                "Nonce": nonce,
                "Signature": signature,
            },
        )
        assert reply.status == expected, (signed_body, reply.text)


async def test_signature_covers_the_body(sim: Simulator, trader: Callable[..., Trader]) -> None:
    alice = trader()
    timestamp, nonce, host = str(int(sim.clock() * 1000)), "42", f"127.0.0.1:{sim.port}"
    body = '{"asset": "flexUSD", "quantity": "1"}'
    signature = docs_signature(
        alice.me.api_secret, timestamp, nonce, "POST", host, "/v2/mint", body.replace("1", "2")
    )
    async with alice.session.post(
        sim.url + "/v2/mint",
        data=body.encode(),
        headers={
            "AccessKey": alice.me.api_key,
            "Timestamp": timestamp,
            "Nonce": nonce,
            "Signature": signature,
        },
    ) as response:
        assert response.status == 401
        assert (await response.json())["code"] == "20000"
    assert alice.me.balance("flexUSD") == 0


async def test_host_line_is_the_host_header_as_received(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader()
    timestamp = str(int(sim.clock() * 1000))
    secret, key = alice.me.api_secret, alice.me.api_key
    for host_header, signed_host, expected in (
        ("v2api.coinflex.com", "v2api.coinflex.com", 200),
        (None, "v2api.coinflex.com", 401),
        (None, f"127.0.0.1:{sim.port}", 200),
    ):
        nonce = str(random.random())
        headers = {
            "AccessKey": key,
            "Timestamp": timestamp,
            "Nonce": nonce,
            "Signature": docs_signature(
                secret, timestamp, nonce, "GET", signed_host, "/v2/positions", ""
            ),
        }
        if host_header is not None:
            headers["Host"] = host_header
        reply = await alice.request("GET", "/v2/positions", sign=False, headers=headers)
        assert reply.status == expected, (host_header, signed_host, reply.text)


async def test_a_replay_is_refused_until_its_timestamp_is_stale() -> None:
    clock = ManualClock(1_700_000_000.0)
    async with Simulator(rate_limits=None, clock=clock) as sim, aiohttp.ClientSession() as session:
        alice = Trader(session, sim, sim.create_account({"USD": "1"}))
        sent_at = str(1_700_000_000_000)
        assert (
            await alice.request("GET", "/v2/balances", nonce="1", timestamp=sent_at)
        ).status == 200
        clock.advance(30)
        replay = await alice.request("GET", "/v2/balances", nonce="1", timestamp=sent_at)
        assert (replay.status, replay.json["code"]) == (401, "20000")
        # Past the tolerance the replay's timestamp is stale: 20024, whatever the cache holds.
        clock.advance(31)
        stale = await alice.request("GET", "/v2/balances", nonce="1", timestamp=sent_at)
        assert (stale.status, stale.json["code"]) == (401, "20024")


async def test_tolerance_is_configurable() -> None:
    clock = ManualClock(1_700_000_000.0)
    async with (
        Simulator(rate_limits=None, clock=clock, timestamp_tolerance=5) as sim,
        aiohttp.ClientSession() as session,
    ):
        alice = Trader(session, sim, sim.create_account({"USD": "1"}))
        reply = await alice.request("GET", "/v2/balances", timestamp=str(1_700_000_000_000 - 6_000))
        assert reply.status == 401
        assert reply.json["code"] == "20024"
