"""The metrics hook: what a service embedding the client may observe, as three plain calls.

``cf.Client(..., metrics=obj)`` takes any object with these methods (``coinflex_async.prometheus``
has one for the Prometheus client). With ``metrics=None`` (the default) the client does no
measuring at all: no clock reads, no allocation, one ``is None`` test per call.

The methods are called on the event loop, synchronously: they must be quick and must not raise
(an exception from a hook propagates into the call it reports on).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Metrics", "RecoveryOutcome"]

# Outcomes of an order whose request failed ambiguously (see _orders.py):
# "found"   the lookup found it: the call returns what was found;
# "absent"  the lookup proved it was never placed: it is sent again;
# "unknown" the lookups failed: OrderStatusUnknownError.
RecoveryOutcome = str


@runtime_checkable
class Metrics(Protocol):
    """Hooks the client calls; implement the three methods (they may do nothing)."""

    def request_done(
        self, endpoint: str, status: int, attempts: int, seconds: float, response_bytes: int
    ) -> None:
        """A call ended. ``endpoint`` is the route's template (``"GET /v2/depth/{}/{}"``: few
        distinct values, fit for a label); ``status`` the HTTP status of the last
        answer (200 on success; 0 when none came: a transport error, a body that could not be
        decoded, the limit store unreachable); ``attempts`` how many times it was sent or tried
        (retries included); ``seconds`` the call's wall time, rate-limit waits and retries
        included; ``response_bytes`` the decoded body's size (0 for errors)."""

    def rate_limit_waited(self, bucket: str, seconds: float) -> None:
        """A request could not take its tokens at once and waited ``seconds`` for them;
        ``bucket`` is the bucket that held it last (``"rest"``, ``"delivery"``, ...). Requests
        that took their tokens at once are not reported."""

    def order_recovered(self, outcome: RecoveryOutcome) -> None:
        """An order whose request failed ambiguously was settled by looking it up: one call per
        order, ``outcome`` one of ``"found"``, ``"absent"`` (sent again) or ``"unknown"``."""
