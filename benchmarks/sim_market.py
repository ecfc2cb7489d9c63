"""``python -m benchmarks.sim_market [--seconds S] [--hours H]``: what ``RandomMarket`` costs.

Three figures, each with and without the market:

- ``cpu``: two simulators run side by side as ``coinflex-sim`` processes, one with
  ``--market random`` (every default market at the defaults), one without; nobody talks to
  them for ``--seconds``. Each one's process CPU over that span (Linux ``/proc``), as a share
  of one core: the difference is the market's cost (issue 17's budget: <= 5% of one core).
- ``latency``: then the same two processes answer requests, alternating between them so the
  shared machine's load falls on both alike: REST ``GET /v2/depth/BTC-USD-SWAP-LIN/5`` and a
  WebSocket ``placeorder`` (a MAKER_ONLY sell far from the market) then ``cancelorder`` for
  the funded account, ``--rate`` of each per second per server. Round-trip p50/p99 per server
  (budget: the market delays answers by <= 1 ms at p99).
- ``hour``: in this process, ``Simulator(market=RandomMarket(), clock=ManualClock(...))``
  advanced ``--hours`` simulated hours (budget: one hour in < 10 s), with the trades printed,
  the process's peak memory, and the CPU time of each step of the market (what a request on
  the real clock can at most wait behind it: a figure the machine's load hardly touches).

The machine these ran on was shared with other work: give the load average with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from coinflex_async.sim import ManualClock, MarketDriver, RandomMarket, Simulator, Venue

from .processes import PROJECT_ROOT, child_env

__all__ = [
    "HourReport",
    "LatencyReport",
    "Server",
    "main",
    "measure_cpu",
    "measure_hour",
    "measure_latency",
]

SWAP = "BTC-USD-SWAP-LIN"
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A ``coinflex-sim`` process and what its banner said."""

    process: asyncio.subprocess.Process
    url: str
    ws_url: str
    key: str
    secret: str

    @classmethod
    async def start(cls, *flags: str) -> Server:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "coinflex_async.sim", "--port", "0", "--no-rate-limits",
            *flags, stdout=asyncio.subprocess.PIPE, cwd=PROJECT_ROOT, env=child_env(),
        )  # fmt: skip
        assert process.stdout is not None
        banner: dict[str, str] = {}
        while "api secret" not in banner:
            line = (await process.stdout.readline()).decode()
            if not line:
                raise RuntimeError("coinflex-sim exited before printing its banner")
            if " listening on " in line:
                banner["url"] = line.rsplit(" on ", 1)[1].strip()
            elif ":" in line:
                label, _, value = line.partition(":")
                banner[label.strip()] = value.strip()
        return cls(
            process, banner["url"], banner["websocket"], banner["api key"], banner["api secret"]
        )

    def cpu_seconds(self) -> float:
        """User + system CPU the process used so far (Linux /proc)."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    async def stop(self) -> None:
        self.process.terminate()
        await self.process.wait()


async def measure_cpu(servers: dict[str, Server], seconds: float) -> dict[str, float]:
    """Each server's CPU over ``seconds`` of wall time, as a share of one core."""
    before = {name: server.cpu_seconds() for name, server in servers.items()}
    started = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - started
    return {
        name: (server.cpu_seconds() - before[name]) / elapsed for name, server in servers.items()
    }


@dataclass
class LatencyReport:
    rest_ms: list[float] = field(default_factory=list)
    ws_ms: list[float] = field(default_factory=list)

    def line(self, name: str) -> str:
        rest, ws = _percentiles(self.rest_ms), _percentiles(self.ws_ms)
        return (
            f"{name:9s} REST depth ms p50 {rest[0]:.2f} p99 {rest[1]:.2f} (n={len(self.rest_ms)})"
            f" | WS place+cancel ms p50 {ws[0]:.2f} p99 {ws[1]:.2f} (n={len(self.ws_ms)})"
        )


def _percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return (0.0, 0.0)
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _login(key: str, secret: str) -> dict[str, Any]:
    timestamp = str(int(time.time() * 1000))
    payload = (timestamp + "GET/auth/self/verify").encode()
    signature = base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest())
    data = {"apiKey": key, "timestamp": timestamp, "signature": signature.decode()}
    return {"op": "login", "tag": 1, "data": data}


async def _reply(ws: aiohttp.ClientWebSocketResponse, event: str) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.receive_str())
        if message.get("event") == event:
            return message  # type: ignore[no-any-return]


async def measure_latency(
    servers: dict[str, Server], seconds: float, rate: float
) -> dict[str, LatencyReport]:
    """REST and WebSocket round trips, alternating between the servers, ``rate`` of each per
    second per server."""
    reports = {name: LatencyReport() for name in servers}
    async with aiohttp.ClientSession() as session:
        sockets = {}
        for name, server in servers.items():
            ws = await session.ws_connect(server.ws_url)
            await ws.send_json(_login(server.key, server.secret))
            assert (await _reply(ws, "login"))["success"] is True
            sockets[name] = ws
        deadline = time.monotonic() + seconds
        count = 0
        while time.monotonic() < deadline:
            for name, server in servers.items():
                started = time.perf_counter()
                async with session.get(f"{server.url}/v2/depth/{SWAP}/5") as response:
                    await response.read()
                reports[name].rest_ms.append((time.perf_counter() - started) * 1000)
                ws = sockets[name]
                count += 1
                order = {"clientOrderId": count, "marketCode": SWAP, "side": "SELL",
                         "quantity": "0.001", "orderType": "LIMIT", "price": "54000",
                         "timeInForce": "MAKER_ONLY"}  # fmt: skip
                started = time.perf_counter()
                await ws.send_json({"op": "placeorder", "tag": count, "data": order})
                placed = await _reply(ws, "placeorder")
                cancel = {"marketCode": SWAP, "orderId": placed["data"]["orderId"]}
                await ws.send_json({"op": "cancelorder", "tag": count, "data": cancel})
                await _reply(ws, "cancelorder")
                reports[name].ws_ms.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(1 / rate)
        for ws in sockets.values():
            await ws.close()
    return reports


class _TimedDriver:
    """A market driver that runs another one and keeps the CPU time of each of its steps."""

    def __init__(self, driver: MarketDriver) -> None:
        self._driver = driver
        self.step_ms: list[float] = []

    def attach(self, venue: Venue) -> None:
        self._driver.attach(venue)

    def next_due(self) -> float | None:
        return self._driver.next_due()

    def act(self, now: float) -> None:
        started = time.thread_time()
        self._driver.act(now)
        self.step_ms.append((time.thread_time() - started) * 1000)


@dataclass
class HourReport:
    cpu_seconds: float
    wall_seconds: float
    trades: int
    step_ms: list[float]

    def line(self, hours: float) -> str:
        ordered = sorted(self.step_ms)
        p50, p99 = _percentiles(ordered)
        p999 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.999))]
        return (
            f"ManualClock: {hours:g} simulated hour(s) on every default market: "
            f"{self.wall_seconds:.2f} s wall, {self.cpu_seconds:.2f} s CPU, {self.trades} trades "
            f"(budget: one hour in < 10 s); one market step's CPU ms p50 {p50:.3f} "
            f"p99 {p99:.3f} p99.9 {p999:.3f} max {ordered[-1]:.3f} (n={len(ordered)})"
        )


async def measure_hour(hours: float, seed: int = 0) -> HourReport:
    """Simulated ``hours`` of RandomMarket on every default market under a ManualClock."""
    timed = _TimedDriver(RandomMarket(seed=seed))
    sim = Simulator(market=timed, clock=ManualClock(1_700_000_000.0))
    cpu, wall = time.process_time(), time.perf_counter()
    await sim.advance(hours * 3600)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    trades = sum(len(market.trades) for market in sim.engine.markets.values())
    return HourReport(cpu, wall, trades, timed.step_ms)


async def _run(args: argparse.Namespace) -> int:
    print(f"load average before: {os.getloadavg()}")
    servers = {
        "no market": await Server.start(),
        "random": await Server.start("--market", "random"),
    }
    failed = False
    try:
        await asyncio.sleep(1.0)  # past the start-up
        cpu = await measure_cpu(servers, args.seconds)
        for name, share in cpu.items():
            print(f"cpu {name:9s} {share * 100:5.2f}% of one core over {args.seconds:g} s")
        extra = cpu["random"] - cpu["no market"]
        print(f"cpu of the market: {extra * 100:.2f}% of one core (budget 5%)")
        failed |= extra > 0.05
        latency = await measure_latency(servers, args.seconds, args.rate)
        for name, report in latency.items():
            print(report.line(name))
        for kind in ("rest_ms", "ws_ms"):
            delay = (
                _percentiles(getattr(latency["random"], kind))[1]
                - _percentiles(getattr(latency["no market"], kind))[1]
            )
            print(f"p99 delay of {kind[:-3]} answers by the market: {delay:.2f} ms (budget 1 ms)")
            failed |= delay > 1.0
    finally:
        for server in servers.values():
            await server.stop()
    hour = await measure_hour(args.hours)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{hour.line(args.hours)}; peak RSS {peak:.0f} MiB")
    failed |= hour.wall_seconds / args.hours > 10
    print(f"load average after: {os.getloadavg()}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sim_market", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="each measurement's span")
    parser.add_argument("--rate", type=float, default=20.0, help="requests/s of each kind")
    parser.add_argument("--hours", type=float, default=1.0, help="simulated hours to step")
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
