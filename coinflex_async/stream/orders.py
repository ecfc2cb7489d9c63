"""Order commands over the WebSocket (``placeorder(s)``, ``cancelorder(s)``,
``modifyorder(s)``): thin glue over the client's one order path. The rules are REST's, in one
place each: ``recvWindow`` and the ``timestamp`` stamp, splitting a batch, matching answers
(``_batches``); recovery, and what a single order's result is (``_orders``). What is the
stream's own: a batch is packed per message up to the exchange's message length (REST's
requests of 8 are an HTTP limit), each order carries ``timestamp``/``recvWindow`` (the docs'
WebSocket form), and the message goes out on the connection, once logged in, within the
account's order rate."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import msgspec

from .._batches import (
    WS_MAX_MESSAGE_LENGTH,
    WS_MAX_ORDERS,
    WireOrder,
    match_answers,
    recv_window_or,
    split_batch,
    window_fields,
)
from .._errors import AuthenticationError, StreamClosedError, TransportError
from .._order_results import accepted_order
from .._orders import OrderKind
from .._ratelimit import WS_ORDERS
from .._validation import check_response_type
from ..models import AcceptedOrder, OrderResult
from .connection import Connection
from .context import StreamContext
from .protocol import order_result
from .session import Session

__all__ = ["OrderCommands"]

_encode = msgspec.json.Encoder().encode
# The tag is at most 32 characters (the docs); counted at its longest.
_LONGEST_TAG = "9" * 32


def _overhead(op: str) -> int:
    """The characters of a batch message around its orders (the ``dataArray`` left empty)."""
    return len(_encode({"op": op, "dataArray": [], "tag": _LONGEST_TAG}))


class OrderCommands:
    """Sends order commands on one stream; ``Stream``'s order methods call ``run`` and
    ``run_one``."""

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

    async def run_one(
        self,
        kind: OrderKind,
        op: str,
        order: WireOrder,
        recv_window: int | None,
        response_type: object,
    ) -> AcceptedOrder:
        """A single-order command (``placeorder``...): the order as accepted, as REST's
        single-order calls give it, or ``OrderRejectedError``."""
        (result,) = await self.run(kind, op, [order], recv_window, response_type)
        return accepted_order(result, order, f"WebSocket {op}", status=None)

    async def run(
        self,
        kind: OrderKind,
        op: str,
        wire: Sequence[WireOrder],
        recv_window: int | None,
        response_type: object,
    ) -> list[OrderResult]:
        """One command for ``wire`` (a batch longer than one message allows is split, the
        messages sent at once); one result per order, in input order."""
        # Checked as REST checks it; the exchange's WebSocket commands have no responseType.
        check_response_type(response_type)
        self._check_open()
        if self._context.credentials is None:
            raise AuthenticationError(
                "order commands need api_key and api_secret",
                status=None,
                endpoint=f"WebSocket {op}",
            )
        window = recv_window_or(recv_window, self._context.recv_window)
        if op.endswith("s"):
            # An order's length as sent: its JSON with the window fields spliced in (see
            # _item), the stamp's digits as they will be when it goes.
            stamp = len(_encode(window_fields(window))) - 1
            chunks = split_batch(
                wire,
                max_count=WS_MAX_ORDERS,
                max_length=WS_MAX_MESSAGE_LENGTH,
                length=lambda order: len(_encode(order)) + stamp,
                overhead=_overhead(op),
            )
        else:
            chunks = [wire]
        return await self._context.recovery.run_chunks(
            kind,
            chunks,
            partial(self._command, op, window),
            recv_window=window,
            where=f"WebSocket {op}",
            stop=self._connection.stopped,
        )

    async def _command(
        self,
        op: str,
        recv_window: int,
        orders: Sequence[WireOrder],
        leaving: Callable[[], None],
    ) -> list[OrderResult]:
        """One order command on the wire; its answers, one per order, in the order sent."""
        self._check_open()

        def message() -> dict[str, Any]:
            # Stamped as it leaves: an order sent again, or after waiting out a reconnect,
            # carries the time it left.
            fields = _encode(window_fields(recv_window))
            if op.endswith("s"):
                return {"op": op, "dataArray": [_item(o, fields) for o in orders]}
            return {"op": op, "data": _item(orders[0], fields)}

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
        if len(frames) == 1 and not op.endswith("s"):
            return [order_result(frames[0], AcceptedOrder)]  # read by run_one
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


def _item(order: WireOrder, fields: bytes) -> msgspec.Raw:
    """One order as a command carries it: its JSON with ``fields`` (the encoded window object)
    spliced in before the closing brace; a wire order always has a field (its market)."""
    return msgspec.Raw(_encode(order)[:-1] + b"," + fields[1:])
