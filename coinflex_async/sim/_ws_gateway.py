"""The WebSocket gateway at ``/v2/websocket``: handshake limits and faults, the request loop
(login, subscribe, unsubscribe, order commands), keep-alive, and the push rounds.

It shares the engine with the REST endpoints and hears every change through the engine's
listener hook, so an order placed over REST shows on the order channel and one placed here
in GET /v2.1/orders.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from . import _wire_ws as wire
from ._auth import signature_for
from ._clock import Clock
from ._engine import Engine
from ._errors import SimError
from ._faults import FaultPlan
from ._limits import SimStats
from ._ws_channels import Channels
from ._ws_commands import CommandResult, OrderCommands
from ._ws_connection import Connection

__all__ = ["WEBSOCKET_PATH", "WebSocketGateway", "WebSocketSettings"]

log = logging.getLogger("coinflex_async.sim")

WEBSOCKET_PATH = "/v2/websocket"
MAX_TAG_LENGTH = 32
_COMMANDS = {
    "placeorder": ("data", "placeorder"),
    "cancelorder": ("data", "cancelorder"),
    "modifyorder": ("data", "modifyorder"),
    "placeorders": ("dataArray", "placeorder"),
    "cancelorders": ("dataArray", "cancelorder"),
    "modifyorders": ("dataArray", "modifyorder"),
}
_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class WebSocketSettings:
    """Cadences, keep-alive and limits of the WebSocket API (defaults: the docs').

    Intervals are seconds between push rounds. ``idle_timeout``: a connection without a
    subscription that sends nothing for this long is closed. ``max_message_length``: longer
    requests get 20027 (the docs size a batch at about 20 orders of 200 characters).
    ``orders_per_second``: placeorder/modifyorder items per account over WebSocket (20007
    beyond). ``messages_per_second`` / ``unauthenticated_messages_per_second``: requests per
    connection after / before login (text ``ping`` and protocol pings do not count).
    ``connections_per_minute``: handshakes per client IP (HTTP 429 beyond). None: no limit.
    ``max_send_buffer``: bytes waiting for a client that does not read before it is cut off.
    """

    depth_interval: float = 0.05
    balance_interval: float = 0.25
    ticker_interval: float = 0.5
    candles_interval: float = 0.5
    market_interval: float = 1.0
    idle_timeout: float = 60.0
    max_message_length: int = 4096
    orders_per_second: int | None = 50
    messages_per_second: int | None = 50
    unauthenticated_messages_per_second: int | None = 1
    connections_per_minute: int | None = 200
    max_send_buffer: int = 16 * 1024 * 1024

    def without_limits(self) -> WebSocketSettings:
        """The same cadences with no connection, message or order limit."""
        return replace(
            self,
            orders_per_second=None,
            messages_per_second=None,
            unauthenticated_messages_per_second=None,
            connections_per_minute=None,
        )


class WebSocketGateway:
    def __init__(
        self,
        *,
        engine: Engine,
        faults: FaultPlan,
        stats: SimStats,
        settings: WebSocketSettings,
        clock: Clock,
        timestamp_tolerance: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.faults = faults
        self.stats = stats
        self.settings = settings
        self.channels = Channels(engine)
        self.commands = OrderCommands(engine, settings.orders_per_second, monotonic)
        self.connections: dict[Connection, None] = {}
        self._clock = clock
        self._tolerance_ms = timestamp_tolerance * 1000
        self._monotonic = monotonic
        self._handshakes: dict[str, deque[float]] = {}
        self._refuse_until = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[Any]] = set()

    def install(self, app: web.Application) -> None:
        app.router.add_get(WEBSOCKET_PATH, self.handle)
        app.on_shutdown.append(self._shutdown)

    # -- lifecycle --------------------------------------------------------------------------

    def _start_rounds(self) -> None:
        """The push rounds run only while a connection is open: a simulator nobody streams
        from keeps its event loop to REST."""
        settings = self.settings
        channels = self.channels
        rounds = (
            (settings.depth_interval, channels.push_depth, True),
            (settings.balance_interval, channels.push_balances, False),
            (settings.ticker_interval, channels.push_tickers, False),
            (settings.candles_interval, channels.push_candles, False),
            (settings.market_interval, channels.push_markets, False),
        )
        self._tasks = [
            asyncio.create_task(self._every(interval, push, timed))
            for interval, push, timed in rounds
        ]

    async def _shutdown(self, app: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        closing = [
            connection.ws.close(code=1001, message=b"server shutdown")
            for connection in list(self.connections)
            if not connection.ws.closed
        ]
        await asyncio.gather(*closing, *self._closing, return_exceptions=True)

    async def _every(self, interval: float, push: Callable[[int], None], timed: bool) -> None:
        """Run ``push`` every ``interval`` seconds on a fixed grid; a round that overruns the
        next slot skips the slots already gone (counted for depth)."""
        loop = asyncio.get_running_loop()
        slot = loop.time() + interval
        while True:
            delay = slot - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if timed:
                self.stats.depth_lateness.append(loop.time() - slot)
            try:
                push(self.engine.now_ms())
            except Exception:  # a push bug must not stop the rounds
                log.exception("simulator WebSocket push failed")
            slot += interval
            behind = loop.time() - slot
            if behind > 0:
                skipped = int(behind // interval) + 1
                slot += skipped * interval
                if timed:
                    self.stats.depth_slots_missed += skipped

    # -- connections ------------------------------------------------------------------------

    def _admit_handshake(self, client: str) -> web.Response | None:
        """None if the handshake may proceed, else the refusal."""
        now = self._monotonic()
        fault = self.faults.draw_websocket("connect", "connect")
        if fault is not None:
            self._refuse_until = max(self._refuse_until, now + fault.seconds)
        if now < self._refuse_until:
            self.stats.websocket["refused"] += 1
            body = {
                "status": 503,
                "error": "Service Unavailable",
                "message": "The server is temporarily unable to handle the request",
                "requestId": str(uuid.uuid4()),
            }
            return web.json_response(body, status=503)
        limit = self.settings.connections_per_minute
        if limit is not None:
            log_ = self._handshakes.setdefault(client, deque())
            while log_ and now - log_[0] >= 60.0:
                log_.popleft()
            if len(log_) >= limit:
                self.stats.websocket["refused"] += 1
                body = {"success": False, "code": "20007", "message": "Too many connections"}
                wait = max(1, int(log_[0] + 60.0 - now) + 1)
                return web.json_response(body, status=429, headers={"Retry-After": str(wait)})
            log_.append(now)
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        refusal = self._admit_handshake(request.remote or "")
        if refusal is not None:
            return refusal
        ws = web.WebSocketResponse(
            autoping=False,
            compress=False,
            max_msg_size=max(self.settings.max_message_length * 4, 1024 * 1024),
        )
        await ws.prepare(request)
        transport = request.transport
        assert transport is not None
        connection = Connection(
            ws,
            transport,
            faults=self.faults,
            stats=self.stats,
            max_send_buffer=self.settings.max_send_buffer,
            on_fault_close=self._close_soon,
        )
        connection.last_heard = self._monotonic()
        self._opened(connection)
        try:
            # The docs' example waits for a message carrying a nonce before it logs in.
            connection.send(_encoder.encode({"event": "nonce", "nonce": uuid.uuid4().hex}), "nonce")
            async for message in ws:
                connection.last_heard = self._monotonic()
                if message.type == WSMsgType.TEXT:
                    self._on_text(connection, message.data)
                elif message.type == WSMsgType.PING:
                    await ws.pong(message.data)
                elif message.type == WSMsgType.BINARY:
                    self._on_text(connection, "")  # not a text frame: not JSON (20009)
        except ConnectionError:
            pass  # the client went away mid-write: nothing to answer
        finally:
            self._closed(connection)
        return ws

    def _opened(self, connection: Connection) -> None:
        if not self.connections:
            self.engine.add_listener(self.channels.on_event)
            self._start_rounds()
        self.connections[connection] = None
        self.stats.websocket["connections"] += 1
        asyncio.get_running_loop().call_later(
            self.settings.idle_timeout, self._check_idle, connection
        )

    def _closed(self, connection: Connection) -> None:
        connection.closed = True
        self.connections.pop(connection, None)
        self.channels.forget(connection)
        if not self.connections:
            self.engine.remove_listener(self.channels.on_event)
            for task in self._tasks:
                task.cancel()
                self._closing.add(task)  # awaited at shutdown if still running
                task.add_done_callback(self._closing.discard)
            self._tasks = []

    def _check_idle(self, connection: Connection) -> None:
        if connection.closed or connection not in self.connections:
            return
        idle = self.settings.idle_timeout
        quiet = self._monotonic() - connection.last_heard
        if quiet >= idle and not connection.channels:
            self.stats.websocket["closed_idle"] += 1
            self._close_soon(connection, 1000)
            return
        wait = idle - quiet if quiet < idle else idle
        asyncio.get_running_loop().call_later(wait, self._check_idle, connection)

    def _close_soon(self, connection: Connection, code: int) -> None:
        """Close cleanly (a close frame with ``code``) from synchronous code."""
        connection.closed = True
        task = asyncio.ensure_future(connection.ws.close(code=code))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # -- requests ---------------------------------------------------------------------------

    def _reply(self, connection: Connection, body: dict[str, Any], name: str) -> None:
        connection.send(_encoder.encode(body), name)

    def _on_text(self, connection: Connection, text: str) -> None:
        self.stats.websocket["received"] += 1
        if text == "ping":
            connection.send(b"pong", "pong")
            return
        now = self.engine.now_ms()
        if len(text) > self.settings.max_message_length:
            message = "The length of the message exceeds the maximum length"
            self._reply(connection, wire.failure("error", "20027", message, None, now), "error")
            return
        try:
            request = _decoder.decode(text)
        except msgspec.DecodeError:
            request = None
        if not isinstance(request, dict):
            body = wire.failure("error", "20009", "JSON data format is invalid", None, now)
            self._reply(connection, body, "error")
            return
        op = request.get("op")
        event = op if isinstance(op, str) and op else "error"
        raw_tag = request.get("tag")
        tag = None if raw_tag is None or isinstance(raw_tag, bool) else str(raw_tag)
        if tag is not None and len(tag) > MAX_TAG_LENGTH:
            self._refuse(connection, event, "20034", "The size of tag must be less than 32", None)
            return
        if not self._admit_message(connection):
            self.stats.websocket["rate_limited"] += 1
            self._refuse(connection, event, "20007", "You are accessing server too rapidly", tag)
            return
        dropped = self.faults.draw_websocket("command", event) is not None
        target = connection if not dropped else None
        if event == "login":
            self._login(connection, target, request.get("data"), tag, now)
        elif event in ("subscribe", "unsubscribe"):
            self._subscription(connection, target, event, request.get("args"), tag, now)
        elif event in _COMMANDS:
            self._command(connection, target, event, request, tag, now)
        else:
            self._refuse(target, event, "20003", "Unrecognized operation", tag)

    def _admit_message(self, connection: Connection) -> bool:
        settings = self.settings
        limit = (
            settings.messages_per_second
            if connection.logged_in
            else settings.unauthenticated_messages_per_second
        )
        if limit is None:
            return True
        now = self._monotonic()
        arrivals = connection.arrivals
        while arrivals and now - arrivals[0] >= 1.0:
            arrivals.popleft()
        if len(arrivals) >= limit:
            return False
        arrivals.append(now)
        return True

    def _refuse(
        self, target: Connection | None, event: str, code: str, message: str, tag: str | None
    ) -> None:
        if target is None:
            return
        now = self.engine.now_ms()
        if event in _COMMANDS:
            body = wire.command_failure(_COMMANDS[event][1], code, message, tag, now, {})
        else:
            body = wire.failure(event, code, message, tag, now)
        self._reply(target, body, event)

    def _login(
        self,
        connection: Connection,
        target: Connection | None,
        data: object,
        tag: str | None,
        now: int,
    ) -> None:
        try:
            account = self._verify_login(connection, data)
        except SimError as error:
            if target is not None:
                self._reply(
                    target, wire.failure("login", error.code, error.message, tag, now), "login"
                )
            return
        connection.account = account
        self.channels.logged_in(connection)
        if target is not None:
            self._reply(target, wire.success("login", tag, now), "login")

    def _verify_login(self, connection: Connection, data: object) -> Any:
        if connection.logged_in:
            raise SimError("20005", "Already logged in")
        if not isinstance(data, dict):
            raise SimError("20002", "data must be an object with apiKey, timestamp, signature")
        key = data.get("apiKey")
        account = self.engine.accounts_by_key.get(key) if isinstance(key, str) else None
        if account is None or account.api_secret is None:
            raise SimError("20025", "API key is invalid")
        raw_timestamp = data.get("timestamp")
        if isinstance(raw_timestamp, int) and not isinstance(raw_timestamp, bool):
            timestamp = str(raw_timestamp)
        elif isinstance(raw_timestamp, str) and raw_timestamp.isdigit():
            timestamp = raw_timestamp
        else:
            raise SimError("20023", "timestamp is required")
        if abs(self._clock() * 1000 - int(timestamp)) > self._tolerance_ms:
            raise SimError("20024", "timestamp exceeds the threshold")
        signature = data.get("signature")
        expected = signature_for(account.api_secret, timestamp + "GET/auth/self/verify")
        if not isinstance(signature, str) or not hmac.compare_digest(
            expected.encode(), signature.encode("utf-8", "replace")
        ):
            raise SimError("20000", "Signature is invalid")
        return account

    def _subscription(
        self,
        connection: Connection,
        target: Connection | None,
        event: str,
        args: object,
        tag: str | None,
        now: int,
    ) -> None:
        if not isinstance(args, list) or not args:
            self._refuse(target, event, "20002", "args must be a non-empty list", tag)
            return
        for arg in args:
            if event == "unsubscribe":
                if isinstance(arg, str):
                    self.channels.remove(connection, arg)
                    body = wire.success(event, tag, now, arg)
                else:
                    body = wire.failure(event, "20002", "args must be channel names", tag, now)
            else:
                try:
                    channel = self.channels.check(arg, connection)
                except SimError as error:
                    body = wire.failure(event, error.code, error.message, tag, now)
                else:
                    self.channels.add(connection, channel)
                    body = wire.success(event, tag, now, channel)
            if target is not None:
                self._reply(target, body, event)

    def _command(
        self,
        connection: Connection,
        target: Connection | None,
        op: str,
        request: dict[str, Any],
        tag: str | None,
        now: int,
    ) -> None:
        field, event = _COMMANDS[op]
        account = connection.account
        if account is None:
            self._refuse(target, op, "05001", "Your operation authority is invalid", tag)
            return
        payload = request.get(field)
        if field == "dataArray":
            if not isinstance(payload, list) or not payload:
                self._refuse(target, op, "20002", "dataArray must be a non-empty list", tag)
                return
            # A batch's own timestamp/recvWindow hold for each order that has none.
            shared = {k: request[k] for k in ("timestamp", "recvWindow") if k in request}
            items = [
                {**shared, **item} if isinstance(item, dict) and shared else item
                for item in payload
            ]
        else:
            items = [payload]
        run = {
            "placeorder": self.commands.place,
            "cancelorder": self.commands.cancel,
            "modifyorder": self.commands.modify,
        }[event]
        for item in items:
            connection.defer_pushes()
            try:
                result: CommandResult = run(account, item, tag, now)
            except BaseException:
                connection.flush_pushes()
                raise
            if target is not None:
                connection.flush_pushes(_encoder.encode(result.reply), event)
            else:
                connection.flush_pushes()
            if result.notice is not None:
                assert result.account is not None and result.market_code is not None
                self.channels.push_order_notice(result.account, result.market_code, result.notice)
