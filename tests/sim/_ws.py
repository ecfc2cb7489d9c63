"""A plain WebSocket client written from the docs (not the client library), and the docs'
message examples (coinflex-v2-websocket.txt) as the reference for every shape."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp

from coinflex_async.sim import SimAccount, Simulator

__all__ = ["WsClient", "assert_docs_shape", "docs_example_shape", "login_message"]

SPEC_TEXT = Path(__file__).with_name("coinflex-v2-websocket.txt").read_text(encoding="utf-8")

Message = dict[str, Any]


def login_message(api_key: str, api_secret: str, timestamp: str, tag: Any = 1) -> Message:
    """The docs' login: Base64(HmacSHA256(timestamp + 'GET/auth/self/verify', secret))."""
    payload = (timestamp + "GET/auth/self/verify").encode()
    signature = base64.b64encode(
        hmac.new(api_secret.encode(), payload, hashlib.sha256).digest()
    ).decode()
    data = {"apiKey": api_key, "timestamp": timestamp, "signature": signature}
    return {"op": "login", "tag": tag, "data": data}


class WsClient:
    """One connection: send requests, read what comes, wait for a matching message.

    A reader task queues every frame, so waiting with a timeout never disturbs the socket.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.inbox: list[Message] = []  # read but not yet asked for
        self.frames: asyncio.Queue[aiohttp.WSMessage] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            message = await self.ws.receive()
            await self.frames.put(message)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return
            if message.type == aiohttp.WSMsgType.ERROR:
                return

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, sim: Simulator) -> WsClient:
        client = cls(await session.ws_connect(sim.ws_url, autoping=False))
        welcome = await client.next(lambda m: "nonce" in m)
        assert isinstance(welcome["nonce"], str) and welcome["nonce"]
        return client

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)

    async def raw(self, timeout: float = 5.0) -> aiohttp.WSMessage:
        """The next frame as it came (text, close, pong, ...)."""
        return await asyncio.wait_for(self.frames.get(), timeout)

    async def send(self, message: Message | str) -> None:
        await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    async def request(self, message: Message | str, event: str | None = None) -> Message:
        """Send, and return the first reply whose event is ``event`` (default: the op)."""
        await self.send(message)
        wanted = event or (message["op"] if isinstance(message, dict) else "error")
        return await self.next(lambda m: m.get("event") == wanted)

    async def login(self, account: SimAccount, tag: Any = 1) -> Message:
        timestamp = str(int(time.time() * 1000))
        reply = await self.request(
            login_message(account.api_key, account.api_secret, timestamp, tag)
        )
        assert reply["success"] is True, reply
        return reply

    async def subscribe(self, *channels: str) -> list[Message]:
        await self.send({"op": "subscribe", "tag": 7, "args": list(channels)})
        replies = [await self.next(lambda m: m.get("event") == "subscribe") for _ in channels]
        for reply in replies:
            assert reply["success"] is True, reply
        return replies

    async def receive(self, timeout: float = 5.0) -> Message:
        message = await self.raw(timeout)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        return json.loads(message.data)  # type: ignore[no-any-return]

    async def next(self, matches: Callable[[Message], bool], timeout: float = 5.0) -> Message:
        """The first message (already read or arriving within ``timeout``) that matches."""
        for index, message in enumerate(self.inbox):
            if matches(message):
                return self.inbox.pop(index)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"nothing matched in {timeout}s; last: {self.inbox[-3:]}")
            try:
                message = await self.receive(left)
            except asyncio.TimeoutError:  # TimeoutError itself from 3.11 on only
                raise AssertionError(
                    f"nothing matched in {timeout}s; last: {self.inbox[-3:]}"
                ) from None
            if matches(message):
                return message
            self.inbox.append(message)

    async def table(self, name: str, timeout: float = 5.0, **where: Any) -> Message:
        """The next push of channel table ``name`` whose first data item has ``where``."""

        def matches(message: Message) -> bool:
            if message.get("table") != name:
                return False
            item = message["data"][0] if message.get("data") else {}
            return all(item.get(key) == value for key, value in where.items())

        return await self.next(matches, timeout)

    async def silent(self, matches: Callable[[Message], bool], seconds: float) -> bool:
        """True if nothing matching arrives within ``seconds``."""
        try:
            await self.next(matches, seconds)
        except AssertionError:
            return True
        return False


# -- the docs' examples as shapes -------------------------------------------------------------

_PAIR = re.compile(r'"(\w+)"\s*:\s*(\S)')


def _kind_of(first: str) -> str:
    if first == '"':
        return "str"
    if first == "[":
        return "list"
    if first == "{":
        return "dict"
    if first in "TtFf":
        return "bool"
    return "number"


@cache
def docs_example_shape(title: str, nth: int = 0, section: str = "") -> dict[str, str]:
    """Every key of the docs' JSON example headed ``> **title**`` (the first after the heading
    ``section``; its ``nth`` JSON block), at any depth, with the kind of its value: str,
    number, bool, list or dict."""
    start = SPEC_TEXT.index(f"> **{title}**", SPEC_TEXT.index(section) if section else 0)
    block_start = SPEC_TEXT.index("```json", start)
    for _ in range(nth):
        block_start = SPEC_TEXT.index("```json", block_start + 1)
    block_end = SPEC_TEXT.index("```", block_start + 7)
    block = SPEC_TEXT[block_start + 7 : block_end]
    # A block may hold several examples joined by OR / AND: the first one is the reference.
    block = re.split(r"\n(?:OR|AND)\n", block)[0]
    return {key: _kind_of(first) for key, first in _PAIR.findall(block)}


def _flatten(value: Any, into: dict[str, str]) -> dict[str, str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            into[key] = _python_kind(inner)
            _flatten(inner, into)
    elif isinstance(value, list):
        for inner in value:
            _flatten(inner, into)
    return into


def _python_kind(value: Any) -> str:
    if isinstance(value, str):
        return "str"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    return "dict"


def assert_docs_shape(
    message: Message,
    title: str,
    *,
    nth: int = 0,
    section: str = "",
    absent: set[str] = frozenset(),  # type: ignore[assignment]
    extra: set[str] = frozenset(),  # type: ignore[assignment]
    any_kind: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """``message`` has the keys of the docs' example (minus ``absent``, plus ``extra``), each
    with the example's kind of value (but ``any_kind``: where the examples disagree)."""
    docs = docs_example_shape(title, nth, section)
    ours = _flatten(message, {})
    expected = (set(docs) - absent) | extra
    assert set(ours) == expected, (
        f"extra: {sorted(set(ours) - expected)}, missing: {sorted(expected - set(ours))}"
    )
    for key in set(docs) & set(ours) - any_kind:
        assert ours[key] == docs[key], (key, ours[key], docs[key], message)
