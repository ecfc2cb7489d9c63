"""WebSocket order commands: placeorder, cancelorder and modifyorder (and their batch forms),
checked with the WebSocket error codes and applied by the same engine as REST.

Each order item gets one reply. A command whose order is no longer open when it reaches the
engine is still ``submitted`` (the gateway accepted it); the engine's refusal comes as the
order channel's failure notice (event CANCEL / AMEND), as the docs describe.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import _wire_ws as wire
from ._accounts import Account, Order
from ._engine import Engine
from ._errors import SimError
from ._numbers import format_decimal, parse_decimal
from ._requests import CancelRequest, ModifyRequest, NewOrderRequest

__all__ = ["CommandResult", "OrderCommands"]

Json = dict[str, Any]

_MAX_LONG = 2**63 - 1
_SIDES = frozenset({"BUY", "SELL"})
# STOP_LIMIT is the WebSocket docs' name; STOP (the REST name) is taken too.
_ORDER_TYPES = {"LIMIT": "LIMIT", "MARKET": "MARKET", "STOP_LIMIT": "STOP", "STOP": "STOP"}
_TIMES_IN_FORCE = frozenset({"GTC", "IOC", "FOK", "MAKER_ONLY", "MAKER_ONLY_REPRICE"})
DEFAULT_RECV_WINDOW_MS = 1000
# Engine codes that have a WebSocket counterpart.
_ENGINE_CODES = {"40032": "20002", "200050": "20015", "40035": "100005"}
# What a reply echoes of the order it answers, in the docs' order.
_PLACE_ECHO = (
    "clientOrderId",
    "marketCode",
    "side",
    "orderType",
    "quantity",
    "timeInForce",
    "price",
    "stopPrice",
    "limitPrice",
)
_MODIFY_ECHO = ("orderId", "side", "quantity", "price", "marketCode")


@dataclass(slots=True)
class CommandResult:
    """One reply, plus the failure notice for the order channel when the order was gone."""

    reply: Json
    notice: Json | None = None
    account: Account | None = None
    market_code: str | None = None


def _refuse(code: str, message: str) -> SimError:
    return SimError(code, message)


def _echo(item: dict[str, Any], keys: tuple[str, ...]) -> Json:
    echoed: Json = {}
    for key in keys:
        value = item.get(key)
        if value is None and key == "orderId":
            value = item.get("orderID")  # the batch modify example spells it so
        if value is None or isinstance(value, bool | dict | list):
            continue
        echoed[key] = format_decimal(value) if isinstance(value, Decimal) else str(value)
    return echoed


def _long(value: object, code: str, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    elif isinstance(value, Decimal) and value == value.to_integral_value():
        text = str(int(value))
    else:
        raise _refuse(code, f"{name} is not long type")
    if text.startswith("-") and text[1:].isdigit():
        raise _refuse("20008", f"{name} must be greater than zero if provided")
    if not text.isdigit() or not text.isascii() or int(text) > _MAX_LONG:
        raise _refuse(code, f"{name} is not long type")
    if int(text) <= 0:
        raise _refuse("20008", f"{name} must be greater than zero if provided")
    return text


def _positive(item: dict[str, Any], key: str, missing: str, invalid: str) -> Decimal:
    raw = item.get(key)
    if raw is None:
        raise _refuse(missing, f"{key} is required")
    value = parse_decimal(raw)
    if value is None:
        raise _refuse(invalid, f"{key} is invalid")
    if value <= 0:
        code = "20006" if key == "quantity" else "20028"
        message = (
            "Quantity must be greater than zero"
            if key == "quantity"
            else "price or stopPrice or limitPrice must be greater than zero"
        )
        raise _refuse(code, message)
    return value


class OrderCommands:
    """Turns command items into engine calls and answers them as the WebSocket docs show."""

    def __init__(
        self,
        engine: Engine,
        orders_per_second: int | None,
        monotonic: Callable[[], float],
    ) -> None:
        self.engine = engine
        self.orders_per_second = orders_per_second
        self._monotonic = monotonic
        self._windows: dict[str, deque[float]] = {}

    # -- the account's order rate (placeorder and modifyorder items) ------------------------

    def _admit_order(self, account: Account) -> None:
        limit = self.orders_per_second
        if limit is None:
            return
        now = self._monotonic()
        window = self._windows.get(account.account_id)
        if window is None:
            window = self._windows[account.account_id] = deque()
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= limit:
            raise _refuse("20007", "You are accessing server too rapidly")
        window.append(now)

    def _check_window(self, item: dict[str, Any], now: int) -> None:
        """timestamp + recvWindow (default 1000 ms when only timestamp is given)."""
        sent = item.get("timestamp")
        if sent is None:
            return
        sent_at = parse_decimal(sent)
        window = parse_decimal(item.get("recvWindow", DEFAULT_RECV_WINDOW_MS))
        if sent_at is None or window is None:
            raise _refuse("20023", "timestamp is required")
        if now > sent_at + window:
            raise _refuse("20024", "timestamp exceeds the threshold")

    def _market_code(self, item: dict[str, Any]) -> str:
        code = item.get("marketCode")
        if code is None or code == "":
            raise _refuse("20011", "marketCode is required")
        if not isinstance(code, str) or code not in self.engine.markets:
            raise _refuse("20015", "marketCode is invalid")
        return code

    # -- placeorder -------------------------------------------------------------------------

    def place(self, account: Account, item: object, tag: str | None, now: int) -> CommandResult:
        if not isinstance(item, dict):
            reply = wire.command_failure(
                "placeorder", "20002", "data must be an object", tag, now, {}
            )
            return CommandResult(reply)
        echo = _echo(item, _PLACE_ECHO)
        try:
            request = self._parse_new_order(item, now)
            self._admit_order(account)
            order = self.engine.place_order(account, request)
        except SimError as error:
            code = _ENGINE_CODES.get(error.code, error.code)
            echo["source"] = 0
            return CommandResult(
                wire.command_failure("placeorder", code, error.message, tag, now, echo)
            )
        # An order sent without clientOrderId shows the one the exchange assigned.
        data: Json = {"clientOrderId": order.client_order_id, **echo}
        data["clientOrderId"] = order.client_order_id
        data["orderId"] = order.order_id
        data["source"] = 0
        return CommandResult(wire.command_success("placeorder", tag, now, data))

    def _parse_new_order(self, item: dict[str, Any], now: int) -> NewOrderRequest:
        raw_client_id = item.get("clientOrderId")
        client_order_id = (
            None if raw_client_id is None else _long(raw_client_id, "20014", "clientOrderId")
        )
        market_code = self._market_code(item)
        side = item.get("side")
        if side is None:
            raise _refuse("20012", "side is required")
        if side not in _SIDES:
            raise _refuse("20016", "side is invalid")
        order_type_name = item.get("orderType")
        if order_type_name is None:
            raise _refuse("20013", "orderType is required")
        order_type = _ORDER_TYPES.get(order_type_name) if isinstance(order_type_name, str) else None
        if order_type is None:
            raise _refuse("20017", "orderType is invalid")
        time_in_force = item.get("timeInForce", "GTC")
        if time_in_force not in _TIMES_IN_FORCE:
            raise _refuse("20018", "timeInForce is invalid")
        quantity = _positive(item, "quantity", "20006", "20006")
        request = NewOrderRequest(
            client_order_id=client_order_id,
            market_code=market_code,
            side=side,
            quantity=quantity,
            order_type=order_type,
            time_in_force=time_in_force,
        )
        if order_type == "LIMIT":
            request.price = _positive(item, "price", "20022", "20021")
        elif order_type == "STOP":
            stop = _positive(item, "stopPrice", "20020", "20020")
            limit = _positive(item, "limitPrice", "20020", "20020")
            if side == "BUY" and limit < stop:
                raise _refuse("20029", "stopPrice must be less than limitPrice for Buy Stop Order")
            if side == "SELL" and limit > stop:
                raise _refuse("20030", "limitPrice must be less than stopPrice for Sell Stop Order")
            request.stop_price, request.limit_price = stop, limit
        self._check_window(item, now)
        return request

    # -- cancelorder ------------------------------------------------------------------------

    def cancel(self, account: Account, item: object, tag: str | None, now: int) -> CommandResult:
        if not isinstance(item, dict):
            reply = wire.command_failure(
                "cancelorder", "20002", "data must be an object", tag, now, {}
            )
            return CommandResult(reply)
        echo = _echo(item, ("marketCode", "orderId"))
        try:
            market_code = self._market_code(item)
            raw_order_id = item.get("orderId")
            raw_client_id = item.get("clientOrderId")
            if raw_order_id is None and raw_client_id is None:
                raise _refuse("20010", "Either clientOrderId or orderId is required")
            order_id = None if raw_order_id is None else _long(raw_order_id, "20019", "orderId")
            client_id = (
                None if raw_client_id is None else _long(raw_client_id, "20014", "clientOrderId")
            )
        except SimError as error:
            return CommandResult(
                wire.command_failure("cancelorder", error.code, error.message, tag, now, echo)
            )
        try:
            order = self.engine.cancel_order(
                account, CancelRequest(market_code, order_id, client_id)
            )
        except SimError:
            known = account.orders.get(order_id) if order_id is not None else None
            notice = wire.order_failure_notice(
                "CANCEL", "REJECT_CANCEL_ORDER_ID_NOT_FOUND", market_code, order_id or "0", known
            )
            reply = wire.command_success("cancelorder", tag, now, echo)
            return CommandResult(reply, notice, account, market_code)
        data = {
            "marketCode": market_code,
            "clientOrderId": order.client_order_id,
            "orderId": order.order_id,
        }
        return CommandResult(wire.command_success("cancelorder", tag, now, data))

    # -- modifyorder ------------------------------------------------------------------------

    def modify(self, account: Account, item: object, tag: str | None, now: int) -> CommandResult:
        if not isinstance(item, dict):
            reply = wire.command_failure(
                "modifyorder", "20002", "data must be an object", tag, now, {}
            )
            return CommandResult(reply)
        echo = _echo(item, _MODIFY_ECHO)
        try:
            request = self._parse_modify(item, now)
            self._admit_order(account)
        except SimError as error:
            return CommandResult(
                wire.command_failure("modifyorder", error.code, error.message, tag, now, echo)
            )
        old = account.open_orders.get(request.order_id)
        try:
            order = self.engine.modify_order(account, request, amend=True)
        except SimError as error:
            if error.code != "40035":
                code = _ENGINE_CODES.get(error.code, error.code)
                return CommandResult(
                    wire.command_failure("modifyorder", code, error.message, tag, now, echo)
                )
            notice = wire.order_failure_notice(
                "AMEND",
                "REJECT_AMEND_ORDER_ID_NOT_FOUND",
                request.market_code,
                request.order_id,
                old or account.orders.get(request.order_id),
            )
            reply = wire.command_success("modifyorder", tag, now, echo)
            return CommandResult(reply, notice, account, request.market_code)
        return CommandResult(wire.command_success("modifyorder", tag, now, _modified(order)))

    def _parse_modify(self, item: dict[str, Any], now: int) -> ModifyRequest:
        market_code = self._market_code(item)
        raw_order_id = item.get("orderId", item.get("orderID"))
        if raw_order_id is None:
            raise _refuse("20019", "orderId is invalid")
        order_id = _long(raw_order_id, "20019", "orderId")
        side = item.get("side")
        if side is not None and side not in _SIDES:
            raise _refuse("20016", "side is invalid")
        request = ModifyRequest(order_id=order_id, market_code=market_code, side=side)
        if item.get("price") is not None:
            request.price = _positive(item, "price", "20021", "20021")
        if item.get("quantity") is not None:
            request.quantity = _positive(item, "quantity", "20006", "20006")
        self._check_window(item, now)
        return request


def _modified(order: Order) -> Json:
    market = order.market
    data: Json = {
        "orderId": order.order_id,
        "side": order.side,
        "quantity": market.format_quantity(order.remaining),
    }
    price = order.price if order.price is not None else order.limit_price
    if price is not None:
        data["price"] = market.format_price(price)
    data["orderType"] = wire.ws_order_type(order)
    data["marketCode"] = market.code
    return data
