"""Fault injection: what goes wrong between a client and the exchange, on demand."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["FAULT_KINDS", "Fault", "FaultPlan"]

FAULT_KINDS = frozenset(
    {
        "latency",
        "status",
        "html_502",
        "reset_before",
        "reset_after",
        "malformed_json",
        "truncated_json",
        "slow_body",
    }
)
# Faults that decide the request's fate; a latency fault only delays it.
_APPLIED_BEFORE_ANSWER = frozenset({"reset_after", "malformed_json", "truncated_json", "slow_body"})


@dataclass(frozen=True)
class Fault:
    """One kind of trouble for the requests it matches.

    Kinds (and whether the request reaches the engine):

    - ``latency``: wait ``seconds`` before handling the request (applied, late).
    - ``status``: answer ``status`` (500, 503, ...) instead; 503 comes in the gateway's JSON
      shape ``{"status":503,"error":...,"message":...,"requestId":...}``, other codes as
      ``{"success": false, "code": "50001", ...}`` (not applied, unless ``applied=True``).
    - ``html_502``: an nginx-style HTML page with status 502 (not applied unless ``applied``).
    - ``reset_before``: close the connection without applying the request.
    - ``reset_after``: apply the request, then close the connection without answering.
    - ``malformed_json`` / ``truncated_json``: apply, then answer 200 with a body that is not
      JSON / is the real body cut in the middle.
    - ``slow_body``: apply, send the headers, then trickle the body over ``seconds``.

    Matching: ``method`` (None = any) and ``path`` (exact) or ``path_prefix``. Firing: for
    the next ``times`` matching requests, or each with ``probability`` (from the simulator's
    seeded RNG; with ``times`` too, until it fired that often). Neither given: once.
    """

    kind: str
    method: str | None = None
    path: str | None = None
    path_prefix: str | None = None
    times: int | None = None
    probability: float | None = None
    seconds: float = 0.0
    status: int = 503
    applied: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {sorted(FAULT_KINDS)}")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1")
        if self.times is None and self.probability is None:
            object.__setattr__(self, "times", 1)
        if self.seconds < 0:
            raise ValueError("seconds must not be negative")
        if self.method is not None:
            object.__setattr__(self, "method", self.method.upper())

    @property
    def applies_request(self) -> bool:
        """Whether the request reaches the engine before the fault shows."""
        return self.kind in _APPLIED_BEFORE_ANSWER or self.kind == "latency" or self.applied

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path is not None and self.path != path:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)

    # Constructors, one per kind: Fault.reset_after(path="/v2/orders/place", times=3).

    @classmethod
    def latency(cls, seconds: float, **match: Any) -> Fault:
        return cls("latency", seconds=seconds, **match)

    @classmethod
    def server_error(cls, status: int = 503, **match: Any) -> Fault:
        return cls("status", status=status, **match)

    @classmethod
    def html_502(cls, **match: Any) -> Fault:
        return cls("html_502", **match)

    @classmethod
    def reset_before(cls, **match: Any) -> Fault:
        return cls("reset_before", **match)

    @classmethod
    def reset_after(cls, **match: Any) -> Fault:
        return cls("reset_after", **match)

    @classmethod
    def malformed_json(cls, **match: Any) -> Fault:
        return cls("malformed_json", **match)

    @classmethod
    def truncated_json(cls, **match: Any) -> Fault:
        return cls("truncated_json", **match)

    @classmethod
    def slow_body(cls, seconds: float = 1.0, **match: Any) -> Fault:
        return cls("slow_body", seconds=seconds, **match)


@dataclass
class _Armed:
    fault: Fault
    left: int | None
    fired: int = 0


class FaultPlan:
    """The faults in force (``sim.faults``), checked in the order they were injected."""

    def __init__(self, seed: int | None, counts: Counter[str]) -> None:
        self._rng = random.Random(seed)
        self._armed: list[_Armed] = []
        self.injected = counts

    def inject(self, fault: Fault) -> Fault:
        self._armed.append(_Armed(fault, fault.times))
        return fault

    def clear(self) -> None:
        self._armed.clear()

    def seed(self, seed: int | None) -> None:
        self._rng.seed(seed)

    @property
    def active(self) -> list[Fault]:
        return [armed.fault for armed in self._armed]

    @property
    def injected_total(self) -> int:
        return sum(self.injected.values())

    def draw(self, method: str, path: str) -> tuple[float, Fault | None]:
        """The delay and the fault (if any) for one request. Latency faults add up; the
        first other fault that fires decides the outcome."""
        if not self._armed:
            return 0.0, None
        delay = 0.0
        outcome: Fault | None = None
        for armed in list(self._armed):
            fault = armed.fault
            if not fault.matches(method, path):
                continue
            if fault.probability is not None and self._rng.random() >= fault.probability:
                continue
            armed.fired += 1
            self.injected[fault.kind] += 1
            if armed.left is not None:
                armed.left -= 1
                if armed.left == 0:
                    self._armed.remove(armed)
            if fault.kind == "latency":
                delay += fault.seconds
                continue
            outcome = fault
            break
        return delay, outcome
