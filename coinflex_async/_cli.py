"""``coinflex``: market data, the account and whole-history export from the command line.

Needs the ``cli`` extra (click for the commands, rich for tables and the progress bar):
``pip install "coinflex_async[cli]"``. ``coinflex demo`` and ``coinflex sim`` do not (see
``__main__``). The ``history`` kinds come from the endpoint declarations (``History.cli``).

Exit status: 0 success, 2 bad usage (click's own, and any ValidationError), 1 an error from
the exchange or the network; errors are one line on stderr. Credentials are read from
``COINFLEX_API_KEY``/``COINFLEX_API_SECRET`` only, never from the command line.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import IO, Any, NoReturn, TypeVar

import click
import msgspec

import coinflex_async as cf

from ._endpoints import ENDPOINTS, TIMEFRAMES, Endpoint
from ._validation import MAX_WINDOW_MS

__all__ = ["HISTORY_KINDS", "cli", "parse_time"]

T = TypeVar("T")

BASE_URLS = {"live": cf.LIVE_URL, "test": cf.TEST_URL}
HISTORY_KINDS: dict[str, Endpoint[Any]] = {
    e.history.cli: e for e in ENDPOINTS if e.history is not None and e.history.cli is not None
}
# Which command-line option fills which method parameter.
_OPTION_OF = {"market_code": "market", "asset": "asset", "timeframe": "timeframe"}


class Usage(Exception):
    """Bad usage found after parsing (exit status 2)."""


# -- times -------------------------------------------------------------------------------------


def parse_time(text: str) -> int:
    """``T``: milliseconds since the epoch, an ISO date (midnight UTC) or an ISO date-time (UTC
    unless it names an offset)."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO date (2024-03-01), date-time (2024-03-01T12:00:00Z) or ms"
        ) from None
    return int(moment.timestamp() * 1000)


# click 8.5 made ParamType generic; older releases are not.
class _Time(click.ParamType):  # type: ignore[type-arg, unused-ignore]
    name = "T"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        return parse_time(str(value))


TIME = _Time()


# -- output ------------------------------------------------------------------------------------


def field_names(model: type) -> tuple[str, ...]:
    """The model's attribute names, in declaration order (the CSV header)."""
    names: tuple[str, ...] = model.__struct_fields__  # type: ignore[attr-defined]
    return names


def _plain(value: Any) -> Any:
    """A value as JSON would carry it: Decimal as text, structs as dicts."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, msgspec.Struct):
        return {name: _plain(getattr(value, name)) for name in field_names(type(value))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, dict, msgspec.Struct)):
        return json.dumps(_plain(value), separators=(",", ":"))
    return str(value)


def json_line(item: Any) -> str:
    return json.dumps(_plain(item), separators=(",", ":"))


def show(model: type, items: Iterable[Any], *, as_json: bool, title: str) -> None:
    """Items as a table for people (``_cli_tables``: the columns a person needs, fitted to a
    terminal), or as JSON lines carrying every field for programs."""
    if as_json:
        for item in items:
            click.echo(json_line(item))
        return
    from ._cli_tables import render

    render(model, items, title=title, terminal=sys.stdout.isatty())


# -- the client --------------------------------------------------------------------------------


def _base_url(option: str | None) -> str:
    value = option or os.environ.get("COINFLEX_BASE_URL") or "live"
    return BASE_URLS.get(value, value)


def _client(base_url: str, *, signed: bool) -> cf.Client:
    if not signed:
        return cf.Client(base_url=base_url)
    key = os.environ.get("COINFLEX_API_KEY")
    secret = os.environ.get("COINFLEX_API_SECRET")
    if not key or not secret:
        raise Usage("set COINFLEX_API_KEY and COINFLEX_API_SECRET for account commands")
    return cf.Client(key, secret, base_url=base_url)


def _run(work: Callable[[], Coroutine[Any, Any, object]]) -> None:
    """Run one command; map failures to the exit statuses and one-line messages."""
    try:
        asyncio.run(work())
    except (Usage, cf.ValidationError) as exc:
        _fail(str(exc), 2)
    except BrokenPipeError:
        _reader_gone()
    except cf.CoinFlexError as exc:
        _fail(f"{type(exc).__name__}: {exc}", 1)
    except OSError as exc:  # the output file
        _fail(f"{type(exc).__name__}: {exc}", 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _reader_gone() -> NoReturn:
    """The reader of our output stopped reading (``coinflex markets | head -1``): not an
    error, so exit 0 in silence. Caught where it happens, before click turns it into status 1.
    stdout goes to the null device, so that the interpreter's flush at exit does not fail on
    the closed pipe again (the Python docs' "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(0)


def _fail(message: str, status: int) -> None:
    click.echo(f"coinflex: error: {' '.join(message.split())}", err=True)
    sys.exit(status)


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="JSON lines (one object per item) instead of a table.",
    )(command)
    return click.option(
        "--base-url",
        metavar="URL|live|test",
        help="Exchange URL, or live / test (else $COINFLEX_BASE_URL, else live).",
    )(command)


# -- commands ----------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(cf.__version__, prog_name="coinflex", message="%(prog)s %(version)s")
def cli() -> None:
    """CoinFLEX v2 from the command line: market data, the account, whole histories.

    Account commands read the credentials from COINFLEX_API_KEY and COINFLEX_API_SECRET.
    """


@cli.command()
def demo() -> None:
    """Run the client against the embedded simulator (needs no extra)."""
    from ._demo import run_demo

    _run(run_demo)


@cli.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sim(args: tuple[str, ...]) -> None:
    """Serve the local simulated exchange (python -m coinflex_async.sim; --help for options)."""
    from .sim.__main__ import main as sim_main

    sys.exit(sim_main(list(args), prog="coinflex sim"))


@cli.command()
@_common
def markets(base_url: str | None, as_json: bool) -> None:
    """Every market: tick size, quantity increment, bounds."""

    async def work() -> None:
        async with _client(_base_url(base_url), signed=False) as client:
            show(cf.Market, await client.public.markets(), as_json=as_json, title="markets")

    _run(work)


@cli.command()
@click.argument("market", required=False)
@_common
def ticker(market: str | None, base_url: str | None, as_json: bool) -> None:
    """24-hour statistics of every market, or of MARKET."""

    async def work() -> None:
        async with _client(_base_url(base_url), signed=False) as client:
            items = await client.public.ticker()
        if market is not None:
            items = [t for t in items if t.market_code == market]
            if not items:
                raise Usage(f"no market {market}")
        show(cf.Ticker, items, as_json=as_json, title="ticker")

    _run(work)


@cli.command()
@click.argument("market")
@click.option("--level", default=5, show_default=True, help="Levels a side (any positive number).")
@_common
def depth(market: str, level: int, base_url: str | None, as_json: bool) -> None:
    """The order book of MARKET."""

    async def work() -> None:
        async with _client(_base_url(base_url), signed=False) as client:
            book = await client.public.depth(market, level=level)
        if as_json:
            click.echo(json_line(book))
            return
        rows = [_Side("ask", lv.price, lv.quantity) for lv in reversed(book.asks)]
        rows += [_Side("bid", lv.price, lv.quantity) for lv in book.bids]
        from ._cli_tables import format_time

        when = format_time(book.timestamp)
        show(_Side, rows, as_json=False, title=f"{book.market_code}\n{when} UTC")

    _run(work)


class _Side(msgspec.Struct):
    side: str
    price: Decimal
    quantity: Decimal


@cli.command()
@click.argument("market")
@click.option("--timeframe", default="3600s", show_default=True, type=click.Choice(TIMEFRAMES))
@click.option("--since", type=TIME, help="First candle (T: ISO date/date-time UTC, or ms).")
@click.option("--until", type=TIME, help="Last candle (default now); needs --since.")
@_common
def candles(
    market: str,
    timeframe: str,
    since: int | None,
    until: int | None,
    base_url: str | None,
    as_json: bool,
) -> None:
    """OHLC candles of MARKET: the latest, or every one from --since to --until."""
    if until is not None and since is None:
        raise click.UsageError("--until needs --since")

    async def work() -> None:
        async with _client(_base_url(base_url), signed=False) as client:
            if since is None:
                items = await client.public.candles(market, timeframe=timeframe)
                items.sort(key=lambda c: c.timestamp)
            else:
                walk = client.public.iter_candles(
                    market, timeframe=timeframe, start_time=since, end_time=until
                )
                items = [c async for c in walk]
        show(cf.Candle, items, as_json=as_json, title=f"{market} {timeframe} candles")

    _run(work)


@cli.command()
@_common
def balances(base_url: str | None, as_json: bool) -> None:
    """Every coin balance of the account."""

    async def work() -> None:
        async with _client(_base_url(base_url), signed=True) as client:
            show(cf.Balance, await client.private.balances(), as_json=as_json, title="balances")

    _run(work)


@cli.command()
@_common
def positions(base_url: str | None, as_json: bool) -> None:
    """Every open position of the account."""

    async def work() -> None:
        async with _client(_base_url(base_url), signed=True) as client:
            show(cf.Position, await client.private.positions(), as_json=as_json, title="positions")

    _run(work)


@cli.command()
@_common
def orders(base_url: str | None, as_json: bool) -> None:
    """The account's open (working) orders."""

    async def work() -> None:
        async with _client(_base_url(base_url), signed=True) as client:
            items = await client.private.open_orders()
            show(cf.OpenOrder, items, as_json=as_json, title="open orders")

    _run(work)


@cli.command()
@click.argument("kind", type=click.Choice(sorted(HISTORY_KINDS)))
@click.option("--market", help="Market code (trades, funding-payments, public-trades, ...).")
@click.option("--asset", help="Asset (mint, redeem: flexUSD...; borrow, repay: the collateral).")
@click.option("--timeframe", type=click.Choice(TIMEFRAMES), help="candles: default 3600s.")
@click.option("--since", required=True, type=TIME, help="Start (T: ISO date/date-time, or ms).")
@click.option("--until", type=TIME, help="End, inclusive (default now).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File (default stdout).")
@click.option("--page-size", type=int, help="limit per request (default the largest).")
@click.option("--base-url", metavar="URL|live|test", help="Exchange URL, or live / test.")
def history(
    kind: str,
    market: str | None,
    asset: str | None,
    timeframe: str | None,
    since: int,
    until: int | None,
    fmt: str,
    output: str | None,
    page_size: int | None,
    base_url: str | None,
) -> None:
    """Export the whole history of KIND from --since to --until, oldest first, as CSV (one
    header row of the model's field names) or JSON lines. Progress goes to stderr when it is
    a terminal."""
    endpoint = HISTORY_KINDS[kind]
    given = {"market": market, "asset": asset, "timeframe": timeframe}
    filters: dict[str, Any] = {}
    for param in endpoint.params:
        option = _OPTION_OF.get(param.name)
        value = given.get(option) if option else None
        if value is None and (param.required and param.name != "timeframe"):
            raise click.UsageError(f"history {kind} needs --{option}")
        if value is not None:
            filters[param.name] = value
    taken = {_OPTION_OF.get(p.name) for p in endpoint.params}
    unused = [f"--{name}" for name, v in given.items() if v is not None and name not in taken]
    if unused:
        raise click.UsageError(f"history {kind} takes no {', '.join(unused)}")
    end = until if until is not None else time.time_ns() // 1_000_000

    async def work() -> None:
        with _open(output) as out, _Progress(since, end) as progress:
            async with _client(_base_url(base_url), signed=endpoint.route.signed) as client:
                method = getattr(getattr(client, endpoint.group), f"iter_{endpoint.method}")
                walk: AsyncIterator[Any] = method(
                    **filters,
                    start_time=since,
                    end_time=end,
                    page_size=page_size,
                    prefetch=True,
                    progress=progress.covered,
                )
                write = _writer(fmt, endpoint.item, out)
                async for item in walk:
                    write(item)
                    progress.rows += 1
            out.flush()

    _run(work)


def _writer(fmt: str, model: type, out: IO[str]) -> Callable[[Any], None]:
    if fmt == "jsonl":

        def write_line(item: Any) -> None:
            out.write(json_line(item) + "\n")

        return write_line
    names = field_names(model)
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(names)

    def write_row(item: Any) -> None:
        rows.writerow([_cell(getattr(item, name)) for name in names])

    return write_row


@contextmanager
def _open(path: str | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="") as file:
        yield file


class _Progress:
    """Windows walked, rows, rows/s and ETA on stderr, only when stderr is a terminal."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.rows = 0
        self.windows = max(1, -(-(end - start + 1) // (MAX_WINDOW_MS + 1)))
        self._bar: Any = None
        self._task: Any = None
        self._began = time.monotonic()

    def __enter__(self) -> _Progress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("windows {task.fields[windows]}"),
                BarColumn(),
                TextColumn("{task.fields[rows]} rows, {task.fields[rate]} rows/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(
                "history", total=self.end - self.start + 1, windows="0", rows=0, rate="0"
            )
        return self

    def covered(self, until: int) -> None:
        if self._bar is None:
            return
        done = min(until, self.end) - self.start + 1
        walked = -(-done // (MAX_WINDOW_MS + 1))
        elapsed = max(time.monotonic() - self._began, 1e-9)
        self._bar.update(
            self._task,
            completed=done,
            windows=f"{walked}/{self.windows}",
            rows=self.rows,
            rate=f"{self.rows / elapsed:,.0f}",
        )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


# -- record (coinflex_async._recording does the work) -----------------------------------------

_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``10m``, ``2h``, ``1d``: seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if match is None or float(match.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a duration (90s, 10m, 2h, 1d)")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


@cli.command()
@click.argument("channels", nargs=-1, required=True)
@click.option("--duration", help="Stop after this long (90s, 10m, 2h); default: until Ctrl-C.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="File (.gz: gzip; default stdout)."
)
@click.option("--base-url", metavar="URL|live|test", help="Exchange URL, or live / test.")
def record(
    channels: tuple[str, ...], duration: str | None, output: str | None, base_url: str | None
) -> None:
    """Record every message of CHANNELS (trade:M, depthL25:M, order:all...) as JSON lines
    {"t": receive ns, "msg": raw text}, until --duration or Ctrl-C (what was received is kept).

    Private channels read COINFLEX_API_KEY and COINFLEX_API_SECRET.
    """
    import contextlib
    import signal

    from ._recording import RecordStats, open_output
    from ._recording import record as record_channels
    from ._signing import Credentials

    seconds = parse_duration(duration) if duration is not None else None
    key = os.environ.get("COINFLEX_API_KEY")
    secret = os.environ.get("COINFLEX_API_SECRET")
    credentials = Credentials(key, secret) if key and secret else None
    terminal = sys.stderr.isatty()
    last_line = [time.monotonic()]

    def progress(stats: RecordStats) -> None:
        # A terminal gets a line rewritten each second; a log gets one every 10 s.
        now = time.monotonic()
        if not terminal and now - last_line[0] < 10:
            return
        last_line[0] = now
        end = "\r" if terminal else "\n"
        text = (
            f"recorded {stats.messages:,} messages, {stats.bytes / 1024:,.0f} KiB "
            f"in {now - stats.started:,.0f} s"
        )
        click.echo(text + (f", {stats.reconnects} reconnects" if stats.reconnects else ""),
                   err=True, nl=False)  # fmt: skip
        click.echo(end, err=True, nl=False)

    def subscribed() -> None:
        where = output or "stdout"
        click.echo(f"recording {', '.join(channels)} to {where} (Ctrl-C to stop)", err=True)

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Ctrl-C and SIGTERM end the recording cleanly: flushed, the gzip trailer written.
        # (Windows has no add_signal_handler: there Ctrl-C cancels the run, and the file is
        # still closed by the finally below.)
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        out = open_output(output)
        try:
            stats = await record_channels(
                _base_url(base_url), channels, out, duration=seconds, credentials=credentials,
                stop=stop, progress=progress, subscribed=subscribed,
            )  # fmt: skip
        finally:
            if out is not sys.stdout.buffer:
                out.close()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.remove_signal_handler(signum)
        if terminal:
            click.echo(err=True)  # past the progress line
        click.echo(
            f"recorded {stats.messages:,} messages ({stats.bytes:,} bytes) to {output or 'stdout'}",
            err=True,
        )

    _run(work)


def main(argv: list[str] | None = None) -> int:
    """Run ``coinflex``; returns the exit status. Output into a pipe whose reader has stopped
    reading (``coinflex markets | head -1``) ends the command quietly with status 0."""
    try:
        status = _main(argv)
        # Flushed here, so that a reader gone while the last lines waited in the buffer is met
        # below rather than by the interpreter's flush at exit (a message and status 120).
        sys.stdout.flush()
    except BrokenPipeError:
        _reader_gone()
    return status


def _main(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, prog_name="coinflex", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("coinflex: error: aborted", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0
