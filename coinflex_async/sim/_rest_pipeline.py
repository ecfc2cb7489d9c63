"""The REST request pipeline: rate limits -> faults -> authentication -> endpoint, and how
each injected fault spoils an answer. Endpoints (the ``_rest_*.py`` handlers) get a ``Call``
and return the JSON body (or a ready ``web.Response``)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from . import _wire as wire
from ._accounts import Account
from ._auth import Authenticator
from ._book import Market
from ._engine import Engine
from ._errors import SimError
from ._faults import Fault, FaultPlan
from ._ledger import Ledger
from ._limits import RateLimiter, SimStats
from ._ws_gateway import WEBSOCKET_PATH

__all__ = ["Call", "Endpoint", "Handlers", "RequestPipeline", "json_response", "newest"]

log = logging.getLogger("coinflex_async.sim")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(float_hook=Decimal)

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


class Handlers:
    """What every group of endpoints works on: the engine and the ledger."""

    def __init__(self, engine: Engine, ledger: Ledger) -> None:
        self.engine = engine
        self.ledger = ledger

    def _market(self, code: str) -> Market:
        return self.engine.market(code)


class RequestPipeline:
    """The middleware every request passes, and the wrapper that authenticates it and hands
    its endpoint a ``Call``."""

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

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path == WEBSOCKET_PATH:
            return await handler(request)  # the gateway keeps its own limits and faults
        stats = self.stats
        stats.requests += 1
        method, path = request.method, request.path
        retry_after = self.limiter.admit(method, path, request.remote or "")
        if retry_after is not None:
            stats.rate_limited += 1
            stats.by_status[429] += 1
            body = {"success": False, "code": "20007", "message": "Too many requests"}
            return json_response(body, 429, headers={"Retry-After": str(retry_after)})
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
            return json_response(wire.error_body(error), error.status)
        except web.HTTPException as error:
            # Unknown route or method: aiohttp raises before any endpoint runs.
            message = f"{error.reason}: {request.method} {request.path}"
            return json_response(
                {"success": False, "code": "20001", "message": message}, error.status
            )
        except Exception:
            log.exception("simulator endpoint failed: %s %s", request.method, request.path)
            body = {"success": False, "code": "50001", "message": "Internal server error"}
            return json_response(body, 500)

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
        return json_response(body, fault.status)

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

    def wrap(
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
            return json_response(result, 200)

        return handle


# -- helpers ----------------------------------------------------------------------------------


def json_response(body: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
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


def newest(fills: list[Any], start: int, end: int, limit: int) -> list[Any]:
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
