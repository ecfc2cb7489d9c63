"""The client's lifecycle and configuration: opening, closing, sessions, credentials, repr."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

import coinflex_async as cf
from coinflex_async._signing import Credentials
from tests.loopback import Recorded, RecordingServer, Reply, spec_signature
from tests.models import docs_examples as docs

KEY = "client-test-key"
SECRET = "client-test-secret-never-shown"
FAST_RETRY = cf.RetryPolicy(attempts=3, backoff=0.01)
TICKER_OK: Reply = (200, docs.TICKER, {})
BALANCES_OK: Reply = (200, docs.BALANCES, {})


def client_for(url: str, **options: object) -> cf.Client:
    options.setdefault("rate_limits", None)
    options.setdefault("retry", FAST_RETRY)
    return cf.Client(KEY, SECRET, base_url=url, **options)  # type: ignore[arg-type]


async def wait_for_requests(server: RecordingServer, count: int) -> None:
    for _ in range(500):
        if len(server.requests) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the server saw {len(server.requests)} requests, not {count}")


# -- opening and closing -------------------------------------------------------------------


async def test_async_with_opens_and_closes(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", TICKER_OK)
    async with client_for(url) as client:
        assert not client.closed
        assert len(await client.public.ticker()) == 1
    assert client.closed


async def test_close_is_idempotent(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", TICKER_OK)
    client = client_for(url)
    await client.public.ticker()
    await client.close()
    await client.close()
    assert client.closed


async def test_close_without_any_request_is_fine() -> None:
    client = cf.Client(KEY, SECRET, base_url="http://127.0.0.1:9")
    await client.close()
    assert client.closed


async def test_a_call_after_close_raises_client_closed_error_and_sends_nothing(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", TICKER_OK)
    server.reply("GET", "/v2/balances", BALANCES_OK)
    client = client_for(url)
    await client.public.ticker()
    await client.close()
    for call in (client.public.ticker, client.private.balances):
        with pytest.raises(cf.ClientClosedError) as caught:
            await call()
        assert type(caught.value) is cf.ClientClosedError
        assert isinstance(caught.value, RuntimeError)
        assert isinstance(caught.value, cf.CoinFlexError)
        assert not isinstance(caught.value, ValueError)
    assert len(server.requests) == 1


async def test_a_closed_client_cannot_be_reopened_with_async_with() -> None:
    client = cf.Client(base_url="http://127.0.0.1:9")
    await client.close()
    with pytest.raises(cf.ClientClosedError):
        async with client:
            pass


async def test_calls_in_flight_when_the_client_closes_end_with_transport_error(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    release = asyncio.Event()

    async def slow(_: Recorded) -> Reply:
        await release.wait()
        return TICKER_OK

    server.reply("GET", "/v2/ticker", slow)
    client = client_for(url, retry=None)
    try:
        calls = [asyncio.create_task(client.public.ticker()) for _ in range(3)]
        await wait_for_requests(server, 3)
        started = time.monotonic()
        await client.close()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        assert time.monotonic() - started < 2
    finally:
        release.set()
    assert [type(outcome) for outcome in outcomes] == [cf.TransportError] * 3


async def test_calls_in_flight_when_the_client_closes_end_with_transport_error_despite_retries(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    release = asyncio.Event()

    async def slow(_: Recorded) -> Reply:
        await release.wait()
        return TICKER_OK

    server.reply("GET", "/v2/ticker", slow)
    client = client_for(url, retry=cf.RetryPolicy(attempts=4, backoff=0.01))
    try:
        call = asyncio.create_task(client.public.ticker())
        await wait_for_requests(server, 1)
        await client.close()
        with pytest.raises(cf.TransportError) as caught:
            await call
    finally:
        release.set()
    assert type(caught.value) is cf.TransportError
    # Nothing is sent again once the client is closed.
    assert len(server.requests) == 1


async def test_calls_waiting_for_rate_limit_tokens_end_when_the_client_closes(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", TICKER_OK)
    slow_limits = cf.RateLimits(rest=(cf.Window(1, 60.0),))
    client = client_for(url, rate_limits=slow_limits, retry=None)
    await client.public.ticker()
    waiting = asyncio.create_task(client.public.ticker())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await client.close()
    with pytest.raises(cf.TransportError) as caught:
        await waiting
    assert type(caught.value) is cf.TransportError
    assert time.monotonic() - started < 1
    assert len(server.requests) == 1


# -- caller-owned sessions -----------------------------------------------------------------


async def test_a_caller_owned_session_is_used_and_left_open(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", TICKER_OK)
    async with aiohttp.ClientSession(headers={"X-Caller": "mine"}) as session:
        async with client_for(url, session=session) as client:
            await client.public.ticker()
        assert client.closed
        assert not session.closed
        # The session still works for its owner.
        async with session.get(f"{url}/v2/ticker") as response:
            assert response.status == 200
    assert server.requests[0].headers["X-Caller"] == "mine"


async def test_a_caller_owned_session_keeps_its_middlewares_and_signing_runs_after_them(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/balances", BALANCES_OK)
    server.reply("GET", "/v2/ticker", TICKER_OK)
    seen_signature_before_me: list[bool] = []

    async def tag(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        seen_signature_before_me.append("Signature" in request.headers)
        request.headers["X-Middleware"] = "ran"
        return await handler(request)

    async with (
        aiohttp.ClientSession(middlewares=(tag,)) as session,
        client_for(url, session=session) as client,
    ):
        await client.private.balances()
        await client.public.ticker()
    assert seen_signature_before_me == [False, False]
    signed, public = server.requests
    assert signed.headers["X-Middleware"] == public.headers["X-Middleware"] == "ran"
    assert signed.headers["Signature"] == spec_signature(SECRET, signed)
    assert "Signature" not in public.headers


async def test_a_caller_owned_session_without_credentials_keeps_its_middlewares(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", TICKER_OK)
    calls: list[str] = []

    async def count(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        calls.append(request.url.path)
        return await handler(request)

    async with (
        aiohttp.ClientSession(middlewares=(count,)) as session,
        cf.Client(base_url=url, session=session, rate_limits=None) as client,
    ):
        await client.public.ticker()
    assert calls == ["/v2/ticker"]


async def test_a_caller_owned_session_closed_by_its_owner_raises_client_closed_error(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    session = aiohttp.ClientSession()
    await session.close()
    async with client_for(url, session=session) as client:
        with pytest.raises(cf.ClientClosedError):
            await client.public.ticker()
    assert server.requests == []


# -- construction --------------------------------------------------------------------------


@pytest.fixture
def client_built_outside_a_loop(
    recorder: tuple[RecordingServer, str],
) -> Iterator[cf.Client]:
    """A client constructed in sync code, with no running event loop (and rate limits on)."""
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    _, url = recorder
    yield cf.Client(
        KEY, SECRET, base_url=url, rate_limits=cf.RateLimits(rest=(cf.Window(50, 1.0),))
    )


async def test_a_client_built_outside_any_loop_works_inside_one(
    client_built_outside_a_loop: cf.Client, recorder: tuple[RecordingServer, str]
) -> None:
    server, _ = recorder
    server.reply("GET", "/v2/ticker", TICKER_OK)
    server.reply("GET", "/v2/balances", BALANCES_OK)
    async with client_built_outside_a_loop as client:
        assert server.requests == []  # no I/O in the constructor or in __aenter__
        await client.public.ticker()
        await client.private.balances()
    assert [r.path for r in server.requests] == ["/v2/ticker", "/v2/balances"]


async def test_private_calls_without_credentials_fail_before_any_request(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/balances", BALANCES_OK)
    server.reply("POST", "/v2/mint", (200, docs.MINT, {}))
    async with cf.Client(base_url=url, rate_limits=None) as client:
        with pytest.raises(cf.AuthenticationError) as caught:
            await client.private.balances()
        assert type(caught.value) is cf.AuthenticationError
        # Nothing was sent, so there is no HTTP status, and the message says so.
        assert caught.value.status is None
        assert "nothing was sent" in str(caught.value)
        assert "HTTP" not in str(caught.value)
        with pytest.raises(cf.AuthenticationError):
            await client.private.mint("flexUSD", "1")
    assert server.requests == []


@pytest.mark.parametrize(("api_key", "api_secret"), [("key", None), (None, "secret")])
def test_a_key_without_a_secret_or_the_reverse_is_refused(
    api_key: str | None, api_secret: str | None
) -> None:
    with pytest.raises(cf.ValidationError):
        cf.Client(api_key, api_secret)


def test_signed_requests_over_plain_http_to_a_remote_host_are_refused() -> None:
    with pytest.raises(cf.ValidationError, match="allow_insecure_http"):
        cf.Client(KEY, SECRET, base_url="http://example.com")


async def test_plain_http_to_a_remote_host_is_allowed_when_asked_or_when_unsigned() -> None:
    # Constructed and closed only: nothing is ever sent to example.com.
    for client in (
        cf.Client(KEY, SECRET, base_url="http://example.com", allow_insecure_http=True),
        cf.Client(base_url="http://example.com"),
    ):
        assert client.base_url == "http://example.com"
        await client.close()


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", cf.LIVE_URL],
)
async def test_signed_clients_accept_https_and_loopback_http(base_url: str) -> None:
    client = cf.Client(KEY, SECRET, base_url=base_url)
    await client.close()


@pytest.mark.parametrize(
    "options",
    [
        {"base_url": "ftp://127.0.0.1"},
        {"base_url": "127.0.0.1:8080"},
        {"base_url": "http://127.0.0.1:8080/v2"},
        {"base_url": "http://127.0.0.1:8080?x=1"},
        {"timeout": 0},
        {"timeout": -1.0},
        {"timeout": True},
        {"timeout": "10"},
        {"recv_window": 0},
        {"recv_window": True},
        {"recv_window": 1.5},
        {"connector_limit": "100"},
    ],
)
def test_bad_options_are_refused_at_construction(options: dict[str, object]) -> None:
    options.setdefault("base_url", "http://127.0.0.1:8080")
    with pytest.raises(cf.ValidationError):
        cf.Client(KEY, SECRET, **options)  # type: ignore[arg-type]


def test_the_live_and_test_urls_are_the_documented_ones() -> None:
    assert cf.LIVE_URL == "https://v2api.coinflex.com"
    assert cf.TEST_URL == "https://v2stgapi.coinflex.com"


async def test_repr_never_shows_the_secret() -> None:
    client = cf.Client(KEY, SECRET, base_url="http://127.0.0.1:9")
    try:
        for text in (repr(client), str(client), repr(Credentials(KEY, SECRET))):
            assert SECRET not in text
        assert KEY in repr(client)
    finally:
        await client.close()
    assert "closed" in repr(client)


# -- one connector -------------------------------------------------------------------------


async def test_every_call_of_a_client_goes_through_one_connector(
    aiohttp_server: AiohttpServer,
) -> None:
    peers: list[int] = []
    active = 0
    most_active = 0

    async def handle(request: web.Request) -> web.Response:
        nonlocal active, most_active
        peers.append(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
        active += 1
        most_active = max(most_active, active)
        await asyncio.sleep(0.02)
        active -= 1
        return web.Response(body=docs.TICKER, content_type="application/json")

    app = web.Application()
    app.router.add_get("/v2/ticker", handle)
    server = await aiohttp_server(app)
    url = f"http://127.0.0.1:{server.port}"
    async with cf.Client(base_url=url, rate_limits=None, connector_limit=3) as client:
        for _ in range(3):
            await client.public.ticker()
        # Sequential calls reuse one kept-alive connection.
        assert len(set(peers)) == 1
        await asyncio.gather(*(client.public.ticker() for _ in range(12)))
    assert most_active == 3  # the connector's limit holds across calls
    assert len(set(peers)) <= 3


# -- unclosed clients are caught -----------------------------------------------------------


async def test_an_unclosed_client_is_reported_as_a_resource_warning(
    recorder: tuple[RecordingServer, str],
) -> None:
    # pytest runs with filterwarnings=error, so any test that forgets to close a client fails
    # on this warning; here it is expected, to show the guard is real.
    server, url = recorder
    server.reply("GET", "/v2/ticker", TICKER_OK)
    client = cf.Client(base_url=url, rate_limits=None)
    await client.public.ticker()
    session = client._session
    assert session is not None
    connector = session.connector
    assert connector is not None
    with pytest.warns(ResourceWarning, match="Unclosed client session"):
        del client, session
        gc.collect()
    await connector.close()  # release the kept-alive connection the leak left behind
