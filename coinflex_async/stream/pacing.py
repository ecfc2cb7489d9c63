"""The exchange's pacing of a connection that is not logged in: one message per second per
connection (login lifts it to 50 per second). Counted per connection: a new one may take a
message at once, and its asks never queue behind a lost connection's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .._retry import sleep_unless
from .connection import Socket

__all__ = ["UNAUTH_GAP", "Pacing"]

log = logging.getLogger("coinflex_async")

UNAUTH_GAP = 1.05  # seconds between messages before login (the exchange: 1 per second)


class Pacing:
    """When the next message may go on a connection that is not logged in."""

    def __init__(self, url: str, stopped: Callable[[], asyncio.Future[None]]) -> None:
        self._url = url
        self._stopped = stopped  # the stream's "closed" future: a wait ends with it
        self._on: Socket | None = None  # the connection the count is for
        self._lock = asyncio.Lock()
        self._sent_at = -UNAUTH_GAP
        self._told = False  # the INFO line on the pacing, once per stream

    async def take(self, ws: Socket) -> None:
        """Wait for the next free second on ``ws`` and take it (a message goes now)."""
        self._count_for(ws)
        async with self._lock:
            await self.until_free(ws)
            self._sent_at = asyncio.get_running_loop().time()

    async def until_free(self, ws: Socket) -> None:
        """Wait until a message may go on ``ws`` (without taking the second)."""
        self._count_for(ws)
        wait = self._sent_at + UNAUTH_GAP - asyncio.get_running_loop().time()
        if wait <= 0:
            return
        if not self._told:
            self._told = True
            log.info(
                "stream %s: not logged in, so the exchange takes one message per second on this "
                "connection; waiting %.2f s (subscriptions asked for meanwhile go out together "
                "in one message; a stream with credentials lifts this by logging in)",
                self._url,
                wait,
            )
        await sleep_unless(wait, self._stopped())

    def _count_for(self, ws: Socket) -> None:
        if self._on is not ws:
            self._on = ws
            self._lock = asyncio.Lock()
            self._sent_at = -UNAUTH_GAP
