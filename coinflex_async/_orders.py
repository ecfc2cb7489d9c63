"""Order recovery: one engine, used by REST batches and WebSocket order commands alike, that
never sends an order twice when a request fails ambiguously.

An order request is sent by a transport-specific ``send`` function (a REST POST/DELETE of up to
8 orders, or a WebSocket command) that returns one :class:`OrderResult` per order sent, in the
order sent. :class:`OrderRecovery` drives the attempts under the client's one
:class:`RetryPolicy`:

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
``orderId``), since the exchange may answer a batch in another order than it was sent.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

import msgspec
from msgspec.json import Decoder

from ._errors import (
    APIError,
    BatchError,
    ClientClosedError,
    DecodeError,
    OrderStatusUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._transport import RetryPolicy, Route, Transport
from .models import OrderResult, OrderStatus
from .models._base import Envelope, envelope_list_decoder
from .models._values import OrderStatusValue
from .models.requests import WireCancelOrder, WireModifyOrder, WireNewOrder

__all__ = [
    "CANCEL",
    "MAX_BATCH",
    "MODIFY",
    "PLACE",
    "BatchError",
    "OrderBatchSender",
    "OrderKind",
    "OrderRecovery",
    "batch_body",
    "gather_batch",
    "match_answers",
]

MAX_BATCH = 8
# Without retries there is one attempt, but lookups still need an interval: the policy default.
_NO_RETRY = RetryPolicy(attempts=1)
# Per-order refusals that mean "not applied, too rapid": sent again after the policy's wait.
_TOO_RAPID = frozenset({"20007"})

log = logging.getLogger("coinflex_async")

WireOrder = WireNewOrder | WireModifyOrder | WireCancelOrder
# Sends some orders once; returns one result per order, in the order given. It calls its second
# argument when the request is about to go on the wire (it may reach the exchange from then on).
Send = Callable[[Sequence[WireOrder], Callable[[], None]], Awaitable[list[OrderResult]]]

_results = envelope_list_decoder(OrderResult)
_history = envelope_list_decoder(OrderStatus)
_encoder = msgspec.json.Encoder()


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
        return None if found is None else _result_from(found, order)


class _Cancel(OrderKind):
    name = "cancel"

    async def find(self, history: _History, order: Any) -> OrderStatus | None:
        if order.order_id is not None:
            return await history.newest(f"orderId={order.order_id}", order.market_code)
        return await super().find(history, order)

    def settled(self, order: Any, found: OrderStatus | None) -> OrderResult | None:
        if found is not None and found.status == "OrderClosed":
            return _result_from(found, order)
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
            return _result_from(found, order)
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

        ``stop`` (optional) ends lookups at once when it resolves (a WebSocket stream closing):
        orders still unsettled then raise ``OrderStatusUnknownError``.
        """
        policy = self.policy
        answered: dict[int, OrderResult] = {}
        pending = list(range(len(orders)))
        to_send = orders
        attempt = 0
        sent_at = 0.0
        in_doubt = False  # a request that may have reached the exchange is not settled yet

        def leaving() -> None:
            nonlocal in_doubt
            in_doubt = True

        try:
            while True:
                attempt += 1
                if attempt > 1:
                    to_send = [orders[i] for i in pending]
                sent_at = time.monotonic()
                try:
                    results = await send(to_send, leaving)
                except RateLimitError as exc:
                    # Refused before it was applied: wait as told, then send again.
                    in_doubt = False
                    if attempt >= policy.attempts or not policy.is_retryable(exc):
                        raise
                    await self._sleep(policy.wait_after(exc, attempt), stop)
                    continue
                except (TransportError, ServerError, DecodeError) as exc:
                    if isinstance(exc, TransportError) and not exc.request_sent:
                        in_doubt = False
                        if attempt >= policy.attempts or self._transport.closed:
                            raise
                        await self._sleep(policy.wait_after(exc, attempt), stop)
                        continue
                    # Ambiguous: find out before anything is re-sent.
                    resolved = await self._recover(
                        kind, orders, pending, exc, sent_at, recv_window, where, stop
                    )
                    in_doubt = False
                    answered.update(resolved)
                    pending = [i for i in pending if i not in resolved]
                    if not pending:
                        return [answered[i] for i in range(len(orders))]
                    if attempt >= policy.attempts:
                        # Proven not applied, but no attempts left: a clear error.
                        raise
                    continue
                in_doubt = False
                for result in results:
                    if not result.success and result.code in _TOO_RAPID:
                        break
                else:
                    if len(pending) == len(orders):
                        return results  # the common case: all answered at the first try
                    answered.update(zip(pending, results, strict=True))
                    return [answered[i] for i in range(len(orders))]
                # Some orders were refused as too rapid (not applied): send those again.
                refused = []
                for index, result in zip(pending, results, strict=True):
                    if not result.success and result.code in _TOO_RAPID:
                        refused.append(index)
                    answered[index] = result
                if attempt >= policy.attempts:
                    return [answered[i] for i in range(len(orders))]
                pending = refused
                await self._sleep(policy.wait_after(None, attempt), stop)
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

    async def _sleep(self, seconds: float, stop: asyncio.Future[None] | None) -> None:
        """Sleep, ending at once when the client closes (or ``stop`` resolves)."""
        if seconds <= 0 or self._transport.closed:
            return
        waits: list[asyncio.Future[None]] = [self._transport.closed_future()]
        if stop is not None:
            waits.append(stop)
        await asyncio.wait(waits, timeout=seconds)

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
        while True:
            await self._sleep(max(0.0, min(interval, deadline - time.monotonic())), stop)
            if stop is not None and stop.done():
                raise self._unknown(where, orders[waiting[0]], cause, "the stream was closed")
            past_deadline = time.monotonic() >= deadline
            settled, failed = await self._look_up(kind, orders, waiting)
            metrics = self._transport.metrics
            if metrics is not None:
                for _ in settled:
                    metrics.order_recovered("found")
            resolved.update(settled)
            waiting = [i for i in waiting if i not in settled]
            if not waiting:
                return resolved
            closed = any(isinstance(error, ClientClosedError) for _, error in failed)
            if past_deadline or closed:
                if not failed:
                    if metrics is not None:
                        for _ in waiting:
                            metrics.order_recovered("absent")
                    return resolved  # every order left was seen absent (or unchanged)
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
        run = self.recovery.run
        if len(orders) <= MAX_BATCH:
            return await run(kind, orders, post, recv_window=recv_window, where=route.name)
        chunks = [orders[i : i + MAX_BATCH] for i in range(0, len(orders), MAX_BATCH)]
        outcomes = await asyncio.gather(
            *(run(kind, c, post, recv_window=recv_window, where=route.name) for c in chunks),
            return_exceptions=True,
        )
        return gather_batch(chunks, outcomes)

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


def batch_body(orders: Sequence[WireOrder], recv_window: int | None, response_type: str) -> bytes:
    """The JSON body of POST /v2/orders/place|modify, DELETE /v2/orders/cancel."""
    payload: dict[str, Any] = {}
    if recv_window is not None:
        payload["recvWindow"] = recv_window
    payload["responseType"] = response_type
    payload["timestamp"] = time.time_ns() // 1_000_000
    payload["orders"] = orders
    return _encoder.encode(payload)


def gather_batch(
    chunks: Sequence[Sequence[WireOrder]], outcomes: Sequence[list[OrderResult] | BaseException]
) -> list[OrderResult]:
    """The results of a split batch in input order, or ``BatchError`` if any part failed."""
    results: list[OrderResult | None] = []
    errors: list[BaseException] = []
    for chunk, outcome in zip(chunks, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, Exception):
                raise outcome  # cancellation and the like are not the batch's to report
            errors.append(outcome)
            results.extend([None] * len(chunk))
        else:
            results.extend(outcome)
    if errors:
        raise BatchError(errors, results) from errors[0]
    return [r for r in results if r is not None]


def _result_from(found: OrderStatus, order: WireOrder) -> OrderResult:
    """An order result as a direct answer would have it, built from the order history: the
    history's status (OrderOpened/OrderMatched/OrderClosed) is a direct answer's ``notice``;
    its ``status`` (OPEN, PARTIALLY_FILLED, FILLED) follows from the fills. Why an order was
    closed (CANCELED_BY_USER, _BY_IOC, ...) the history does not say: ``status`` is then None."""
    return OrderResult(
        success=True,
        client_order_id=found.client_order_id or order.client_order_id,
        order_id=found.order_id,
        price=found.price,
        quantity=found.quantity,
        remain_quantity=found.remain_quantity,
        side=found.side,
        status=_direct_status(found),
        market_code=found.market_code or order.market_code,
        time_in_force=found.time_in_force,
        notice=found.status,
        order_type=found.order_type,
        is_triggered=found.is_triggered,
    )


def _direct_status(found: OrderStatus) -> OrderStatusValue | None:
    if found.status == "OrderOpened":
        return "PARTIALLY_FILLED" if found.filled_quantity else "OPEN"
    return "FILLED" if found.status == "OrderMatched" else None


def match_answers(
    sent: Sequence[WireOrder], items: list[OrderResult], where: str
) -> list[OrderResult]:
    """The answers in the order of the orders sent; APIError if some order got none."""
    if len(sent) == 1 and len(items) == 1:
        return items  # one order, one answer: nothing to match
    by_coid: dict[str, deque[int]] = defaultdict(deque)
    by_oid: dict[str, deque[int]] = defaultdict(deque)
    for index, order in enumerate(sent):
        if order.client_order_id is not None:
            by_coid[order.client_order_id].append(index)
        oid = getattr(order, "order_id", None)
        if oid is not None:
            by_oid[oid].append(index)
    matched: dict[int, OrderResult] = {}
    leftovers: list[OrderResult] = []
    for item in items:
        found = _take(by_coid, item.client_order_id, matched)
        if found is None:
            found = _take(by_oid, item.order_id, matched)
        if found is None:
            leftovers.append(item)
        else:
            matched[found] = item
    # Answers that name neither ID fill the remaining places in order.
    free = [i for i in range(len(sent)) if i not in matched]
    for index, item in zip(free, leftovers, strict=False):
        matched[index] = item
    if len(matched) < len(sent):
        raise APIError(
            f"the exchange answered {len(items)} of {len(sent)} orders", status=200, endpoint=where
        )
    return [matched[i] for i in range(len(sent))]


def _take(
    table: dict[str, deque[int]], key: str | None, matched: dict[int, OrderResult]
) -> int | None:
    if key is None:
        return None
    queue = table.get(key)
    while queue:
        index = queue.popleft()
        if index not in matched:
            return index
    return None


def _add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)``, which Python 3.10 lacks: there the note is kept in
    ``__notes__`` as 3.11 keeps it (readable by code; 3.10's tracebacks do not show it)."""
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:
        error.__notes__ = [*getattr(error, "__notes__", []), note]
