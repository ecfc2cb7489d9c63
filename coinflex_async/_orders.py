"""Order recovery: one engine, used by REST batches and WebSocket order commands alike, that
never sends an order twice when a request fails ambiguously.

An order request is sent by a transport-specific ``send`` function (a REST POST/DELETE of up to
8 orders, or a WebSocket command) that returns one :class:`OrderResult` per order sent, in the
order sent. :class:`OrderRecovery` drives the attempts under the client's one
:class:`RetryPolicy`, through the one retry engine (``coinflex_async._retry.run``), which
repeats an attempt only for orders proven not applied:

- refused before it was applied (429 / "too rapid", or a connection that never carried it):
  sent again after the policy's wait (``Retry-After`` honoured), within ``attempts``;
- fate unknown (the connection broke after it was sent, a timeout, a 5xx that may have come from
  a proxy after the exchange applied it, an answer cut short or garbled, a WebSocket reply lost
  to a disconnect): never simply sent again. Each of its orders is first looked up by
  ``clientOrderId`` in the order history (GET /v2.1/orders), every ``lookup_interval``:

  - place: found -> the result is built from what was found (success true); proven absent ->
    sent again (bounded by ``attempts``); lookup fails -> ``OrderStatusUnknownError``.
  - cancel: found closed -> success; still open -> cancel sent again; else unknown.
  - modify: found with the requested price and quantity -> success; otherwise sent again.

An order is declared absent only after ``recvWindow`` (default 5,000 ms, sent with every order
request) plus one lookup interval has passed since the request left: the exchange refuses a
request older than its ``recvWindow``, so an order not found then can no longer appear. This
assumes the exchange's clock is within one lookup interval of ours.

A caller that cancels an order call whose request may have left gets its ``CancelledError`` at
once (with the client order IDs in a note); the orders are settled in the background and the
outcome logged at WARNING on the ``coinflex_async`` logger, with each ``client_order_id``.

REST batches are split into requests of 8 (the exchange's maximum), sent concurrently and
answered in input order; answers are matched back to orders by ``clientOrderId`` (then
``orderId``), since the exchange may answer a batch in another order than it was sent (the
splitting, stamping and matching are ``_batches``'s, shared with the WebSocket commands).

A single-order call (``place_order``, ``modify_order``, ``cancel_order``) over either transport
reads its one result with ``_order_results.accepted_order`` (``OrderRejectedError`` when
refused, else an ``AcceptedOrder``; what the answer lacks and the request states comes from
the request).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from msgspec.json import Decoder

from ._batches import (
    MAX_BATCH,
    MAX_RECV_WINDOW,
    WS_MAX_MESSAGE_LENGTH,
    WS_MAX_ORDERS,
    WireOrder,
    batch_body,
    gather_batch,
    match_answers,
    recv_window_or,
    split_batch,
    window_fields,
)
from ._errors import (
    BatchError,
    ClientClosedError,
    DecodeError,
    OrderStatusUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._order_results import result_from_history
from ._retry import FOREVER, RetryPolicy, sleep_unless
from ._retry import run as run_retries
from ._transport import Route, Transport
from .models import OrderResult, OrderStatus
from .models._base import Envelope, envelope_list_decoder

# The pieces of an order request live in _batches; named here too for code that imports them
# from here (benchmarks.micro).
__all__ = [
    "CANCEL",
    "MAX_BATCH",
    "MAX_RECV_WINDOW",
    "MODIFY",
    "PLACE",
    "WS_MAX_MESSAGE_LENGTH",
    "WS_MAX_ORDERS",
    "BatchError",
    "WireOrder",
    "OrderBatchSender",
    "OrderKind",
    "OrderRecovery",
    "batch_body",
    "gather_batch",
    "match_answers",
    "recv_window_or",
    "split_batch",
    "window_fields",
]

# Without retries there is one attempt, but lookups still need an interval: the policy default.
_NO_RETRY = RetryPolicy(attempts=1)
# Per-order refusals that mean "not applied, too rapid": sent again after the policy's wait.
_TOO_RAPID = frozenset({"20007"})

log = logging.getLogger("coinflex_async")

# Sends some orders once; returns one result per order, in the order given. It calls its second
# argument when the request is about to go on the wire (it may reach the exchange from then on).
Send = Callable[[Sequence[WireOrder], Callable[[], None]], Awaitable[list[OrderResult]]]

_results = envelope_list_decoder(OrderResult)
_history = envelope_list_decoder(OrderStatus)


class OrderKind:
    """What an order request does, and so how a lookup settles it."""

    name = ""

    async def find(self, history: _History, order: Any) -> OrderStatus | None:
        """The order's newest history entry, or None if it has none."""
        return await history.newest(f"clientOrderId={order.client_order_id}", order.market_code)

    def settled(self, order: Any, found: OrderStatus | None) -> OrderResult | None:
        """A result when the lookup settles the order; None when it may be sent again."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"OrderKind({self.name!r})"


class _Place(OrderKind):
    name = "place"

    def settled(self, order: Any, found: OrderStatus | None) -> OrderResult | None:
        return None if found is None else result_from_history(found, order)


class _Cancel(OrderKind):
    name = "cancel"

    async def find(self, history: _History, order: Any) -> OrderStatus | None:
        if order.order_id is not None:
            return await history.newest(f"orderId={order.order_id}", order.market_code)
        return await super().find(history, order)

    def settled(self, order: Any, found: OrderStatus | None) -> OrderResult | None:
        if found is not None and found.status == "OrderClosed":
            return result_from_history(found, order)
        return None


class _Modify(OrderKind):
    """A modify is a cancel-replace at the exchange (the replacement gets a new orderId and keeps
    the clientOrderId), so it is found by its clientOrderId, which a modify that names only the
    old orderId learns from the old order's entry first."""

    name = "modify"

    async def find(self, history: _History, order: Any) -> OrderStatus | None:
        if order.client_order_id is not None:
            return await super().find(history, order)
        old = await history.newest(f"orderId={order.order_id}", order.market_code)
        if old is None or old.client_order_id is None:
            return old
        return await history.newest(f"clientOrderId={old.client_order_id}", order.market_code)

    def settled(self, order: Any, found: OrderStatus | None) -> OrderResult | None:
        if found is None:
            return None
        if (order.price is None or found.price == Decimal(order.price)) and (
            order.quantity is None or found.quantity == Decimal(order.quantity)
        ):
            return result_from_history(found, order)
        return None


PLACE: OrderKind = _Place()
MODIFY: OrderKind = _Modify()
CANCEL: OrderKind = _Cancel()


class _History:
    """GET /v2.1/orders, newest entry first."""

    __slots__ = ("_route", "_transport")

    def __init__(self, transport: Transport, route: Route) -> None:
        self._transport = transport
        self._route = route

    async def newest(self, query: str, market_code: str) -> OrderStatus | None:
        query = f"{query}&marketCode={market_code}"
        envelope = await self._transport.request(self._route, _history, query=query)
        return envelope.data[0] if envelope.data else None


class OrderRecovery:
    """Sends orders through a transport's ``send`` under the retry policy, settling by lookup
    every request whose fate is unknown (see the module docstring)."""

    def __init__(
        self, transport: Transport, *, history_route: Route, retry: RetryPolicy | None
    ) -> None:
        self._transport = transport
        self._history = _History(transport, history_route)
        self.policy = retry if retry is not None else _NO_RETRY
        self._background: set[asyncio.Task[None]] = set()

    async def run(
        self,
        kind: OrderKind,
        orders: Sequence[WireOrder],
        send: Send,
        *,
        recv_window: int | None,
        where: str,
        stop: asyncio.Future[None] | None = None,
    ) -> list[OrderResult]:
        """Send ``orders`` until each is answered or settled; results in input order.

        Each attempt sends the orders still pending; the retry engine repeats an attempt only
        for orders proven not applied: refused before they were applied (429, "too rapid", a
        connection that never opened) or, after an ambiguous failure, not found by the lookup
        the attempt itself made. ``stop`` (optional) ends lookups at once when it resolves (a
        WebSocket stream closing): orders still unsettled then raise ``OrderStatusUnknownError``.
        """
        policy = self.policy
        answered: dict[int, OrderResult] = {}
        pending = list(range(len(orders)))
        refused: list[int] = []  # the last answer's orders refused as too rapid
        not_applied: BaseException | None = None  # an ambiguous failure the lookup settled
        sent_at = 0.0
        in_doubt = False  # a request that may have reached the exchange is not settled yet

        def leaving() -> None:
            nonlocal in_doubt, sent_at
            in_doubt = True
            # Stamped no earlier than now (a WebSocket command may wait out a reconnect or
            # for tokens first): absence is concluded only a recvWindow after it left.
            sent_at = time.monotonic()

        async def attempt() -> list[OrderResult]:
            nonlocal pending, refused, not_applied, sent_at, in_doubt
            to_send = orders if len(pending) == len(orders) else [orders[i] for i in pending]
            sent_at = time.monotonic()
            try:
                results = await send(to_send, leaving)
            except RateLimitError:
                in_doubt = False  # refused before it was applied
                raise
            except (TransportError, ServerError, DecodeError) as exc:
                if isinstance(exc, TransportError) and not exc.request_sent:
                    in_doubt = False  # the connection never carried it
                    raise
                # Ambiguous: find out before anything is sent again.
                resolved = await self._recover(
                    kind, orders, pending, exc, sent_at, recv_window, where, stop
                )
                in_doubt = False
                answered.update(resolved)
                pending = [i for i in pending if i not in resolved]
                if not pending:
                    return [answered[i] for i in range(len(orders))]
                not_applied = exc  # proven not applied: may be sent again, at once
                raise
            in_doubt = False
            refused = [
                index
                for index, result in zip(pending, results, strict=True)
                if not result.success and result.code in _TOO_RAPID
            ]
            if not refused and len(pending) == len(orders):
                return results  # the common case: all answered at the first try
            answered.update(zip(pending, results, strict=True))
            if refused:
                pending = refused  # sent again if the engine allows, else answered as refused
            return [answered[i] for i in range(len(orders))]

        def retry_on(error: BaseException) -> bool:
            if isinstance(error, RateLimitError):
                return policy.is_retryable(error)
            if error is not_applied:
                return True
            return (
                isinstance(error, TransportError)
                and not error.request_sent
                and not self._transport.closed
            )

        def wait(error: BaseException | None, attempt: int) -> float:
            if error is not None and error is not_applied:
                return 0.0  # the lookup that proved the orders absent waited long enough
            return policy.wait_after(error, attempt)

        async def pause(seconds: float) -> None:
            await self._sleep(seconds, stop)

        try:
            return await run_retries(
                attempt,
                policy,
                retry_on=retry_on,
                again=lambda _: bool(refused),
                wait=wait,
                sleep=pause,
                name=where,
            )
        except asyncio.CancelledError as cancelled:
            if in_doubt:
                ids = [orders[i].client_order_id for i in pending]
                _add_note(
                    cancelled,
                    f"{where}: cancelled with client_order_id(s) {ids} in flight; "
                    "they are being settled in the background (see the log)",
                )
                self._settle_in_background(kind, orders, pending, sent_at, recv_window, where)
            raise

    async def run_chunks(
        self,
        kind: OrderKind,
        chunks: Sequence[Sequence[WireOrder]],
        send: Send,
        *,
        recv_window: int | None,
        where: str,
        stop: asyncio.Future[None] | None = None,
    ) -> list[OrderResult]:
        """:meth:`run` for each chunk of a split batch (:func:`split_batch`), concurrently;
        the results in input order, or ``BatchError`` (with the results of the chunks that
        succeeded) when any failed."""
        if len(chunks) == 1:
            return await self.run(
                kind, chunks[0], send, recv_window=recv_window, where=where, stop=stop
            )
        outcomes = await asyncio.gather(
            *(
                self.run(kind, c, send, recv_window=recv_window, where=where, stop=stop)
                for c in chunks
            ),
            return_exceptions=True,
        )
        return gather_batch(chunks, outcomes)

    async def _sleep(self, seconds: float, stop: asyncio.Future[None] | None) -> None:
        """Sleep, ending at once when the client closes (or ``stop`` resolves)."""
        if self._transport.closed:
            return
        closed = self._transport.closed_future()
        stops = (closed,) if stop is None else (closed, stop)
        await sleep_unless(seconds, *stops)

    async def _recover(
        self,
        kind: OrderKind,
        orders: Sequence[WireOrder],
        pending: list[int],
        cause: BaseException,
        sent_at: float,
        recv_window: int | None,
        where: str,
        stop: asyncio.Future[None] | None,
    ) -> dict[int, OrderResult]:
        """Look the pending orders up; return those settled, raise if any cannot be settled.

        Lookups repeat every lookup interval until each order is found or the request can no
        longer be applied (``recvWindow`` after it was sent, plus one interval for the lookup's
        own travel; without a recvWindow, one interval is a best guess): an applied order is
        usually found at the first lookup, and absence is concluded only once the exchange would
        refuse the original request. A lookup that fails (it is a GET, already retried) is asked
        again in later rounds; one still failing a few rounds past the deadline leaves the
        order's fate unknown.
        """
        interval = self.policy.lookup_interval
        window = recv_window / 1000 if recv_window is not None else 0.0
        deadline = sent_at + window + interval
        rounds_after_deadline = self.policy.attempts
        resolved: dict[int, OrderResult] = {}
        waiting = list(pending)
        metrics = self._transport.metrics

        async def look_up() -> bool:
            """One round of lookups; True when nothing is left to look up."""
            nonlocal waiting, rounds_after_deadline
            if stop is not None and stop.done():
                raise self._unknown(where, orders[waiting[0]], cause, "the stream was closed")
            past_deadline = time.monotonic() >= deadline
            settled, failed = await self._look_up(kind, orders, waiting)
            if metrics is not None:
                for _ in settled:
                    metrics.order_recovered("found")
            resolved.update(settled)
            waiting = [i for i in waiting if i not in settled]
            if not waiting:
                return True
            closed = any(isinstance(error, ClientClosedError) for _, error in failed)
            if past_deadline or closed:
                if not failed:
                    if metrics is not None:
                        for _ in waiting:
                            metrics.order_recovered("absent")
                    return True  # every order left was seen absent (or unchanged)
                rounds_after_deadline -= 1
                if rounds_after_deadline <= 0 or closed:
                    if metrics is not None:
                        for _ in failed:
                            metrics.order_recovered("unknown")
                    index, error = failed[0]
                    raise self._unknown(
                        where, orders[index], cause, f"looking it up failed too ({error})"
                    )
                waiting = [index for index, _ in failed]
            return False

        def until_next(_error: BaseException | None = None, _attempt: int = 0) -> float:
            # Every interval until the deadline; the round at the deadline decides absence.
            return max(0.0, min(interval, deadline - time.monotonic()))

        async def pause(seconds: float) -> None:
            await self._sleep(seconds, stop)

        await pause(until_next())  # an order just applied is seldom visible at once
        await run_retries(
            look_up,
            self.policy,
            retry_on=lambda _: False,  # a round's own failures are the round's to count
            again=lambda done: not done,
            wait=until_next,
            attempts=FOREVER,  # bounded by the deadline and the rounds after it
            sleep=pause,
            name=f"{where}: order lookup",
        )
        return resolved

    @staticmethod
    def _unknown(
        where: str, order: WireOrder, cause: BaseException, why: str
    ) -> OrderStatusUnknownError:
        error = OrderStatusUnknownError(
            f"{where}: the request failed ({cause}) and {why}: "
            f"client_order_id={order.client_order_id}",
            client_order_id=order.client_order_id,
        )
        error.__cause__ = cause
        return error

    async def _look_up(
        self, kind: OrderKind, orders: Sequence[WireOrder], pending: list[int]
    ) -> tuple[dict[int, OrderResult], list[tuple[int, BaseException]]]:
        """One round of lookups: the orders it settles, and the lookups that failed."""
        lookups = await asyncio.gather(
            *(kind.find(self._history, orders[i]) for i in pending), return_exceptions=True
        )
        resolved: dict[int, OrderResult] = {}
        failed: list[tuple[int, BaseException]] = []
        for index, found in zip(pending, lookups, strict=True):
            if isinstance(found, BaseException):
                if not isinstance(found, Exception):
                    raise found  # cancellation is not a lookup failure
                failed.append((index, found))
                continue
            result = kind.settled(orders[index], found)
            if result is not None:
                resolved[index] = result
        return resolved, failed

    def _settle_in_background(
        self,
        kind: OrderKind,
        orders: Sequence[WireOrder],
        pending: list[int],
        sent_at: float,
        recv_window: int | None,
        where: str,
    ) -> None:
        ids = [orders[i].client_order_id for i in pending]
        log.warning(
            "%s: cancelled with client_order_id(s) %s in flight; settling them in the background",
            where,
            ", ".join(str(i) for i in ids),
        )
        task = asyncio.get_running_loop().create_task(
            self._settle_late(kind, orders, list(pending), sent_at, recv_window, where)
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _settle_late(
        self,
        kind: OrderKind,
        orders: Sequence[WireOrder],
        pending: list[int],
        sent_at: float,
        recv_window: int | None,
        where: str,
    ) -> None:
        cause = TransportError(f"{where}: the call was cancelled")
        try:
            resolved = await self._recover(
                kind, orders, pending, cause, sent_at, recv_window, where, None
            )
        except OrderStatusUnknownError as error:
            log.warning("%s (after a cancelled call)", error)
            return
        for index in pending:
            order = orders[index]
            result = resolved.get(index)
            if result is None:
                log.warning(
                    "%s: cancelled call, client_order_id=%s: not applied at the exchange",
                    where,
                    order.client_order_id,
                )
            else:
                log.warning(
                    "%s: cancelled call, client_order_id=%s: applied at the exchange "
                    "(order_id=%s, %s)",
                    where,
                    order.client_order_id,
                    result.order_id,
                    result.notice,
                )


class OrderBatchSender:
    """Sends place/modify/cancel batches over REST for one client: requests of 8, through the
    recovery engine."""

    def __init__(
        self,
        transport: Transport,
        *,
        history_route: Route,
        retry: RetryPolicy | None,
    ) -> None:
        self._transport = transport
        self.recovery = OrderRecovery(transport, history_route=history_route, retry=retry)

    async def send(
        self,
        route: Route,
        kind: OrderKind,
        orders: Sequence[WireOrder],
        *,
        recv_window: int | None,
        response_type: str,
        answers: Decoder[Envelope[list[OrderResult]]] = _results,
    ) -> list[OrderResult]:
        """``answers`` decodes a response (a single-order call passes one of a subclass)."""
        # Errors that stop every request before it is sent are the caller's, not the batch's.
        self._transport.check_ready(route)
        post = partial(self._post, route, recv_window, response_type, answers)
        chunks = split_batch(orders, max_count=MAX_BATCH)
        return await self.recovery.run_chunks(
            kind, chunks, post, recv_window=recv_window, where=route.name
        )

    async def _post(
        self,
        route: Route,
        recv_window: int | None,
        response_type: str,
        answers: Decoder[Envelope[list[OrderResult]]],
        to_send: Sequence[WireOrder],
        leaving: Callable[[], None],
    ) -> list[OrderResult]:
        body = batch_body(to_send, recv_window, response_type)
        envelope = await self._transport.request(
            route, answers, body=body, retry=False, leaving=leaving
        )
        return match_answers(to_send, envelope.data, route.name)


def _add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)``, which Python 3.10 lacks: there the note is kept in
    ``__notes__`` as 3.11 keeps it (readable by code; 3.10's tracebacks do not show it)."""
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:
        error.__notes__ = [*getattr(error, "__notes__", []), note]
