"""Private REST endpoints for orders: place, modify, cancel (in batches of up to 8), cancel
all, and the open-order and order-history queries."""

from __future__ import annotations

from typing import Any

from . import _wire as wire
from ._errors import SimError
from ._numbers import parse_decimal
from ._requests import echo_fields, parse_cancel, parse_modify, parse_new_order
from ._rest_pipeline import Call, Handlers

__all__ = ["MAX_ORDERS_PER_REQUEST", "OrderHandlers"]

MAX_ORDERS_PER_REQUEST = 8

_PLACE_ECHO = (
    "clientOrderId",
    "price",
    "quantity",
    "side",
    "marketCode",
    "timeInForce",
    "orderType",
)
_MODIFY_ECHO = ("clientOrderId", "orderId", "price", "quantity", "side", "marketCode")
_CANCEL_ECHO = ("clientOrderId", "orderId", "marketCode")


class OrderHandlers(Handlers):
    def open_orders(self, call: Call) -> Any:
        account = call.me
        data = [
            wire.open_order_item(order, flex=False)
            for order in reversed(account.open_orders.values())
        ]
        return wire.envelope("orders", call.now, data, {"accountId": account.account_id})

    def order_history(self, call: Call) -> Any:
        account = call.me
        market_code = call.text("marketCode")
        order_id = call.text("orderId")
        client_order_id = call.text("clientOrderId")
        limit = call.integer("limit", 100, maximum=100, minimum=1)
        start, end = call.time_range()
        orders = self.engine.order_history(
            account,
            market_code=market_code,
            order_id=order_id,
            client_order_id=client_order_id,
            start=start,
            end=end,
            limit=limit,
        )
        data = [wire.order_status_item(order) for order in orders]
        return wire.envelope("orders", call.now, data, {"accountId": account.account_id})

    def _batch(self, call: Call) -> tuple[list[Any], bool]:
        body = call.json_object()
        response_type = body.get("responseType")
        if response_type not in ("FULL", "ACK"):
            raise SimError("20001", "Invalid parameter: responseType must be FULL or ACK")
        orders = body.get("orders")
        if not isinstance(orders, list) or not orders:
            raise SimError("20001", "Invalid parameter: orders must be a non-empty list")
        if len(orders) > MAX_ORDERS_PER_REQUEST:
            raise SimError(
                "20001", f"Invalid parameter: at most {MAX_ORDERS_PER_REQUEST} orders per request"
            )
        sent_at, window = body.get("timestamp"), body.get("recvWindow")
        if sent_at is not None and window is not None:
            sent, allowed = parse_decimal(sent_at), parse_decimal(window)
            if sent is None or allowed is None:
                raise SimError(
                    "20001", "Invalid parameter: timestamp and recvWindow must be numbers"
                )
            if call.now - sent > allowed:
                raise SimError("20001", "Invalid parameter: the request is older than recvWindow")
        return orders, response_type == "FULL"

    def _batch_envelope(self, call: Call, event: str, data: list[Any]) -> Any:
        return wire.batch_envelope(call.me.account_id, event, call.now, data)

    def place_orders(self, call: Call) -> Any:
        items, full = self._batch(call)
        data = []
        for item in items:
            try:
                order = self.engine.place_order(call.me, parse_new_order(item))
            except SimError as error:
                given = echo_fields(item, _PLACE_ECHO)
                # As the docs' example: a refused order has orderId "0".
                echo = {"clientOrderId": given.pop("clientOrderId", None), "orderId": "0", **given}
                data.append(wire.failed_item(error, echo, call.now))
            else:
                data.append(wire.order_result(order, full=full, now=call.now))
        return self._batch_envelope(call, "placeOrder", data)

    def modify_orders(self, call: Call) -> Any:
        items, full = self._batch(call)
        data = []
        for item in items:
            try:
                order = self.engine.modify_order(call.me, parse_modify(item))
            except SimError as error:
                data.append(wire.failed_item(error, echo_fields(item, _MODIFY_ECHO), call.now))
            else:
                data.append(wire.order_result(order, full=full, now=call.now))
        return self._batch_envelope(call, "modifyOrder", data)

    def cancel_orders(self, call: Call) -> Any:
        items, full = self._batch(call)
        data = []
        for item in items:
            try:
                order = self.engine.cancel_order(call.me, parse_cancel(item))
            except SimError as error:
                data.append(wire.failed_item(error, echo_fields(item, _CANCEL_ECHO), call.now))
            else:
                data.append(wire.order_result(order, full=full, now=call.now))
        return self._batch_envelope(call, "cancelOrder", data)

    def cancel_all(self, call: Call) -> Any:
        account = call.me
        market_code = call.request.match_info.get("marketCode")
        if market_code is None:
            self.engine.cancel_all(account, None)
            data = {"msg": "All open orders for the account have been queued for cancellation"}
        else:
            market = self._market(market_code)
            self.engine.cancel_all(account, market.code)
            data = {
                "marketCode": market.code,
                "msg": "All open orders for the specified market have been queued for cancellation",
            }
        return wire.envelope(
            "orders", call.now, data, {"accountId": account.account_id}, numeric_timestamp=True
        )
