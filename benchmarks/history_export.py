"""``python -m benchmarks.history_export [--rows 100000 10000] [--days 90]``: export a seeded
account's fills with ``coinflex history trades`` and measure it.

The simulator (with the exchange's rate limits) runs in this process on its own thread, seeded
with ``--rows`` fills over ``--days`` days; the command line runs as a separate process, as a
user runs it, writing CSV to a file. For each size it reports:

- rows per second of the whole command (process start, import, walk, CSV), and of the bare
  ``private.iter_trades`` walk in this process (the floor the command adds its cost to);
- requests the walk made against the least possible: ``ceil(rows / 1000)`` plus one per
  7-day window without a fill;
- the command's peak memory (VmHWM of its process), which must not grow with the rows.

Results go to stdout and ``benchmarks/results/history_export.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import coinflex_async as cf
from coinflex_async._validation import MAX_WINDOW_MS
from coinflex_async.sim import DEFAULT_RATE_LIMITS, SimAccount, Simulator

__all__ = ["ExportResult", "main", "measure"]

DAY_MS = 86_400_000
START = 1_640_995_200_000  # 2022-01-01T00:00:00Z
MARKET = "BTC-USD-SWAP-LIN"
RESULTS = Path(__file__).resolve().parent / "results" / "history_export.json"


@dataclass
class ExportResult:
    rows: int
    days: int
    seconds: float
    rows_per_second: float
    floor_seconds: float
    floor_rows_per_second: float
    requests: int
    least_requests: int
    peak_rss_mib: float
    csv_lines: int


class _Exchange:
    """A seeded simulator serving on its own thread and loop."""

    def __init__(self, rows: int, days: int) -> None:
        self.rows, self.days = rows, days
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sim: Simulator | None = None
        self.account: SimAccount | None = None
        self.fill_times: list[int] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> _Exchange:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _serve(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with Simulator(rate_limits=DEFAULT_RATE_LIMITS) as sim:
                account = sim.create_account({"USD": "1000"})
                end = START + self.days * DAY_MS - 1
                sim.seed_history(
                    account,
                    start=START,
                    end=end,
                    trades_per_day=math.ceil(self.rows / self.days),
                    seed=1,
                    events_per_day=0,
                )
                fills = sim.engine.accounts[account.account_id].trades[MARKET]
                self.fill_times = [fill.timestamp for fill in fills]
                self.sim, self.account = sim, account
                self._ready.set()
                await self._stop.wait()

        asyncio.run(run())

    def requests(self) -> int:
        assert self.sim is not None
        return self.sim.stats.by_route["GET /v2/trades/{marketCode}"]

    def reset(self) -> None:
        assert self.sim is not None
        self.sim.stats.reset()

    async def floor(self, end: int) -> float:
        """The bare walk in this process, for the floor."""
        assert self.sim is not None and self.account is not None
        began = time.perf_counter()
        async with cf.Client(
            self.account.api_key, self.account.api_secret, base_url=self.sim.url
        ) as client:
            count = 0
            async for _ in client.private.iter_trades(MARKET, start_time=START, end_time=end):
                count += 1
        assert count == len(self.fill_times), (count, len(self.fill_times))
        return time.perf_counter() - began


def least_requests(times: list[int], start: int, end: int, limit: int = 1000) -> int:
    """ceil(rows / limit) plus one per 7-day window without a row."""
    span = MAX_WINDOW_MS + 1
    windows = math.ceil((end - start + 1) / span)
    filled = {(t - start) // span for t in times}
    return math.ceil(len(times) / limit) + (windows - len(filled))


def _peak_rss_mib(pid: int, done: threading.Event) -> list[float]:
    """Poll the process's VmHWM (its peak resident memory) until it ends."""
    seen = [0.0]

    def poll() -> None:
        path = f"/proc/{pid}/status"
        while not done.is_set():
            try:
                with open(path) as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            seen[0] = max(seen[0], int(line.split()[1]) / 1024)
            except OSError:
                return
            time.sleep(0.02)

    threading.Thread(target=poll, daemon=True).start()
    return seen


def measure(rows: int, days: int) -> ExportResult:
    with _Exchange(rows, days) as exchange, tempfile.TemporaryDirectory() as folder:
        assert exchange.sim is not None and exchange.account is not None
        end = START + days * DAY_MS - 1
        target = Path(folder) / "trades.csv"
        env = dict(
            os.environ,
            COINFLEX_BASE_URL=exchange.sim.url,
            COINFLEX_API_KEY=exchange.account.api_key,
            COINFLEX_API_SECRET=exchange.account.api_secret,
        )
        exchange.reset()
        command = [
            sys.executable, "-m", "coinflex_async", "history", "trades", "--market", MARKET,
            "--since", str(START), "--until", str(end), "--format", "csv", "--output", str(target),
        ]  # fmt: skip
        import subprocess

        began = time.perf_counter()
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
        done = threading.Event()
        peak = _peak_rss_mib(process.pid, done)
        _, err = process.communicate()
        seconds = time.perf_counter() - began
        done.set()
        if process.returncode != 0:
            raise RuntimeError(f"coinflex failed ({process.returncode}): {err.decode()}")
        requests = exchange.requests()
        with target.open() as written:
            lines = sum(1 for _ in written)
        time.sleep(1.0)  # let the exchange's per-second rate window empty before the floor
        assert exchange._loop is not None
        floor = asyncio.run_coroutine_threadsafe(exchange.floor(end), exchange._loop).result()
        count = len(exchange.fill_times)
        return ExportResult(
            rows=count,
            days=days,
            seconds=round(seconds, 3),
            rows_per_second=round(count / seconds),
            floor_seconds=round(floor, 3),
            floor_rows_per_second=round(count / floor),
            requests=requests,
            least_requests=least_requests(exchange.fill_times, START, end),
            peak_rss_mib=round(peak[0], 1),
            csv_lines=lines,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history_export")
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    for rows in args.rows:
        result = measure(rows, args.days)
        assert result.csv_lines == result.rows + 1, result  # the header and every fill
        results.append(asdict(result))
        print(
            f"{result.rows:>7} rows / {result.days} days: {result.seconds:.2f} s "
            f"({result.rows_per_second:,} rows/s; in-process walk {result.floor_seconds:.2f} s, "
            f"{result.floor_rows_per_second:,} rows/s), requests {result.requests} "
            f"(least {result.least_requests}), peak RSS {result.peak_rss_mib} MiB",
            flush=True,
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
