"""``python -m benchmarks.sim_market [--parts cpu,latency,hour] [--rounds N] [--hours H]``: what
``RandomMarket`` costs.

Three figures, each with and without the market:

- ``cpu``: two simulators run side by side as ``coinflex-sim`` processes, one with
  ``--market random`` (every default market at the defaults), one without; nobody talks to
  them for ``--seconds``. Each one's process CPU over that span (Linux ``/proc``), as a share
  of one core: the difference is the market's cost (issue 17's budget: <= 5% of one core).
- ``latency``: one simulator process (``benchmarks/sim_market_server.py``: every default
  market, ``RandomMarket`` at the defaults) whose market is paused and resumed between
  ``--rounds`` rounds of ``--round-seconds`` each, running and paused interleaved (R P P R R P
  ...), so the same warm process and the machine's load serve both sets alike. In every round
  a plain client sends REST ``GET /v2/depth/BTC-USD-SWAP-LIN/5`` and a WebSocket
  ``placeorder`` (a MAKER_ONLY sell far from the market) then ``cancelorder``, ``--rate`` of
  each per second. Round-trip p50/p99 of each set; the p99 difference is the market's delay
  (budget: <= 1 ms), and the difference between two halves of the same set (alternate
  rounds) is the method's own noise. The server's event-loop lag (how late a 5 ms timer
  fires) is reported per set too: what a request waits behind the market, with no network
  or client in it. A paused span is longer than a second, so the market skips it on resume
  instead of playing it in a burst.
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
import gc
import hashlib
import hmac
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from coinflex_async.sim import ManualClock, MarketDriver, RandomMarket, Simulator, Venue

from .processes import PROJECT_ROOT, child_env

__all__ = [
    "HourReport",
    "Interleaved",
    "LatencyReport",
    "Server",
    "main",
    "measure_cpu",
    "measure_hour",
    "measure_interleaved",
]

SWAP = "BTC-USD-SWAP-LIN"
# The engine's first match id (it counts up by one a trade, across markets).
_FIRST_MATCH_ID = 2_000_000_000_001
_TICKS = os.sysconf("SC_CLK_TCK")
# The longest line a child prints: the server's lags (~200 a second of rounds, ~6 bytes each).
_LINE_LIMIT = 1 << 24


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
        """``coinflex-sim`` with these flags."""
        return await cls._start(
            "coinflex_async.sim", "--port", "0", "--no-rate-limits", *flags, stdin=None
        )

    @classmethod
    async def start_pausable(cls) -> Server:
        """``benchmarks.sim_market_server``: its market paused and resumed by ``command``."""
        return await cls._start("benchmarks.sim_market_server", stdin=asyncio.subprocess.PIPE)

    @classmethod
    async def _start(cls, module: str, *args: str, stdin: int | None) -> Server:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, *args, stdin=stdin, stdout=asyncio.subprocess.PIPE,
            cwd=PROJECT_ROOT, env=child_env(), limit=_LINE_LIMIT,
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

    async def command(self, line: str) -> str:
        """Send a ``sim_market_server`` command; its answer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()
        return (await self.process.stdout.readline()).decode().strip()

    def cpu_seconds(self) -> float:
        """User + system CPU the process used so far (Linux /proc)."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
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


class _RoundTrips:
    """A plain client of one server: a REST depth request and a WebSocket place + cancel."""

    def __init__(self, session: aiohttp.ClientSession, server: Server) -> None:
        self._session = session
        self._server = server
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._count = 0

    async def login(self) -> None:
        self._ws = await self._session.ws_connect(self._server.ws_url)
        await self._ws.send_json(_login(self._server.key, self._server.secret))
        assert (await _reply(self._ws, "login"))["success"] is True

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def once(self, report: LatencyReport) -> None:
        ws = self._ws
        assert ws is not None
        started = time.perf_counter()
        async with self._session.get(f"{self._server.url}/v2/depth/{SWAP}/5") as response:
            await response.read()
        report.rest_ms.append((time.perf_counter() - started) * 1000)
        self._count += 1
        order = {"clientOrderId": self._count, "marketCode": SWAP, "side": "SELL",
                 "quantity": "0.001", "orderType": "LIMIT", "price": "54000",
                 "timeInForce": "MAKER_ONLY"}  # fmt: skip
        started = time.perf_counter()
        await ws.send_json({"op": "placeorder", "tag": self._count, "data": order})
        placed = await _reply(ws, "placeorder")
        cancel = {"marketCode": SWAP, "orderId": placed["data"]["orderId"]}
        await ws.send_json({"op": "cancelorder", "tag": self._count, "data": cancel})
        await _reply(ws, "cancelorder")
        report.ws_ms.append((time.perf_counter() - started) * 1000)


@dataclass
class Interleaved:
    """The latency rounds' results: round trips by set ("running A/B", "paused A/B": the
    market's state, and alternate rounds of it) and the server's event-loop lag by state."""

    reports: dict[str, LatencyReport]
    lag_ms: dict[str, list[float]]

    def merged(self, state: str) -> LatencyReport:
        a, b = self.reports[f"{state} A"], self.reports[f"{state} B"]
        return LatencyReport(a.rest_ms + b.rest_ms, a.ws_ms + b.ws_ms)

    def lines(self) -> list[str]:
        lines = [report.line(name) for name, report in self.reports.items()]
        for state in ("running", "paused"):
            lines.append(self.merged(state).line(state))
        for kind in ("rest_ms", "ws_ms"):
            running, paused = (
                _percentiles(getattr(self.merged(state), kind))[1]
                for state in ("running", "paused")
            )
            noise = max(
                abs(
                    _percentiles(getattr(self.reports[f"{state} A"], kind))[1]
                    - _percentiles(getattr(self.reports[f"{state} B"], kind))[1]
                )
                for state in ("running", "paused")
            )
            lines.append(
                f"p99 delay of {kind[:-3]} answers by the market: {running - paused:+.2f} ms "
                f"(budget 1 ms); noise (p99 of alternate rounds of one set) {noise:.2f} ms"
            )
        for state, lags in self.lag_ms.items():
            ordered = sorted(lags)
            p50, p99 = _percentiles(ordered)
            p999 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.999))] if ordered else 0.0
            top = ordered[-1] if ordered else 0.0
            lines.append(
                f"event-loop lag, market {state:7s} ms p50 {p50:.3f} p99 {p99:.3f} "
                f"p99.9 {p999:.3f} max {top:.3f} (n={len(ordered)})"
            )
        return lines

    def delay_ms(self) -> float:
        """The larger of the REST and WebSocket p99 differences, running minus paused."""
        return max(
            _percentiles(getattr(self.merged("running"), kind))[1]
            - _percentiles(getattr(self.merged("paused"), kind))[1]
            for kind in ("rest_ms", "ws_ms")
        )


async def measure_interleaved(
    server: Server, rounds: int, round_seconds: float, rate: float
) -> Interleaved:
    """``rounds`` rounds of round trips against a ``sim_market_server`` process, the market
    running and paused in turn (R P P R R P ...)."""
    reports = {name: LatencyReport() for name in ("running A", "running B", "paused A", "paused B")}
    async with aiohttp.ClientSession() as session:
        client = _RoundTrips(session, server)
        await client.login()
        try:
            for index in range(rounds):
                state = "paused" if (index + 1) // 2 % 2 else "running"
                await server.command("pause" if state == "paused" else "run")
                report = reports[f"{state} {'AB'[index // 4 % 2]}"]
                deadline = time.monotonic() + round_seconds
                while time.monotonic() < deadline:
                    await client.once(report)
                    await asyncio.sleep(1 / rate)
        finally:
            await client.close()
    answer = await server.command("lag")
    running, paused = answer.split(" ", 2)[1:]
    return Interleaved(reports, {"running": json.loads(running), "paused": json.loads(paused)})


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
    # The CPU time of each full (generation 2) garbage collection, ms (on a quiet machine, how
    # long it holds the event loop up).
    full_gc_ms: list[float] = field(default_factory=list)

    def line(self, hours: float) -> str:
        ordered = sorted(self.step_ms)
        p50, p99 = _percentiles(ordered)
        p999 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.999))]
        return (
            f"ManualClock: {hours:g} simulated hour(s) on every default market: "
            f"{self.wall_seconds:.2f} s wall, {self.cpu_seconds:.2f} s CPU, {self.trades} trades "
            f"(budget: one hour in < 10 s); one market step's CPU ms p50 {p50:.3f} "
            f"p99 {p99:.3f} p99.9 {p999:.3f} max {ordered[-1]:.3f} (n={len(ordered)}); "
            f"full garbage collections: {len(self.full_gc_ms)}, CPU ms "
            f"{' '.join(f'{ms:.1f}' for ms in self.full_gc_ms) or '-'}"
        )


async def measure_hour(hours: float, seed: int = 0, *, freeze: bool = False) -> HourReport:
    """Simulated ``hours`` of RandomMarket on every default market under a ManualClock.
    ``freeze``: ``gc.freeze()`` once the simulator is built (what is there by then is never
    scanned again by a garbage collection)."""
    timed = _TimedDriver(RandomMarket(seed=seed))
    sim = Simulator(market=timed, clock=ManualClock(1_700_000_000.0))
    full_gc_ms: list[float] = []
    started: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                started.append(time.thread_time())
            elif started:
                full_gc_ms.append((time.thread_time() - started.pop()) * 1000)

    if freeze:
        gc.collect()
        gc.freeze()
    gc.callbacks.append(on_gc)
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        await sim.advance(hours * 3600)
    finally:
        gc.callbacks.remove(on_gc)
        if freeze:
            gc.unfreeze()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    # Each market keeps only its newest trades; match ids count every trade of every market.
    newest = [
        int(market.trades[-1].match_id) for market in sim.engine.markets.values() if market.trades
    ]
    trades = max(newest) - _FIRST_MATCH_ID + 1 if newest else 0
    return HourReport(cpu, wall, trades, timed.step_ms, full_gc_ms)


async def _cpu(args: argparse.Namespace) -> bool:
    servers = {
        "no market": await Server.start(),
        "random": await Server.start("--market", "random"),
    }
    try:
        await asyncio.sleep(1.0)  # past the start-up
        cpu = await measure_cpu(servers, args.seconds)
    finally:
        for server in servers.values():
            await server.stop()
    for name, share in cpu.items():
        print(f"cpu {name:9s} {share * 100:5.2f}% of one core over {args.seconds:g} s")
    extra = cpu["random"] - cpu["no market"]
    print(f"cpu of the market: {extra * 100:.2f}% of one core (budget 5%)")
    return extra > 0.05


async def _latency(args: argparse.Namespace) -> bool:
    server = await Server.start_pausable()
    try:
        await asyncio.sleep(1.0)
        latency = await measure_interleaved(server, args.rounds, args.round_seconds, args.rate)
    finally:
        await server.stop()
    for line in latency.lines():
        print(line)
    return latency.delay_ms() > 1.0


async def _hour(args: argparse.Namespace) -> bool:
    hours: float = args.hours
    hour = await measure_hour(hours, freeze=args.gc_freeze)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{hour.line(hours)}; peak RSS {peak:.0f} MiB")
    return hour.wall_seconds / hours > 10


_PARTS: dict[str, Callable[[argparse.Namespace], Awaitable[bool]]] = {
    "cpu": _cpu,
    "latency": _latency,
    "hour": _hour,
}


async def _run(args: argparse.Namespace) -> int:
    print(f"load average before: {os.getloadavg()}")
    failed = False
    for part in args.parts.split(","):
        failed |= await _PARTS[part](args)
    print(f"load average after: {os.getloadavg()}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sim_market", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--parts", default="cpu,latency,hour", help="which to run, comma-separated (all)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="the CPU measurement's span")
    parser.add_argument("--rounds", type=int, default=120, help="latency rounds (R P P R ...)")
    parser.add_argument(
        "--round-seconds", type=float, default=1.5, help="each latency round (above 1)"
    )
    parser.add_argument("--rate", type=float, default=40.0, help="requests/s of each kind")
    parser.add_argument("--hours", type=float, default=1.0, help="simulated hours to step")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() before the hour's stepping"
    )
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
