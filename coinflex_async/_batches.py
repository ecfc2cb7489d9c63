"""What an order request is made of, for REST bodies and WebSocket commands alike: the
``recvWindow`` rule, the ``timestamp``/``recvWindow`` stamp, batches split by count and by
message length, a split batch's results gathered in input order, and answers matched to orders.

Pure functions: ``_orders`` sends what they build, through its recovery engine.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from typing import TypeVar

import msgspec

from ._errors import APIError, BatchError
from ._validation import check_int
from .models import OrderResult
from .models.requests import WireCancelOrder, WireModifyOrder, WireNewOrder

__all__ = [
    "MAX_BATCH",
    "MAX_RECV_WINDOW",
    "WS_MAX_MESSAGE_LENGTH",
    "WS_MAX_ORDERS",
    "WireOrder",
    "batch_body",
    "gather_batch",
    "match_answers",
    "recv_window_or",
    "split_batch",
    "window_fields",
]

# Orders per REST request (the exchange's maximum).
MAX_BATCH = 8
# A WebSocket order command is limited by its length, not a count: the docs size it at "by
# default up to 20 orders ... assuming that each order JSON has 200 characters".
WS_MAX_ORDERS = 20
WS_MAX_MESSAGE_LENGTH = 20 * 200
# The longest recvWindow a call may ask for (ms); the client's default is validated alike.
MAX_RECV_WINDOW = 3_600_000

WireOrder = WireNewOrder | WireModifyOrder | WireCancelOrder
W = TypeVar("W")

_encoder = msgspec.json.Encoder()


def batch_body(orders: Sequence[WireOrder], recv_window: int | None, response_type: str) -> bytes:
    """The JSON body of POST /v2/orders/place|modify, DELETE /v2/orders/cancel."""
    payload = {"responseType": response_type, **window_fields(recv_window), "orders": orders}
    return _encoder.encode(payload)


def recv_window_or(recv_window: int | None, default: int) -> int:
    """The ``recvWindow`` (ms) an order call sends: its own, checked (1 to 3,600,000), else the
    client's."""
    if recv_window is None:
        return default
    return check_int("recv_window", recv_window, low=1, high=MAX_RECV_WINDOW)


def window_fields(recv_window: int | None, timestamp: int | None = None) -> dict[str, int]:
    """The ``timestamp`` (ms; now unless given) and ``recvWindow`` an order request carries: at
    the top of a REST body, in each order of a WebSocket command. The exchange refuses a request
    once ``timestamp + recvWindow`` has passed, which order recovery relies on."""
    fields = {"timestamp": time.time_ns() // 1_000_000 if timestamp is None else timestamp}
    if recv_window is not None:
        fields["recvWindow"] = recv_window
    return fields


def split_batch(
    orders: Sequence[W],
    *,
    max_count: int,
    max_length: int | None = None,
    length: Callable[[W], int] | None = None,
    overhead: int = 0,
) -> list[Sequence[W]]:
    """``orders`` cut into consecutive chunks, in order, of at most ``max_count`` orders and,
    with ``max_length``, at most that many characters once sent: ``overhead`` (the message
    around the orders) plus each order's ``length`` plus a comma between two. An order longer
    than that on its own still goes, alone: the exchange's refusal is its answer.

    REST: ``split_batch(orders, max_count=MAX_BATCH)``. A WebSocket command: ``max_count=
    WS_MAX_ORDERS, max_length=WS_MAX_MESSAGE_LENGTH``, ``length`` the encoded order with its
    :func:`window_fields`, ``overhead`` the encoded message with an empty ``dataArray``.
    """
    if max_count < 1:
        raise ValueError("max_count must be >= 1")
    if max_length is None:
        if len(orders) <= max_count:
            return [orders]
        return [orders[i : i + max_count] for i in range(0, len(orders), max_count)]
    if length is None:
        raise ValueError("max_length needs length, the length of one order as sent")
    chunks: list[Sequence[W]] = []
    start = 0
    used = overhead
    for index, order in enumerate(orders):
        size = length(order)
        if index > start:
            if index - start >= max_count or used + 1 + size > max_length:
                chunks.append(orders[start:index])
                start, used = index, overhead
            else:
                size += 1  # the comma before it
        used += size
    if start < len(orders):
        chunks.append(orders[start:])
    return chunks


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
