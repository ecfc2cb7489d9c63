"""The stream's retries, each run by the one retry engine (``coinflex_async._retry.run``) with
the client's ``RetryPolicy`` deciding attempts and waits:

- ``ask_again``: an ask that is safe to repeat (login, subscribe) whose answer was lost while
  its connection lives is asked again at once; one refused as too rapid after the policy's
  wait (at least the pre-login second).
- ``on_next_connection``: a command (order command, subscribe) that finds the connection gone
  before its message left is made again on the next connection, however many reconnect
  attempts (or their logins) fail meanwhile, until its deadline. Each attempt waits for a
  connection the last one did not fail on, so nothing spins while a drop is being noticed.

(Reconnects themselves are the connection's: ``Connection._run``.)"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._errors import TransportError
from .._retry import FOREVER, RetryPolicy, run, sleep_unless
from .connection import Connection, Socket
from .pacing import UNAUTH_GAP

__all__ = ["ask_again", "on_next_connection"]

T = TypeVar("T")


async def on_next_connection(
    connection: Connection,
    policy: RetryPolicy,
    attempt: Callable[[Socket], Awaitable[T]],
    deadline: Callable[[], float],
    what: str,
    *,
    first: Socket | None = None,
    final: Callable[[BaseException], bool] | None = None,
) -> T:
    """``attempt(ws)`` on the connection that is up (``first``, else the ready one); when it
    fails with a ``TransportError`` saying nothing was sent (``request_sent`` false), again on
    the next connection, until ``deadline()`` (``time.monotonic()``; asked each time: a command
    that waited for rate-limit tokens counts from then). ``final``: such errors not
    to try again (they have nothing to do with the connection: a rate-limit store down).
    Anything that may have left is the caller's to settle: never sent again here."""
    stop = connection.stopped
    failed_on: Socket | None = None

    async def once() -> T:
        nonlocal first, failed_on
        ws = first
        first = None
        if ws is None:
            ws = await connection.until_ready(deadline(), not_on=failed_on)
        try:
            return await attempt(ws)
        except TransportError:
            failed_on = ws  # the next attempt waits for another connection
            raise

    def retry_on(error: BaseException) -> bool:
        return (
            isinstance(error, TransportError)
            and not error.request_sent
            and not stop.done()
            and (final is None or not final(error))
            and time.monotonic() < deadline()
        )

    async def pause(seconds: float) -> None:
        await sleep_unless(seconds, stop)

    return await run(
        once,
        policy,
        attempts=FOREVER,  # bounded by the deadline; each attempt on another connection
        retry_on=retry_on,
        wait=lambda _error, _attempt: 0.0,  # the next attempt's until_ready does the waiting
        sleep=pause,
        name=f"stream {connection.url}: {what}",
    )


async def ask_again(
    connection: Connection,
    policy: RetryPolicy,
    ws: Socket,
    ask: Callable[[], Awaitable[T]],
    refused: Callable[[T], bool],
    what: str,
) -> T:
    """``ask()`` on ``ws`` for a request that is safe to repeat (login, subscribe): an answer
    lost while ``ws`` lives is asked again at once, one ``refused`` as too rapid after the
    policy's wait (at least the pre-login second), within the policy's attempts."""

    def wait(error: BaseException | None, attempt: int) -> float:
        return 0.0 if error is not None else max(UNAUTH_GAP, policy.wait_after(None, attempt))

    async def pause(seconds: float) -> None:
        await sleep_unless(seconds, connection.stopped)

    return await run(
        ask,
        policy,
        retry_on=lambda e: isinstance(e, TransportError) and connection.is_live(ws),
        again=refused,
        wait=wait,
        sleep=pause,
        name=f"stream {connection.url}: {what}",
    )
