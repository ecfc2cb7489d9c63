"""A benchmark worker: one client kind, one scenario, one concurrency, in a process of its own.

``python -m benchmarks.worker KIND SCENARIO CONCURRENCY BASE_URL [--profile PATH]``

Commands arrive on stdin and answers leave on stdout, one JSON object a line:

- ``{"op": "check"}``: one call, its result checked -> ``{"ok": true}``
- ``{"op": "calibrate", "seconds": S}``: doubling batches until S seconds have passed
  -> ``{"n", "cpu", "wall"}``
- ``{"op": "batch", "n": N}``: N calls, ``concurrency`` at a time -> ``{"n", "cpu", "wall"}``
- ``{"op": "quit"}``: close the runner and exit.

``cpu`` is this process's CPU time (``time.process_time``) over the batch, ``wall`` its duration.
A failure answers ``{"error": "..."}``. The worker first prints ``{"ready": true}`` (or an
error) once its runner is open. This module runs on Python 3.10 too, for ccxt.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import sys
import time
import traceback
from typing import Any, TextIO

from benchmarks.processes import prime_allocator
from benchmarks.runners import RUNNER_MODULES, Runner

__all__ = ["main", "run_batch"]


async def run_batch(runner: Runner, count: int, concurrency: int) -> None:
    """``count`` calls with at most ``concurrency`` in flight, the same loop for every kind."""
    if concurrency == 1:
        for _ in range(count):
            await runner.call()
        return
    remaining = count

    async def lane() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await runner.call()

    await asyncio.gather(*(lane() for _ in range(min(concurrency, count))))


class _Worker:
    def __init__(self, runner: Runner, concurrency: int, profile_path: str | None) -> None:
        self._runner = runner
        self._concurrency = concurrency
        self._profile_path = profile_path
        self._profiler: Any = None
        if profile_path:
            from pyinstrument import Profiler

            self._profiler = Profiler(interval=0.0002, async_mode="disabled")

    def _timed(self, loop: asyncio.AbstractEventLoop, count: int) -> dict[str, float]:
        gc.collect()
        if self._profiler is not None:
            self._profiler.start()
        cpu_start = time.process_time()
        wall_start = time.perf_counter()
        loop.run_until_complete(run_batch(self._runner, count, self._concurrency))
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
        if self._profiler is not None:
            self._profiler.stop()
        return {"n": count, "cpu": cpu, "wall": wall}

    def handle(self, loop: asyncio.AbstractEventLoop, command: dict[str, Any]) -> dict[str, Any]:
        op = command["op"]
        if op == "check":
            self._runner.check(loop.run_until_complete(self._runner.call()))
            return {"ok": True}
        if op == "batch":
            return self._timed(loop, int(command["n"]))
        if op == "calibrate":
            total = {"n": 0, "cpu": 0.0, "wall": 0.0}
            count = self._concurrency
            while total["wall"] < float(command["seconds"]):
                batch = self._timed(loop, count)
                for key in total:
                    total[key] += batch[key]
                count *= 2
            return total
        raise ValueError(f"unknown command {op!r}")

    def write_profile(self) -> None:
        if self._profiler is None or self._profile_path is None:
            return
        # Appended: each generation of workers of a case adds its own profile.
        with open(self._profile_path, "a", encoding="utf-8") as out:
            out.write(self._profiler.output_text(unicode=True, color=False))


def _answer(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _error_text() -> str:
    return "".join(traceback.format_exc(limit=-6)).strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="one benchmark worker (see module doc)")
    parser.add_argument("kind", choices=sorted(RUNNER_MODULES))
    parser.add_argument("scenario")
    parser.add_argument("concurrency", type=int)
    parser.add_argument("base_url")
    parser.add_argument("--profile", metavar="PATH")
    args = parser.parse_args(argv)

    prime_allocator()
    # Only answers go to the real stdout; anything a library prints goes to stderr.
    out = sys.stdout
    sys.stdout = sys.stderr

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runner: Runner | None = None
    try:
        module = importlib.import_module(RUNNER_MODULES[args.kind])
        runner = loop.run_until_complete(module.open_runner(args.scenario, args.base_url))
        worker = _Worker(runner, args.concurrency, args.profile)
    except Exception:
        _answer(out, {"ready": False, "error": _error_text()})
        if runner is not None:
            loop.run_until_complete(runner.close())
        loop.close()
        return
    _answer(out, {"ready": True, "python": sys.version.split()[0]})
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "quit":
                break
            try:
                _answer(out, worker.handle(loop, command))
            except Exception:
                _answer(out, {"error": _error_text()})
    finally:
        worker.write_profile()
        loop.run_until_complete(runner.close())
        # Lets transports finish closing, so no ResourceWarning fires at exit.
        loop.run_until_complete(asyncio.sleep(0.05))
        loop.close()


if __name__ == "__main__":
    main()
