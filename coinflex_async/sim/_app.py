"""The aiohttp.web application: routes, request parsing, envelopes and the request pipeline
(rate limits -> faults -> authentication -> endpoint)."""

from __future__ import annotations

import asyncio
import bisect
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from . import _wire as wire
from ._auth import Authenticator, parse_timestamp
from ._engine import CANDLE_TIMEFRAMES, Account, Balance, Engine, Market
from ._errors import SimError
from ._faults import Fault, FaultPlan
from ._ledger import Ledger
from ._limits import RateLimiter, SimStats
from ._markets import FLEX_ASSETS, MarketType
from ._numbers import format_decimal, format_fixed, parse_decimal
from ._requests import echo_fields, parse_cancel, parse_modify, parse_new_order

__all__ = ["MAX_ORDERS_PER_REQUEST", "ExchangeApp"]

log = logging.getLogger("coinflex_async.sim")

MAX_ORDERS_PER_REQUEST = 8
WEEK_MS = 7 * 86_400_000
RATIO_STEP = Decimal("0.0001")

_encoder = msgspec.json.Encoder()
# Only the depth endpoint shows numbers as JSON numbers: [price, quantity, 0, 0].
_number_encoder = msgspec.json.Encoder(decimal_format="number")
_decoder = msgspec.json.Decoder(float_hook=Decimal)

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

_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass(slots=True)
class Call:
    """One request as an endpoint sees it."""

    request: web.Request
    account: Account | None
    body: bytes
    now: int

    @property
    def me(self) -> Account:
        assert self.account is not None
        return self.account

    def path_param(self, name: str) -> str:
        return self.request.match_info[name]

    def text(self, name: str) -> str | None:
        return self.request.query.get(name)

    def integer(
        self, name: str, default: int, *, maximum: int | None = None, minimum: int = 0
    ) -> int:
        raw = self.request.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SimError("20001", f"Invalid parameter: {name} must be an integer") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise SimError("20001", f"Invalid parameter: {name} must be {bounds}")
        return value

    def time_range(self, default_start: int = 0) -> tuple[int, int]:
        start = self.integer("startTime", default_start)
        end = self.integer("endTime", self.now)
        if start > end:
            raise SimError("20001", "Invalid parameter: startTime is after endTime")
        return start, end

    def json_object(self) -> dict[str, Any]:
        if not self.body:
            raise SimError("20009", "Invalid JSON: the request body is empty")
        try:
            value = _decoder.decode(self.body)
        except msgspec.DecodeError:
            raise SimError("20009", "Invalid JSON in the request body") from None
        if not isinstance(value, dict):
            raise SimError("20009", "Invalid JSON: the request body must be an object")
        return value


Endpoint = Callable[[Call], Any]


class ExchangeApp:
    def __init__(
        self,
        *,
        engine: Engine,
        ledger: Ledger,
        authenticator: Authenticator,
        limiter: RateLimiter,
        faults: FaultPlan,
        stats: SimStats,
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.auth = authenticator
        self.limiter = limiter
        self.faults = faults
        self.stats = stats
        self.application = web.Application(middlewares=[self._pipeline], client_max_size=1024**2)
        self._add_routes()

    # -- pipeline ---------------------------------------------------------------------------

    @web.middleware
    async def _pipeline(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        stats = self.stats
        stats.requests += 1
        method, path = request.method, request.path
        retry_after = self.limiter.admit(method, path, request.remote or "")
        if retry_after is not None:
            stats.rate_limited += 1
            stats.by_status[429] += 1
            body = {"success": False, "code": "20007", "message": "Too many requests"}
            return _json_response(body, 429, headers={"Retry-After": str(retry_after)})
        delay, fault = self.faults.draw(method, path)
        if delay:
            await asyncio.sleep(delay)
        if fault is not None and not fault.applies_request:
            return self._fault_response(request, fault)
        response = await self._answer(request, handler)
        if fault is not None:
            return await self._spoil(request, response, fault)
        stats.by_status[response.status] += 1
        return response

    async def _answer(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except SimError as error:
            return _json_response(wire.error_body(error), error.status)
        except web.HTTPException as error:
            # Unknown route or method: aiohttp raises before any endpoint runs.
            message = f"{error.reason}: {request.method} {request.path}"
            return _json_response(
                {"success": False, "code": "20001", "message": message}, error.status
            )
        except Exception:
            log.exception("simulator endpoint failed: %s %s", request.method, request.path)
            body = {"success": False, "code": "50001", "message": "Internal server error"}
            return _json_response(body, 500)

    def _fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "reset_before":
            _abort(request)
            return web.Response()
        return self._error_page(fault)

    def _error_page(self, fault: Fault) -> web.Response:
        if fault.kind == "html_502":
            self.stats.by_status[502] += 1
            return web.Response(body=_HTML_502, status=502, content_type="text/html")
        self.stats.by_status[fault.status] += 1
        if fault.status == 503:
            body: dict[str, Any] = {
                "status": 503,
                "error": "Service Unavailable",
                "message": "The server is temporarily unable to handle the request",
                "requestId": str(uuid.uuid4()),
            }
        else:
            body = {"success": False, "code": "50001", "message": "Internal server error"}
        return _json_response(body, fault.status)

    async def _spoil(
        self, request: web.Request, response: web.StreamResponse, fault: Fault
    ) -> web.StreamResponse:
        """Apply a fault to a request the engine already handled."""
        if fault.kind in ("status", "html_502"):
            return self._error_page(fault)
        if fault.kind == "reset_after":
            _abort(request)
            return web.Response()
        body = response.body if isinstance(response, web.Response) else None
        payload = bytes(body) if isinstance(body, bytes | bytearray) else b"{}"
        self.stats.by_status[response.status] += 1
        if fault.kind == "malformed_json":
            return web.Response(
                body=b'{"event": <malformed>, "data": [' + payload[:20],
                status=200,
                content_type="application/json",
            )
        if fault.kind == "truncated_json":
            return web.Response(
                body=payload[: max(1, len(payload) // 2)],
                status=200,
                content_type="application/json",
            )
        return await _trickle(request, response.status, payload, fault.seconds)

    # -- routes -----------------------------------------------------------------------------

    def _add_routes(self) -> None:
        public: list[tuple[str, str, Endpoint]] = [
            ("GET", "/v2/ping", self.ping),
            ("GET", "/v2/all/markets", self.markets),
            ("GET", "/v2/all/assets", self.assets),
            ("GET", "/v2/publictrades/{marketCode}", self.public_trades),
            ("GET", "/v2/ticker", self.ticker),
            ("GET", "/v2/delivery/public/funding", self.public_funding),
            ("GET", "/v2/candles/{marketCode}", self.candles),
            ("GET", "/v2/funding-rates/{marketCode}", self.funding_rates),
            ("GET", "/v2/depth/{marketCode}/{level}", self.depth),
            ("GET", "/v2/flex-protocol/balances/{flexProtocol}", self.flex_balances),
            ("GET", "/v2/flex-protocol/positions/{flexProtocol}", self.flex_positions),
            ("GET", "/v2/flex-protocol/orders/{flexProtocol}", self.flex_orders),
            ("GET", "/v2/flex-protocol/trades/{flexProtocol}/{marketCode}", self.flex_trades),
            ("GET", "/v2/flex-protocol/delivery/orders/{flexProtocol}", self.flex_deliveries),
        ]
        private: list[tuple[str, str, Endpoint]] = [
            ("GET", "/v2/accountinfo", self.account_info),
            ("GET", "/v2/balances", self.balances),
            ("GET", "/v2/balances/{instrumentId}", self.balance_by_id),
            ("GET", "/v2/positions", self.positions),
            ("GET", "/v2/positions/{instrumentId}", self.position_by_id),
            ("GET", "/v2/trades/{marketCode}", self.trades),
            ("GET", "/v2/orders", self.open_orders),
            ("GET", "/v2.1/orders", self.order_history),
            ("DELETE", "/v2/cancel/orders", self.cancel_all),
            ("DELETE", "/v2/cancel/orders/{marketCode}", self.cancel_all),
            ("GET", "/v2.1/delivery/orders", self.delivery_orders),
            ("POST", "/v2.1/delivery/orders", self.request_delivery),
            ("DELETE", "/v2.1/delivery/orders/{deliveryOrderId}", self.cancel_delivery),
            ("GET", "/v2/deliver-auction", self.deliver_auction),
            ("GET", "/v2.1/deliver-auction/{instrumentId}", self.deliver_auction),
            ("POST", "/v2/orders/place", self.place_orders),
            ("POST", "/v2/orders/modify", self.modify_orders),
            ("DELETE", "/v2/orders/cancel", self.cancel_orders),
            ("POST", "/v2/mint", self.mint),
            ("GET", "/v2/mint/{asset}", self.mint_history),
            ("POST", "/v2/redeem", self.redeem),
            ("GET", "/v2/redeem/{asset}", self.redeem_history),
            ("POST", "/v2/borrow", self.borrow),
            ("POST", "/v2/repay", self.repay),
            ("GET", "/v2/borrow/{asset}", self.borrow_history),
            ("GET", "/v2/repay/{asset}", self.repay_history),
            ("GET", "/v2/borrowingSummary", self.borrowing_summary),
            ("POST", "/v2/borrow/close", self.close_borrow),
            ("GET", "/v2/funding-payments", self.funding_payments),
        ]
        router = self.application.router
        for method, path, endpoint in public:
            router.add_route(method, path, self._wrap(endpoint, private=False))
        for method, path, endpoint in private:
            router.add_route(method, path, self._wrap(endpoint, private=True))

    def _wrap(
        self, endpoint: Endpoint, *, private: bool
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else request.path
            self.stats.by_route[f"{request.method} {route}"] += 1
            account = None
            if private:
                account = self.auth.verify(
                    method=request.method,
                    host=request.headers.get("Host", ""),
                    raw_path=request.raw_path,
                    body=body,
                    headers=request.headers,
                )
            self.ledger.tick()
            result = endpoint(Call(request, account, body, self.engine.now_ms()))
            if isinstance(result, web.Response):
                return result
            return _json_response(result, 200)

        return handle

    def _market(self, code: str) -> Market:
        return self.engine.market(code)

    def _flex_account(self, call: Call) -> tuple[str, Account]:
        name = call.path_param("flexProtocol")
        account = self.ledger.flex_accounts.get(name)
        if account is None:
            raise SimError(
                "20001",
                "Invalid parameter: flexProtocol must be one of " + ", ".join(FLEX_ASSETS),
            )
        return name, account

    # -- public market data -----------------------------------------------------------------

    def ping(self, call: Call) -> Any:
        return {"success": "true"}

    def markets(self, call: Call) -> Any:
        data = [wire.market_item(market) for market in self.engine.markets.values()]
        return {"event": "markets", "timestamp": str(call.now), "data": data}

    def assets(self, call: Call) -> Any:
        data = [wire.asset_item(asset) for asset in self.engine.assets]
        data += [
            wire.contract_asset_item(market)
            for market in self.engine.markets.values()
            if market.type != MarketType.SPOT
        ]
        return {"event": "assets", "timestamp": str(call.now), "data": data}

    def public_trades(self, call: Call) -> Any:
        market = self._market(call.path_param("marketCode"))
        limit = call.integer("limit", 100, maximum=300, minimum=1)
        start, end = call.time_range()
        trades = market.trades_between(start, end)[-limit:]
        data = [wire.public_trade_item(market, trade) for trade in reversed(trades)]
        return {
            "event": "publicTrades",
            "timestamp": str(call.now),
            "marketCode": market.code,
            "data": data,
        }

    def ticker(self, call: Call) -> Any:
        data = [wire.ticker_item(market, call.now) for market in self.engine.markets.values()]
        return {"event": "ticker", "timestamp": str(call.now), "data": data}

    def public_funding(self, call: Call) -> Any:
        limit = call.integer("column", 100, maximum=1000, minimum=1)
        instrument = call.text("instrumentId")
        start = _funding_start(call.text("startTime"))
        data = []
        for record in reversed(self.ledger.public_funding):
            if instrument is not None and record.market_code != instrument:
                continue
            if record.timestamp < start:
                break
            data.append(wire.public_funding_item(record))
            if len(data) >= limit:
                break
        # The docs show this endpoint's answer as a bare list, without an envelope.
        return data

    def candles(self, call: Call) -> Any:
        market = self._market(call.path_param("marketCode"))
        timeframe_text = call.text("timeframe") or "3600s"
        seconds = (
            int(timeframe_text[:-1])
            if timeframe_text[:-1].isdigit() and timeframe_text.endswith("s")
            else 0
        )
        if seconds not in CANDLE_TIMEFRAMES:
            choices = ", ".join(f"{tf}s" for tf in CANDLE_TIMEFRAMES)
            raise SimError("20001", f"Invalid parameter: timeframe must be one of {choices}")
        limit = call.integer("limit", 500, maximum=5000, minimum=1)
        end = call.integer("endTime", call.now)
        start = call.integer("startTime", end - limit * seconds * 1000)
        starts = market.candle_starts[seconds]
        lo = bisect.bisect_left(starts, start)
        hi = bisect.bisect_right(starts, end)
        chosen = starts[max(lo, hi - limit) : hi]
        candles = market.candles[seconds]
        data = [wire.candle_item(market, candles[begin]) for begin in chosen]
        return {
            "event": "candles",
            "timestamp": str(call.now),
            "timeframe": timeframe_text,
            "data": data,
        }

    def funding_rates(self, call: Call) -> Any:
        market = self._market(call.path_param("marketCode"))
        limit = call.integer("limit", 50, maximum=500, minimum=1)
        start, end = call.time_range(default_start=call.now - WEEK_MS)
        records = self.ledger.funding_rates.get(market.code, [])
        data = [
            wire.funding_rate_item(r) for r in reversed(records) if start <= r.timestamp <= end
        ][:limit]
        return {"event": "fundingRates", "timestamp": str(call.now), "data": data}

    def depth(self, call: Call) -> Any:
        market = self._market(call.path_param("marketCode"))
        level_text = call.path_param("level")
        if not level_text.isdigit() or not 1 <= int(level_text) <= 1000:
            raise SimError("20001", "Invalid parameter: level must be an integer from 1 to 1000")
        level = int(level_text)
        book = {
            "asks": [[price, size, 0, 0] for price, size in market.asks.depth(level)],
            "bids": [[price, size, 0, 0] for price, size in market.bids.depth(level)],
            "marketCode": market.code,
            "timestamp": str(call.now),
        }
        body = {"event": f"depthL{level}", "timestamp": str(call.now), "data": [book]}
        return web.Response(body=_number_encoder.encode(body), content_type="application/json")

    # -- flex protocol (public) -------------------------------------------------------------

    def flex_balances(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        data = [wire.balance_item(asset, balance) for asset, balance in account.balances.items()]
        return {
            "event": "flexBalances",
            "timestamp": str(call.now),
            "tradeType": "LINEAR",
            "flexProtocol": name,
            "data": data,
        }

    def flex_positions(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        data = [
            wire.position_item(self.engine, account, position, with_liquidation=False)
            for position in account.positions.values()
            if position.quantity
        ]
        return {
            "event": "flexPositions",
            "timestamp": str(call.now),
            "flexProtocol": name,
            "data": data,
        }

    def flex_orders(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        data = [
            wire.open_order_item(order, flex=True)
            for order in reversed(account.open_orders.values())
        ]
        return {
            "event": "flexOrders",
            "timestamp": str(call.now),
            "flexProtocol": name,
            "data": data,
        }

    def flex_trades(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        market = self._market(call.path_param("marketCode"))
        limit = call.integer("limit", 100, maximum=500, minimum=1)
        start, end = call.time_range()
        data = [
            wire.trade_item(fill)
            for fill in _newest(account.trades.get(market.code, []), start, end, limit)
        ]
        return {
            "event": "flexTrades",
            "timestamp": str(call.now),
            "flexProtocol": name,
            "data": data,
        }

    def flex_deliveries(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        limit = call.integer("limit", 100, maximum=500, minimum=1)
        start, end = call.time_range()
        orders = self.ledger.deliveries.get(account.account_id, [])
        data = [wire.delivery_item(o) for o in reversed(orders) if start <= o.last_updated <= end][
            :limit
        ]
        return {
            "event": "flexDeliveryOrders",
            "timestamp": str(call.now),
            "flexProtocol": name,
            "data": data,
        }

    # -- account ----------------------------------------------------------------------------

    def account_info(self, call: Call) -> Any:
        engine, account = self.engine, call.me
        collateral = engine.collateral_value(account)
        margin = engine.position_margin(account)
        # The docs show four decimals; with no margin requirement the ratio is shown as 0.
        risk_ratio = format_fixed(collateral / margin, RATIO_STEP) if margin else "0.0000"
        item = {
            "accountId": account.account_id,
            "tradeType": "LINEAR",
            "marginCurrency": "USD",
            "totalBalance": format_decimal(engine.total_value(account)),
            "availableBalance": format_decimal(collateral - margin - account.order_margin),
            "collateralBalance": format_decimal(collateral),
            "portfolioVarMargin": format_decimal(margin),
            "riskRatio": risk_ratio,
            "timestamp": str(call.now),
        }
        return {
            "event": "accountinfo",
            "timestamp": call.now,
            "accountId": account.account_id,
            "data": [item],
        }

    def balances(self, call: Call) -> Any:
        account = call.me
        data = [wire.balance_item(asset, balance) for asset, balance in account.balances.items()]
        return {
            "event": "balances",
            "timestamp": call.now,
            "accountId": account.account_id,
            "tradeType": "LINEAR",
            "data": data,
        }

    def balance_by_id(self, call: Call) -> Any:
        account = call.me
        asset = call.path_param("instrumentId")
        balance = account.balances.get(asset)
        if balance is None:
            if not any(spec.instrument_id == asset for spec in self.engine.assets):
                raise SimError("20001", f"Invalid parameter: unknown instrumentId {asset}", 404)
            balance = Balance(last_updated=account.created)
        return {
            "event": "balancesById",
            "timestamp": call.now,
            "accountId": account.account_id,
            "tradeType": "LINEAR",
            "data": [wire.balance_item(asset, balance)],
        }

    def positions(self, call: Call) -> Any:
        account = call.me
        data = [
            wire.position_item(self.engine, account, position, with_liquidation=True)
            for position in account.positions.values()
            if position.quantity
        ]
        return {
            "event": "positions",
            "timestamp": call.now,
            "accountId": account.account_id,
            "data": data,
        }

    def position_by_id(self, call: Call) -> Any:
        account = call.me
        market = self._market(call.path_param("instrumentId"))
        position = account.positions.get(market.code)
        data = []
        if position is not None and position.quantity:
            data.append(wire.position_item(self.engine, account, position, with_liquidation=True))
        return {
            "event": "positionsById",
            "timestamp": call.now,
            "accountId": account.account_id,
            "data": data,
        }

    def trades(self, call: Call) -> Any:
        account = call.me
        market = self._market(call.path_param("marketCode"))
        limit = call.integer("limit", 500, maximum=1000, minimum=1)
        start, end = call.time_range()
        fills = _newest(account.trades.get(market.code, []), start, end, limit)
        data = [wire.trade_item(fill) for fill in fills]
        return {
            "event": "trades",
            "timestamp": call.now,
            "accountId": account.account_id,
            "data": data,
        }

    # -- orders -----------------------------------------------------------------------------

    def open_orders(self, call: Call) -> Any:
        account = call.me
        data = [
            wire.open_order_item(order, flex=False)
            for order in reversed(account.open_orders.values())
        ]
        return {
            "event": "orders",
            "timestamp": str(call.now),
            "accountId": account.account_id,
            "data": data,
        }

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
        return {
            "event": "orders",
            "timestamp": str(call.now),
            "accountId": account.account_id,
            "data": data,
        }

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
        return {
            "accountId": call.me.account_id,
            "event": event,
            "timestamp": str(call.now),
            "data": data,
        }

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
        return {
            "event": "orders",
            "timestamp": call.now,
            "accountId": account.account_id,
            "data": data,
        }

    # -- delivery ---------------------------------------------------------------------------

    def delivery_orders(self, call: Call) -> Any:
        orders = self.ledger.deliveries.get(call.me.account_id, [])
        data = [wire.delivery_item(order) for order in reversed(orders)]
        return {"event": "deliverOrders", "timestamp": str(call.now), "data": data}

    def request_delivery(self, call: Call) -> Any:
        # The docs send these as query parameters (and show them as a body too): take either.
        params: dict[str, Any] = dict(call.request.query)
        if call.body:
            params.update(call.json_object())
        instrument = params.get("instrumentId", params.get("instrumentID"))
        quantity = parse_decimal(params.get("qtyDeliver"))
        if quantity is None:
            raise SimError("20001", "Invalid parameter: qtyDeliver must be a decimal number")
        order = self.ledger.request_delivery(call.me, instrument, quantity)
        data = [wire.delivery_request_item(order)]
        return {
            "event": "delivery",
            "timestamp": str(call.now),
            "accountId": call.me.account_id,
            "data": data,
        }

    def cancel_delivery(self, call: Call) -> Any:
        cancelled = self.ledger.cancel_delivery(call.me, call.path_param("deliveryOrderId"))
        message = (
            "Cancel of user order was successful"
            if cancelled
            else "Cancel exception please try again"
        )
        return {
            "event": "delivery",
            "timestamp": str(call.now),
            "accountId": call.me.account_id,
            "data": [message],
        }

    def deliver_auction(self, call: Call) -> Any:
        code = call.request.match_info.get("instrumentId")
        if code is not None:
            market = self._market(code)
            if market.type != MarketType.FUTURE:
                raise SimError("20001", f"Invalid parameter: {code} is not a perpetual swap")
            markets = [market]
        else:
            markets = [m for m in self.engine.markets.values() if m.type == MarketType.FUTURE]
        auction_time = (call.now // 3_600_000 + 1) * 3_600_000
        data = [
            {
                "instrumentId": market.code,
                "auctionTime": str(auction_time),
                "netDeliver": format_decimal(self.ledger.net_delivery(market)),
                "estFundingRate": format_decimal(self.ledger.funding_rate(market)),
            }
            for market in markets
        ]
        return {"event": "deliverAuction", "timestamp": str(call.now), "data": data}

    # -- mint, redeem, borrow, repay, funding -----------------------------------------------

    def _envelope(self, call: Call, event: str, data: Any) -> Any:
        return {
            "event": event,
            "timestamp": str(call.now),
            "accountId": call.me.account_id,
            "data": data,
        }

    def mint(self, call: Call) -> Any:
        body = call.json_object()
        record = self.ledger.mint(call.me, body.get("asset"), _amount(body, "quantity"))
        return self._envelope(
            call, "mint", {"asset": record.asset, "quantity": format_decimal(record.quantity)}
        )

    def redeem(self, call: Call) -> Any:
        body = call.json_object()
        redemption = self.ledger.redeem(
            call.me, body.get("asset"), _amount(body, "quantity"), body.get("type")
        )
        data = {
            "asset": redemption.asset,
            "quantity": format_decimal(redemption.quantity),
            "redeemAt": str(redemption.redeem_at),
            "type": redemption.type,
        }
        return self._envelope(call, "redeem", data)

    def _history(
        self,
        call: Call,
        records: list[Any],
        asset_of: Callable[[Any], str],
        time_of: Callable[[Any], int],
    ) -> list[Any]:
        asset = call.path_param("asset")
        limit = call.integer("limit", 100, maximum=100, minimum=1)
        start, end = call.time_range()
        chosen = []
        for record in reversed(records):
            if asset_of(record) == asset and start <= time_of(record) <= end:
                chosen.append(record)
                if len(chosen) >= limit:
                    break
        return chosen

    def mint_history(self, call: Call) -> Any:
        records = self._history(
            call,
            self.ledger.mints.get(call.me.account_id, []),
            lambda r: r.asset,
            lambda r: r.minted_at,
        )
        return self._envelope(call, "mintHistory", [wire.mint_item(r) for r in records])

    def redeem_history(self, call: Call) -> Any:
        records = self._history(
            call,
            self.ledger.redemptions.get(call.me.account_id, []),
            lambda r: r.asset,
            lambda r: r.requested_at,
        )
        return self._envelope(call, "redemptionHistory", [wire.redemption_item(r) for r in records])

    def borrow(self, call: Call) -> Any:
        body = call.json_object()
        record = self.ledger.borrow(
            call.me,
            body.get("borrowAsset"),
            body.get("collateralAsset"),
            _amount(body, "collateralAmount"),
        )
        return self._envelope(call, "borrow", wire.borrow_item(record))

    def repay(self, call: Call) -> Any:
        body = call.json_object()
        record = self.ledger.repay(
            call.me, body.get("repayAsset"), body.get("regainAsset"), _amount(body, "regainAmount")
        )
        return self._envelope(call, "repay", wire.repay_item(record))

    def borrow_history(self, call: Call) -> Any:
        records = self._history(
            call,
            self.ledger.borrows.get(call.me.account_id, []),
            lambda r: r.collateral_asset,
            lambda r: r.borrowed_at,
        )
        return self._envelope(call, "borrowHistory", [wire.borrow_item(r) for r in records])

    def repay_history(self, call: Call) -> Any:
        records = self._history(
            call,
            self.ledger.repays.get(call.me.account_id, []),
            lambda r: r.regain_asset,
            lambda r: r.repaid_at,
        )
        return self._envelope(call, "repayHistory", [wire.repay_item(r) for r in records])

    def borrowing_summary(self, call: Call) -> Any:
        loans = self.ledger.outstanding_loans(call.me)
        return self._envelope(
            call, "borrowingSummary", [wire.borrowing_summary_item(loan) for loan in loans]
        )

    def close_borrow(self, call: Call) -> Any:
        body = call.json_object()
        price = _optional_amount(body, "price")
        quantity = _optional_amount(body, "quantity")
        order = self.ledger.close_borrow(call.me, body.get("marketCode"), price, quantity)
        return self._envelope(
            call, "closeBorrow", wire.order_result(order, full=True, now=call.now)
        )

    def funding_payments(self, call: Call) -> Any:
        code = call.text("marketCode")
        if not code:
            raise SimError("20001", "Invalid parameter: marketCode is required")
        market = self._market(code)
        if market.type == MarketType.REPO:
            code = f"{market.base}-{market.counter}-SWAP-LIN"  # a repo's payments are its swap's
        limit = call.integer("limit", 50, maximum=50, minimum=1)
        start, end = call.time_range()
        payments = self.ledger.funding_payments.get(call.me.account_id, [])
        data = [
            wire.funding_payment_item(p)
            for p in reversed(payments)
            if p.market_code == code and start <= p.timestamp <= end
        ][:limit]
        return self._envelope(call, "fundingPayments", data)


# -- helpers ----------------------------------------------------------------------------------


def _json_response(body: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=_encoder.encode(body), status=status, content_type="application/json", headers=headers
    )


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


async def _trickle(
    request: web.Request, status: int, payload: bytes, seconds: float
) -> web.StreamResponse:
    """Send the headers now and the body in small pieces spread over ``seconds``."""
    response = web.StreamResponse(status=status)
    response.content_type = "application/json"
    response.content_length = len(payload)
    await response.prepare(request)
    pieces = 10
    step = max(1, -(-len(payload) // pieces))
    try:
        for offset in range(0, len(payload), step):
            await asyncio.sleep(seconds / pieces)
            await response.write(payload[offset : offset + step])
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        _abort(request)  # the client went away mid-body
    return response


def _newest(fills: list[Any], start: int, end: int, limit: int) -> list[Any]:
    chosen = []
    for fill in reversed(fills):
        if fill.timestamp > end:
            continue
        if fill.timestamp < start:
            break
        chosen.append(fill)
        if len(chosen) >= limit:
            break
    return chosen


def _amount(body: dict[str, Any], key: str) -> Decimal:
    value = parse_decimal(body.get(key))
    if value is None:
        raise SimError("20001", f"Invalid parameter: {key} must be a decimal number")
    return value


def _optional_amount(body: dict[str, Any], key: str) -> Decimal | None:
    return None if body.get(key) is None else _amount(body, key)


def _funding_start(text: str | None) -> int:
    """startTime of /v2/delivery/public/funding: ``YYYY-MM-DD hh:mm:ss`` (UTC) or ms."""
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    seconds = parse_timestamp(text.replace(" ", "T", 1))
    if seconds is None:
        raise SimError("20001", "Invalid parameter: startTime must look like 2020-12-08 20:00:00")
    return int(seconds * 1000)
