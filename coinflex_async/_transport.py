"""One request pipeline: limit -> retry -> send (signed in a middleware) -> map errors -> decode.

Resource methods describe a call (a :class:`Route`, the path arguments, the query string, the JSON
body) and hand it here; nothing else in the package touches aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import aiohttp
import msgspec
from yarl import URL

from ._errors import (
    AuthenticationError,
    ClientClosedError,
    CoinFlexError,
    DecodeError,
    TransportError,
    error_from_response,
    excerpt,
)
from ._ratelimit import REST, Limiter
from ._retry import RetryPolicy, sleep_unless
from ._retry import run as run_retries
from ._signing import ACCESS_KEY_HEADER

if TYPE_CHECKING:
    from ._metrics import Metrics

# RetryPolicy lives in _retry; named here too for the modules that import it from here.
__all__ = [
    "RetryPolicy",
    "Route",
    "Transport",
    "caller_session_middlewares",
    "forbid_silent_resend",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

log = logging.getLogger("coinflex_async")

_MAX_CACHED_URLS = 1024


class _Decodes(Protocol[T_co]):
    def decode(self, buf: bytes, /) -> T_co: ...


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint as a resource declares it, built once at import.

    ``path`` is a ``str.format`` template whose fields are filled with validated, percent-encoded
    path arguments. ``retry_safe`` says whether the request may be sent again blindly (true for
    GETs); ``buckets`` names the rate-limit buckets it takes a token from.
    """

    method: str
    path: str
    signed: bool = False
    buckets: tuple[str, ...] = (REST,)
    retry_safe: bool | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def safe_to_retry(self) -> bool:
        return self.method == "GET" if self.retry_safe is None else self.retry_safe


class Transport:
    """Sends requests for one client over its one session.

    ``session_getter`` returns the client's live session (created lazily inside the running loop)
    or raises :class:`ClientClosedError`; ``closed`` is a future resolved when the client closes,
    so that calls waiting for rate-limit tokens end at once instead of waiting out a window.
    """

    def __init__(
        self,
        *,
        base_url: str,
        session_getter: Callable[[], aiohttp.ClientSession],
        limiter: Limiter | None,
        retry: RetryPolicy | None,
        timeout: float,
        api_key: str | None,
        is_closed: Callable[[], bool],
        closed_waiter: Callable[[], asyncio.Future[None]],
        per_request_middlewares: tuple[Any, ...] | None = None,
        max_in_flight: int = 100,
        own_session: bool = True,
        metrics: Metrics | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._session = session_getter
        self._limiter = limiter
        self.metrics = metrics
        self.retry = retry
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._is_closed = is_closed
        self._closed_waiter = closed_waiter
        # The client's own session carries the timeout and the middlewares; a caller's session
        # gets them with every request (see caller_session_middlewares).
        self._per_request: dict[str, Any] | None = None
        if own_session is False:
            self._per_request = {"timeout": self._timeout}
            if per_request_middlewares is not None:
                self._per_request["middlewares"] = per_request_middlewares
        self._slots = asyncio.Semaphore(max_in_flight)
        self._urls: dict[str, URL] = {}
        self._public_headers: dict[str, str] = {}
        self._json_headers = {"Content-Type": "application/json"}
        self._signed_headers: dict[str, str] | None = None
        self._signed_json_headers: dict[str, str] | None = None
        if api_key is not None:
            self._signed_headers = {ACCESS_KEY_HEADER: api_key}
            self._signed_json_headers = {
                ACCESS_KEY_HEADER: api_key,
                "Content-Type": "application/json",
            }

    async def request(
        self,
        route: Route,
        decoder: msgspec.json.Decoder[T],
        *,
        path: str | None = None,
        query: str = "",
        body: bytes | None = None,
        retry: bool | None = None,
        leaving: Callable[[], None] | None = None,
    ) -> T:
        """Send one call and return its decoded body.

        ``path`` is the already-encoded path (defaults to ``route.path``), ``query`` the encoded
        query string without ``?``, ``body`` the encoded JSON body. ``retry`` overrides whether
        this call may be sent again (defaults to the route's ``safe_to_retry``). ``leaving`` is
        called when a request is about to go on the wire (after any wait for rate-limit tokens),
        for callers that must know whether it may have reached the exchange.
        """
        self.check_ready(route)
        url_text = self._base_url + (path if path is not None else route.path)
        if query:
            url = URL(f"{url_text}?{query}", encoded=True)
        else:
            # Paths repeat (a bot polls the same few endpoints), queries mostly don't.
            url = self._urls.get(url_text) or self._remember_url(url_text)
        if route.signed:
            headers = self._signed_json_headers if body is not None else self._signed_headers
            assert headers is not None
        else:
            headers = self._json_headers if body is not None else self._public_headers

        may_retry = route.safe_to_retry if retry is None else retry
        if self.metrics is not None:
            return await self._measured(route, url, headers, body, decoder, may_retry, leaving)
        if self.retry is None or not may_retry:
            if self._limiter is None:  # one coroutine level less on the hot path
                return await self._send(route, url, headers, body, decoder, leaving)
            return await self._attempt(route, url, headers, body, decoder, leaving)
        # The first attempt is made here rather than in the retry engine: one coroutine level
        # less for every GET. The engine decides from its error on.
        try:
            return await self._attempt(route, url, headers, body, decoder)
        except CoinFlexError as error:
            failed = error
        return await self._retried(
            route, lambda: self._attempt(route, url, headers, body, decoder), failed
        )

    def _retried(
        self,
        route: Route,
        attempt: Callable[[], Awaitable[T]],
        failed: BaseException | None = None,
    ) -> Awaitable[T]:
        """``attempt`` under the retry engine: repeated while the policy calls its errors
        retryable and the client is open; waits end at once when the client closes."""
        assert self.retry is not None
        return run_retries(
            attempt,
            self.retry,
            retry_on=self._may_retry,
            sleep=self._sleep,
            failed=failed,
            name=route.name,
        )

    async def _sleep(self, seconds: float) -> None:
        if not self._is_closed():  # closed: the next attempt fails at once, unretried
            await sleep_unless(seconds, self._closed_waiter())

    async def _measured(
        self,
        route: Route,
        url: URL,
        headers: dict[str, str],
        body: bytes | None,
        decoder: msgspec.json.Decoder[T],
        may_retry: bool,
        leaving: Callable[[], None] | None = None,
    ) -> T:
        """``request()`` with a metrics hook: counts attempts, times the call, sizes the body."""
        assert self.metrics is not None
        attempts = 0
        sized = _SizedDecoder(decoder)

        async def attempt(*args: Any) -> T:
            nonlocal attempts
            attempts += 1
            return await self._attempt(*args)

        started = time.perf_counter()
        try:
            if self.retry is None or not may_retry:
                result: T = await attempt(route, url, headers, body, sized, leaving)
            else:
                result = await self._retried(
                    route, lambda: attempt(route, url, headers, body, sized)
                )
        except CoinFlexError as error:
            status = getattr(error, "status", 0)
            seconds = time.perf_counter() - started
            self.metrics.request_done(route.name, status, attempts, seconds, 0)
            raise
        seconds = time.perf_counter() - started
        self.metrics.request_done(route.name, 200, attempts, seconds, sized.size)
        return result

    def _remember_url(self, url_text: str) -> URL:
        url = URL(url_text, encoded=True)
        if len(self._urls) >= _MAX_CACHED_URLS:
            self._urls.clear()
        self._urls[url_text] = url
        return url

    @property
    def limiter(self) -> Limiter | None:
        return self._limiter

    def closed_future(self) -> asyncio.Future[None]:
        """A future resolved when the client closes (to end waits at once)."""
        return self._closed_waiter()

    @property
    def timeout(self) -> aiohttp.ClientTimeout:
        return self._timeout

    @property
    def closed(self) -> bool:
        return self._is_closed()

    def _may_retry(self, error: BaseException) -> bool:
        # Nothing is retried once the client is closed: the error is the close itself.
        return self.retry is not None and not self._is_closed() and self.retry.is_retryable(error)

    def check_ready(self, route: Route) -> None:
        """Raise what would stop ``route`` before anything is sent: a closed client, or a
        private endpoint without credentials."""
        if self._is_closed():
            raise ClientClosedError("the client is closed")
        if route.signed and self._signed_headers is None:
            raise AuthenticationError(
                "this endpoint needs api_key and api_secret; nothing was sent",
                status=None,
                endpoint=route.name,
            )

    async def _attempt(
        self,
        route: Route,
        url: URL,
        headers: dict[str, str],
        body: bytes | None,
        decoder: _Decodes[T],
        leaving: Callable[[], None] | None = None,
    ) -> T:
        if self._limiter is None:
            return await self._send(route, url, headers, body, decoder, leaving)
        # Tokens are taken only by a request that can leave at once: one queued for a pooled
        # connection would hold its token and leave late, in a burst that overflows the
        # exchange's window. So at most as many requests as the pool has connections hold one.
        async with self._slots:
            token = await self._limiter.hold(route.buckets, self._closed_waiter)
            try:
                return await self._send(route, url, headers, body, decoder, leaving)
            finally:
                # The request counts in its windows until now, and a window's length after.
                self._limiter.release(token)

    async def _send(
        self,
        route: Route,
        url: URL,
        headers: dict[str, str],
        body: bytes | None,
        decoder: _Decodes[T],
        leaving: Callable[[], None] | None = None,
    ) -> T:
        if self._is_closed():
            raise TransportError("the client was closed while the request was in flight")
        if leaving is not None:
            leaving()

        session = self._session()
        started = time.perf_counter() if log.isEnabledFor(logging.DEBUG) else 0.0
        # No redirects: a redirect would carry the signed headers to wherever it points.
        kwargs: dict[str, Any] = {"allow_redirects": False}
        if headers:
            kwargs["headers"] = headers
        if body is not None:
            kwargs["data"] = body
        if self._per_request is not None:
            kwargs.update(self._per_request)
        try:
            async with session.request(route.method, url, **kwargs) as response:
                payload = await response.read()
                status = response.status
                retry_after = (
                    response.headers.get("Retry-After") if status == 429 or status >= 500 else None
                )
        except asyncio.TimeoutError as exc:
            raise TransportError(f"{_where(route, url)}: timed out") from exc
        except aiohttp.ClientConnectorError as exc:
            # Nothing was sent: the connection itself failed.
            raise TransportError(
                f"{_where(route, url)}: cannot connect ({exc.os_error})", request_sent=False
            ) from exc
        except aiohttp.ClientError as exc:
            if self._is_closed():
                raise TransportError(f"{_where(route, url)}: the client was closed") from exc
            cause = exc.error if isinstance(exc, _NotResent) else exc
            raise TransportError(f"{_where(route, url)}: {type(cause).__name__}: {cause}") from exc
        except RuntimeError as exc:
            # aiohttp raises RuntimeError("Session is closed") when close() won the race.
            if self._is_closed():
                raise TransportError(f"{_where(route, url)}: the client was closed") from exc
            raise

        if started:
            log.debug(
                "%s %s -> %s (%d bytes) in %.1f ms",
                route.method,
                url.raw_path,
                status,
                len(payload),
                (time.perf_counter() - started) * 1000,
            )

        if status < 300:
            try:
                return decoder.decode(payload)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                where = _where(route, url)
                error = error_from_response(status, payload, endpoint=where)
                if error is not None:
                    raise error from None
                raise DecodeError(
                    f"{where}: response is not the documented shape ({exc}): {excerpt(payload)!r}",
                    endpoint=where,
                    excerpt=excerpt(payload),
                ) from None
        where = _where(route, url)
        error = error_from_response(status, payload, endpoint=where, retry_after=retry_after)
        if error is None:  # pragma: no cover - every status >= 300 maps to an error
            error = CoinFlexError(f"{where}: unexpected HTTP {status}")
        raise error


class _SizedDecoder(Generic[T]):
    """A decoder that remembers the size of the last body it decoded (for metrics)."""

    __slots__ = ("decoder", "size")

    def __init__(self, decoder: msgspec.json.Decoder[T]) -> None:
        self.decoder = decoder
        self.size = 0

    def decode(self, payload: bytes) -> T:
        self.size = len(payload)
        return self.decoder.decode(payload)


def _where(route: Route, url: URL) -> str:
    """``"GET /v2/depth/BTC-USD-SWAP-LIN/5"``: the path as sent, for errors."""
    return f"{route.method} {url.raw_path}"


# -- aiohttp's silent re-send ----------------------------------------------------------------
# aiohttp re-sends a GET, PUT or DELETE once, by itself, when a kept-alive connection turns out
# to be reset (ClientOSError / ServerDisconnectedError, RFC 9112 9.3.1). That re-send bypasses
# the retry policy (attempts double) and repeats cancels, whose fate only an order lookup may
# settle: every re-send is this module's decision. The tests that fail when aiohttp stops
# honouring either switch below: tests/test_transport.py, "aiohttp's private attributes".


def forbid_silent_resend(session: aiohttp.ClientSession) -> None:
    """Turn aiohttp's re-send off on the client's own session. There is no public switch:
    ``_retry_connection`` is read per request by ``ClientSession._request`` (3.12 to 3.14)."""
    session._retry_connection = False


class _NotResent(aiohttp.ClientError):
    """A reset that aiohttp must not answer with a re-send (it re-sends only on ClientOSError
    and ServerDisconnectedError): carries the original error to the transport."""

    def __init__(self, error: aiohttp.ClientError) -> None:
        super().__init__(str(error))
        self.error = error


async def _never_resend(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """A middleware for a caller's session, which is not ours to reconfigure (the caller's own
    requests keep aiohttp's behaviour): ours come out of a reset as an error aiohttp passes on
    instead of re-sending."""
    try:
        return await handler(request)
    except aiohttp.ClientConnectorError:
        raise  # the connection never opened: nothing was sent, and aiohttp re-sends nothing
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        raise _NotResent(exc) from exc


def caller_session_middlewares(
    session: aiohttp.ClientSession, signer: aiohttp.ClientMiddlewareType | None
) -> tuple[aiohttp.ClientMiddlewareType, ...]:
    """The middlewares for every request on a caller's session: a per-request ``middlewares=``
    replaces the session's own, so those are kept (read from aiohttp's private
    ``ClientSession._middlewares``, 3.12 to 3.14), between the re-send guard (outermost) and
    the signer (innermost, so that it signs exactly what goes on the wire)."""
    own: tuple[aiohttp.ClientMiddlewareType, ...] = tuple(session._middlewares or ())
    return (_never_resend, *own, *((signer,) if signer is not None else ()))
