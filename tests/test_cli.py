"""The ``coinflex`` command line run as a user runs it: a separate process (``python -m
coinflex_async``), credentials in its environment, against a seeded simulator."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
import pytest_asyncio

import coinflex_async as cf
from coinflex_async._cli import HISTORY_KINDS, cli, parse_time
from coinflex_async.sim import SeededHistory, SimAccount, Simulator
from tests.loopback import unused_port

DAY = 86_400_000
START = 1_640_995_200_000  # 2022-01-01T00:00:00Z
END = START + 30 * DAY - 1  # 2022-01-30T23:59:59.999Z
SWAP = "BTC-USD-SWAP-LIN"


@dataclass
class Run:
    status: int
    out: str
    err: str


@dataclass
class Exchange:
    sim: Simulator
    alice: SimAccount
    counts: SeededHistory

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
        alice = sim.create_account({"USD": "12345.5", "BTC": "2"})
        counts = sim.seed_history(alice, start=START, end=END, trades_per_day=100, seed=3)
        yield Exchange(sim, alice, counts)


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COINFLEX_")}
    env.update(extra)
    env["COLUMNS"] = "200"  # wide tables: nothing folded
    return env


async def coinflex(*args: str, env: dict[str, str] | None = None, **options: Any) -> Run:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "coinflex_async",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=options.pop("stderr", asyncio.subprocess.PIPE),
        env=_environment(env or {}),
        **options,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), (err or b"").decode())


# -- market data and account: tables for people, JSON lines for programs --------------------


async def test_markets_as_a_table_and_as_json_lines(exchange: Exchange) -> None:
    table = await coinflex("markets", env={"COINFLEX_BASE_URL": exchange.sim.url})
    assert table.status == 0, table.err
    assert "┃ market " in table.out and f"│ {SWAP} " in table.out
    lines = await coinflex("markets", "--json", "--base-url", exchange.sim.url)
    assert lines.status == 0, lines.err
    markets = [json.loads(line) for line in lines.out.splitlines()]
    assert SWAP in {m["market_code"] for m in markets}
    assert all(isinstance(m["tick_size"], str) for m in markets)  # Decimals as text, exact


async def test_ticker_depth_and_candles(exchange: Exchange) -> None:
    env = {"COINFLEX_BASE_URL": exchange.sim.url}
    ticker = await coinflex("ticker", SWAP, "--json", env=env)
    assert ticker.status == 0, ticker.err
    assert [json.loads(line)["market_code"] for line in ticker.out.splitlines()] == [SWAP]
    exchange.sim.add_liquidity([SWAP], levels=3)
    depth = await coinflex("depth", SWAP, "--level", "2", env=env)
    assert depth.status == 0, depth.err
    assert depth.out.count("ask") == 2 and depth.out.count("bid") == 2
    candles = await coinflex(
        "candles", SWAP, "--timeframe", "86400s", "--since", "2022-01-01", "--until",
        "2022-01-30T23:59:59Z", "--json", env=env,
    )  # fmt: skip
    assert candles.status == 0, candles.err
    days = [json.loads(line)["timestamp"] for line in candles.out.splitlines()]
    assert days == [START + n * DAY for n in range(30)]


async def test_balances_positions_orders_with_credentials_from_the_environment(
    exchange: Exchange,
) -> None:
    balances = await coinflex("balances", "--json", env=exchange.env)
    assert balances.status == 0, balances.err
    held = {b["instrument_id"]: b["total"] for b in map(json.loads, balances.out.splitlines())}
    assert held["USD"] == "12345.5" and held["BTC"] == "2"
    for command in ("positions", "orders"):
        run = await coinflex(command, env=exchange.env)
        assert run.status == 0, run.err
        for secret in (exchange.alice.api_secret, exchange.alice.api_key):
            assert secret not in run.out + run.err


async def test_account_commands_without_credentials_are_bad_usage(exchange: Exchange) -> None:
    run = await coinflex("balances", env={"COINFLEX_BASE_URL": exchange.sim.url})
    assert run.status == 2
    assert run.err.count("\n") == 1 and "COINFLEX_API_KEY" in run.err


# -- history export -----------------------------------------------------------------------------


async def test_history_trades_as_csv(exchange: Exchange) -> None:
    run = await coinflex(
        "history", "trades", "--market", SWAP, "--since", "2022-01-01", "--until",
        str(END), env=exchange.env,
    )  # fmt: skip
    assert run.status == 0, run.err
    assert run.err == ""  # no progress bar: stderr is not a terminal
    rows = list(csv.reader(io.StringIO(run.out)))
    header = [f.name for f in msgspec.structs.fields(cf.Trade)]
    assert rows[0] == header
    body = rows[1:]
    assert len(body) == exchange.counts.trades
    times = [int(row[header.index("match_timestamp")]) for row in body]
    assert times == sorted(times) and times[0] >= START and times[-1] <= END
    assert len({row[header.index("match_id")] for row in body}) == len(body)


async def test_history_as_json_lines_into_a_file(exchange: Exchange, tmp_path: Path) -> None:
    target = tmp_path / "payments.jsonl"
    run = await coinflex(
        "history", "funding-payments", "--market", SWAP, "--since", str(START), "--until",
        "2022-01-30T23:59:59.999", "--format", "jsonl", "--output", str(target),
        env=exchange.env,
    )  # fmt: skip
    assert (run.status, run.out) == (0, ""), run.err
    payments = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(payments) == exchange.counts.funding_payments
    assert [p["timestamp"] for p in payments] == sorted(p["timestamp"] for p in payments)


@pytest.mark.parametrize(
    ("kind", "options", "count"),
    [
        ("mint", ["--asset", "flexUSD"], "mints"),
        ("orders", [], "orders"),
    ],
)
async def test_other_history_kinds(
    exchange: Exchange, kind: str, options: list[str], count: str
) -> None:
    run = await coinflex(
        "history", kind, *options, "--since", "2022-01-01", "--until", str(END),
        "--format", "jsonl", env=exchange.env,
    )  # fmt: skip
    assert run.status == 0, run.err
    assert len(run.out.splitlines()) == getattr(exchange.counts, count)


async def test_progress_goes_to_stderr_when_it_is_a_terminal(exchange: Exchange) -> None:
    main, follower = os.openpty()
    try:
        env = {**exchange.env, "TERM": "xterm"}
        run = await coinflex(
            "history", "trades", "--market", SWAP, "--since", "2022-01-01", "--until",
            str(END), "--format", "jsonl", env=env, stderr=follower,
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main)
    assert run.status == 0
    assert len(run.out.splitlines()) == exchange.counts.trades
    text = shown.decode(errors="replace")
    assert "windows 5/5" in text and f"{exchange.counts.trades} rows" in text


async def test_the_secret_is_not_on_the_command_line(exchange: Exchange) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "coinflex_async", "history", "trades", "--market", SWAP,
        "--since", "2022-01-01", "--until", str(END), "--format", "jsonl",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=_environment(exchange.env),
    )  # fmt: skip
    cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()  # noqa: ASYNC240 - what ps shows
    out, err = await process.communicate()
    assert process.returncode == 0
    for secret in (exchange.alice.api_secret.encode(), exchange.alice.api_key.encode()):
        assert secret not in cmdline
        assert secret not in out + err


# -- exit statuses: 2 bad usage, 1 exchange or network, one line on stderr ---------------------


def run_here(args: list[str], capsys: pytest.CaptureFixture[str]) -> Run:
    """``coinflex`` in this process (for checks that need no exchange)."""
    from coinflex_async._cli import main

    try:
        status = main(args)
    except SystemExit as exit:
        status = int(exit.code or 0)
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


@pytest.mark.parametrize(
    "args",
    [
        ["history", "nonsense", "--since", "2022-01-01"],
        ["history", "trades", "--market", SWAP, "--since", "yesterday"],
        ["history", "trades", "--market", SWAP, "--since", "1640995200"],  # seconds
        ["history", "mint", "--asset", "flexUSD", "--market", SWAP, "--since", "2022-01-01"],
        ["history", "trades", "--market", SWAP, "--since", "2022-01-02", "--until", "2022-01-01"],
        ["depth", SWAP, "--level", "0"],
        ["candles", SWAP, "--until", "2022-01-02"],
        ["frobnicate"],
    ],
)
def test_bad_usage_exits_2(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COINFLEX_API_KEY", "key")
    monkeypatch.setenv("COINFLEX_API_SECRET", "secret")
    run = run_here([*args, "--base-url", f"http://127.0.0.1:{unused_port()}"], capsys)
    assert run.status == 2, run
    assert run.out == ""
    if "1640995200" in args:
        assert "seconds" in run.err and "1640995200000" in run.err
        assert run.err.count("\n") == 1


async def test_a_usage_error_is_status_2_for_the_process(exchange: Exchange) -> None:
    run = await coinflex("history", "trades", "--since", "2022-01-01", env=exchange.env)
    assert run.status == 2
    assert "--market" in run.err and run.out == ""


async def test_an_exchange_error_exits_1_with_one_line(exchange: Exchange) -> None:
    refused = await coinflex("depth", "NO-SUCH-MARKET", env=exchange.env)
    assert refused.status == 1
    assert refused.err.startswith("coinflex: error: ") and refused.err.count("\n") == 1


def test_a_network_error_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    offline = run_here(["markets", "--base-url", f"http://127.0.0.1:{unused_port()}"], capsys)
    assert offline.status == 1
    assert offline.err.startswith("coinflex: error: TransportError")
    assert offline.err.count("\n") == 1


# -- help, times, the core install -------------------------------------------------------------


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    from coinflex_async._cli import main

    for name in [*cli.commands, None]:
        args = ["--help"] if name is None else [name, "--help"]
        if name == "sim":
            continue  # its --help is the simulator's own parser (checked below)
        assert main(args) == 0, name
        assert capsys.readouterr().out.startswith(f"Usage: coinflex {name or ''}"), name
    assert set(HISTORY_KINDS) == {
        "trades", "orders", "funding-payments", "public-trades", "candles", "funding-rates",
        "mint", "redeem", "borrow", "repay",
    }  # fmt: skip


async def test_sim_and_its_help_run_through_the_command() -> None:
    run = await coinflex("sim", "--help")
    assert run.status == 0 and "--port" in run.out and "--seed-history" in run.out
    assert run.out.startswith("usage: coinflex sim ")


def test_times_are_iso_dates_date_times_or_ms() -> None:
    assert parse_time("2022-01-01") == START
    assert parse_time("2022-01-01T00:00:01Z") == START + 1000
    assert parse_time("2022-01-01T01:00:00+01:00") == START
    assert parse_time("2022-01-01 00:00:00.250") == START + 250
    assert parse_time(str(START)) == START


async def test_without_the_cli_extra_only_demo_and_sim_run() -> None:
    code = (
        "import sys; sys.modules['click'] = None; "
        "from coinflex_async.__main__ import main; sys.exit(main(sys.argv[1:]))"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, "markets",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 2
    assert 'pip install "coinflex_async[cli]"' in err.decode()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, "--help",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0
    assert "demo" in out.decode() and "coinflex_async[cli]" in out.decode()
