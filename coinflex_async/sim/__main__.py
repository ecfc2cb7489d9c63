"""``python -m coinflex_async.sim``: serve a simulated exchange until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from ._simulator import DEFAULT_RATE_LIMITS, Simulator

__all__ = ["DEMO_BALANCES", "main"]

DEMO_BALANCES = {"USD": "1000000", "BTC": "100", "ETH": "1000", "FLEX": "1000000"}


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m coinflex_async.sim",
        description="Serve a local simulated CoinFLEX v2 REST exchange.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to bind (default 8080; 0 = any)"
    )
    parser.add_argument("--api-key", help="key of the funded demo account (default: generated)")
    parser.add_argument(
        "--api-secret", help="secret of the funded demo account (default: generated)"
    )
    parser.add_argument("--no-liquidity", action="store_true", help="start with empty order books")
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="do not enforce the exchange's rate limits"
    )
    args = parser.parse_args(argv)
    if (args.api_key is None) != (args.api_secret is None):
        parser.error("--api-key and --api-secret go together")
    return args


async def _serve(args: argparse.Namespace) -> None:
    rate_limits = None if args.no_rate_limits else DEFAULT_RATE_LIMITS
    simulator = Simulator(args.host, args.port, rate_limits=rate_limits)
    account = simulator.create_account(DEMO_BALANCES, args.api_key, args.api_secret)
    if not args.no_liquidity:
        simulator.add_liquidity()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no add_signal_handler: there Ctrl-C raises KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with simulator:
        print(f"CoinFLEX simulator listening on {simulator.url}", flush=True)
        print(f"websocket:  {simulator.ws_url}", flush=True)
        print(f"account id: {account.account_id}", flush=True)
        print(f"api key:    {account.api_key}", flush=True)
        print(f"api secret: {account.api_secret}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
