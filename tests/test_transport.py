"""Retries through real sockets: what is retried, how often, how long it waits, what is never
re-sent. Attempts are counted at the server."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

import coinflex_async as cf
from tests.loopback import Recorded, RecordingServer, Reply, resetting_server
from tests.models import docs_examples as docs

KEY = "transport-test-key"
SECRET = "transport-test-secret"
FAST_RETRY = cf.RetryPolicy(attempts=3, backoff=0.01)

TICKER_OK: Reply = (200, docs.TICKER, {})
UNAVAILABLE: Reply = (503, {"success": False, "code": "50001", "message": "try later"}, {})


def client_for(url: str, **options: object) -> cf.Client:
    options.setdefault("rate_limits", None)
    options.setdefault("retry", FAST_RETRY)
    return cf.Client(KEY, SECRET, base_url=url, **options)  # type: ignore[arg-type]


def too_many(retry_after: str | None) -> tuple[int, dict[str, object], dict[str, str]]:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return (429, {"success": False, "code": "20007", "message": "too rapid"}, headers)


# -- GETs are retried ----------------------------------------------------------------------


async def test_a_get_answered_503_503_200_succeeds_on_the_third_attempt(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE, UNAVAILABLE, TICKER_OK)
    async with client_for(url) as client:
        tickers = await client.public.ticker()
    assert tickers[0].market_code == "BTC-USD-SWAP-LIN"
    assert len(server.requests) == 3
    assert {(r.method, r.path, r.query) for r in server.requests} == {("GET", "/v2/ticker", "")}


async def test_retries_are_bounded_by_attempts(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE)
    async with client_for(url, retry=cf.RetryPolicy(attempts=3, backoff=0.01)) as client:
        with pytest.raises(cf.ServerError) as caught:
            await client.public.ticker()
    assert type(caught.value) is cf.ServerError
    assert caught.value.status == 503
    assert len(server.requests) == 3


@pytest.mark.parametrize("retry", [None, cf.RetryPolicy(attempts=1)], ids=["None", "attempts=1"])
async def test_no_retries_means_one_request(
    recorder: tuple[RecordingServer, str], retry: cf.RetryPolicy | None
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE, TICKER_OK)
    async with client_for(url, retry=retry) as client:
        with pytest.raises(cf.ServerError):
            await client.public.ticker()
    assert len(server.requests) == 1


async def test_a_429_with_retry_after_is_waited_then_retried(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", too_many("1"), TICKER_OK)
    async with client_for(url) as client:
        started = time.monotonic()
        await client.public.ticker()
        elapsed = time.monotonic() - started
    first, second = server.requests
    assert 0.95 <= second.at - first.at < 2.0
    assert elapsed < 2.5


async def test_a_429_without_retry_after_is_retried_with_backoff(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", too_many(None), TICKER_OK)
    async with client_for(url) as client:
        await client.public.ticker()
    assert len(server.requests) == 2


async def test_a_retry_after_longer_than_max_retry_after_raises_at_once(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", too_many("60"), TICKER_OK)
    policy = cf.RetryPolicy(attempts=3, backoff=0.01, max_retry_after=5.0)
    async with client_for(url, retry=policy) as client:
        started = time.monotonic()
        with pytest.raises(cf.RateLimitError) as caught:
            await client.public.ticker()
        assert time.monotonic() - started < 0.5
    assert caught.value.retry_after == 60.0
    assert len(server.requests) == 1


async def test_backoff_never_exceeds_max_backoff(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, TICKER_OK)
    policy = cf.RetryPolicy(attempts=4, backoff=30.0, max_backoff=0.05)
    async with client_for(url, retry=policy) as client:
        started = time.monotonic()
        await client.public.ticker()
        assert time.monotonic() - started < 1.0
    assert len(server.requests) == 4


async def test_a_timed_out_get_is_retried(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    release = asyncio.Event()

    async def slow_then_fast(_: Recorded) -> Reply:
        if len(server.requests) == 1:
            await release.wait()
        return TICKER_OK

    server.reply("GET", "/v2/ticker", slow_then_fast)
    try:
        async with client_for(url, timeout=0.2) as client:
            tickers = await client.public.ticker()
    finally:
        release.set()
    assert len(tickers) == 1
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("reply", "error_class"),
    [
        ((400, {"success": False, "code": "20001", "message": "bad"}, {}), cf.APIError),
        ((401, {"success": False, "code": "20000", "message": "bad"}, {}), cf.AuthenticationError),
        ((404, {"success": False, "message": "none"}, {}), cf.NotFoundError),
        ((200, {"success": False, "code": "20001", "message": "bad"}, {}), cf.APIError),
        ((200, b'{"data": [{"marketCode": 1}]}', {}), cf.DecodeError),
    ],
    ids=["400", "401", "404", "200-error-body", "200-wrong-shape"],
)
async def test_answers_that_would_not_change_are_not_retried(
    recorder: tuple[RecordingServer, str],
    reply: tuple[int, object, dict[str, str]],
    error_class: type[cf.CoinFlexError],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", reply, TICKER_OK)
    async with client_for(url) as client:
        with pytest.raises(cf.CoinFlexError) as caught:
            await client.public.ticker()
    assert type(caught.value) is error_class
    assert len(server.requests) == 1


# -- POST and DELETE are never re-sent by the plain transport --------------------------------


async def test_a_post_answered_503_is_not_retried(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("POST", "/v2/mint", UNAVAILABLE, (200, docs.MINT, {}))
    async with client_for(url) as client:
        with pytest.raises(cf.ServerError):
            await client.private.mint("flexUSD", "10")
    assert len(server.requests) == 1


async def test_a_delete_answered_503_is_not_retried(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("DELETE", "/v2/cancel/orders", UNAVAILABLE, (200, docs.CANCEL_ALL, {}))
    async with client_for(url) as client:
        with pytest.raises(cf.ServerError):
            await client.private.cancel_all_orders()
    assert len(server.requests) == 1


async def test_a_post_answered_429_is_not_retried(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("POST", "/v2/mint", too_many("0"), (200, docs.MINT, {}))
    async with client_for(url) as client:
        with pytest.raises(cf.RateLimitError):
            await client.private.mint("flexUSD", "10")
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "call"),
    [
        ("POST", "/v2/mint", docs.MINT, lambda c: c.private.mint("flexUSD", "10")),
        ("DELETE", "/v2/cancel/orders", docs.CANCEL_ALL, lambda c: c.private.cancel_all_orders()),
    ],
    ids=["POST", "DELETE"],
)
async def test_a_timed_out_post_or_delete_is_not_retried(
    recorder: tuple[RecordingServer, str],
    method: str,
    path: str,
    body: bytes,
    call: Callable[[cf.Client], Awaitable[object]],
) -> None:
    server, url = recorder
    release = asyncio.Event()

    async def slow(_: Recorded) -> Reply:
        await release.wait()
        return (200, body, {})

    server.reply(method, path, slow)
    try:
        async with client_for(url, timeout=0.2) as client:
            with pytest.raises(cf.TransportError) as caught:
                await call(client)
    finally:
        release.set()
    assert type(caught.value) is cf.TransportError
    assert caught.value.request_sent is True
    assert [(r.method, r.path) for r in server.requests] == [(method, path)]


@pytest.fixture
async def reset_server() -> AsyncIterator[tuple[str, list[bytes]]]:
    async with resetting_server() as (url, received):
        yield url, received


async def test_a_post_on_a_reset_connection_is_not_retried(
    reset_server: tuple[str, list[bytes]],
) -> None:
    url, received = reset_server
    async with client_for(url) as client:
        with pytest.raises(cf.TransportError) as caught:
            await client.private.mint("flexUSD", "10")
    assert type(caught.value) is cf.TransportError
    assert [head.split(b" ", 2)[:2] for head in received] == [[b"POST", b"/v2/mint"]]


async def test_a_delete_on_a_reset_connection_is_not_retried(
    reset_server: tuple[str, list[bytes]],
) -> None:
    url, received = reset_server
    async with client_for(url) as client:
        with pytest.raises(cf.TransportError) as caught:
            await client.private.cancel_all_orders()
    assert type(caught.value) is cf.TransportError
    assert len(received) == 1


async def test_a_get_on_reset_connections_is_sent_exactly_attempts_times(
    reset_server: tuple[str, list[bytes]],
) -> None:
    url, received = reset_server
    async with client_for(url, retry=cf.RetryPolicy(attempts=3, backoff=0.01)) as client:
        with pytest.raises(cf.TransportError):
            await client.public.ticker()
    assert len(received) == 3


# -- the policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"attempts": 0}, {"backoff": -1.0}, {"max_backoff": -1.0}, {"max_retry_after": -1.0}],
)
def test_a_retry_policy_refuses_nonsense(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        cf.RetryPolicy(**options)  # type: ignore[arg-type]


# -- aiohttp's private attributes ----------------------------------------------------------
# aiohttp re-sends a GET or DELETE once by itself when a kept-alive connection turns out to be
# reset. The client turns that off on its own session (``_retry_connection``) and guards its
# requests on a caller's session with a middleware (which keeps the caller's own middlewares,
# read from ``_middlewares``: tests/test_client.py, "caller-owned sessions"). These tests fail
# when aiohttp stops honouring either: the server counts what arrives.


@pytest.fixture
async def keep_alive_then_reset() -> AsyncIterator[tuple[str, list[tuple[str, str]]]]:
    """A loopback server that answers the first request on each connection (and keeps the
    connection alive), then resets the connection when the next request arrives on it.

    Yields its base URL and every request's (method, path) as it arrived."""
    arrived: list[tuple[str, str]] = []
    bodies = {"/v2/ticker": docs.TICKER, "/v2/cancel/orders": docs.CANCEL_ALL}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, path, _ = head.split(b" ", 2)
                arrived.append((method.decode(), path.decode()))
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        await reader.readexactly(int(line.split(b":")[1]))
                if served:
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.close()
                    return
                body = bodies[path.decode()]
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Connection: keep-alive\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
                served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", arrived
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("session_owner", ["client", "caller"])
async def test_a_reset_kept_alive_connection_never_resends_a_delete(
    keep_alive_then_reset: tuple[str, list[tuple[str, str]]], session_owner: str
) -> None:
    url, arrived = keep_alive_then_reset
    session = aiohttp.ClientSession() if session_owner == "caller" else None
    try:
        async with client_for(url, session=session, retry=None) as client:
            await client.public.ticker()  # opens the connection the DELETE will reuse
            with pytest.raises(cf.TransportError) as caught:
                await client.private.cancel_all_orders()
    finally:
        if session is not None:
            await session.close()
    assert type(caught.value) is cf.TransportError
    assert caught.value.request_sent is True
    assert arrived == [("GET", "/v2/ticker"), ("DELETE", "/v2/cancel/orders")]


@pytest.mark.parametrize("session_owner", ["client", "caller"])
@pytest.mark.parametrize("attempts", [1, 3])
async def test_a_reset_kept_alive_get_is_sent_as_often_as_the_policy_says(
    keep_alive_then_reset: tuple[str, list[tuple[str, str]]], session_owner: str, attempts: int
) -> None:
    """The policy's count, never aiohttp's extra one: with 1 attempt the reset GET arrives once;
    with 3, the second attempt goes out on a fresh connection and succeeds."""
    url, arrived = keep_alive_then_reset
    session = aiohttp.ClientSession() if session_owner == "caller" else None
    policy = cf.RetryPolicy(attempts=attempts, backoff=0.001)
    try:
        async with cf.Client(base_url=url, session=session, retry=policy) as client:
            await client.public.ticker()
            if attempts == 1:
                with pytest.raises(cf.TransportError):
                    await client.public.ticker()
            else:
                await client.public.ticker()
    finally:
        if session is not None:
            await session.close()
    assert arrived == [("GET", "/v2/ticker")] * (2 if attempts == 1 else 3)


async def test_a_callers_session_keeps_aiohttps_resend_for_its_own_requests(
    keep_alive_then_reset: tuple[str, list[tuple[str, str]]],
) -> None:
    """The guard is ours, not the session's: the caller's own GET on the same session is still
    re-sent by aiohttp (which also shows that the server's reset is one aiohttp re-sends on)."""
    url, arrived = keep_alive_then_reset
    async with aiohttp.ClientSession() as session:
        async with cf.Client(base_url=url, session=session, retry=None) as client:
            await client.public.ticker()
        async with session.get(f"{url}/v2/ticker") as response:
            assert response.status == 200
    assert arrived == [("GET", "/v2/ticker")] * 3
