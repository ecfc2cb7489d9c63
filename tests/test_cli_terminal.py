"""The installed ``coinflex`` command as a person meets it: tables in a real pseudo-terminal of
80 and 100 columns (nothing wider than the terminal, codes whole, times as dates, numbers
right-aligned), output into a pipe whose reader stops early (quiet, status 0), every
and ``coinflex-sim --seed-history`` for ``coinflex history``."""

from __future__ import annotations

import asyncio
import csv
import fcntl
import io
import json
import os
import re
import signal
import struct
import sys
import termios
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
import pytest_asyncio

import coinflex_async as cf
from coinflex_async.sim import SimAccount, Simulator

BIN = Path(sys.executable).parent
DAY = 86_400_000
START = 1_640_995_200_000  # 2022-01-01T00:00:00Z
END = START + 10 * DAY - 1
SWAP = "BTC-USD-SWAP-LIN"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
MS_TIME = re.compile(r"\b1[5-9]\d{11}\b")  # a raw millisecond time (2017-2033)
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def command(name: str) -> str:
    """The console script the install made, next to this interpreter."""
    path = BIN / name
    assert path.exists(), f"{name} is not installed in {BIN} (pip install -e .[cli])"
    return str(path)


@dataclass
class Exchange:
    sim: Simulator
    alice: SimAccount
    codes: set[str]  # the markets' codes

    @property
    def env(self) -> dict[str, str]:
        return {
            "COINFLEX_BASE_URL": self.sim.url,
            "COINFLEX_API_KEY": self.alice.api_key,
            "COINFLEX_API_SECRET": self.alice.api_secret,
        }


@pytest_asyncio.fixture
async def exchange() -> AsyncIterator[Exchange]:
    async with Simulator(rate_limits=None) as sim:
        alice = sim.create_account({"USD": "1000000", "BTC": "20"})
        sim.seed_history(alice, start=START, end=END, trades_per_day=300, seed=5)
        async with cf.Client(alice.api_key, alice.api_secret, base_url=sim.url) as client:
            await client.private.place_order(
                market_code=SWAP, side="BUY", order_type="LIMIT", quantity="0.5",
                price="49000", client_order_id=77,
            )  # fmt: skip
            await client.private.place_order(
                market_code=SWAP, side="BUY", order_type="MARKET", quantity="0.25"
            )
            codes = {m.market_code for m in await client.public.markets()}
        yield Exchange(sim, alice, codes)


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COINFLEX_") and k not in ("COLUMNS", "LINES")
    }
    return {**env, "TERM": "xterm-256color", **extra}


def _drain(fd: int) -> bytes:
    """Everything the terminal shows until its other end is closed."""
    shown = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other end is closed and drained
            return shown
        if not chunk:
            return shown
        shown += chunk


async def in_terminal(columns: int, *args: str, env: dict[str, str]) -> tuple[int, list[str]]:
    """``coinflex ARGS`` with stdout and stderr on a pseudo-terminal ``columns`` wide; the
    status and the screen's lines, colours removed."""
    main, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    try:
        process = await asyncio.create_subprocess_exec(
            command("coinflex"), *args, stdin=asyncio.subprocess.DEVNULL, stdout=follower,
            stderr=follower, env=_environment(env),
        )  # fmt: skip
        os.close(follower)
        follower = -1
        # Read while it runs: a terminal buffers a few KB, then the writer would block.
        shown = await asyncio.wait_for(asyncio.to_thread(_drain, main), 60)
        status = await asyncio.wait_for(process.wait(), 60)
    finally:
        os.close(main)
        if follower >= 0:
            os.close(follower)
    text = ANSI.sub("", shown.decode()).replace("\r", "")
    return status, text.rstrip("\n").split("\n")


def _rows(lines: list[str]) -> list[list[str]]:
    """The table's body and header rows, split into their cells (padding kept)."""
    return [re.split("[│┃]", line)[1:-1] for line in lines if line[:1] in ("│", "┃")]


def _check_fits(lines: list[str], columns: int) -> None:
    assert max(map(len, lines)) <= columns, "\n".join(lines)
    assert not any(line.endswith("…") or "…│" in line for line in lines), "\n".join(lines)


@pytest.mark.parametrize("columns", [80, 100])
async def test_markets_fit_the_terminal_with_whole_codes_dates_and_right_aligned_numbers(
    exchange: Exchange, columns: int
) -> None:
    status, lines = await in_terminal(columns, "markets", env=exchange.env)
    assert status == 0, lines
    _check_fits(lines, columns)
    codes = exchange.codes
    rows = _rows(lines)
    # Each market code whole in its own cell, one row per market.
    assert {row[0].strip() for row in rows if row[0].strip() in codes} == codes
    header = [cell.strip() for cell in next(r for r in rows if r[0].strip() == "market")]
    for row in rows:
        for name, cell in zip(header, row, strict=True):
            if name in ("tick", "qty step", "price", "low bound", "high bound"):
                assert cell.endswith(" ") and not cell.endswith("  "), (name, cell)
                assert re.fullmatch(r" *(-?[\d.]+|[a-z ]+) ", cell), (name, cell)
            else:
                assert cell.startswith(" ") and not cell.startswith("  "), (name, cell)
    assert not MS_TIME.search("\n".join(lines))
    if columns == 100:
        assert "listed" in header and DATE.search(rows[-1][header.index("listed")])
    else:  # what gave way is named, and where to find it
        assert any("not shown for width" in line and "--json" in line for line in lines)


@pytest.mark.parametrize("columns", [80, 100])
async def test_every_table_fits_and_shows_times_as_dates(exchange: Exchange, columns: int) -> None:
    commands = [
        ["ticker"],
        ["balances"],
        ["positions"],
        ["orders"],
        ["depth", SWAP],
        ["candles", SWAP, "--timeframe", "86400s", "--since", "2022-01-01",
         "--until", "2022-01-10"],
    ]  # fmt: skip
    shown = await asyncio.gather(*(in_terminal(columns, *a, env=exchange.env) for a in commands))
    for args, (status, lines) in zip(commands, shown, strict=True):
        assert status == 0, (args, lines)
        _check_fits(lines, columns)
        screen = "\n".join(lines)
        if args[0] != "orders":  # order IDs are 13 digits too
            assert not MS_TIME.search(screen), screen
        if args[0] in ("candles", "balances", "depth"):
            assert DATE.search(screen), screen
        if args[0] in ("positions", "orders", "depth"):
            assert SWAP in re.split(r"[\s│]+", screen), screen  # whole, on one line
    days = [row[0].strip() for row in _rows(shown[-1][1]) if DATE.search(row[0])]
    assert days == [f"2022-01-{day:02d} 00:00:00" for day in range(1, 11)]


async def test_json_carries_every_field_with_times_as_ms(exchange: Exchange) -> None:
    models = {
        "markets": cf.Market,
        "ticker": cf.Ticker,
        "balances": cf.Balance,
        "positions": cf.Position,
        "orders": cf.OpenOrder,
    }

    async def as_json(name: str) -> tuple[int | None, bytes, bytes]:
        process = await asyncio.create_subprocess_exec(
            command("coinflex"), name, "--json", stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=_environment(exchange.env),
        )  # fmt: skip
        out, err = await process.communicate()
        return process.returncode, out, err

    runs = await asyncio.gather(*map(as_json, models))
    for (name, model), (status, out, err) in zip(models.items(), runs, strict=True):
        assert status == 0, err
        items = [json.loads(line) for line in out.decode().splitlines()]
        assert items, name
        fields = {f.name for f in msgspec.structs.fields(model)}
        assert all(set(item) == fields for item in items), name


# -- a reader that stops reading ----------------------------------------------------------------


async def _into_closed_pipe(
    args: list[str], env: dict[str, str], read_first: bool
) -> tuple[int, bytes, bytes]:
    """``coinflex ARGS`` writing into a real pipe whose reader closes early: before anything
    arrives, or (``read_first``, as ``| head -1`` does) after the first line."""
    reader, writer = os.pipe()
    try:
        process = await asyncio.create_subprocess_exec(
            command("coinflex"), *args, stdout=writer, stderr=asyncio.subprocess.PIPE,
            env=_environment(env),
        )  # fmt: skip
    finally:
        os.close(writer)
    first = b""
    if read_first:
        while not first.endswith(b"\n"):
            chunk = await asyncio.to_thread(os.read, reader, 1)
            assert chunk, "no first line"
            first += chunk
    os.close(reader)
    assert process.stderr is not None
    err = await asyncio.wait_for(process.stderr.read(), 60)
    return await asyncio.wait_for(process.wait(), 60), first, err


@pytest.mark.parametrize(
    "args", [["markets"], ["markets", "--json"], ["ticker", "--json"], ["balances"]]
)
async def test_a_pipe_closed_before_the_output_ends_quietly(
    exchange: Exchange, args: list[str]
) -> None:
    status, _, err = await _into_closed_pipe(args, exchange.env, read_first=False)
    assert (status, err) == (0, b"")


async def test_history_into_head_ends_quietly(exchange: Exchange) -> None:
    # Far more than a pipe holds (3,000 rows of CSV), so writes meet the closed pipe.
    args = ["history", "trades", "--market", SWAP, "--since", "2022-01-01", "--until", str(END)]
    status, first, err = await _into_closed_pipe(args, exchange.env, read_first=True)
    assert (status, err) == (0, b"")
    assert first.decode().startswith("match_id,") or "match_id" in first.decode()


# -- the standalone simulator with a history ----------------------------------------------------


async def test_coinflex_sim_seed_history_serves_coinflex_history() -> None:
    started = time.time_ns() // 1_000_000
    process = await asyncio.create_subprocess_exec(
        command("coinflex-sim"), "--port", "0", "--seed-history", "3", "--no-rate-limits",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_environment({}),
    )  # fmt: skip
    assert process.stdout is not None
    banner: dict[str, str] = {}
    try:
        while "Press Ctrl-C to stop." not in banner:
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            assert line, "the simulator exited before its banner"
            if " listening on " in line:
                banner["url"] = line.rsplit(" on ", 1)[1].strip()
            else:
                label, _, value = line.partition(":")
                banner[line.strip() if line.startswith("Press") else label.strip()] = value.strip()
        url = banner["url"]
        trades = int(banner["history"].split(" trades")[0])
        assert 2_000 < trades < 4_000  # the default 1,000 a day
        env = {"COINFLEX_BASE_URL": url, "COINFLEX_API_KEY": banner["api key"],
               "COINFLEX_API_SECRET": banner["api secret"]}  # fmt: skip
        run = await asyncio.create_subprocess_exec(
            command("coinflex"), "history", "trades", "--market", SWAP, "--since",
            str(started - 3 * DAY - 60_000), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=_environment(env),
        )  # fmt: skip
        out, err = await asyncio.wait_for(run.communicate(), 120)
        assert run.returncode == 0, err
        rows = list(csv.reader(io.StringIO(out.decode())))
        assert len(rows) - 1 == trades
        times = [int(row[rows[0].index("match_timestamp")]) for row in rows[1:]]
        assert started - 3 * DAY - 60_000 <= min(times) and max(times) <= time.time_ns() // 10**6
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
        await process.communicate()


@pytest.mark.parametrize("program", [["coinflex-sim"], ["coinflex", "sim"]])
async def test_seed_history_needs_a_positive_number_of_days(program: list[str]) -> None:
    process = await asyncio.create_subprocess_exec(
        command(program[0]), *program[1:], "--seed-history", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_environment({}),
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 2 and out == b""
    assert err.decode().startswith(f"usage: {' '.join(program)} ")
    assert "--seed-history takes a number of days" in err.decode()
