"""Volume: 1,000 order placements under random faults keep the books consistent with what
clients saw, and 10,000 mixed requests go through."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from decimal import Decimal

import aiohttp
import pytest

from coinflex_async.sim import Fault, Simulator

from ._helpers import Trader, order_item

PLACE = "/v2/orders/place"


@pytest.mark.slow
async def test_thousand_placements_under_faults(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    alice = trader({"USD": "100000000"})
    sim.faults.seed(3)
    sim.inject(Fault.reset_before(method="POST", path=PLACE, probability=0.05))
    sim.inject(Fault.reset_after(method="POST", path=PLACE, probability=0.05))
    sim.inject(Fault.truncated_json(method="POST", path=PLACE, probability=0.03))
    prices = random.Random(5)
    outcomes: dict[str, str] = {}  # clientOrderId -> "ok" | "disconnected" | "garbled"

    async def place(client_order_id: str) -> None:
        price = Decimal(45000) + Decimal("0.5") * prices.randrange(9000)
        item = order_item(price=str(price), client_order_id=client_order_id)
        try:
            reply = await alice.post(PLACE, {"responseType": "FULL", "orders": [item]})
        except aiohttp.ClientConnectionError:
            outcomes[client_order_id] = "disconnected"
            return
        try:
            (result,) = json.loads(reply.text)["data"]
        except json.JSONDecodeError:
            outcomes[client_order_id] = "garbled"
            return
        assert result["success"] == "true", result
        outcomes[client_order_id] = "ok"

    client_ids = [str(100_000 + n) for n in range(1000)]
    for start in range(0, len(client_ids), 50):
        await asyncio.gather(*(place(cid) for cid in client_ids[start : start + 50]))

    injected = sim.stats.faults_injected
    counts = {
        kind: list(outcomes.values()).count(kind) for kind in ("ok", "disconnected", "garbled")
    }
    assert counts["disconnected"] == injected["reset_before"] + injected["reset_after"]
    assert counts["garbled"] == injected["truncated_json"]
    assert min(injected["reset_before"], injected["reset_after"], injected["truncated_json"]) > 0
    # Exactly the orders whose request reached the engine exist, once each.
    expected = counts["ok"] + injected["reset_after"] + injected["truncated_json"]
    assert alice.me.order_count == expected
    landed_after_disconnect = 0
    for cid, outcome in outcomes.items():
        found = alice.me.orders_with_client_id(cid)
        assert len(found) <= 1
        if outcome in ("ok", "garbled"):
            assert found, cid
        elif found:
            landed_after_disconnect += 1
    assert landed_after_disconnect == injected["reset_after"]
    sim.faults.clear()
    (book,) = (await alice.get("/v2/depth/BTC-USD-SWAP-LIN/1000")).data
    assert sum(Decimal(str(level[1])) for level in book["bids"]) == Decimal("0.001") * expected


@pytest.mark.slow
async def test_ten_thousand_mixed_requests(sim: Simulator, trader: Callable[..., Trader]) -> None:
    sim.add_liquidity(["BTC-USD-SWAP-LIN"])
    traders = [trader() for _ in range(10)]

    async def worker(who: Trader, rounds: int) -> list[int]:
        statuses = []
        for n in range(rounds):
            if n % 5 == 0:
                reply = await who.post(
                    PLACE, {"responseType": "ACK", "orders": [order_item(price="49000")]}
                )
            elif n % 5 == 1:
                reply = await who.get("/v2/balances")
            elif n % 5 == 2:
                reply = await who.get("/v2/depth/BTC-USD-SWAP-LIN/10")
            elif n % 5 == 3:
                reply = await who.get("/v2.1/orders", limit=5)
            else:
                reply = await who.get("/v2/ping")
            statuses.append(reply.status)
        return statuses

    results = await asyncio.gather(*(worker(traders[n % 10], 500) for n in range(20)))
    statuses = [status for batch in results for status in batch]
    assert len(statuses) == 10_000
    assert set(statuses) == {200}
    assert sim.stats.by_route["POST /v2/orders/place"] == 2000
    assert sum(t.me.order_count for t in traders) == 2000
