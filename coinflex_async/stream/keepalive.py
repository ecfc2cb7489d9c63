"""Keep-alive of one WebSocket connection: a text ``ping`` after ``ping_interval`` of silence
(the exchange answers ``pong``); no frame at all for 1.5x that (a dead or stalled connection)
closes it, and the connection's task reconnects."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

import aiohttp

__all__ = ["SEND_ERRORS", "keep_alive"]

log = logging.getLogger("coinflex_async")

# What aiohttp raises when a frame cannot be sent (the connection is going or gone).
SEND_ERRORS = (aiohttp.ClientError, ConnectionError, RuntimeError)


async def keep_alive(
    ws: aiohttp.ClientWebSocketResponse, interval: float, heard: Callable[[], int], url: str
) -> None:
    """Watch ``ws`` until it is closed for silence (or a ping cannot be sent). ``heard()``: the
    frames received so far (a count, not a clock read per frame, which cost a trade ~1% more
    instructions).

    Silence is measured from the check that last saw the count move: up to one check (an
    eighth of the interval) shorter than the truth, never longer."""
    loop = asyncio.get_running_loop()
    heard_at, pinged_at = loop.time(), -math.inf
    frames = heard()
    while True:
        await asyncio.sleep(interval / 8)
        now = loop.time()
        if heard() != frames:
            frames, heard_at = heard(), now
            continue
        quiet = now - heard_at
        if quiet >= interval * 1.5:
            log.warning("stream %s: nothing heard for %.1f s; reconnecting", url, quiet)
            await ws.close()
            return
        if quiet >= interval and pinged_at < heard_at:
            pinged_at = now
            try:
                await ws.send_str("ping")
            except SEND_ERRORS:
                return
