"""Replay: recorded trades as the market, checked with a plain WebSocket/REST client under a
ManualClock (``sim.advance``): every trade as recorded, the fill rules order by order, bad
input named by file and line."""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from coinflex_async.sim import ManualClock, Replay, ReplayError, Simulator

from ._helpers import Trader
from ._ws import WsClient

SWAP = "BTC-USD-SWAP-LIN"
T0 = 1_700_000_000_000  # the recording's first ms
FUNDS = {"USD": "10000000", "BTC": "100"}

Trade = tuple[int, str, str, str]  # ms, price, quantity, taker side


def write_csv(path: Path, trades: list[Trade]) -> Path:
    lines = ["timestamp,price,quantity,side"]
    lines += [f"{ms},{price},{quantity},{side.lower()}" for ms, price, quantity, side in trades]
    path.write_text("\n".join(lines) + "\n")
    return path


def walk(count: int, step_ms: int = 400) -> list[Trade]:
    """A deterministic walk of trades on the swap's grid (tick 0.5, lot 0.001)."""
    trades = []
    price = Decimal("50000")
    for i in range(count):
        price += Decimal("0.5") * ((i * 7) % 5 - 2)
        trades.append(
            (T0 + i * step_ms, str(price), f"0.{i % 9 + 1:03d}", "BUY" if i % 3 else "SELL")
        )
    return trades


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def start_clock() -> ManualClock:
    return ManualClock(float(int(time.time())))  # near now: signed requests stay in tolerance


async def test_every_csv_trade_prints_as_recorded_at_the_replay_pace(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    trades = walk(25)
    clock = start_clock()
    start_ms = int(clock.now * 1000)
    replay = Replay(write_csv(tmp_path / "t.csv", trades), market_code=SWAP, speed=4)
    async with Simulator(rate_limits=None, clock=clock, market=replay) as sim:
        ws = await WsClient.connect(session, sim)
        try:
            await ws.subscribe(f"trade:{SWAP}")
            for ms, price, quantity, side in trades:
                due = start_ms + (ms - T0) // 4  # 400 ms recorded = 100 ms here
                await sim.advance(due / 1000 - clock.now)
                message = await ws.table("trade", timeout=2)
                (item,) = message["data"]
                assert Decimal(item["price"]) == Decimal(price)
                assert Decimal(item["quantity"]) == Decimal(quantity)
                assert item["side"] == side.lower()  # the trade channel's spelling
                assert int(item["timestamp"]) == due
            assert await ws.silent(lambda m: m.get("table") == "trade", 0.1)
        finally:
            await ws.close()
        public = Trader(session, sim, None)
        body = (await public.get(f"/v2/publictrades/{SWAP}", limit=100)).json
        printed = [
            (Decimal(d["matchPrice"]), Decimal(d["matchQuantity"]), d["side"]) for d in body["data"]
        ]
        assert printed == [(Decimal(p), Decimal(q), s) for _, p, q, s in reversed(trades)]
        assert replay.printed == len(trades)


async def test_on_the_real_clock_the_first_row_prints_when_the_simulator_starts(
    tmp_path: Path,
) -> None:
    trades: list[Trade] = [(T0, "50000", "0.001", "BUY"), (T0 + 200, "50001", "0.002", "SELL")]
    sim = Simulator(rate_limits=None, market=Replay(write_csv(tmp_path / "t.csv", trades),
                                                    market_code=SWAP))  # fmt: skip
    await asyncio.sleep(0.3)  # built, not started: nothing plays yet
    started = time.time()
    async with sim:
        await asyncio.sleep(0.5)
        first, second = sim.engine.market(SWAP).trades
    assert first.timestamp >= int(started * 1000)
    assert 150 <= second.timestamp - first.timestamp < 400  # 200 ms apart, on a busy machine


async def test_binance_trades_in_ms_and_us_are_recognised(tmp_path: Path) -> None:
    rows = [
        f"1,50000.50000000,0.01000000,500.005,{T0},true,true",
        f"2,50001.00000000,0.02000000,1000.02,{T0 + 250},false,true",
    ]
    micro = [  # the newer files: time in us, no is_best_match
        f"3,50001.50000000,0.00300000,150.0045,{(T0 + 500) * 1000},False",
        f"4,50002.00000000,0.00400000,200.008,{(T0 + 750) * 1000},True",
    ]
    source = tmp_path / "BTCUSDT-trades.csv.gz"
    with gzip.open(source, "wt") as file:
        file.write("\n".join(rows + micro) + "\n")
    clock = start_clock()
    async with Simulator(
        rate_limits=None, clock=clock, market=Replay(source, market_code=SWAP)
    ) as sim:
        await sim.advance(0.5)
        market = sim.engine.market(SWAP)
        seen = [(t.price, t.quantity, t.taker_side, t.timestamp) for t in market.trades]
        start = int(clock.now * 1000) - 500
        assert seen == [
            (Decimal("50000.5"), Decimal("0.01"), "SELL", start),  # buyer maker: taker sold
            (Decimal("50001"), Decimal("0.02"), "BUY", start + 250),
            (Decimal("50001.5"), Decimal("0.003"), "BUY", start + 500),
        ]
        await sim.advance(0.25)
        assert market.trades[-1].taker_side == "SELL"
        assert market.trades[-1].timestamp == start + 750


async def test_resting_orders_fill_from_replayed_trades_in_price_time_priority(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    trades: list[Trade] = [
        (T0, "50000", "0.001", "BUY"),
        (T0 + 1000, "49990", "0.005", "SELL"),  # above both bids: fills nobody
        (T0 + 2000, "49980", "0.003", "SELL"),  # at 49980: the best bid first, then the first
        (T0 + 3000, "49970", "0.004", "SELL"),  # through both: what is left, oldest first
        (T0 + 4000, "49900", "0.010", "BUY"),  # the wrong side for bids
    ]
    clock = start_clock()
    replay = Replay(write_csv(tmp_path / "t.csv", trades), market_code=SWAP)
    async with Simulator(rate_limits=None, clock=clock, market=replay) as sim:
        await sim.advance(0.1)
        first, second, third = (Trader(session, sim, sim.create_account(FUNDS)) for _ in range(3))
        await first.place_one(side="BUY", quantity="0.002", price="49980")
        await second.place_one(side="BUY", quantity="0.002", price="49980")
        await third.place_one(side="BUY", quantity="0.002", price="49985")

        def positions() -> list[Decimal]:
            return [t.me.position(SWAP) for t in (first, second, third)]

        await sim.advance(1)
        assert positions() == [0, 0, 0]
        await sim.advance(1)  # 0.003 at 49980: 49985 (0.002) first, then the oldest 49980
        assert positions() == [Decimal("0.001"), 0, Decimal("0.002")]
        assert first.me.entry_price(SWAP) == Decimal("49980")  # at the order's own price
        assert third.me.entry_price(SWAP) == Decimal("49985")
        await sim.advance(1)  # 0.004 through: first's 0.001 left, then second's 0.002
        assert positions() == [Decimal("0.002"), Decimal("0.002"), Decimal("0.002")]
        await sim.advance(1)
        assert positions() == [Decimal("0.002"), Decimal("0.002"), Decimal("0.002")]
        # The tape is the recording's alone: the users' fills print no trades of their own.
        printed = [(t.price, t.taker_side) for t in sim.engine.market(SWAP).trades]
        assert printed == [(Decimal(p), s) for _, p, _, s in trades]


async def test_a_taker_fills_against_the_house_quotes_around_the_last_price(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    trades: list[Trade] = [(T0, "50000", "0.001", "BUY"), (T0 + 1000, "51000", "0.001", "BUY")]
    clock = start_clock()
    replay = Replay(write_csv(tmp_path / "t.csv", trades), market_code=SWAP)
    async with Simulator(rate_limits=None, clock=clock, market=replay) as sim:
        public = Trader(session, sim, None)
        for expected_last in ("50000", "51000"):
            await sim.advance(1 if expected_last == "51000" else 0)
            book = (await public.get(f"/v2/depth/{SWAP}/5")).data[0]
            best_ask, best_bid = Decimal(str(book["asks"][0][0])), Decimal(str(book["bids"][0][0]))
            assert best_bid < Decimal(expected_last) < best_ask
            taker = Trader(session, sim, sim.create_account(FUNDS))
            await taker.place_one(side="BUY", quantity="0.001", order_type="MARKET")
            assert taker.me.position(SWAP) == Decimal("0.001")
            assert taker.me.entry_price(SWAP) == best_ask


async def test_the_house_ladder_moves_only_when_the_price_reaches_it(tmp_path: Path) -> None:
    # The ladder's step: 0.05% of 50000 = 25. A price hovering about 50000 costs no orders.
    hover = [(T0 + i * 100, "50000.5" if i % 2 else "49999.5", "0.001", "BUY") for i in range(20)]
    hover[0] = (T0, "50000", "0.001", "BUY")
    away = [(T0 + 2000, "50026", "0.001", "BUY")]  # past the best ask (50025): one step up
    replay = Replay(write_csv(tmp_path / "t.csv", hover + away), market_code=SWAP)
    async with Simulator(rate_limits=None, clock=start_clock(), market=replay) as sim:

        def orders_taken() -> int:
            return sum(len(account.history) for account in sim.engine.accounts.values())

        market = sim.engine.market(SWAP)
        await sim.advance(0)
        placed, ladder = orders_taken(), (market.bids.depth(10), market.asks.depth(10))
        assert (ladder[0][0][0], ladder[1][0][0]) == (Decimal("49975"), Decimal("50025"))
        await sim.advance(1.9)
        assert orders_taken() == placed  # 20 trades about a grid line: not one order
        assert (market.bids.depth(10), market.asks.depth(10)) == ladder
        await sim.advance(0.1)
        assert market.bids.best_price() == Decimal("50025")
        assert market.asks.best_price() == Decimal("50050")
        # Only the levels that changed: bids 50000 and 50025 new (49775, 49750 cancelled), and
        # ask 50275 new (50025 cancelled); the other 16 levels stay as they were.
        assert orders_taken() == placed + 3
        assert len(market.bids.depth(20)) == len(market.asks.depth(20)) == 10


def write_recording(path: Path, frames: list[tuple[int, dict[str, Any]]]) -> Path:
    """A recording as ``coinflex record`` writes it: {"t": receive ns, "msg": raw text}."""
    lines = [json.dumps({"t": t, "msg": json.dumps(frame)}) for t, frame in frames]
    path.write_text("\n".join(lines) + "\n")
    return path


def depth_frame(bids: list[list[float]], asks: list[list[float]]) -> dict[str, Any]:
    book = {"instrumentId": SWAP, "seqNum": 1, "timestamp": str(T0), "checksum": 0,
            "bids": bids, "asks": asks}  # fmt: skip
    return {"table": "depthL5", "data": [book]}


def trade_frame(price: str, quantity: str, side: str) -> dict[str, Any]:
    item = {"tradeId": "1", "price": price, "quantity": quantity, "side": side,
            "marketCode": SWAP, "timestamp": str(T0)}  # fmt: skip
    return {"table": "trade", "data": [item]}


async def test_a_recording_plays_its_books_and_a_taker_meets_them(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    ns = T0 * 1_000_000
    source = write_recording(tmp_path / "rec.jsonl", [
        (ns, {"event": "subscribe", "success": True, "channel": f"trade:{SWAP}"}),  # no update
        (ns, depth_frame([[49990.5, 0.004, 0, 0], [49990, 1, 0, 0]], [[50010, 0.002, 0, 0]])),
        (ns + 500_000_000, trade_frame("50010", "0.002", "buy")),
        (ns + 1_000_000_000, depth_frame([[49995, 0.5, 0, 0]], [[50020.5, 0.003, 0, 0]])),
    ])  # fmt: skip
    replay = Replay(source)  # its market: the recording's
    assert replay.market_code == SWAP
    async with Simulator(rate_limits=None, clock=start_clock(), market=replay) as sim:
        public = Trader(session, sim, None)
        await sim.advance(0)
        book = (await public.get(f"/v2/depth/{SWAP}/5")).data[0]
        # REST depth levels are [price, quantity] (changelog 2021-09-17).
        assert book["bids"] == [[49990.5, 0.004], [49990.0, 1.0]]
        assert book["asks"] == [[50010.0, 0.002]]
        taker = Trader(session, sim, sim.create_account(FUNDS))
        await taker.place_one(side="SELL", quantity="0.005", order_type="MARKET")
        assert taker.me.position(SWAP) == Decimal("-0.005")  # 0.004 at 49990.5, 0.001 at 49990
        assert taker.me.entry_price(SWAP) == (Decimal("49990.5") * 4 + Decimal("49990")) / 5
        await sim.advance(0.5)
        assert [(t.price, t.taker_side) for t in sim.engine.market(SWAP).trades][-1] == (
            Decimal("50010"), "BUY")  # fmt: skip
        await sim.advance(0.5)
        book = (await public.get(f"/v2/depth/{SWAP}/5")).data[0]
        assert book["bids"] == [[49995.0, 0.5]] and book["asks"] == [[50020.5, 0.003]]
    assert replay.books == 2 and replay.printed == 1


async def test_a_recording_of_two_markets_plays_the_one_named(tmp_path: Path) -> None:
    eth = "ETH-USD-SWAP-LIN"
    btc_trade = trade_frame("50000", "0.001", "buy")
    eth_trade = {"table": "trade", "data": [{**trade_frame("3000.05", "0.01", "sell")["data"][0],
                                             "marketCode": eth}]}  # fmt: skip
    ns = T0 * 1_000_000
    frames = [(ns + i * 100_000_000, btc_trade if i % 2 else eth_trade) for i in range(6)]
    source = write_recording(tmp_path / "two.jsonl", frames)
    assert Replay(source).market_code == eth  # by default: the first market recorded
    replay = Replay(source, market_code=SWAP)
    async with Simulator(rate_limits=None, clock=start_clock(), market=replay) as sim:
        await sim.advance(1)
        assert [(t.price, t.taker_side) for t in sim.engine.market(SWAP).trades] == [
            (Decimal("50000"), "BUY")] * 3  # fmt: skip
        assert sim.engine.market(eth).trades == []


async def test_loop_starts_again_shifted_by_the_span(tmp_path: Path) -> None:
    trades: list[Trade] = [(T0, "50000", "0.001", "BUY"), (T0 + 1000, "50001", "0.002", "SELL")]
    clock = start_clock()
    start_ms = int(clock.now * 1000)
    replay = Replay(write_csv(tmp_path / "t.csv", trades), market_code=SWAP, loop=True)
    async with Simulator(rate_limits=None, clock=clock, market=replay) as sim:
        await sim.advance(5.5)
        market = sim.engine.market(SWAP)
        # span 1 s + one mean interval (1 s): rounds start every 2 s.
        assert [t.timestamp - start_ms for t in market.trades] == [0, 1000, 2000, 3000, 4000, 5000]
        assert [str(t.quantity) for t in market.trades] == ["0.001", "0.002"] * 3


async def test_keep_trades_bounds_the_history_to_the_newest(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    trades = walk(30, step_ms=100)
    replay = Replay(write_csv(tmp_path / "t.csv", trades), market_code=SWAP, keep_trades=8)
    async with Simulator(rate_limits=None, clock=start_clock(), market=replay) as sim:
        await sim.advance(3)
        assert replay.printed == 30
        kept = sim.engine.market(SWAP).trades
        assert 8 <= len(kept) <= 10  # a quarter of slack: dropped a quarter at a time
        body = (await Trader(session, sim, None).get(f"/v2/publictrades/{SWAP}", limit=100)).json
        newest = [Decimal(d["matchPrice"]) for d in reversed(body["data"])]
        assert newest == [Decimal(p) for _, p, _, _ in trades[-len(kept) :]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("when,what\n1,2\n", r"t\.csv:1: unknown layout"),
        (
            "timestamp,price,quantity,side\n1,50000,0.001,buy\n0,50000,0.001,buy\n",
            r"t\.csv:3: out of order",
        ),
        ("timestamp,price,quantity,side\n1,50000,0.001,buy\n2,fifty,0.001,buy\n", r"t\.csv:3:"),
        (
            "timestamp,price,quantity,side\n1,50000,0.001,hold\n",
            r"t\.csv:2: side must be buy or sell",
        ),
        (
            "timestamp,price,quantity,side\n1,50000,-1,buy\n",
            r"t\.csv:2: quantity must be a positive",
        ),
        ("timestamp,price,quantity,side\n1,50000,0.001\n", r"t\.csv:2: expected 4 fields"),
        (
            "timestamp,price,quantity,side\n1,50000.3,0.001,buy\n",
            r"t\.csv:2: price 50000\.3 is not a multiple",
        ),
        ("1,50000,0.001,50,1,maybe\n", r"t\.csv:1: unknown layout"),
        ('{"t": 1, "msg": "{}"}\nnot json\n', r"t\.csv:2: not a recording line"),
        ("", r"t\.csv: empty"),
    ],
)
def test_bad_sources_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    source = tmp_path / "t.csv"
    source.write_text(text)
    with pytest.raises(ReplayError, match=message):
        Simulator(market=Replay(source, market_code=SWAP))


def test_bad_arguments(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "t.csv", walk(2))
    with pytest.raises(ReplayError, match="market_code is needed"):
        Replay(source)
    with pytest.raises(ReplayError, match="speed must be above 0"):
        Replay(source, market_code=SWAP, speed=0)
    with pytest.raises(ReplayError, match="NOPE is not one of the simulator's"):
        Simulator(market=Replay(source, market_code="NOPE"))


async def test_coinflex_sim_replay_serves_the_file(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "t.csv", walk(3, step_ms=10))
    process = await _sim_process("--replay", str(source), "--replay-market", SWAP, "--speed", "5")
    try:
        url = await _listening_url(process)
        async with aiohttp.ClientSession() as session:
            for _ in range(50):
                async with session.get(f"{url}/v2/publictrades/{SWAP}") as response:
                    data: list[dict[str, Any]] = (await response.json())["data"]
                if len(data) == 3:
                    break
                await asyncio.sleep(0.05)
        assert [d["matchPrice"] for d in reversed(data)] == [p for _, p, _, _ in walk(3)]
    finally:
        process.terminate()
        await process.wait()


async def test_coinflex_sim_replay_refuses_a_bad_file_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    source.write_text("timestamp,price,quantity,side\n1,50000,0.001,buy\n0,50000,0.001,buy\n")
    process = await _sim_process("--replay", str(source), "--replay-market", SWAP)
    _, err = await process.communicate()
    assert process.returncode == 1
    assert (
        err.decode()
        .strip()
        .endswith(
            "t.csv:3: out of order: its time is before the "
            "previous row's (a source must be sorted by time)"
        )
    )


async def _sim_process(*args: str) -> Any:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "coinflex_async.sim", "--port", "0", "--no-rate-limits", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _listening_url(process: Any) -> str:
    line = (await process.stdout.readline()).decode()
    assert "listening on" in line, line
    return str(line.split()[-1])
