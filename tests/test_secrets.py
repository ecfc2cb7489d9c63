"""The API secret and the signatures never appear in a repr, an exception, a traceback or a log
line, at any level; signed requests to plain-http non-loopback hosts are refused."""

from __future__ import annotations

import logging
import pickle
import traceback

import aiohttp
import pytest

import coinflex_async as cf
from coinflex_async._signing import Credentials, SigningMiddleware
from tests.loopback import RecordingServer

SECRET = "s3cr3t-Very-Distinctive-Value-0123456789"
KEY = "key-for-the-secrets-test"


def _texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


async def test_no_secret_or_signature_in_logs_errors_or_reprs(
    recorder: tuple[RecordingServer, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = recorder
    server.json_reply(
        "GET",
        "/v2/balances",
        {"success": False, "code": "20000", "message": "Signature is invalid"},
        401,
    )
    server.reply(
        "GET",
        "/v2/accountinfo",
        (502, "<html><body>Bad Gateway</body></html>", {"Content-Type": "text/html"}),
    )
    server.reply(
        "GET", "/v2/positions", (200, '{"event": "positions", "data": [{"instrumentId": ', {})
    )
    server.json_reply(
        "POST", "/v2/mint", {"success": False, "code": "20001", "message": "bad"}, 400
    )
    server.json_reply("GET", "/v2/orders", {"event": "orders", "data": []})
    server.json_reply(
        "POST",
        "/v2/orders/place",
        {
            "event": "placeOrder",
            "data": [
                {
                    "success": "false",
                    "code": "710002",
                    "message": "FAILED sanity bound check",
                    "clientOrderId": "1",
                    "marketCode": "BTC-USD-SWAP-LIN",
                }
            ],
        },
    )
    caplog.set_level(logging.DEBUG)  # every logger, every level
    errors: list[BaseException] = []
    retry = cf.RetryPolicy(attempts=2, backoff=0.001)
    async with cf.Client(KEY, SECRET, base_url=url, retry=retry, timeout=2) as client:
        texts = [repr(client), str(client), repr(client.private), repr(client._transport)]
        await client.private.open_orders()
        for call in (
            client.private.balances(),
            client.private.account_info(),
            client.private.positions(),
            client.private.mint("flexUSD", "1"),
            client.private.place_order(
                market_code="BTC-USD-SWAP-LIN",
                side="BUY",
                quantity="1",
                order_type="MARKET",
                client_order_id="1",
            ),
            client.private.place_order(
                market_code="BTC-USD-SWAP-LIN", side="BUY", quantity="nan", order_type="MARKET"
            ),
        ):
            with pytest.raises(cf.CoinFlexError) as caught:
                await call
            errors.append(caught.value)
    # A transport failure too: a port nothing listens on.
    dead = cf.Client(KEY, SECRET, base_url="http://127.0.0.1:1", retry=None)
    with pytest.raises(cf.TransportError) as caught:
        await dead.private.balances()
    errors.append(caught.value)
    await dead.close()

    assert {type(e) for e in errors} >= {
        cf.AuthenticationError,
        cf.ServerError,
        cf.DecodeError,
        cf.APIError,
        cf.OrderRejectedError,
        cf.ValidationError,
        cf.TransportError,
    }
    signatures = {r.headers["Signature"] for r in server.requests if "Signature" in r.headers}
    assert len(signatures) >= 6  # every signed request arrived with its own signature
    for error in errors:
        texts += _texts_of(error)
    texts += [record.getMessage() for record in caplog.records]
    texts += [caplog.text]
    assert any("GET /v2/balances" in t for t in texts)  # the logs and errors did say something
    for text in texts:
        assert SECRET not in text
        for signature in signatures:
            assert signature not in text


def test_credentials_and_middleware_hide_the_secret() -> None:
    credentials = Credentials(KEY, SECRET)
    for text in (repr(credentials), str(credentials), repr(SigningMiddleware(credentials))):
        assert SECRET not in text
        assert KEY in text
    with pytest.raises(TypeError):
        pickle.dumps(credentials)


def test_signed_requests_over_plain_http_to_a_remote_host_are_refused() -> None:
    with pytest.raises(cf.ValidationError, match="https"):
        cf.Client(KEY, SECRET, base_url="http://v2api.coinflex.com")
    # Explicitly allowed, or no credentials, or loopback: fine (nothing is sent by constructing).
    cf.Client(KEY, SECRET, base_url="http://v2api.coinflex.com", allow_insecure_http=True)
    cf.Client(base_url="http://v2api.coinflex.com")
    for host in ("127.0.0.1:8080", "localhost", "[::1]:9000", "127.8.9.10"):
        cf.Client(KEY, SECRET, base_url=f"http://{host}")


async def test_a_redirect_is_not_followed_with_the_signed_headers(
    recorder: tuple[RecordingServer, str], aiohttp_server: object
) -> None:
    """A 3xx is an error: following it would carry AccessKey and Signature elsewhere."""
    server, url = recorder
    server.reply("GET", "/v2/balances", (302, "", {"Location": f"{url}/elsewhere"}))
    async with cf.Client(KEY, SECRET, base_url=url, retry=None) as client:
        with pytest.raises(cf.APIError) as caught:
            await client.private.balances()
    assert caught.value.status == 302
    assert [r.path for r in server.requests] == ["/v2/balances"]


async def test_a_caller_owned_session_keeps_its_middlewares_and_stays_open(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.json_reply("GET", "/v2/orders", {"event": "orders", "data": []})
    seen: list[str] = []

    async def tagging(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        seen.append(request.url.path)
        request.headers["X-Caller"] = "yes"
        return await handler(request)

    async with aiohttp.ClientSession(middlewares=(tagging,)) as session:
        async with cf.Client(KEY, SECRET, base_url=url, session=session) as client:
            assert await client.private.open_orders() == []
        assert not session.closed
    (request,) = server.requests
    assert seen == ["/v2/orders"]
    assert request.headers["X-Caller"] == "yes"
    assert request.headers["AccessKey"] == KEY and "Signature" in request.headers
