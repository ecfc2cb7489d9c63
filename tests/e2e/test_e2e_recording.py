"""Recording round trip: ``coinflex record`` (a real process, stopped with a real SIGINT)
records what the simulator sends; ``cf.read_recording`` gives back the very typed events the
client's own stream received; ``Replay(recording)`` plays its trades and books again."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.sim import ManualClock, Replay, SimAccount, Simulator

SWAP = "BTC-USD-SWAP-LIN"
FUNDS = {"USD": "1000000", "BTC": "100"}


async def start_recorder(
    sim: Simulator, account: SimAccount | None, output: Path, *args: str
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COINFLEX_")}
    if account is not None:
        env.update(COINFLEX_API_KEY=account.api_key, COINFLEX_API_SECRET=account.api_secret)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "coinflex_async", "record", *args, "--output", str(output),
        "--base-url", sim.url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    assert process.stderr is not None
    line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
    assert line.startswith("recording "), line  # every channel acknowledged
    return process


async def drain(feed: Any, quiet: float = 0.5) -> list[Any]:
    """Events of ``feed`` until it has been quiet for ``quiet`` seconds."""
    events = []
    while True:
        try:
            events.append(await asyncio.wait_for(feed.__anext__(), quiet))
        except asyncio.TimeoutError:
            return events


async def test_a_recording_reads_back_as_the_stream_events_and_replays(tmp_path: Path) -> None:
    output = tmp_path / "btc.jsonl.gz"
    channels = [f"trade:{SWAP}", f"depthL5:{SWAP}", "order:all"]
    began = time.time_ns()
    async with Simulator(rate_limits=None, liquidity=True) as sim:
        alice = sim.create_account(FUNDS)
        recorder = await start_recorder(sim, alice, output, *channels)
        async with cf.Client(alice.api_key, alice.api_secret, base_url=sim.url) as client:
            async with client.stream() as ws:
                trade_feed = await ws.subscribe(f"trade:{SWAP}")
                order_feed = await ws.subscribe("order:all")
                for side, quantity in ((cf.Side.BUY, "0.001"), (cf.Side.SELL, "0.003")) * 2:
                    await client.private.place_order(
                        market_code=SWAP, side=side, quantity=quantity,
                        order_type=cf.OrderType.MARKET,
                    )  # fmt: skip
                trades = [await asyncio.wait_for(trade_feed.__anext__(), 10) for _ in range(4)]
                orders = await drain(order_feed)
            book = await client.public.depth(SWAP, level=5)
        await asyncio.sleep(0.5)  # the last pushes reach the recorder too
        recorder.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(recorder.communicate(), 30)
    assert recorder.returncode == 0, err.decode()
    assert "recorded " in err.decode()
    ended = time.time_ns()

    recorded = [(received, event) async for received, event in cf.read_recording(output)]
    assert [e for _, e in recorded if isinstance(e, cf.TradeEvent)] == trades
    assert [e for _, e in recorded if isinstance(e, cf.OrderEvent)] == orders
    assert len(orders) >= 8  # each market order: at least opened and matched
    books = [e for _, e in recorded if isinstance(e, cf.DepthEvent)]
    assert books and books[-1].asks == book.asks and books[-1].bids == book.bids
    times = [received for received, _ in recorded]
    assert times == sorted(times) and began <= times[0] and times[-1] <= ended
    with gzip.open(output, "rt") as file:  # closed properly: the gzip trailer is there
        lines = [json.loads(line) for line in file]
    assert all(set(line) == {"t", "msg"} for line in lines)
    assert all("table" in json.loads(line["msg"]) for line in lines)  # the channels' frames

    # The recording as the market of another simulator: its trades and its last book.
    replay = Replay(output)
    assert replay.market_code == SWAP
    clock = ManualClock(float(int(time.time())))
    async with Simulator(rate_limits=None, clock=clock, market=replay) as sim:
        await sim.advance((times[-1] - times[0]) / 1e9 + 1)
        async with cf.Client(base_url=sim.url) as client:
            replayed = await client.public.trades(SWAP, limit=100)
            book_now = await client.public.depth(SWAP, level=5)
    assert [(t.match_price, t.match_quantity, t.side) for t in reversed(replayed)] == [
        (t.price, t.quantity, t.side.upper()) for t in trades
    ]
    assert book_now.asks == books[-1].asks and book_now.bids == books[-1].bids
    assert replay.books == len(books)


async def test_sigint_right_after_a_burst_keeps_every_trade(tmp_path: Path) -> None:
    output = tmp_path / "burst.jsonl"
    async with Simulator(rate_limits=None, liquidity=True) as sim:
        alice = sim.create_account(FUNDS)
        recorder = await start_recorder(sim, None, output, f"trade:{SWAP}")
        client = cf.Client(alice.api_key, alice.api_secret, base_url=sim.url)
        async with client, client.stream() as ws:
            feed = await ws.subscribe(f"trade:{SWAP}")
            orders = [
                cf.NewOrder(market_code=SWAP, side=cf.Side.BUY, quantity="0.001",
                            order_type=cf.OrderType.MARKET)
                for _ in range(20)
            ]  # fmt: skip
            await client.private.place_orders(orders)
            trades = [await asyncio.wait_for(feed.__anext__(), 10) for _ in range(20)]
        recorder.send_signal(signal.SIGINT)  # at once: the recorder may not have read them all
        _, err = await asyncio.wait_for(recorder.communicate(), 30)
    assert recorder.returncode == 0, err.decode()
    recorded = [event async for _, event in cf.read_recording(output)]
    assert recorded == trades


async def test_duration_ends_a_plain_recording_by_itself(tmp_path: Path) -> None:
    output = tmp_path / "ticker.jsonl"
    async with Simulator(rate_limits=None, liquidity=True) as sim:
        recorder = await start_recorder(sim, None, output, f"ticker:{SWAP}", "--duration", "1.5s")
        _, err = await asyncio.wait_for(recorder.communicate(), 30)
    assert recorder.returncode == 0, err.decode()
    events = [event async for _, event in cf.read_recording(output)]
    assert events and all(isinstance(e, cf.TickerEvent) for e in events)
    assert all(e.market_code == SWAP for e in events)


async def test_a_private_channel_without_credentials_is_one_line(tmp_path: Path) -> None:
    async with Simulator(rate_limits=None) as sim:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "coinflex_async", "record", "order:all", "--base-url", sim.url,
            "--output", str(tmp_path / "x.jsonl"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("COINFLEX_")},
        )  # fmt: skip
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert err.decode().count("\n") == 1 and "COINFLEX_API_KEY" in err.decode()


async def test_a_refused_channel_is_an_api_error(tmp_path: Path) -> None:
    async with Simulator(rate_limits=None) as sim:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "coinflex_async", "record", "trade:NOPE-USD", "--base-url",
            sim.url, "--output", str(tmp_path / "x.jsonl"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert err.decode().startswith("coinflex: error: APIError"), err.decode()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json\n", r"rec\.jsonl:2: not a recording line"),
        (b'{"t": "soon", "msg": "x"}\n', r"rec\.jsonl:2: not a recording line"),
        (b'{"t": 1, "msg": "{\\"table\\":\\"trade\\",\\"data\\":[{\\"price\\":[]}]}"}\n',
         r"rec\.jsonl:2: an update that is not the documented shape"),
    ],
)  # fmt: skip
async def test_a_bad_line_names_the_file_and_line(
    tmp_path: Path, line: bytes, message: str
) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_bytes(b'{"t": 1, "msg": "pong"}\n' + line)
    with pytest.raises(cf.ValidationError, match=message):
        async for _ in cf.read_recording(path):
            pass


async def test_a_bad_duration_is_bad_usage(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "coinflex_async", "record", f"trade:{SWAP}", "--duration", "soon",
        "--base-url", "http://127.0.0.1:9", "--output", str(tmp_path / "x.jsonl"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "'soon' is not a duration" in err.decode()
    assert not (tmp_path / "x.jsonl").exists()  # nothing opened, nothing sent


async def test_no_exchange_there_is_one_line_and_status_1(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "coinflex_async", "record", f"trade:{SWAP}",
        "--base-url", "http://127.0.0.1:9", "--output", str(tmp_path / "x.jsonl"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert err.decode().count("\n") == 1
    assert err.decode().startswith("coinflex: error: TransportError: WebSocket ws://127.0.0.1:9")


async def test_without_output_the_lines_go_to_stdout() -> None:
    async with Simulator(rate_limits=None, liquidity=True) as sim:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "coinflex_async", "record", f"depthL5:{SWAP}",
            "--duration", "1s", "--base-url", sim.url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert lines and all(json.loads(line["msg"])["table"].startswith("depth") for line in lines)
    assert err.decode().splitlines()[-1] == f"recorded {len(lines)} messages " + (
        f"({len(out):,} bytes) to stdout"
    )
