"""Credentials, the nonce source, and the aiohttp client middleware that signs requests.

The exchange's formula (spec, "Authentication")::

    msgString = Timestamp, Nonce, Verb, Host, Path and Body, joined by "\\n"
    Signature = base64(HMAC-SHA256(api_secret, msgString))

Signing happens in a middleware, once per attempt, over what actually goes on the wire: the
``Host`` header aiohttp will send, the encoded path, and the exact JSON body (or else the exact
query string). A retried attempt therefore gets a fresh timestamp, nonce and signature.
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
import weakref
from datetime import datetime, timezone

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, hdrs

__all__ = [
    "ACCESS_KEY_HEADER",
    "Credentials",
    "NonceSource",
    "SigningMiddleware",
    "nonce_source_for",
    "sign_request",
    "signature_message",
    "utc_timestamp",
    "websocket_login",
]

ACCESS_KEY_HEADER = "AccessKey"
_SIGNED_HEADERS = ("Timestamp", "Nonce", "Signature")


class Credentials:
    """An API key and its secret. The secret never appears in ``repr`` or ``str``."""

    __slots__ = ("_secret", "api_key")

    def __init__(self, api_key: str, api_secret: str) -> None:
        if not isinstance(api_key, str) or not api_key:
            raise TypeError("api_key must be a non-empty str")
        if not isinstance(api_secret, str) or not api_secret:
            raise TypeError("api_secret must be a non-empty str")
        self.api_key = api_key
        self._secret = api_secret.encode("utf-8")

    @property
    def secret_bytes(self) -> bytes:
        return self._secret

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key!r}, api_secret=<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> str:  # refuse to pickle the secret by accident
        raise TypeError("Credentials cannot be pickled")


class NonceSource:
    """Strictly increasing integer nonces, safe across tasks and threads.

    Nonces start from the wall clock in milliseconds (so a restarted process continues above the
    last one it sent) but never follow it backwards: when the clock steps back, or many nonces are
    taken within one millisecond, the next nonce is simply the last one plus one.
    """

    __slots__ = ("__weakref__", "_last", "_lock")

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        now = time.time_ns() // 1_000_000
        with self._lock:
            last = self._last
            nonce = now if now > last else last + 1
            self._last = nonce
        return nonce


# One nonce source per API key in this process: two clients of one key must not interleave
# nonces that the exchange could see out of order or repeated.
_nonce_sources: weakref.WeakValueDictionary[str, NonceSource] = weakref.WeakValueDictionary()
_nonce_sources_lock = threading.Lock()


def nonce_source_for(api_key: str) -> NonceSource:
    """The process-wide nonce source of ``api_key`` (kept alive by the clients that use it)."""
    with _nonce_sources_lock:
        source = _nonce_sources.get(api_key)
        if source is None:
            source = NonceSource()
            _nonce_sources[api_key] = source
        return source


class _TimestampCache:
    """The spec's ``YYYY-MM-DDThh:mm:ss`` (UTC) for the current second, formatted once a second."""

    __slots__ = ("_second", "_text")

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            stamp = datetime.fromtimestamp(second, tz=timezone.utc)
            self._text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return self._text


utc_timestamp = _TimestampCache().now


def signature_message(
    timestamp: str, nonce: int | str, method: str, host: str, path: str, body: str
) -> str:
    return f"{timestamp}\n{nonce}\n{method}\n{host}\n{path}\n{body}"


def sign_request(
    secret: bytes,
    timestamp: str,
    nonce: int | str,
    method: str,
    host: str,
    path: str,
    body: str,
) -> str:
    """The base64 HMAC-SHA256 signature of one request, per the spec's formula."""
    message = signature_message(timestamp, nonce, method, host, path, body)
    digest = hmac.digest(secret, message.encode("utf-8"), "sha256")
    return base64.b64encode(digest).decode("ascii")


def _body_line(request: ClientRequest) -> str:
    """The signed body line: the exact JSON body sent, else the exact query string, else ""."""
    body = request.body
    if body:
        return body.decode("utf-8")
    return request.url.raw_query_string


class SigningMiddleware:
    """An aiohttp client middleware that signs every request carrying an ``AccessKey`` header.

    The transport marks a request as private by setting ``AccessKey``; public requests pass
    through untouched (and unsigned). The middleware runs once per attempt, so retries are signed
    afresh with a new nonce.
    """

    __slots__ = ("_credentials", "_nonces")

    def __init__(self, credentials: Credentials, nonces: NonceSource | None = None) -> None:
        self._credentials = credentials
        self._nonces = nonces if nonces is not None else nonce_source_for(credentials.api_key)

    def __repr__(self) -> str:
        return f"SigningMiddleware({self._credentials!r})"

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        headers = request.headers
        if ACCESS_KEY_HEADER in headers:
            self.sign(request)
        return await handler(request)

    def sign(self, request: ClientRequest) -> None:
        headers = request.headers
        timestamp = utc_timestamp()
        nonce = self._nonces.next()
        url = request.url
        signature = sign_request(
            self._credentials.secret_bytes,
            timestamp,
            nonce,
            request.method,
            headers[hdrs.HOST],
            url.raw_path,
            _body_line(request),
        )
        # AccessKey is already there: it is what marked the request as one to sign.
        headers["Timestamp"] = timestamp
        headers["Nonce"] = str(nonce)
        headers["Signature"] = signature


WS_LOGIN_PATH = "GET/auth/self/verify"


def websocket_login(credentials: Credentials, timestamp_ms: int) -> dict[str, object]:
    """The WebSocket ``login`` message (spec, "Authentication" of the WebSocket API):
    ``Base64(HmacSHA256(secret, timestamp + "GET/auth/self/verify"))``."""
    timestamp = str(timestamp_ms)
    digest = hmac.digest(credentials.secret_bytes, (timestamp + WS_LOGIN_PATH).encode(), "sha256")
    return {
        "op": "login",
        "data": {
            "apiKey": credentials.api_key,
            "timestamp": timestamp,
            "signature": base64.b64encode(digest).decode("ascii"),
        },
    }
