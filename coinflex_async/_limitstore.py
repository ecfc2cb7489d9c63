"""Rate limits shared by many clients, processes and hosts: the sliding logs of _ratelimit.py,
kept in Redis.

Each window of each bucket is one sorted set, one member per request let through (a random
prefix per client and a counter, so equal times never collide), scored with the time
(microseconds, Redis's clock) the request ended; while it is in flight, with the latest it can
end (its timeout + 1 s from when it left), and it is rescored when it ends, by the next take of
its buckets or a release script of its own (see _ratelimit.py for why a request counts until it
ended). One Lua script checks and records a request in every window it needs, atomically: it
trims entries older than the window, and either adds the request to every set or adds nothing
and returns the exact wait (oldest blocking entry + window - now; a window from now when that
entry is still in flight). The client sleeps that wait on its own monotonic clock, with a little
jitter so that clients woken by the same expiry do not all ask at once, and asks again: no
polling loop, no pub/sub.

- Time comes from ``redis.call('TIME')`` inside the script, never from the hosts, whose clocks
  differ (Redis >= 5 replicates scripts by effect, which allows it).
- Every key of a namespace carries the hash tag ``{namespace}``, so one script's keys share a
  slot on Redis Cluster. REST buckets are per IP address (per namespace); buckets the exchange
  counts per account (``ws_orders``) are keyed by a hash of the API key as well.
- ``register_script`` runs the script by its SHA and loads it again on NOSCRIPT (a restarted
  or failed-over Redis has forgotten it).
- A restart loses the logs: for one window after it, the clients may send that window's
  maximum again on top of what was already sent; at most one extra window's worth, which the
  exchange answers with 429s (honoured through Retry-After).
- The connection pool blocks (with a timeout) when all its connections are busy, socket
  timeouts are explicit, and a command is retried once after a connection error or timeout. A
  retried take whose first run did reach Redis finds the request already recorded (the member
  is the same) and may count it against itself, or the caller may have given up on it (the
  timeout): the slot is held until the entry ages out. A release that fails leaves the entry
  at its in-flight bound. All of these only over-throttle, never let more through.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from ._errors import LimitStoreError
from ._ratelimit import ACCOUNT_BUCKETS, JITTER, REST, RateLimiter, RateLimits, wait_or_close

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from ._metrics import Metrics

__all__ = ["DEFAULT_NAMESPACE", "RedisLimiter"]

log = logging.getLogger("coinflex_async")

DEFAULT_NAMESPACE = "coinflex_async"
# After Redis failed, calls skip it (raising, or using local limits) for this long before one of
# them asks it again: a hung Redis costs one call's timeout per second, not every call's.
RETRY_STORE_AFTER = 1.0
# The most extra sleep after an exact wait, spreading clients woken by the same expiry.
WAKE_JITTER = 0.002

# KEYS: one sorted set per window. ARGV[1]: this request's member; ARGV[2]: how long from now it
# counts as in flight at most (microseconds); ARGV[3]: how many members of requests that ended
# follow (rescored with now first: releases carried by this call); then per key its window
# (microseconds) and its maximum. A request in flight is scored with the time it will have ended
# by at the latest, and rescored with the time it ended once it has. Returns {0, 0} when the
# request was recorded in every window, else {wait in microseconds, 1-based index of the key
# that sets it}; a wait on a request still in flight is the least it can be (a window from now).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local flight = tonumber(ARGV[2])
local ended = tonumber(ARGV[3])
local base = 3 + ended
for i, key in ipairs(KEYS) do
  for e = 4, base do
    redis.call('ZADD', key, 'XX', now, ARGV[e])
  end
end
local wait, blocking = 0, 0
for i, key in ipairs(KEYS) do
  local span = tonumber(ARGV[base + 2 * i - 1])
  local most = tonumber(ARGV[base + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local count = redis.call('ZCARD', key)
  if count >= most then
    local oldest = redis.call('ZRANGE', key, count - most, count - most, 'WITHSCORES')
    local needed = math.min(tonumber(oldest[2]), now) + span - now
    if needed > wait then
      wait, blocking = needed, i
    end
  end
end
if blocking > 0 then
  return {math.max(wait, 1), blocking}
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + flight, ARGV[1])
  redis.call('PEXPIRE', key, math.ceil((tonumber(ARGV[base + 2 * i - 1]) + flight) / 1000) + 1000)
end
return {0, 0}
"""

# KEYS: the windows of requests that ended; ARGV: their members. Rescores them with now.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for _, key in ipairs(KEYS) do
  for _, member in ipairs(ARGV) do
    redis.call('ZADD', key, 'XX', now, member)
  end
end
return 0
"""
# A release waits this long for the next take of its bucket combination to carry it (one round
# trip instead of two) before it is sent on its own; it is recorded that much later: safe.
RELEASE_DELAY = 0.002


class _Group:
    """The Redis keys and script arguments of one bucket combination, and its queue."""

    __slots__ = ("ended", "keys", "names", "queue", "spans")

    def __init__(self, keys: list[str], spans: list[int], names: tuple[str, ...]) -> None:
        self.keys = keys
        self.spans = spans  # per key: window (microseconds), maximum
        self.names = names
        self.queue = asyncio.Lock()
        self.ended: list[str] = []  # members of requests that ended, not yet rescored


class RedisLimiter:
    """The limiter of one client whose windows live in Redis (``limit_store=``).

    Requests of one bucket combination queue in the client (first come, first served) and only
    the head asks Redis, so a client runs at most one script per combination at a time. When a
    request ends it is rescored with the time it ended: by the next take of its combination if
    one comes within ``RELEASE_DELAY``, else by a release script of its own (in the
    background), which carries every request of the combination that ended meanwhile.
    """

    def __init__(
        self,
        url: str,
        limits: RateLimits,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        api_key: str | None,
        timeout: float,
        fallback: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._url = url
        self._windows = limits.buckets()
        self._prefix = "{" + namespace + "}"
        self._account = (
            hashlib.sha256(api_key.encode()).hexdigest()[:16] if api_key is not None else "public"
        )
        # Redis gets half the call's timeout, then one retry of at most the other half.
        self._op_timeout = timeout
        self._socket_timeout = timeout / 2
        # A request is in flight for at most one attempt's timeout; a second more covers the
        # release script's own travel.
        self._flight_us = round((timeout + 1.0) * 1e6)
        self._jitter_us = round(JITTER * 1e6)
        self._local = RateLimiter(limits, metrics=metrics) if fallback == "local" else None
        self._metrics = metrics
        self._groups: dict[tuple[str, ...], _Group] = {}
        self._member = f"{uuid.uuid4().hex[:16]}:".__add__
        self._counter = itertools.count()
        self._redis: Redis | None = None
        self._take_script: AsyncScript | None = None
        self._release_script: AsyncScript | None = None
        self._releases: set[asyncio.Task[None]] = set()
        self._skip_until = 0.0
        self._failing = False
        self._closed = False

    def _group(self, buckets: tuple[str, ...]) -> _Group:
        keys: list[str] = []
        spans: list[int] = []
        names: list[str] = []
        for name in buckets:
            if name not in self._windows:
                raise ValueError(f"no rate-limit bucket named {name!r}")
            scope = f":{self._account}" if name in ACCOUNT_BUCKETS else ""
            for window in self._windows[name]:
                keys.append(f"{self._prefix}:{name}{scope}:{round(window.seconds * 1000)}ms")
                spans += (round(window.seconds * 1e6), window.max_requests)
                names.append(name)
        group = self._groups[buckets] = _Group(keys, spans, tuple(names))
        return group

    def _connect(self) -> AsyncScript:
        pool = BlockingConnectionPool.from_url(
            self._url,
            max_connections=16,
            timeout=self._socket_timeout,
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._socket_timeout,
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1),
        )
        self._redis = Redis(connection_pool=pool)
        self._release_script = self._redis.register_script(_RELEASE)
        self._take_script = self._redis.register_script(_TAKE)
        return self._take_script

    async def _take(self, group: _Group, member: str, flight_us: int) -> tuple[float, int]:
        """Ask Redis: (0, -1) when the tokens were taken, else (seconds to wait, log index)."""
        script = self._take_script or self._connect()
        ended, group.ended = group.ended, []
        try:
            answer: Any = await asyncio.wait_for(
                script(keys=group.keys, args=[member, flight_us, len(ended), *ended, *group.spans]),
                self._op_timeout,
            )
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise LimitStoreError(f"the rate-limit store did not answer ({detail})") from exc
        wait_us, blocking = int(answer[0]), int(answer[1])
        return wait_us / 1e6, blocking - 1

    async def hold(
        self,
        buckets: tuple[str, ...] = (REST,),
        closed: Callable[[], asyncio.Future[None]] | None = None,
    ) -> tuple[object, ...]:
        """Take the request's tokens in Redis (or locally, falling back); pass the result to
        :meth:`release` when the request has ended."""
        return await self._hold(buckets, closed, self._flight_us)

    def release(self, token: object) -> None:
        """The request of ``token`` ended: have it rescored with now (see the class doc). A
        release that never reaches Redis leaves it counted until its in-flight bound: that only
        over-throttles."""
        assert isinstance(token, tuple)
        if token[0] == "local":
            assert self._local is not None
            self._local.release(token[1])
            return
        group, member = token
        if self._closed:
            return
        group.ended.append(member)
        if len(group.ended) == 1:
            asyncio.get_running_loop().call_later(RELEASE_DELAY, self._flush, group)

    def _flush(self, group: _Group) -> None:
        script = self._release_script
        if not group.ended or script is None or self._closed:
            return  # carried by a take meanwhile
        ended, group.ended = group.ended, []
        task = asyncio.ensure_future(self._release(script, group.keys, ended))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _release(self, script: AsyncScript, keys: list[str], members: list[str]) -> None:
        try:
            await asyncio.wait_for(script(keys=keys, args=members), self._op_timeout)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            log.debug("rate-limit store: a release failed (%s)", exc)

    async def acquire(
        self,
        buckets: tuple[str, ...] = (REST,),
        closed: Callable[[], asyncio.Future[None]] | None = None,
    ) -> None:
        """Take the tokens of a request whose end will not be reported: it counts as ended
        ``JITTER`` seconds from now."""
        token = await self._hold(buckets, closed, self._jitter_us)
        if token[0] == "local":
            assert self._local is not None
            self._local.release(token[1])

    async def _hold(
        self,
        buckets: tuple[str, ...],
        closed: Callable[[], asyncio.Future[None]] | None,
        flight_us: int,
    ) -> tuple[object, ...]:
        if self._closed:
            raise LimitStoreError("the rate-limit store is closed")
        if self._skip_until and time.monotonic() < self._skip_until:
            if self._local is None:
                raise LimitStoreError("the rate-limit store did not answer a moment ago")
            return ("local", await self._local.hold(buckets, closed))
        group = self._groups.get(buckets) or self._group(buckets)
        member = self._member(str(next(self._counter)))
        try:
            await self._wait_and_take(group, member, flight_us, closed)
        except LimitStoreError as exc:
            self._skip_until = time.monotonic() + RETRY_STORE_AFTER
            if self._local is None:
                raise
            if not self._failing:
                self._failing = True
                log.warning(
                    "rate-limit store failed (%s); using local limits until it answers", exc
                )
            return ("local", await self._local.hold(buckets, closed))
        if self._failing:
            self._failing = False
            log.warning("rate-limit store answers again: limits are shared again")
        return (group, member)

    async def _wait_and_take(
        self,
        group: _Group,
        member: str,
        flight_us: int,
        closed: Callable[[], asyncio.Future[None]] | None,
    ) -> None:
        started = time.monotonic() if self._metrics is not None else 0.0
        waited = group.queue.locked()
        bucket = group.names[0]
        async with group.queue:
            while True:
                if self._skip_until and time.monotonic() < self._skip_until:
                    # The request ahead of this one found the store down.
                    raise LimitStoreError("the rate-limit store did not answer a moment ago")
                wait, blocking = await self._take(group, member, flight_us)
                if blocking < 0:
                    break
                waited = True
                bucket = group.names[blocking]
                await wait_or_close(wait + random.uniform(0, WAKE_JITTER), closed)
        if waited and self._metrics is not None:
            self._metrics.rate_limit_waited(bucket, time.monotonic() - started)

    async def close(self) -> None:
        """Finish the releases under way (briefly), then close the connection pool."""
        for group in self._groups.values():
            self._flush(group)
        self._closed = True
        if self._releases:
            await asyncio.wait(set(self._releases), timeout=self._op_timeout)
        redis = self._redis
        self._redis = self._take_script = self._release_script = None
        if redis is not None:
            await redis.aclose(close_connection_pool=True)
