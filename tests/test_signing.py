"""Signing: the spec's formula, what the middleware signs on the wire, and the nonce source.

Expected signatures are computed here from the spec's formula (hmac + hashlib + base64), never
by the code under test; two of them were also computed with ``openssl dgst -sha256 -hmac``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import aiohttp
import pytest

import coinflex_async as cf
from coinflex_async._signing import (
    Credentials,
    NonceSource,
    sign_request,
    sign_ws_login,
    ws_login_data,
)
from coinflex_async.sim import Simulator
from tests.loopback import Recorded, RecordingServer, Reply
from tests.models import docs_examples as docs

SECRET = "test-secret-never-shown"
FAST_RETRY = cf.RetryPolicy(attempts=3, backoff=0.01)
OK_BALANCES: Reply = (200, docs.BALANCES, {})

# The spec's worked example: its message string, signed with a made-up secret.
SPEC_TIMESTAMP = "2020-04-30T15:20:30"
SPEC_NONCE = 123
SPEC_HOST = "v2stgapi.coinflex.com"
VECTOR_SECRET = "my-api-secret"


def spec_formula(
    secret: str, timestamp: str, nonce: object, verb: str, host: str, path: str, body: str
) -> str:
    """msgString = Timestamp \\n Nonce \\n Verb \\n Host \\n Path \\n Body; base64(HMAC-SHA256)."""
    message = f"{timestamp}\n{nonce}\n{verb}\n{host}\n{path}\n{body}"
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def client_for(url: str, api_key: str, **options: object) -> cf.Client:
    options.setdefault("rate_limits", None)
    options.setdefault("retry", FAST_RETRY)
    return cf.Client(api_key, SECRET, base_url=url, **options)  # type: ignore[arg-type]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def assert_signed(recorded: Recorded, *, api_key: str, port: int, body_line: str) -> None:
    """The request carries the key and a valid signature over host 127.0.0.1:PORT."""
    headers = recorded.headers
    assert headers["AccessKey"] == api_key
    assert headers["Host"] == f"127.0.0.1:{port}"
    expected = spec_formula(
        SECRET,
        headers["Timestamp"],
        headers["Nonce"],
        recorded.method,
        f"127.0.0.1:{port}",
        recorded.path,
        body_line,
    )
    assert headers["Signature"] == expected


def nonces_of(requests: list[Recorded]) -> list[int]:
    return [int(r.headers["Nonce"]) for r in requests]


def is_strictly_increasing(values: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


# -- the formula ---------------------------------------------------------------------------


SIGNING_CASES = [
    pytest.param("GET", "/v2/positions", "", id="GET-without-query"),
    pytest.param(
        "GET",
        "/v2/trades/BTC-USD-SWAP-LIN",
        "limit=5&startTime=1595585860000&endTime=1595636619410",
        id="GET-with-query",
    ),
    pytest.param(
        "POST",
        "/v2/orders/place",
        '{"recvWindow":500,"responseType":"FULL","orders":[{"clientOrderId":"1",'
        '"marketCode":"BTC-USD-SWAP-LIN","side":"BUY","quantity":"0.001",'
        '"orderType":"LIMIT","price":"54900"}]}',
        id="POST-with-JSON",
    ),
    pytest.param("DELETE", "/v2/cancel/orders", "", id="DELETE-without-body"),
    pytest.param(
        "DELETE",
        "/v2/orders/cancel",
        '{"orders":[{"marketCode":"BTC-USD-SWAP-LIN","orderId":"304384250571714215"}]}',
        id="DELETE-with-JSON",
    ),
]


@pytest.mark.parametrize(("verb", "path", "body"), SIGNING_CASES)
def test_sign_request_follows_the_spec_formula(verb: str, path: str, body: str) -> None:
    expected = spec_formula(VECTOR_SECRET, SPEC_TIMESTAMP, SPEC_NONCE, verb, SPEC_HOST, path, body)
    signed = sign_request(
        VECTOR_SECRET.encode(), SPEC_TIMESTAMP, SPEC_NONCE, verb, SPEC_HOST, path, body
    )
    assert signed == expected


@pytest.mark.parametrize(
    ("body", "openssl_signature"),
    [
        # printf '<message>' | openssl dgst -sha256 -hmac 'my-api-secret' -binary | base64
        ("instrumentID=BTC-USD-SWAP-LIN", "1tFInahRvVh+Y2+N/vVvE1sNa6eEn7KfouIaKusKk5U="),
        ("", "UqLtTVa73pkJUUdoO3l6TymJGUEIeXo9PpctMjNtLpk="),
    ],
)
def test_sign_request_matches_vectors_computed_with_openssl(
    body: str, openssl_signature: str
) -> None:
    signed = sign_request(
        VECTOR_SECRET.encode(), SPEC_TIMESTAMP, SPEC_NONCE, "GET", SPEC_HOST, "/v2/positions", body
    )
    assert signed == openssl_signature


def test_every_component_of_the_message_changes_the_signature() -> None:
    base = (SPEC_TIMESTAMP, SPEC_NONCE, "GET", SPEC_HOST, "/v2/positions", "a=1")
    variants = [
        ("2020-04-30T15:20:31", *base[1:]),
        (base[0], 124, *base[2:]),
        (*base[:2], "POST", *base[3:]),
        (*base[:3], "v2api.coinflex.com", *base[4:]),
        (*base[:4], "/v2/orders", base[5]),
        (*base[:5], "a=2"),
    ]
    reference = sign_request(VECTOR_SECRET.encode(), *base)
    for variant in variants:
        assert sign_request(VECTOR_SECRET.encode(), *variant) != reference
    assert sign_request(b"another-secret", *base) != reference


# -- what goes on the wire -----------------------------------------------------------------


async def test_get_without_query_is_signed_over_an_empty_body_line(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/balances", OK_BALANCES)
    async with client_for(url, "key-get") as client:
        await client.private.balances()
    (request,) = server.requests
    assert request.query == ""
    assert_signed(request, api_key="key-get", port=port_of(url), body_line="")


async def test_get_with_query_is_signed_over_the_exact_query_string_sent(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/trades/BTC-USD-SWAP-LIN", (200, docs.TRADES, {}))
    async with client_for(url, "key-query") as client:
        await client.private.trades(
            "BTC-USD-SWAP-LIN", limit=5, start_time=1595585860000, end_time=1595636619410
        )
    (request,) = server.requests
    assert request.query == "limit=5&startTime=1595585860000&endTime=1595636619410"
    assert_signed(request, api_key="key-query", port=port_of(url), body_line=request.query)


async def test_post_is_signed_over_the_exact_json_body_sent(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("POST", "/v2/mint", (200, docs.MINT, {}))
    async with client_for(url, "key-post") as client:
        await client.private.mint("flexUSD", "10")
    (request,) = server.requests
    assert request.json() == {"asset": "flexUSD", "quantity": "10"}
    assert request.headers["Content-Type"] == "application/json"
    assert_signed(request, api_key="key-post", port=port_of(url), body_line=request.body.decode())


async def test_a_request_with_query_and_body_is_signed_over_the_body(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("POST", "/v2.1/delivery/orders", (200, docs.REQUEST_DELIVERY, {}))
    async with client_for(url, "key-both") as client:
        await client.private.request_delivery("BTC-USD-SWAP-LIN", "1")
    (request,) = server.requests
    assert request.query == "instrumentId=BTC-USD-SWAP-LIN&qtyDeliver=1"
    assert request.json() == {"instrumentId": "BTC-USD-SWAP-LIN", "qtyDeliver": "1"}
    assert_signed(request, api_key="key-both", port=port_of(url), body_line=request.body.decode())


async def test_delete_without_body_is_signed_over_an_empty_body_line(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("DELETE", "/v2/cancel/orders", (200, docs.CANCEL_ALL, {}))
    async with client_for(url, "key-delete") as client:
        await client.private.cancel_all_orders()
    (request,) = server.requests
    assert request.body == b""
    assert request.query == ""
    assert_signed(request, api_key="key-delete", port=port_of(url), body_line="")


async def test_delete_with_json_body_is_signed_over_the_exact_body_sent(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("DELETE", "/v2/orders/cancel", (200, docs.CANCEL_ORDERS, {}))
    async with client_for(url, "key-delete-body") as client:
        results = await client.private.cancel_orders(
            [
                cf.CancelOrder(market_code="BTC-USD-SWAP-LIN", order_id="304384250571714215"),
                cf.CancelOrder(market_code="BTC-USD-SWAP-LIN", client_order_id="1612249737724"),
            ]
        )
    assert [r.success for r in results] == [True, False]
    (request,) = server.requests
    body = request.json()
    assert [o["marketCode"] for o in body["orders"]] == ["BTC-USD-SWAP-LIN"] * 2
    assert_signed(
        request, api_key="key-delete-body", port=port_of(url), body_line=request.body.decode()
    )


async def test_timestamp_header_is_the_current_utc_second_in_the_spec_format(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/balances", OK_BALANCES)
    async with client_for(url, "key-time") as client:
        await client.private.balances()
    stamp = server.requests[0].headers["Timestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", stamp)
    sent = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    assert abs(sent.timestamp() - time.time()) < 5


async def test_public_calls_are_not_signed_even_with_credentials(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/ticker", (200, docs.TICKER, {}))
    async with client_for(url, "key-public") as client:
        await client.public.ticker()
    names = {name.lower() for name in server.requests[0].headers}
    assert names.isdisjoint({"accesskey", "signature", "nonce", "timestamp"})


async def test_each_attempt_is_signed_afresh_with_a_new_nonce(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    unavailable: Reply = (503, {"success": False, "message": "try again"}, {})
    server.reply("GET", "/v2/balances", unavailable, OK_BALANCES)
    async with client_for(url, "key-retry") as client:
        await client.private.balances()
    first, second = server.requests
    assert int(second.headers["Nonce"]) > int(first.headers["Nonce"])
    for request in (first, second):
        assert_signed(request, api_key="key-retry", port=port_of(url), body_line="")


async def test_a_signature_over_another_host_would_not_verify(
    recorder: tuple[RecordingServer, str],
) -> None:
    # Guards the host assertions above: the signature really depends on "127.0.0.1:PORT".
    server, url = recorder
    server.reply("GET", "/v2/balances", OK_BALANCES)
    async with client_for(url, "key-host") as client:
        await client.private.balances()
    request = server.requests[0]
    h = request.headers
    for host in ("127.0.0.1", "localhost", f"localhost:{port_of(url)}"):
        other = spec_formula(SECRET, h["Timestamp"], h["Nonce"], "GET", host, request.path, "")
        assert h["Signature"] != other


# -- the nonce source ----------------------------------------------------------------------


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Patches time.time_ns to return ``clock[0]`` (ms): tests move the wall clock by hand."""
    clock = [time.time_ns() // 1_000_000]
    monkeypatch.setattr(time, "time_ns", lambda: clock[0] * 1_000_000)
    yield clock


async def test_nonces_strictly_increase_across_1000_concurrent_tasks() -> None:
    source = NonceSource()
    taken: list[int] = []

    async def take_twice() -> None:
        taken.append(source.next())
        await asyncio.sleep(0)
        taken.append(source.next())

    await asyncio.gather(*(take_twice() for _ in range(1000)))
    assert len(taken) == 2000
    assert is_strictly_increasing(taken)


async def test_nonces_strictly_increase_when_the_clock_stands_still(
    frozen_clock: list[int],
) -> None:
    source = NonceSource()
    taken = [source.next() for _ in range(1000)]
    assert is_strictly_increasing(taken)


def test_nonces_never_repeat_when_the_wall_clock_steps_back(frozen_clock: list[int]) -> None:
    source = NonceSource()
    start = frozen_clock[0]
    taken = [source.next(), source.next()]
    frozen_clock[0] = start - 60_000  # NTP steps the clock a minute back
    taken += [source.next(), source.next()]
    frozen_clock[0] = start - 3_600_000
    taken.append(source.next())
    frozen_clock[0] = start + 10_000  # and it moves on past where it was
    taken.append(source.next())
    assert is_strictly_increasing(taken)
    assert taken[0] >= start
    assert taken[-1] >= start + 10_000


def test_nonces_are_unique_across_threads() -> None:
    source = NonceSource()
    per_thread: list[list[int]] = [[] for _ in range(8)]

    def take(into: list[int]) -> None:
        for _ in range(2000):
            into.append(source.next())

    threads = [threading.Thread(target=take, args=(bucket,)) for bucket in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [n for bucket in per_thread for n in bucket]
    assert len(set(everything)) == len(everything) == 16_000
    assert all(is_strictly_increasing(bucket) for bucket in per_thread)


async def test_1000_concurrent_signed_requests_carry_nonces_in_signing_order(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/balances", OK_BALANCES)
    signing_order: list[aiohttp.ClientRequest] = []

    async def watch(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        # Runs just before the client's signing middleware, with no await in between.
        signing_order.append(request)
        return await handler(request)

    async with (
        aiohttp.ClientSession(middlewares=(watch,)) as session,
        client_for(url, "key-1000", session=session) as client,
    ):
        await asyncio.gather(*(client.private.balances() for _ in range(1000)))

    assert len(server.requests) == 1000
    sent = [int(request.headers["Nonce"]) for request in signing_order]
    assert is_strictly_increasing(sent)
    assert sorted(nonces_of(server.requests)) == sent
    port = port_of(url)
    for request in server.requests[::50]:
        assert_signed(request, api_key="key-1000", port=port, body_line="")


async def test_two_clients_of_one_key_never_reuse_a_nonce(
    recorder: tuple[RecordingServer, str], frozen_clock: list[int]
) -> None:
    # With the clock frozen, two independent nonce sources would both send the same millisecond.
    server, url = recorder
    server.reply("GET", "/v2/balances", OK_BALANCES)
    # Fewer connections than the server's listen backlog (128), or SYN retries cost a second.
    first = client_for(url, "key-shared", connector_limit=20)
    second = client_for(url, "key-shared", connector_limit=20)
    async with first, second:
        for _ in range(5):
            await first.private.balances()
            await second.private.balances()
        await asyncio.gather(
            *(first.private.balances() for _ in range(200)),
            *(second.private.balances() for _ in range(200)),
        )
    nonces = nonces_of(server.requests)
    assert is_strictly_increasing(nonces[:10])
    assert len(set(nonces)) == len(nonces) == 410


async def test_signed_nonces_keep_increasing_when_the_clock_steps_back(
    recorder: tuple[RecordingServer, str], frozen_clock: list[int]
) -> None:
    server, url = recorder
    server.reply("GET", "/v2/balances", OK_BALANCES)
    start = frozen_clock[0]
    async with client_for(url, "key-step-back") as client:
        for offset in (0, 0, -3_600_000, -3_600_000, -7_200_000, 1):
            frozen_clock[0] = start + offset
            await client.private.balances()
    nonces = nonces_of(server.requests)
    assert is_strictly_increasing(nonces)
    port = port_of(url)
    for request in server.requests:
        assert_signed(request, api_key="key-step-back", port=port, body_line="")


# -- secrets stay secret -------------------------------------------------------------------


def test_credentials_never_show_the_secret() -> None:
    credentials = Credentials("my-key", SECRET)
    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert SECRET not in text
        assert "my-key" in text


def test_credentials_refuse_to_be_serialised() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Credentials("my-key", SECRET))


async def test_error_texts_never_contain_the_secret_or_the_signature(
    recorder: tuple[RecordingServer, str],
) -> None:
    server, url = recorder
    refused = {"success": False, "code": "20000", "message": "Signature is invalid"}
    server.reply("GET", "/v2/balances", (401, refused, {}))
    async with client_for(url, "key-leak") as client:
        with pytest.raises(cf.AuthenticationError) as caught:
            await client.private.balances()
    signature = server.requests[0].headers["Signature"]
    error = caught.value
    for text in (str(error), repr(error), json.dumps(vars(error), default=str)):
        assert SECRET not in text
        assert signature not in text


# -- the WebSocket login -------------------------------------------------------------------
# The docs give the formula and a Python snippet but no worked example with values; the vector
# below was computed with openssl from the snippet's placeholder secret:
#   printf '1592492031982GET/auth/self/verify' | openssl dgst -sha256 -hmac 'API-SECRET' \
#     -binary | base64


def docs_login_snippet(api_secret: str, ts: str) -> str:
    """The docs' Python example, as written there (spec, WebSocket "Authentication")."""
    sig_payload = (ts + "GET/auth/self/verify").encode("utf-8")
    return base64.b64encode(
        hmac.new(api_secret.encode("utf-8"), sig_payload, hashlib.sha256).digest()
    ).decode("utf-8")


def test_the_ws_login_signature_matches_a_vector_computed_with_openssl() -> None:
    signature = sign_ws_login(b"API-SECRET", "1592492031982")
    assert signature == "Vk8OTOKH1H+YLpBdJVlgQUfemFLBAFhKWhmEJ33RvPY="


@pytest.mark.parametrize("ts", ["1592492031982", "1", "1700000000000"])
def test_the_ws_login_signature_is_the_docs_snippet(ts: str) -> None:
    assert sign_ws_login(VECTOR_SECRET.encode(), ts) == docs_login_snippet(VECTOR_SECRET, ts)


def test_the_ws_login_signs_its_own_timestamp_not_the_rest_message() -> None:
    data = ws_login_data(Credentials("key", VECTOR_SECRET), timestamp_ms=1592492031982)
    assert data == {
        "apiKey": "key",
        "timestamp": "1592492031982",
        "signature": docs_login_snippet(VECTOR_SECRET, "1592492031982"),
    }
    now = ws_login_data(Credentials("key", VECTOR_SECRET))
    assert abs(int(now["timestamp"]) - time.time() * 1000) < 5_000
    assert now["signature"] == docs_login_snippet(VECTOR_SECRET, now["timestamp"])


@pytest.mark.parametrize("secret_is_right", [True, False])
async def test_the_simulator_accepts_the_ws_login_only_with_the_right_secret(
    secret_is_right: bool,
) -> None:
    """Over a real WebSocket, with a plain aiohttp client: the simulator checks the signature
    from its own reading of the docs."""
    async with Simulator() as sim:
        account = sim.create_account()
        secret = account.api_secret if secret_is_right else account.api_secret + "x"
        data = ws_login_data(Credentials(account.api_key, secret))
        async with aiohttp.ClientSession() as session, session.ws_connect(sim.ws_url) as ws:
            await ws.send_json({"op": "login", "tag": "1", "data": data})
            answer = await ws.receive_json(timeout=5)
            while answer.get("event") != "login":  # the connection's greeting ("nonce") first
                answer = await ws.receive_json(timeout=5)
    assert answer["event"] == "login"
    assert str(answer["success"]).lower() == str(secret_is_right).lower()
    if not secret_is_right:
        assert answer["code"] == "20000"
