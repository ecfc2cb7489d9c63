"""The standalone server: ``python -m coinflex_async.sim`` (the ``coinflex-sim`` script) prints
URL, key, secret and balances, serves signed requests with them (over HTTPS with a
certificate), stays quiet when a client hangs up, fails in one line when its port is taken,
and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme

from ._helpers import Credentials, Remote, Trader

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )


@asynccontextmanager
async def standalone(
    *args: str,
) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, str]]]:
    """Start the CLI, yield it with what it printed (url, key, secret); stop it after."""
    env = _env()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "coinflex_async.sim", "--port", "0", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=REPO_ROOT, env=env,
    )  # fmt: skip
    try:
        printed = await asyncio.wait_for(_read_banner(process), timeout=20)
        yield process, printed
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except asyncio.TimeoutError:
                process.kill()
        await process.communicate()


async def _read_banner(process: asyncio.subprocess.Process) -> dict[str, str]:
    assert process.stdout is not None
    printed: dict[str, str] = {}
    while "Press Ctrl-C to stop." not in printed:
        line = (await process.stdout.readline()).decode()
        assert line, "the simulator exited before printing its banner"
        if " listening on " in line:
            printed["url"] = line.rsplit(" on ", 1)[1].strip()
        elif line.startswith("Press"):
            printed[line.strip()] = ""
        elif ":" in line:
            label, _, value = line.partition(":")
            printed[label.strip()] = value.strip()
    return printed


async def signed_balances(
    url: str, key: str, secret: str, session: aiohttp.ClientSession
) -> list[Any]:
    reply = await Trader(session, Remote(url), Credentials(key, secret)).get("/v2/balances")
    assert reply.status == 200, reply.text
    return reply.data  # type: ignore[no-any-return]


async def test_cli_with_given_credentials(session: aiohttp.ClientSession) -> None:
    async with standalone("--api-key", "demo-key", "--api-secret", "demo-secret") as (
        process,
        printed,
    ):
        assert printed["url"].startswith("http://127.0.0.1:")
        assert printed["websocket"] == printed["url"].replace("http", "ws") + "/v2/websocket"
        assert (printed["api key"], printed["api secret"]) == ("demo-key", "demo-secret")
        balances = await signed_balances(printed["url"], "demo-key", "demo-secret", session)
        assert {item["instrumentId"] for item in balances} >= {"USD", "BTC"}
        # The banner shows what the account was funded with, as the exchange reports it.
        shown = dict(entry.split(" ") for entry in printed["balances"].split(", "))
        reported = {item["instrumentId"]: item["total"] for item in balances}
        assert {asset: Decimal(total) for asset, total in shown.items()} == {
            asset: Decimal(reported[asset]) for asset in shown
        }
        assert set(shown) == {"USD", "BTC", "ETH", "FLEX"}
        # The demo starts with a market maker's orders on the books.
        async with session.get(printed["url"] + "/v2/depth/BTC-USD-SWAP-LIN/5") as response:
            book = (await response.json())["data"][0]
        assert len(book["bids"]) == len(book["asks"]) == 5
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0


async def test_cli_generates_credentials(session: aiohttp.ClientSession) -> None:
    async with standalone("--no-liquidity", "--no-rate-limits") as (_process, printed):
        key, secret = printed["api key"], printed["api secret"]
        assert len(key) >= 16 and len(secret) >= 16
        await signed_balances(printed["url"], key, secret, session)
        async with session.get(printed["url"] + "/v2/depth/BTC-USD-SWAP-LIN/5") as response:
            book = (await response.json())["data"][0]
        assert book["bids"] == book["asks"] == []


async def test_a_client_hanging_up_mid_request_is_not_an_error() -> None:
    async with standalone("--no-liquidity", "--api-key", "k", "--api-secret", "s") as (
        process,
        printed,
    ):
        host, port = printed["url"].removeprefix("http://").rsplit(":", 1)
        # Headers promise a body of 100 bytes; the client sends 1 and closes.
        _reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /v2/orders/place HTTP/1.1\r\nHost: " + f"{host}:{port}".encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )  # fmt: skip
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
        await writer.wait_closed()
        async with aiohttp.ClientSession() as session:
            await signed_balances(printed["url"], "k", "s", session)  # still serving
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
        assert process.stderr is not None
        assert (await process.stderr.read()).decode() == ""


def test_a_port_in_use_is_one_line_and_exit_status_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = subprocess.run(
            [sys.executable, "-m", "coinflex_async.sim", "--port", str(port)],
            capture_output=True, text=True, timeout=60, cwd=REPO_ROOT, env=_env(),
        )  # fmt: skip
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr == (
        f"python -m coinflex_async.sim: error: cannot listen on 127.0.0.1:{port}: "
        f"{os.strerror(errno.EADDRINUSE)}\n"
    )


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "coinflex_async.sim"],
        # The console script that `pip install coinflex_async` puts beside the interpreter.
        [str(Path(sys.executable).with_name("coinflex-sim"))],
    ],
    ids=["python -m", "script"],
)
def test_help_names_the_program_as_it_was_run(command: list[str]) -> None:
    completed = subprocess.run(
        [*command, "--help"], capture_output=True, text=True, timeout=60, env=_env()
    )
    assert completed.returncode == 0, completed.stderr
    name = "coinflex-sim" if command[0].endswith("coinflex-sim") else "python -m coinflex_async.sim"
    assert completed.stdout.startswith(f"usage: {name} ")


async def test_tls_serves_https(tmp_path: Path) -> None:
    # Clients that sign their base URL less "https://" (ccxt) need the simulator on HTTPS.
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(b"".join(pem.bytes() for pem in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    async with (
        standalone("--no-liquidity", "--api-key", "k", "--api-secret", "s",
                   "--tls-cert", str(cert), "--tls-key", str(key)) as (_process, printed),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting)) as session,
    ):  # fmt: skip
        assert printed["url"].startswith("https://127.0.0.1:")
        balances = await signed_balances(printed["url"], "k", "s", session)
        assert {item["instrumentId"] for item in balances} >= {"USD", "BTC"}
