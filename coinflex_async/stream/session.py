"""The conversation on the connection: tagged asks and their answers, login, subscribe,
unsubscribe, restoring login and channels after a reconnect, and the exchange's pacing of a
connection that is not logged in (one message per second)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

from .._errors import AuthenticationError, TransportError, error_from_code
from .._transport import RetryPolicy
from .channel import Channel
from .connection import Connection, Socket
from .context import StreamContext
from .protocol import RATE_CODES, Frame, Table, encode, login_message, text
from .readers import Deferred, Subscription
from .resync import backfill, resync
from .routing import Router

__all__ = ["UNAUTH_GAP", "Session"]

log = logging.getLogger("coinflex_async")

UNAUTH_GAP = 1.05  # seconds between messages before login (the exchange: 1 per second)


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
        self._pace_lock = asyncio.Lock()
        self._unauth_sent_at = -UNAUTH_GAP
        self._logged_in_on: Socket | None = None  # the connection that is logged in
        # Channels of subscribe calls waiting to go out together (see _subscribe_together).
        self._batch: list[Channel] = []
        self._batch_sender: asyncio.Task[None] | None = None
        self._told_pacing = False  # the INFO line on the pre-login pacing, once per stream
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
        await self._pace(ws)
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

    async def _ask_again(self, ws: Socket, message: dict[str, Any], what: str) -> Frame:
        """``ask`` for a request that is safe to repeat (login): an answer lost or refused as
        too rapid is asked again, within the retry policy's attempts."""
        policy = self._policy
        attempt = 0
        while True:
            attempt += 1
            try:
                (reply,) = await self.ask(ws, dict(message), what=what)
            except TransportError as error:
                if attempt >= policy.attempts or ws is not self._connection.ws:
                    raise
                log.info("stream %s: %s: %s; asking again", self._url, what, error)
                continue
            if reply.success or text(reply.code) not in RATE_CODES or attempt >= policy.attempts:
                return reply
            await asyncio.sleep(max(UNAUTH_GAP, policy.wait_after(None, attempt)))

    async def _pace(self, ws: Socket) -> None:
        """Before login the exchange takes one message per second per connection: wait for
        the next free second (login itself lifts the limit to 50 per second)."""
        if self._logged_in_on is ws:
            return
        async with self._pace_lock:
            await self._until_free_second(ws)
            self._unauth_sent_at = asyncio.get_running_loop().time()

    async def _until_free_second(self, ws: Socket) -> None:
        """Wait until a message may go on ``ws`` under the pre-login pacing."""
        if self._logged_in_on is ws:
            return
        wait = self._unauth_sent_at + UNAUTH_GAP - asyncio.get_running_loop().time()
        if wait <= 0:
            return
        if not self._told_pacing:
            self._told_pacing = True
            log.info(
                "stream %s: not logged in, so the exchange takes one message per second on this "
                "connection; waiting %.2f s (subscriptions asked for meanwhile go out together "
                "in one message; a stream with credentials lifts this by logging in)",
                self._url,
                wait,
            )
        await asyncio.sleep(wait)

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
            reply = await self._ask_again(ws, message, "login")
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
                ws = await self._connection.until_ready()
                if any(c.table.private for c in new):
                    await self.login(ws)
                self._subscribe_together(ws, new)
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
            await self._until_free_second(ws)
        finally:
            # Taken at the last moment: what was asked for while waiting goes too. A new call
            # from here on starts the next message.
            batch, self._batch = self._batch, []
            self._batch_sender = None
        # Channels whose every reader left while the message waited are not asked for.
        batch = [c for c in batch if self._router.channels.get(c.name) is c]
        if not batch:
            return
        try:
            await self._subscribe_on(ws, batch)  # refusals are set on their channels
        except Exception as error:
            for channel in batch:
                if not channel.confirmed.done():
                    channel.confirmed.set_exception(error)
                    channel.confirmed.exception()  # retrieved: its callers may have gone

    async def _subscribe_on(self, ws: Socket, channels: list[Channel]) -> list[BaseException]:
        """Subscribe ``channels`` in one message (before login the exchange takes one message a
        second); the refusals, each also set on its channel. The exchange answers each channel
        in turn; a refusal does not name its channel, so answers are matched in order."""
        policy = self._policy
        remaining = list(channels)
        errors: list[BaseException] = []
        attempt = 0
        while remaining:
            attempt += 1
            message = {"op": "subscribe", "args": [c.name for c in remaining]}
            try:
                answers = await self.ask(ws, message, len(remaining), "subscribe")
            except TransportError as error:
                if attempt >= policy.attempts or ws is not self._connection.ws:
                    raise
                log.info("stream %s: subscribe: %s; asking again", self._url, error)
                continue
            refused: list[tuple[Channel, Frame]] = []
            waiting = list(remaining)
            for frame in answers:
                named = frame.channel if isinstance(frame.channel, str) else None
                channel = next((c for c in waiting if c.name == named), None) or waiting[0]
                waiting.remove(channel)
                if frame.success:
                    channel.confirm(frame.timestamp)
                else:
                    refused.append((channel, frame))
            remaining = []
            for channel, frame in refused:
                code = text(frame.code)
                if code in RATE_CODES and attempt < policy.attempts:
                    remaining.append(channel)  # too rapid: ask again after the wait
                    continue
                refusal = error_from_code(
                    code, frame.message, endpoint=f"WebSocket subscribe {channel.name}"
                )
                channel.refuse(refusal)
                errors.append(refusal)
            if remaining:
                await asyncio.sleep(max(UNAUTH_GAP, policy.wait_after(None, attempt)))
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
