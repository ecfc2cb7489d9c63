"""Fault injection: what goes wrong between a client and the exchange, on demand."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["FAULT_KINDS", "WS_FAULT_KINDS", "Fault", "FaultPlan"]

# WebSocket faults, by the moment they fire: at a handshake, when the server is about to send
# a message (a reply or a push), or when a command arrives.
_WS_AT_CONNECT = frozenset({"ws_refuse"})
_WS_AT_SEND = frozenset({"ws_close", "ws_reset", "ws_stall", "ws_malformed"})
_WS_AT_COMMAND = frozenset({"ws_drop_reply"})
WS_FAULT_KINDS = _WS_AT_CONNECT | _WS_AT_SEND | _WS_AT_COMMAND
_WS_MOMENTS = {"connect": _WS_AT_CONNECT, "send": _WS_AT_SEND, "command": _WS_AT_COMMAND}

FAULT_KINDS = (
    frozenset(
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
    | WS_FAULT_KINDS
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

    WebSocket kinds (``/v2/websocket``; see the sim package docs):

    - ``ws_close``: close the connection cleanly (close frame with ``close_code``).
    - ``ws_reset``: drop the TCP connection without a close frame.
    - ``ws_stall``: hold every message to the connection for ``seconds``, then send them.
    - ``ws_malformed``: send a text frame that is not JSON before the message.
    - ``ws_refuse``: refuse new connections (HTTP 503 to the handshake) for ``seconds``
      from the handshake it fires on.
    - ``ws_drop_reply``: apply the command, send no reply to it.

    The first four fire when the server is about to send a message whose ``event`` (a reply)
    or ``table`` (a push: ``depth``, ``order``, ...) is ``op`` (None = any) on any connection.
    ``ws_drop_reply`` fires on a command whose ``op`` matches (``placeorder``, ...).

    Matching (REST): ``method`` (None = any) and ``path`` (exact) or ``path_prefix``. Firing:
    for the next ``times`` matching requests or messages, or each with ``probability`` (from
    the simulator's seeded RNG; with ``times`` too, until it fired that often). Neither given:
    once.
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
    op: str | None = None
    close_code: int = 1001

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

    @property
    def is_websocket(self) -> bool:
        return self.kind in WS_FAULT_KINDS

    def matches(self, method: str, path: str) -> bool:
        if self.is_websocket:
            return False
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

    @classmethod
    def ws_close(cls, close_code: int = 1001, **match: Any) -> Fault:
        return cls("ws_close", close_code=close_code, **match)

    @classmethod
    def ws_reset(cls, **match: Any) -> Fault:
        return cls("ws_reset", **match)

    @classmethod
    def ws_stall(cls, seconds: float, **match: Any) -> Fault:
        return cls("ws_stall", seconds=seconds, **match)

    @classmethod
    def ws_malformed(cls, **match: Any) -> Fault:
        return cls("ws_malformed", **match)

    @classmethod
    def ws_refuse(cls, seconds: float, **match: Any) -> Fault:
        return cls("ws_refuse", seconds=seconds, **match)

    @classmethod
    def ws_drop_reply(cls, **match: Any) -> Fault:
        return cls("ws_drop_reply", **match)


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
        # How many WebSocket faults are armed: the gateway asks only when there are some.
        self.websocket_armed = 0

    def inject(self, fault: Fault) -> Fault:
        self._armed.append(_Armed(fault, fault.times))
        self.websocket_armed += fault.is_websocket
        return fault

    def clear(self) -> None:
        self._armed.clear()
        self.websocket_armed = 0

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
            self._fire(armed)
            if fault.kind == "latency":
                delay += fault.seconds
                continue
            outcome = fault
            break
        return delay, outcome

    def draw_websocket(self, moment: str, op: str) -> Fault | None:
        """The WebSocket fault (if any) that fires at ``moment`` ("connect", "send" or
        "command") for a message or command named ``op``."""
        if not self.websocket_armed:
            return None
        kinds = _WS_MOMENTS[moment]
        for armed in list(self._armed):
            fault = armed.fault
            if fault.kind not in kinds or (fault.op is not None and fault.op != op):
                continue
            if fault.probability is not None and self._rng.random() >= fault.probability:
                continue
            self._fire(armed)
            return fault
        return None

    def _fire(self, armed: _Armed) -> None:
        armed.fired += 1
        self.injected[armed.fault.kind] += 1
        if armed.left is not None:
            armed.left -= 1
            if armed.left == 0:
                self._armed.remove(armed)
                self.websocket_armed -= armed.fault.is_websocket
