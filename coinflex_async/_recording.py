"""Recordings: every message of some WebSocket channels, as JSON lines, and reading them back.

A recording is one JSON object per line, ``{"t": RECEIVE_NS, "msg": RAW_TEXT}``: the time the
frame was read (``time.time_ns()``) and the frame's text exactly as the exchange sent it
(gzip-compressed when the file name ends in ``.gz``). Raw text, not decoded events, so nothing
the decoders of today drop is lost for the decoders of tomorrow.

The recorder uses its own plain ``aiohttp`` WebSocket to the URL the client's stream uses
(``ws_url``), logging in with the client's own signing (``ws_login_data``) when a channel is
private: the client's ``Stream`` hands out typed events, not the frames they came from, and a
recorder wants the frames. Reading a recording back decodes each update with the stream's own
decoders (``stream.protocol.decode_update``), so ``read_recording`` yields the very events a
subscription would have.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from os import PathLike
from typing import IO, Any

import aiohttp
import msgspec

from ._errors import APIError, AuthenticationError, TransportError, ValidationError
from ._signing import Credentials, ws_login_data
from .stream.protocol import decode_update, ws_url

__all__ = [
    "RecordStats",
    "decode_line",
    "iter_recording",
    "open_input",
    "open_output",
    "read_recording",
    "record",
]

_PING_EVERY = 20.0  # seconds of silence before a text "ping" (the exchange closes idle sockets)
_FLUSH_EVERY = 1.0  # seconds: a crash (or kill -9) loses at most this much
_RECONNECT_WAITS = (0.5, 1.0, 2.0, 5.0, 10.0)
_PRIVATE = ("order", "balance", "position")
_DRAIN_QUIET = 0.05  # on stop: frames are read until this long passes without one...
_DRAIN_MAX = 0.5  # ...or this long in all
_ENDS = frozenset(
    {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED,
     aiohttp.WSMsgType.ERROR}
)  # fmt: skip

Path = str | PathLike[str]


class _Line(msgspec.Struct):
    t: int
    msg: str


_encode_line = msgspec.json.Encoder().encode
_decode_line = msgspec.json.Decoder(_Line).decode


# -- writing -----------------------------------------------------------------------------------


def open_output(path: Path | None) -> IO[bytes]:
    """The file to record into: gzip when its name ends in ``.gz``; stdout for None or ``-``."""
    if path is None or str(path) == "-":
        return sys.stdout.buffer
    if str(path).endswith(".gz"):
        return gzip.open(path, "wb")  # type: ignore[return-value]  # a GzipFile is an IO[bytes]
    return open(path, "wb")  # closed by the caller


@dataclass
class RecordStats:
    """What a recording run wrote."""

    messages: int = 0
    bytes: int = 0
    reconnects: int = 0
    started: float = 0.0


def _is_private(channel: str) -> bool:
    return channel.partition(":")[0] in _PRIVATE


async def record(
    base_url: str,
    channels: Sequence[str],
    out: IO[bytes],
    *,
    duration: float | None = None,
    credentials: Credentials | None = None,
    stop: asyncio.Event | None = None,
    progress: Callable[[RecordStats], None] | None = None,
    subscribed: Callable[[], None] | None = None,
    timeout: float = 10.0,
) -> RecordStats:
    """Write every frame received on ``channels`` to ``out`` until ``duration`` seconds have
    passed or ``stop`` is set; reconnects (and subscribes again) after a drop. The caller
    closes ``out``; it is flushed every second and when this returns, however it returns.
    ``progress`` hears the counts once a second, ``subscribed`` each time every channel has
    been acknowledged (after each reconnect too).

    The first connection's failure, a refused subscription (``APIError``) or a refused login
    (``AuthenticationError``) is raised; later drops are reconnected."""
    channels = list(channels)
    if not channels or any(not isinstance(c, str) or ":" not in c for c in channels):
        raise ValidationError(f"channels must be like trade:BTC-USD-SWAP-LIN (got {channels!r})")
    if credentials is None and any(_is_private(c) for c in channels):
        raise AuthenticationError(
            "private channels need COINFLEX_API_KEY and COINFLEX_API_SECRET",
            status=None,
            endpoint="WebSocket login",
        )
    url = ws_url(base_url)
    stats = RecordStats(started=time.monotonic())
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    deadline = None if duration is None else loop.time() + duration
    failures = 0
    connected = False  # subscribed at least once: from then on a drop is reconnected
    async with aiohttp.ClientSession() as session:
        try:
            while not stop.is_set():
                try:
                    async with session.ws_connect(
                        url, max_msg_size=0, timeout=_ws_timeout(timeout)
                    ) as ws:
                        keep = partial(_write, out, stats)
                        await _start(ws, channels, credentials, timeout, keep)
                        connected, failures = True, 0
                        if subscribed is not None:
                            subscribed()
                        await _copy(ws, out, stats, stop, deadline, progress)
                except (aiohttp.ClientError, OSError, asyncio.TimeoutError, TransportError) as exc:
                    if not connected:
                        if isinstance(exc, TransportError):
                            raise
                        raise TransportError(
                            f"WebSocket {url}: cannot connect ({type(exc).__name__}: {exc})",
                            request_sent=False,
                        ) from exc
                    failures += 1
                if stop.is_set() or (deadline is not None and loop.time() >= deadline):
                    break
                stats.reconnects += 1
                wait = _RECONNECT_WAITS[min(failures, len(_RECONNECT_WAITS) - 1)]
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
        finally:
            out.flush()
    return stats


def _ws_timeout(timeout: float) -> aiohttp.ClientWSTimeout:
    return aiohttp.ClientWSTimeout(ws_receive=None, ws_close=min(timeout, 1.0))


async def _start(
    ws: aiohttp.ClientWebSocketResponse,
    channels: list[str],
    credentials: Credentials | None,
    timeout: float,
    keep: Callable[[object], None],
) -> None:
    """Log in when a channel is private, then subscribe to all in one message (the exchange
    takes one message a second before login) and check every acknowledgement. Updates that
    arrive between the acknowledgements go to ``keep``."""
    if any(_is_private(c) for c in channels):
        assert credentials is not None
        await ws.send_str(json.dumps({"op": "login", "data": ws_login_data(credentials)}))
        answer = await _answer(ws, "login", timeout, keep)
        if not answer.get("success") and str(answer.get("code")) != "20005":
            raise AuthenticationError(
                str(answer.get("message") or "login refused"),
                status=None,
                code=str(answer.get("code")),
                endpoint="WebSocket login",
            )
    await ws.send_str(json.dumps({"op": "subscribe", "tag": "record", "args": channels}))
    for _ in channels:
        answer = await _answer(ws, "subscribe", timeout, keep)
        if not answer.get("success"):
            raise APIError(
                str(answer.get("message") or "subscription refused"),
                status=None,
                code=str(answer.get("code")),
                endpoint=f"WebSocket subscribe {answer.get('channel', '')}".strip(),
            )


async def _answer(
    ws: aiohttp.ClientWebSocketResponse, event: str, timeout: float, keep: Callable[[object], None]
) -> Any:
    """The next answer to ``event``; the updates of the channels already subscribed that come
    before it go to ``keep`` (other answers, the welcome, are not channel messages)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while (left := end - loop.time()) > 0:
        message = await ws.receive(timeout=left)
        if message.type is not aiohttp.WSMsgType.TEXT:
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
            continue
        try:
            frame = json.loads(message.data)
        except ValueError:
            continue
        if isinstance(frame, dict) and frame.get("event") == event:
            return frame
        if isinstance(frame, dict) and "table" in frame:
            keep(message.data)
    raise TransportError(f"WebSocket: no answer to {event} within {timeout} s")


async def _copy(
    ws: aiohttp.ClientWebSocketResponse,
    out: IO[bytes],
    stats: RecordStats,
    stop: asyncio.Event,
    deadline: float | None,
    progress: Callable[[RecordStats], None] | None,
) -> None:
    """Write frames until the connection ends, ``stop`` is set or the deadline passes."""
    loop = asyncio.get_running_loop()
    stopped = asyncio.ensure_future(stop.wait())
    # One receive at a time, kept across flush ticks: cancelling it could drop a frame.
    receive: asyncio.Future[aiohttp.WSMessage] = asyncio.ensure_future(ws.receive())
    flushed = heard = loop.time()
    try:
        while True:
            now = loop.time()
            wait = _FLUSH_EVERY if deadline is None else min(_FLUSH_EVERY, deadline - now)
            await asyncio.wait(
                (receive, stopped), timeout=max(wait, 0.0), return_when="FIRST_COMPLETED"
            )
            if receive.done():
                message = receive.result()
                if message.type in _ENDS:
                    return
                _write(out, stats, message.data)
                heard = loop.time()
                receive = asyncio.ensure_future(ws.receive())
            now = loop.time()
            if stopped.done() or (deadline is not None and now >= deadline):
                await _drain(ws, receive, out, stats)
                return
            if now - flushed >= _FLUSH_EVERY:
                out.flush()
                flushed = now
                if progress is not None:
                    progress(stats)
            if now - heard >= _PING_EVERY:
                heard = now
                await ws.send_str("ping")
    finally:
        stopped.cancel()
        receive.cancel()


async def _drain(
    ws: aiohttp.ClientWebSocketResponse,
    receive: asyncio.Future[aiohttp.WSMessage],
    out: IO[bytes],
    stats: RecordStats,
) -> None:
    """On stop: keep the frames already received (read until 50 ms pass without one, 0.5 s at
    most), so a Ctrl-C right after a burst does not leave its end in the socket's buffer."""
    loop = asyncio.get_running_loop()
    end = loop.time() + _DRAIN_MAX
    try:
        while loop.time() < end:
            done, _ = await asyncio.wait((receive,), timeout=_DRAIN_QUIET)
            if not done:
                return
            message = receive.result()
            if message.type in _ENDS:
                return
            _write(out, stats, message.data)
            receive = asyncio.ensure_future(ws.receive())
    finally:
        receive.cancel()


def _write(out: IO[bytes], stats: RecordStats, data: object) -> None:
    """One frame, stamped with the time it was read (a ``pong`` is the keep-alive's)."""
    received = time.time_ns()
    text = data.decode() if isinstance(data, bytes) else data
    if not isinstance(text, str) or text == "pong":
        return
    line = _encode_line(_Line(received, text)) + b"\n"
    out.write(line)
    stats.messages += 1
    stats.bytes += len(line)


# -- reading -----------------------------------------------------------------------------------


def open_input(path: Path) -> IO[bytes]:
    """A file to read, gunzipped when it is gzip (told by its first bytes, whatever its
    name). The caller closes it."""
    with open(path, "rb") as file:
        compressed = file.read(2) == b"\x1f\x8b"
    if compressed:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def iter_recording(path: Path) -> Iterator[tuple[int, int, str]]:
    """``(line number, receive ns, raw text)`` of each line of a recording, read as it goes
    (never the whole file). A line that is not ``{"t": int, "msg": str}`` raises
    ``ValidationError`` naming the file and the line."""
    with open_input(path) as file:
        for number, raw in enumerate(file, 1):
            if not raw.strip():
                continue
            try:
                line = _decode_line(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise ValidationError(
                    f'{path}:{number}: not a recording line ({{"t": ns, "msg": text}}): {exc}'
                ) from None
            yield number, line.t, line.msg


def decode_line(path: Path, number: int, text: str) -> list[Any]:
    """The typed events of one recorded frame (``[]`` for an answer or anything not an
    update), through the stream's decoders; a bad update names the file and line."""
    try:
        return decode_update(text.encode())
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValidationError(
            f"{path}:{number}: an update that is not the documented shape: {exc}"
        ) from None


async def read_recording(path: Path) -> AsyncIterator[tuple[int, Any]]:
    """``(receive_ns, event)`` for every event of a recording made by ``coinflex record``, in
    the order received, typed as ``client.stream()`` subscriptions yield them (``TradeEvent``,
    ``DepthEvent``, ``OrderEvent``...). Streams the file; a bad line raises ``ValidationError``
    naming the file and line.

    >>> async for received_ns, event in cf.read_recording("btc.jsonl.gz"):  # doctest: +SKIP
    ...     print(received_ns, event)
    """
    for count, (number, received, text) in enumerate(iter_recording(path), 1):
        for event in decode_line(path, number, text):
            yield received, event
        if count % 1000 == 0:
            await asyncio.sleep(0)  # a long file does not hold the loop
