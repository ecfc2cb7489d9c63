"""Whole histories: walk any span of a history endpoint, oldest first, in bounded memory.

The exchange answers a history request with the *newest* ``limit`` items whose time lies in
``[startTime, endTime]`` (both inclusive, at most 7 days apart), newest first. So a forward walk
cannot "continue after the last item": a full page says only that its range holds at least
``limit`` items. The walk therefore covers the span with disjoint closed time ranges, each
answered completely before its items are handed out:

- an answer with fewer than ``limit`` items is the whole range: its items go out, sorted by
  (time, id), and the walk moves past the range's end;
- a full answer whose oldest item is at ``t`` is complete for ``(t, end]`` (anything newer
  than ``t`` would have been in it): those items are kept (at most ``MAX_HELD`` such pages,
  else they are dropped and that range is asked again later) and ``[start, t]`` is walked
  first; all items at ``t`` come from that closed range, so a timestamp shared across a page
  edge is neither lost nor repeated, and no id bookkeeping is needed (several endpoints have
  no id at all);
- a full answer on an endpoint whose items do not carry the time the exchange filters on
  (``/v2.1/orders`` filters on creation time, which its items do not show) splits the range in
  two;
- a full answer for one single millisecond is asked again with the endpoint's largest
  ``limit``; if that is full too, the exchange cannot show the rest and
  :class:`IncompleteHistoryError` is raised rather than skipping silently.

Request sizes adapt: each range is sized from the density seen so far to fill about
``FILL`` of a page, so few answers are full and few requests are spent on sparse stretches.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ._errors import CoinFlexError
from ._validation import MAX_WINDOW_MS

__all__ = ["FILL", "MAX_HELD", "IncompleteHistoryError", "Walk", "walk"]

FILL = 0.85  # aim each request at this share of a page: full pages (wasted or split) stay rare
MAX_HELD = 2  # pages kept while an older range is walked; memory is a few pages at most
_MAX_SPAN = MAX_WINDOW_MS + 1  # ms in one request: endTime - startTime <= 7 days

Fetch = Callable[[int, int, int], Awaitable[list[Any]]]


class IncompleteHistoryError(CoinFlexError):
    """More items share one millisecond than the endpoint's largest ``limit``: the exchange
    offers no way to page within a millisecond, so the walk stops instead of skipping some."""


@dataclass(frozen=True, slots=True)
class Walk:
    """What to walk: ``fetch(start, end, limit)`` answers one request; ``time_of``/``order``
    read an item's time and sort a complete page oldest first."""

    fetch: Fetch
    start: int
    end: int
    limit: int
    max_limit: int
    time_of: Callable[[Any], int] | None
    order: Callable[[list[Any]], list[Any]]
    name: str
    progress: Callable[[int], None] | None = None
    prefetch: bool = False


@dataclass(slots=True)
class _Range:
    lo: int
    hi: int
    size: int  # the limit to send


@dataclass(slots=True)
class _Held:
    hi: int  # the items are complete up to here
    items: list[Any]


async def walk(spec: Walk) -> AsyncIterator[Any]:
    """Yield every item of ``[spec.start, spec.end]`` once, oldest first (see the module)."""
    stack: list[_Range | _Held] = [_Range(spec.start, spec.end, spec.limit)]
    step = _MAX_SPAN
    held = 0
    ahead: tuple[_Range, asyncio.Task[list[Any]]] | None = None

    def split_top() -> _Range | None:
        """Cut the next range to the current step (in place) and return it, if one is next."""
        if not stack or isinstance(stack[-1], _Held):
            return None
        top = stack[-1]
        assert isinstance(top, _Range)
        if top.hi - top.lo + 1 > step:
            stack[-1] = _Range(top.lo + step, top.hi, top.size)
            top = _Range(top.lo, top.lo + step - 1, top.size)
            stack.append(top)
        return top

    def start_ahead() -> None:
        nonlocal ahead
        if spec.prefetch and ahead is None:
            nxt = split_top()
            if nxt is not None:
                ahead = (nxt, asyncio.ensure_future(spec.fetch(nxt.lo, nxt.hi, nxt.size)))

    try:
        while stack:
            split_top()
            top = stack.pop()
            if isinstance(top, _Held):
                held -= 1
                start_ahead()
                for item in top.items:
                    yield item
                _report(spec, top.hi)
                continue
            if ahead is not None and ahead[0] == top:
                task = ahead[1]
                ahead = None
                page = await task
            else:
                page = await spec.fetch(top.lo, top.hi, top.size)
            lo, hi = top.lo, top.hi
            if len(page) < top.size:  # the whole range
                items = page if spec.time_of is None else _within(page, spec.time_of, lo, hi)
                step = _next_step(hi - lo + 1, len(items), spec.limit)
                start_ahead()
                for item in spec.order(items):
                    yield item
                _report(spec, hi)
                continue
            if lo == hi:
                if top.size < spec.max_limit:
                    stack.append(_Range(lo, hi, spec.max_limit))
                    continue
                raise IncompleteHistoryError(
                    f"{spec.name}: more than {spec.max_limit} items at {lo} ms; the exchange "
                    "cannot page within one millisecond"
                )
            if spec.time_of is None:  # no time to cut at: halve the range
                mid = (lo + hi) // 2
                stack.append(_Range(mid + 1, hi, spec.limit))
                stack.append(_Range(lo, mid, spec.limit))
                step = min(step, mid - lo + 1)
                continue
            time_of = spec.time_of
            items = _within(page, time_of, lo, hi)
            oldest = min((time_of(item) for item in items), default=hi)
            if oldest >= hi:  # everything at the last millisecond: that one alone, at most
                stack.append(_Range(hi, hi, spec.max_limit))
                stack.append(_Range(lo, hi - 1, spec.limit))
                continue
            newer = [item for item in items if time_of(item) > oldest]  # complete: (oldest, hi]
            if held < MAX_HELD:
                stack.append(_Held(hi, spec.order(newer)))
                held += 1
            else:
                stack.append(_Range(oldest + 1, hi, spec.limit))
            stack.append(_Range(lo, oldest, spec.limit))
            step = _next_step(hi - oldest + 1, len(items), spec.limit)
    finally:
        if ahead is not None:  # the caller stopped early: drop what was prefetched
            ahead[1].cancel()
            ahead[1].add_done_callback(_quiet)


def _within(page: list[Any], time_of: Callable[[Any], int], lo: int, hi: int) -> list[Any]:
    # An item outside the asked range would be yielded again by its own range.
    return [item for item in page if lo <= time_of(item) <= hi]


def _next_step(span: int, count: int, limit: int) -> int:
    """The span of the next request: ``FILL`` of a page at the density just seen."""
    if count == 0:
        return _MAX_SPAN
    return max(1, min(_MAX_SPAN, int(span * FILL * limit / count)))


def _report(spec: Walk, until: int) -> None:
    if spec.progress is not None:
        spec.progress(until)


def _quiet(task: asyncio.Task[Any]) -> None:
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
