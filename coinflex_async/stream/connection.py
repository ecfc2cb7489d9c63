"""The only code that touches aiohttp's WebSocket: connect, reconnect, reading frames (and
lending the reading to a waiting reader), sending text; its keep-alive is ``keepalive``'s.

One task per connection reads the frames and hands each to ``dispatch`` (the router); nothing
in that path waits for a reader, so a slow reader never stalls the socket. A reader waiting in
``async for`` may read the frames already received in its own task instead (``_lend``: cheaper,
each event used as it is built), giving the socket back as soon as its task awaits anything
else. After a drop (or ``ping_interval * 1.5`` seconds without a frame, not even the answer to
a ping) the connection is reopened through the one retry engine (``_retry.run``: the
``RetryPolicy``'s jittered waits, growing while attempts fail) and ``restore`` runs on it
before it counts as ready; a drop while restoring fails that attempt at once. Commands wait
for a ready connection with ``until_ready`` (through any number of failed attempts)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sized
from typing import Any, cast

import aiohttp

from .._errors import ClientClosedError, CoinFlexError, StreamClosedError, TransportError
from .._retry import FOREVER, run, sleep_unless
from .._transport import RetryPolicy
from .keepalive import SEND_ERRORS, keep_alive
from .readers import Subscription
from .readiness import Readiness

__all__ = ["RAW_TEXT", "WS_OPTIONS", "Connection", "received_frames"]

log = logging.getLogger("coinflex_async")

# aiohttp 3.14 on can hand text frames over undecoded (``decode_text=False``): msgspec reads the
# bytes as they are, and the UTF-8 decode to str that nothing here needs was ~1% of a trade's
# instructions (README). Before 3.14 text frames arrive as str and are encoded back
# (Router.dispatch_str).
RAW_TEXT = "decode_text" in inspect.signature(aiohttp.ClientSession.ws_connect).parameters
WS_OPTIONS: dict[str, Any] = {"decode_text": False} if RAW_TEXT else {}

_TEXT = aiohttp.WSMsgType.TEXT
_BINARY = aiohttp.WSMsgType.BINARY
_CLOSED = frozenset({aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED})

Socket = aiohttp.ClientWebSocketResponse
_Tasks = tuple["asyncio.Task[None]", "asyncio.Task[None]"]  # a connection's reader and watchdog


def received_frames(ws: Socket) -> Sized:
    """aiohttp's queue of the frames it received and nobody read yet, to tell whether a read
    would wait. Not a public attribute: if a later aiohttp has no such queue, an empty tuple
    stands for it and readers never read the socket themselves (see Connection._lend)."""
    buffer = getattr(getattr(ws, "_reader", None), "_buffer", None)
    return buffer if isinstance(buffer, Sized) else ()


class Connection:
    """One WebSocket to ``url``, reopened until closed (implements ``readers.Lender``)."""

    def __init__(
        self,
        url: str,
        *,
        get_session: Callable[[], aiohttp.ClientSession],
        timeout: float,
        ping_interval: float,
        policy: RetryPolicy,
        dispatch: Callable[[bytes], bool],
        dispatch_str: Callable[[str], bool],
        restore: Callable[[Socket], Awaitable[None]],
        lost: Callable[[], None],
    ) -> None:
        self.url = url
        self.ping_interval = ping_interval
        self.reconnects = 0
        self.ws: Socket | None = None  # the live connection (None while down)
        self._get_session = get_session
        self._timeout = timeout
        self._policy = policy
        self._dispatch = dispatch
        # Text frames: bytes from aiohttp 3.14 on, str before (see RAW_TEXT).
        self._dispatch_text: Callable[[Any], bool] = dispatch if RAW_TEXT else dispatch_str
        self._restore = restore
        self._lost = lost
        self._ready = Readiness()  # the connection up and restored, and the next one
        self._stop: asyncio.Future[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        # Frames received on this connection: the keep-alive watches it change (a count, not a
        # clock read per frame, which cost a trade ~1% more instructions).
        self._frames = 0
        # A reader's task reading frames already received itself (see _lend).
        self._received: Sized = ()  # aiohttp's queue of frames received, not yet read
        self._may_lend_to: Subscription[Any] | None = None  # the reader that last waited
        self._reader_turn: Subscription[Any] | None = None  # the reader reading now
        self._turn: asyncio.Future[None] | None = None  # the socket's task waits on it
        self._turn_reading = False  # the reader is inside ws.receive()
        self._check_again = False  # _check_turn came while it was

    @property
    def ready(self) -> bool:
        """Up and restored (logged in, channels subscribed again)."""
        return self._ready.ws is not None

    @property
    def stopped(self) -> asyncio.Future[None]:
        """Done once the connection is closed for good."""
        assert self._stop is not None
        return self._stop

    async def open(self) -> None:
        """Connect (the first connection's failure is raised as TransportError)."""
        loop = asyncio.get_running_loop()
        self._stop = loop.create_future()
        ws = await self._connect()
        tasks = self._start(ws)
        self._ready.up(ws)
        self._runner = loop.create_task(self._run(ws, tasks), name="coinflex_async stream")

    async def close(self) -> None:
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
        ws, self.ws = self.ws, None
        self._ready.ws = None
        if ws is not None:
            await ws.close()
        if runner is not None:
            await asyncio.gather(runner, return_exceptions=True)

    async def until_ready(
        self, deadline: float | None = None, *, not_on: Socket | None = None
    ) -> Socket:
        """The live, restored connection, waiting for the next one while the connection is
        down, reconnecting or restoring (through any number of failed attempts) until
        ``deadline`` (``time.monotonic()``; default ``timeout`` from now). ``not_on``: a
        connection a command just failed on, so not to be used again."""
        stop = self.stopped
        if not stop.done():
            if deadline is None:
                deadline = time.monotonic() + self._timeout
            ws = await self._ready.wait(stop, deadline, not_on)
            if ws is not None:
                return ws
        if stop.done():
            raise StreamClosedError("the stream is closed")
        raise TransportError(
            f"WebSocket {self.url}: not connected (reconnecting)", request_sent=False
        )

    async def send(self, ws: Socket, text: str, what: str) -> None:
        """Send one text frame on ``ws``; TransportError (nothing sent) if it cannot go."""
        try:
            await ws.send_str(text)
        except SEND_ERRORS as exc:
            raise TransportError(
                f"WebSocket {what}: could not send ({exc})", request_sent=False
            ) from exc

    def is_live(self, ws: Socket) -> bool:
        """Whether ``ws`` is still the connection in use (not replaced by a reconnect)."""
        return ws is self.ws and not ws.closed

    async def _connect(self) -> Socket:
        try:
            session = self._get_session()
        except ClientClosedError as exc:
            raise StreamClosedError(str(exc)) from None
        try:
            ws = await session.ws_connect(
                self.url,
                autoping=True,
                # A close waits this long for the server's close frame: a stalled server's
                # never comes.
                timeout=aiohttp.ClientWSTimeout(ws_close=min(self._timeout, 1.0)),
                max_msg_size=0,
                **WS_OPTIONS,
            )
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise TransportError(
                f"WebSocket {self.url}: cannot connect ({type(exc).__name__}: {exc})",
                request_sent=False,
            ) from exc
        return cast("Socket", ws)  # the type says str; see RAW_TEXT

    # -- connection after connection ---------------------------------------------------------

    def _start(self, ws: Socket) -> _Tasks:
        """Read ``ws`` and keep it alive: its reader and watchdog tasks."""
        loop = asyncio.get_running_loop()
        self.ws = ws
        self._frames = 0
        watchdog = keep_alive(ws, self.ping_interval, lambda: self._frames, self.url)
        return loop.create_task(self._read(ws)), loop.create_task(watchdog)

    async def _end(self, ws: Socket, tasks: tuple[asyncio.Task[None], ...]) -> None:
        """``ws`` is gone (or given up): stop its tasks, fail what waited on it."""
        self._ready.down(ws)
        for task in tasks:
            task.cancel()
        if self.ws is ws:
            self.ws = None
        self._lost()
        await ws.close()

    async def _run(self, ws: Socket, tasks: _Tasks) -> None:
        """Serve connection after connection until closed: each one until it drops, then the
        next one from ``_retry.run`` (the policy's waits, growing while attempts fail)."""
        stop = self.stopped

        async def pause(seconds: float) -> None:
            await sleep_unless(seconds, stop)

        while not stop.done():
            await self._serve(ws, tasks)
            lost = TransportError(f"WebSocket {self.url}: connection lost", request_sent=False)
            try:
                ws, tasks = await run(
                    self._reopen,
                    self._policy,
                    attempts=FOREVER,
                    # Attempt 1 is the connection just lost: the first wait comes before any.
                    failed=lost,
                    retry_on=lambda e: (
                        isinstance(e, CoinFlexError)
                        and not isinstance(e, StreamClosedError)
                        and not stop.done()
                    ),
                    sleep=pause,
                    name=f"WebSocket reconnect {self.url}",
                )
            except CoinFlexError:
                return  # the stream or the client closed; its close() closes this
            self.reconnects += 1
            log.info("stream %s: reconnected", self.url)

    async def _serve(self, ws: Socket, tasks: _Tasks) -> None:
        """Until ``ws`` drops (its reader returns)."""
        try:
            await tasks[0]
        except Exception as error:  # a reader that failed: the next connection reads
            log.warning("stream %s: reading the connection failed: %r", self.url, error)
        finally:
            await self._end(ws, tasks)

    async def _reopen(self) -> tuple[Socket, _Tasks]:
        """One reconnect attempt: connect, then restore (log in, subscribe again) while the
        connection is read; ready once restored. A drop while restoring ends the attempt at
        once (the restore's asks would otherwise wait out their timeout)."""
        if self.stopped.done():
            raise StreamClosedError("the stream is closed")
        try:
            ws = await self._connect()
        except TransportError as error:
            log.info("stream %s: reconnect failed: %s", self.url, error)
            raise
        tasks = self._start(ws)
        restoring = asyncio.ensure_future(self._restore(ws))
        try:
            await asyncio.wait((restoring, tasks[0]), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled: the stream is closing
            restoring.cancel()
            await self._end(ws, tasks)
            raise
        if not restoring.done():  # dropped while restoring
            restoring.cancel()
            await asyncio.gather(restoring, return_exceptions=True)
        failure = None if restoring.cancelled() else restoring.exception()
        if failure is None and not tasks[0].done():
            self._ready.up(ws)
            return ws, tasks
        await self._end(ws, tasks)
        if failure is None:
            failure = TransportError(
                f"WebSocket {self.url}: the connection was lost while restoring",
                request_sent=False,
            )
        log.warning("stream %s: restoring the connection failed: %s", self.url, failure)
        raise failure

    async def _read(self, ws: Socket) -> None:
        dispatch_text = self._dispatch_text
        self._received = received = received_frames(ws)
        receive = ws.receive
        while True:
            message = await receive()
            kind = message.type
            if kind in _CLOSED:
                break
            self._frames += 1
            if kind is _TEXT:
                built_large = dispatch_text(message.data)
            elif kind is _BINARY:
                built_large = self._dispatch(message.data)
            else:
                continue
            if built_large:
                # Let readers take a big update built here while it is still in the CPU's
                # cache, instead of building a whole socket buffer of them first.
                await asyncio.sleep(0)
            reader = self._may_lend_to
            if reader is not None and received and reader.parked_with_events:
                await self._lend(reader)
        if ws.exception() is not None:
            log.info("stream %s: connection lost: %s", self.url, ws.exception())

    # -- lending the socket to a waiting reader (readers.Lender) -----------------------------

    async def _lend(self, reader: Subscription[Any]) -> None:
        """Let ``reader``'s task read the frames already received, one as it takes each event,
        and wait until it gives the socket back.

        Handing events from this task to the reader's costs small updates about 15% more CPU
        (``benchmarks.ws`` when this was added: trades and order updates at 1.35-1.47x the
        typed floor this way, 1.57-1.69x handed over): a socket read's worth of events is built
        and queued before the first is used.

        The reader reads only frames already received, so a read returns at once, except when
        the last one is a ping (its answer may wait for the socket, and the read then waits
        for the next frame, as the socket's task would). With none left it gives the socket
        back and waits for its queue as usual. If its task stops anywhere else while it holds
        the socket (its ``async for`` body awaits something), the socket is taken back at once
        (``_check_turn``), so other readers, command replies and pings are never held up by a
        busy reader."""
        loop = asyncio.get_running_loop()
        self._may_lend_to = None
        self._reader_turn = reader
        self._turn = turn = loop.create_future()
        # Runs after the reader's task (woken before this) next stops, wherever that is.
        loop.call_soon(self._check_turn, turn)
        try:
            await turn
        finally:
            self._reader_turn = None
            self._turn = None
            self._check_again = False

    def has_turn(self, reader: Subscription[Any]) -> bool:
        return self._reader_turn is reader

    def park(self, reader: Subscription[Any]) -> None:
        self._may_lend_to = reader

    def release(self, reader: Subscription[Any]) -> None:
        if self._reader_turn is reader:
            self._take_turn_back()

    async def read_in_turn(self, reader: Subscription[Any]) -> bool:
        ws = self.ws
        if ws is None or not self._received:
            self._take_turn_back()
            return False
        self._turn_reading = True
        try:
            message = await ws.receive()
        finally:
            self._turn_reading = False
            if self._reader_turn is not reader or self._check_again:
                self._turn_read()
        kind = message.type
        if kind is _TEXT:
            self._frames += 1
            self._dispatch_text(message.data)
        elif kind in _CLOSED:
            self._take_turn_back()  # the socket's task sees the close too and reconnects
        else:
            self._frames += 1
            if kind is _BINARY:
                self._dispatch(message.data)
        return True

    def _check_turn(self, turn: asyncio.Future[None]) -> None:
        if turn is not self._turn or turn.done():
            return
        if self._turn_reading:
            # Waiting inside ws.receive() (a ping's answer may wait for the socket): check
            # again when that read returns.
            self._check_again = True
            return
        self._take_turn_back()

    def _take_turn_back(self) -> None:
        """The socket's task reads again (once the reader is out of ws.receive())."""
        self._reader_turn = None
        if not self._turn_reading and (turn := self._turn) is not None and not turn.done():
            turn.set_result(None)

    def _turn_read(self) -> None:
        """A reader's ws.receive() returned (or raised): follow up what came meanwhile."""
        if self._reader_turn is None:
            self._take_turn_back()  # taken back while it read: hand over now
        elif self._check_again and (turn := self._turn) is not None:
            self._check_again = False
            asyncio.get_running_loop().call_soon(self._check_turn, turn)
