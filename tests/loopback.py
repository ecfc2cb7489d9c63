"""A recording HTTP server on loopback, and the spec's signature formula written test-side.

Tests that must see what goes on the wire (signing, query strings, bodies, retries, limits,
error statuses) run the real client against this server over real sockets.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Reply = tuple[int, bytes | str | dict[str, Any] | list[Any], dict[str, str]]
Handler = Callable[["Recorded"], Awaitable[Reply] | Reply]


@dataclass
class Recorded:
    method: str
    path: str  # raw path without the query
    query: str  # raw query string, no "?"
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)  # to compare with a body's ms `timestamp`

    def json(self) -> Any:
        return json.loads(self.body)


def spec_signature(secret: str, recorded: Recorded) -> str:
    """The spec's formula over what arrived: ts, nonce, VERB, Host, path, body-or-query."""
    h = recorded.headers
    body = recorded.body.decode() if recorded.body else recorded.query
    message = (
        f"{h['Timestamp']}\n{h['Nonce']}\n{recorded.method}\n{h['Host']}\n{recorded.path}\n{body}"
    )
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class RecordingServer:
    """Routes ``(METHOD, path)`` to a canned reply or a handler, and records every request.

    A route's value is a ``Reply`` (status, body, headers), a list of them (served in turn, the
    last one repeated), or a callable taking the ``Recorded`` request and returning a ``Reply``.
    Unknown routes answer 404 with the exchange's error shape.
    """

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.routes: dict[tuple[str, str], Any] = {}
        self._served: dict[tuple[str, str], int] = {}
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    def reply(self, method: str, path: str, *replies: Any) -> None:
        self.routes[(method, path)] = list(replies) if len(replies) > 1 else replies[0]

    def json_reply(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.reply(method, path, (status, body, {}))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = request.raw_path
        path, _, query = raw.partition("?")
        recorded = Recorded(
            request.method, path, query, dict(request.headers), await request.read()
        )
        self.requests.append(recorded)
        route = self.routes.get((request.method, path))
        if route is None:
            return web.json_response(
                {"success": False, "code": "404", "message": f"no route {path}"}, status=404
            )
        if isinstance(route, list):
            index = self._served.get((request.method, path), 0)
            self._served[(request.method, path)] = index + 1
            route = route[min(index, len(route) - 1)]
        if callable(route):
            route = route(recorded)
            if hasattr(route, "__await__"):
                route = await route
        if isinstance(route, web.StreamResponse):
            return route
        status, body, headers = route
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        content_type = headers.pop("Content-Type", "application/json")
        return web.Response(status=status, body=body, headers=headers, content_type=content_type)


@asynccontextmanager
async def resetting_server() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback server that reads each request's head, then resets the connection (RST).

    Yields its base URL and the request heads it received, to count attempts.
    """
    received: list[bytes] = []

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        server.close()
        await server.wait_closed()


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
