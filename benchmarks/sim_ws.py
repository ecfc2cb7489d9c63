"""``python -m benchmarks.sim_ws [--quick]``: the simulator's WebSocket under a scanner's load.

A market scanner watches ``--markets`` markets (depth and trade each: 200 subscriptions for
100 markets) over ``--connections`` connections, while two accounts trade over their own
connections (IOC orders against a market maker, so every order fills, moves a book and
pushes trade, order, position and balance messages). The simulator runs in its own process;
this process is the scanner and the traders.

Measured over ``--seconds`` after a warm-up: the simulator process's CPU (share of one core),
how late its 50 ms depth rounds started (from ``sim.stats``) and how many slots it skipped,
and the push lag the scanner sees (receive time minus the depth message's ``timestamp``,
which includes the scanner's own queueing). The floor is a bare aiohttp WebSocket server in
the same kind of process sending a canned frame of the same size for each subscription at the
same cadence: ``sim/floor`` is the simulator's CPU relative to the least any Python server
pays for those frames.

``--every-connection``: each connection subscribes to all the channels (a scanner that
does not shard: ``connections`` times the pushes).

Exit status 1 when the simulator fell behind its cadence: it skipped more than 5% of its
depth slots (a round that overran the next slot). Single late rounds are reported, not
failed: on a shared machine the process is sometimes descheduled. How many of the owed depth
messages the scanner read is reported too; with ``--every-connection`` the scanner (one
Python process reading 40,000 messages/s) is the bottleneck, not the simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["main"]

DEPTH_INTERVAL = 0.05


@dataclass
class Report:
    kind: str
    cpu_share: float  # of one core
    depth_expected: int
    depth_received: int
    trades_received: int = 0
    orders_sent: int = 0
    lag_ms: list[float] = field(default_factory=list)
    round_lateness_ms: list[float] = field(default_factory=list)
    slots_missed: int = 0

    def line(self) -> str:
        lag = _percentiles(self.lag_ms)
        late = _percentiles(self.round_lateness_ms)
        return (
            f"{self.kind:5s} cpu {self.cpu_share * 100:5.1f}% of a core | depth msgs "
            f"{self.depth_received}/{self.depth_expected} | trades {self.trades_received} | "
            f"orders {self.orders_sent} | scanner lag ms p50 {lag[0]:.1f} p99 {lag[1]:.1f} "
            f"max {lag[2]:.1f} | round lateness ms p50 {late[0]:.1f} p99 {late[1]:.1f} "
            f"max {late[2]:.1f} | slots missed {self.slots_missed}"
        )


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return (0.0, 0.0, 0.0)
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (statistics.median(ordered), p99, ordered[-1])


# -- the server process -----------------------------------------------------------------------


def _market_specs(count: int) -> list[Any]:
    from coinflex_async.sim import MarketSpec, MarketType

    return [
        MarketSpec(
            f"C{index:03d}-USD-SWAP-LIN",
            MarketType.FUTURE,
            f"C{index:03d}",
            "USD",
            Decimal("0.01"),
            Decimal("0.1"),
            Decimal(100),
        )
        for index in range(count)
    ]


async def _serve_simulator(markets: int) -> None:
    from coinflex_async.sim import Simulator

    async with Simulator(rate_limits=None, markets=_market_specs(markets)) as sim:
        sim.add_liquidity(levels=5, quantity="1000")
        accounts = [sim.create_account(balances={"USD": "1000000000"}) for _ in range(3)]
        hello = {
            "url": sim.ws_url,
            "markets": list(sim.engine.markets),
            "accounts": [[a.api_key, a.api_secret] for a in accounts],
        }

        def stats() -> dict[str, Any]:
            return {
                "cpu": time.process_time(),
                "lateness": list(sim.stats.depth_lateness),
                "missed": sim.stats.depth_slots_missed,
            }

        def reset() -> None:
            sim.stats.depth_lateness.clear()
            sim.stats.depth_slots_missed = 0

        await _control_loop(hello, stats, reset)


async def _serve_floor(markets: int) -> None:
    """The least a Python WebSocket server does for the same pushes: one canned frame of a
    depth message's size per subscription every 50 ms, the rest acknowledged."""
    codes = [spec.market_code for spec in _market_specs(markets)]
    subscribers: dict[web.WebSocketResponse, list[str]] = {}
    canned: dict[str, str] = {}
    lateness: list[float] = []
    missed = [0]

    async def handle(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        subscribers[ws] = []
        async for message in ws:
            request_body = json.loads(message.data)
            for channel in request_body.get("args", []):
                if channel.startswith("depth"):
                    subscribers[ws].append(channel.partition(":")[2])
                await ws.send_str(json.dumps({"event": "subscribe", "channel": channel}))
            if request_body.get("op") == "login":
                await ws.send_str(json.dumps({"event": "login", "success": True}))
        subscribers.pop(ws, None)
        return ws

    async def push() -> None:
        # The simulator's grid: a round that overruns the next slot skips the slots gone.
        loop = asyncio.get_running_loop()
        slot = loop.time() + DEPTH_INTERVAL
        while True:
            await asyncio.sleep(max(0.0, slot - loop.time()))
            lateness.append(loop.time() - slot)
            now = str(int(time.time() * 1000))
            for ws, codes_ in list(subscribers.items()):
                for code in codes_:
                    await ws.send_str(canned[code].replace("TIMESTAMP", now))
            slot += DEPTH_INTERVAL
            behind = loop.time() - slot
            if behind > 0:
                skipped = int(behind // DEPTH_INTERVAL) + 1
                slot += skipped * DEPTH_INTERVAL
                missed[0] += skipped

    for code in codes:
        levels = ",".join(f"[{100 + i * 0.05:.2f},100,0,0]" for i in range(1, 6))
        canned[code] = (
            '{"table":"depth","data":[{"instrumentId":"' + code + '","seqNum":1,'
            '"timestamp":"TIMESTAMP","checksum":1,"asks":['
            + levels
            + '],"bids":['
            + levels
            + "]}]}"
        )
    app = web.Application()
    app.router.add_get("/v2/websocket", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    pusher = asyncio.create_task(push())
    hello = {
        "url": f"ws://127.0.0.1:{port}/v2/websocket",
        "markets": codes,
        "accounts": [],
    }

    def reset() -> None:
        lateness.clear()
        missed[0] = 0

    try:
        await _control_loop(
            hello,
            lambda: {"cpu": time.process_time(), "lateness": lateness, "missed": missed[0]},
            reset,
        )
    finally:
        pusher.cancel()
        await runner.cleanup()


async def _control_loop(hello: dict[str, Any], stats: Any, reset: Any) -> None:
    """Talk to the parent over stdin/stdout: ``stats``, ``reset``, ``quit``."""
    print(json.dumps(hello), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if command == "stats":
            print(json.dumps(stats()), flush=True)
        elif command == "reset":
            reset()
            print("{}", flush=True)
        else:
            return


# -- the load (this process) ------------------------------------------------------------------


def _login(key: str, secret: str) -> dict[str, Any]:
    timestamp = str(int(time.time() * 1000))
    signature = base64.b64encode(
        hmac.new(
            secret.encode(), (timestamp + "GET/auth/self/verify").encode(), hashlib.sha256
        ).digest()
    ).decode()
    return {
        "op": "login",
        "data": {"apiKey": key, "timestamp": timestamp, "signature": signature},
    }


class Server:
    def __init__(self, process: asyncio.subprocess.Process, hello: dict[str, Any]) -> None:
        self.process = process
        self.hello = hello

    @classmethod
    async def start(cls, kind: str, markets: int) -> Server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.sim_ws",
            "--serve",
            kind,
            "--markets",
            str(markets),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        hello = json.loads(await process.stdout.readline())
        return cls(process, hello)

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        return json.loads(await self.process.stdout.readline())  # type: ignore[no-any-return]

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"quit\n")
        await self.process.stdin.drain()
        await self.process.wait()


class Counters:
    def __init__(self) -> None:
        self.recording = False
        self.depth = 0
        self.trades = 0
        self.orders = 0
        self.lag_ms: list[float] = []


async def _scanner(
    ws: aiohttp.ClientWebSocketResponse, counters: Counters, clock: Any = time.time
) -> None:
    marker = '"timestamp":"'
    async for message in ws:
        if message.type != aiohttp.WSMsgType.TEXT or not counters.recording:
            continue
        text: str = message.data
        if text.startswith('{"table":"depth"'):
            counters.depth += 1
            start = text.index(marker) + len(marker)
            counters.lag_ms.append(clock() * 1000 - int(text[start : start + 13]))
        elif text.startswith('{"table":"trade"') or text.startswith('{"table": "trade"'):
            counters.trades += 1


async def _trader(
    ws: aiohttp.ClientWebSocketResponse,
    markets: list[str],
    side: str,
    rate: float,
    counters: Counters,
) -> None:
    """IOC orders against the market maker: each fills and pushes a trade."""
    price = "100.05" if side == "BUY" else "99.95"
    index = 0
    while True:
        market = markets[index % len(markets)]
        index += 1
        order = {
            "marketCode": market,
            "side": side,
            "orderType": "LIMIT",
            "quantity": "0.1",
            "price": price,
            "timeInForce": "IOC",
        }
        await ws.send_str(json.dumps({"op": "placeorder", "data": order}))
        if counters.recording:
            counters.orders += 1
        await asyncio.sleep(1 / rate)


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _ in ws:
        pass


async def run_load(
    kind: str,
    *,
    markets: int,
    connections: int,
    seconds: float,
    rate: float,
    every: bool,
    warmup: float = 1.0,
) -> Report:
    server = await Server.start(kind, markets)
    codes: list[str] = server.hello["markets"]
    accounts: list[list[str]] = server.hello["accounts"]
    counters = Counters()
    tasks: list[asyncio.Task[None]] = []
    async with aiohttp.ClientSession() as session:
        sockets = [await session.ws_connect(server.hello["url"]) for _ in range(connections)]
        subscriptions = [
            channel for code in codes for channel in (f"depth:{code}", f"trade:{code}")
        ]
        for index, ws in enumerate(sockets):
            mine = subscriptions if every else subscriptions[index::connections]
            if accounts:  # the scanner logs in: 50 requests/s instead of 1
                await ws.send_str(json.dumps(_login(*accounts[0])))
            for start in range(0, len(mine), 50):
                args = mine[start : start + 50]
                await ws.send_str(json.dumps({"op": "subscribe", "args": args}))
        tasks += [asyncio.create_task(_scanner(ws, counters)) for ws in sockets]
        depth_subscriptions = sum(1 for s in subscriptions if s.startswith("depth"))
        if every:
            depth_subscriptions *= connections
        for (key, secret), side in zip(accounts[1:], ("BUY", "SELL"), strict=False):
            ws = await session.ws_connect(server.hello["url"])
            await ws.send_str(json.dumps(_login(key, secret)))
            channels = ["order:all", "balance:all", "position:all"]
            await ws.send_str(json.dumps({"op": "subscribe", "args": channels}))
            tasks.append(asyncio.create_task(_drain(ws)))
            tasks.append(asyncio.create_task(_trader(ws, codes, side, rate, counters)))
            sockets.append(ws)
        await asyncio.sleep(warmup)  # subscriptions settle, the first rounds go out
        await server.ask("reset")
        before = await server.ask("stats")
        started = time.monotonic()
        counters.recording = True
        await asyncio.sleep(seconds)
        counters.recording = False
        after = await server.ask("stats")
        elapsed = time.monotonic() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ws in sockets:
            await ws.close()
    await server.stop()
    return Report(
        kind=kind,
        cpu_share=(after["cpu"] - before["cpu"]) / elapsed,
        depth_expected=int(depth_subscriptions * elapsed / DEPTH_INTERVAL),
        depth_received=counters.depth,
        trades_received=counters.trades,
        orders_sent=counters.orders,
        lag_ms=counters.lag_ms,
        round_lateness_ms=[value * 1000 for value in after["lateness"]],
        slots_missed=after["missed"],
    )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sim_ws", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a 3-second smoke run")
    parser.add_argument("--markets", type=int, default=100)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--seconds", type=float, help="measured seconds (default 20; quick 3)")
    parser.add_argument("--rate", type=float, default=10.0, help="orders/s of each trader")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor server")
    parser.add_argument(
        "--every-connection", action="store_true", help="every connection takes every channel"
    )
    parser.add_argument("--serve", choices=("sim", "floor"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.serve == "sim":
        asyncio.run(_serve_simulator(args.markets))
        return 0
    if args.serve == "floor":
        asyncio.run(_serve_floor(args.markets))
        return 0
    seconds = args.seconds if args.seconds is not None else (3.0 if args.quick else 20.0)
    spread = "on every connection" if args.every_connection else "spread over them"
    print(
        f"scanner: {args.connections} connections, {args.markets} markets x (depth + trade) = "
        f"{2 * args.markets} subscriptions {spread}; 2 traders x {args.rate:g} IOC orders/s; "
        f"{seconds:g} s measured"
    )
    kinds = ["sim"] if args.no_floor else ["floor", "sim"]
    reports = {}
    for kind in kinds:
        reports[kind] = asyncio.run(
            run_load(
                kind,
                markets=args.markets,
                connections=args.connections,
                seconds=seconds,
                rate=args.rate,
                every=args.every_connection,
            )
        )
        print(reports[kind].line(), flush=True)
    sim = reports["sim"]
    if "floor" in reports and reports["floor"].cpu_share > 0:
        print(f"sim/floor CPU: {sim.cpu_share / reports['floor'].cpu_share:.2f}")
    if sim.slots_missed > 0.05 * seconds / DEPTH_INTERVAL:
        print("FAIL: the simulator fell behind its 50 ms depth cadence")
        return 1
    print("ok: the simulator kept its 50 ms depth cadence")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
