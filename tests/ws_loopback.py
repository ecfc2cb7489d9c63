"""A small CoinFLEX WebSocket endpoint on loopback, written from the exchange's WebSocket docs
(``/v2/websocket``: login, subscribe/unsubscribe, order commands), with the few REST endpoints
a stream uses for recovery (order history, balances, positions, open orders, public trades).

Tests drive it directly: push channel updates, drop or stall connections, lose replies, refuse
channels. The client under test talks to it over real sockets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

PRIVATE_PREFIXES = ("order", "balance", "position")


def docs_login_signature(secret: str, timestamp: str) -> str:
    """``Base64(HmacSHA256(timestamp + 'GET/auth/self/verify', secret))``, as the docs write."""
    digest = hmac.new(
        secret.encode(), (timestamp + "GET/auth/self/verify").encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Conn:
    ws: web.WebSocketResponse
    request: web.Request
    channels: set[str] = field(default_factory=set)
    logged_in: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)


class WsExchange:
    """The endpoint. ``api_key``/``api_secret`` is the one account it knows."""

    def __init__(self, api_key: str, api_secret: str) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.conns: list[Conn] = []
        self.connections = 0  # handshakes served
        self.received: list[dict[str, Any]] = []  # every message, every connection
        self.texts: list[str] = []  # the same messages as they came (their length, packing)
        self.orders: dict[str, dict[str, Any]] = {}  # applied orders by clientOrderId
        self.trades: dict[str, list[dict[str, Any]]] = {}  # public trades by market
        self.refused: dict[str, str] = {}  # channel -> error code
        self.lose_replies = 0  # apply the next N order commands, answer none of them
        self.drop_after_apply = False  # ...and drop the connection after applying
        self.silent = False  # stop reading and answering (no pongs either)
        self.reverse_batches = False
        self.balances = [
            {
                "instrumentId": "USD",
                "total": "100",
                "available": "100",
                "reserved": "0",
                "quantityLastUpdated": "1",
            }
        ]
        self._order_ids = itertools.count(1000)
        self._trade_ids = itertools.count(5000)
        self.app = web.Application()
        self.app.router.add_get("/v2/websocket", self._websocket)
        self.app.router.add_get("/v2.1/orders", self._history)
        self.app.router.add_get("/v2/balances", self._balances)
        self.app.router.add_get("/v2/positions", self._empty)
        self.app.router.add_get("/v2/orders", self._empty)
        self.app.router.add_get("/v2/publictrades/{market}", self._public_trades)

    # -- what tests do -------------------------------------------------------------------

    def ops(self, op: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("op") == op]

    async def push(self, channel: str, table: str, items: list[Any]) -> int:
        """Send one update to every connection subscribed to ``channel``; how many got it."""
        # Compact, as the exchange sends it.
        text = json.dumps({"table": table, "data": items}, separators=(",", ":"))
        return await self._send(channel, text)

    async def _send(self, channel: str, text: str) -> int:
        sent = 0
        for conn in list(self.conns):
            if channel in conn.channels and not conn.ws.closed:
                try:
                    await conn.ws.send_str(text)
                except ConnectionError:
                    continue  # a connection being dropped: its reader recovers what it missed
                sent += 1
        return sent

    async def push_raw(self, channel: str, text: str) -> None:
        await self._send(channel, text)

    async def trade(self, market: str, price: str = "100", quantity: str = "1") -> dict[str, Any]:
        """A public trade: recorded for GET /v2/publictrades, pushed on ``trade:M``."""
        trade = {
            "tradeId": str(next(self._trade_ids)),
            "price": price,
            "quantity": quantity,
            "side": "buy",
            "marketCode": market,
            "timestamp": str(now_ms()),
        }
        self.trades.setdefault(market, []).append(trade)
        await self.push(f"trade:{market}", "trade", [trade])
        return trade

    async def drop(self) -> None:
        """Close every connection abruptly (no close frame)."""
        for conn in list(self.conns):
            transport = conn.request.transport
            if transport is not None:
                transport.abort()

    # -- the WebSocket ------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self.connections += 1
        conn = Conn(ws, request)
        self.conns.append(conn)
        try:
            async for msg in ws:
                if self.silent:
                    continue  # hold everything, answer nothing (not even pings)
                if msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                    continue
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "ping":
                    await ws.send_str("pong")
                    continue
                message = json.loads(msg.data)
                conn.received.append(message)
                self.received.append(message)
                self.texts.append(msg.data)
                await self._handle(conn, message)
        finally:
            self.conns.remove(conn)
        return ws

    async def _answer(self, conn: Conn, answer: dict[str, Any]) -> None:
        answer.setdefault("timestamp", str(now_ms()))
        if not conn.ws.closed:
            await conn.ws.send_str(json.dumps(answer))

    async def _handle(self, conn: Conn, message: dict[str, Any]) -> None:
        op, tag = message.get("op"), message.get("tag")
        if op == "login":
            data = message["data"]
            good = data.get("apiKey") == self.api_key and data.get(
                "signature"
            ) == docs_login_signature(self.api_secret, data.get("timestamp", ""))
            conn.logged_in = good
            answer: dict[str, Any] = {"event": "login", "success": good, "tag": tag}
            if not good:
                answer.update(code="20000", message="Signature is invalid")
            await self._answer(conn, answer)
        elif op in ("subscribe", "unsubscribe"):
            for channel in message["args"]:
                code = self.refused.get(channel)
                if code is None and channel.split(":")[0] in PRIVATE_PREFIXES:
                    code = None if conn.logged_in else "05001"
                if code is not None:
                    await self._answer(
                        conn,
                        {"event": op, "success": False, "tag": tag, "code": code, "message": "no"},
                    )
                    continue
                if op == "subscribe":
                    conn.channels.add(channel)
                else:
                    conn.channels.discard(channel)
                await self._answer(
                    conn, {"event": op, "success": True, "tag": tag, "channel": channel}
                )
        elif op in ("placeorder", "placeorders", "cancelorder", "cancelorders"):
            orders = message["dataArray"] if op.endswith("s") else [message["data"]]
            answers = [self._apply(op.rstrip("s"), order, conn) for order in orders]
            if self.lose_replies > 0:
                self.lose_replies -= 1
                if self.drop_after_apply:
                    await self.drop()
                return
            if self.reverse_batches:
                answers.reverse()
            for answer in answers:
                answer["tag"] = tag
                await self._answer(conn, answer)

    def _apply(self, event: str, order: dict[str, Any], conn: Conn) -> dict[str, Any]:
        if not conn.logged_in:
            return {"event": event, "submitted": False, "code": "05001", "message": "login"}
        if event == "placeorder":
            if order.get("marketCode") == "BAD-MARKET":
                return {
                    "event": event,
                    "submitted": False,
                    "code": "20015",
                    "message": "marketCode is invalid",
                    "data": order,
                }
            placed = {**order, "orderId": str(next(self._order_ids))}
            self.orders[str(order["clientOrderId"])] = placed
            return {"event": event, "submitted": True, "data": placed}
        found = next(
            (o for o in self.orders.values() if o["orderId"] == str(order.get("orderId"))), None
        )
        if found is None:
            return {
                "event": event,
                "submitted": False,
                "code": "100005",
                "message": "Open order not found with id",
                "data": order,
            }
        found["closed"] = True
        return {"event": event, "submitted": True, "data": {**order, "clientOrderId": 1}}

    # -- REST ---------------------------------------------------------------------------

    async def _history(self, request: web.Request) -> web.Response:
        coid = request.query.get("clientOrderId")
        oid = request.query.get("orderId")
        items = []
        for order in self.orders.values():
            if str(order["clientOrderId"]) == coid or order["orderId"] == oid:
                items.append(
                    {
                        "status": "OrderClosed" if order.get("closed") else "OrderOpened",
                        "orderId": order["orderId"],
                        "clientOrderId": str(order["clientOrderId"]),
                        "marketCode": order["marketCode"],
                        "side": order.get("side"),
                        "price": order.get("price"),
                        "quantity": order.get("quantity"),
                    }
                )
        return web.json_response({"success": True, "data": items})

    async def _balances(self, request: web.Request) -> web.Response:
        return web.json_response({"event": "balances", "data": self.balances})

    async def _empty(self, request: web.Request) -> web.Response:
        return web.json_response({"event": "x", "data": []})

    async def _public_trades(self, request: web.Request) -> web.Response:
        market = request.match_info["market"]
        start = int(request.query.get("startTime", "0"))
        end = int(request.query.get("endTime", str(now_ms() + 1)))
        limit = int(request.query.get("limit", "100"))
        items = [
            {
                "matchId": t["tradeId"],
                "matchQuantity": t["quantity"],
                "matchPrice": t["price"],
                "side": t["side"].upper(),
                "matchTimestamp": t["timestamp"],
            }
            for t in self.trades.get(market, [])
            if start <= int(t["timestamp"]) <= end
        ]
        items.reverse()  # newest first
        return web.json_response({"event": "publicTrades", "data": items[:limit]})
