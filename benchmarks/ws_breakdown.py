"""``python -m benchmarks.ws_breakdown [--messages N] [--rounds R]``: where the stream's CPU per
small message goes, against the typed floor of ``benchmarks.ws``, same canned server.

Readers, in turn each round (CPU per message over the typed floor's, median of the rounds):

- **lean, one task**: the floor's loop plus what any routed reader does: a table check, a set
  of seen trade IDs, a dict of sinks by market;
- **lean, two tasks**: the same, its events handed to a second task through a queue, read with
  ``async for`` (as a socket's task and a reader's task would);
- **stream routing in the floor's loop**: the floor's loop calling the stream's own routing
  (table, market, exactly-once trades, the reader's queue), the event taken from the queue at
  once, no second task;
- **client**: ``client.stream()`` as a user reads it.

docs/guide/performance.md ("The client's WebSocket stream") quotes these.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from benchmarks import ws as bench
from benchmarks.processes import prime_allocator
from coinflex_async.stream import connection, protocol, ws_url
from coinflex_async.stream.readers import Subscription
from coinflex_async.stream.routing import Router


async def _subscribed(session: aiohttp.ClientSession, url: str, channel: str) -> Any:
    # Text frames as the client takes them: bytes where aiohttp can (connection.RAW_TEXT).
    ws = await session.ws_connect(url, **connection.WS_OPTIONS)
    await ws.send_str(json.dumps({"op": "subscribe", "tag": "1", "args": [channel]}))
    await ws.receive()  # the acknowledgement
    return ws


_HEAD: Any = b'{"table":"' if connection.RAW_TEXT else '{"table":"'


def _lean_route(kind: str) -> tuple[Callable[[str], Any], str, str]:
    prefix = "trade" if kind == "trade" else "order"
    table = protocol.TABLES[prefix]
    return table.message_decoder.decode, prefix, table.key or ""


async def lean_one_task(url: str, kind: str, count: int) -> float:
    decode, prefix, key = _lean_route(kind)
    seen: set[str] = set()
    sinks: dict[tuple[str, str], list[Any]] = {(prefix, bench.MARKET): []}
    async with aiohttp.ClientSession() as session:
        ws = await _subscribed(session, url, bench.KINDS[kind][0])
        taken = 0
        started = time.process_time()
        async for message in ws:
            raw = message.data
            if raw.startswith(_HEAD):
                event = decode(raw).data[0]
                if kind == "trade":
                    if event.trade_id in seen:
                        continue
                    seen.add(event.trade_id)
                sinks.get((prefix, getattr(event, key)))
                taken += 1
                if taken >= count:
                    break
        took = time.process_time() - started
        await ws.close()
    return took


class _Queue:
    def __init__(self) -> None:
        self.items: deque[Any] = deque()
        self.waiter: asyncio.Future[None] | None = None

    def put(self, item: Any) -> None:
        self.items.append(item)
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> _Queue:
        return self

    async def __anext__(self) -> Any:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.items.popleft()


async def lean_two_tasks(url: str, kind: str, count: int) -> float:
    decode, prefix, key = _lean_route(kind)
    seen: set[str] = set()
    queue = _Queue()
    sinks = {(prefix, bench.MARKET): queue.put}
    async with aiohttp.ClientSession() as session:
        ws = await _subscribed(session, url, bench.KINDS[kind][0])

        async def read() -> None:
            # lean_one_task's work, written out again: a shared function would add a call to
            # the one-task figure, which stands for the least a routed reader does.
            async for message in ws:
                raw = message.data
                if raw.startswith(_HEAD):
                    event = decode(raw).data[0]
                    if kind == "trade":
                        if event.trade_id in seen:
                            continue
                        seen.add(event.trade_id)
                    sinks[(prefix, getattr(event, key))](event)

        reader = asyncio.ensure_future(read())
        taken = 0
        started = time.process_time()
        async for _ in queue:
            taken += 1
            if taken >= count:
                break
        took = time.process_time() - started
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await ws.close()
    return took


class _NeverLends:
    """The lender of a reader nobody iterates (readers.Lender): it never holds the socket."""

    def has_turn(self, reader: Subscription[Any]) -> bool:
        return False

    async def read_in_turn(self, reader: Subscription[Any]) -> bool:
        return False

    def park(self, reader: Subscription[Any]) -> None:
        pass

    def release(self, reader: Subscription[Any]) -> None:
        pass


async def _never_leaves(reader: Subscription[Any]) -> None:
    pass


async def stream_routing_in_floor_loop(url: str, kind: str, count: int) -> float:
    channel = bench.KINDS[kind][0]
    async with aiohttp.ClientSession() as session:
        router = Router(lambda frame: None)  # the stream's own routing, no connection
        lender = _NeverLends()
        reader: Subscription[Any] = Subscription((channel,), count + 1, lender, _never_leaves)
        router.join(channel, protocol.table_for(channel), reader)
        ws = await _subscribed(session, ws_url(url), channel)
        dispatch = router.dispatch if connection.RAW_TEXT else router.dispatch_str
        # The benchmark takes events straight from the reader's queue: what is measured is
        # the routing, not a reader's ``async for``.
        queue = reader._queue
        taken = 0
        started = time.process_time()
        async for message in ws:
            dispatch(message.data)
            while queue:
                queue.popleft()
                taken += 1
            if taken >= count:
                break
        took = time.process_time() - started
        await ws.close()
    return took


READERS: dict[str, Callable[[str, str, int], Awaitable[float]]] = {
    "lean, one task": lean_one_task,
    "lean, two tasks": lean_two_tasks,
    "stream routing in the floor's loop": stream_routing_in_floor_loop,
}


async def breakdown(url: str, kind: str, count: int, rounds: int) -> dict[str, float]:
    ratios: dict[str, list[float]] = {name: [] for name in [*READERS, "client"]}
    endpoint = ws_url(url)
    for _ in range(rounds):
        typed = await bench.run_typed(endpoint, kind, count)
        for name, run in READERS.items():
            target = url if name.startswith("stream") else endpoint
            ratios[name].append(await run(target, kind, count) / typed)
        ratios["client"].append(await bench.run_client(url, kind, count) / typed)
    return {name: statistics.median(values) for name, values in ratios.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ws_breakdown", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000, help="messages per round")
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args(argv)
    prime_allocator()
    with bench.canned_server(args.messages) as url:

        async def run() -> dict[str, dict[str, float]]:
            return {
                kind: await breakdown(url, kind, args.messages, args.rounds)
                for kind in ("trade", "order update")
            }

        results = asyncio.run(run())
    names = [*READERS, "client"]
    print("| message | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for kind, row in results.items():
        print(f"| {kind} | " + " | ".join(f"{row[name]:.2f}" for name in names) + " |")
    print(
        f"\nCPU per message over the typed floor's, median of {args.rounds} rounds of "
        f"{args.messages:,} messages; command `python -m benchmarks.ws_breakdown`."
    )


if __name__ == "__main__":
    main()
