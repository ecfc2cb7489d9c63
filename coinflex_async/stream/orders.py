"""Order commands over the WebSocket (``placeorder(s)``, ``cancelorder(s)``,
``modifyorder(s)``) on the client's one order path (``coinflex_async._orders``): the same
validation and wire conversion as REST, and the same recovery: a command whose answer is lost
is looked up by ``client_order_id`` over REST before anything is sent again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from .._errors import (
    AuthenticationError,
    OrderRejectedError,
    StreamClosedError,
    TransportError,
    ValidationError,
)
from .._orders import MAX_BATCH, OrderKind, WireOrder, gather_batch, match_answers
from .._ratelimit import WS_ORDERS
from .._validation import check_response_type
from ..models import OrderResult
from .connection import Connection
from .context import StreamContext
from .protocol import order_result
from .session import Session

__all__ = ["OrderCommands", "accepted"]


class OrderCommands:
    """Sends order commands on one stream; ``Stream``'s order methods call ``run``."""

    def __init__(
        self,
        context: StreamContext,
        connection: Connection,
        session: Session,
        check_open: Callable[[], None],
    ) -> None:
        self._context = context
        self._connection = connection
        self._session = session
        self._check_open = check_open

    async def run(
        self,
        kind: OrderKind,
        op: str,
        wire: Sequence[WireOrder],
        recv_window: int | None,
        response_type: object,
    ) -> list[OrderResult]:
        """One command for ``wire`` (batches beyond the exchange's size split, sent at once);
        one result per order, in input order."""
        # Checked as REST checks it; the exchange's WebSocket commands have no responseType
        # and always answer in full.
        check_response_type(response_type)
        self._check_open()
        if self._context.credentials is None:
            raise AuthenticationError(
                "order commands need api_key and api_secret",
                status=None,
                endpoint=f"WebSocket {op}",
            )
        window = self.window(recv_window)
        single = op.rstrip("s")  # the batch ops answer with the single op's event
        batch = op != single

        async def send(
            to_send: Sequence[WireOrder], leaving: Callable[[], None]
        ) -> list[OrderResult]:
            return await self._command(op if batch else single, to_send, window, leaving)

        run = self._context.recovery.run
        where = f"WebSocket {op}"
        stop = self._connection.stopped
        if len(wire) <= MAX_BATCH:
            return await run(kind, wire, send, recv_window=window, where=where, stop=stop)
        chunks = [wire[i : i + MAX_BATCH] for i in range(0, len(wire), MAX_BATCH)]
        outcomes = await asyncio.gather(
            *(run(kind, c, send, recv_window=window, where=where, stop=stop) for c in chunks),
            return_exceptions=True,
        )
        return gather_batch(chunks, outcomes)

    async def _command(
        self, op: str, orders: Sequence[WireOrder], recv_window: int, leaving: Callable[[], None]
    ) -> list[OrderResult]:
        """One order command on the wire; its answers, one per order, in the order sent."""
        self._check_open()

        def message() -> dict[str, Any]:
            timestamp = time.time_ns() // 1_000_000  # stamped as it leaves
            items = []
            for order in orders:
                item = msgspec.to_builtins(order)
                item["timestamp"] = timestamp
                item["recvWindow"] = recv_window
                items.append(item)
            if op.endswith("s"):
                return {"op": op, "dataArray": items}
            return {"op": op, "data": items[0]}

        # Sent once, on a logged-in connection: while the connection is down, reconnecting or
        # logging in again the command waits for the next one, at most the client's timeout
        # or its recvWindow, whichever is shorter. Tokens are taken (once) on a ready
        # connection, just before it goes: taken earlier, while a reconnect holds the command
        # back, they would let a burst out when it is done. Cancels take them too: the
        # exchange also counts messages (50 per second).
        frames = await self._session.command(
            message,
            len(orders),
            op,
            patience=min(self._context.timeout, recv_window / 1000),
            before=lambda: self._take_tokens(len(orders)),
            leaving=leaving,
        )
        return match_answers(orders, [order_result(f) for f in frames], f"WebSocket {op}")

    async def _take_tokens(self, count: int) -> None:
        limiter = self._context.limiter
        if limiter is None:
            return
        stop = self._connection.stopped
        for _ in range(count):
            try:
                await limiter.acquire((WS_ORDERS,), lambda: stop)
            except TransportError:
                raise StreamClosedError("the stream was closed while an order waited") from None

    def window(self, recv_window: int | None) -> int:
        if recv_window is None:
            return self._context.recv_window
        if isinstance(recv_window, bool) or not isinstance(recv_window, int):
            raise ValidationError("recv_window must be an int (ms)")
        if not 0 < recv_window <= 3_600_000:
            raise ValidationError("recv_window must be from 1 to 3600000 ms")
        return recv_window


def accepted(result: OrderResult, op: str) -> OrderResult:
    """A single order's result, or ``OrderRejectedError`` when the exchange refused it."""
    if not result.success:
        raise OrderRejectedError(
            result.message,
            status=None,
            code=result.code,
            endpoint=f"WebSocket {op}",
            client_order_id=result.client_order_id,
            result=result,
        )
    return result
