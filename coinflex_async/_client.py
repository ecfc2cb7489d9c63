"""The client: owns the session and its one connector, the configuration, and the groups."""

from __future__ import annotations

import asyncio
import ipaddress
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from ._errors import ClientClosedError, ValidationError
from ._metrics import Metrics
from ._ratelimit import DEFAULT_RATE_LIMITS, Limiter, RateLimiter, RateLimits
from ._signing import Credentials, SigningMiddleware
from ._transport import (
    RetryPolicy,
    Transport,
    caller_session_middlewares,
    forbid_silent_resend,
)
from .models.requests import ClientOrderIds
from .resources.flex_protocol import FlexProtocol
from .resources.private import Private
from .resources.public import Public

if TYPE_CHECKING:
    from .stream import Stream
    from .stream.context import StreamContext

__all__ = ["LIVE_URL", "TEST_URL", "Client"]

LIVE_URL = "https://v2api.coinflex.com"
TEST_URL = "https://v2stgapi.coinflex.com"

_DEFAULT_RETRY = RetryPolicy()
# Sent with every order request: the exchange refuses one older than this, which is what lets
# the client prove that an order whose answer was lost was never placed (see _orders.py).
DEFAULT_RECV_WINDOW = 5000


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Client:
    """An asyncio client for the CoinFLEX v2 REST API.

    ::

        async with cf.Client(api_key, api_secret, base_url=cf.TEST_URL) as client:
            book = await client.public.depth("BTC-USD-SWAP-LIN", level=5)

    Options (keyword-only):

    - ``base_url``: ``cf.LIVE_URL`` (default), ``cf.TEST_URL``, or a simulator's ``sim.url``.
    - ``session``: a caller-owned ``aiohttp.ClientSession`` to send through; the client never
      closes it (its own middlewares still run, followed by the client's signing).
    - ``timeout``: seconds allowed for one attempt of one request (default 10).
    - ``rate_limits``: a :class:`RateLimits` (default: the exchange's published limits), or
      ``None`` to turn client-side limiting off.
    - ``retry``: a :class:`RetryPolicy` for requests safe to repeat (GETs), or ``None`` for no
      retries.
    - ``recv_window``: the ``recvWindow`` (ms) sent with every order request (default 5000): the
      exchange refuses an order request older than that, so an order whose answer was lost and
      that is not found after it has passed was never placed, and is safe to send again.
    - ``connector_limit``: most simultaneous connections of the client's connector (default 100).
    - ``allow_insecure_http``: allow signed requests over plain ``http://`` to a host that is not
      loopback (refused by default: the API key and signatures would travel in clear text).
    - ``limit_store``: ``None`` (default: the rate limits live in this client) or a Redis URL
      (``"redis://host:6379/0"``; needs ``coinflex_async[redis]``): every client with the same
      store and ``limit_namespace`` (default ``"coinflex_async"``), in any process on any host,
      takes its tokens from the same windows.
    - ``limit_store_fallback``: ``None`` (default: when Redis cannot be reached a call raises
      :class:`LimitStoreError` within ``timeout``) or ``"local"`` (limits in this client, with
      one warning logged, until Redis answers again).
    - ``metrics``: an object implementing :class:`Metrics` (see ``coinflex_async.prometheus``),
      called when a call ends, when a request waited for a rate-limit token, and when an order
      was recovered; ``None`` (default) measures nothing.

    No I/O happens in the constructor: the session and its connector are created on the first
    request, inside the running event loop.
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        *,
        base_url: str = LIVE_URL,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        rate_limits: RateLimits | None = DEFAULT_RATE_LIMITS,
        retry: RetryPolicy | None = _DEFAULT_RETRY,
        recv_window: int = DEFAULT_RECV_WINDOW,
        connector_limit: int = 100,
        allow_insecure_http: bool = False,
        limit_store: str | None = None,
        limit_namespace: str = "coinflex_async",
        limit_store_fallback: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        if (api_key is None) != (api_secret is None):
            raise ValidationError("pass both api_key and api_secret, or neither")
        url = URL(base_url) if isinstance(base_url, str) else None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise ValidationError(f"base_url must be an http(s) URL (got {base_url!r})")
        if url.path not in ("", "/") or url.query_string:
            raise ValidationError(f"base_url must not have a path or query (got {base_url!r})")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValidationError(f"timeout must be a positive number of seconds (got {timeout!r})")
        if isinstance(recv_window, bool) or not isinstance(recv_window, int) or recv_window <= 0:
            raise ValidationError(f"recv_window must be a positive int (got {recv_window!r})")
        if isinstance(connector_limit, bool) or not isinstance(connector_limit, int):
            raise ValidationError("connector_limit must be an int")

        if limit_store is not None:
            if not isinstance(limit_store, str) or not limit_store.startswith(
                ("redis://", "rediss://", "unix://")
            ):
                raise ValidationError(
                    f"limit_store must be a redis://, rediss:// or unix:// URL, not {limit_store!r}"
                )
            if rate_limits is None:
                raise ValidationError("limit_store needs rate limits (rate_limits is None)")
        if not isinstance(limit_namespace, str) or not limit_namespace or "}" in limit_namespace:
            raise ValidationError("limit_namespace must be a non-empty str without '}'")
        if limit_store_fallback not in (None, "local"):
            raise ValidationError(
                f"limit_store_fallback must be None or 'local' (got {limit_store_fallback!r})"
            )

        self._credentials = (
            Credentials(api_key, api_secret)
            if api_key is not None and api_secret is not None
            else None
        )
        if (
            self._credentials is not None
            and url.scheme == "http"
            and not _is_loopback(url.host)
            and not allow_insecure_http
        ):
            raise ValidationError(
                f"refusing to send signed requests over plain http to {url.host}; "
                "use https, or pass allow_insecure_http=True"
            )
        self.base_url = str(url.origin())
        self.timeout = float(timeout)
        self.rate_limits = rate_limits
        self.retry = retry
        self.recv_window = recv_window
        self._connector_limit = connector_limit
        self._owns_session = session is None
        self._session = session
        self._closed = False
        self._closed_future: asyncio.Future[None] | None = None
        self._streams: set[Stream] = set()
        # Client order IDs of REST and WebSocket orders alike: one counter, no repeats.
        self._order_ids = ClientOrderIds()
        self._signer = SigningMiddleware(self._credentials) if self._credentials else None

        limiter: Limiter | None = None
        if rate_limits is not None and limit_store is not None:
            try:
                from ._limitstore import RedisLimiter
            except ImportError as exc:
                raise ImportError(
                    'limit_store needs the Redis client: pip install "coinflex_async[redis]"'
                ) from exc
            limiter = RedisLimiter(
                limit_store,
                rate_limits,
                namespace=limit_namespace,
                api_key=api_key,
                timeout=self.timeout,
                fallback=limit_store_fallback,
                metrics=metrics,
            )
        elif rate_limits is not None:
            limiter = RateLimiter(rate_limits, metrics=metrics)
        self._limiter = limiter

        per_request_middlewares = None
        if session is not None:
            per_request_middlewares = caller_session_middlewares(session, self._signer)
        self._transport = Transport(
            base_url=self.base_url,
            session_getter=self._get_session,
            limiter=limiter,
            retry=retry,
            timeout=self.timeout,
            api_key=self._credentials.api_key if self._credentials else None,
            is_closed=self._is_closed,
            closed_waiter=self._closed_waiter,
            per_request_middlewares=per_request_middlewares,
            max_in_flight=connector_limit if connector_limit > 0 else 100,
            own_session=session is None,
            metrics=metrics,
        )

    def __repr__(self) -> str:
        key = self._credentials.api_key if self._credentials else None
        state = "closed" if self._closed else "open"
        return f"Client(base_url={self.base_url!r}, api_key={key!r}, {state})"

    @property
    def closed(self) -> bool:
        return self._closed

    def _is_closed(self) -> bool:
        return self._closed

    def _closed_waiter(self) -> asyncio.Future[None]:
        if self._closed_future is None:
            self._closed_future = asyncio.get_running_loop().create_future()
        return self._closed_future

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("the client is closed")
        session = self._session
        if session is None:
            connector = aiohttp.TCPConnector(limit=self._connector_limit)
            session = aiohttp.ClientSession(
                connector=connector,
                middlewares=(self._signer,) if self._signer is not None else (),
                timeout=self._transport.timeout,  # for one attempt of one request
            )
            forbid_silent_resend(session)  # the transport decides every re-send
            self._session = session
        elif session.closed:
            raise ClientClosedError("the caller-owned session is closed")
        return session

    async def close(self) -> None:
        """Close the client (idempotent). Calls still in flight end with TransportError."""
        if self._closed:
            return
        self._closed = True
        if self._closed_future is not None and not self._closed_future.done():
            self._closed_future.set_result(None)
        for stream in list(self._streams):
            await stream.close()
        session, self._session = self._session, None
        try:
            if session is not None and self._owns_session:
                await session.close()
        finally:
            if self._limiter is not None:
                await self._limiter.close()

    async def __aenter__(self) -> Client:
        if self._closed:
            raise ClientClosedError("the client is closed")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def stream(self, *, ping_interval: float = 20.0, max_queue: int = 1000) -> Stream:
        """One WebSocket connection to ``base_url`` for subscriptions and order commands:
        ``async with client.stream() as ws: feed = await ws.subscribe("depthL10:M")``.

        ``ping_interval``: seconds between keep-alive pings (at most 60, the exchange's limit);
        a connection silent for 1.5x that (no answer even to a ping) is reopened.
        ``max_queue``: events a subscription's reader may fall behind before books are
        conflated or ``StreamOverflowError`` is raised.
        """
        from .stream import Stream

        if self._closed:
            raise ClientClosedError("the client is closed")
        stream = Stream(self._stream_context(), ping_interval=ping_interval, max_queue=max_queue)
        self._streams.add(stream)
        return stream

    def _stream_context(self) -> StreamContext:
        """What a stream needs of this client, and nothing else (see stream.context)."""
        from ._endpoints import ORDERS
        from ._orders import OrderRecovery
        from .stream.context import StreamContext

        return StreamContext(
            base_url=self.base_url,
            get_session=self._get_session,
            is_closed=self._is_closed,
            timeout=self.timeout,
            recv_window=self.recv_window,
            retry=self.retry,
            credentials=self._credentials,
            limiter=self._limiter,
            ids=self._order_ids,
            recovery=OrderRecovery(self._transport, history_route=ORDERS.route, retry=self.retry),
            snapshot=self.private.snapshot,
            trades_page=self.public.trades,
            forget=self._streams.discard,
        )

    @cached_property
    def public(self) -> Public:
        """Public market data (no credentials needed)."""
        return Public(self._transport)

    @cached_property
    def private(self) -> Private:
        """The account of the API key: balances, positions, orders, delivery, lending."""
        return Private(self._transport, recv_window=self.recv_window, ids=self._order_ids)

    @cached_property
    def flex_protocol(self) -> FlexProtocol:
        """Public data of the flexUSD/flexBTC/flexETH/flexFLEX protocols."""
        return FlexProtocol(self._transport)
