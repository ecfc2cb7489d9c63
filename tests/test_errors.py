"""Every exception class, each produced by a real loopback server, never a raw aiohttp/msgspec one.

Retries are off (``retry=None``) unless a test says otherwise, so each error is the first answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

import coinflex_async as cf
from tests.loopback import Recorded, RecordingServer, resetting_server, unused_port
from tests.models import docs_examples as docs

KEY = "errors-test-key"
SECRET = "errors-test-secret"


def client_for(url: str, **options: object) -> cf.Client:
    options.setdefault("rate_limits", None)
    options.setdefault("retry", None)
    return cf.Client(KEY, SECRET, base_url=url, **options)  # type: ignore[arg-type]


async def error_of(url: str, call: str = "ticker", **options: object) -> cf.CoinFlexError:
    """The exception one call raises (public.ticker or private.balances)."""
    async with client_for(url, **options) as client:
        method = client.public.ticker if call == "ticker" else client.private.balances
        with pytest.raises(cf.CoinFlexError) as caught:
            await method()
    return caught.value


# -- HTTP statuses -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
async def test_401_and_403_raise_authentication_error_keeping_code_and_message(
    recorder: tuple[RecordingServer, str], status: int
) -> None:
    server, url = recorder
    body = {"success": False, "code": "20000", "message": "Signature is invalid"}
    server.reply("GET", "/v2/balances", (status, body, {}))
    error = await error_of(url, "balances")
    assert type(error) is cf.AuthenticationError
    assert (error.status, error.code, error.message) == (status, "20000", "Signature is invalid")


async def test_429_raises_rate_limit_error_with_retry_after(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    body = {"success": False, "code": "20007", "message": "too rapid"}
    server.reply("GET", "/v2/ticker", (429, body, {"Retry-After": "7"}))
    error = await error_of(url)
    assert type(error) is cf.RateLimitError
    assert error.retry_after == 7.0
    assert (error.status, error.code, error.message) == (429, "20007", "too rapid")
    assert len(server.requests) == 1


async def test_429_without_retry_after_has_none(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", (429, "Too Many Requests", {"Content-Type": "text/plain"}))
    error = await error_of(url)
    assert type(error) is cf.RateLimitError
    assert error.retry_after is None


async def test_404_raises_not_found_error(recorder: tuple[RecordingServer, str]) -> None:
    _, url = recorder  # the recorder answers 404 for routes it does not know
    error = await error_of(url)
    assert type(error) is cf.NotFoundError
    assert error.status == 404


@pytest.mark.parametrize("status", [500, 503])
async def test_5xx_raises_server_error(recorder: tuple[RecordingServer, str], status: int) -> None:
    server, url = recorder
    body = {"success": False, "code": "50001", "message": "unknown server error"}
    server.reply("GET", "/v2/ticker", (status, body, {}))
    error = await error_of(url)
    assert type(error) is cf.ServerError
    assert (error.status, error.code, error.message) == (status, "50001", "unknown server error")


async def test_an_html_502_page_raises_server_error_with_a_short_excerpt(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    page = (
        "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
        "<center><h1>502 Bad Gateway</h1></center>\n"
        + "<!-- padding -->\n" * 400
        + "<p>END-OF-PAGE-MARKER</p></body>\n</html>\n"
    )
    server.reply("GET", "/v2/ticker", (502, page, {"Content-Type": "text/html"}))
    error = await error_of(url)
    assert type(error) is cf.ServerError
    assert error.status == 502
    assert error.code is None
    assert "502 Bad Gateway" in str(error)
    assert "END-OF-PAGE-MARKER" not in str(error)
    assert len(str(error)) < 500 < len(page)


async def test_a_gateway_503_body_raises_server_error_with_its_message(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    body = {
        "status": 503,
        "error": "Service Unavailable",
        "message": "The exchange is under maintenance",
        "requestId": "4c1f8a7e-2b3d-4f5a-9c8b-1d2e3f4a5b6c",
    }
    server.reply("GET", "/v2/ticker", (503, body, {}))
    error = await error_of(url)
    assert type(error) is cf.ServerError
    assert error.status == 503
    assert error.message == "The exchange is under maintenance"


@pytest.mark.parametrize(
    "body",
    [
        {"success": False, "code": "20001", "message": "Invalid parameter"},
        {"success": "false", "code": "20001", "message": "Invalid parameter"},
        {"success": "false", "code": 20001, "message": "Invalid parameter"},
    ],
    ids=["bool", "string", "numeric-code"],
)
async def test_an_error_body_with_http_200_raises_api_error_with_a_str_code(
    recorder: tuple[RecordingServer, str], body: dict[str, object]
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", (200, body, {}))
    error = await error_of(url)
    assert type(error) is cf.APIError
    assert error.status == 200
    assert error.code == "20001"
    assert error.message == "Invalid parameter"


async def test_a_redirect_is_not_followed_and_raises_api_error(
    recorder: tuple[RecordingServer, str], aiohttp_server: AiohttpServer
) -> None:
    # Following it would carry the signed headers to wherever it points.
    server, url = recorder
    elsewhere = RecordingServer()
    other = await aiohttp_server(elsewhere.app)
    target = f"http://127.0.0.1:{other.port}/v2/balances"
    server.reply("GET", "/v2/balances", (302, b"", {"Location": target}))
    error = await error_of(url, "balances")
    assert type(error) is cf.APIError
    assert error.status == 302
    assert elsewhere.requests == []


# -- bodies that are not the documented shape ----------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        docs.TICKER[: len(docs.TICKER) // 2],
        b'{"event": "ticker", "data": {"marketCode": "BTC-USD-SWAP-LIN"}}',
        b'["BTC-USD-SWAP-LIN", 43.259]',
        b'{"event": "ticker"}',
        b"",
    ],
    ids=["truncated", "object-for-list", "bare-list", "no-data", "empty"],
)
async def test_a_200_body_of_the_wrong_shape_raises_decode_error(
    recorder: tuple[RecordingServer, str], body: bytes
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", (200, body, {}))
    error = await error_of(url)
    assert type(error) is cf.DecodeError
    assert error.endpoint == "GET /v2/ticker"
    assert "GET /v2/ticker" in str(error)
    # The excerpt is the start of the body, whitespace collapsed.
    assert error.excerpt.startswith(" ".join(body.decode().split())[:30])


async def test_decode_error_excerpt_is_short_for_a_large_body(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    huge = b'{"data": [' + b'{"marketCode": 1},' * 5000 + b"}"
    server.reply("GET", "/v2/ticker", (200, huge, {}))
    error = await error_of(url)
    assert type(error) is cf.DecodeError
    assert error.excerpt.startswith('{"data": [{"marketCode": 1}')
    assert len(error.excerpt) <= 210
    assert len(str(error)) < 1000


@pytest.mark.parametrize("field", ["last", "markPrice", "lastQty"])
async def test_a_required_decimal_field_that_is_null_raises_decode_error(
    recorder: tuple[RecordingServer, str], field: str
) -> None:
    server, url = recorder
    body = docs.TICKER.replace(f'"{field}": "'.encode(), f'"{field}": null, "x": "'.encode())
    assert body != docs.TICKER
    server.reply("GET", "/v2/ticker", (200, body, {}))
    error = await error_of(url)
    assert type(error) is cf.DecodeError
    assert error.endpoint == "GET /v2/ticker"


async def test_a_decimal_field_that_is_not_a_number_raises_decode_error(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    body = docs.TICKER.replace(b'"last": "43.259"', b'"last": "n/a"')
    assert body != docs.TICKER
    server.reply("GET", "/v2/ticker", (200, body, {}))
    error = await error_of(url)
    assert type(error) is cf.DecodeError


# -- the connection itself -----------------------------------------------------------------


async def test_connection_refused_raises_transport_error_not_sent() -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    error = await error_of(url)
    assert type(error) is cf.TransportError
    assert error.request_sent is False


async def test_connection_refused_is_retried_for_gets_and_still_ends_in_transport_error() -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    error = await error_of(url, retry=cf.RetryPolicy(attempts=3, backoff=0.01))
    assert type(error) is cf.TransportError
    assert error.request_sent is False


@pytest.fixture
async def reset_server() -> AsyncIterator[tuple[str, list[bytes]]]:
    async with resetting_server() as (url, received):
        yield url, received


async def test_a_connection_reset_raises_transport_error(
    reset_server: tuple[str, list[bytes]],
) -> None:
    url, received = reset_server
    error = await error_of(url)
    assert type(error) is cf.TransportError
    assert error.request_sent is True  # it did reach the server
    assert received


# aiohttp's ClientSession re-sends GET/DELETE once by itself after ClientOSError or
# ServerDisconnectedError (``ClientSession._retry_connection``, client.py:739), on top of the
# client's own retry policy.
async def test_with_retries_off_a_reset_get_is_sent_once(
    reset_server: tuple[str, list[bytes]],
) -> None:
    url, received = reset_server
    error = await error_of(url)
    assert type(error) is cf.TransportError
    assert len(received) == 1


async def test_a_server_slower_than_the_timeout_raises_transport_error_quickly(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    release = asyncio.Event()

    async def slow(_: Recorded) -> tuple[int, bytes, dict[str, str]]:
        await release.wait()
        return (200, docs.TICKER, {})

    server.reply("GET", "/v2/ticker", slow)
    started = time.monotonic()
    try:
        error = await error_of(url, timeout=0.2)
    finally:
        release.set()
    elapsed = time.monotonic() - started
    assert type(error) is cf.TransportError
    assert 0.15 < elapsed < 1.5


async def test_a_body_that_trickles_slower_than_the_timeout_raises_transport_error(
    aiohttp_server: AiohttpServer,
) -> None:
    release = asyncio.Event()

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(docs.TICKER[:20])
        await release.wait()
        return response

    app = web.Application()
    app.router.add_get("/v2/ticker", trickle)
    server = await aiohttp_server(app)
    started = time.monotonic()
    try:
        error = await error_of(f"http://127.0.0.1:{server.port}", timeout=0.2)
    finally:
        release.set()
    assert type(error) is cf.TransportError
    assert time.monotonic() - started < 1.5


async def test_the_timeout_applies_to_each_attempt_and_retries_stay_bounded(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    release = asyncio.Event()

    async def slow(_: Recorded) -> tuple[int, bytes, dict[str, str]]:
        await release.wait()
        return (200, docs.TICKER, {})

    server.reply("GET", "/v2/ticker", slow)
    started = time.monotonic()
    try:
        error = await error_of(url, timeout=0.2, retry=cf.RetryPolicy(attempts=3, backoff=0.01))
    finally:
        release.set()
    assert type(error) is cf.TransportError
    assert len(server.requests) == 3
    assert time.monotonic() - started < 2.5


# -- the tree ------------------------------------------------------------------------------


def test_the_exception_tree_is_the_documented_one() -> None:
    assert issubclass(cf.ValidationError, cf.CoinFlexError)
    assert issubclass(cf.ValidationError, ValueError)
    assert issubclass(cf.ClientClosedError, cf.CoinFlexError)
    assert issubclass(cf.ClientClosedError, RuntimeError)
    assert issubclass(cf.OrderStatusUnknownError, cf.TransportError)
    for api_error in (
        cf.AuthenticationError,
        cf.RateLimitError,
        cf.NotFoundError,
        cf.ServerError,
        cf.OrderRejectedError,
    ):
        assert issubclass(api_error, cf.APIError)
    for direct in (cf.TransportError, cf.DecodeError, cf.APIError):
        assert direct.__bases__ == (cf.CoinFlexError,)
    assert not issubclass(cf.TransportError, cf.APIError)


def test_an_api_error_without_an_http_answer_names_no_http_status() -> None:
    error = cf.APIError("refused", status=None, code="20001", endpoint="GET /v2/balances")
    assert error.status is None
    assert str(error) == "refused (code 20001, GET /v2/balances)"
    assert str(cf.APIError("refused", status=None)) == "refused"
