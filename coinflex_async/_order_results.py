"""What an order call returns, over REST and the WebSocket alike: a single order's answer read
into an ``AcceptedOrder`` (``OrderRejectedError`` when refused; what the answer leaves out and
the request states taken from the request, never invented), and a result rebuilt from the order
history when the answer was lost (``_orders.OrderRecovery``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from ._batches import WireOrder
from ._errors import DecodeError, OrderRejectedError
from .models import AcceptedOrder, OrderResult, OrderStatus
from .models._values import OrderStatusValue
from .models.orders import ACCEPTED_FIELDS
from .models.requests import WireModifyOrder, WireNewOrder

__all__ = ["accepted_order", "check_accepted", "result_from_history"]


def result_from_history(found: OrderStatus, order: WireOrder) -> OrderResult:
    """An order result as a direct answer would have it, built from the order history: the
    history's status (OrderOpened/OrderMatched/OrderClosed) is a direct answer's ``notice``;
    its ``status`` (OPEN, PARTIALLY_FILLED, FILLED) follows from the fills. Why an order was
    closed (CANCELED_BY_USER, _BY_IOC, ...) the history does not say: ``status`` is then None."""
    result = OrderResult(
        success=True,
        client_order_id=found.client_order_id,
        order_id=found.order_id,
        price=found.price,
        quantity=found.quantity,
        remain_quantity=found.remain_quantity,
        side=found.side,
        status=_direct_status(found),
        market_code=found.market_code,
        time_in_force=found.time_in_force,
        notice=found.status,
        order_type=found.order_type,
        is_triggered=found.is_triggered,
    )
    changes = _from_request(result, order)
    return msgspec.structs.replace(result, **changes) if changes else result


def check_accepted(result: OrderResult, where: str, *, status: int | None) -> OrderResult:
    """``result`` if the exchange accepted the order, else ``OrderRejectedError`` with its code
    and message (``status``: the HTTP status, None over WebSocket)."""
    if not result.success:
        raise OrderRejectedError(
            result.message,
            status=status,
            code=result.code,
            endpoint=where,
            client_order_id=result.client_order_id,
            result=result,
        )
    return result


def accepted_order(
    result: OrderResult, order: WireOrder, where: str, *, status: int | None
) -> AcceptedOrder:
    """A single order's result as ``place_order``/``modify_order``/``cancel_order`` return it,
    over REST and WebSocket alike: ``OrderRejectedError`` when the exchange refused the order
    (``status``: the HTTP status, None over WebSocket); otherwise an :class:`AcceptedOrder`.

    What the answer lacks but the request states is taken from the request
    (:func:`_from_request`): a WebSocket answer echoes the request, which may have left
    ``timeInForce`` out, and a result rebuilt from the order history may lack what it does not
    show. Nothing else is filled in: ``status``, ``remain_quantity``, ``notice`` stay as the
    answer has them. An accepted order still lacking one of ``ACCEPTED_FIELDS`` is a
    ``DecodeError``."""
    check_accepted(result, where, status=status)
    if not _complete(result):
        changes = _from_request(result, order)
        if changes:
            result = msgspec.structs.replace(result, **changes)
        if not _complete(result):
            missing = [name for name in ACCEPTED_FIELDS if getattr(result, name) is None]
            raise DecodeError(
                f"the exchange accepted the order (client_order_id={result.client_order_id}) "
                f"but its answer lacks {', '.join(missing)}",
                endpoint=where,
            )
    if type(result) is AcceptedOrder:
        return result  # a direct answer: decoded as one (``replace`` keeps the type)
    # Rebuilt from the order history after a lost answer: copied once, off the hot path.
    return AcceptedOrder(**msgspec.structs.asdict(result))


def _complete(result: OrderResult) -> bool:
    """Whether ``result`` has every one of ``ACCEPTED_FIELDS``."""
    # Spelt out, compared by identity: a quarter of the cost of a getattr loop or of
    # ``None in (...)`` (which calls Decimal.__eq__) on the hot path.
    return not (
        result.client_order_id is None
        or result.order_id is None
        or result.market_code is None
        or result.side is None
        or result.order_type is None
        or result.quantity is None
        or result.time_in_force is None
    )


# The exchange's timeInForce when an order names none (REST and WebSocket docs: "Default GTC").
_DEFAULT_TIME_IN_FORCE = "GTC"


def _from_request(result: OrderResult, order: WireOrder) -> dict[str, Any]:
    """The fields ``result`` lacks that the request ``order`` states, as the request states
    them: its client order ID and market for any order; for a new order also its side, type,
    quantity and time in force (the exchange's default when the order named none); for a
    modify, the side and quantity it asked for. Never an order ID, a price or a status: those
    are the exchange's to say."""
    changes: dict[str, Any] = {}
    if result.client_order_id is None and order.client_order_id is not None:
        changes["client_order_id"] = order.client_order_id
    if result.market_code is None:
        changes["market_code"] = order.market_code
    if isinstance(order, WireNewOrder):
        if result.side is None:
            changes["side"] = order.side
        if result.order_type is None:
            changes["order_type"] = order.order_type
        if result.quantity is None:
            changes["quantity"] = Decimal(order.quantity)
        if result.time_in_force is None:
            changes["time_in_force"] = order.time_in_force or _DEFAULT_TIME_IN_FORCE
    elif isinstance(order, WireModifyOrder):
        if result.side is None and order.side is not None:
            changes["side"] = order.side
        if result.quantity is None and order.quantity is not None:
            changes["quantity"] = Decimal(order.quantity)
    return changes


def _direct_status(found: OrderStatus) -> OrderStatusValue | None:
    if found.status == "OrderOpened":
        return "PARTIALLY_FILLED" if found.filled_quantity else "OPEN"
    return "FILLED" if found.status == "OrderMatched" else None
