"""Parsing of the order items of place/modify/cancel requests into typed requests.

Structural problems (a missing required key, a value of the wrong JSON type, an unknown
enum value) reject the one order with code 40032 "Invalid request data", as the docs'
modify example does for items without an ``orderId``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._errors import SimError
from ._numbers import format_decimal, parse_decimal

__all__ = [
    "ORDER_TYPES",
    "SIDES",
    "TIMES_IN_FORCE",
    "CancelRequest",
    "ModifyRequest",
    "NewOrderRequest",
    "echo_fields",
    "parse_cancel",
    "parse_client_order_id",
    "parse_modify",
    "parse_new_order",
    "parse_order_id",
]

SIDES = frozenset({"BUY", "SELL"})
ORDER_TYPES = frozenset({"LIMIT", "MARKET", "STOP"})
TIMES_IN_FORCE = frozenset({"GTC", "IOC", "FOK", "MAKER_ONLY"})

# clientOrderId and orderId are LONGs in GET /v2.1/orders.
_MAX_LONG = 2**63 - 1


@dataclass(slots=True)
class NewOrderRequest:
    client_order_id: str | None  # None: the engine assigns one, as the live exchange did
    market_code: str
    side: str
    quantity: Decimal
    order_type: str
    time_in_force: str
    price: Decimal | None = None
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None


@dataclass(slots=True)
class ModifyRequest:
    order_id: str
    market_code: str
    client_order_id: str | None = None
    side: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None


@dataclass(slots=True)
class CancelRequest:
    market_code: str
    order_id: str | None = None
    client_order_id: str | None = None


def _invalid(detail: str) -> SimError:
    return SimError("40032", f"Invalid request data: {detail}")


def _parse_long(value: object, key: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise _invalid(f"{key} must be a numeric string")
    if not text.isdigit() or not text.isascii() or int(text) > _MAX_LONG:
        raise _invalid(f"{key} must be a numeric string (LONG)")
    return text


def parse_client_order_id(value: object) -> str:
    return _parse_long(value, "clientOrderId")


def parse_order_id(value: object) -> str:
    return _parse_long(value, "orderId")


def _required(item: dict[str, Any], key: str) -> object:
    value = item.get(key)
    if value is None:
        raise _invalid(f"{key} is required")
    return value


def _text(item: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = item.get(key)
    if value is None:
        if required:
            raise _invalid(f"{key} is required")
        return None
    if not isinstance(value, str) or not value:
        raise _invalid(f"{key} must be a non-empty string")
    return value


def _choice(
    item: dict[str, Any], key: str, allowed: frozenset[str], *, required: bool
) -> str | None:
    value = _text(item, key, required=required)
    if value is not None and value not in allowed:
        raise _invalid(f"{key} must be one of {', '.join(sorted(allowed))}")
    return value


def _decimal(item: dict[str, Any], key: str, *, required: bool) -> Decimal | None:
    value = item.get(key)
    if value is None:
        if required:
            raise _invalid(f"{key} is required")
        return None
    parsed = parse_decimal(value)
    if parsed is None:
        raise _invalid(f"{key} must be a decimal number")
    return parsed


def parse_new_order(item: object) -> NewOrderRequest:
    if not isinstance(item, dict):
        raise _invalid("each order must be an object")
    raw_client_id = item.get("clientOrderId")
    client_order_id = None if raw_client_id is None else parse_client_order_id(raw_client_id)
    market_code = _text(item, "marketCode", required=True)
    side = _choice(item, "side", SIDES, required=True)
    quantity = _decimal(item, "quantity", required=True)
    order_type = _choice(item, "orderType", ORDER_TYPES, required=True)
    time_in_force = _choice(item, "timeInForce", TIMES_IN_FORCE, required=False) or "GTC"
    assert market_code is not None and side is not None and order_type is not None
    assert quantity is not None
    return NewOrderRequest(
        client_order_id=client_order_id,
        market_code=market_code,
        side=side,
        quantity=quantity,
        order_type=order_type,
        time_in_force=time_in_force,
        price=_decimal(item, "price", required=False),
        stop_price=_decimal(item, "stopPrice", required=False),
        limit_price=_decimal(item, "limitPrice", required=False),
    )


def parse_modify(item: object) -> ModifyRequest:
    if not isinstance(item, dict):
        raise _invalid("each order must be an object")
    order_id = parse_order_id(_required(item, "orderId"))
    market_code = _text(item, "marketCode", required=True)
    assert market_code is not None
    raw_client_id = item.get("clientOrderId")
    return ModifyRequest(
        order_id=order_id,
        market_code=market_code,
        client_order_id=None if raw_client_id is None else parse_client_order_id(raw_client_id),
        side=_choice(item, "side", SIDES, required=False),
        quantity=_decimal(item, "quantity", required=False),
        price=_decimal(item, "price", required=False),
        stop_price=_decimal(item, "stopPrice", required=False),
        limit_price=_decimal(item, "limitPrice", required=False),
    )


def parse_cancel(item: object) -> CancelRequest:
    if not isinstance(item, dict):
        raise _invalid("each order must be an object")
    market_code = _text(item, "marketCode", required=True)
    assert market_code is not None
    raw_order_id = item.get("orderId")
    raw_client_id = item.get("clientOrderId")
    if raw_order_id is None and raw_client_id is None:
        raise _invalid("one of orderId or clientOrderId is required")
    return CancelRequest(
        market_code=market_code,
        order_id=None if raw_order_id is None else parse_order_id(raw_order_id),
        client_order_id=None if raw_client_id is None else parse_client_order_id(raw_client_id),
    )


def echo_fields(item: object, keys: tuple[str, ...]) -> dict[str, str]:
    """The given values of ``keys`` as strings, for a failed item's echo of its request."""
    if not isinstance(item, dict):
        return {}
    echoed: dict[str, str] = {}
    for key in keys:
        value = item.get(key)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, Decimal):
            echoed[key] = format_decimal(value)
        elif isinstance(value, str | int):
            echoed[key] = str(value)
    return echoed
