"""After a reconnect, what a reader missed while the connection was down, fetched over REST:
one account snapshot for the private channels (yielded as ``Resynced``), and each trade
channel's trades since the newest one it handed out (each handed out once: ``fresh``).

Each channel's readers already hold a ``Deferred`` entry for it in their queue (put there
before any update of the new connection could arrive); these set its result."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..models import PublicTrade
from ..models.stream import AccountSnapshot, Resynced, TradeEvent
from .channel import Channel
from .context import TradesPage

__all__ = ["PUBLIC_TRADES_LIMIT", "backfill", "resync", "trades_since"]

PUBLIC_TRADES_LIMIT = 300  # GET /v2/publictrades' largest page


def _settle(channel: Channel, events: list[Any] | None, error: BaseException | None) -> None:
    pending = channel.pending
    if pending is None or pending.done():
        return
    if error is not None:
        pending.set_exception(error)
        pending.exception()  # retrieved: its readers may have gone
    else:
        pending.set_result(events or [])


async def resync(
    channels: list[Channel], snapshot: Callable[[], Awaitable[AccountSnapshot]]
) -> None:
    """One REST snapshot for every private channel, each yielding it as ``Resynced``."""
    try:
        taken = await snapshot()
    except asyncio.CancelledError:
        raise
    except Exception as error:
        for channel in channels:
            _settle(channel, None, error)
        return
    for channel in channels:
        _settle(channel, [Resynced(channel=channel.name, snapshot=taken)], None)


async def backfill(channel: Channel, trades_page: TradesPage) -> None:
    """The trades of ``channel``'s market missed while down, from REST, each only once."""
    try:
        since = channel.last_trade_time or channel.since
        found: list[TradeEvent] = []
        if since is not None:
            found = await trades_since(trades_page, channel.market, since)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        _settle(channel, None, error)
        return
    _settle(channel, channel.fresh(found), None)


async def trades_since(trades_page: TradesPage, market: str, since: int) -> list[TradeEvent]:
    """Every trade of ``market`` from ``since`` (ms) to now, oldest first, as stream events."""
    end = time.time_ns() // 1_000_000 + 5_000  # the exchange's clock may run a little ahead
    start = since
    found: dict[str, PublicTrade] = {}
    while True:
        page = await trades_page(market, limit=PUBLIC_TRADES_LIMIT, start_time=start, end_time=end)
        new = [t for t in page if t.match_id not in found]
        for trade in new:
            found[trade.match_id] = trade
        if len(page) < PUBLIC_TRADES_LIMIT or not new:
            break
        # A full page: walk on from its far edge (pages may come newest or oldest first).
        times = [t.match_timestamp for t in page]
        if page[0].match_timestamp >= page[-1].match_timestamp:
            end = min(times)
        else:
            start = max(times)
    trades = sorted(found.values(), key=lambda t: (t.match_timestamp, _id_key(t.match_id)))
    return [
        TradeEvent(
            trade_id=t.match_id,
            price=t.match_price,
            quantity=t.match_quantity,
            side=t.side,
            market_code=market,
            timestamp=t.match_timestamp,
        )
        for t in trades
    ]


def _id_key(value: str) -> tuple[int, str]:
    return (len(value), value)  # numeric IDs compare by length first
