"""``python -m benchmarks.ws_instructions [--kinds ...] [--readers ...]``: the WebSocket readers
of ``benchmarks.ws`` and ``benchmarks.ws_breakdown``, measured in CPU instructions per message
counted by valgrind's callgrind instead of CPU time.

Why: on a shared machine the CPU time per small message moves by 10-20% from run to run, more
than most changes to the stream save. An instruction count does not depend on the neighbours:
it repeats within about 1% and tells a 2% change from noise. It is not time (a cache miss
counts as one instruction), so the CPU-time figures of ``benchmarks.ws`` stay the ones quoted;
this is for telling which change helps.

Each reader runs under callgrind twice, for a small and a large number of messages, in a fresh
process against the canned server of ``benchmarks.ws``; the difference over the difference in
messages is its instructions per message (start-up and connection cost cancel out). Needs
``valgrind`` (``apt-get install valgrind``); a run takes about a minute per reader and kind.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from benchmarks.processes import PROJECT_ROOT, child_env
from benchmarks.ws import canned_server

KINDS = ("depth L25", "trade", "order update")
# Reader name -> the coroutine call that runs it (url, kind, count are filled in).
READERS = {
    "typed": "bench.run_typed(ws_url, kind, count)",
    "lean, one task": "breakdown.lean_one_task(ws_url, kind, count)",
    "stream routing in the floor's loop": (
        "breakdown.stream_routing_in_floor_loop(url, kind, count)"
    ),
    "client": "bench.run_client(url, kind, count)",
}
# ws_breakdown's readers route trades and order updates only.
SMALL_MESSAGES_ONLY = ("lean, one task", "stream routing in the floor's loop")
# Messages per run: (small, large). Depth books cost ~10x a trade: fewer of them.
COUNTS = {"depth L25": (500, 2500), "trade": (1000, 6000), "order update": (1000, 6000)}

_PROGRAM = """
import asyncio
from benchmarks import ws as bench, ws_breakdown as breakdown
url, kind, count = {url!r}, {kind!r}, {count}
ws_url = url + "/v2/websocket"
asyncio.run({call})
"""
_CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
_COLLECTED = re.compile(r"Collected : (\d+)")


def collected(valgrind_stderr: str) -> int:
    """The instructions callgrind counted (its ``Collected :`` line)."""
    found = _COLLECTED.search(valgrind_stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{valgrind_stderr[-2000:]}")
    return int(found.group(1))


def per_message(small: tuple[int, int], large: tuple[int, int]) -> float:
    """Instructions per message from two runs, each (messages, instructions)."""
    (few, few_ir), (many, many_ir) = small, large
    if many <= few:
        raise ValueError("the large run must read more messages than the small one")
    return (many_ir - few_ir) / (many - few)


def count_run(reader: str, kind: str, count: int) -> int:
    """Instructions of one process reading ``count`` messages of ``kind`` with ``reader``."""
    with canned_server(count) as url:
        program = _PROGRAM.format(url=url, kind=kind, count=count, call=READERS[reader])
        done = subprocess.run(
            [*_CALLGRIND, sys.executable, "-c", program],
            capture_output=True,
            text=True,
            env=child_env(),
            cwd=PROJECT_ROOT,
            check=False,
        )
    return collected(done.stderr)


def measure(reader: str, kind: str) -> float:
    few, many = COUNTS[kind]
    return per_message((few, count_run(reader, kind, few)), (many, count_run(reader, kind, many)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ws_instructions", description=__doc__
    )
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--readers", nargs="+", choices=list(READERS), default=list(READERS))
    parser.add_argument("--jobs", type=int, default=2, help="readers counted at once")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    pairs = [
        (kind, reader)
        for kind in args.kinds
        for reader in args.readers
        if kind != "depth L25" or reader not in SMALL_MESSAGES_ONLY
    ]
    # Instruction counts do not depend on what else runs: the runs may share the machine.
    with ThreadPoolExecutor(args.jobs) as pool:
        found = pool.map(lambda pair: measure(pair[1], pair[0]), pairs)
        counts = dict(zip(pairs, found, strict=True))
    print("| message | reader | instructions/message | over typed |")
    print("|---|---|---:|---:|")
    for kind, reader in pairs:
        typed = counts.get((kind, "typed"))
        ratio = f"{counts[kind, reader] / typed:.3f}" if typed else "-"
        print(f"| {kind} | {reader} | {counts[kind, reader]:,.0f} | {ratio} |")
    print("\nCommand: `python -m benchmarks.ws_instructions` (callgrind instruction counts).")


if __name__ == "__main__":
    main()
