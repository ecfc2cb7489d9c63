"""The exception tree (docs/guide/errors.md), and the one function that maps a response to it."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "APIError",
    "AuthenticationError",
    "BatchError",
    "ClientClosedError",
    "CoinFlexError",
    "DecodeError",
    "LimitStoreError",
    "NotFoundError",
    "OrderRejectedError",
    "OrderStatusUnknownError",
    "RateLimitError",
    "ServerError",
    "StreamClosedError",
    "StreamOverflowError",
    "TransportError",
    "ValidationError",
    "error_from_code",
    "error_from_response",
    "excerpt",
]

# Error texts carry at most this much of a body: enough to recognise an HTML error page or a
# truncated JSON document, never a whole (possibly large) payload.
EXCERPT_CHARS = 200


class CoinFlexError(Exception):
    """Base of every error this package raises."""


class ValidationError(CoinFlexError, ValueError):
    """Bad input, raised before anything is sent."""


class ClientClosedError(CoinFlexError, RuntimeError):
    """The client was closed."""


class StreamClosedError(ClientClosedError):
    """A command or ``subscribe`` on a WebSocket stream that is closed."""


class StreamOverflowError(CoinFlexError):
    """A subscription's reader fell more than ``max_queue`` events behind on a channel that
    cannot be conflated (trades, orders, balances, positions): events were dropped. Raised once,
    on the next read; the subscription then goes on with new events."""

    def __init__(self, message: str, *, channel: str, dropped: int) -> None:
        super().__init__(message)
        self.channel = channel
        self.dropped = dropped


class TransportError(CoinFlexError):
    """A connection failure or a timeout: the exchange gave no answer.

    ``request_sent`` is false only when the request provably never left (the connection could
    not be opened); otherwise the exchange may have received and applied it.
    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class OrderStatusUnknownError(TransportError):
    """An order request may or may not have reached the exchange, and looking it up by its
    ``client_order_id`` could not settle which."""

    def __init__(self, message: str, *, client_order_id: str | None) -> None:
        super().__init__(message, request_sent=True)
        self.client_order_id = client_order_id


class LimitStoreError(TransportError):
    """The shared rate-limit store (Redis) could not be reached or did not answer in time; the
    request was not sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, request_sent=False)


class DecodeError(CoinFlexError):
    """A response that is not the documented shape."""

    def __init__(self, message: str, *, endpoint: str, excerpt: str = "") -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.excerpt = excerpt


class APIError(CoinFlexError):
    """The exchange said no: ``.status`` (HTTP), ``.code`` (the exchange's code as sent, a ``str``
    such as ``"40035"``, or ``None``) and ``.message``.

    ``.status`` is ``None`` when no HTTP answer carried the refusal: a private call on a client
    without credentials raises ``AuthenticationError`` so, before anything is sent."""

    def __init__(
        self,
        message: str | None,
        *,
        status: int | None,
        code: str | None = None,
        endpoint: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.endpoint = endpoint
        parts = [f"HTTP {status}"] if status is not None else []
        if code is not None:
            parts.append(f"code {code}")
        if endpoint:
            parts.append(endpoint)
        super().__init__(
            f"{message or 'error'} ({', '.join(parts)})" if parts else message or "error"
        )


class AuthenticationError(APIError):
    """Missing or invalid credentials or signature."""


class RateLimitError(APIError):
    """HTTP 429; ``.retry_after`` is the server's wait in seconds when it said one."""

    def __init__(
        self,
        message: str | None,
        *,
        status: int = 429,
        code: str | None = None,
        endpoint: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, endpoint=endpoint)
        self.retry_after = retry_after


class NotFoundError(APIError):
    """The exchange has no such resource (HTTP 404, or an error code that says not found)."""


class ServerError(APIError):
    """HTTP 5xx."""


class OrderRejectedError(APIError):
    """A single order came back with ``success`` false (REST, HTTP 200) or ``submitted`` false
    (a WebSocket command: ``status`` None, no HTTP answer)."""

    def __init__(
        self,
        message: str | None,
        *,
        status: int | None = 200,
        code: str | None = None,
        endpoint: str = "",
        client_order_id: str | None = None,
        result: Any = None,
    ) -> None:
        super().__init__(message, status=status, code=code, endpoint=endpoint)
        self.client_order_id = client_order_id
        self.result = result


class BatchError(CoinFlexError):
    """Raised by the batch methods when some requests of a split batch failed.

    ``errors`` holds the exception of each failed request; ``results`` the per-order results in
    input order, ``None`` where the order's request failed. The first error is also the cause.
    """

    def __init__(self, errors: list[BaseException], results: list[Any]) -> None:
        self.errors = errors
        self.results = results
        done = sum(r is not None for r in results)
        super().__init__(
            f"{len(errors)} of the batch's requests failed ({done} of {len(results)} orders "
            f"answered): {errors[0]}"
        )


# Codes the exchange documents as authentication failures: 05001 authority invalid, 20000 bad
# signature, 20023/20024 timestamp missing/outside threshold, 20025 API key invalid.
_AUTH_CODES = frozenset({"05001", "20000", "20023", "20024", "20025"})
_RATE_CODES = frozenset({"20007"})  # "too rapid"
_NOT_FOUND_CODES = frozenset({"40035", "100005"})  # open order not found


class _ErrorBody(msgspec.Struct):
    """Every error shape seen from the exchange, in one lenient struct.

    v2 bodies: ``{"success": false|"false", "code": "20000", "message": "..."}``; gateway 503s:
    ``{"status": 503, "error": "...", "message": "...", "requestId": "..."}``.
    """

    success: Any = None
    code: Any = None
    message: Any = None
    error: Any = None
    msg: Any = None


_error_body_decoder = msgspec.json.Decoder(_ErrorBody)


def error_from_code(code: str | None, message: str | None, *, endpoint: str) -> APIError:
    """The exception for a refusal that carries no HTTP status: a WebSocket reply with
    ``success``/``submitted`` false (``status`` is then None, and the text names no HTTP)."""
    kwargs: dict[str, Any] = {"status": None, "code": code, "endpoint": endpoint}
    if code in _RATE_CODES:
        return RateLimitError(message, **kwargs)
    if code in _AUTH_CODES:
        return AuthenticationError(message, **kwargs)
    if code in _NOT_FOUND_CODES:
        return NotFoundError(message, **kwargs)
    return APIError(message, **kwargs)


def excerpt(body: bytes) -> str:
    """A short, printable start of a body, for error texts."""
    text = body[: EXCERPT_CHARS * 2].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text[:EXCERPT_CHARS] + ("..." if len(text) > EXCERPT_CHARS else "")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (only the delta-seconds form is used by exchanges)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _read_error_body(body: bytes) -> _ErrorBody | None:
    try:
        parsed = _error_body_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return parsed


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def error_from_response(
    status: int,
    body: bytes,
    *,
    endpoint: str,
    retry_after: str | None = None,
) -> CoinFlexError | None:
    """The exception a response stands for, or ``None`` when it is not an error.

    The one place that knows how the exchange reports failure. A 2xx body is an error only when
    it says ``success`` false (the exchange does answer errors with HTTP 200); the transport asks
    about 2xx bodies only after they failed to decode as the expected payload, so the happy path
    never pays for this.
    """
    parsed = _read_error_body(body)
    code = _text(parsed.code) if parsed else None
    message = None
    if parsed is not None:
        message = _text(parsed.message) or _text(parsed.error) or _text(parsed.msg)

    if 200 <= status < 300 and (parsed is None or str(parsed.success).lower() != "false"):
        return None
    if parsed is None:
        # Not JSON: an HTML page from a proxy, or plain text. Keep a short excerpt only.
        message = f"non-JSON error body: {excerpt(body)}" if body else "empty error body"

    kwargs: dict[str, Any] = {"status": status, "code": code, "endpoint": endpoint}
    if status == 429 or code in _RATE_CODES:
        return RateLimitError(message, retry_after=parse_retry_after(retry_after), **kwargs)
    if status in (401, 403) or code in _AUTH_CODES:
        return AuthenticationError(message, **kwargs)
    if status == 404 or code in _NOT_FOUND_CODES:
        return NotFoundError(message, **kwargs)
    if status >= 500:
        return ServerError(message, **kwargs)
    return APIError(message, **kwargs)
