"""One retry engine: :class:`RetryPolicy` decides, :func:`run` (tenacity underneath) runs.

The policy says whether an error is worth another attempt (:meth:`RetryPolicy.is_retryable`),
how many attempts a call gets and how long to wait before the next one
(:meth:`RetryPolicy.wait_after`: exponential backoff with full jitter, a 429's ``Retry-After``
honoured). :func:`run` is the only code in the package that repeats an attempt; every caller
describes its attempt and its own reasons to stop:

- REST calls (``_transport``): ``retry_on`` is "the route is safe to repeat, the client is open
  and the policy calls this error retryable". Requests with side effects are never given to
  ``run`` with a ``retry_on`` that accepts ambiguous failures.
- Order requests (``_orders.OrderRecovery``): an attempt sends the orders still pending; an
  ambiguous failure is settled by looking the orders up *inside* the attempt, so ``run`` only
  ever repeats orders proven not applied (refused as too rapid, a connection that never opened,
  or absent from the order history after their ``recvWindow``).
- The WebSocket stream, for asks that are safe to repeat (login, subscribe) and reconnects::

      async def stop_aware_sleep(seconds: float) -> None:  # ends when the stream closes
          await sleep_unless(seconds, stream_closed_future)

      # an ask: a lost answer is asked again, an answer "too rapid" after the policy's wait
      answer = await run(
          lambda: ask(ws, message),
          policy,
          retry_on=lambda e: isinstance(e, TransportError) and ws is current_ws(),
          again=lambda answer: answer.code in RATE_CODES,
          wait=lambda error, attempt: 0.0 if error else max(1.0, policy.wait_after(None, attempt)),
          sleep=stop_aware_sleep,
          deadline=time.monotonic() + timeout,
          name="WebSocket login",
      )

      # reconnect: unbounded attempts, waits growing to max_backoff, ended by closing
      ws = await run(
          connect,
          policy,
          attempts=FOREVER,
          retry_on=lambda e: isinstance(e, TransportError) and not closed(),
          failed=lost,  # the TransportError that lost the connection is attempt 1: wait first
          sleep=stop_aware_sleep,
          name="WebSocket reconnect",
      )

  A command that waits out a reconnect passes its own ``deadline`` (for an order, when its
  ``recvWindow`` expires): no wait that would end past it is started; the last error is raised
  instead. ``sleep`` may return early (the stream closing); ``retry_on`` must then say no.

The first attempt runs as a plain ``await`` (tenacity costs ~28 us a call even when nothing
fails, measured); tenacity takes over after the first retryable failure. A caller on a hot path
may make the first attempt itself and hand its error over with ``failed=``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tenacity import AsyncRetrying, RetryCallState, stop_never

from ._errors import RateLimitError, ServerError, TransportError

__all__ = ["FOREVER", "RetryPolicy", "run", "sleep_unless"]

T = TypeVar("T")

log = logging.getLogger("coinflex_async")

# ``attempts=FOREVER``: no bound on attempts (reconnects; ``retry_on`` or a deadline ends them).
FOREVER = sys.maxsize
# 2**exponent past this is far beyond any max_backoff; capped so that it never overflows.
_MAX_EXPONENT = 60


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How requests that are safe to repeat (GETs) are retried.

    Retried: transport errors (connection refused or reset, timeouts), HTTP 5xx and 429. Waits
    grow exponentially from ``backoff`` up to ``max_backoff`` seconds with full jitter; a 429's
    ``Retry-After`` is honoured up to ``max_retry_after`` seconds (a longer one is raised to the
    caller as :class:`~coinflex_async.RateLimitError` instead of sleeping). ``attempts`` counts
    the first one: ``attempts=1`` never retries. Requests with side effects (POST, DELETE) are
    never retried here; order requests have their own recovery (see ``private.place_orders``).

    After an order request fails ambiguously its orders are looked up every
    ``lookup_interval`` seconds (see ``coinflex_async._orders``).
    """

    attempts: int = 4
    backoff: float = 0.2
    max_backoff: float = 5.0
    max_retry_after: float = 30.0
    lookup_interval: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be >= 1")
        if self.backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("RetryPolicy waits must be >= 0")
        if self.lookup_interval <= 0:
            raise ValueError("RetryPolicy.lookup_interval must be > 0")

    def is_retryable(self, error: BaseException) -> bool:
        """Whether ``error`` may go away if the same request is sent again."""
        if isinstance(error, RateLimitError):
            return error.retry_after is None or error.retry_after <= self.max_retry_after
        return isinstance(error, (TransportError, ServerError))

    def wait_after(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            return error.retry_after
        exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
        ceiling = min(self.max_backoff, self.backoff * 2.0**exponent)
        return random.uniform(0, ceiling)


async def run(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    retry_on: Callable[[BaseException], bool] | None = None,
    again: Callable[[T], bool] | None = None,
    wait: Callable[[BaseException | None, int], float] | None = None,
    attempts: int | None = None,
    deadline: float | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    failed: BaseException | None = None,
    name: str = "",
) -> T:
    """Await ``attempt()`` until it succeeds or the policy, the deadline or ``retry_on`` says
    stop; return its result or raise its last error.

    - ``retry_on(error)``: whether a failed attempt may be repeated (default: the policy's
      :meth:`~RetryPolicy.is_retryable`). Errors that are not ``Exception`` (cancellation) are
      never retried.
    - ``again(result)``: whether a result is a refusal worth another attempt (a batch answered
      "too rapid"); when attempts run out, the last result is returned.
    - ``wait(error, attempt)``: seconds before the next attempt, after failed ``attempt``
      (1-based); ``error`` is None after a result refused by ``again``. Default: the policy's.
    - ``attempts``: the bound, counting the first (default ``policy.attempts``; ``FOREVER``).
    - ``deadline``: a ``time.monotonic()`` instant: a wait that would end at or after it is not
      started, the last outcome is given back instead.
    - ``sleep``: how to wait (one that ends early when the client or stream closes).
    - ``failed``: the first attempt already ran and raised this; continue from there.
    """
    if failed is None:
        try:
            result = await attempt()
        except Exception as error:
            failed = error
        else:
            if again is None or not again(result):
                return result  # the common case: no plan needed
    plan: _Plan[T] = _Plan(
        retry_on=policy.is_retryable if retry_on is None else retry_on,
        again=again,
        wait=policy.wait_after if wait is None else wait,
        attempts=policy.attempts if attempts is None else attempts,
        deadline=deadline,
        name=name,
    )
    if failed is None:
        seconds = plan.after_refusal(1)  # ``again`` refused the result already
        if seconds is None:
            return result
    else:
        seconds = plan.after_error(failed, 1)
        if seconds is None:
            raise failed
    await sleep(seconds)
    retrying: AsyncRetrying = AsyncRetrying(
        retry=plan.tenacity_retry,
        wait=plan.tenacity_wait,
        stop=stop_never,  # the plan's retry decision already counts attempts
        sleep=sleep,
        reraise=True,
    )

    async def once() -> T:
        # tenacity awaits only what a coroutine function returns (it calls others plainly).
        return await attempt()

    outcome: T = await retrying(once)
    return outcome


@dataclass(slots=True)
class _Plan(Generic[T]):
    """One run's decisions: whether an outcome earns another attempt, and after what wait."""

    retry_on: Callable[[BaseException], bool]
    again: Callable[[T], bool] | None
    wait: Callable[[BaseException | None, int], float]
    attempts: int
    deadline: float | None
    name: str
    upcoming: float = 0.0

    def after_error(self, error: BaseException, attempt: int) -> float | None:
        """The wait before the next attempt, or None to raise ``error``."""
        if attempt >= self.attempts or not isinstance(error, Exception):
            return None
        if not self.retry_on(error):
            return None
        seconds = self._fit(self.wait(error, attempt))
        if seconds is not None:
            log.debug(
                "%s: attempt %d failed (%s: %s); retrying in %.3f s",
                self.name or "call",
                attempt,
                type(error).__name__,
                error,
                seconds,
            )
        return seconds

    def after_result(self, result: T, attempt: int) -> float | None:
        """The wait before the next attempt, or None to return ``result``."""
        if self.again is None or not self.again(result):
            return None
        return self.after_refusal(attempt)

    def after_refusal(self, attempt: int) -> float | None:
        """After a result ``again`` refused: the wait, or None to return the result."""
        if attempt >= self.attempts:
            return None
        seconds = self._fit(self.wait(None, attempt))
        if seconds is not None:
            log.debug(
                "%s: attempt %d refused; retrying in %.3f s", self.name or "call", attempt, seconds
            )
        return seconds

    def _fit(self, seconds: float) -> float | None:
        seconds = max(0.0, seconds)
        if self.deadline is not None and time.monotonic() + seconds >= self.deadline:
            return None
        return seconds

    # tenacity's hooks. Its attempt 1 is the run's attempt 2 (the first ran before it took
    # over). The decision is taken once, in ``retry``, and its wait kept for ``wait``: tenacity
    # 8 asks ``stop`` before ``wait``, 9 the other way round, so neither can carry it.

    def tenacity_retry(self, state: RetryCallState) -> bool:
        outcome = state.outcome
        assert outcome is not None
        attempt = state.attempt_number + 1
        if outcome.failed:
            error = outcome.exception()
            assert error is not None
            seconds = self.after_error(error, attempt)
        else:
            seconds = self.after_result(outcome.result(), attempt)
        if seconds is None:
            return False
        self.upcoming = seconds
        return True

    def tenacity_wait(self, state: RetryCallState) -> float:
        return self.upcoming


async def sleep_unless(seconds: float, *stops: asyncio.Future[None]) -> None:
    """Sleep ``seconds``, ending at once when any of ``stops`` is done (a client or stream
    closing): the ``sleep`` to give :func:`run` when a close must not wait out a backoff."""
    if seconds <= 0 or any(stop.done() for stop in stops):
        return
    if not stops:
        await asyncio.sleep(seconds)
        return
    await asyncio.wait(stops, timeout=seconds)
