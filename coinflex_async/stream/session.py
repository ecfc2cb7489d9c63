"""The conversation on the connection: tagged asks and their answers, login, subscribe,
unsubscribe, commands sent once on a logged-in connection (waiting out a reconnect: see
``retries``), restoring login and channels after a reconnect. Before login messages are paced
(``pacing``)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .._errors import AuthenticationError, TransportError, error_from_code
from .._transport import RetryPolicy
from .channel import Channel
from .connection import Connection, Socket
from .context import StreamContext
from .pacing import Pacing
from .protocol import RATE_CODES, Frame, Table, encode, login_message, text
from .readers import Deferred, Subscription
from .resync import backfill, resync
from .retries import ask_again, on_next_connection
from .routing import Router

__all__ = ["Session"]

log = logging.getLogger("coinflex_async")


class _Waiter:
    """The answers expected for one tag (a batch command gets one per order)."""

    __slots__ = ("expected", "frames", "future")

    def __init__(self, future: asyncio.Future[list[Frame]], expected: int) -> None:
        self.future = future
        self.expected = expected
        self.frames: list[Frame] = []


class Session:
    """Asks and answers on one stream's connection (across reconnects)."""

    def __init__(
        self, context: StreamContext, connection: Connection, router: Router, policy: RetryPolicy
    ) -> None:
        self._context = context
        self._connection = connection
        self._router = router
        self._policy = policy
        self._url = connection.url
        self._tags = itertools.count(1)
        self._waiters: dict[str, _Waiter] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._login_lock = asyncio.Lock()
        self._pacing = Pacing(connection.url, lambda: connection.stopped)
        self._logged_in_on: Socket | None = None  # the connection that is logged in
        # Channels of subscribe calls waiting to go out together (see _subscribe_together).
        self._batch: list[Channel] = []
        self._batch_sender: asyncio.Task[None] | None = None
        self._wants_login = False  # log in again after a reconnect

    # -- asks and answers ---------------------------------------------------------------------

    def answer(self, frame: Frame) -> None:
        """A tagged frame from the router: one of the answers an ask waits for."""
        tag = str(frame.tag)
        waiter = self._waiters.get(tag)
        if waiter is None:
            return  # a late answer (its command timed out) or an unsubscribe's
        waiter.frames.append(frame)
        if len(waiter.frames) >= waiter.expected:
            del self._waiters[tag]
            if not waiter.future.done():
                waiter.future.set_result(waiter.frames)

    def lost(self) -> None:
        """The connection dropped: every ask in flight ends (its answer cannot come)."""
        self._logged_in_on = None
        self._fail_waiters(TransportError("the WebSocket connection was lost", request_sent=True))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._fail_waiters(TransportError("the stream was closed", request_sent=True))

    def _fail_waiters(self, error: BaseException) -> None:
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            if not waiter.future.done():
                waiter.future.set_exception(error)
                waiter.future.exception()  # mark retrieved: its caller may have gone

    async def ask(
        self,
        ws: Socket,
        message: dict[str, Any],
        expected: int = 1,
        what: str = "",
        leaving: Callable[[], None] | None = None,
    ) -> list[Frame]:
        """Send one tagged message; wait for its ``expected`` answers (at most ``timeout``).
        ``leaving`` runs just before the message goes (order recovery's mark)."""
        # A connection already lost fails at once: its asks must not queue for pacing or the
        # login lock ahead of the next connection's (a reconnect's login waited behind them).
        if not self._connection.is_live(ws):
            raise TransportError(f"WebSocket {what}: the connection was lost", request_sent=False)
        if self._logged_in_on is not ws:
            await self._pacing.take(ws)  # before login: one message a second
        tag = str(next(self._tags))
        message["tag"] = tag
        future: asyncio.Future[list[Frame]] = asyncio.get_running_loop().create_future()
        self._waiters[tag] = _Waiter(future, expected)
        timeout = self._context.timeout
        try:
            payload = encode(message).decode()
            if leaving is not None:
                leaving()
            await self._connection.send(ws, payload, what)
            try:
                return await asyncio.wait_for(asyncio.shield(future), timeout)
            except asyncio.TimeoutError:
                raise TransportError(f"WebSocket {what}: no answer within {timeout} s") from None
        finally:
            self._waiters.pop(tag, None)
            if not future.done():
                future.cancel()

    # -- commands that wait out a reconnect ----------------------------------------------------

    def _deadline(self) -> Callable[[], float]:
        """A subscribe waits for a connection at most ``timeout`` from now."""
        deadline = time.monotonic() + self._context.timeout
        return lambda: deadline

    async def command(
        self,
        message: Callable[[], dict[str, Any]],
        expected: int,
        what: str,
        *,
        patience: float,
        before: Callable[[], Awaitable[None]] | None = None,
        leaving: Callable[[], None] | None = None,
    ) -> list[Frame]:
        """Send a command once on a logged-in connection and wait for its ``expected``
        answers. While the connection is down, reconnecting or logging in again, it waits for
        the next one, at most ``patience`` seconds from the call or, once ``before()`` (taking
        rate-limit tokens, once) is done, from then. ``message()`` builds it just before it
        goes (its timestamps). Once it may have left, its errors are the caller's (a lost
        answer: ``TransportError`` with ``request_sent``)."""
        since = time.monotonic()
        ready = before is None
        own: list[BaseException] = []  # errors of ``before``: not the connection's to retry

        async def attempt(ws: Socket) -> list[Frame]:
            nonlocal since, ready
            await self._login_before(ws, what)
            if not ready:
                assert before is not None
                try:
                    await before()
                except BaseException as error:
                    own.append(error)
                    raise
                since, ready = time.monotonic(), True
            return await self.ask(ws, message(), expected, what, leaving)

        connection, policy = self._connection, self._policy
        return await on_next_connection(
            connection, policy, attempt, lambda: since + patience, what, final=own.__contains__
        )

    async def _login_before(self, ws: Socket, what: str) -> None:
        """Log ``ws`` in before ``what``; a login lost with its connection is ``what`` not
        sent (it goes on the next connection)."""
        try:
            await self.login(ws)
        except TransportError as error:
            raise TransportError(
                f"WebSocket {what}: not sent, logging in failed ({error})", request_sent=False
            ) from error

    # -- login --------------------------------------------------------------------------------

    async def login(self, ws: Socket, what: str = "private channels and order commands") -> None:
        """Log this connection in (once), signed as the docs say."""
        credentials = self._context.credentials
        if credentials is None:
            raise AuthenticationError(
                f"{what} need api_key and api_secret", status=None, endpoint="WebSocket login"
            )
        async with self._login_lock:
            if self._logged_in_on is ws and ws is self._connection.ws:
                return
            message = login_message(credentials, time.time_ns() // 1_000_000)

            async def ask() -> Frame:
                (answer,) = await self.ask(ws, dict(message), what="login")
                return answer

            reply = await ask_again(self._connection, self._policy, ws, ask, _too_rapid, "login")
            if not reply.success and text(reply.code) != "20005":  # 20005: already logged in
                error = error_from_code(text(reply.code), reply.message, endpoint="WebSocket login")
                if not isinstance(error, AuthenticationError):
                    error = AuthenticationError(
                        error.message, status=None, code=error.code, endpoint="WebSocket login"
                    )
                raise error
            self._logged_in_on = ws
            self._wants_login = True

    # -- subscriptions ------------------------------------------------------------------------

    async def join(self, reader: Subscription[Any], tables: list[Table]) -> None:
        """Put ``reader`` on its channels, subscribing those new to the stream; returns once
        the exchange acknowledged each (a refusal raises, and ``reader`` leaves them all)."""
        new: list[Channel] = []
        joined: list[Channel] = []
        for name, table in zip(reader.channels, tables, strict=True):
            channel, is_new = self._router.join(name, table, reader)
            (new if is_new else joined).append(channel)
        try:
            if new:
                private = any(c.table.private for c in new)

                async def enqueue(ws: Socket) -> None:
                    if private:
                        await self._login_before(ws, "subscribe")
                    # Those a reconnect's restore subscribed meanwhile are not asked for again.
                    self._subscribe_together(ws, [c for c in new if not c.confirmed.done()])

                connection, policy = self._connection, self._policy
                await on_next_connection(connection, policy, enqueue, self._deadline(), "subscribe")
            # Wait for each channel's acknowledgement (a refusal raises its error), whoever
            # asked for it.
            for channel in (*new, *joined):
                await asyncio.shield(channel.confirmed)
        except BaseException:
            await self.leave(reader, quiet=True)
            raise

    def _subscribe_together(self, ws: Socket, channels: list[Channel]) -> None:
        """Subscribe ``channels`` in the next subscribe message: the calls made while one
        message waits for its turn (the pre-login pacing holds messages a second apart) go
        out together in it. Each channel's ``confirmed`` tells how it went."""
        self._batch.extend(channels)
        sender = self._batch_sender
        if sender is None or sender.done():
            self._batch_sender = self._spawn(self._send_batch(ws))

    async def _send_batch(self, ws: Socket) -> None:
        try:
            if self._logged_in_on is not ws:
                await self._pacing.until_free(ws)
        finally:
            # Taken at the last moment: what was asked for while waiting goes too. A new call
            # from here on starts the next message.
            batch, self._batch = self._batch, []
            self._batch_sender = None
        connection = self._connection

        async def subscribe(on: Socket) -> None:
            # Channels whose every reader left meanwhile, or that a reconnect's restore
            # subscribed (every channel of the router), are not asked for.
            todo = [
                c
                for c in batch
                if not c.confirmed.done() and self._router.channels.get(c.name) is c
            ]
            if not todo:
                return
            try:
                await self._subscribe_on(on, todo)  # refusals are set on their channels
            except TransportError as error:
                if connection.is_live(on):
                    raise
                # Lost with its connection: asked for again on the next one (subscribing is
                # safe to repeat).
                raise TransportError(f"WebSocket subscribe: {error}", request_sent=False) from error

        try:
            await on_next_connection(
                connection, self._policy, subscribe, self._deadline(), "subscribe", first=ws
            )
        except Exception as error:
            for channel in batch:
                if not channel.confirmed.done():
                    channel.confirmed.set_exception(error)
                    channel.confirmed.exception()  # retrieved: its callers may have gone

    async def _subscribe_on(self, ws: Socket, channels: list[Channel]) -> list[BaseException]:
        """Subscribe ``channels`` in one message (before login the exchange takes one message a
        second); the refusals, each also set on its channel. The exchange answers each channel
        in turn; a refusal does not name its channel, so answers are matched in order. Those
        refused as too rapid are asked for again (``_ask_again``)."""
        remaining = list(channels)
        errors: list[BaseException] = []

        async def ask() -> list[tuple[Channel, Frame]]:
            """One subscribe message for ``remaining``; the refusals as too rapid."""
            nonlocal remaining
            message = {"op": "subscribe", "args": [c.name for c in remaining]}
            answers = await self.ask(ws, message, len(remaining), "subscribe")
            too_rapid: list[tuple[Channel, Frame]] = []
            waiting = list(remaining)
            for frame in answers:
                named = frame.channel if isinstance(frame.channel, str) else None
                channel = next((c for c in waiting if c.name == named), None) or waiting[0]
                waiting.remove(channel)
                if frame.success:
                    channel.confirm(frame.timestamp)
                elif _too_rapid(frame):
                    too_rapid.append((channel, frame))
                else:
                    errors.append(_refuse(channel, frame))
            remaining = [channel for channel, _ in too_rapid]
            return too_rapid

        connection, policy = self._connection, self._policy
        still_refused = await ask_again(connection, policy, ws, ask, bool, "subscribe")
        errors.extend(_refuse(channel, frame) for channel, frame in still_refused)
        return errors

    async def leave(self, reader: Subscription[Any], *, quiet: bool = False) -> None:
        """Take ``reader`` off its channels; unsubscribe those nobody reads any more."""
        gone = self._router.leave(reader)
        ws = self._connection.ws
        if gone and ws is not None and self._connection.is_live(ws):
            # Nobody waits for the acknowledgement: an unknown tag's answer is ignored.
            message = {"op": "unsubscribe", "tag": str(next(self._tags)), "args": gone}
            try:
                await self._connection.send(ws, encode(message).decode(), "unsubscribe")
            except TransportError as exc:
                if not quiet:
                    log.debug("stream %s: unsubscribe not sent: %s", self._url, exc)

    # -- after a reconnect --------------------------------------------------------------------

    async def restore(self, ws: Socket) -> None:
        """Log in again, subscribe every channel again; private channels then yield a fresh
        snapshot, trade channels their backfill, before new updates."""
        if self._wants_login:
            await self.login(ws)
        channels = list(self._router.channels.values())
        if not channels:
            return
        loop = asyncio.get_running_loop()
        for channel in channels:
            if not (channel.table.private or channel.is_trade):
                continue
            if channel.pending is None or channel.pending.done():
                # In each reader's queue before any update of the new connection can arrive.
                channel.pending = loop.create_future()
                deferred = Deferred(channel.pending)
                for reader in channel.readers:
                    reader.put_deferred(deferred)
        errors = await self._subscribe_on(ws, channels)
        for channel in channels:
            if channel.refused is not None:
                for reader in channel.readers:
                    reader.end(channel.refused)
                if channel.pending is not None and not channel.pending.done():
                    channel.pending.set_result([])
        private = [c for c in channels if c.table.private and c.refused is None]
        if private:
            self._spawn(resync(private, self._context.snapshot))
        for channel in channels:
            if channel.is_trade and channel.refused is None:
                self._spawn(backfill(channel, self._context.trades_page))
        if errors:
            log.warning("stream %s: resubscribing refused: %s", self._url, errors[0])

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _too_rapid(reply: Frame) -> bool:
    """An answer refusing a request as too rapid (not applied: it may be asked again)."""
    return not reply.success and text(reply.code) in RATE_CODES


def _refuse(channel: Channel, frame: Frame) -> BaseException:
    """The exchange refused ``channel``: its error, also set on the channel."""
    refusal = error_from_code(
        text(frame.code), frame.message, endpoint=f"WebSocket subscribe {channel.name}"
    )
    channel.refuse(refusal)
    return refusal
