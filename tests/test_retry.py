"""The retry engine's decisions, seen at a loopback server: how many attempts arrive, how far
apart, when a deadline or a closing stops them, and what is never sent twice.

Each attempt is one real request of a client made with ``retry=None`` (so the engine under test
is the only thing that repeats), or one real connection attempt."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

import coinflex_async as cf
from coinflex_async._retry import FOREVER, RetryPolicy, run, sleep_unless
from tests.loopback import RecordingServer, Reply, unused_port
from tests.models import docs_examples as docs

TICKER_OK: Reply = (200, docs.TICKER, {})
UNAVAILABLE: Reply = (503, {"success": False, "code": "50001", "message": "try later"}, {})
BAD: Reply = (400, {"success": False, "code": "20001", "message": "bad"}, {})
TOO_RAPID: Reply = (429, {"success": False, "code": "20007", "message": "too rapid"}, {})


def capped(seconds: float) -> RetryPolicy:
    """A policy of 4 attempts whose waits are at most ``seconds`` (jittered below that; the
    tests that need a known wait pass ``wait=``)."""
    return RetryPolicy(attempts=4, backoff=seconds, max_backoff=seconds)


@pytest.fixture
async def plain(recorder: tuple[RecordingServer, str]) -> AsyncIterator[cf.Client]:
    _, url = recorder
    async with cf.Client(base_url=url, retry=None, rate_limits=None) as client:
        yield client


def gaps(server: RecordingServer) -> list[float]:
    times = [r.at for r in server.requests]
    return [b - a for a, b in itertools.pairwise(times)]


# -- counts ----------------------------------------------------------------------------------


async def test_a_retryable_error_is_attempted_until_it_succeeds(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE, UNAVAILABLE, TICKER_OK)
    tickers = await run(plain.public.ticker, RetryPolicy(attempts=3, backoff=0.01))
    assert tickers[0].market_code == "BTC-USD-SWAP-LIN"
    assert len(server.requests) == 3


@pytest.mark.parametrize("attempts", [1, 2, 5])
async def test_attempts_bound_the_requests_and_the_last_error_is_raised(
    recorder: tuple[RecordingServer, str], plain: cf.Client, attempts: int
) -> None:
    server, _ = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE)
    with pytest.raises(cf.ServerError) as caught:
        await run(plain.public.ticker, RetryPolicy(attempts=attempts, backoff=0.001))
    assert caught.value.status == 503
    assert len(server.requests) == attempts


async def test_an_error_the_policy_calls_final_is_not_retried(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    server.reply("GET", "/v2/ticker", BAD, TICKER_OK)
    with pytest.raises(cf.APIError):
        await run(plain.public.ticker, RetryPolicy(attempts=4, backoff=0.001))
    assert len(server.requests) == 1


async def test_retry_on_overrides_the_policy(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE, TICKER_OK)
    with pytest.raises(cf.ServerError):
        await run(plain.public.ticker, capped(0.001), retry_on=lambda _: False)
    assert len(server.requests) == 1


async def test_a_refused_result_is_attempted_again_and_the_last_one_returned(
    recorder: tuple[RecordingServer, str],
) -> None:
    """``again``: an answer that says "too rapid" (a batch's per-order refusal) is asked again
    within the attempts; when they run out the caller gets the last answer, not an error."""
    server, url = recorder
    server.reply("GET", "/v2/ticker", TOO_RAPID)

    async def status() -> int:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/v2/ticker") as r:
            return r.status

    answer = await run(status, RetryPolicy(attempts=3, backoff=0.001), again=lambda s: s == 429)
    assert answer == 429
    assert len(server.requests) == 3


async def test_a_cancelled_attempt_is_never_retried(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    arrived = asyncio.Event()

    async def hang(_: object) -> Reply:
        arrived.set()
        await asyncio.sleep(10)
        return TICKER_OK

    server.reply("GET", "/v2/ticker", hang)
    task = asyncio.create_task(run(plain.public.ticker, capped(0.001), retry_on=lambda _: True))
    await arrived.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.05)
    assert len(server.requests) == 1


async def test_a_first_attempt_made_by_the_caller_counts_as_attempt_one(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE)
    try:
        await plain.public.ticker()
    except cf.ServerError as error:
        first = error
    waits: list[int] = []

    def wait(_: BaseException | None, attempt: int) -> float:
        waits.append(attempt)
        return 0.001

    with pytest.raises(cf.ServerError):
        await run(plain.public.ticker, RetryPolicy(attempts=3), wait=wait, failed=first)
    assert len(server.requests) == 3  # the caller's one and two more
    assert waits == [1, 2]


# -- waits -----------------------------------------------------------------------------------


async def test_waits_follow_the_wait_function_between_arrivals(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, TICKER_OK)
    await run(plain.public.ticker, capped(0.0), wait=lambda _, attempt: 0.1 * attempt)
    first, second, third = gaps(server)
    assert 0.1 <= first < 0.18
    assert 0.2 <= second < 0.28
    assert 0.3 <= third < 0.38


async def test_the_policys_waits_never_exceed_max_backoff(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE)
    policy = RetryPolicy(attempts=6, backoff=30.0, max_backoff=0.05)
    with pytest.raises(cf.ServerError):
        await run(plain.public.ticker, policy)
    assert len(server.requests) == 6
    assert max(gaps(server)) < 0.05 + 0.04


async def test_retry_after_is_waited_out(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    status, body, _ = TOO_RAPID
    server.reply("GET", "/v2/ticker", (status, body, {"Retry-After": "1"}), TICKER_OK)
    await run(plain.public.ticker, RetryPolicy(attempts=2, backoff=0.0))
    (gap,) = gaps(server)
    assert 0.95 <= gap < 1.3


def test_the_backoff_of_the_thousandth_attempt_stays_bounded() -> None:
    policy = RetryPolicy(backoff=0.2, max_backoff=5.0)
    waits = [policy.wait_after(None, attempt) for attempt in (1, 2, 10, 1_000, 10**9)]
    assert all(0.0 <= wait <= 5.0 for wait in waits)
    assert policy.wait_after(None, 1) <= 0.2


# -- deadlines and closing -------------------------------------------------------------------


async def test_no_wait_crosses_the_deadline(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    server.reply("GET", "/v2/ticker", UNAVAILABLE)
    started = time.monotonic()
    deadline = started + 0.5
    with pytest.raises(cf.ServerError):
        await run(
            plain.public.ticker,
            capped(0.0),
            attempts=FOREVER,
            wait=lambda _, __: 0.2,
            deadline=deadline,
        )
    ended = time.monotonic()
    # Attempts at ~0, ~0.2, ~0.4: the next wait would end at ~0.6, past the deadline, so the
    # last error is raised at ~0.4 instead of sleeping across it.
    assert len(server.requests) == 3
    assert ended < deadline
    assert all(r.at < deadline for r in server.requests)


async def test_a_retry_after_beyond_the_deadline_is_raised_at_once(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    server, _ = recorder
    status, body, _ = TOO_RAPID
    server.reply("GET", "/v2/ticker", (status, body, {"Retry-After": "5"}), TICKER_OK)
    started = time.monotonic()
    with pytest.raises(cf.RateLimitError):
        await run(plain.public.ticker, RetryPolicy(), deadline=started + 2.0)
    assert time.monotonic() - started < 0.5
    assert len(server.requests) == 1


async def test_a_closing_ends_the_wait_and_the_run(
    recorder: tuple[RecordingServer, str], plain: cf.Client
) -> None:
    """The ``sleep`` a stream gives the engine ends when the stream closes; its ``retry_on``
    then says no, so a reconnect loop stops at once instead of waiting out its backoff."""
    server, _ = recorder
    arrived = asyncio.Event()

    def unavailable(_: object) -> Reply:
        arrived.set()
        return UNAVAILABLE

    server.reply("GET", "/v2/ticker", unavailable)
    closed = asyncio.get_running_loop().create_future()

    async def pause(seconds: float) -> None:
        await sleep_unless(seconds, closed)

    task = asyncio.create_task(
        run(
            plain.public.ticker,
            capped(0.0),
            attempts=FOREVER,
            wait=lambda _, __: 30.0,
            retry_on=lambda _: not closed.done(),
            sleep=pause,
        )
    )
    await arrived.wait()
    await asyncio.sleep(0.05)  # into the 30 s wait
    started = time.monotonic()
    closed.set_result(None)
    with pytest.raises(cf.ServerError):
        await task
    assert time.monotonic() - started < 0.5
    assert len(server.requests) == 2  # the one in the wait, then one more that was refused


async def test_a_reconnect_runs_until_the_server_listens() -> None:
    """The reconnect shape: unbounded attempts at a port nobody listens on yet, each refused
    before anything was sent, until a server starts there."""
    port = unused_port()
    app = web.Application()

    async def up(_: web.Request) -> web.Response:
        return web.Response(text="up")

    app.router.add_get("/", up)
    runner = web.AppRunner(app)
    await runner.setup()
    refused: list[float] = []

    async def connect() -> str:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/") as r,
            ):
                return await r.text()
        except aiohttp.ClientConnectorError as error:
            refused.append(time.monotonic())
            raise cf.TransportError(str(error), request_sent=False) from error

    async def listen_later() -> None:
        await asyncio.sleep(0.3)
        site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
        await site.start()

    starter = asyncio.create_task(listen_later())
    try:
        policy = RetryPolicy(backoff=0.01, max_backoff=0.05)
        text = await run(
            connect,
            policy,
            attempts=FOREVER,
            retry_on=lambda e: isinstance(e, cf.TransportError) and not e.request_sent,
        )
    finally:
        await starter
        await runner.cleanup()
    assert text == "up"
    assert len(refused) >= 4  # more than policy.attempts: a reconnect has no bound


# -- nothing with side effects is sent twice ---------------------------------------------------


async def test_a_post_through_the_client_is_never_retried_by_the_engine(
    recorder: tuple[RecordingServer, str],
) -> None:
    """The transport hands only requests safe to repeat to the engine with a retry_on that
    accepts a 503: a POST answered 503 (possibly applied) arrives once."""
    server, url = recorder
    server.reply("POST", "/v2/mint", UNAVAILABLE, (200, docs.MINT, {}))
    policy = RetryPolicy(attempts=5, backoff=0.001)
    async with cf.Client("k", "s", base_url=url, retry=policy, rate_limits=None) as client:
        with pytest.raises(cf.ServerError):
            await client.private.mint("flexUSD", "10")
        server.reply("GET", "/v2/ticker", UNAVAILABLE, TICKER_OK)
        await client.public.ticker()  # the same client does retry a GET
    assert [r.method for r in server.requests] == ["POST", "GET", "GET"]
