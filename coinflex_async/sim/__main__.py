"""``coinflex-sim`` (or ``python -m coinflex_async.sim``): serve a simulated exchange until
Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import ssl
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone

from ._drivers import MarketDriver
from ._numbers import format_decimal
from ._random_market import RandomMarket
from ._replay import Replay, ReplayError
from ._simulator import DEFAULT_RATE_LIMITS, SimAccount, Simulator

__all__ = ["DEMO_BALANCES", "main"]

DAY_MS = 86_400_000
DEMO_BALANCES = {"USD": "1000000", "BTC": "100", "ETH": "1000", "FLEX": "1000000"}


def _program_name() -> str:
    """What the user typed: ``coinflex-sim`` for the script, else the ``python -m`` form."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not name or name in ("__main__.py", "-c"):
        return "python -m coinflex_async.sim"
    return name.removesuffix(".exe")


def _parse_args(argv: Sequence[str] | None, prog: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a local simulated CoinFLEX v2 REST exchange with one funded account.",
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
    parser.add_argument(
        "--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (with --tls-key)"
    )
    parser.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert")
    # A market that moves (RandomMarket; Replay's flags belong here too).
    parser.add_argument(
        "--market",
        choices=("random",),
        help="drive the market: 'random' = a seeded random market on every listed market "
        "(a house market maker and takers; the books then start with its quotes)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --market random (default 0)")
    parser.add_argument(
        "--seed-history",
        metavar="DAYS",
        type=int,
        help="give the funded account a history of the last DAYS days (fills, orders,"
        " funding, mints, redemptions, borrows, repayments) for `coinflex history`",
    )
    _replay_arguments(parser)
    args = parser.parse_args(argv)
    if args.seed_history is not None and args.seed_history < 1:
        parser.error("--seed-history takes a number of days, 1 or more")
    if (args.api_key is None) != (args.api_secret is None):
        parser.error("--api-key and --api-secret go together")
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.replay_market is not None and args.replay is None:
        parser.error("--replay-market goes with --replay")
    if args.replay is not None and args.market is not None:
        parser.error("--replay and --market are two markets: give one")
    return args


# -- replay (--replay FILE --replay-market M [--speed X]) ----------------------------------------


def _replay_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("replay recorded trades as the market")
    group.add_argument(
        "--replay",
        metavar="FILE",
        help="CSV (timestamp,price,quantity,side), Binance trades, or a coinflex recording",
    )
    group.add_argument(
        "--replay-market", metavar="M", help="market to play them in (a recording: its own)"
    )
    group.add_argument(
        "--speed", type=float, default=1.0, help="times the recorded pace (default 1)"
    )


def _replay_market(args: argparse.Namespace) -> Replay | None:
    """The Replay the flags ask for; a bad file is a one-line startup error."""
    if args.replay is None:
        return None
    try:
        return Replay(args.replay, market_code=args.replay_market, speed=args.speed)
    except ReplayError as error:
        raise _StartupError(str(error)) from None


class _StartupError(Exception):
    """Why the simulator could not start, in one line for the user."""


def _server_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if cert is None or key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise _StartupError(f"cannot load --tls-cert/--tls-key: {error}") from None
    return context


def _balances_line(account: SimAccount) -> str:
    return ", ".join(f"{asset} {format_decimal(account.balance(asset))}" for asset in DEMO_BALANCES)


def _market(args: argparse.Namespace) -> MarketDriver | None:
    if args.market == "random":
        return RandomMarket(seed=args.seed)
    return None


def _seed(simulator: Simulator, account: SimAccount, days: int | None) -> str:
    """The account's history of the last ``days`` days (before any trading, as seeding needs),
    described for the banner; nothing without ``--seed-history``."""
    if days is None:
        return ""
    end = time.time_ns() // 1_000_000 - 1
    start = end - days * DAY_MS
    counts = simulator.seed_history(account, start=start, end=end)
    since = datetime.fromtimestamp(start // 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")
    return (
        f"{counts.trades} trades, {counts.orders} orders, {counts.funding_payments} funding"
        f" payments since {since} UTC"
    )


async def _serve(args: argparse.Namespace) -> None:
    rate_limits = None if args.no_rate_limits else DEFAULT_RATE_LIMITS
    try:
        simulator = Simulator(
            args.host,
            args.port,
            rate_limits=rate_limits,
            ssl_context=_server_context(args.tls_cert, args.tls_key),
            market=_replay_market(args) or _market(args),
            liquidity=not args.no_liquidity,
        )
    except ReplayError as error:  # the file is checked when the simulator attaches it
        raise _StartupError(str(error)) from None
    account = simulator.create_account(DEMO_BALANCES, args.api_key, args.api_secret)
    seeded = _seed(simulator, account, args.seed_history)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no add_signal_handler: there Ctrl-C raises KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await simulator.start()
    except OSError as error:
        # Port in use, address not on this machine, no permission: one line, not a traceback.
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise _StartupError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    # What exists now lives as long as the process: kept out of full collections, which then
    # pause a moving market about half as long (docs/guide/performance.md, markets that move).
    gc.freeze()
    try:
        print(f"CoinFLEX simulator listening on {simulator.url}", flush=True)
        print(f"websocket:  {simulator.ws_url}", flush=True)
        print(f"account id: {account.account_id}", flush=True)
        print(f"api key:    {account.api_key}", flush=True)
        print(f"api secret: {account.api_secret}", flush=True)
        print(f"balances:   {_balances_line(account)}", flush=True)
        if args.market == "random":
            print(f"market:     random (seed {args.seed})", flush=True)
        if seeded:
            print(f"history:    {seeded}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        await stop.wait()
    finally:
        await simulator.close()


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; ``prog`` names the command in usage and errors (default:
    what the user typed)."""
    prog = prog or _program_name()
    args = _parse_args(argv, prog)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args))
    except _StartupError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
