"""Which connection is up and restored (logged in, channels subscribed again), and the
commands waiting for the next one: they wake when a reconnect's restore is done, not at each
reconnect attempt, so attempts that fail (or whose login fails) wake nobody."""

from __future__ import annotations

import asyncio
import time

import aiohttp

__all__ = ["Readiness"]

Socket = aiohttp.ClientWebSocketResponse


class Readiness:
    """The ready connection (``ws``) and the future of the next one."""

    __slots__ = ("_next", "ws")

    def __init__(self) -> None:
        self.ws: Socket | None = None
        self._next: asyncio.Future[Socket] | None = None

    def up(self, ws: Socket) -> None:
        """``ws`` is ready: the commands waiting take it."""
        self.ws = ws
        waiter, self._next = self._next, None
        if waiter is not None and not waiter.done():
            waiter.set_result(ws)

    def down(self, ws: Socket) -> None:
        if self.ws is ws:
            self.ws = None

    async def wait(
        self, stop: asyncio.Future[None], deadline: float, not_on: Socket | None
    ) -> Socket | None:
        """The ready connection (not ``not_on``, not closed), else the next one to be ready;
        None if none is by ``deadline`` (``time.monotonic()``) or ``stop`` is done."""
        ws = self.ws
        if ws is not None and ws is not not_on and not ws.closed:
            return ws  # the common case
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiter = self._next
        remaining = deadline - time.monotonic()
        if remaining > 0:
            await asyncio.wait(
                (waiter, stop), timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
        return waiter.result() if waiter.done() and not stop.done() else None
