"""The canned-response HTTP server: a raw asyncio protocol serving pre-encoded responses.

It runs in its own process (``python -m benchmarks.server``) so its CPU never lands on a client's
bill, and reports its own CPU use so the driver can show it is not the bottleneck. Every response
is encoded once at start; per request it only finds the request's end (Content-Length bodies,
keep-alive; no pipelining, no chunked bodies) and writes the stored bytes. The order-placing
answer echoes the request's ``clientOrderId`` from a pre-split template, as the exchange does.

Control protocol on stdin/stdout, one line each: the server prints ``{"port": N}`` once it
listens; ``stats`` answers ``{"cpu": <process seconds>, "requests": <served so far>}``; ``quit``
or end of input stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from benchmarks.payloads import build_bodies, place_order_body
from benchmarks.processes import PROJECT_ROOT, child_env, prime_allocator

__all__ = [
    "CannedServer",
    "HTTPRequestParser",
    "UnservableRequestError",
    "build_responses",
    "main",
]

PLACE_ORDER_PATH = b"/v2/orders/place"
MAX_HEAD_BYTES = 64 * 1024
_CLIENT_ORDER_ID = re.compile(rb'"clientOrderId"\s*:\s*"?([0-9A-Za-z_-]*)')
# ccxt sends no clientOrderId; the exchange then reports one of its own.
_DEFAULT_CLIENT_ORDER_ID = b"1612249737724"
_MARKER = "@@CLIENT_ORDER_ID@@"


def _response(status: bytes, body: bytes, *, close: bool = False) -> bytes:
    connection = b"close" if close else b"keep-alive"
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: " + connection + b"\r\n\r\n" + body
    )


NOT_FOUND = _response(
    b"404 Not Found",
    b'{"success":false,"code":"40001","message":"no result, please check your parameters"}',
)
BAD_REQUEST = _response(
    b"400 Bad Request", b'{"success":false,"message":"bad request"}', close=True
)
NOT_IMPLEMENTED = _response(
    b"501 Not Implemented", b'{"success":false,"message":"chunked bodies not served"}', close=True
)


def build_responses() -> dict[bytes, bytes]:
    """Full HTTP responses (status line, headers, body) by request path."""
    return {path.encode(): _response(b"200 OK", body) for path, body in build_bodies().items()}


class _PlaceOrderTemplate:
    """The one-order answer split around its ``clientOrderId``, so echoing costs two joins."""

    def __init__(self) -> None:
        body = place_order_body(_MARKER)
        self._before, self._after = body.split(_MARKER.encode())

    def render(self, request_body: bytes) -> bytes:
        match = _CLIENT_ORDER_ID.search(request_body)
        client_order_id = match.group(1) if match else _DEFAULT_CLIENT_ORDER_ID
        return _response(b"200 OK", self._before + client_order_id + self._after)


class UnservableRequestError(Exception):
    """The stream is not HTTP this server reads; ``response`` is the answer before closing."""

    def __init__(self, response: bytes) -> None:
        super().__init__(response.partition(b"\r\n")[0].decode())
        self.response = response


class HTTPRequestParser:
    """Splits a byte stream into ``(method, target, body)`` requests; keeps the partial rest."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[tuple[bytes, bytes, bytes]]:
        """The requests completed by ``data``; raises ``UnservableRequestError``."""
        buffer = self._buffer + data if self._buffer else data
        requests = []
        while True:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise UnservableRequestError(BAD_REQUEST)
                break
            request_line, _, header_block = buffer[:head_end].partition(b"\r\n")
            parts = request_line.split(b" ")
            if len(parts) != 3:
                raise UnservableRequestError(BAD_REQUEST)
            # The leading CRLF anchors names to a line start ("x-content-length" is not one).
            headers = b"\r\n" + header_block.lower() + b"\r\n"
            if b"\r\ntransfer-encoding:" in headers:
                raise UnservableRequestError(NOT_IMPLEMENTED)
            body_length = 0
            length_at = headers.find(b"\r\ncontent-length:")
            if length_at >= 0:
                value_start = length_at + len(b"\r\ncontent-length:")
                try:
                    body_length = int(headers[value_start : headers.find(b"\r\n", value_start)])
                except ValueError:
                    raise UnservableRequestError(BAD_REQUEST) from None
                if body_length < 0:
                    raise UnservableRequestError(BAD_REQUEST)
            request_end = head_end + 4 + body_length
            if len(buffer) < request_end:
                break
            requests.append((parts[0], parts[1], buffer[head_end + 4 : request_end]))
            buffer = buffer[request_end:]
        self._buffer = buffer
        return requests


class _ServerState:
    def __init__(self) -> None:
        self.responses = build_responses()
        self.place_order = _PlaceOrderTemplate()
        self.requests = 0
        self.transports: set[asyncio.Transport] = set()


class _CannedProtocol(asyncio.Protocol):
    def __init__(self, state: _ServerState) -> None:
        self._state = state
        self._parser = HTTPRequestParser()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._state.transports.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._state.transports.discard(self._transport)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        try:
            requests = self._parser.feed(data)
        except UnservableRequestError as error:
            transport.write(error.response)
            transport.close()
            return
        state = self._state
        for method, target, body in requests:
            state.requests += 1
            path = target.partition(b"?")[0]
            if method == b"POST" and path == PLACE_ORDER_PATH:
                transport.write(state.place_order.render(body))
            else:
                transport.write(state.responses.get(path, NOT_FOUND))


def _answer_control(
    state: _ServerState, loop: asyncio.AbstractEventLoop, stop: asyncio.Event
) -> None:
    """Runs in a thread: answers ``stats`` lines until ``quit`` or end of input."""
    for line in sys.stdin:
        command = line.strip()
        if command == "stats":
            print(json.dumps({"cpu": time.process_time(), "requests": state.requests}), flush=True)
        elif command == "quit":
            break
    loop.call_soon_threadsafe(stop.set)


async def serve(host: str, port: int) -> None:
    state = _ServerState()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _CannedProtocol(state), host, port, backlog=1024)
    stop = asyncio.Event()
    bound_port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": bound_port}), flush=True)
    threading.Thread(target=_answer_control, args=(state, loop, stop), daemon=True).start()
    async with server:
        await stop.wait()
        for transport in list(state.transports):
            transport.close()


def main(argv: list[str] | None = None) -> None:
    prime_allocator()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port))


class CannedServer:
    """The driver's handle on a server process: start, read its CPU and request count, stop."""

    def __init__(self, python: str = sys.executable, cwd: Path = PROJECT_ROOT) -> None:
        self._python = python
        self._cwd = cwd
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> None:
        self._process = subprocess.Popen(
            [self._python, "-m", "benchmarks.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=self._cwd,
            env=child_env(),
            text=True,
        )
        port = json.loads(self._read_line())["port"]
        self.url = f"http://127.0.0.1:{port}"

    def _read_line(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"canned server exited (code {self._process.poll()})")
        return line

    def stats(self) -> tuple[float, int]:
        """``(CPU seconds, requests served)`` so far."""
        assert self._process is not None
        stdin: IO[str] | None = self._process.stdin
        assert stdin is not None
        stdin.write("stats\n")
        stdin.flush()
        reply = json.loads(self._read_line())
        return float(reply["cpu"]), int(reply["requests"])

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        try:
            assert process.stdin is not None
            process.stdin.write("quit\n")
            process.stdin.close()
            process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()

    def __enter__(self) -> CannedServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


if __name__ == "__main__":
    main()
