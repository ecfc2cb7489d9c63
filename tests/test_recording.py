"""The recorder as a library call (``coinflex_async._recording.record``) against the
simulator over real sockets: it reconnects after a dropped connection and records on."""

from __future__ import annotations

import asyncio
import io
import json

import coinflex_async as cf
from coinflex_async._recording import RecordStats, decode_line, record
from coinflex_async.sim import Fault, Simulator

SWAP = "BTC-USD-SWAP-LIN"


async def test_the_recorder_reconnects_after_a_drop_and_records_on() -> None:
    out = io.BytesIO()
    stop = asyncio.Event()
    subscribed: asyncio.Queue[None] = asyncio.Queue()
    async with Simulator(rate_limits=None, liquidity=True) as sim:
        alice = sim.create_account({"USD": "1000000"})
        recorder = asyncio.ensure_future(
            record(sim.url, [f"trade:{SWAP}"], out, stop=stop,
                   subscribed=lambda: subscribed.put_nowait(None))
        )  # fmt: skip

        async with cf.Client(alice.api_key, alice.api_secret, base_url=sim.url) as client:

            async def buy() -> None:
                await client.private.place_order(
                    market_code=SWAP, side=cf.Side.BUY, quantity="0.001",
                    order_type=cf.OrderType.MARKET,
                )  # fmt: skip

            await asyncio.wait_for(subscribed.get(), 10)
            await buy()
            sim.inject(Fault.ws_reset(op="trade", times=1))  # the next trade push drops it
            await buy()
            await asyncio.wait_for(subscribed.get(), 10)  # reconnected, subscribed again
            await buy()
            await asyncio.sleep(0.3)
        stop.set()
        stats: RecordStats = await asyncio.wait_for(recorder, 10)
    assert stats.reconnects == 1
    lines = out.getvalue().decode().splitlines()
    trades = [
        event
        for number, line in enumerate(lines, 1)
        for event in decode_line("memory", number, json.loads(line)["msg"])
        if isinstance(event, cf.TradeEvent)
    ]
    # The trade whose push was dropped with the connection is not in the recording (a
    # recording is what was received); the ones before and after the drop are.
    assert len(trades) == 2 == stats.messages
    assert trades[0].trade_id != trades[1].trade_id
