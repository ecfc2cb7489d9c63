"""``python -m benchmarks.sim_replay [--trades N] [--speed X] [--step-ms MS]``: a long replay.

Writes a CSV of ``--trades`` trades (default 1,000,000; a seeded walk on BTC-USD-SWAP-LIN's
grid, one every ``--step-ms`` ms of recorded time) into a temporary directory, then plays it
with ``Simulator(market=Replay(csv, speed=X))`` on the real clock while one plain WebSocket
client reads the trade channel. Reported: the check pass (the whole file read once when the
simulator attaches the replay), the play's wall time against the recorded span / speed, how
far behind the rows' due times the replay fell at worst (``Replay.max_behind``), the trades
the subscriber received, and the process's resident memory (sampled each second, and the
peak from getrusage). The file is streamed, never loaded: memory should stay flat (< 100 MiB).

Exit status 1 when the peak RSS is 100 MiB or more.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import aiohttp

from coinflex_async.sim import Replay, Simulator

__all__ = ["Result", "main", "play", "write_trades"]

SWAP = "BTC-USD-SWAP-LIN"
T0 = 1_700_000_000_000
LIMIT_MIB = 100


def write_trades(path: Path, count: int, step_ms: int, seed: int = 1) -> None:
    """``count`` trades, a seeded walk around 50000 on a 0.5 tick, 0.001 lots."""
    rng = random.Random(seed)
    ticks = 100_000  # price in half-dollars
    with open(path, "w", encoding="ascii", buffering=1 << 20) as file:
        file.write("timestamp,price,quantity,side\n")
        for i in range(count):
            ticks = min(max(ticks + rng.randint(-2, 2), 80_000), 120_000)
            price = Decimal(ticks) / 2
            lots = rng.randint(1, 50)
            side = "buy" if rng.random() < 0.5 else "sell"
            file.write(f"{T0 + i * step_ms},{price},{lots / 1000:.3f},{side}\n")


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def count_trades(url: str, counted: list[int], ready: asyncio.Event) -> None:
    """A plain WebSocket subscriber to the trade channel: counts the trades it reads."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(f'{{"op":"subscribe","tag":1,"args":["trade:{SWAP}"]}}')
        async for message in ws:
            text = message.data
            if '"event":"subscribe"' in text:
                ready.set()
            elif text.startswith('{"table":"trade"'):
                counted[0] += text.count('"tradeId"')


@dataclass
class Result:
    printed: int
    received: int  # by the subscriber, from its subscription on
    elapsed: float  # wall seconds from the replay's start to its last trade printed
    span: float  # the recorded span / speed: the time a replay keeping pace takes
    max_behind: float  # Replay.max_behind
    rss_mib: list[float]  # sampled each second
    peak_mib: float  # getrusage's

    def lines(self) -> list[str]:
        quarter = max(1, len(self.rss_mib) // 4)
        return [
            f"played {self.printed:,} trades in {self.elapsed:.1f} s (recorded span / speed: "
            f"{self.span:.1f} s); worst lateness {self.max_behind:.3f} s",
            f"subscriber received {self.received:,} trades (from its subscription on)",
            f"RSS MiB: first 25% max {max(self.rss_mib[:quarter]):.0f}, last 25% max "
            f"{max(self.rss_mib[-quarter:]):.0f}, peak (getrusage) {self.peak_mib:.0f}",
        ]


async def play(path: Path, trades: int, step_ms: int, speed: float) -> Result:
    began = time.perf_counter()
    replay = Replay(path, market_code=SWAP, speed=speed)
    sim = Simulator(rate_limits=None, market=replay)  # attaching it reads the file once
    start = time.perf_counter()  # the replay's clock starts as the simulator is built
    print(f"check pass (the whole file, streamed): {start - began:.1f} s; RSS {rss_mib():.0f} MiB")
    counted = [0]
    ready = asyncio.Event()
    samples = [rss_mib()]
    async with sim:
        reader = asyncio.create_task(count_trades(sim.ws_url, counted, ready))
        await asyncio.wait_for(ready.wait(), 30)
        sampled = time.perf_counter()
        while replay.next_due() is not None:
            await asyncio.sleep(0.02)
            if time.perf_counter() - sampled >= 1.0:
                sampled = time.perf_counter()
                samples.append(rss_mib())
                if len(samples) % 10 == 0:
                    print(
                        f"  {sampled - start:6.0f} s: printed {replay.printed:,}, "
                        f"behind {replay.max_behind:.2f} s, RSS {samples[-1]:.0f} MiB",
                        flush=True,
                    )
        elapsed = time.perf_counter() - start
        await asyncio.sleep(0.5)  # the last pushes
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    return Result(
        printed=replay.printed,
        received=counted[0],
        elapsed=elapsed,
        span=(trades - 1) * step_ms / 1000 / speed,
        max_behind=replay.max_behind,
        rss_mib=samples,
        peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sim_replay", description=__doc__)
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument("--step-ms", type=int, default=10, help="recorded ms between trades")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "trades.csv"
        began = time.perf_counter()
        write_trades(path, args.trades, args.step_ms)
        size = path.stat().st_size / 2**20
        print(
            f"wrote {args.trades:,} trades ({size:.0f} MiB) in {time.perf_counter() - began:.1f} s"
        )
        result = asyncio.run(play(path, args.trades, args.step_ms, args.speed))
    print("\n".join(result.lines()))
    return 0 if result.peak_mib < LIMIT_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
