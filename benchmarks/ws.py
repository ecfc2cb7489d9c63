"""``python -m benchmarks.ws [--quick]``: the WebSocket stream's CPU per pushed message against
two floors, and its push-to-reader latency with many subscriptions.

A canned WebSocket server runs in its own process (``python -m benchmarks.ws serve``), so its
CPU never lands on the reader's bill. On a subscription it pushes ``--messages`` copies of one
pre-encoded message (a depth L25 snapshot with JSON-number levels, a trade, an order update),
as fast as the socket takes them. Three readers take turns, round after round:

- **raw**: ``aiohttp`` ``ws_connect`` and ``json.loads`` per message (what any client does);
- **typed**: the same, decoding with one ``msgspec`` Struct per message, Decimal-exact (the
  least a typed client does);
- **client**: ``client.stream()`` and ``async for`` over ``ws.subscribe(...)``.

CPU is ``time.process_time`` of this process from the subscription's acknowledgement to the
last message; ratios are taken per round (this machine's speed drifts) and the median reported.

Latency: 20 connections (``client.stream()``), 10 trade subscriptions each (200 in all); the
server pushes a trade on each subscription every ``--interval`` ms, stamped with
``time.time_ns()`` as its ``tradeId``; the reader's delay is measured when ``async for`` hands
it over.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import WSMsgType, web

import coinflex_async as cf
from benchmarks.processes import PROJECT_ROOT, child_env, prime_allocator

MARKET = "BTC-USD-SWAP-LIN"
RESULTS = PROJECT_ROOT / "benchmarks" / "results"


# -- the canned messages --------------------------------------------------------------------


def depth_message(levels: int = 25) -> bytes:
    """A depth snapshot as the exchange sends it: levels as JSON numbers."""
    asks = ",".join(f"[{50000 + i * 0.5:.1f},{1 + i * 0.013:.3f},0,0]" for i in range(levels))
    bids = ",".join(f"[{49999.5 - i * 0.5:.1f},{2 + i * 0.017:.3f},0,0]" for i in range(levels))
    return (
        '{"table":"depth","data":[{"instrumentId":"' + MARKET + '","seqNum":1608898592006137237,'
        '"timestamp":"1609350022785","checksum":1139901235,'
        '"asks":[' + asks + '],"bids":[' + bids + "]}]}"
    ).encode()


def trade_message(trade_id: str = "2778148208082945") -> bytes:
    return json.dumps(
        {
            "table": "trade",
            "data": [
                {
                    "side": "buy",
                    "tradeId": trade_id,
                    "price": "5556.91",
                    "quantity": "5",
                    "marketCode": MARKET,
                    "timestamp": "1594299886890",
                }
            ],
        },
        separators=(",", ":"),
    ).encode()


def order_message() -> bytes:
    item = {
        "notice": "OrderMatched",
        "accountId": "3101",
        "clientOrderId": "16",
        "orderId": "567531657",
        "price": "9300",
        "quantity": "20",
        "side": "BUY",
        "status": "FILLED",
        "marketCode": MARKET,
        "timeInForce": "GTC",
        "timestamp": "1592490254168",
        "matchId": "11568123",
        "matchPrice": "9300",
        "matchQuantity": "20",
        "orderMatchType": "MAKER",
        "remainQuantity": "0",
        "orderType": "LIMIT",
        "fees": "3.7",
        "feeInstrumentId": "FLEX",
        "isTriggered": "False",
    }
    return json.dumps({"table": "order", "data": [item]}, separators=(",", ":")).encode()


KINDS: dict[str, tuple[str, bytes]] = {
    "depth L25": (f"depthL25:{MARKET}", depth_message()),
    "trade": (f"trade:{MARKET}", trade_message()),
    "order update": ("order:all", order_message()),
}


# -- the typed floor's models: the least a Decimal-exact typed client decodes ----------------


class _Level(msgspec.Struct, array_like=True, gc=False):
    price: Decimal
    quantity: Decimal


class _Depth(msgspec.Struct, rename="camel", gc=False):
    instrument_id: str
    seq_num: int
    timestamp: int
    checksum: int
    asks: list[_Level]
    bids: list[_Level]


class _Trade(msgspec.Struct, rename="camel", gc=False):
    trade_id: str
    price: Decimal
    quantity: Decimal
    side: str
    market_code: str
    timestamp: int


class _Order(msgspec.Struct, rename="camel", gc=False):
    notice: str
    account_id: str
    client_order_id: str
    order_id: str
    price: Decimal
    quantity: Decimal
    side: str
    status: str
    market_code: str
    time_in_force: str
    timestamp: int
    match_id: str
    match_price: Decimal
    match_quantity: Decimal
    order_match_type: str
    remain_quantity: Decimal
    order_type: str
    fees: Decimal
    fee_instrument_id: str
    is_triggered: bool


class _DepthMessage(msgspec.Struct, gc=False):
    table: str
    data: list[_Depth]


class _TradeMessage(msgspec.Struct, gc=False):
    table: str
    data: list[_Trade]


class _OrderMessage(msgspec.Struct, gc=False):
    table: str
    data: list[_Order]


FLOOR_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "depth L25": msgspec.json.Decoder(_DepthMessage, strict=False),
    "trade": msgspec.json.Decoder(_TradeMessage, strict=False),
    "order update": msgspec.json.Decoder(_OrderMessage, strict=False),
}


# -- the canned server (its own process) ----------------------------------------------------


def text_frame(text: str) -> bytes:
    """One unmasked, final WebSocket text frame (RFC 6455 5.2), as a server sends it."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def serve(messages: int, interval: float) -> None:
    """Serve until stdin closes; print the port first."""
    # Trades carry distinct IDs (a stream hands each trade ID out once).
    by_channel = {
        channel: [payload.decode()] if not channel.startswith("trade:") else None
        for channel, payload in KINDS.values()
    }
    by_channel[KINDS["trade"][0]] = [
        trade_message(str(2778148208082945 + i)).decode() for i in range(messages)
    ]

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, compress=False)
        await ws.prepare(request)
        pushers: list[asyncio.Task[None]] = []
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "ping":
                    await ws.send_str("pong")
                    continue
                request_body = json.loads(msg.data)
                op, tag = request_body.get("op"), request_body.get("tag")
                if op == "login":
                    await ws.send_str(json.dumps({"event": "login", "success": True, "tag": tag}))
                    continue
                if op != "subscribe":
                    continue
                for channel in request_body["args"]:
                    ack = {"event": "subscribe", "success": True, "tag": tag, "channel": channel}
                    await ws.send_str(json.dumps(ack))
                    if channel.startswith("trade:LAT-"):
                        market = channel.partition(":")[2]
                        pushers.append(asyncio.ensure_future(stamp(ws, market, interval)))
                    elif (frames := frames_by_channel.get(channel)) is not None:
                        pushers.append(asyncio.ensure_future(blast(request.transport, frames)))
        finally:
            for task in pushers:
                task.cancel()
        return ws

    # Every frame of a round, built once: the reader, not this server, must be the bottleneck.
    # Sent with ws.send_str one by one, a Python server is slower than the cheapest readers,
    # which then wait for data and pay a wake-up for every few messages: their CPU per message
    # would depend on this server's speed.
    frames_by_channel = {
        channel: b"".join(text_frame(texts[i % len(texts)]) for i in range(messages))
        for channel, texts in by_channel.items()
        if texts is not None
    }

    async def blast(transport: asyncio.BaseTransport | None, frames: bytes) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(frames)  # asyncio writes it as fast as the socket drains

    async def stamp(ws: web.WebSocketResponse, market: str, every: float) -> None:
        template = trade_message("@@").decode().replace(MARKET, market)
        while not ws.closed:
            await ws.send_str(template.replace("@@", str(time.time_ns())))
            await asyncio.sleep(every)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/v2/websocket", handler)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(json.dumps({"port": port}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


@contextmanager
def canned_server(messages: int, interval: float = 0.05) -> Iterator[str]:
    """``serve`` in its own process for the ``with`` block; yields its ``http://`` URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.ws", "serve", "--messages", str(messages),
         "--interval", str(interval)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=child_env(),
        text=True,
    )  # fmt: skip
    assert server.stdin is not None and server.stdout is not None
    try:
        yield f"http://127.0.0.1:{json.loads(server.stdout.readline())['port']}"
    finally:
        server.stdin.close()
        server.wait(timeout=30)
        server.stdout.close()


# -- readers --------------------------------------------------------------------------------


async def _floor(url: str, channel: str, count: int, decode: Callable[[str], int]) -> float:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"op": "subscribe", "tag": "1", "args": [channel]}))
        await ws.receive()  # the acknowledgement
        started = time.process_time()
        seen = 0
        async for msg in ws:
            seen += decode(msg.data)
            if seen >= count:
                break
        return time.process_time() - started


def _raw(text: str) -> int:
    items = json.loads(text)["data"]
    n = 0
    for _ in items:
        n += 1
    return n


async def run_raw(url: str, kind: str, count: int) -> float:
    return await _floor(url, KINDS[kind][0], count, _raw)


async def run_typed(url: str, kind: str, count: int) -> float:
    decoder = FLOOR_DECODERS[kind]

    def typed(text: str) -> int:
        n = 0
        for _ in decoder.decode(text).data:
            n += 1
        return n

    return await _floor(url, KINDS[kind][0], count, typed)


async def run_client(url: str, kind: str, count: int) -> float:
    async with (
        cf.Client("bench-key", "bench-secret", base_url=url, rate_limits=None) as client,
        client.stream() as ws,
    ):
        feed = await ws.subscribe(KINDS[kind][0], max_queue=count + 1)
        started = time.process_time()
        seen = 0
        async for _ in feed:
            seen += 1
            if seen >= count:
                break
        return time.process_time() - started


READERS: dict[str, Callable[[str, str, int], Awaitable[float]]] = {
    "raw": run_raw,
    "typed": run_typed,
    "client": run_client,
}


async def cpu_rounds(url: str, ws_url: str, kind: str, count: int, rounds: int) -> dict[str, Any]:
    per_message: dict[str, list[float]] = {name: [] for name in READERS}
    order = list(READERS)
    for round_ in range(rounds):
        # Rotate who goes first: a drift within the round lands on each in turn.
        for name in order[round_ % 3 :] + order[: round_ % 3]:
            target = url if name == "client" else ws_url
            seconds = await READERS[name](target, kind, count)
            per_message[name].append(seconds / count * 1e6)
    ratios_typed = [c / t for c, t in zip(per_message["client"], per_message["typed"], strict=True)]
    ratios_raw = [c / r for c, r in zip(per_message["client"], per_message["raw"], strict=True)]
    return {
        "kind": kind,
        "raw_us": statistics.median(per_message["raw"]),
        "typed_us": statistics.median(per_message["typed"]),
        "client_us": statistics.median(per_message["client"]),
        "client_vs_typed": statistics.median(ratios_typed),
        "client_vs_raw": statistics.median(ratios_raw),
    }


async def latency(
    url: str, connections: int, per_connection: int, seconds: float
) -> dict[str, Any]:
    delays: list[int] = []
    async with cf.Client("bench-key", "bench-secret", base_url=url, rate_limits=None) as client:
        streams = [await client.stream().__aenter__() for _ in range(connections)]
        readers = []

        async def read(feed: cf.Subscription[cf.TradeEvent]) -> None:
            async for trade in feed:
                delays.append(time.time_ns() - int(trade.trade_id))

        async def subscribe_all(index: int, ws: cf.Stream) -> None:
            # A private channel first: logged in, the exchange takes 50 messages a second.
            await ws.subscribe("balance:all")
            for i in range(per_connection):
                # The canned server streams time-stamped trades on markets named LAT-*.
                feed = await ws.subscribe(f"trade:LAT-{index}-{i}")
                readers.append(asyncio.ensure_future(read(feed)))

        await asyncio.gather(*(subscribe_all(i, ws) for i, ws in enumerate(streams)))
        delays.clear()
        await asyncio.sleep(seconds)
        for task in readers:
            task.cancel()
        for ws in streams:
            await ws.close()
    ordered = sorted(delays)
    return {
        "subscriptions": connections * per_connection,
        "connections": connections,
        "messages": len(ordered),
        "p50_ms": ordered[len(ordered) // 2] / 1e6,
        "p99_ms": ordered[int(len(ordered) * 0.99)] / 1e6,
    }


def _machine() -> str:
    import platform

    return (
        f"{platform.platform()}; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"aiohttp {aiohttp.__version__}, msgspec {msgspec.__version__}"
    )


def report(cpu: list[dict[str, Any]], lat: dict[str, Any], command: str) -> str:
    lines = [
        "| message | raw us/msg | typed us/msg | client us/msg | client/typed | client/raw |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in cpu:
        mark = "" if row["client_vs_typed"] <= 1.15 else " ✗"
        lines.append(
            f"| {row['kind']} | {row['raw_us']:.1f} | {row['typed_us']:.1f} | "
            f"{row['client_us']:.1f} | {row['client_vs_typed']:.2f}{mark} | "
            f"{row['client_vs_raw']:.2f} |"
        )
    lines += [
        "",
        f"Push-to-reader latency, {lat['subscriptions']} trade subscriptions over "
        f"{lat['connections']} connections ({lat['messages']:,} messages): "
        f"p50 {lat['p50_ms']:.2f} ms, p99 {lat['p99_ms']:.2f} ms.",
        "",
        f"Command: `{command}`; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{_machine()}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ws", description=__doc__)
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "serve"])
    parser.add_argument("--quick", action="store_true", help="tiny rounds: a smoke test")
    parser.add_argument("--messages", type=int, default=None, help="messages per round")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--interval", type=float, default=0.05, help="latency: s between pushes")
    parser.add_argument("--seconds", type=float, default=None, help="latency: measured span")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    messages = args.messages or (500 if args.quick else 20000)
    if args.mode == "serve":
        serve(messages, args.interval)
        return
    prime_allocator()
    rounds = args.rounds or (2 if args.quick else 15)
    seconds = args.seconds or (1.0 if args.quick else 10.0)
    with canned_server(messages, args.interval) as url:
        port = url.rpartition(":")[2]

        async def run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
            cpu = [
                await cpu_rounds(url, f"ws://127.0.0.1:{port}/v2/websocket", kind, messages, rounds)
                for kind in KINDS
            ]
            return cpu, await latency(url, 20, 10, seconds)

        cpu, lat = asyncio.run(run())
    command = "python -m benchmarks.ws" + (" --quick" if args.quick else "")
    text = report(cpu, lat, command)
    print(text)
    if not args.quick:
        args.results_dir.mkdir(parents=True, exist_ok=True)
        (args.results_dir / "ws-last.md").write_text(text + "\n")
        (args.results_dir / "ws-last.json").write_text(
            json.dumps({"cpu": cpu, "latency": lat}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
