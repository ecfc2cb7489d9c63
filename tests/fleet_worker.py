"""One process of the fleet test (tests/reliability/test_fleet.py): clients sharing their rate
limits through Redis, hammering one simulator with ``ping()`` until a deadline.

Prints ``ready`` once its clients exist, reads the start time (epoch seconds) from stdin, runs,
then prints one JSON line of what it saw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter

import coinflex_async as cf


async def hammer(client: cf.Client, until: float, seen: Counter[str]) -> None:
    while time.time() < until:
        try:
            await client.public.ping()
            seen["ok"] += 1
        except cf.RateLimitError:
            seen["429"] += 1
        except cf.LimitStoreError:
            seen["limit_store_error"] += 1
            await asyncio.sleep(0.05)  # fails fast while Redis is down: don't spin
        except cf.TransportError as error:
            if not client.closed:
                seen[f"transport: {error}"] += 1


async def main(args: argparse.Namespace) -> dict[str, object]:
    short_max, short_seconds = args.short
    long_max, long_seconds = args.long
    limits = cf.RateLimits(
        rest=(cf.Window(short_max, short_seconds), cf.Window(long_max, long_seconds))
    )
    clients = [
        cf.Client(
            base_url=args.url,
            rate_limits=limits,
            retry=None,
            timeout=1.0,
            limit_store=args.store,
            limit_namespace=args.namespace,
            limit_store_fallback=args.fallback,
        )
        for _ in range(args.clients)
    ]
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    await asyncio.sleep(max(0.0, start_at - time.time()))
    until = start_at + args.duration
    seen: Counter[str] = Counter()
    tasks = [
        asyncio.ensure_future(hammer(client, until, seen))
        for client in clients
        for _ in range(args.concurrency)
    ]
    await asyncio.sleep(max(0.0, until - time.time()))
    # Calls still waiting for tokens end at once with the close (their windows may be long).
    closing_started = time.monotonic()
    for client in clients:
        await client.close()
    await asyncio.gather(*tasks)
    return {**seen, "close_seconds": round(time.monotonic() - closing_started, 3)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--fallback", default=None)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--short", type=float, nargs=2, required=True)
    parser.add_argument("--long", type=float, nargs=2, required=True)
    arguments = parser.parse_args()
    arguments.short = (int(arguments.short[0]), arguments.short[1])
    arguments.long = (int(arguments.long[0]), arguments.long[1])
    print(json.dumps(asyncio.run(main(arguments))), flush=True)
