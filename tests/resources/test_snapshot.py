"""``private.snapshot()``: balances, positions and open orders fetched concurrently, signed,
with ``taken_at`` the time the first request left."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import coinflex_async as cf
from tests.loopback import Recorded, RecordingServer, Reply, spec_signature

DELAY = 0.3


def slow(body: object) -> object:
    async def reply(recorded: Recorded) -> Reply:
        await asyncio.sleep(DELAY)
        return 200, body, {}  # type: ignore[return-value]

    return reply


async def test_snapshot_fetches_concurrently_and_times_its_start(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    balance = {
        "instrumentId": "USD",
        "total": "10.5",
        "available": "10.5",
        "reserved": "0",
        "quantityLastUpdated": "1593627415234",
    }
    server.reply("GET", "/v2/balances", slow({"event": "balances", "data": [balance]}))
    server.reply("GET", "/v2/positions", slow({"event": "positions", "data": None}))
    server.reply("GET", "/v2/orders", slow({"event": "orders", "data": []}))
    async with cf.Client("key", "secret", base_url=url) as client:
        before = time.time_ns() // 1_000_000
        started = time.monotonic()
        snapshot = await client.private.snapshot()
        elapsed = time.monotonic() - started
    assert isinstance(snapshot, cf.AccountSnapshot)
    assert snapshot.balances[0].total == Decimal("10.5")
    assert snapshot.positions == [] and snapshot.open_orders == []
    # Three requests of 0.3 s each, at once: well under the 0.9 s they take one after another.
    assert elapsed < 2 * DELAY
    assert before <= snapshot.taken_at <= before + 1000
    assert sorted(r.path for r in server.requests) == [
        "/v2/balances",
        "/v2/orders",
        "/v2/positions",
    ]
    for recorded in server.requests:
        assert recorded.headers["Signature"] == spec_signature("secret", recorded)
