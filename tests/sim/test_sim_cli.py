"""The standalone server: ``python -m coinflex_async.sim`` prints URL, key and secret, serves
signed requests with them, and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from ._helpers import Credentials, Remote, Trader

REPO_ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def standalone(
    *args: str,
) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, str]]]:
    """Start the CLI, yield it with what it printed (url, key, secret); stop it after."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )
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
    while "api secret" not in printed:
        line = (await process.stdout.readline()).decode()
        assert line, "the simulator exited before printing its banner"
        if " on http://" in line:
            printed["url"] = line.rsplit(" on ", 1)[1].strip()
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
