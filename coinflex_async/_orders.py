"""Order batches: split into requests of 8, sent concurrently, answered in input order, and
never duplicated when a request fails ambiguously.

The exchange takes at most 8 orders per place/modify/cancel request and may answer a batch in
another order than it was sent (the docs' modify example puts failures first), so answers are
matched back to requests by ``clientOrderId`` (then ``orderId``).

When a request's fate is unknown (the connection broke after it was sent, a timeout, a 5xx that
may have come from a proxy after the exchange applied it, an answer cut short or garbled), it is
never simply sent again: each of its orders is first looked up by ``clientOrderId`` in the order
history (GET /v2.1/orders).

- place: found -> the result is built from what was found (success true); proven absent ->
  sent again (bounded by the retry policy); lookup fails -> ``OrderStatusUnknownError``.
- cancel: found closed -> success; still open -> cancel sent again; else unknown.
- modify: found with the requested price and quantity -> success; otherwise sent again.

A request refused before it was applied (429, or a connection that never opened) is simply sent
again after the wait. Orders are looked up every settle delay; an order is declared absent only
after ``recvWindow`` (default 5,000 ms, sent with every order request) plus a settle delay has
passed since the request left: the exchange refuses a request older than its ``recvWindow``, so
an order not found then can no longer appear. This assumes the exchange's clock is within the
settle delay of ours.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec
from msgspec.json import Decoder

from ._errors import (
    APIError,
    ClientClosedError,
    CoinFlexError,
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

__all__ = ["MAX_BATCH", "BatchError", "OrderBatchSender"]

MAX_BATCH = 8
SETTLE_DELAY = 0.5  # seconds between lookups of orders when retries are off (else RetryPolicy's)

WireOrder = WireNewOrder | WireModifyOrder | WireCancelOrder

_results = envelope_list_decoder(OrderResult)
_history = envelope_list_decoder(OrderStatus)
_encoder = msgspec.json.Encoder()


class BatchError(CoinFlexError):
    """Raised by the batch methods when some requests of a split batch failed.

    ``errors`` holds the exception of each failed request; ``results`` the per-order results in
    input order, ``None`` where the order's request failed. The first error is also the cause.
    """

    def __init__(self, errors: list[BaseException], results: list[OrderResult | None]) -> None:
        self.errors = errors
        self.results = results
        done = sum(r is not None for r in results)
        super().__init__(
            f"{len(errors)} of the batch's requests failed ({done} of {len(results)} orders "
            f"answered): {errors[0]}"
        )


class OrderBatchSender:
    """Sends place/modify/cancel batches for one client."""

    def __init__(
        self,
        transport: Transport,
        *,
        history_route: Route,
        retry: RetryPolicy | None,
    ) -> None:
        self._transport = transport
        self._history_route = history_route
        self._retry = retry
        self._settle_delay = retry.lookup_interval if retry is not None else SETTLE_DELAY

    async def send(
        self,
        route: Route,
        kind: str,
        orders: Sequence[WireOrder],
        *,
        recv_window: int | None,
        response_type: str,
        answers: Decoder[Envelope[list[OrderResult]]] = _results,
    ) -> list[OrderResult]:
        """``answers`` decodes a response (a single-order call passes one of a subclass)."""
        # Errors that stop every request before it is sent are the caller's, not the batch's.
        self._transport.check_ready(route)
        chunks = [orders[i : i + MAX_BATCH] for i in range(0, len(orders), MAX_BATCH)]
        if len(chunks) == 1:
            return await self._send_chunk(
                route, kind, chunks[0], recv_window, response_type, answers
            )
        outcomes = await asyncio.gather(
            *(
                self._send_chunk(route, kind, c, recv_window, response_type, answers)
                for c in chunks
            ),
            return_exceptions=True,
        )
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

    def _body(
        self, chunk: Sequence[WireOrder], recv_window: int | None, response_type: str
    ) -> bytes:
        payload: dict[str, Any] = {}
        if recv_window is not None:
            payload["recvWindow"] = recv_window
        payload["responseType"] = response_type
        payload["timestamp"] = time.time_ns() // 1_000_000
        payload["orders"] = chunk
        return _encoder.encode(payload)

    async def _send_chunk(
        self,
        route: Route,
        kind: str,
        chunk: Sequence[WireOrder],
        recv_window: int | None,
        response_type: str,
        answers: Decoder[Envelope[list[OrderResult]]],
    ) -> list[OrderResult]:
        answered: dict[int, OrderResult] = {}
        pending = list(range(len(chunk)))
        attempts = self._retry.attempts if self._retry is not None else 1
        attempt = 0
        to_send = chunk
        while True:
            attempt += 1
            if attempt > 1:
                to_send = [chunk[i] for i in pending]
            sent_at = time.monotonic()
            try:
                envelope = await self._transport.request(
                    route,
                    answers,
                    body=self._body(to_send, recv_window, response_type),
                    retry=False,
                )
            except RateLimitError as exc:
                # Refused before it was applied: wait as told, then send again.
                if attempt >= attempts or self._retry is None:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else self._backoff(attempt)
                if wait > self._retry.max_retry_after:
                    raise
                await asyncio.sleep(wait)
                continue
            except (TransportError, ServerError, DecodeError) as exc:
                # Ambiguous: the request may have been applied (a reset after sending, a
                # timeout, a 5xx from a proxy, or an answer that arrived cut or garbled).
                if isinstance(exc, TransportError) and not exc.request_sent:
                    # Never sent (no connection, no rate-limit token): safe to send again,
                    # unless the client was closed meanwhile (no retry follows a close).
                    if attempt >= attempts or self._retry is None or self._transport.closed:
                        raise
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                # Find out before anything is re-sent.
                resolved = await self._recover(
                    route, kind, chunk, pending, exc, sent_at, recv_window
                )
                answered.update(resolved)
                pending = [i for i in pending if i not in resolved]
                if not pending:
                    return [answered[i] for i in range(len(chunk))]
                if attempt >= attempts or self._retry is None:
                    # Proven not applied, but no attempts left: a clear error, nothing applied.
                    raise
                continue
            answered.update(_match(to_send, pending, envelope.data))
            if len(answered) < len(chunk):
                raise APIError(
                    f"the exchange answered {len(envelope.data)} of {len(to_send)} orders",
                    status=200,
                    endpoint=route.name,
                )
            return [answered[i] for i in range(len(chunk))]

    def _backoff(self, attempt: int) -> float:
        if self._retry is None:
            return 0.0
        return min(self._retry.max_backoff, self._retry.backoff * 2.0 ** (attempt - 1))

    async def _recover(
        self,
        route: Route,
        kind: str,
        chunk: Sequence[WireOrder],
        pending: list[int],
        cause: CoinFlexError,
        sent_at: float,
        recv_window: int | None,
    ) -> dict[int, OrderResult]:
        """Look the pending orders up; return those settled, raise if any cannot be settled.

        Lookups repeat every settle delay until each order is found or the request can no longer
        be applied (``recvWindow`` after it was sent, plus one settle delay for the lookup's own
        travel; without a recvWindow, one settle delay is a best guess): an applied order is
        usually found at the first lookup, and absence is concluded only once the exchange would
        refuse the original request. A lookup that fails (it is a GET, already retried) is asked
        again in later rounds; one still failing a few rounds past the deadline leaves the
        order's fate unknown.
        """
        window = recv_window / 1000 if recv_window is not None else 0.0
        deadline = sent_at + window + self._settle_delay
        rounds_after_deadline = self._retry.attempts if self._retry is not None else 1
        resolved: dict[int, OrderResult] = {}
        waiting = list(pending)
        while True:
            if not self._transport.closed:
                await asyncio.sleep(max(0.0, min(self._settle_delay, deadline - time.monotonic())))
            past_deadline = time.monotonic() >= deadline
            settled, failed = await self._look_up(kind, chunk, waiting)
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
                    order = chunk[index]
                    raise OrderStatusUnknownError(
                        f"{route.name}: the request failed ({cause}) and looking up order "
                        f"client_order_id={order.client_order_id} failed too ({error})",
                        client_order_id=order.client_order_id,
                    ) from cause
                waiting = [index for index, _ in failed]

    async def _look_up(
        self, kind: str, chunk: Sequence[WireOrder], pending: list[int]
    ) -> tuple[dict[int, OrderResult], list[tuple[int, BaseException]]]:
        """One round of lookups: the orders it settles, and the lookups that failed."""
        lookups = await asyncio.gather(
            *(self._lookup(kind, chunk[i]) for i in pending), return_exceptions=True
        )
        resolved: dict[int, OrderResult] = {}
        failed: list[tuple[int, BaseException]] = []
        for index, found in zip(pending, lookups, strict=True):
            if isinstance(found, BaseException):
                if not isinstance(found, Exception):
                    raise found  # cancellation is not a lookup failure
                failed.append((index, found))
                continue
            result = _settled(kind, chunk[index], found)
            if result is not None:
                resolved[index] = result
        return resolved, failed

    async def _lookup(self, kind: str, order: WireOrder) -> OrderStatus | None:
        """The order's newest history entry, or None if it has none.

        A new order is found by its clientOrderId; a cancel by the orderId it names. A modify is
        a cancel-replace at the exchange (the replacement gets a new orderId and keeps the
        clientOrderId), so it is found by its clientOrderId, which a modify that names only the
        old orderId learns from the old order's entry first.
        """
        order_id = getattr(order, "order_id", None)
        coid = order.client_order_id
        if kind == "cancel" and order_id is not None:
            return await self._newest(f"orderId={order_id}", order.market_code)
        if coid is None and order_id is not None:
            old = await self._newest(f"orderId={order_id}", order.market_code)
            if kind != "modify" or old is None or old.client_order_id is None:
                return old
            coid = old.client_order_id
        return await self._newest(f"clientOrderId={coid}", order.market_code)

    async def _newest(self, query: str, market_code: str) -> OrderStatus | None:
        query = f"{query}&marketCode={market_code}"
        envelope = await self._transport.request(self._history_route, _history, query=query)
        return envelope.data[0] if envelope.data else None  # newest first


def _settled(kind: str, order: WireOrder, found: OrderStatus | None) -> OrderResult | None:
    """What a lookup says about an order: a result when it settles it, None to send again."""
    if kind == "place":
        return None if found is None else _result_from(found, order)
    if kind == "cancel":
        if found is not None and found.status == "OrderClosed":
            return _result_from(found, order)
        return None
    assert isinstance(order, WireModifyOrder)
    if found is None:
        return None
    if (order.price is None or found.price == Decimal(order.price)) and (
        order.quantity is None or found.quantity == Decimal(order.quantity)
    ):
        return _result_from(found, order)
    return None


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


def _match(
    sent: Sequence[WireOrder], indices: Sequence[int], items: list[OrderResult]
) -> dict[int, OrderResult]:
    """Map answer items back to the chunk indices of the orders sent."""
    if len(indices) == 1 and len(items) == 1:
        return {indices[0]: items[0]}  # one order, one answer: nothing to match
    by_coid: dict[str, deque[int]] = defaultdict(deque)
    by_oid: dict[str, deque[int]] = defaultdict(deque)
    for order, index in zip(sent, indices, strict=True):
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
    free = [i for i in indices if i not in matched]
    for index, item in zip(free, leftovers, strict=False):
        matched[index] = item
    return matched


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
